"""Calling compliance rules: the customer's timezone, calling windows in local time, the weekly cap."""

import datetime as dt
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulk_import.rules import RuleError
from bulk_import.rules.calling import (
    DEFAULT_MAX_CALLS_PER_7_DAYS,
    SEARCH_DAYS,
    NoCallWindowError,
    calls_in_last_7_days,
    customer_timezone,
    may_call_now,
    next_window,
    parse_max_calls_per_7_days,
    within_call_cap,
)
from bulk_import.rules.calling_windows import (
    DAY_NAMES,
    CallWindow,
    default_call_windows,
    parse_call_window,
    parse_call_windows,
)
from bulk_import.rules.holidays import french_public_holidays

UTC = dt.UTC
NY = "America/New_York"
PARIS = "Europe/Paris"


def local(tz: str, *parts: int) -> dt.datetime:
    """An instant given as a wall time in a zone, returned in UTC."""
    return dt.datetime(*parts, tzinfo=zoneinfo.ZoneInfo(tz)).astimezone(UTC)  # type: ignore[arg-type, misc]


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=UTC)  # type: ignore[arg-type, misc]


def windows(*specs: tuple[list[str], str, str]) -> tuple[CallWindow, ...]:
    return parse_call_windows([{"days": d, "start": s, "end": e} for d, s, e in specs])


# --- the customer's timezone -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("record_tz", "e164", "expected"),
    [
        ("America/Chicago", "+12125550123", "America/Chicago"),  # the record's own wins over the phone's
        ("america/denver", "+33612345678", "America/Denver"),  # case forgiven, canonical spelling
        (None, "+12125550123", "America/New_York"),  # a New York area code has one zone
        (None, "+15145550123", "America/Toronto"),  # Montreal
        (None, "+33612345678", "Europe/Paris"),
        ("", "+33612345678", "Europe/Paris"),  # an empty record timezone is no timezone
        ("PST", "+33612345678", "Europe/Paris"),  # not an IANA name: the phone decides
        (None, "+18005550123", "Pacific/Auckland"),  # toll-free: dozens of zones, the tenant's
        (None, "+447911123456", "Pacific/Auckland"),  # UK mobile: London, Jersey, Guernsey, Man
        (None, "+61412345678", "Pacific/Auckland"),  # Australian mobile: the whole continent
        (None, "+79161234567", "Pacific/Auckland"),  # Russia spans eleven zones
        (None, "not a phone", "Pacific/Auckland"),
        (None, "+999", "Pacific/Auckland"),
        ("Not/AZone", "", "Pacific/Auckland"),
    ],
)
def test_the_customer_timezone_is_the_records_then_the_phones_then_the_tenants(
    record_tz: str | None, e164: str, expected: str
) -> None:
    assert customer_timezone(record_tz, e164, "Pacific/Auckland") == expected


# --- windows as a tenant writes them -----------------------------------------------------------------


def test_a_window_is_read_with_forgiving_case_and_one_digit_hours() -> None:
    window = parse_call_window({"days": ["mon", " Fri "], "start": "8:05", "end": "24:00"})
    assert window == CallWindow(frozenset({0, 4}), 8 * 60 + 5, 24 * 60)
    assert window.to_json() == {"days": ["MON", "FRI"], "start": "08:05", "end": "24:00"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("MON 08:00-21:00", "must be an object"),
        ({"days": ["MON"], "start": "08:00"}, "needs end"),
        ({"days": ["MON"], "start": "08:00", "end": "21:00", "tz": "UTC"}, "unknown key in a window: tz"),
        ({"days": [], "start": "08:00", "end": "21:00"}, "non-empty list"),
        ({"days": "MON", "start": "08:00", "end": "21:00"}, "non-empty list"),
        ({"days": ["MONDAY"], "start": "08:00", "end": "21:00"}, "not a day: 'MONDAY'"),
        ({"days": [1], "start": "08:00", "end": "21:00"}, "not a day: 1"),
        ({"days": ["MON"], "start": "8h", "end": "21:00"}, "start: not a time HH:MM"),
        ({"days": ["MON"], "start": 800, "end": "21:00"}, "start: not a time HH:MM"),
        ({"days": ["MON"], "start": "24:00", "end": "24:00"}, "start: not a time from 00:00 to 23:59"),
        ({"days": ["MON"], "start": "08:60", "end": "21:00"}, "start: not a time from 00:00 to 23:59"),
        ({"days": ["MON"], "start": "08:00", "end": "24:01"}, "end: not a time from 00:00 to 24:00"),
        ({"days": ["MON"], "start": "08:00", "end": "08:00"}, "end 08:00 must be after start 08:00"),
        ({"days": ["MON"], "start": "22:00", "end": "02:00"}, "crosses midnight is two windows"),
    ],
)
def test_a_bad_window_is_refused_with_a_reason(raw: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_call_window(raw)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"days": ["MON"], "start": "08:00", "end": "21:00"}, "must be a list"),
        ("MON", "must be a list"),
        ([], "must not be empty"),
        ([{"days": ["MON"], "start": "08:00", "end": "21:00"}] * 51, "at most 50 windows, not 51"),
        (
            [{"days": ["MON"], "start": "08:00", "end": "21:00"}, {"days": ["XYZ"]}],
            "window 2: unknown key|window 2: a window needs",
        ),
    ],
)
def test_a_bad_list_of_windows_is_refused_naming_the_window(raw: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_call_windows(raw)


# --- each country's defaults -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "tz", "now", "expected"),
    [
        # US, CA: every day 08:00-21:00.
        ("US", NY, (2026, 7, 4, 22, 0), ((2026, 7, 5, 8, 0), (2026, 7, 5, 21, 0))),  # Saturday night
        ("US", NY, (2026, 7, 5, 7, 59), ((2026, 7, 5, 8, 0), (2026, 7, 5, 21, 0))),  # Sunday, too early
        ("US", NY, (2026, 7, 5, 8, 0), ((2026, 7, 5, 8, 0), (2026, 7, 5, 21, 0))),  # opening minute
        ("us", NY, (2026, 7, 5, 20, 59), ((2026, 7, 5, 8, 0), (2026, 7, 5, 21, 0))),  # last minute
        ("US", NY, (2026, 7, 5, 21, 0), ((2026, 7, 6, 8, 0), (2026, 7, 6, 21, 0))),  # end is exclusive
        ("CA", "America/Vancouver", (2026, 12, 25, 12, 0), ((2026, 12, 25, 8, 0), (2026, 12, 25, 21, 0))),
        # FR: Monday to Friday 10:00-13:00 and 14:00-20:00.
        ("FR", PARIS, (2026, 6, 1, 9, 0), ((2026, 6, 1, 10, 0), (2026, 6, 1, 13, 0))),
        ("FR", PARIS, (2026, 6, 1, 13, 0), ((2026, 6, 1, 14, 0), (2026, 6, 1, 20, 0))),  # lunch break
        ("FR", PARIS, (2026, 6, 1, 15, 30), ((2026, 6, 1, 14, 0), (2026, 6, 1, 20, 0))),
        ("FR", PARIS, (2026, 6, 5, 20, 0), ((2026, 6, 8, 10, 0), (2026, 6, 8, 13, 0))),  # Friday evening
        ("FR", PARIS, (2026, 6, 6, 11, 0), ((2026, 6, 8, 10, 0), (2026, 6, 8, 13, 0))),  # Saturday
        # IN: every day 09:00-21:00.
        ("IN", "Asia/Kolkata", (2026, 6, 7, 8, 30), ((2026, 6, 7, 9, 0), (2026, 6, 7, 21, 0))),  # Sunday
        ("IN", "Asia/Kolkata", (2026, 6, 7, 21, 0), ((2026, 6, 8, 9, 0), (2026, 6, 8, 21, 0))),
        # Elsewhere: Monday to Saturday 09:00-20:00.
        ("GB", "Europe/London", (2026, 6, 6, 19, 0), ((2026, 6, 6, 9, 0), (2026, 6, 6, 20, 0))),  # Sat
        ("GB", "Europe/London", (2026, 6, 6, 20, 0), ((2026, 6, 8, 9, 0), (2026, 6, 8, 20, 0))),
        ("DE", "Europe/Berlin", (2026, 6, 7, 12, 0), ((2026, 6, 8, 9, 0), (2026, 6, 8, 20, 0))),  # Sun
        (None, "Asia/Tokyo", (2026, 6, 8, 8, 0), ((2026, 6, 8, 9, 0), (2026, 6, 8, 20, 0))),
    ],
)
def test_each_countrys_default_window_in_local_time(
    country: str | None,
    tz: str,
    now: tuple[int, ...],
    expected: tuple[tuple[int, ...], tuple[int, ...]],
) -> None:
    start, end = next_window(local(tz, *now), tz, None, country)
    assert (start, end) == (local(tz, *expected[0]), local(tz, *expected[1]))
    assert start.tzinfo == UTC and end.tzinfo == UTC
    assert may_call_now(local(tz, *now), tz, None, country) == (start <= local(tz, *now))


def test_the_elsewhere_default_applies_to_an_unknown_country() -> None:
    assert default_call_windows("ZZ") == default_call_windows(None) == default_call_windows("001")
    assert default_call_windows(" fr ") == default_call_windows("FR")


# --- French public holidays --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "opening"),
    [
        ((2026, 7, 14, 9, 0), (2026, 7, 15, 10, 0)),  # Bastille Day, a Tuesday
        ((2026, 7, 13, 20, 30), (2026, 7, 15, 10, 0)),  # the evening before it
        ((2026, 5, 1, 11, 0), (2026, 5, 4, 10, 0)),  # Labour Day, a Friday: the weekend follows
        ((2026, 12, 24, 19, 0), (2026, 12, 24, 14, 0)),  # Christmas Eve is a working day
        ((2026, 12, 25, 10, 0), (2026, 12, 28, 10, 0)),  # Christmas, a Friday
        ((2025, 12, 25, 10, 0), (2025, 12, 26, 10, 0)),  # Christmas 2025, a Thursday
        ((2026, 5, 13, 21, 0), (2026, 5, 15, 10, 0)),  # Ascension Day, a Thursday
    ],
)
def test_no_call_on_a_french_public_holiday(now: tuple[int, ...], opening: tuple[int, ...]) -> None:
    start, _ = next_window(local(PARIS, *now), PARIS, None, "FR")
    assert start == local(PARIS, *opening)


def test_a_weekly_window_waits_past_holidays_on_its_weekday_in_consecutive_weeks() -> None:
    fridays = windows((["FRI"], "10:00", "12:00"))
    # 25 December 2026 and 1 January 2027 are both Fridays.
    start, end = next_window(local(PARIS, 2026, 12, 18, 15, 0), PARIS, fridays, "FR")
    assert (start, end) == (local(PARIS, 2027, 1, 8, 10, 0), local(PARIS, 2027, 1, 8, 12, 0))


def test_french_holidays_hold_against_a_tenants_windows_too() -> None:
    every_day = windows((list(DAY_NAMES), "09:00", "18:00"))
    start, _ = next_window(local(PARIS, 2026, 7, 14, 12, 0), PARIS, every_day, "FR")
    assert start == local(PARIS, 2026, 7, 15, 9, 0)
    # A French holiday means nothing for a number of another country.
    start, _ = next_window(local(PARIS, 2026, 7, 14, 12, 0), PARIS, every_day, "BE")
    assert start == local(PARIS, 2026, 7, 14, 9, 0)


# --- days clocks change ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "now", "spec", "start", "end"),
    [
        # New York springs forward on Sunday 8 March 2026 (02:00 EST becomes 03:00 EDT).
        (NY, "2026-03-08T06:00", None, "2026-03-08T12:00", "2026-03-09T01:00"),  # 08:00-21:00 EDT
        (NY, "2026-03-07T14:00", None, "2026-03-07T13:00", "2026-03-08T02:00"),  # the day before, EST
        # A window opening in the skipped hour opens when the clocks jump, 03:00 EDT.
        (NY, "2026-03-08T05:00", "SUN 02:30-05:00", "2026-03-08T07:00", "2026-03-08T09:00"),
        # A window closing in the skipped hour closes at the jump.
        (NY, "2026-03-08T05:00", "SUN 01:00-02:30", "2026-03-08T06:00", "2026-03-08T07:00"),
        # A window wholly inside the skipped hour does not happen: next Sunday's, on EDT.
        (NY, "2026-03-08T05:00", "SUN 02:10-02:50", "2026-03-15T06:10", "2026-03-15T06:50"),
        # New York falls back on Sunday 1 November 2026 (02:00 EDT becomes 01:00 EST).
        (NY, "2026-11-01T06:00", None, "2026-11-01T13:00", "2026-11-02T02:00"),  # 08:00-21:00 EST
        # A window edge in the repeated hour takes its first occurrence (EDT, UTC-4).
        (NY, "2026-11-01T04:00", "SUN 01:30-03:00", "2026-11-01T05:30", "2026-11-01T08:00"),
        (NY, "2026-11-01T04:00", "SUN 00:00-01:30", "2026-11-01T04:00", "2026-11-01T05:30"),
        # Paris springs forward on Sunday 29 March 2026 (02:00 CET becomes 03:00 CEST).
        (PARIS, "2026-03-29T00:00", "SUN 02:30-04:00", "2026-03-29T01:00", "2026-03-29T02:00"),
        (PARIS, "2026-03-29T00:00", "SUN 09:00-20:00", "2026-03-29T07:00", "2026-03-29T18:00"),
        (PARIS, "2026-03-28T12:00", "SAT 09:00-20:00", "2026-03-28T08:00", "2026-03-28T19:00"),
        # Paris falls back on Sunday 25 October 2026 (03:00 CEST becomes 02:00 CET).
        (PARIS, "2026-10-24T23:00", "SUN 02:30-04:00", "2026-10-25T00:30", "2026-10-25T03:00"),
        (PARIS, "2026-10-25T00:00", "SUN 09:00-20:00", "2026-10-25T08:00", "2026-10-25T19:00"),
    ],
)
def test_windows_on_the_days_clocks_change(tz: str, now: str, spec: str | None, start: str, end: str) -> None:
    """Instants are UTC; a window is written "DAY HH:MM-HH:MM" in local time, ``None`` for the US defaults."""
    chosen = None
    if spec is not None:
        day, hours = spec.split()
        chosen = windows(([day], *hours.split("-")))  # type: ignore[arg-type]
    at = dt.datetime.fromisoformat(now).replace(tzinfo=UTC)
    expected = tuple(dt.datetime.fromisoformat(x).replace(tzinfo=UTC) for x in (start, end))
    assert next_window(at, tz, chosen, "US" if spec is None else "XX") == expected


def test_the_french_defaults_on_the_mondays_after_clocks_change() -> None:
    assert next_window(utc(2026, 3, 29, 12), PARIS, None, "FR") == (utc(2026, 3, 30, 8), utc(2026, 3, 30, 11))
    assert next_window(utc(2026, 10, 25, 12), PARIS, None, "FR") == (
        utc(2026, 10, 26, 9),
        utc(2026, 10, 26, 12),
    )


# --- a tenant's own windows --------------------------------------------------------------------------


def test_a_tenant_window_until_midnight_joins_the_next_days_from_midnight() -> None:
    late = windows((["MON"], "22:00", "24:00"), (["TUE"], "00:00", "02:00"))
    # Monday 1 June 2026 in New York.
    assert next_window(local(NY, 2026, 6, 1, 23, 30), NY, late, "US") == (
        local(NY, 2026, 6, 1, 22, 0),
        local(NY, 2026, 6, 2, 2, 0),
    )
    assert next_window(local(NY, 2026, 6, 2, 1, 0), NY, late, "US")[1] == local(NY, 2026, 6, 2, 2, 0)
    assert next_window(local(NY, 2026, 6, 2, 2, 0), NY, late, "US")[0] == local(NY, 2026, 6, 8, 22, 0)


def test_a_tenant_window_to_24_00_overrides_the_countrys_hours() -> None:
    evenings = windows((["SAT", "SUN"], "18:00", "24:00"))
    now = local(NY, 2026, 6, 3, 12, 0)  # a Wednesday: the default would allow it
    assert not may_call_now(now, NY, evenings, "US")
    assert next_window(now, NY, evenings, "US") == (local(NY, 2026, 6, 6, 18, 0), local(NY, 2026, 6, 7, 0, 0))
    assert may_call_now(local(NY, 2026, 6, 6, 23, 59), NY, evenings, "US")


def test_overlapping_tenant_windows_are_one_window() -> None:
    chosen = windows((["MON"], "08:00", "12:00"), (["MON"], "11:00", "15:00"), (["MON"], "15:00", "16:00"))
    assert next_window(local(NY, 2026, 6, 1, 9, 0), NY, chosen, "US") == (
        local(NY, 2026, 6, 1, 8, 0),
        local(NY, 2026, 6, 1, 16, 0),
    )


def test_a_window_open_all_week_closes_at_the_end_of_the_search() -> None:
    always = windows((list(DAY_NAMES), "00:00", "24:00"))
    now = utc(2026, 6, 3, 12)
    start, end = next_window(now, "UTC", always, "US")
    assert start <= now < end
    assert end == utc(2026, 6, 3) + dt.timedelta(days=SEARCH_DAYS + 1)


def test_no_window_at_all_is_an_error_and_no_call() -> None:
    with pytest.raises(NoCallWindowError, match=f"no calling window in the next {SEARCH_DAYS} days"):
        next_window(utc(2026, 6, 3, 12), NY, (), "US")
    assert may_call_now(utc(2026, 6, 3, 12), NY, (), "US") is False


def test_a_naive_now_and_an_unknown_zone_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_window(dt.datetime(2026, 6, 3, 12), NY, None, "US")
    with pytest.raises(RuleError, match="not an IANA timezone name"):
        next_window(utc(2026, 6, 3, 12), "EST5", None, "US")


def test_now_in_another_zone_is_read_as_an_instant() -> None:
    now_in_tokyo = local(NY, 2026, 6, 3, 7, 0).astimezone(zoneinfo.ZoneInfo("Asia/Tokyo"))
    assert next_window(now_in_tokyo, NY, None, "US")[0] == local(NY, 2026, 6, 3, 8, 0)


# --- any instant, any zone ---------------------------------------------------------------------------

ZONES = [NY, PARIS, "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "America/St_Johns", "UTC"]
FIXED_ZONES = {"Asia/Kolkata", "UTC"}  # no clock change: every quarter-hour can be checked
QUARTER = dt.timedelta(minutes=15)


def allowed(instant: dt.datetime, tz: str, chosen: tuple[CallWindow, ...], country: str) -> bool:
    wall = instant.astimezone(zoneinfo.ZoneInfo(tz))
    if country == "FR" and wall.date() in french_public_holidays(wall.year):
        return False
    minute = wall.hour * 60 + wall.minute + wall.second / 60
    return any(wall.weekday() in w.days and w.start <= minute < w.end for w in chosen)


quarter_hours = st.integers(min_value=0, max_value=96)
window_strategy = st.builds(
    lambda days, a, b: CallWindow(frozenset(days), min(a, b) * 15, max(a, b) * 15),
    st.sets(st.integers(0, 6), min_size=1),
    quarter_hours,
    quarter_hours,
).filter(lambda w: w.start < w.end and w.start < 24 * 60)


@settings(max_examples=150)
@given(
    now=st.datetimes(
        min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2080, 1, 1), timezones=st.just(UTC)
    ),
    tz=st.sampled_from(ZONES),
    country=st.sampled_from(["US", "FR", "IN", "GB"]),
    tenant=st.none() | st.lists(window_strategy, min_size=1, max_size=4).map(tuple),
)
def test_the_window_found_is_now_or_next_and_lies_inside_allowed_local_hours(
    now: dt.datetime, tz: str, country: str, tenant: tuple[CallWindow, ...] | None
) -> None:
    chosen = default_call_windows(country) if tenant is None else tenant
    start, end = next_window(now, tz, tenant, country)
    assert end > start
    assert start >= now or start <= now < end
    assert end > now
    one_second = dt.timedelta(seconds=1)
    assert allowed(start, tz, chosen, country)
    assert allowed(end - one_second, tz, chosen, country)
    assert may_call_now(now, tz, tenant, country) == (start <= now)
    if tz in FIXED_ZONES:
        assert not allowed(start - one_second, tz, chosen, country)
        # Nothing allowed between now and the opening found (windows begin on quarter-hours).
        probe = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0) + QUARTER
        while probe < start:
            assert not allowed(probe, tz, chosen, country)
            probe += QUARTER


@settings(max_examples=100)
@given(
    year=st.integers(2000, 2090),
    season=st.sampled_from([(12, 10), (4, 20), (5, 1), (5, 25), (7, 10), (10, 28)]),
    days_in=st.integers(0, 20),
    hour=st.integers(0, 23),
    tenant=st.none() | st.lists(window_strategy, min_size=1, max_size=2).map(tuple),
)
def test_a_french_window_never_opens_on_a_public_holiday(
    year: int, season: tuple[int, int], days_in: int, hour: int, tenant: tuple[CallWindow, ...] | None
) -> None:
    now = local(PARIS, year, *season, hour, 0) + dt.timedelta(days=days_in)
    start, end = next_window(now, PARIS, tenant, "FR")
    for edge in (start, end - dt.timedelta(seconds=1)):
        wall = edge.astimezone(zoneinfo.ZoneInfo(PARIS))
        assert wall.date() not in french_public_holidays(wall.year)


# --- how often -----------------------------------------------------------------------------------------


def test_calls_of_the_last_7_days_are_counted_and_older_ones_are_not() -> None:
    now = utc(2026, 6, 10, 12)
    times = [
        now,
        now - dt.timedelta(days=7),  # exactly 7 days ago: out
        now - dt.timedelta(days=7) + dt.timedelta(seconds=1),
        now - dt.timedelta(days=3),
        now + dt.timedelta(hours=1),  # scheduled later: not in the last 7 days
    ]
    assert calls_in_last_7_days(times, now) == 3
    assert calls_in_last_7_days([], now) == 0


@pytest.mark.parametrize(
    ("count", "max_calls", "allowed_again"),
    [(0, 7, True), (6, 7, True), (7, 7, False), (8, 7, False), (0, 0, False), (2, 3, True)],
)
def test_the_weekly_cap_allows_one_more_call_only_below_it(
    count: int, max_calls: int, allowed_again: bool
) -> None:
    now = utc(2026, 6, 10, 12)
    times = [now - dt.timedelta(hours=i) for i in range(count)]
    assert within_call_cap(times, now, max_calls) is allowed_again


def test_the_cap_is_seven_by_default_and_counts_calls_already_scheduled() -> None:
    now = utc(2026, 6, 10, 12)
    assert DEFAULT_MAX_CALLS_PER_7_DAYS == 7
    past = [now - dt.timedelta(days=i) for i in range(6)]
    assert within_call_cap(past, now)
    assert not within_call_cap([*past, now + dt.timedelta(hours=3)], now)
    assert within_call_cap([*past, now - dt.timedelta(days=8)], now)


@pytest.mark.parametrize(("raw", "expected"), [(None, 7), (0, 0), (3, 3), (5.0, 5), (1000, 1000)])
def test_a_tenants_weekly_cap(raw: object, expected: int) -> None:
    assert parse_max_calls_per_7_days(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (True, "whole number"),
        (2.5, "whole number"),
        ("7", "whole number"),
        (float("inf"), "whole number"),
        (float("nan"), "whole number"),
        (-1, "from 0 to 1000, not -1"),
        (1001, "from 0 to 1000, not 1001"),
    ],
)
def test_a_bad_weekly_cap_is_refused(raw: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_max_calls_per_7_days(raw)
