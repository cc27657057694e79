"""French public holidays and business days, for the debts import's ``next_day`` timeline start."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

_SATURDAY = 5
_ONE_DAY = dt.timedelta(days=1)


def _easter_sunday(year: int) -> dt.date:
    """Gregorian Easter Sunday by the anonymous Gregorian algorithm (Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


@lru_cache(maxsize=64)
def french_public_holidays(year: int) -> frozenset[dt.date]:
    """Return the public holidays of mainland France for a year.

    Parameters
    ----------
    year
        The Gregorian year.

    Returns
    -------
    frozenset of datetime.date
        New Year's Day, Easter Monday, 1 May, 8 May, Ascension Day, Whit Monday, 14 July, 15 August,
        1 November, 11 November and Christmas Day. The local Alsace-Moselle holidays (Good Friday,
        26 December) and the overseas abolition-of-slavery days are not included.
    """
    easter = _easter_sunday(year)
    return frozenset(
        {
            dt.date(year, 1, 1),
            easter + dt.timedelta(days=1),  # Easter Monday
            dt.date(year, 5, 1),
            dt.date(year, 5, 8),
            easter + dt.timedelta(days=39),  # Ascension Day, a Thursday
            easter + dt.timedelta(days=50),  # Whit Monday
            dt.date(year, 7, 14),
            dt.date(year, 8, 15),
            dt.date(year, 11, 1),
            dt.date(year, 11, 11),
            dt.date(year, 12, 25),
        }
    )


def is_french_business_day(d: dt.date) -> bool:
    """Tell whether a day is a business day in France.

    Parameters
    ----------
    d
        The day.

    Returns
    -------
    bool
        ``True`` from Monday to Friday unless it is a French public holiday.
    """
    if isinstance(d, dt.datetime):
        d = d.date()
    return d.weekday() < _SATURDAY and d not in french_public_holidays(d.year)


def next_french_business_day(d: dt.date) -> dt.date:
    """Return the first French business day strictly after a day.

    Parameters
    ----------
    d
        The day to start from (today, for a ``next_day`` start).

    Returns
    -------
    datetime.date
        The next day that is neither a weekend day nor a French public holiday. From Thursday 13 July 2023 it
        is Monday 17 July 2023: 14 July was a Friday.
    """
    if isinstance(d, dt.datetime):
        # A datetime never equals a date, so it would never match a holiday: keep the calendar day only.
        d = d.date()
    day = d + _ONE_DAY
    while not is_french_business_day(day):
        day += _ONE_DAY
    return day
