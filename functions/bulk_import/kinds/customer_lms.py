"""Customers sent with ``sync: true``: their LMS record merged into the row, and the loans kept.

The caller's values win; the LMS fills the profile fields left missing (``LMS_FIELDS``), except a
timezone that belongs to an address the caller has replaced. ``loanIds`` picks the loans stored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bulk_import.kinds.customer_rows import LMS_FIELDS, loan_id
from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean, is_blank
from bulk_import.rules.timezones import timezone_for_us_zip


def plain_numbers(value: Any) -> Any:
    # LMS records read from DynamoDB hold Decimals: whole ones become ints (loan ids compare as ints).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, Mapping):
        return {str(k): plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_numbers(v) for v in value]
    return value


def _same_text(a: Any, b: Any) -> bool:
    try:
        return clean(a) == clean(b)
    except RuleError:
        return False


def merge_lms(raw: Mapping[str, Any], lms: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The row with the LMS values of the fields the caller left missing, and which fields those were."""
    row = dict(raw)
    taken: set[str] = set()
    caller_zip = raw.get("zipCode")
    for name in LMS_FIELDS:
        if not is_blank(row.get(name)):
            continue  # the caller's value wins
        value = lms.get(name)
        if value is None or is_blank(value):
            continue
        if name == "timezone" and not is_blank(caller_zip) and not _same_text(caller_zip, lms.get("zipCode")):
            # The caller moved the customer: the LMS timezone belongs to the old address.
            continue
        row[name] = value
        taken.add(name)
    return row, frozenset(taken)


_FLOAT_TEXT = re.compile(r"[0-9]{3,5}\.0+")


def with_zip_timezone(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """The row with a timezone resolved from its US zip code when it has none (offline table), and a zip
    code whose leading zeros a spreadsheet dropped (``2134``) written with them again (``02134``)."""
    zip_code = row.get("zipCode")
    if isinstance(zip_code, bool) or not isinstance(zip_code, (str, int, float, Decimal)):
        return row
    sent = clean(zip_code)  # a number from a spreadsheet or JSON (2134, 2134.0) as its digits
    text = sent
    if text is not None and _FLOAT_TEXT.fullmatch(text):
        text = text.partition(".")[0]  # "2134.0": a ZIP column a tool held as floats, then wrote out
    zone = timezone_for_us_zip(text) if text is not None else None
    if text is None or zone is None:
        return row
    fixed = dict(row)
    if 3 <= len(text) <= 5 and text.isascii() and text.isdigit() and text.zfill(5) != sent:
        # A known US ZIP once padded: the number a spreadsheet made of 02134, not a code of its own.
        fixed["zipCode"] = text.zfill(5)
    if is_blank(row.get("timezone")):
        fixed["timezone"] = zone
    return fixed


def _loan_key(loan: Any) -> Any:
    return loan.get("id") if isinstance(loan, Mapping) else loan


def lms_loans(
    lms: Mapping[str, Any], wanted: list[int] | None, customer_id: str
) -> tuple[list[Any], str | None]:
    """The LMS loans to store (all, or those of ``wanted``) and an error when one wanted is missing."""
    loans = [
        dict(loan) if isinstance(loan, Mapping) else {"id": loan}
        for loan in (lms.get("loans") or [])
        if isinstance(loan, (Mapping, int, str)) and not isinstance(loan, bool)
    ]
    if wanted is None:
        return loans, None
    by_id: dict[int, Any] = {}
    for loan in loans:
        try:
            by_id.setdefault(loan_id(_loan_key(loan)), loan)
        except RuleError:
            continue  # a loan without a usable id cannot be asked for
    missing = [n for n in wanted if n not in by_id]
    if missing:
        listed = ", ".join(str(n) for n in by_id) or "none"
        shown = ", ".join(str(n) for n in missing[:10])
        return [], f"loanIds: loan {shown} not in the LMS for customer {customer_id} (its loans: {listed})"
    return [by_id[n] for n in wanted], None
