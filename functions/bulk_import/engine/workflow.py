"""The import workflow: insertion, then calls in batches of 500, then finalization.

One state machine (``bulk_import/workflow/definition.asl.json``) sequences every import that asked for
calls; its task states call the use cases below through one Lambda (``entrypoints/workflow.py``):

* **insertion**: nothing to wait for when the records were written inline. A chunked import's execution
  waits on a task token (``await_insertion`` stores it on the import); whichever comes second, the token
  or the last chunk's accounting (``insertion_complete``), resumes the execution, so exactly one does.
* **calls**: ``engine/calls.py``: ``prepare_calls`` sorts the import's stored customers into groups by
  the opening of their calling window (those inside it now first), their keys in batches of 500 in the
  payload store; the state machine waits for each group's opening, then its inline Map runs
  ``request_calls`` once per batch. State payloads carry only ids, openings and batch numbers, never
  records.
* **finalization**: ``finalize`` writes a file import's result files and sets DONE; the Catch of every
  state runs ``mark_failed`` (FAILED and why). File imports go through the workflow even without calls:
  their finalization writes ``summary.json`` and ``errors.csv`` (``engine/files``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from bulk_import.core.errors import ConflictError, NotFoundError
from bulk_import.core.model import CallStatus, ImportJob
from bulk_import.core.ports import Deps
from bulk_import.engine.calls import (  # noqa: F401 - the call stage, used through this module too
    CALL_REQUESTED,
    EVENT_SOURCE,
    PUBLISH_ATTEMPTS,
    PUBLISH_BACKOFF_SECONDS,
    STATE_BYTES,
    CallTally,
    batch_key,
    call_event,
    call_id,
    call_results,
    prepare_calls,
    publish,
    request_calls,
    tally_calls,
)
from bulk_import.engine.calls_plan import CALL_BATCH_SIZE  # noqa: F401
from bulk_import.engine.files.outputs import (
    write_api_results,
    write_failure_summary,
    write_results,
    write_results_csv,
)

log = logging.getLogger(__name__)


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


# -- finalization ----------------------------------------------------------------------------------------
def finalize(deps: Deps, tenant_id: str, import_id: str) -> dict[str, Any]:
    """The records are stored and the calls callable now requested: the import is DONE.

    Its call stage is DONE too, unless customers wait for their calling window: then it stays running
    (shown ``SCHEDULED``) until ``finish_calls``. The import does not wait for them, because its records
    are what it imported; ``import.completed`` and ``calls.completed`` are two moments. The result files
    (``results.csv``, ``errors.csv``, and a file import's ``summary.json``) are written first, so an
    import seen DONE always links to them. Returns the import's ``calls``.
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
        deps.imports.finish(
            tenant_id, import_id, "CANCELLED", now, calls_status=_cancelled_calls(job), files=files
        )
    else:
        calls_done = job.calls is not None and not job.calls.deferred
        try:
            deps.imports.finish(
                tenant_id, import_id, "DONE", now, calls_status="DONE" if calls_done else None, files=files
            )
        except ConflictError:
            # Cancelled while the files were written: the cancel answered, so it stands; the files are
            # the import's all the same (its call stage the cancel ended already), and a file import's
            # summary is written again to say how it ended.
            cancelled = deps.imports.get(tenant_id, import_id)
            if cancelled is not None and cancelled.source_file is not None and files is not None:
                files.update(write_results(deps, cancelled, now))
            deps.imports.finish(tenant_id, import_id, None, now, files=files)
    return _calls_of(deps, tenant_id, import_id)


def finish_calls(deps: Deps, tenant_id: str, import_id: str) -> dict[str, Any]:
    """Every group deferred to a later window was published: the call stage is DONE (the import is already).

    A cancelled import's call stage is CANCELLED, as the cancel set it. Returns the import's ``calls``.
    """
    job = deps.imports.get(tenant_id, import_id)
    if job is None:
        raise NotFoundError(f"import {import_id} of tenant {tenant_id} not found")
    if job.calls is not None and job.status != "CANCELLED":
        deps.imports.finish(tenant_id, import_id, None, deps.clock.now(), calls_status="DONE")
    elif _cancelled_calls(job) is not None:
        deps.imports.finish(tenant_id, import_id, None, deps.clock.now(), calls_status="CANCELLED")
    return _calls_of(deps, tenant_id, import_id)


def _cancelled_calls(job: ImportJob) -> CallStatus | None:
    # The cancel marks a pending or running call stage CANCELLED, but PrepareCalls, when it was sorting
    # the customers as the cancel landed, then records its schedule as RUNNING: no call follows a cancel
    # (every batch reads the import first), so the stage ends CANCELLED rather than running for ever.
    if job.calls is not None and job.calls.status in ("PENDING", "RUNNING"):
        return "CANCELLED"
    return None


def _calls_of(deps: Deps, tenant_id: str, import_id: str) -> dict[str, Any]:
    final = deps.imports.get(tenant_id, import_id)
    return final.calls.as_dict() if final is not None and final.calls is not None else {}


def mark_failed(deps: Deps, tenant_id: str, import_id: str, error: str, cause: str | None) -> None:
    """A state failed for good: the import (and its call stage) is FAILED, with the reason.

    Once the import is DONE (a deferred group failed), only its call stage is FAILED.

    A file import gets its ``summary.json`` saying why (best effort: the failure is recorded either way).
    """
    job = deps.imports.get(tenant_id, import_id)
    if job is None or job.status == "CANCELLED" or (job.status == "FAILED" and job.error):
        return  # cancelled, or failed already (a file that broke while read): the first word stands
    reason = failure_reason(error, cause)
    if job.status == "DONE":
        # Only deferred calls were left: the records stay imported, the call stage failed.
        if job.calls is not None:
            deps.imports.finish(
                tenant_id, import_id, None, deps.clock.now(), error=reason, calls_status="FAILED"
            )
        return
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
