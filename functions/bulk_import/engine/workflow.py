"""The import workflow: insertion, then calls in batches of 500, then finalization.

One state machine (``bulk_import/workflow/definition.asl.json``) sequences every import that asked for
calls; its task states call the use cases below through one Lambda (``entrypoints/workflow.py``):

* **insertion**: nothing to wait for when the records were written inline. A chunked import's execution
  waits on a task token (``await_insertion`` stores it on the import); whichever comes second, the token
  or the last chunk's accounting (``insertion_complete``), resumes the execution, so exactly one does.
* **calls**: ``prepare_calls`` lists the import's stored customers, drops the ``doNotCall`` ones and
  writes the keys of each batch of 500 to the payload store; the state machine's inline Map runs
  ``request_calls`` once per batch. State payloads carry only ids and batch numbers, never records
  (see ``STATE_BYTES``).
  ``request_calls`` publishes one ``CallRequested`` event per customer, ``EventBus.max_entries`` (10) per
  call, re-sending failed entries; a marker per customer makes a batch that runs again request no call
  twice, and the batch's counts reach the import once.
* **finalization**: ``finalize`` writes a file import's result files and sets DONE; the Catch of every
  state runs ``mark_failed`` (FAILED and why). File imports go through the workflow even without calls:
  their finalization writes ``summary.json`` and ``errors.csv`` (``engine/files``).

Delivery is at least once: a task that dies between publishing and writing its markers publishes those
events again when retried. Each event carries a ``callId`` that is stable per import and customer, for
consumers to drop repeats.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bulk_import.core.errors import NotFoundError, TransientError
from bulk_import.core.model import CallRequest, ImportJob, RowOutcome
from bulk_import.core.ports import BusEvent, CallCounts, Deps, EventBus, payload_key
from bulk_import.engine.files.outputs import (
    write_api_results,
    write_failure_summary,
    write_results,
    write_results_csv,
)
from bulk_import.kinds import get_kind
from bulk_import.kinds.base import ImportKind

log = logging.getLogger(__name__)

#: Customers per call batch.
CALL_BATCH_SIZE = 500
#: Step Functions refuses a state's input or output above 256 KiB. The workflow's state holds the
#: execution input (ids), the batch numbers the Map iterates over (a file's million rows make 2,000
#: numbers, about 10 KB; a batch's object key is derived from its number), each iteration's output
#: (``{}``: the counts go to the import, not the state), and at most one error (its cause, which Step
#: Functions keeps to 32,768 characters).
STATE_BYTES = 256 * 1024
#: ``source`` and ``detail-type`` of the events published for calls.
EVENT_SOURCE = "bulk-import"
CALL_REQUESTED = "CallRequested"
#: Attempts at publishing an event whose entry the bus refused, and the pause before the first retry
#: (doubled each time).
PUBLISH_ATTEMPTS = 4
PUBLISH_BACKOFF_SECONDS = 0.2
#: The records index (``by_import``) is eventually consistent: while it lists fewer customers than the
#: import stored, ``prepare_calls`` fails with ``IndexNotReadyError`` (retried by the state machine) for
#: this many attempts, then proceeds with what it lists (customers a later import took over are no longer
#: this import's to call).
INDEX_ATTEMPTS = 3


class IndexNotReadyError(TransientError):
    """The records index does not list every customer the import stored yet."""


def batch_key(tenant_id: str, import_id: str, batch: int) -> str:
    """The object key of the customer keys of one call batch of an import."""
    return payload_key(tenant_id, import_id, f"calls/batch-{batch:06d}.json")


def call_results(
    execution_id: str | None, queued: int, skipped: int, status: str = "STARTED"
) -> dict[str, Any]:
    """``callResults`` of a synchronous import: what was handed to the workflow when answering.

    ``queued`` customers will have a call requested in ``batches`` of 500, ``skipped`` have ``doNotCall``;
    the import's ``calls`` show the final counts.
    """
    return {
        "status": status,
        "batches": math.ceil(queued / CALL_BATCH_SIZE),
        "queued": queued,
        "skipped": skipped,
        "executionId": execution_id,
    }


def count_calls(kind: ImportKind[Any], options: Any, outcomes: Sequence[RowOutcome]) -> tuple[int, int]:
    """``(eligible, skipped)`` among the stored rows of an inline import: what the call stage will find."""
    eligible = skipped = 0
    for o in outcomes:
        if o.status not in ("created", "updated") or o.record is None or o.key is None:
            continue
        stored = kind.to_stored(o.record, o.key, options)
        if kind.call_request(stored.data, stored.key) is None:
            skipped += 1
        else:
            eligible += 1
    return eligible, skipped


def start_follow_up(deps: Deps, job: ImportJob, *, chunked: bool) -> str | None:
    """Start the workflow of a stored import and record its execution on the import.

    An import whose execution was started already (a file whose notification came again) keeps it.

    Returns
    -------
    str | None
        The execution id, or None when it could not be started: the import is then FAILED with why
        (``job`` is updated to match).
    """
    assert job.has_follow_up, "only imports that asked for calls or came from a file have a workflow"
    if job.execution_id:
        return job.execution_id
    now = deps.clock.now()
    try:
        if deps.workflow is None:
            raise RuntimeError("this deployment has no import workflow")
        execution_id = deps.workflow.start(job, chunked=chunked)
    except Exception as exc:
        what = "calls" if job.calls is not None else "import"
        reason = f"{what}: the workflow could not be started ({type(exc).__name__}: {exc})"
        calls_status: Any = "FAILED" if job.calls is not None else None
        deps.imports.finish(
            job.tenant_id, job.import_id, "FAILED", now, error=reason, calls_status=calls_status
        )
        job.status, job.error = "FAILED", reason
        if job.calls is not None:
            job.calls.status = "FAILED"
        job.completed_at = now
        return None
    deps.imports.set_execution(job.tenant_id, job.import_id, execution_id, now)
    job.execution_id = execution_id
    if job.calls is not None:
        job.calls.execution_id = execution_id
    return execution_id


# -- insertion stage -------------------------------------------------------------------------------------
def await_insertion(deps: Deps, tenant_id: str, import_id: str, token: str) -> None:
    """Store the token the insertion stage waits on; resume at once if the records are all accounted for."""
    job = deps.imports.save_task_token(tenant_id, import_id, token, deps.clock.now())
    if job is None:
        raise NotFoundError(f"import {import_id} of tenant {tenant_id} not found")
    if job.inserted_at is not None or job.status == "CANCELLED":
        _resume(deps, token, job)


def insertion_complete(deps: Deps, job: ImportJob) -> None:
    """The last chunk of ``job`` is accounted for: resume its workflow if it waits already."""
    if job.task_token:
        _resume(deps, job.task_token, job)


def _resume(deps: Deps, token: str, job: ImportJob) -> None:
    assert deps.workflow is not None
    deps.workflow.resume(token, {"inserted": job.counts.succeeded})


# -- call stage ------------------------------------------------------------------------------------------
def _load(deps: Deps, tenant_id: str, import_id: str) -> tuple[ImportJob, ImportKind[Any], Any]:
    job = deps.imports.get(tenant_id, import_id)
    if job is None:
        raise NotFoundError(f"import {import_id} of tenant {tenant_id} not found")
    tenant = deps.tenants.load_config(tenant_id)
    if tenant is None:
        raise NotFoundError(f"tenant {tenant_id} is not configured")
    kind = get_kind(job.kind)
    return job, kind, kind.options(job.options, tenant, job.created_at)


def prepare_calls(deps: Deps, tenant_id: str, import_id: str, attempt: int = 0) -> dict[str, Any]:
    """Split the import's stored customers minus ``doNotCall`` ones into batches of keys in the payload store.

    Parameters
    ----------
    attempt
        How many times this step was retried already (``$$.State.RetryCount``), see ``INDEX_ATTEMPTS``.

    Returns
    -------
    dict
        ``{"batches": [0, 1, ...], "eligible": n, "skipped": n}``: the batch numbers the Map iterates
        over (``batch_key`` names each batch's object).

    Raises
    ------
    IndexNotReadyError
        The index lists fewer customers than the import stored (retried).
    """
    assert deps.payloads is not None, "the call stage needs a payload store"
    job, kind, _ = _load(deps, tenant_id, import_id)
    if job.status == "CANCELLED":
        return {"batches": [], "eligible": 0, "skipped": 0}
    batches: list[int] = []
    keys: list[str] = []
    found = eligible = skipped = 0

    def flush() -> None:
        assert deps.payloads is not None
        deps.payloads.put_json(batch_key(tenant_id, import_id, len(batches)), {"keys": keys})
        batches.append(len(batches))

    for record in deps.records.iter_import_records(tenant_id, import_id, kind.entity, kind.call_fields):
        found += 1
        if kind.call_request(record.data, record.key) is None:
            skipped += 1
            continue
        eligible += 1
        keys.append(record.key)
        if len(keys) == CALL_BATCH_SIZE:
            flush()
            keys = []
    if keys:
        flush()
    if found < job.counts.succeeded and attempt < INDEX_ATTEMPTS:
        raise IndexNotReadyError(f"the records index lists {found} of {job.counts.succeeded} customers")
    deps.imports.begin_calls(tenant_id, import_id, len(batches), skipped, deps.clock.now())
    return {"batches": batches, "eligible": eligible, "skipped": skipped}


def call_id(import_id: str, customer_key: str) -> str:
    """A stable id of one import's call to one customer (consumers drop repeats with it)."""
    return hashlib.sha256(f"{import_id}\0{customer_key}".encode()).hexdigest()[:32]


def call_event(job: ImportJob, request: CallRequest, config: Mapping[str, str]) -> BusEvent:
    """The ``CallRequested`` event of one customer."""
    return BusEvent(
        detail_type=CALL_REQUESTED,
        detail={
            "callId": call_id(job.import_id, request.customer_key),
            "tenantId": job.tenant_id,
            "importId": job.import_id,
            "campaignId": request.campaign_id,
            "customerKey": request.customer_key,
            "customerRef": dict(request.reference),
            "phone": request.phone,
            "agentId": config["agentId"],
            "dispositionId": config["dispositionId"],
        },
    )


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

    A customer whose call this import requested already (the batch runs again) is counted, not sent; one
    who became ``doNotCall`` or is gone since the batch was prepared is skipped; one whose event the bus
    still refuses after ``PUBLISH_ATTEMPTS`` is counted failed.

    Returns
    -------
    dict
        ``{"batch", "requested", "skipped", "failed"}``.
    """
    assert deps.payloads is not None and deps.events is not None, "the call stage needs a bus and payloads"
    job, kind, options = _load(deps, tenant_id, import_id)
    if job.status == "CANCELLED":
        # Cancelled while the batches ran: no call is requested after the cancel.
        return {"batch": batch, "requested": 0, "skipped": 0, "failed": 0}
    config = kind.call_config(options)
    if config is None:
        raise ValueError(f"import {import_id} did not ask for calls")
    keys: list[str] = list(deps.payloads.get_json(key or batch_key(tenant_id, import_id, batch))["keys"])
    done = deps.imports.requested_calls(tenant_id, import_id, keys)
    records = deps.records.get_records(
        tenant_id, kind.entity, [k for k in keys if k not in done], kind.call_fields
    )
    pending: list[tuple[str, BusEvent]] = []
    skipped = 0
    for customer_key in keys:
        if customer_key in done:
            continue
        data = records.get(customer_key)
        request = kind.call_request(data, customer_key) if data is not None else None
        if request is None:
            skipped += 1
            continue
        pending.append((customer_key, call_event(job, request, config)))
    sent, failed = publish(deps.events, pending, pause=pause)
    if sent:
        deps.imports.record_requested_calls(tenant_id, import_id, sent)
    counts = CallCounts(requested=len(done) + len(sent), skipped=skipped, failed=len(failed))
    deps.imports.apply_call_batch(tenant_id, import_id, batch, counts, deps.clock.now())
    return {"batch": batch, "requested": counts.requested, "skipped": skipped, "failed": len(failed)}


def publish(
    bus: EventBus,
    events: Sequence[tuple[str, BusEvent]],
    *,
    pause: Callable[[float], None] = time.sleep,
    attempts: int = PUBLISH_ATTEMPTS,
) -> tuple[list[str], dict[str, str]]:
    """Publish keyed events ``bus.max_entries`` at a time, re-sending refused entries with backoff.

    Returns
    -------
    (sent, failed)
        Keys of the accepted events, and key -> last reason for those still refused after ``attempts``.
    """
    sent: list[str] = []
    failed: dict[str, str] = {}
    for start in range(0, len(events), bus.max_entries):
        part = list(events[start : start + bus.max_entries])
        reasons: list[str | None] = []
        for attempt in range(attempts):
            if attempt:
                pause(PUBLISH_BACKOFF_SECONDS * 2 ** (attempt - 1))
            reasons = bus.put_events([event for _, event in part])
            sent += [k for (k, _), why in zip(part, reasons, strict=True) if why is None]
            refused = [(item, why) for item, why in zip(part, reasons, strict=True) if why is not None]
            part = [item for item, _ in refused]
            reasons = [why for _, why in refused]
            if not part:
                break
        failed.update({k: why or "refused" for (k, _), why in zip(part, reasons, strict=True)})
    return sent, failed


# -- finalization ----------------------------------------------------------------------------------------
def finalize(deps: Deps, tenant_id: str, import_id: str) -> dict[str, Any]:
    """The workflow finished: the import (and its call stage) is DONE. Returns the import's ``calls``.

    The import's result files (``results.csv``, ``errors.csv``, and a file import's ``summary.json``) are
    written first, so an import seen DONE always links to them.
    """
    job = deps.imports.get(tenant_id, import_id)
    if job is None:
        raise NotFoundError(f"import {import_id} of tenant {tenant_id} not found")
    now = deps.clock.now()
    files = None
    if job.source_file is not None and deps.files is not None:
        files = write_results(deps, job, now)
        files["results"] = write_results_csv(deps, job)
    elif deps.files is not None:
        files = write_api_results(deps, job)
    if job.status == "CANCELLED":
        # A cancelled import stays cancelled; a file import still gets the result files of its rows.
        deps.imports.finish(tenant_id, import_id, "CANCELLED", now, files=files)
    else:
        deps.imports.finish(
            tenant_id, import_id, "DONE", now, calls_status="DONE" if job.calls else None, files=files
        )
    final = deps.imports.get(tenant_id, import_id)
    return final.calls.as_dict() if final is not None and final.calls is not None else {}


def mark_failed(deps: Deps, tenant_id: str, import_id: str, error: str, cause: str | None) -> None:
    """A state failed for good: the import (and its call stage) is FAILED, with the reason.

    A file import gets its ``summary.json`` saying why (best effort: the failure is recorded either way).
    """
    job = deps.imports.get(tenant_id, import_id)
    if job is None or job.status == "CANCELLED" or (job.status == "FAILED" and job.error):
        return  # cancelled, or failed already (a file that broke while read): the first word stands
    reason = failure_reason(error, cause)
    files = None
    if job.source_file is not None and deps.files is not None:
        try:
            files = write_failure_summary(deps, job, reason)
        except Exception:
            log.exception("import %s: its failure summary could not be written", import_id)
    deps.imports.finish(
        tenant_id,
        import_id,
        "FAILED",
        deps.clock.now(),
        error=reason,
        calls_status="FAILED" if job.calls else None,
        files=files,
    )


def failure_reason(error: str, cause: str | None) -> str:
    """A readable reason from a Catch's ``Error`` and ``Cause`` (a Lambda's cause is its error as JSON)."""
    message = cause or ""
    try:
        parsed = json.loads(message)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("errorMessage"):
        message = str(parsed["errorMessage"])
    reason = f"workflow: {error}" + (f": {message}" if message else "")
    return reason[:1000]
