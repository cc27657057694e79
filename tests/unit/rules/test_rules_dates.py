"""Dates and date-times."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules import (
    RuleError,
    not_in_future,
    parse_flexible_date,
    parse_iso_date,
    parse_iso_datetime,
)

FLEXIBLE_FORMAT = "must be a date as YYYY-MM-DD, DD/MM/YYYY or DD-MM-YYYY"
UTC = dt.UTC


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-03-15", dt.date(2024, 3, 15)),
        ("15/03/2024", dt.date(2024, 3, 15)),
        ("15-03-2024", dt.date(2024, 3, 15)),
        (" 15/03/2024 ", dt.date(2024, 3, 15)),
        ("5/3/2024", dt.date(2024, 3, 5)),  # one-digit day and month, day first
        ("05/03/2024", dt.date(2024, 3, 5)),
        ("29/02/2024", dt.date(2024, 2, 29)),  # leap day
        ("2000-02-29", dt.date(2000, 2, 29)),  # divisible by 400: leap
        ("31/12/1999", dt.date(1999, 12, 31)),
        (dt.date(2024, 3, 15), dt.date(2024, 3, 15)),
        (dt.datetime(2024, 3, 15, 0, 0), dt.date(2024, 3, 15)),  # openpyxl date cell
        (dt.datetime(2024, 3, 15, 13, 45, tzinfo=UTC), dt.date(2024, 3, 15)),
    ],
)
def test_parse_flexible_date(raw: object, expected: dt.date) -> None:
    result = parse_flexible_date(raw)
    assert result == expected
    assert type(result) is dt.date  # never a datetime, whatever came in


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("31/02/2024", "not a real calendar date"),
        ("29/02/2023", "not a real calendar date"),
        ("1900-02-29", "not a real calendar date"),  # divisible by 100, not 400: not leap
        ("2024-13-01", "not a real calendar date"),
        ("2024-00-10", "not a real calendar date"),
        ("00/01/2024", "not a real calendar date"),
        ("0000-01-01", "not a real calendar date"),
        ("03/25/2024", "not a real calendar date: there is no month 25 (write the day first, DD/MM/YYYY)"),
        ("2024/03/15", FLEXIBLE_FORMAT),
        ("15.03.2024", FLEXIBLE_FORMAT),
        ("15/03-2024", FLEXIBLE_FORMAT),  # mixed separators
        ("15/03/24", FLEXIBLE_FORMAT),  # two-digit year: which century?
        ("15 March 2024", FLEXIBLE_FORMAT),
        ("2024-3-15", FLEXIBLE_FORMAT),
        ("20240315", FLEXIBLE_FORMAT),
        ("2024-03-15T10:00:00", FLEXIBLE_FORMAT),
        ("tomorrow", FLEXIBLE_FORMAT),
        ("١٥/٠٣/٢٠٢٤", FLEXIBLE_FORMAT),  # Arabic-Indic digits
        (20240315, FLEXIBLE_FORMAT),
        (45366, FLEXIBLE_FORMAT),  # Excel serial number
        (True, FLEXIBLE_FORMAT),
        ("", "must not be empty"),
        (None, "must not be empty"),
    ],
)
def test_parse_flexible_date_rejects(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        parse_flexible_date(raw)
    assert str(excinfo.value) == message


@given(st.dates())
def test_parse_flexible_date_round_trips_every_date_in_all_formats(d: dt.date) -> None:
    year = f"{d.year:04d}"  # strftime("%Y") does not zero-pad years below 1000 on every platform
    for text in (
        f"{year}-{d.month:02d}-{d.day:02d}",
        f"{d.day:02d}/{d.month:02d}/{year}",
        f"{d.day:02d}-{d.month:02d}-{year}",
    ):
        assert parse_flexible_date(text) == d
    assert parse_flexible_date(d.isoformat()) == d


@given(st.text(max_size=20))
def test_parse_flexible_date_gives_a_date_or_rule_error(text: str) -> None:
    try:
        result = parse_flexible_date(text)
    except RuleError:
        return
    assert isinstance(result, dt.date)


# --- parse_iso_date ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1990-07-14", dt.date(1990, 7, 14)),
        (" 1990-07-14 ", dt.date(1990, 7, 14)),
        (dt.date(1990, 7, 14), dt.date(1990, 7, 14)),
        (dt.datetime(1990, 7, 14, 0, 0), dt.date(1990, 7, 14)),
    ],
)
def test_parse_iso_date(raw: object, expected: dt.date) -> None:
    assert parse_iso_date(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("14/07/1990", "must be a date as YYYY-MM-DD"),
        ("14-07-1990", "must be a date as YYYY-MM-DD"),
        ("1990-7-14", "must be a date as YYYY-MM-DD"),
        ("1990-07-14T00:00:00", "must be a date as YYYY-MM-DD"),
        ("1990-02-30", "not a real calendar date"),
        (19900714, "must be a date as YYYY-MM-DD"),
    ],
)
def test_parse_iso_date_rejects(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        parse_iso_date(raw)
    assert str(excinfo.value) == message


# --- parse_iso_datetime ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-05-01T09:30:00Z", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01T09:30:00+00:00", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        (
            "2024-05-01T09:30:00+02:00",
            dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        ),
        (
            "2024-05-01T09:30:00-05:00",
            dt.datetime(2024, 5, 1, 14, 30, tzinfo=UTC),  # same instant
        ),
        ("2024-05-01T09:30:00.250Z", dt.datetime(2024, 5, 1, 9, 30, 0, 250000, tzinfo=UTC)),
        ("2024-05-01T09:30Z", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01 09:30:00Z", dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
        ("2024-05-01T09:30:00", dt.datetime(2024, 5, 1, 9, 30)),  # naive stays naive
        (dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC), dt.datetime(2024, 5, 1, 9, 30, tzinfo=UTC)),
    ],
)
def test_parse_iso_datetime(raw: object, expected: dt.datetime) -> None:
    result = parse_iso_datetime(raw)
    assert result == expected
    assert (result.tzinfo is None) == (expected.tzinfo is None)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2024-05-01", "needs a time as well as a date, e.g. 2024-05-01T09:30:00Z"),
        (dt.date(2024, 5, 1), "needs a time as well as a date, e.g. 2024-05-01T09:30:00Z"),
        ("01/05/2024 09:30", "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),
        ("2024-05-01T25:00:00Z", "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),
        ("2024-02-30T10:00:00Z", "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),
        ("2024-05-01T09", "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),
        ("20240501T093000Z", "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),
        ("2024-05-01T09:30:00 Europe/Paris", "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),
        ("now", "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),
        (1714555800, "must be an ISO 8601 date-time, e.g. 2024-05-01T09:30:00Z"),  # epoch seconds
    ],
)
def test_parse_iso_datetime_rejects(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        parse_iso_datetime(raw)
    assert str(excinfo.value) == message


@given(st.datetimes(timezones=st.just(UTC)))
def test_parse_iso_datetime_round_trips_isoformat(value: dt.datetime) -> None:
    assert parse_iso_datetime(value.isoformat()) == value
    if value.year >= 1000:
        assert parse_iso_datetime(value.isoformat().replace("+00:00", "Z")) == value


# --- not_in_future ---


def test_not_in_future() -> None:
    today = dt.date(2024, 6, 1)
    assert not_in_future(dt.date(1990, 7, 14), today) == dt.date(1990, 7, 14)
    assert not_in_future(today, today) == today  # born today is allowed
    with pytest.raises(RuleError) as excinfo:
        not_in_future(dt.date(2024, 6, 2), today)
    assert str(excinfo.value) == "must not be in the future"
