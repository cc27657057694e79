"""The call stage of the import workflow: which customers are called, when, and publishing their events.

* ``prepare_calls`` lists the import's stored customers and sorts them out: ``doNotCall`` on the record or
  a number on the tenant's do-not-call list are skipped; the others get their calling window in their
  local time (``calls_plan``). Those inside it now form the group called at once, the others wait in
  groups by window opening. Each group's keys go to the payload store in batches of 500 (with each
  customer's ``callBy``, the end of their window); the state machine gets the group openings and the batch
  numbers only (see ``STATE_BYTES``).
* ``request_calls`` runs for one batch once its group's window opened: it reads the import and the
  tenant's policy again (a cancelled import requests nothing more; a number put on the do-not-call list
  while the batch waited is skipped), takes one slot per phone number of the weekly cap, and publishes one
  ``CallRequested`` event per customer, ``EventBus.max_entries`` (10) per call, re-sending refused entries.
  The import records the customers each batch requested (by batch number), so a batch that runs again
  requests no call twice, and the batch's counts reach the import once. A customer whose record a later
  import wrote since is that import's to call, not this one's: skipped.

Delivery is at least once: a task that dies between publishing and recording its calls publishes those
events again when retried. Each event carries a ``callId`` that is stable per import and customer, for
consumers to drop repeats; the slot of the weekly cap is taken once per ``callId``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bulk_import.core.errors import NotFoundError
from bulk_import.core.model import CallRequest, ImportJob, RowOutcome
from bulk_import.core.ports import CallCounts, CallSchedule, Deps, payload_key
from bulk_import.core.tenants import TenantConfig
from bulk_import.engine.calls_plan import (
    CALL_BATCH_SIZE,
    Bucket,
    Group,
    WindowFinder,
    group_buckets,
    iso,
    tenant_policy,
    wait_timestamp,
)
from bulk_import.engine.calls_publish import (  # noqa: F401 - the call stage's names, in one place
    CALL_REQUESTED,
    EVENT_SOURCE,
    PUBLISH_ATTEMPTS,
    PUBLISH_BACKOFF_SECONDS,
    call_event,
    call_id,
    publish,
)
from bulk_import.kinds import get_kind
from bulk_import.kinds.base import ImportKind

log = logging.getLogger(__name__)

#: Step Functions refuses a state's input or output above 256 KiB. The workflow's state holds the
#: execution input (ids), the groups the call stage's Map iterates over (at most ``MAX_GROUPS`` openings
#: plus the batch numbers: a file's million rows make about 2,100 numbers, about 17 KB in all; a batch's
#: object key is derived from its number), each iteration's output (``{}``: the counts go to the import,
#: not the state), and at most one error (its cause, which Step Functions keeps to 32,768 characters).
STATE_BYTES = 256 * 1024
#: A customer's own timezone, read with the fields a call needs when the record has one.
TIMEZONE_FIELD = "timezone"
#: The import that last wrote a record (every stored record has it).
IMPORT_FIELD = "importId"
#: Calls a batch publishes between two reads of its import's status: a cancel landing while a batch of
#: 500 is published lets fewer than this many more calls out (the weekly cap's slots and the events of
#: each slice are taken and sent together, so a cancelled slice spends no slot).
CANCEL_CHECK_EVERY = 50


def batch_key(tenant_id: str, import_id: str, batch: int) -> str:
    """The object key of the customer keys of one call batch of an import."""
    return payload_key(tenant_id, import_id, f"calls/batch-{batch:06d}.json")


def call_results(
    execution_id: str | None, queued: int, skipped: int, status: str = "STARTED", *, deferred: int = 0
) -> dict[str, Any]:
    """``callResults`` of a synchronous import: what was handed to the workflow when answering.

    ``queued`` customers will have a call requested in ``batches`` of 500, ``deferred`` of them when their
    window opens; ``skipped`` have ``doNotCall`` or a number on the tenant's list. The import's ``calls``
    show the final counts.
    """
    return {
        "status": status,
        "batches": -(-queued // CALL_BATCH_SIZE),
        "queued": queued,
        "skipped": skipped,
        "deferred": deferred,
        "executionId": execution_id,
    }


@dataclass(frozen=True)
class CallTally:
    """What the call stage will find among an import's stored rows, told when the import answers."""

    eligible: int = 0
    skipped: int = 0
    deferred: int = 0


def tally_calls(
    kind: ImportKind[Any],
    options: Any,
    outcomes: Sequence[RowOutcome],
    tenant: TenantConfig | None = None,
    now: Any = None,
) -> CallTally:
    """Eligible, skipped and deferred customers among the stored rows of an inline import.

    Without ``tenant`` and ``now`` only ``doNotCall`` is known: nobody counts deferred.
    """
    policy = tenant_policy(tenant) if tenant is not None else None
    finder = WindowFinder(policy, tenant.timezone, now) if policy and tenant and now else None
    eligible = skipped = deferred = 0
    for o in outcomes:
        if o.status not in ("created", "updated") or o.record is None or o.key is None:
            continue
        stored = kind.to_stored(o.record, o.key, options)
        request = kind.call_request(stored.data, stored.key)
        if request is None or (policy is not None and request.phone in policy.do_not_call):
            skipped += 1
            continue
        eligible += 1
        window = finder.window(request.phone, stored.data.get(TIMEZONE_FIELD)) if finder else None
        if window is not None and window[0] > now:
            deferred += 1
    return CallTally(eligible, skipped, deferred)


def load_import(
    deps: Deps, tenant_id: str, import_id: str
) -> tuple[ImportJob, ImportKind[Any], Any, TenantConfig]:
    """The import, its kind, its options and its tenant's configuration, as stored now."""
    job = deps.imports.get(tenant_id, import_id)
    if job is None:
        raise NotFoundError(f"import {import_id} of tenant {tenant_id} not found")
    tenant = deps.tenants.load_config(tenant_id)
    if tenant is None:
        raise NotFoundError(f"tenant {tenant_id} is not configured")
    kind = get_kind(job.kind)
    return job, kind, kind.options(job.options, tenant, job.created_at), tenant


def _fields(kind: ImportKind[Any]) -> tuple[str, ...] | None:
    return None if kind.call_fields is None else (*kind.call_fields, TIMEZONE_FIELD)


def prepare_calls(deps: Deps, tenant_id: str, import_id: str) -> dict[str, Any]:
    """Sort the import's stored customers into groups by window opening, their keys in batches of 500.

    The customers are those the import stored, as it stored them (``RecordStore.iter_import_records``,
    read consistently); ``request_calls`` reads each record again before its call.

    Returns
    -------
    dict
        ``{"now": [{"wait": false, "batches": [0, 1]}], "later": [{"wait": true,
        "at": "2026-12-02T13:00:00Z", "batches": [2]}], "batches": [0, 1, 2], "eligible": n, "skipped": n,
        "deferred": n}``: the group called at once (published before the import is DONE), then those that
        wait until ``at`` (after it), one Map each; ``batch_key`` names each batch's object.
    """
    assert deps.payloads is not None, "the call stage needs a payload store"
    job, kind, _, tenant = load_import(deps, tenant_id, import_id)
    if job.status == "CANCELLED":
        return {
            "now": [],
            "later": [],
            "batches": [],
            "eligible": 0,
            "skipped": 0,
            "deferred": 0,
        }
    now = deps.clock.now()
    policy = tenant_policy(tenant)
    finder = WindowFinder(policy, tenant.timezone, now)
    writer = _BatchWriter(deps, tenant_id, import_id)
    buckets: dict[tuple[Any, Any], Bucket] = {}
    skipped = listed = no_window = found = 0
    for record in deps.records.iter_import_records(tenant_id, import_id, kind.entity, _fields(kind)):
        found += 1
        request = kind.call_request(record.data, record.key)
        if request is None or request.phone in policy.do_not_call:
            skipped += 1
            listed += request is not None
            continue
        window = finder.window(request.phone, record.data.get(TIMEZONE_FIELD))
        if window is None:
            no_window += 1
            continue
        opens = None if window[0] <= now else window[0]
        bucket = buckets.setdefault((opens, window[1]), Bucket(opens, window[1]))
        bucket.keys.append(record.key)
        bucket.customers += 1
        if len(bucket.keys) == CALL_BATCH_SIZE:
            bucket.batches.append(writer.write([(k, bucket) for k in bucket.keys]))
            bucket.keys = []
    if found < job.counts.succeeded:
        # The call lists name every record the import stored: fewer means records another import took
        # over since (theirs to call), or stored without a list (before lists existed): said, not guessed.
        log.warning(
            "import %s: its call lists name %d of the %d customers it stored; only those are called",
            import_id,
            found,
            job.counts.succeeded,
        )
    groups, left_over = group_buckets([b for b in buckets.values() if b.opens is not None])
    at_once = [b for b in buckets.values() if b.opens is None]
    planned = ([Group(None, at_once)] if at_once else []) + groups
    out = [_finish_group(writer, group) for group in planned]
    waiting: Counter[str] = Counter()
    for group in groups:
        for bucket in group.buckets:
            assert bucket.opens is not None
            waiting[iso(bucket.opens)] += bucket.customers
    numbers = [n for group in out for n in group["batches"]]
    failed = no_window + sum(b.customers for b in left_over)
    schedule = CallSchedule(
        batches=len(numbers), skipped=skipped, do_not_call_list=listed, failed=failed, waiting=waiting
    )
    deps.imports.schedule_calls(tenant_id, import_id, schedule, deps.clock.now())
    eligible = sum(b.customers for b in buckets.values()) - sum(b.customers for b in left_over)
    return {
        # Published before the import is DONE, and those that wait after it: see the definition.
        "now": [g for g in out if not g.get("wait")],
        "later": [g for g in out if g.get("wait")],
        "batches": numbers,
        "eligible": eligible,
        "skipped": skipped,
        "deferred": schedule.deferred,
    }


class _BatchWriter:
    """Writes batch objects under consecutive numbers: keys, and each one's ``callBy`` and opening."""

    def __init__(self, deps: Deps, tenant_id: str, import_id: str) -> None:
        assert deps.payloads is not None
        self.payloads = deps.payloads
        self.tenant_id, self.import_id = tenant_id, import_id
        self.count = 0

    def write(self, entries: Sequence[tuple[str, Bucket]]) -> int:
        number = self.count
        self.payloads.put_json(
            batch_key(self.tenant_id, self.import_id, number),
            {
                "keys": [k for k, _ in entries],
                "callBy": [iso(b.closes) for _, b in entries],
                "opens": [iso(b.opens) if b.opens is not None else None for _, b in entries],
            },
        )
        self.count += 1
        return number


def _finish_group(writer: _BatchWriter, group: Group) -> dict[str, Any]:
    """The group as the Map sees it; the short batches of its buckets are written together."""
    batches = [n for bucket in group.buckets for n in bucket.batches]
    rest = [(k, bucket) for bucket in group.buckets for k in bucket.keys]
    for start in range(0, len(rest), CALL_BATCH_SIZE):
        batches.append(writer.write(rest[start : start + CALL_BATCH_SIZE]))
    entry: dict[str, Any] = {"wait": group.at is not None, "batches": batches}
    if group.at is not None:
        entry["at"] = wait_timestamp(group.at)
    return entry


def request_calls(
    deps: Deps,
    tenant_id: str,
    import_id: str,
    batch: int,
    key: str | None = None,
    *,
    pause: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Publish the ``CallRequested`` events of one batch and count them on the import, once.

    ``key`` is the batch's object key, ``batch_key`` of its number when not given.

    A customer whose call this batch requested already (it runs again) is counted, not sent; one who
    became ``doNotCall``, is gone, was written since by another import (whose customer it now is), or
    whose number is now on the tenant's do-not-call list is skipped, as is one whose number had its
    weekly cap of calls; one whose event the bus still refuses after
    ``PUBLISH_ATTEMPTS`` is counted failed.

    Returns
    -------
    dict
        ``{"batch", "requested", "skipped", "failed"}``.
    """
    assert deps.payloads is not None and deps.events is not None, "the call stage needs a bus and payloads"
    job, kind, options, tenant = load_import(deps, tenant_id, import_id)
    if job.status == "CANCELLED":
        # Cancelled while the batches ran or waited: no call is requested after the cancel.
        return {"batch": batch, "requested": 0, "skipped": 0, "failed": 0}
    config = kind.call_config(options)
    if config is None:
        raise ValueError(f"import {import_id} did not ask for calls")
    stored = deps.payloads.get_json(key or batch_key(tenant_id, import_id, batch))
    keys: list[str] = list(stored["keys"])
    call_by: list[str | None] = list(stored.get("callBy") or [None] * len(keys))
    opens: list[str | None] = list(stored.get("opens") or [None] * len(keys))
    now = deps.clock.now()
    policy = tenant_policy(tenant)
    done = deps.imports.requested_calls(tenant_id, import_id, keys, batch=batch)
    fields = _fields(kind)
    if fields is not None:
        fields = (*fields, IMPORT_FIELD)
    records = deps.records.get_records(tenant_id, kind.entity, [k for k in keys if k not in done], fields)
    candidates: list[tuple[str, CallRequest, str | None]] = []
    skipped = listed = 0
    finder: WindowFinder | None = None  # one per batch: it keeps the zones it worked out
    for customer_key, by in zip(keys, call_by, strict=True):
        if customer_key in done:
            continue
        data = records.get(customer_key)
        if data is not None and data.get(IMPORT_FIELD) != import_id:
            data = None  # another import's customer now: its own call stage decides
        request = kind.call_request(data, customer_key) if data is not None else None
        if request is None or request.phone in policy.do_not_call:
            skipped += 1
            listed += request is not None
            continue
        if by is None:  # a batch prepared before events carried their window's end
            finder = finder or WindowFinder(policy, tenant.timezone, now)
            window = finder.window(request.phone, (data or {}).get(TIMEZONE_FIELD))
            by = iso(window[1]) if window is not None else None
        candidates.append((customer_key, request, by))
    sent: list[str] = []
    failed: dict[str, str] = {}
    capped = 0
    for start in range(0, len(candidates), CANCEL_CHECK_EVERY):
        if _cancelled(deps, tenant_id, import_id):
            break  # cancelled while this batch ran: no call is requested after the cancel
        part = candidates[start : start + CANCEL_CHECK_EVERY]
        allowed = _take_slots(deps, tenant_id, import_id, part, now, policy.max_calls_per_7_days)
        pending = [(k, call_event(job, r, config, by)) for k, r, by in part if k in allowed]
        part_sent, part_failed = publish(deps.events, pending, pause=pause)
        sent += part_sent
        failed.update(part_failed)
        capped += len(part) - len(pending)
    if sent:
        deps.imports.record_requested_calls(tenant_id, import_id, sent, batch=batch)
    counts = CallCounts(
        requested=len(done) + len(sent),
        skipped=skipped + capped,
        failed=len(failed),
        do_not_call_list=listed,
        frequency=capped,
        waited=dict(Counter(at for at in opens if at is not None)),
    )
    deps.imports.apply_call_batch(tenant_id, import_id, batch, counts, deps.clock.now())
    return {"batch": batch, "requested": counts.requested, "skipped": counts.skipped, "failed": len(failed)}


def _cancelled(deps: Deps, tenant_id: str, import_id: str) -> bool:
    job = deps.imports.get(tenant_id, import_id)
    return job is None or job.status == "CANCELLED"


def _take_slots(
    deps: Deps,
    tenant_id: str,
    import_id: str,
    candidates: Sequence[tuple[str, CallRequest, str | None]],
    now: Any,
    max_calls: int,
) -> set[str]:
    """The customer keys whose phone number got a slot of the weekly cap (all of them without a store)."""
    if max_calls <= 0:
        return set()
    if deps.call_caps is None or not candidates:
        return {k for k, _, _ in candidates}
    ids = {call_id(import_id, k): k for k, _, _ in candidates}
    granted = deps.call_caps.take(
        tenant_id, [(r.phone, call_id(import_id, k)) for k, r, _ in candidates], now, max_calls
    )
    return {ids[i] for i in granted if i in ids}
