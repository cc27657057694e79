"""Text clean-up shared by every rule: trimming, blank detection and spreadsheet number coercion."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Iterable
from decimal import Decimal

from bulk_import.rules.errors import RuleError

# Characters that str.strip() keeps but that spreadsheets and copy-paste leave around values: zero-width
# spaces/joiners, the byte-order mark that Excel puts in front of the first cell of a CSV export, the
# soft hyphen, and the direction marks and embeddings that right-to-left interfaces (Arabic, Hebrew) wrap
# around numbers and names copied out of them.
INVISIBLE = (
    "\u200b\u200c\u200d\u2060\ufeff\u00ad\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069"
)
_INVISIBLE = INVISIBLE


def _strip(text: str) -> str:
    stripped = text.strip()
    if stripped and (stripped[0] in _INVISIBLE or stripped[-1] in _INVISIBLE):
        # Rare path: alternate until stable so "\ufeff  value \u200b" is fully trimmed.
        previous = None
        while previous != stripped:
            previous = stripped
            stripped = stripped.strip().strip(_INVISIBLE)
    return stripped


def nfc(text: str) -> str:
    """``text`` in Unicode's composed form (NFC): ``"Zoe\u0301"`` (e and a combining accent, as macOS
    and some exports write it) is ``"Zoé"``, one character, so two spellings of one reference are one."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def clean(value: object) -> str | None:
    """Turn a raw field value into trimmed text, or ``None`` when it is missing.

    Parameters
    ----------
    value
        What the caller sent: usually a string, but spreadsheets and JSON give numbers for identifiers
        (``12345`` for a loan id) and dates for date cells.

    Returns
    -------
    str or None
        The trimmed text; ``None`` for ``None``, an empty or whitespace-only string, or a float NaN (what
        spreadsheet libraries put in empty numeric cells). Integers and decimals are written in plain
        notation, a float or decimal with no fractional part loses its ``.0`` (``12345.0`` ->
        ``"12345"``), dates become ISO 8601; a decimal beyond 1e40 or below 1e-40 keeps its exponent.

    Raises
    ------
    RuleError
        For booleans, lists, objects and other values that are not text.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = _strip(value)
        return text or None
    # bool is a subclass of int: check it first so True does not become "True" or "1".
    if isinstance(value, bool):
        raise RuleError("must be text, not true/false")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return None
        if not value.is_finite() or not -40 < value.adjusted() < 40:
            # Decimal("1E+999999") written out would be a million digits: keep the exponent.
            return str(value)
        if value == value.to_integral_value():
            # A JSON 12345.0 read as a decimal is 12345, as the same float is (and 1E+3 is 1000).
            return format(value.to_integral_value(), "f")
        return format(value, "f")
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        raise RuleError("must be text, not a list")
    if isinstance(value, dict):
        raise RuleError("must be text, not an object")
    raise RuleError("must be text")


def is_blank(value: object) -> bool:
    """Tell whether a raw value counts as missing.

    Parameters
    ----------
    value
        Any raw field value.

    Returns
    -------
    bool
        ``True`` for ``None``, empty or whitespace-only strings and float/decimal NaN; ``False`` for
        everything else (including ``0``, ``False`` and empty lists, which are values, not absences). Never
        raises.
    """
    if value is None:
        return True
    if isinstance(value, str):
        return not _strip(value)
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, Decimal):
        return value.is_nan()
    return False


def spelled_as(text: str, allowed: Iterable[str]) -> str | None:
    """The one of ``allowed`` that ``text`` names in another case or with spaces around it (``" Debts "``
    is ``debts``, ``done`` is ``DONE``), or None when it names none."""
    wanted = text.strip().casefold()
    return next((name for name in allowed if name.casefold() == wanted), None)
