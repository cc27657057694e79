"""When a customer may be called: their timezone, the next calling window, and the weekly call cap.

Every function takes "now" as a parameter and never reads the system clock, so the rules run the same on a
fake clock in tests as in production.

Windows are searched day by day in the customer's local calendar. A window edge is a wall time on a local
day, turned into an instant this way on the days clocks change:

- a wall time that does not exist (inside the hour skipped when clocks go forward) is the instant clocks
  jump, the first moment the clock shows a later time: a window from 02:30 opens at 03:00 on that day in
  New York, and a window lying wholly inside the skipped hour does not happen that day;
- a wall time that happens twice (inside the hour repeated when clocks go back) is its first occurrence,
  so a window ending at 01:30 closes the first time the clock shows 01:30, the shorter of the two readings.

Windows that overlap or touch, including one ending at ``24:00`` and one starting at ``00:00`` the next
day, are one window. For a French phone number no window opens on a French public holiday (mainland
calendar), whether the windows are the country's defaults or the tenant's: the law forbids those days.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections.abc import Iterable, Sequence

import phonenumbers
from phonenumbers import timezone as phone_timezones

from bulk_import.rules.calling_windows import MINUTES_PER_DAY, CallWindow, default_call_windows
from bulk_import.rules.errors import RuleError
from bulk_import.rules.holidays import french_public_holidays
from bulk_import.rules.timezones import validate_timezone

# Two weeks cover every weekly window, but French holidays fall on the same weekday in a row (25 December
# and 1 January, 1 and 8 May, sometimes with Ascension Day a week later): a window open on that weekday
# alone would wait three weeks, so the search looks five weeks ahead.
SEARCH_DAYS = 35
DEFAULT_MAX_CALLS_PER_7_DAYS = 7
MAX_CALLS_PER_7_DAYS_LIMIT = 1000
_SEVEN_DAYS = dt.timedelta(days=7)
_ONE_DAY = dt.timedelta(days=1)
_UTC = dt.UTC


class NoCallWindowError(RuleError):
    """No calling window opens within the days searched."""


def customer_timezone(record_tz: str | None, e164: str, tenant_tz: str) -> str:
    """Return the timezone whose clock decides when a customer may be called.

    Parameters
    ----------
    record_tz
        The customer record's own timezone, if any; used when it is an IANA name (case forgiven).
    e164
        The customer's phone number in E.164 form (``"+12125550123"``).
    tenant_tz
        The tenant's timezone, the last resort, returned as given.

    Returns
    -------
    str
        The record's zone; else the phone number's when libphonenumber's timezone data gives it a single
        zone (``+1 212`` is ``America/New_York``, ``+33`` ``Europe/Paris``; a toll-free ``+1 800`` number,
        a UK mobile or an Australian mobile has several, an unparsable number none); else the tenant's.
    """
    if record_tz is not None:
        try:
            return validate_timezone(record_tz)
        except RuleError:
            pass
    zone, _ = phone_zone_and_region(e164)
    return zone if zone is not None else tenant_tz


def phone_zone_and_region(e164: str) -> tuple[str | None, str | None]:
    """Return the single timezone and the region of a phone number, each ``None`` when unknown.

    Parameters
    ----------
    e164
        A phone number in E.164 form.

    Returns
    -------
    tuple
        ``(zone, region)``: the IANA zone when libphonenumber's timezone data gives the number exactly one
        (else ``None``), and its ISO 3166-1 alpha-2 region (``"US"``, ``"FR"``; ``None`` when the number
        cannot be parsed or belongs to no region). The number is parsed once for both.
    """
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None, None
    region = phonenumbers.region_code_for_number(number)
    if region in (None, "", "ZZ", "001"):
        region = None
    zones = phone_timezones.time_zones_for_number(number)
    if len(zones) != 1 or zones[0] == phone_timezones.UNKNOWN_TIMEZONE:
        return None, region
    try:
        return validate_timezone(zones[0]), region
    except RuleError:
        return None, region


def _zone(tz: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(validate_timezone(tz))


def _instant(day: dt.date, minutes: int, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """Return the UTC instant of a wall time on a local day, as the module docstring says."""
    if minutes == MINUTES_PER_DAY:
        day, minutes = day + _ONE_DAY, 0
    wall = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=zone)
    first = wall.replace(fold=0).astimezone(_UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall.replace(tzinfo=None):
        return first  # exists (fold=0 is its first occurrence when it happens twice)
    # Skipped: fold=0 reads it with the offset before the jump (an instant after the jump), fold=1 with
    # the offset after it (an instant before). The jump lies between; find it to the second.
    low, high = wall.replace(fold=1).astimezone(_UTC), first
    while high - low > dt.timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) < wall.replace(tzinfo=None):
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)


def _is_french(country: str | None) -> bool:
    return (country or "").strip().upper() == "FR"


def _day_spans(
    day: dt.date, zone: zoneinfo.ZoneInfo, windows: Sequence[CallWindow], french: bool
) -> Iterable[tuple[dt.datetime, dt.datetime]]:
    if french and day in french_public_holidays(day.year):
        return
    for window in windows:
        if day.weekday() in window.days:
            start, end = _instant(day, window.start, zone), _instant(day, window.end, zone)
            if end > start:  # a window inside a skipped hour does not happen that day
                yield start, end


def next_window(
    now_utc: dt.datetime,
    tz: str,
    windows: Sequence[CallWindow] | None,
    country: str | None,
) -> tuple[dt.datetime, dt.datetime]:
    """Return the calling window a customer is in now, or the next one.

    Parameters
    ----------
    now_utc
        The current instant, timezone-aware (any zone; read as an instant).
    tz
        The customer's IANA timezone, as :func:`customer_timezone` gives it.
    windows
        The tenant's windows, or ``None`` for the defaults of the phone's country.
    country
        ISO 3166-1 alpha-2 code of the phone number's region (``"FR"`` also removes French public holidays).

    Returns
    -------
    tuple of datetime
        ``(start, end)`` in UTC, the end exclusive: ``start <= now_utc < end`` when the customer may be
        called now, else ``now_utc < start``, the next opening. Edges on the days clocks change and joined
        windows are as the module docstring says; a window still open at the end of the search closes there.

    Raises
    ------
    NoCallWindowError
        No window opens from now to :data:`SEARCH_DAYS` days ahead (windows that never match a day).
    RuleError
        ``tz`` is not an IANA timezone name.
    ValueError
        ``now_utc`` is naive.
    """
    if now_utc.tzinfo is None or now_utc.utcoffset() is None:
        raise ValueError("now_utc must be timezone-aware")
    now = now_utc.astimezone(_UTC)
    zone = _zone(tz)
    chosen = default_call_windows(country) if windows is None else windows
    french = _is_french(country)
    today = now.astimezone(zone).date()
    current: tuple[dt.datetime, dt.datetime] | None = None
    # From yesterday: a window of yesterday's local date may still be open, and joins with today's. Wall
    # times map to instants in order, so days searched in order give spans sorted by start, and the search
    # stops at the first window ending after now that the next span does not join.
    for offset in range(-1, SEARCH_DAYS + 1):
        for start, end in sorted(_day_spans(today + offset * _ONE_DAY, zone, chosen, french)):
            if current is not None and start <= current[1]:
                current = (current[0], max(current[1], end))
                continue
            if current is not None and current[1] > now:
                return current
            current = (start, end)
    if current is not None and current[1] > now:
        return current
    raise NoCallWindowError(f"no calling window in the next {SEARCH_DAYS} days")


def may_call_now(
    now_utc: dt.datetime,
    tz: str,
    windows: Sequence[CallWindow] | None,
    country: str | None,
) -> bool:
    """Tell whether a customer is inside a calling window now.

    Parameters
    ----------
    now_utc, tz, windows, country
        As for :func:`next_window`.

    Returns
    -------
    bool
        ``True`` when the window :func:`next_window` returns has already opened; ``False`` as well when no
        window opens in the days searched.
    """
    try:
        start, _ = next_window(now_utc, tz, windows, country)
    except NoCallWindowError:
        return False
    return start <= now_utc


def calls_in_last_7_days(times: Sequence[dt.datetime], now: dt.datetime) -> int:
    """Count the calls of the 7 days up to now.

    Parameters
    ----------
    times
        Instants calls were requested at, timezone-aware, in any order.
    now
        The current instant, timezone-aware.

    Returns
    -------
    int
        How many fall after ``now`` minus 7 days and no later than ``now``: a call exactly 7 days ago has
        left the count.
    """
    since = now - _SEVEN_DAYS
    return sum(1 for t in times if since < t <= now)


def within_call_cap(
    times: Sequence[dt.datetime],
    now: dt.datetime,
    max_calls: int = DEFAULT_MAX_CALLS_PER_7_DAYS,
) -> bool:
    """Tell whether one more call may be requested without passing the weekly cap.

    Parameters
    ----------
    times
        Instants calls were requested at for this phone number, timezone-aware. Calls already scheduled
        after ``now`` (deferred to a later window) count too: they will be made.
    now
        The current instant, timezone-aware.
    max_calls
        At most this many calls in any 7 days (Regulation F's default is 7; ``0`` means never).

    Returns
    -------
    bool
        ``True`` when fewer than ``max_calls`` calls fall in the last 7 days or later.
    """
    since = now - _SEVEN_DAYS
    return sum(1 for t in times if t > since) < max_calls


def parse_max_calls_per_7_days(raw: object) -> int:
    """Validate a tenant's weekly call cap.

    Parameters
    ----------
    raw
        A whole number from 0 (never call) to :data:`MAX_CALLS_PER_7_DAYS_LIMIT`, or ``None`` for the
        default of :data:`DEFAULT_MAX_CALLS_PER_7_DAYS`.

    Returns
    -------
    int

    Raises
    ------
    RuleError
        Not a whole number (booleans and fractions included) or out of range.
    """
    if raw is None:
        return DEFAULT_MAX_CALLS_PER_7_DAYS
    if isinstance(raw, int) and not isinstance(raw, bool):
        value = raw
    elif isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        value = int(raw)
    else:
        raise RuleError(f"must be a whole number of calls, not {repr(raw)[:20]}")
    if not 0 <= value <= MAX_CALLS_PER_7_DAYS_LIMIT:
        raise RuleError(f"must be from 0 to {MAX_CALLS_PER_7_DAYS_LIMIT}, not {value}")
    return value
