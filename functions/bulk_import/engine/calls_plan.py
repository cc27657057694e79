"""When each customer of an import is called: their window, and the groups of customers that wait together.

A customer may be called now (their window is open), or is deferred to their next window's opening.
Customers deferred to the same opening wait together in one state of the workflow (a ``Wait`` until a
timestamp, no Lambda running). The number of groups is capped (``MAX_GROUPS``) so that the execution's
history stays under Step Functions' 25,000 events whatever the import (``history_events``): when an import
has more distinct openings than that, neighbouring openings merge into one group that waits until the
latest of them, as long as every customer's window is still open then (a call never moves earlier than its
window opens, and never past its window's end). Customers whose window fits no group within the cap are
not called: they are counted failed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bulk_import.core.tenants import TenantConfig
from bulk_import.rules.calling import (
    DEFAULT_MAX_CALLS_PER_7_DAYS,
    NoCallWindowError,
    next_window,
    parse_max_calls_per_7_days,
    phone_zone_and_region,
)
from bulk_import.rules.calling_policy import E164, CallPolicy, parse_call_policy
from bulk_import.rules.calling_windows import parse_call_windows
from bulk_import.rules.errors import RuleError
from bulk_import.rules.timezones import validate_timezone

T = TypeVar("T")

#: Customers per call batch.
CALL_BATCH_SIZE = 500
#: Groups of deferred customers an import's workflow waits on at most, besides those called at once.
MAX_GROUPS = 100
#: How far apart two openings may be and still merge into one group, tried in turn until the groups fit
#: ``MAX_GROUPS`` (None: any distance, as long as the windows overlap).
MERGE_TOLERANCES: tuple[dt.timedelta | None, ...] = (
    dt.timedelta(0),
    dt.timedelta(minutes=1),
    dt.timedelta(minutes=15),
    dt.timedelta(hours=1),
    dt.timedelta(hours=4),
    None,
)
#: Step Functions' limit on the events of one execution's history, and those the workflow may spend on
#: the call stage's groups and batches: the rest is left for the other states and for retries.
HISTORY_EVENTS_LIMIT = 25_000
#: Events of the states outside the call stage's Map, on a run without retries.
FIXED_EVENTS = 30
#: Events of one group: its iteration (2), the choice (2), the wait (2) and the batches' Map (4).
GROUP_EVENTS = 10
#: Events of one batch: its iteration (2) and its task (5: entered, scheduled, started, succeeded, exited).
BATCH_EVENTS = 7
#: The largest import (rows of a file).
MAX_CUSTOMERS = 1_000_000


def history_events(groups: int, batches: int) -> int:
    """Events of a workflow execution's history without retries, for this many groups and batches."""
    return FIXED_EVENTS + GROUP_EVENTS * groups + BATCH_EVENTS * batches


def worst_case_history_events() -> int:
    """Events of the largest import split into ``MAX_GROUPS`` groups plus the customers called at once.

    Each group ends with at most one batch short of 500, so the batches are at most
    ``ceil(MAX_CUSTOMERS / 500)`` plus one per group.
    """
    groups = MAX_GROUPS + 1
    return history_events(groups, math.ceil(MAX_CUSTOMERS / CALL_BATCH_SIZE) + groups)


def wait_timestamp(at: dt.datetime) -> str:
    """The instant a group waits for, as the ``Wait`` state reads it: UTC, whole seconds rounded up."""
    at = at.astimezone(dt.UTC)
    if at.microsecond:
        at = at.replace(microsecond=0) + dt.timedelta(seconds=1)
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso(at: dt.datetime) -> str:
    """An instant in UTC as ISO 8601 (``2026-12-01T14:00:00Z``)."""
    return at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def tenant_policy(tenant: TenantConfig) -> CallPolicy:
    """The tenant's calling policy; one the seed check would refuse is read part by part.

    Seed files are checked when they load, but a policy written to the configuration table some other
    way (by hand, or before that check existed) may hold anything: it never fails the call stage. Each
    of its keys that is valid alone is kept; an invalid ``windows`` gives the laws' defaults and an
    invalid ``maxCallsPer7Days`` the default cap. The do-not-call list errs on the side of not calling:
    every valid E.164 number it names is kept, from a list or from text listing numbers (``"+33612345678,
    +12125550100"``), and the other entries are dropped.
    """
    try:
        return parse_call_policy(tenant.call_policy or None)
    except RuleError:
        raw = tenant.call_policy if isinstance(tenant.call_policy, Mapping) else {}
        return CallPolicy(
            windows=_part(parse_call_windows, raw.get("windows"), None),
            do_not_call=_valid_numbers(raw.get("doNotCallNumbers")),
            max_calls_per_7_days=_part(
                parse_max_calls_per_7_days, raw.get("maxCallsPer7Days"), DEFAULT_MAX_CALLS_PER_7_DAYS
            ),
        )


def _part(parse: Callable[[Any], T], raw: Any, default: T) -> T:
    if raw is None:
        return default
    try:
        return parse(raw)
    except (RuleError, TypeError, ValueError):
        return default


def _valid_numbers(raw: Any) -> frozenset[str]:
    if isinstance(raw, str):
        raw = re.split(r"[,;\s]+", raw)
    if not isinstance(raw, Sequence) or isinstance(raw, bytes):
        return frozenset()
    texts = (item.strip() for item in raw if isinstance(item, str))
    return frozenset(text for text in texts if E164.fullmatch(text))


@dataclass
class WindowFinder:
    """Each customer's calling window from ``now``, remembered per timezone and country."""

    policy: CallPolicy
    tenant_timezone: str
    now: dt.datetime
    _seen: dict[tuple[str, str | None], tuple[dt.datetime, dt.datetime] | None] = field(
        default_factory=dict, init=False
    )

    def window(self, phone: str, record_timezone: Any = None) -> tuple[dt.datetime, dt.datetime] | None:
        """``(start, end)`` of the customer's window open now or next, or None when none opens."""
        zone, country = phone_zone_and_region(phone)
        tz = _valid_zone(record_timezone) or zone or self.tenant_timezone
        key = (tz, country)
        if key not in self._seen:
            try:
                self._seen[key] = next_window(self.now, tz, self.policy.windows, country)
            except (NoCallWindowError, RuleError):
                self._seen[key] = None
        return self._seen[key]


def _valid_zone(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw.strip():
        return None
    try:
        return validate_timezone(raw)
    except RuleError:
        return None


@dataclass
class Bucket:
    """Customers sharing one window: its opening (None: open now), its end, and their keys."""

    opens: dt.datetime | None
    closes: dt.datetime
    keys: list[str] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)
    customers: int = 0


@dataclass
class Group:
    """Buckets whose customers wait together until ``at`` (None: called at once)."""

    at: dt.datetime | None
    buckets: list[Bucket]

    @property
    def customers(self) -> int:
        """Customers of the group."""
        return sum(b.customers for b in self.buckets)


def group_buckets(
    buckets: Sequence[Bucket], max_groups: int = MAX_GROUPS
) -> tuple[list[Group], list[Bucket]]:
    """Group deferred buckets by opening, merging neighbours until at most ``max_groups`` remain.

    Returns
    -------
    (groups, left_over)
        Groups in time order, each waiting until its latest opening, with every member's window still
        open then; and the buckets that fit in no group within the cap (the latest ones).
    """
    ordered = sorted(buckets, key=lambda b: (b.opens or b.closes, b.closes))
    groups: list[Group] = []
    for tolerance in MERGE_TOLERANCES:
        groups = _merge(ordered, tolerance)
        if len(groups) <= max_groups:
            return groups, []
    kept, rest = groups[:max_groups], groups[max_groups:]
    return kept, [b for g in rest for b in g.buckets]


def _merge(ordered: Sequence[Bucket], tolerance: dt.timedelta | None) -> list[Group]:
    groups: list[Group] = []
    first = closes = None
    for bucket in ordered:
        assert bucket.opens is not None, "only deferred buckets are grouped"
        if groups and first is not None and closes is not None:
            near = tolerance is None or bucket.opens - first <= tolerance
            if near and bucket.opens < min(closes, bucket.closes):
                groups[-1].buckets.append(bucket)
                groups[-1].at = bucket.opens
                closes = min(closes, bucket.closes)
                continue
        groups.append(Group(at=bucket.opens, buckets=[bucket]))
        first, closes = bucket.opens, bucket.closes
    return groups
