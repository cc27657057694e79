"""French public holidays and business days."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.domain.rules import french_public_holidays, is_french_business_day, next_french_business_day

D = dt.date


@pytest.mark.parametrize(
    ("year", "easter_monday", "ascension", "whit_monday"),
    [
        (2019, D(2019, 4, 22), D(2019, 5, 30), D(2019, 6, 10)),
        (2024, D(2024, 4, 1), D(2024, 5, 9), D(2024, 5, 20)),
        (2025, D(2025, 4, 21), D(2025, 5, 29), D(2025, 6, 9)),
        (2026, D(2026, 4, 6), D(2026, 5, 14), D(2026, 5, 25)),
        (2038, D(2038, 4, 26), D(2038, 6, 3), D(2038, 6, 14)),  # latest possible Easter (25 April)
        (2285, D(2285, 3, 23), D(2285, 4, 30), D(2285, 5, 11)),  # earliest possible Easter (22 March)
    ],
)
def test_movable_holidays(year: int, easter_monday: D, ascension: D, whit_monday: D) -> None:
    holidays = french_public_holidays(year)
    assert {easter_monday, ascension, whit_monday} <= holidays
    assert easter_monday.weekday() == 0 and whit_monday.weekday() == 0 and ascension.weekday() == 3


def test_fixed_holidays_and_count() -> None:
    holidays = french_public_holidays(2025)
    fixed = {
        D(2025, 1, 1),
        D(2025, 5, 1),
        D(2025, 5, 8),
        D(2025, 7, 14),
        D(2025, 8, 15),
        D(2025, 11, 1),
        D(2025, 11, 11),
        D(2025, 12, 25),
    }
    assert fixed <= holidays
    assert len(holidays) == 11
    assert D(2025, 12, 26) not in holidays  # Alsace-Moselle only
    assert D(2025, 4, 18) not in holidays  # Good Friday: Alsace-Moselle only


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2024, 7, 15), True),  # Monday
        (D(2024, 7, 14), False),  # Sunday, and Bastille Day
        (D(2024, 7, 13), False),  # Saturday
        (D(2023, 7, 14), False),  # Bastille Day on a Friday
        (D(2024, 5, 8), False),  # Wednesday, Victory in Europe Day
        (D(2024, 5, 9), False),  # Thursday, Ascension
        (D(2024, 5, 10), True),  # the Friday after Ascension is not a holiday
        (D(2024, 12, 24), True),
        (D(2024, 12, 25), False),
        (dt.datetime(2024, 12, 25, 9, 0), False),  # a datetime is judged by its calendar day
    ],
)
def test_is_french_business_day(day: D, expected: bool) -> None:
    assert is_french_business_day(day) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (D(2024, 7, 15), D(2024, 7, 16)),  # Monday -> Tuesday
        (D(2024, 7, 12), D(2024, 7, 15)),  # Friday -> Monday
        (D(2024, 7, 13), D(2024, 7, 15)),  # Saturday -> Monday
        (D(2023, 7, 13), D(2023, 7, 17)),  # Thursday before a Friday 14 July -> Monday
        (D(2024, 5, 7), D(2024, 5, 10)),  # Tuesday, then 8 May and Ascension -> Friday
        (D(2024, 12, 24), D(2024, 12, 26)),
        (D(2024, 12, 31), D(2025, 1, 2)),  # across New Year
        (D(2024, 3, 29), D(2024, 4, 2)),  # Friday before Easter Monday -> Tuesday
        (dt.datetime(2024, 7, 12, 23, 59), D(2024, 7, 15)),
    ],
)
def test_next_french_business_day(day: D, expected: D) -> None:
    result = next_french_business_day(day)
    assert result == expected
    assert type(result) is D


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2200, 12, 31)))
def test_next_business_day_is_the_first_business_day_after(day: D) -> None:
    result = next_french_business_day(day)
    assert result > day
    assert is_french_business_day(result)
    assert (result - day).days <= 5  # at most a long weekend plus a holiday or two
    between = [day + dt.timedelta(days=n) for n in range(1, (result - day).days)]
    assert not any(is_french_business_day(d) for d in between)


@given(st.integers(min_value=1583, max_value=4099))
def test_easter_based_holidays_fall_in_the_right_season(year: int) -> None:
    holidays = french_public_holidays(year)
    mondays = sorted(h for h in holidays if h.weekday() == 0 and D(year, 3, 23) <= h <= D(year, 6, 14))
    # Easter Monday is between 23 March and 26 April; Whit Monday 49 days later.
    easter_monday = next(h for h in mondays if h <= D(year, 4, 26))
    assert easter_monday + dt.timedelta(days=49) in holidays
    assert easter_monday + dt.timedelta(days=38) in holidays  # Ascension
