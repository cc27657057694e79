"""Each customer's calling window as the call stage finds it, on a fixed clock: from the phone number's
zone and country, the record's zone or the tenant's, the tenant's windows; holidays, days clocks change,
windows past midnight; and the tenant's calling policy as the seed file is checked."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from bulk_import.adapters.seed import parse_seed
from bulk_import.core.errors import InvalidRequestError
from bulk_import.engine.calls_plan import WindowFinder
from bulk_import.rules.calling_policy import parse_call_policy
from bulk_import.rules.errors import RuleError

EVERY_DAY = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# (what, phone, record timezone, tenant timezone, tenant windows, now (UTC), window start, window end)
WINDOWS: list[tuple[str, str, str | None, str, Any, str, str, str]] = [
    # Per-country defaults, in the zone of the phone number.
    (
        "US open",
        "+12125550100",
        None,
        "UTC",
        None,
        "2026-12-01T13:00Z",
        "2026-12-01T13:00Z",
        "2026-12-02T02:00Z",
    ),
    (
        "US before 08:00",
        "+12125550100",
        None,
        "UTC",
        None,
        "2026-12-01T12:59Z",
        "2026-12-01T13:00Z",
        "2026-12-02T02:00Z",
    ),
    (
        "US after 21:00",
        "+12135550100",
        None,
        "UTC",
        None,
        "2026-12-02T05:00Z",
        "2026-12-02T16:00Z",
        "2026-12-03T05:00Z",
    ),
    (
        "CA Toronto",
        "+14165550100",
        None,
        "UTC",
        None,
        "2026-12-06T12:00Z",
        "2026-12-06T13:00Z",
        "2026-12-07T02:00Z",
    ),
    (
        "FR morning",
        "+33142685300",
        None,
        "UTC",
        None,
        "2026-12-01T09:30Z",
        "2026-12-01T09:00Z",
        "2026-12-01T12:00Z",
    ),
    (
        "FR lunch break",
        "+33142685300",
        None,
        "UTC",
        None,
        "2026-12-01T12:30Z",
        "2026-12-01T13:00Z",
        "2026-12-01T19:00Z",
    ),
    (
        "FR Saturday",
        "+33612345678",
        None,
        "UTC",
        None,
        "2026-12-05T10:00Z",
        "2026-12-07T09:00Z",
        "2026-12-07T12:00Z",
    ),
    (
        "FR Christmas",
        "+33612345678",
        None,
        "UTC",
        None,
        "2026-12-24T19:30Z",
        "2026-12-28T09:00Z",
        "2026-12-28T12:00Z",
    ),
    (
        "FR 14 July",
        "+33612345678",
        None,
        "UTC",
        None,
        "2026-07-14T08:00Z",
        "2026-07-15T08:00Z",
        "2026-07-15T11:00Z",
    ),
    (
        "IN every day",
        "+919820012345",
        None,
        "UTC",
        None,
        "2026-12-06T02:00Z",
        "2026-12-06T03:30Z",
        "2026-12-06T15:30Z",
    ),
    (
        "JP Sunday",
        "+81312345678",
        None,
        "UTC",
        None,
        "2026-12-06T01:00Z",
        "2026-12-07T00:00Z",
        "2026-12-07T11:00Z",
    ),
    # The record's own zone, then the tenant's when the number has several zones.
    (
        "record zone",
        "+12125550100",
        "America/Chicago",
        "UTC",
        None,
        "2026-12-01T13:30Z",
        "2026-12-01T14:00Z",
        "2026-12-02T03:00Z",
    ),
    (
        "bad record zone",
        "+12125550100",
        "Mars/Olympus",
        "UTC",
        None,
        "2026-12-01T13:30Z",
        "2026-12-01T13:00Z",
        "2026-12-02T02:00Z",
    ),
    (
        "toll-free: tenant's",
        "+18005550100",
        None,
        "America/Denver",
        None,
        "2026-12-01T13:30Z",
        "2026-12-01T15:00Z",
        "2026-12-02T04:00Z",
    ),
    # The tenant's windows, in the customer's time.
    (
        "tenant window",
        "+33142685300",
        None,
        "UTC",
        [{"days": ["SAT"], "start": "09:00", "end": "12:00"}],
        "2026-12-01T10:00Z",
        "2026-12-05T08:00Z",
        "2026-12-05T11:00Z",
    ),
    (
        "past midnight, split in two",
        "+12125550100",
        None,
        "UTC",
        [
            {"days": EVERY_DAY, "start": "20:00", "end": "24:00"},
            {"days": EVERY_DAY, "start": "00:00", "end": "02:00"},
        ],
        "2026-12-02T04:00Z",
        "2026-12-02T01:00Z",
        "2026-12-02T07:00Z",
    ),
    # Days clocks change: New York springs forward on 8 March, Paris falls back on 25 October 2026.
    (
        "NY spring forward",
        "+12125550100",
        None,
        "UTC",
        [{"days": ["SUN"], "start": "02:30", "end": "04:00"}],
        "2026-03-08T05:00Z",
        "2026-03-08T07:00Z",
        "2026-03-08T08:00Z",
    ),
    (
        "NY fall back",
        "+12125550100",
        None,
        "UTC",
        None,
        "2026-11-01T11:00Z",
        "2026-11-01T13:00Z",
        "2026-11-02T02:00Z",
    ),
    (
        "Paris fall back",
        "+33142685300",
        None,
        "UTC",
        [{"days": ["SUN"], "start": "01:00", "end": "05:00"}],
        "2026-10-24T22:00Z",
        "2026-10-24T23:00Z",
        "2026-10-25T04:00Z",
    ),
    (
        "Paris spring forward",
        "+33142685300",
        None,
        "UTC",
        [
            {"days": ["SUN"], "start": "02:15", "end": "02:45"},
            {"days": ["MON"], "start": "09:00", "end": "10:00"},
        ],
        "2026-03-28T12:00Z",
        "2026-03-30T07:00Z",
        "2026-03-30T08:00Z",
    ),
]


@pytest.mark.parametrize(
    ("phone", "record_tz", "tenant_tz", "windows", "now", "start", "end"),
    [w[1:] for w in WINDOWS],
    ids=[w[0] for w in WINDOWS],
)
def test_each_customers_window_from_their_phone_record_or_tenant(
    phone: str, record_tz: str | None, tenant_tz: str, windows: Any, now: str, start: str, end: str
) -> None:
    policy = parse_call_policy({"windows": windows} if windows else None)
    finder = WindowFinder(policy, tenant_tz, at(now))
    assert finder.window(phone, record_tz) == (at(start), at(end))


def test_a_window_that_crosses_midnight_is_refused_with_how_to_write_it() -> None:
    with pytest.raises(
        RuleError, match=r"windows: window 1: end 02:00 must be after start 22:00.*two windows"
    ):
        parse_call_policy({"windows": [{"days": ["MON"], "start": "22:00", "end": "02:00"}]})


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "callPolicy must be an object"),
        ({"windowz": []}, "unknown key windowz"),
        ({"doNotCallNumbers": "+33612345678"}, "doNotCallNumbers: must be a list"),
        (
            {"doNotCallNumbers": ["+33612345678", "06 12 34 56 78"]},
            "doNotCallNumbers: number 2: '06 12 34 56 78' is not E.164",
        ),
        ({"maxCallsPer7Days": -1}, "maxCallsPer7Days: must be from 0 to 1000"),
        ({"windows": []}, "windows: windows must not be empty"),
    ],
)
def test_a_bad_call_policy_is_refused_naming_the_key(raw: object, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_call_policy(raw)


def test_a_seed_with_a_bad_call_policy_is_refused_in_one_line() -> None:
    seed = {"tenants": [{"id": "acme", "callPolicy": {"maxCallsPer7Days": "seven"}}]}
    with pytest.raises(InvalidRequestError) as caught:
        parse_seed(seed)
    assert str(caught.value).startswith("tenant acme: callPolicy: maxCallsPer7Days: must be a whole number")
    assert "\n" not in str(caught.value)
