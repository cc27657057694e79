"""Annotated field types for row models: each runs one shared rule and says what it stores.

They turn the rules of ``bulk_import.rules`` into pydantic fields, so a row model reads like
the contract and its JSON schema (OpenAPI) shows the stored types.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo

from bulk_import.kinds.row_fast import (
    FastPath,
    bool_branch,
    decimal_branches,
    iso_date_branch,
    positive_int_branches,
    text_branch,
)
from bulk_import.kinds.row_plan import ColumnRule
from bulk_import.rules.dates import parse_flexible_date, parse_iso_date
from bulk_import.rules.emails import normalize_email
from bulk_import.rules.errors import RuleError
from bulk_import.rules.flags import parse_flag
from bulk_import.rules.limits import MAX_REFERENCE_CHARS, reference_problem
from bulk_import.rules.money import parse_amount, parse_positive_int
from bulk_import.rules.phones import normalize_phone
from bulk_import.rules.strings import INVISIBLE, clean, is_blank, nfc

# Characters ``clean`` also trims; a value starting or ending with one takes the full path.
_INVISIBLE = INVISIBLE


def _text(value: Any) -> str | None:
    # Fast path for the usual case, plain text (same result as ``clean``); everything else goes through it.
    if type(value) is str:
        text = value.strip()
        if not text:
            return None
        if text[0] not in _INVISIBLE and text[-1] not in _INVISIBLE:
            return text
    if isinstance(value, (dict, list, bool)):
        raise ValueError("must be text")
    return clean(value)


def _blank_or(rule: Any) -> Any:
    def run(value: Any) -> Any:
        # ``is_blank`` inlined for the two common shapes (missing, plain text): same verdicts.
        if value is None:
            return None
        if type(value) is str:
            if not value.strip():
                return None
        elif is_blank(value):
            return None
        return rule(value)

    return run


def reference(value: Any) -> str | None:
    """A caller reference or id (part of a storage key): trimmed text of at most 200 characters."""
    text = _text(value)
    if text is not None:
        text = nfc(text)
        problem = reference_problem(text)
        if problem is not None:
            raise RuleError(problem)
    return text


#: Trimmed text; empty counts as missing.
Text = Annotated[str | None, BeforeValidator(_text), FastPath(text_branch())]
#: The caller's reference or id of a record: trimmed text, at most 200 characters.
Reference = Annotated[
    str | None, BeforeValidator(reference), FastPath(text_branch(MAX_REFERENCE_CHARS, composed=True))
]
#: A non-negative decimal amount (money is never a float).
Amount = Annotated[Decimal | None, BeforeValidator(_blank_or(parse_amount)), FastPath(*decimal_branches())]
#: A positive decimal amount.
PositiveAmount = Annotated[
    Decimal | None,
    BeforeValidator(_blank_or(lambda v: parse_amount(v, allow_zero=False))),
    FastPath(*decimal_branches(allow_zero=False)),
]
#: A positive whole number.
PositiveInt = Annotated[
    int | None, BeforeValidator(_blank_or(parse_positive_int)), FastPath(*positive_int_branches())
]
#: A date written YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY, stored as YYYY-MM-DD.
FlexDate = Annotated[
    date | None, BeforeValidator(_blank_or(parse_flexible_date)), FastPath(iso_date_branch())
]
#: A date written YYYY-MM-DD only.
IsoDate = Annotated[date | None, BeforeValidator(_blank_or(parse_iso_date)), FastPath(iso_date_branch())]
#: An e-mail address (strict, fast check; the domain lower-cased).
Email = Annotated[str | None, BeforeValidator(_blank_or(normalize_email))]


def _phone(value: Any, info: ValidationInfo) -> str | None:
    if value is None or is_blank(value):
        return None
    return normalize_phone(value, (info.context or {}).get("region", "US"))


#: A phone number stored in E.164; numbers without a country code use the ``region`` of the validation
#: context (the tenant's default region).
Phone = Annotated[str | None, BeforeValidator(_phone), ColumnRule()]


#: true or false (also "yes"/"no", "oui"/"non", 1/0 from files, any case); blank is not set.
Flag = Annotated[bool | None, BeforeValidator(parse_flag), FastPath(bool_branch())]
