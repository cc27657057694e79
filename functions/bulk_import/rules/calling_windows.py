"""Calling windows: the days and hours of a customer's local week when a call may be requested.

A window is ``{"days": ["MON", ...], "start": "HH:MM", "end": "HH:MM"}`` in the customer's local time, the
end exclusive and ``24:00`` allowed for "until midnight". A window that crosses midnight is refused: it is
written as two windows (``22:00-24:00`` on one day and ``00:00-02:00`` on the next), which the window search
joins back into one. A tenant's windows replace the defaults of the phone's country entirely; the defaults
follow the TCPA and Regulation F (US, CA), the French rules on telephone calls to consumers (FR, which also
forbid French public holidays), and a conservative business-hours rule everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulk_import.rules.errors import RuleError

DAY_NAMES = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
MINUTES_PER_DAY = 24 * 60
MAX_WINDOWS = 50
_TIME = re.compile(r"(\d{1,2}):(\d{2})")
_KEYS = frozenset({"days", "start", "end"})
_EVERY_DAY = frozenset(range(7))
_MONDAY_TO_FRIDAY = frozenset(range(5))
_MONDAY_TO_SATURDAY = frozenset(range(6))


@dataclass(frozen=True)
class CallWindow:
    """Hours of some days of the week during which a customer may be called, in their local time.

    Attributes
    ----------
    days
        Weekdays as numbers, Monday ``0`` to Sunday ``6`` (those of :meth:`datetime.date.weekday`).
    start
        Minutes after local midnight when the window opens, ``0`` to ``1439``.
    end
        Minutes after local midnight when it closes, exclusive, ``start + 1`` to ``1440`` (midnight ending
        the day).
    """

    days: frozenset[int]
    start: int
    end: int

    def to_json(self) -> dict[str, object]:
        """Return the window as a tenant writes it (days in week order)."""
        return {
            "days": [DAY_NAMES[d] for d in sorted(self.days)],
            "start": _format_minutes(self.start),
            "end": _format_minutes(self.end),
        }


def _format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _window(days: frozenset[int], start: str, end: str) -> CallWindow:
    return CallWindow(days, _parse_time(start, allow_midnight_end=False), _parse_time(end, True))


def _parse_time(raw: object, allow_midnight_end: bool) -> int:
    text = raw.strip() if isinstance(raw, str) else None
    match = _TIME.fullmatch(text) if text else None
    if match is None:
        shown = repr(raw)[:20]
        raise RuleError(f"not a time HH:MM: {shown} (for example 08:00 or 21:30)")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes == 0 and allow_midnight_end:
        return MINUTES_PER_DAY
    if hours > 23 or minutes > 59:
        upper = "24:00" if allow_midnight_end else "23:59"
        raise RuleError(f"not a time from 00:00 to {upper}: {text}")
    return hours * 60 + minutes


def _parse_days(raw: object) -> frozenset[int]:
    if not isinstance(raw, list | tuple) or not raw:
        raise RuleError("days must be a non-empty list of MON, TUE, WED, THU, FRI, SAT, SUN")
    days = set()
    for item in raw:
        name = item.strip().upper() if isinstance(item, str) else None
        if name not in DAY_NAMES:
            shown = repr(item)[:20]
            raise RuleError(f"not a day: {shown} (one of MON, TUE, WED, THU, FRI, SAT, SUN)")
        days.add(DAY_NAMES.index(name))
    return frozenset(days)


def parse_call_window(raw: object) -> CallWindow:
    """Validate one window as a tenant writes it.

    Parameters
    ----------
    raw
        ``{"days": ["MON", "TUE"], "start": "08:00", "end": "21:00"}``. Day names forgive case; hours may have
        one digit (``"8:00"``).

    Returns
    -------
    CallWindow

    Raises
    ------
    RuleError
        Not an object, a key other than ``days``, ``start`` and ``end``, a missing one, an unknown day, a time
        that is not ``HH:MM`` within the day, or an end not after the start (a window that crosses midnight
        must be written as two).
    """
    if not isinstance(raw, Mapping):
        raise RuleError('a window must be an object {"days": [...], "start": "HH:MM", "end": "HH:MM"}')
    unknown = sorted(str(key) for key in raw if key not in _KEYS)
    if unknown:
        raise RuleError(f"unknown key in a window: {unknown[0][:40]} (expected days, start, end)")
    missing = [key for key in ("days", "start", "end") if key not in raw]
    if missing:
        raise RuleError(f"a window needs {', '.join(missing)}")
    days = _parse_days(raw["days"])
    try:
        start = _parse_time(raw["start"], allow_midnight_end=False)
    except RuleError as error:
        raise RuleError(f"start: {error}") from None
    try:
        end = _parse_time(raw["end"], allow_midnight_end=True)
    except RuleError as error:
        raise RuleError(f"end: {error}") from None
    if end <= start:
        raise RuleError(
            f"end {_format_minutes(end)} must be after start {_format_minutes(start)}: a window that "
            "crosses midnight is two windows, such as 22:00-24:00 and 00:00-02:00 of the next day"
        )
    return CallWindow(days, start, end)


def parse_call_windows(raw: object) -> tuple[CallWindow, ...]:
    """Validate a tenant's list of calling windows.

    Parameters
    ----------
    raw
        A list of 1 to :data:`MAX_WINDOWS` windows, each as :func:`parse_call_window` takes it. Windows may
        overlap or touch: their union is what counts.

    Returns
    -------
    tuple of CallWindow
        In the order given.

    Raises
    ------
    RuleError
        Not a list, an empty list (leave the windows out to use the country's defaults), too many windows,
        or a bad window: the message starts with its position (``"window 2: ..."``).
    """
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise RuleError("windows must be a list of windows")
    if not raw:
        raise RuleError("windows must not be empty: leave them out to use the country's defaults")
    if len(raw) > MAX_WINDOWS:
        raise RuleError(f"at most {MAX_WINDOWS} windows, not {len(raw)}")
    windows = []
    for position, item in enumerate(raw, start=1):
        try:
            windows.append(parse_call_window(item))
        except RuleError as error:
            raise RuleError(f"window {position}: {error}") from None
    return tuple(windows)


_US_CA = (_window(_EVERY_DAY, "08:00", "21:00"),)
_DEFAULTS: dict[str, tuple[CallWindow, ...]] = {
    "US": _US_CA,
    "CA": _US_CA,
    "FR": (
        _window(_MONDAY_TO_FRIDAY, "10:00", "13:00"),
        _window(_MONDAY_TO_FRIDAY, "14:00", "20:00"),
    ),
    "IN": (_window(_EVERY_DAY, "09:00", "21:00"),),
}
_ELSEWHERE = (_window(_MONDAY_TO_SATURDAY, "09:00", "20:00"),)


def default_call_windows(country: str | None) -> tuple[CallWindow, ...]:
    """Return the calling windows of a country when the tenant has none of its own.

    Parameters
    ----------
    country
        ISO 3166-1 alpha-2 code of the phone number's region (case forgiven), ``None`` if unknown.

    Returns
    -------
    tuple of CallWindow
        US and CA every day 08:00-21:00; FR Monday to Friday 10:00-13:00 and 14:00-20:00 (public holidays
        are removed by the window search, not here); IN every day 09:00-21:00; any other country, and an
        unknown one, Monday to Saturday 09:00-20:00.
    """
    return _DEFAULTS.get((country or "").strip().upper(), _ELSEWHERE)
