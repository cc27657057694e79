"""Annotated field types for row models: each runs one shared rule and says what it stores.

They turn the rules of ``bulk_import.domain.rules`` into pydantic fields, so a row model reads like
the contract and its JSON schema (OpenAPI) shows the stored types.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator

from bulk_import.domain.rules.dates import parse_flexible_date, parse_iso_date
from bulk_import.domain.rules.emails import normalize_email
from bulk_import.domain.rules.money import parse_amount, parse_positive_int
from bulk_import.domain.rules.strings import clean, is_blank


def _text(value: Any) -> str | None:
    if isinstance(value, (dict, list, bool)):
        raise ValueError("must be text")
    return clean(value)


def _blank_or(rule: Any) -> Any:
    def run(value: Any) -> Any:
        if is_blank(value):
            return None
        return rule(value)

    return run


#: Trimmed text; empty counts as missing.
Text = Annotated[str | None, BeforeValidator(_text)]
#: A non-negative decimal amount (money is never a float).
Amount = Annotated[Decimal | None, BeforeValidator(_blank_or(parse_amount))]
#: A positive decimal amount.
PositiveAmount = Annotated[
    Decimal | None, BeforeValidator(_blank_or(lambda v: parse_amount(v, allow_zero=False)))
]
#: A positive whole number.
PositiveInt = Annotated[int | None, BeforeValidator(_blank_or(parse_positive_int))]
#: A date written YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY, stored as YYYY-MM-DD.
FlexDate = Annotated[date | None, BeforeValidator(_blank_or(parse_flexible_date))]
#: A date written YYYY-MM-DD only.
IsoDate = Annotated[date | None, BeforeValidator(_blank_or(parse_iso_date))]
#: An e-mail address (strict, fast check; the domain lower-cased).
Email = Annotated[str | None, BeforeValidator(_blank_or(normalize_email))]
