"""Synchronous imports: a whole request validated, stored and reported inline, then calls handed to the
workflow when the request asked for them."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from bulk_import.core.errors import (
    ImportFailedError,
    InvalidRequestError,
)
from bulk_import.core.model import CallStage, Counts, ImportJob, RowOutcome
from bulk_import.core.ports import Deps, payload_key
from bulk_import.core.tenants import Principal, TenantConfig
from bulk_import.engine import workflow
from bulk_import.engine.files.outputs import FAILED_ROWS, write_api_results
from bulk_import.engine.pipeline import (
    check_follow_up,
    check_record_count,
    failure_cause,
    load_tenant,
    persist,
    read_existing,
)
from bulk_import.kinds.base import ImportKind, ImportResult
from bulk_import.kinds.validation import safe_references as safe_references
from bulk_import.kinds.validation import validate_rows
from bulk_import.rules.limits import option_problems

OptionsT = TypeVar("OptionsT")

log = logging.getLogger(__name__)


def run_inline_import(
    kind: ImportKind[OptionsT],
    request: Mapping[str, Any],
    rows: Sequence[Any],
    principal: Principal,
    deps: Deps,
    *,
    source: str = "api",
    indexes: Sequence[int] | None = None,
) -> ImportResult[OptionsT]:
    """Import ``rows`` synchronously: the whole pipeline, then the import's final counts.

    ``indexes`` (a retry's) gives each row's index in the import it retries; by default a row's index is
    its position. The failed rows as sent are kept in the payload store for a later retry, and the
    import's result files are written before this returns.

    When the request asked for calls (``kind.call_config``) and records were stored, the import stays
    PROCESSING and the workflow is started for its call stage; ``call_results`` says what was handed over.

    Raises
    ------
    InvalidRequestError, NotFoundError
        From the request-level checks, before anything is written.
    ImportFailedError
        Anything unexpected once the import exists: the import is FAILED with the reason and the counts
        of what was stored (``fail_inline_import``), and the error carries its id.
    """
    if indexes is None:
        check_record_count(kind, rows)
    tenant = load_tenant(deps.tenants, principal)
    now = deps.clock.now()
    options = kind.prepare(rows, kind.options(request, tenant, now), tenant, deps)
    check_stored_options(request, kind.records_field)
    calls = check_follow_up(kind, options, deps)
    job = ImportJob(
        import_id=deps.new_id(),
        tenant_id=tenant.tenant_id,
        kind=kind.name,
        source=source,
        status="PROCESSING",
        created_at=now,
        updated_at=now,
        counts=Counts(total=len(rows)),
        options=_jsonable_options(request, kind.records_field),
    )
    deps.imports.save(job)
    outcomes: list[RowOutcome] = []
    try:
        return _import_inline(kind, rows, options, tenant, deps, job, calls, outcomes, indexes)
    except Exception as exc:
        raise fail_inline_import(deps, job, outcomes, exc, indexes) from exc


def _keep_failed_rows(deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome]) -> None:
    # The caller's own rows, kept as sent (a retry imports them again) and never logged; then the
    # import's result files (``job.files``, saved with the import next). Neither may fail an import
    # whose rows are stored already.
    try:
        failed = [{"index": o.index, "row": o.raw} for o in outcomes if o.status == "failed"]
        if failed and deps.payloads is not None:
            deps.payloads.put_json(payload_key(job.tenant_id, job.import_id, FAILED_ROWS), failed)
    except Exception:
        log.exception("import %s: its failed rows could not be kept for a retry", job.import_id)
    try:
        job.files = write_api_results(deps, job, outcomes) or job.files
    except Exception:
        log.exception("import %s: its result files could not be written", job.import_id)


def _import_inline(
    kind: ImportKind[OptionsT],
    rows: Sequence[Any],
    options: OptionsT,
    tenant: TenantConfig,
    deps: Deps,
    job: ImportJob,
    calls: dict[str, str] | None,
    outcomes: list[RowOutcome],
    indexes: Sequence[int] | None = None,
) -> ImportResult[OptionsT]:
    """The steps of ``run_inline_import`` once its import exists; ``outcomes`` is filled as it goes."""
    outcomes.extend(validate_rows(kind, rows, options, tenant))
    if indexes is not None:
        for outcome in outcomes:
            outcome.index = indexes[outcome.index]
    existing = read_existing(kind, outcomes, deps.records, tenant.tenant_id)
    batches = persist(
        kind, outcomes, options, deps.records, tenant.tenant_id, job.import_id, existing=existing
    )

    job.counts = Counts.of(outcomes)
    job.batches = batches
    job.updated_at = deps.clock.now()
    deps.imports.add_rows(job, outcomes)
    # Before the import is saved finished (or its workflow starts): an import seen DONE links to them.
    _keep_failed_rows(deps, job, outcomes)
    result = ImportResult(job=job, options=options, outcomes=outcomes, batches=batches)
    if _cancelled_meanwhile(deps, job):
        if calls is not None:
            result.call_results = workflow.call_results(None, 0, 0, status="CANCELLED")
        return result
    if calls is None or job.counts.succeeded == 0:
        job.status = "DONE"
        job.completed_at = job.updated_at
        deps.imports.save(job)
        if calls is not None:
            result.call_results = workflow.call_results(None, 0, 0, status="NOT_STARTED")
        return result
    # Stored before the workflow starts: from then on only the workflow's own updates touch the import.
    tally = workflow.tally_calls(kind, options, outcomes, tenant, job.updated_at)
    job.status = "PROCESSING"
    job.inserted_at = job.updated_at
    job.calls = CallStage()
    deps.imports.save(job)
    execution_id = workflow.start_follow_up(deps, job, chunked=False)
    result.call_results = workflow.call_results(
        execution_id,
        tally.eligible,
        tally.skipped,
        status="STARTED" if execution_id else "FAILED",
        deferred=tally.deferred,
    )
    if execution_id is None:
        result.call_results["message"] = job.error
    return result


def _cancelled_meanwhile(deps: Deps, job: ImportJob) -> bool:
    """Whether the import was cancelled while its rows were written; if so it is saved CANCELLED.

    The rows written stay written (a synchronous import writes them all in the request, as a chunk being
    written completes), the cancel stands and no call is requested: its workflow is never started.
    """
    current = deps.imports.get(job.tenant_id, job.import_id)
    if current is None or current.status != "CANCELLED":
        return False
    job.status = "CANCELLED"
    job.completed_at = current.completed_at or job.updated_at
    deps.imports.save(job)
    return True


def fail_inline_import(
    deps: Deps,
    job: ImportJob,
    outcomes: Sequence[RowOutcome],
    exc: BaseException,
    indexes: Sequence[int] | None = None,
) -> ImportFailedError:
    """Mark a synchronous import FAILED after ``exc``, with the reason and what was stored.

    Rows stored before the failure count as succeeded; every other row that was not failed for its
    own content fails with ``ROW_NOT_IMPORTED``. Recording the failure is best effort (the store may be
    what failed); the returned error carries the import's id either way.
    """
    log.error("import %s stopped on an unexpected error", job.import_id, exc_info=exc)
    judged = {o.index: o for o in outcomes}
    rows: list[RowOutcome] = []
    for index in indexes if indexes is not None else range(job.counts.total):
        outcome = judged.get(index) or RowOutcome(index=index, raw=None)
        if outcome.status == "valid" or index not in judged:
            outcome.fail("row", ROW_NOT_IMPORTED)
        rows.append(outcome)
    counts = Counts.of(rows)
    cause = failure_cause(exc)
    stored = f"{counts.succeeded:,} of {counts.total:,} rows were stored"
    job.status, job.counts = "FAILED", counts
    job.error = f"the import stopped on an unexpected error ({cause}); {stored}"
    job.updated_at = job.completed_at = deps.clock.now()
    try:
        deps.imports.add_rows(job, [o for o in rows if o.errors])
    except Exception:
        log.exception("import %s: its row errors could not be recorded", job.import_id)
    try:
        deps.imports.save(job)
    except Exception:
        log.exception("import %s: its failure could not be recorded", job.import_id)
    return ImportFailedError(
        f"the import failed before it finished: {stored}; the others were not (GET "
        f"/v1/imports/{job.import_id} says which)",
        {"importId": job.import_id},
    )


def check_stored_options(request: Mapping[str, Any], records_field: str | None = None) -> None:
    """Refuse a request whose own options could not be stored with its import (400, nothing written).

    Raises
    ------
    InvalidRequestError
        A text option over 200 characters or with control characters (``callConfig.agentId: at most 200
        characters``); every problem is listed.
    """
    problems = option_problems({k: v for k, v in request.items() if k != records_field})
    if problems:
        raise InvalidRequestError("; ".join(problems[:5]), {"errors": problems})


def _jsonable_options(request: Mapping[str, Any], records_field: str) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k != records_field and v is not None}


#: Rows a failed synchronous import had not stored when it stopped.
ROW_NOT_IMPORTED = "row: not stored: the import stopped on an unexpected error before this row; send it again"
