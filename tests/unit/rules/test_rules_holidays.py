"""French public holidays and business days."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules import (
    RuleError,
    french_public_holidays,
    is_french_business_day,
    next_french_business_day,
)
from bulk_import.rules.holidays import french_subdivisions

D = dt.date


@pytest.mark.parametrize(
    ("year", "easter_monday", "ascension", "whit_monday"),
    [
        (2019, D(2019, 4, 22), D(2019, 5, 30), D(2019, 6, 10)),
        (2024, D(2024, 4, 1), D(2024, 5, 9), D(2024, 5, 20)),
        (2025, D(2025, 4, 21), D(2025, 5, 29), D(2025, 6, 9)),
        (2026, D(2026, 4, 6), D(2026, 5, 14), D(2026, 5, 25)),
        (2038, D(2038, 4, 26), D(2038, 6, 3), D(2038, 6, 14)),  # latest possible Easter (25 April)
        (2008, D(2008, 3, 24), D(2008, 5, 1), D(2008, 5, 12)),  # Ascension on 1 May
        (2100, D(2100, 3, 29), D(2100, 5, 6), D(2100, 5, 17)),
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


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 24)))
def test_next_business_day_is_the_first_business_day_after(day: D) -> None:
    result = next_french_business_day(day)
    assert result > day
    assert is_french_business_day(result)
    assert (result - day).days <= 5  # at most a long weekend plus a holiday or two
    between = [day + dt.timedelta(days=n) for n in range(1, (result - day).days)]
    assert not any(is_french_business_day(d) for d in between)


@given(st.integers(min_value=2008, max_value=2100))
def test_easter_based_holidays_fall_in_the_right_season(year: int) -> None:
    holidays = french_public_holidays(year)
    mondays = sorted(h for h in holidays if h.weekday() == 0 and D(year, 3, 23) <= h <= D(year, 6, 14))
    # Easter Monday is between 23 March and 26 April; Whit Monday 49 days later.
    easter_monday = next(h for h in mondays if h <= D(year, 4, 26))
    assert easter_monday + dt.timedelta(days=49) in holidays
    assert easter_monday + dt.timedelta(days=38) in holidays  # Ascension


@pytest.mark.parametrize(
    ("working_day", "same_day_a_holiday_later"),
    [
        (D(2006, 6, 5), D(2009, 6, 1)),  # Whit Monday, a working day from 2005 to 2007
        (D(1980, 5, 8), D(1982, 5, 8)),  # 8 May was not a holiday from 1976 to 1981
    ],
)
def test_the_calendar_follows_the_law_of_each_year(working_day: D, same_day_a_holiday_later: D) -> None:
    assert working_day.weekday() < 5
    assert is_french_business_day(working_day)
    assert same_day_a_holiday_later in french_public_holidays(same_day_a_holiday_later.year)


@pytest.mark.parametrize("subdivision", ["57", "Moselle", "6AE", "alsace", " ALSACE "])
def test_alsace_moselle_adds_good_friday_and_saint_stephens_day(subdivision: str) -> None:
    local = french_public_holidays(2025, subdivision)
    assert local - french_public_holidays(2025) == {D(2025, 4, 18), D(2025, 12, 26)}
    assert not is_french_business_day(D(2025, 12, 26), subdivision)
    assert is_french_business_day(D(2025, 12, 26))
    # Christmas 2025 is a Thursday: the next business day is Monday there, Friday on the mainland.
    assert next_french_business_day(D(2025, 12, 25), subdivision) == D(2025, 12, 29)
    assert next_french_business_day(D(2025, 12, 25)) == D(2025, 12, 26)


@pytest.mark.parametrize(
    ("subdivision", "abolition_of_slavery"),
    [
        ("971", D(2026, 5, 27)),  # Guadeloupe
        ("Martinique", D(2026, 5, 22)),
        ("973", D(2026, 6, 10)),  # Guyane
        ("La Réunion", D(2026, 12, 20)),
        ("976", D(2026, 4, 27)),  # Mayotte
    ],
)
def test_overseas_departments_add_their_own_days(subdivision: str, abolition_of_slavery: D) -> None:
    assert abolition_of_slavery in french_public_holidays(2026, subdivision)
    assert abolition_of_slavery not in french_public_holidays(2026)
    assert french_public_holidays(2026) <= french_public_holidays(2026, subdivision)


def test_the_subdivisions_are_named_by_code_and_by_name() -> None:
    names = french_subdivisions()
    assert {"57", "6AE", "971", "972", "973", "974", "976"} <= set(names.values())
    assert names["Moselle"] == "57" and names["Alsace"] == "6AE" and names["La Réunion"] == "974"
    assert not any(code.startswith("Zone") for code in names.values())  # school zones, not calendars


@pytest.mark.parametrize("subdivision", ["75", "Paris", "Zone A", "", "FR"])
def test_an_unknown_subdivision_is_refused(subdivision: str) -> None:
    with pytest.raises(RuleError, match="not a French subdivision with its own holidays"):
        french_public_holidays(2026, subdivision)


@pytest.mark.parametrize("year", [1802, 2101, 3000])
def test_a_year_without_a_known_calendar_is_refused_not_treated_as_holiday_free(year: int) -> None:
    with pytest.raises(ValueError, match=f"no French holiday calendar for {year}"):
        french_public_holidays(year)
