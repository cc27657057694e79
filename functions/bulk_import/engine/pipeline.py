"""The import pipeline, written once for every kind: validate, normalize, dedupe, persist, report.

Kinds plug in through ``ImportKind``; storage is reached only through the ports, so this module is
pure Python and runs the same inline (API), in chunk workers (SQS) and in dry runs (``validate``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bulk_import.core.errors import (
    BulkImportError,
    ImportFailedError,
    InvalidRequestError,
    NotAvailableError,
    NotFoundError,
    TransientError,
)
from bulk_import.core.model import CallStage, Counts, ImportJob, RowOutcome, StoredRecord, WriteFailure
from bulk_import.core.ports import (
    ChunkQueue,
    Clock,
    EventBus,
    FileStore,
    IdFactory,
    ImportRepository,
    LmsClient,
    PayloadStore,
    RecordStore,
    RefusedWrite,
    TenantDirectory,
    Workflow,
)
from bulk_import.core.tenants import Principal, TenantConfig
from bulk_import.kinds.base import ImportKind, ImportResult
from bulk_import.kinds.validation import ROW_NOT_HANDLED, validate_rows
from bulk_import.kinds.validation import safe_references as safe_references
from bulk_import.rules.limits import stored_size_problem

OptionsT = TypeVar("OptionsT")

log = logging.getLogger(__name__)


@dataclass
class Deps:
    """The ports a use case needs, built once per container by the entry point (or by a test)."""

    tenants: TenantDirectory
    records: RecordStore
    imports: ImportRepository
    clock: Clock
    new_id: IdFactory
    payloads: PayloadStore | None = None
    queue: ChunkQueue | None = None
    #: Tenants' loan management systems (customers sent with ``sync``); None: no LMS reachable.
    lms: LmsClient | None = None
    #: Called once when every chunk of an async import is accounted for (after the workflow, if any,
    #: was told).
    on_complete: Callable[[ImportJob], None] | None = None
    #: The workflow that sequences imports asking for calls (SPEC 5); None: calls cannot be asked for.
    workflow: Workflow | None = None
    #: The bus ``CallRequested`` events go to (the workflow's call stage).
    events: EventBus | None = None
    #: Dropped files and result files (file imports, SPEC 6); None: no file imports on this deployment.
    files: FileStore | None = None


def payload_key(tenant_id: str, import_id: str, name: str) -> str:
    """Object key of an import's stored payloads; tenant first, like every key."""
    return f"payloads/{tenant_id}/{import_id}/{name}"


def check_follow_up(kind: ImportKind[OptionsT], options: OptionsT, deps: Deps) -> dict[str, str] | None:
    """The call configuration when the request asked for calls, checked before anything is written.

    Raises
    ------
    NotAvailableError
        Calls were asked for but this deployment has no workflow to request them (501).
    """
    config = kind.call_config(options)
    if config is not None and deps.workflow is None:
        raise NotAvailableError("initiateCall: call initiation is not configured on this deployment")
    return config


def persist(
    kind: ImportKind[OptionsT],
    outcomes: Sequence[RowOutcome],
    options: OptionsT,
    store: RecordStore,
    tenant_id: str,
    import_id: str,
    *,
    existing: Mapping[str, Any] | None = None,
    retry_later: bool = False,
) -> int:
    """Write the valid outcomes in batches of ``kind.write_batch_size`` and mark each row's status.

    A record over the stored size limit, or one storage refuses (a value it cannot hold), fails alone
    with a message naming the limit. A row still unwritten after the store's retries (throttling, a
    service error) is marked failed with the reason and "send it again", never dropped; with
    ``retry_later`` (chunk workers, whose queue delivers the chunk again) every batch is written and
    then ``TransientError`` is raised instead. ``existing`` (key -> stored data, for ``reads_existing``
    kinds) is checked by ``kind.reconcile`` first and lets the status say ``updated`` instead of
    ``created``.

    Raises
    ------
    TransientError
        ``retry_later`` and some records are still unwritten after the store's retries.

    Returns
    -------
    int
        The number of write batches processed.
    """
    if existing is not None:
        for o in outcomes:
            if o.key is not None and o.status == "valid":
                try:
                    kind.reconcile(o, existing.get(o.key), import_id)
                except Exception:
                    log.exception("%s: row %d: not compared with its stored version", kind.name, o.index)
                    o.fail("row", ROW_NOT_HANDLED)
                if o.errors:
                    o.key = None
    valid = [o for o in outcomes if o.key is not None and o.status == "valid"]
    updates = {
        k for k, v in (existing or {}).items() if not isinstance(v, Mapping) or v.get("importId") != import_id
    }
    size = kind.write_batch_size
    batches = math.ceil(len(valid) / size) if valid else 0
    retry: list[WriteFailure] = []
    for b in range(batches):
        part = _storable(kind, valid[b * size : (b + 1) * size], options)
        if not part:
            continue
        failures = {f.key: f for f in store.put_records(tenant_id, import_id, [s for _, s in part])}
        for o, _ in part:
            failure = failures.get(o.key or "")
            if failure is None:
                o.status = "updated" if o.key in updates else "created"
            elif isinstance(failure, RefusedWrite):
                o.fail("row", f"row: not stored: {failure.reason}")
            elif retry_later:
                retry.append(failure)
            else:
                o.fail("row", f"row: not stored ({failure.reason}); send it again")
    if retry:
        raise TransientError(f"{len(retry)} records not stored yet ({retry[0].reason})")
    return batches


def _storable(
    kind: ImportKind[OptionsT], part: Sequence[RowOutcome], options: OptionsT
) -> list[tuple[RowOutcome, StoredRecord]]:
    """The rows of one write batch as records, failing alone those that cannot be stored."""
    out: list[tuple[RowOutcome, StoredRecord]] = []
    for o in part:
        try:
            stored = kind.to_stored(o.record or {}, o.key or "", options)
            problem = stored_size_problem(stored.data)
        except Exception:
            log.exception("%s: row %d could not be made a record", kind.name, o.index)
            o.fail("row", "row: not stored: it holds a value that cannot be stored")
            continue
        if problem is not None:
            o.fail("row", f"row: not stored: {problem}")
            continue
        out.append((o, stored))
    return out


def load_tenant(tenants: TenantDirectory, principal: Principal) -> TenantConfig:
    """Return the caller's tenant configuration (a key whose tenant is gone answers 404)."""
    tenant = tenants.load_config(principal.tenant_id)
    if tenant is None:
        raise NotFoundError(f"tenant {principal.tenant_id} is not configured")
    return tenant


def check_record_count(kind: ImportKind[Any], rows: Sequence[Any], max_records: int | None = None) -> None:
    """Reject requests with no rows or more than allowed (400, nothing written).

    ``max_records`` defaults to the kind's per-request limit; imports that do not come from one API
    request (file drops) pass their own.
    """
    field = kind.records_field
    limit = kind.max_records if max_records is None else max_records
    if len(rows) == 0:
        raise InvalidRequestError(f"{field}: at least 1 record is required")
    if len(rows) > limit:
        raise InvalidRequestError(f"{field}: at most {limit:,} records per request, got {len(rows):,}")


def run_inline_import(
    kind: ImportKind[OptionsT],
    request: Mapping[str, Any],
    rows: Sequence[Any],
    principal: Principal,
    deps: Deps,
    *,
    source: str = "api",
) -> ImportResult[OptionsT]:
    """Import ``rows`` synchronously: the whole pipeline, then the import's final counts.

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
    check_record_count(kind, rows)
    tenant = load_tenant(deps.tenants, principal)
    now = deps.clock.now()
    options = kind.prepare(rows, kind.options(request, tenant, now), tenant, deps)
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
        return _import_inline(kind, rows, options, tenant, deps, job, calls, outcomes)
    except Exception as exc:
        raise fail_inline_import(deps, job, outcomes, exc) from exc


def _import_inline(
    kind: ImportKind[OptionsT],
    rows: Sequence[Any],
    options: OptionsT,
    tenant: TenantConfig,
    deps: Deps,
    job: ImportJob,
    calls: dict[str, str] | None,
    outcomes: list[RowOutcome],
) -> ImportResult[OptionsT]:
    """The steps of ``run_inline_import`` once its import exists; ``outcomes`` is filled as it goes."""
    outcomes.extend(validate_rows(kind, rows, options, tenant))
    existing = read_existing(kind, outcomes, deps.records, tenant.tenant_id)
    batches = persist(
        kind, outcomes, options, deps.records, tenant.tenant_id, job.import_id, existing=existing
    )
    from bulk_import.engine import workflow  # deferred: the workflow module builds on this one

    job.counts = Counts.of(outcomes)
    job.batches = batches
    job.updated_at = deps.clock.now()
    deps.imports.add_rows(job, outcomes)
    result = ImportResult(job=job, options=options, outcomes=outcomes, batches=batches)
    if calls is None or job.counts.succeeded == 0:
        job.status = "DONE"
        job.completed_at = job.updated_at
        deps.imports.save(job)
        if calls is not None:
            result.call_results = workflow.call_results(None, 0, 0, status="NOT_STARTED")
        return result
    # Stored before the workflow starts: from then on only the workflow's own updates touch the import.
    eligible, skipped = workflow.count_calls(kind, options, outcomes)
    job.status = "PROCESSING"
    job.inserted_at = job.updated_at
    job.calls = CallStage()
    deps.imports.save(job)
    execution_id = workflow.start_follow_up(deps, job, chunked=False)
    result.call_results = workflow.call_results(
        execution_id, eligible, skipped, status="STARTED" if execution_id else "FAILED"
    )
    if execution_id is None:
        result.call_results["message"] = job.error
    return result


#: Rows a failed synchronous import had not stored when it stopped.
ROW_NOT_IMPORTED = "row: not stored: the import stopped on an unexpected error before this row; send it again"


def fail_inline_import(
    deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome], exc: BaseException
) -> ImportFailedError:
    """Mark a synchronous import FAILED after ``exc``, with the reason and what was stored.

    Rows stored before the failure count as succeeded; every other row that was not failed for its
    own content fails with ``ROW_NOT_IMPORTED``. Recording the failure is best effort (the store may be
    what failed); the returned error carries the import's id either way.
    """
    log.error("import %s stopped on an unexpected error", job.import_id, exc_info=exc)
    judged = {o.index: o for o in outcomes}
    rows: list[RowOutcome] = []
    for index in range(job.counts.total):
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


def failure_cause(exc: BaseException) -> str:
    """What stopped an import or a chunk, in a few words: the message of the service's own errors, else
    the exception's type, never its text (which may hold data, or an emulator's error page)."""
    if isinstance(exc, BulkImportError):
        return exc.message[:200]
    if isinstance(exc, TransientError):
        return str(exc)[:200]
    return type(exc).__name__


def read_existing(
    kind: ImportKind[Any], outcomes: Sequence[RowOutcome], store: RecordStore, tenant_id: str
) -> dict[str, dict[str, Any]] | None:
    """The stored versions of the valid rows' keys, for kinds that reconcile against them."""
    if not kind.reads_existing:
        return None
    keys = [o.key for o in outcomes if o.key is not None]
    return store.get_records(tenant_id, kind.entity, keys) if keys else {}


def _jsonable_options(request: Mapping[str, Any], records_field: str) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k != records_field and v is not None}
