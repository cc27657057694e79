"""French public holidays and business days, for the debts import's ``next_day`` timeline start.

The calendars come from the ``holidays`` package, which follows the law year by year (Whit Monday was
not a holiday from 2005 to 2007, 8 May not from 1976 to 1981) and knows the local holidays of
Alsace-Moselle and of the overseas departments and collectivities. Without a subdivision the calendar is
that of mainland France. The package takes about 0.1 s to import and build its first calendar, so it is
imported on first use, never when this module loads, and each (year, subdivision) calendar is built once.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from bulk_import.rules.errors import RuleError

_SATURDAY = 5
_ONE_DAY = dt.timedelta(days=1)


def _france() -> Any:
    import holidays  # deferred: ~50 ms to import, and only ``next_day`` starts need it

    return holidays.France


def french_subdivisions() -> dict[str, str]:
    """Return the subdivisions with a calendar of their own, and the other names they go by.

    Returns
    -------
    dict of str to str
        Each accepted name (the code, such as ``"57"``, ``"6AE"``, ``"974"``, or an alias such as
        ``"Moselle"``, ``"Alsace"``, ``"La Réunion"``) mapped to its code. Codes are those of the
        ``holidays`` package: ``57`` Moselle, ``6AE`` Alsace (Bas-Rhin and Haut-Rhin), ``971`` Guadeloupe,
        ``972`` Martinique, ``973`` Guyane, ``974`` La Réunion, ``976`` Mayotte, ``BL``, ``MF``, ``NC``,
        ``PF``, ``PM``, ``TF``, ``WF`` for the overseas collectivities.
    """
    france = _france()
    # The school-holiday zones (Zone A, B, C) share the mainland's public holidays: not subdivisions here.
    names = {code: code for code in france.subdivisions if not code.startswith("Zone")}
    names.update({alias: code for alias, code in france.subdivisions_aliases.items() if code in names})
    return names


@lru_cache(maxsize=64)
def _subdivision_code(subdivision: str | None) -> str | None:
    if subdivision is None:
        return None
    text = subdivision.strip()
    by_lower_name = {name.lower(): code for name, code in french_subdivisions().items()}
    code = by_lower_name.get(text.lower())
    if code is None:
        raise RuleError(
            f"not a French subdivision with its own holidays: {text[:40]} (for example 57 or 974)"
        )
    return code


@lru_cache(maxsize=256)
def _calendar(year: int, code: str | None) -> frozenset[dt.date]:
    france = _france()
    if not france.start_year <= year <= france.end_year:
        # The package knows no holiday outside its years: an empty calendar would silently call every
        # weekday a business day.
        raise ValueError(
            f"no French holiday calendar for {year} (known: {france.start_year}-{france.end_year})"
        )
    return frozenset(france(years=year, subdiv=code).keys())


def french_public_holidays(year: int, subdivision: str | None = None) -> frozenset[dt.date]:
    """Return the public holidays of France for a year.

    Parameters
    ----------
    year
        The Gregorian year, within the years the ``holidays`` package covers (1803 to 2100 today).
    subdivision
        ``None`` for mainland France, else a code or name of :func:`french_subdivisions` (case forgiven):
        ``"57"`` or ``"Moselle"`` adds Good Friday and 26 December, ``"974"`` adds 20 December, and so on.

    Returns
    -------
    frozenset of datetime.date
        For mainland France today: New Year's Day, Easter Monday, 1 May, 8 May, Ascension Day, Whit Monday,
        14 July, 15 August, 1 November, 11 November and Christmas Day, as the law of that year had them.

    Raises
    ------
    RuleError
        The subdivision is not one with its own holidays.
    ValueError
        The year is outside the years the package covers.
    """
    return _calendar(year, _subdivision_code(subdivision))


def is_french_business_day(d: dt.date, subdivision: str | None = None) -> bool:
    """Tell whether a day is a business day in France.

    Parameters
    ----------
    d
        The day (a datetime is judged by its calendar day).
    subdivision
        As for :func:`french_public_holidays`; ``None`` for mainland France.

    Returns
    -------
    bool
        ``True`` from Monday to Friday unless it is a public holiday there.
    """
    if isinstance(d, dt.datetime):
        d = d.date()
    return d.weekday() < _SATURDAY and d not in french_public_holidays(d.year, subdivision)


def next_french_business_day(d: dt.date, subdivision: str | None = None) -> dt.date:
    """Return the first French business day strictly after a day.

    Parameters
    ----------
    d
        The day to start from (today, for a ``next_day`` start).
    subdivision
        As for :func:`french_public_holidays`; ``None`` for mainland France.

    Returns
    -------
    datetime.date
        The next day that is neither a weekend day nor a public holiday there. From Thursday 13 July 2023 it
        is Monday 17 July 2023: 14 July was a Friday.
    """
    if isinstance(d, dt.datetime):
        # A datetime never equals a date, so it would never match a holiday: keep the calendar day only.
        d = d.date()
    code = _subdivision_code(subdivision)
    day = d + _ONE_DAY
    while day.weekday() >= _SATURDAY or day in _calendar(day.year, code):
        day += _ONE_DAY
    return day
