"""Money amounts and counts, always as :class:`decimal.Decimal` or :class:`int`, never float."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from bulk_import.rules.errors import RuleError
from bulk_import.rules.limits import MAX_AMOUNT, MSG_AMOUNT_TOO_LARGE, number_problem
from bulk_import.rules.strings import clean

MSG_NOT_A_NUMBER = "must be a number such as 1234.50"
MSG_MIXED_SEPARATORS = (
    "must be a number such as 1234.50 (use a dot for decimals and no commas between thousands)"
)
MSG_NEGATIVE = "must not be negative"
MSG_NOT_POSITIVE = "must be greater than 0"
MSG_NOT_WHOLE = "must be a whole number"
MSG_TOO_LARGE = MSG_AMOUNT_TOO_LARGE
#: The smallest non-zero amount: a smaller one is a slip (or an exponent such as 1e-130), never money.
MIN_AMOUNT = Decimal("0.001")
MSG_TOO_SMALL = "must be at least 0.001"
MSG_ZERO_OR_TOO_SMALL = "must be 0 or at least 0.001"
MSG_NOT_A_WHOLE_NUMBER = "must be a whole number such as 12"

# Plain decimal notation only: no exponent ("1e5"), no "NaN"/"Infinity", which Decimal() would accept.
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)
# Thousands separators people type or locales produce: spaces (including the no-break and narrow no-break
# spaces of French number formatting) and underscores.
_THOUSANDS = str.maketrans("", "", " _\u00a0\u202f\u2009")
_ONE = Decimal(1)
# Whole numbers below this have at most 38 digits, what storage holds.
_INT_LIMIT = 10**38


# The shape of nearly every amount in a real file: plain digits with an optional dot and decimals.
_PLAIN = re.compile(r"\d{1,15}(?:\.\d{1,15})?", re.ASCII)
# The next most common: a decimal comma, maybe thousands separated by spaces ("1 500,75").
_DECIMAL_COMMA = re.compile(r"\d[\d _\u00a0\u202f\u2009]*,\d+", re.ASCII)


def _comma_to_dot(text: str) -> str:
    return text.translate(_THOUSANDS).replace(",", ".")


def _to_decimal(raw: object) -> Decimal:
    """Read any accepted representation as a finite Decimal, without sign or size rules."""
    # Fast paths (a 10,000-row request calls this tens of thousands of times): exact ints and plain
    # decimal text need none of the checks below.
    if type(raw) is int:
        return Decimal(raw)
    if type(raw) is str and _PLAIN.fullmatch(raw):
        return Decimal(raw)
    if isinstance(raw, bool):
        # bool is an int subclass: true/false is never an amount.
        raise RuleError("must be a number, not true/false")
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if not math.isfinite(raw):
            raise RuleError(MSG_NOT_A_NUMBER)
        # repr gives the shortest text that round-trips (0.1 -> "0.1"); Decimal(0.1) would keep the binary
        # artifact 0.1000000000000000055511151231257827.
        value = Decimal(repr(raw))
    elif isinstance(raw, Decimal):
        if not raw.is_finite():
            raise RuleError(MSG_NOT_A_NUMBER)
        value = raw
    elif isinstance(raw, str):
        text = clean(raw)
        if text is None:
            raise RuleError("must not be empty")
        text = text.translate(_THOUSANDS)
        if "," in text:
            if "." in text or text.count(",") > 1:
                # "1,234.50" or "1.234,50": which one is the decimal separator is a guess on money. Refuse.
                raise RuleError(MSG_MIXED_SEPARATORS)
            text = text.replace(",", ".")
        if not _DECIMAL_TEXT.fullmatch(text):
            raise RuleError(MSG_NOT_A_NUMBER)
        value = Decimal(text)
    else:
        raise RuleError(MSG_NOT_A_NUMBER)
    if value.is_zero():
        # "-0" and "-0.00" are zero, not negative.
        value = value.copy_abs()
    return value


def _plain_integer(value: Decimal) -> Decimal:
    """Decimal("1E+3") or repr(1e11) == "1e+11" as the plain integer, not exponent notation."""
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0:
        try:
            return value.quantize(_ONE)
        except InvalidOperation:  # more digits than the context holds: refused by the callers' bounds
            raise RuleError(number_problem(value) or MSG_TOO_LARGE) from None
    return value


def _decimal_places(value: Decimal) -> int:
    # Trailing zeros carry no value ("12.500" has 1 significant place): only significant places are limited.
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite by construction
    return max(0, -exponent)


def parse_amount(raw: object, *, allow_zero: bool = True, max_places: int | None = None) -> Decimal:
    """Parse a non-negative money amount.

    Parameters
    ----------
    raw
        An int, a :class:`~decimal.Decimal`, a float (read through its shortest repr, so ``0.1`` is exactly
        ``Decimal("0.1")``) or text: ``"1234.50"``, ``"1 234.50"``, ``"1_234.50"``, or with a decimal comma
        ``"1234,50"`` / ``"1 234,50"`` (a comma is the decimal separator only when there is no dot).
    allow_zero
        When false, zero is refused (``"must be greater than 0"``).
    max_places
        Maximum number of significant decimal places, or ``None`` for no limit. Trailing zeros do not count.

    Every amount is at most ``999,999,999,999.999``, and a non-zero amount at least ``0.001``: the same
    bounds in every kind, well inside what storage holds (38 digits, 1e-130 to 9.99e125).

    Returns
    -------
    decimal.Decimal
        The amount, with the places written by the caller kept (``"12.50"`` -> ``Decimal("12.50")``); whole
        amounts never use exponent notation (``Decimal("1E+3")`` -> ``Decimal("1000")``).

    Raises
    ------
    RuleError
        ``"must be a number such as 1234.50"`` (text, NaN, infinity, exponent notation, mixed separators),
        ``"must be a number, not true/false"``, ``"must not be negative"``, ``"must be greater than 0"``,
        ``"at most 999,999,999,999.999"``, ``"must be at least 0.001"`` (``"must be 0 or at least 0.001"``
        when zero is allowed), ``"at most N decimal places"``, ``"at most 38 significant digits"``.
    """
    # Plain short text and ints (nearly every amount) have few digits and no exponent: only the bounds
    # below can be broken, so the digit count and the exponent need no look.
    if type(raw) is str and _PLAIN.fullmatch(raw):
        value, short = Decimal(raw), True
    elif type(raw) is str and _DECIMAL_COMMA.fullmatch(raw) and _PLAIN.fullmatch(plain := _comma_to_dot(raw)):
        # "1 500,75": what _to_decimal reads it as, without its other checks (no sign, no exponent).
        value, short = Decimal(plain), True
    elif type(raw) is int:
        value, short = Decimal(raw), -_INT_LIMIT < raw < _INT_LIMIT
    else:
        value, short = _to_decimal(raw), False
    if value < 0:
        raise RuleError(MSG_NEGATIVE)
    if value.is_zero():
        if not allow_zero:
            raise RuleError(MSG_NOT_POSITIVE)
        return value
    if value > MAX_AMOUNT:
        raise RuleError(MSG_AMOUNT_TOO_LARGE)
    if max_places is not None and _decimal_places(value) > max_places:
        unit = "place" if max_places == 1 else "places"
        raise RuleError(f"at most {max_places} decimal {unit}")
    if value < MIN_AMOUNT:
        raise RuleError(MSG_ZERO_OR_TOO_SMALL if allow_zero else MSG_TOO_SMALL)
    if short:
        return value
    problem = number_problem(value)  # within the bounds, only the count of digits can still be wrong
    if problem is not None:
        raise RuleError(problem)
    return _plain_integer(value)


def parse_positive_int(raw: object) -> int:
    """Parse a whole number greater than zero (a loan period, a count).

    Parameters
    ----------
    raw
        An int, a whole float or Decimal (``12.0``), or text (``"12"``, ``"12.0"``).

    Returns
    -------
    int
        The number.

    Raises
    ------
    RuleError
        ``"must be a whole number"`` for ``12.5``, ``"must be greater than 0"`` for zero or less, ``"must be a
        whole number such as 12"`` for text and other values, ``"must be a number, not true/false"`` for bool.
    """
    if type(raw) is int and 0 < raw < _INT_LIMIT:
        return raw
    try:
        value = _to_decimal(raw)
    except RuleError as exc:
        if str(exc) in (MSG_NOT_A_NUMBER, MSG_MIXED_SEPARATORS):
            raise RuleError(MSG_NOT_A_WHOLE_NUMBER) from None
        raise
    if value <= 0:
        raise RuleError(MSG_NOT_POSITIVE)
    problem = number_problem(value)
    if problem is not None:
        raise RuleError(problem)
    if value != value.to_integral_value():
        raise RuleError(MSG_NOT_WHOLE)
    number = int(value)
    # 1e38 has one digit as written, and 39 once written out as the integer that is stored.
    problem = number_problem(number)
    if problem is not None:
        raise RuleError(problem)
    return number
