"""Date and date-time parsing.

Dates are matched with small compiled regular expressions and built with :class:`datetime.date`, which is
several times faster than :func:`datetime.datetime.strptime` and lets an impossible date (31/02/2024) get its
own message instead of a generic format error.
"""

from __future__ import annotations

import datetime as dt
import re

from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean

MSG_FLEXIBLE_FORMAT = "must be a date as YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY"
MSG_ISO_FORMAT = "must be a date as YYYY-MM-DD"
MSG_NOT_REAL = "not a real calendar date"
MSG_DATETIME_FORMAT = "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"
MSG_DATETIME_NEEDS_TIME = "needs a time as well as a date, e.g. 2024-05-01T09:30:00Z"

# re.ASCII: without it \d also matches digits of other scripts, which int() would silently accept.
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)
# Day and month may have one digit ("1/2/2024"): unambiguous once the order is fixed, and common in exports.
# The back-reference requires the same separator twice.
_DAY_FIRST_DATE = re.compile(r"(\d{1,2})([/-])(\d{1,2})\2(\d{4})", re.ASCII)
# A date exported from a database or a date-time column at midnight ("2026-12-05 00:00:00"): the day itself.
_ISO_MIDNIGHT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[T ]00:00(?::00(?:\.0+)?)?(?:Z|[+-]00:?00)?", re.ASCII)
# Cheap shape check before datetime.fromisoformat, which on its own also accepts forms like "20240501T0930"
# or an hour without minutes.
_ISO_DATETIME_PREFIX = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}", re.ASCII)


def _build(year: int, month: int, day: int, *, day_first: bool) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        if day_first and month > 12 >= day:
            # 03/25/2024: most likely written month first, the US way.
            raise RuleError(
                f"{MSG_NOT_REAL}: there is no month {month} (write the day first, DD/MM/YYYY)"
            ) from None
        raise RuleError(MSG_NOT_REAL) from None


def _date_object(raw: object) -> dt.date | None:
    # Spreadsheet date cells arrive as datetime (openpyxl) or date objects: keep the calendar date.
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    return None


def _text(raw: object, message: str) -> str:
    if isinstance(raw, bool | int | float):
        # A number is never a date here (Excel serial numbers are not supported): say what is expected.
        raise RuleError(message)
    text = clean(raw)
    if text is None:
        raise RuleError("must not be empty")
    return text


def parse_flexible_date(raw: object) -> dt.date:
    """Parse a date written ``YYYY-MM-DD``, ``DD/MM/YYYY`` or ``DD-MM-YYYY``.

    Parameters
    ----------
    raw
        Text such as ``"2024-03-15"``, ``"15/03/2024"``, ``"15-03-2024"`` (day and month may have one digit),
        or a :class:`datetime.date` / :class:`datetime.datetime` from a spreadsheet (its time is dropped).

    Returns
    -------
    datetime.date
        The calendar date.

    Raises
    ------
    RuleError
        ``"must be a date as YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY"`` for another shape, ``"not a real calendar
        date"`` for an impossible one (31/02/2024), with a hint when the month looks written first.
    """
    if type(raw) is str:
        # Fast path for text already in one of the shapes (no blanks to trim): the same matches as below.
        match = _DAY_FIRST_DATE.fullmatch(raw)
        if match:
            day, _, month, year = match.groups()
            return _build(int(year), int(month), int(day), day_first=True)
    as_date = _date_object(raw)
    if as_date is not None:
        return as_date
    text = _text(raw, MSG_FLEXIBLE_FORMAT)
    match = _ISO_DATE.fullmatch(text) or _ISO_MIDNIGHT.fullmatch(text)
    if match:
        year, month, day = match.groups()
        return _build(int(year), int(month), int(day), day_first=False)
    match = _DAY_FIRST_DATE.fullmatch(text)
    if match:
        day, _, month, year = match.groups()
        return _build(int(year), int(month), int(day), day_first=True)
    raise RuleError(MSG_FLEXIBLE_FORMAT)


def parse_iso_date(raw: object) -> dt.date:
    """Parse a date written exactly ``YYYY-MM-DD``.

    Parameters
    ----------
    raw
        Text such as ``"1990-07-14"``, or a :class:`datetime.date` / :class:`datetime.datetime` from a
        spreadsheet (its time is dropped).

    Returns
    -------
    datetime.date
        The calendar date.

    Raises
    ------
    RuleError
        ``"must be a date as YYYY-MM-DD"`` for any other shape, ``"not a real calendar date"`` for an
        impossible one.
    """
    as_date = _date_object(raw)
    if as_date is not None:
        return as_date
    match = _ISO_DATE.fullmatch(_text(raw, MSG_ISO_FORMAT))
    if not match:
        raise RuleError(MSG_ISO_FORMAT)
    year, month, day = match.groups()
    return _build(int(year), int(month), int(day), day_first=False)


def parse_iso_datetime(raw: object) -> dt.datetime:
    """Parse an ISO 8601 date-time.

    Parameters
    ----------
    raw
        Text such as ``"2024-05-01T09:30:00Z"``, ``"2024-05-01T09:30:00.250+02:00"`` or
        ``"2024-05-01 09:30"``, or a :class:`datetime.datetime`.

    Returns
    -------
    datetime.datetime
        Timezone-aware when the text had ``Z`` or an offset, naive otherwise (the caller decides what a naive
        time means).

    Raises
    ------
    RuleError
        ``"needs a time as well as a date, …"`` for a bare date, ``"must be an ISO 8601 date-time, …"`` for
        anything else that does not parse, including impossible dates and times.
    """
    if isinstance(raw, dt.datetime):
        return raw
    if isinstance(raw, dt.date):
        raise RuleError(MSG_DATETIME_NEEDS_TIME)
    text = _text(raw, MSG_DATETIME_FORMAT)
    if _ISO_DATE.fullmatch(text):
        raise RuleError(MSG_DATETIME_NEEDS_TIME)
    if not _ISO_DATETIME_PREFIX.match(text):
        raise RuleError(MSG_DATETIME_FORMAT)
    try:
        # Python 3.11 reads "Z", offsets and fractional seconds.
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise RuleError(MSG_DATETIME_FORMAT) from None


def not_in_future(d: dt.date, today: dt.date) -> dt.date:
    """Check that a date is not after today.

    Parameters
    ----------
    d
        The date to check (a birthday, for instance).
    today
        Today's date in the tenant's timezone; passed in so the rule stays pure and testable.

    Returns
    -------
    datetime.date
        ``d`` unchanged.

    Raises
    ------
    RuleError
        ``"must not be in the future"`` when ``d`` is after ``today``.
    """
    if d > today:
        raise RuleError("must not be in the future")
    return d
