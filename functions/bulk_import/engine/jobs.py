"""Asynchronous imports: store the request, answer at once, process chunks from a queue.

Exactly-once effect under at-least-once delivery:

* a row's record key is deterministic and writes are idempotent puts, so a chunk written twice
  stores the same records;
* per-row results and errors are keyed by row index, so writing them twice changes nothing;
* a chunk's counts reach its import in one transaction together with a marker item for that chunk,
  conditional on the marker not existing, so a redelivered chunk is never counted twice;
* the import's insertion is complete (once) when every chunk is accounted for: an import with a
  workflow (calls, files) has its workflow resumed (``workflow.insertion_complete``); one without
  writes its result files and becomes DONE with them.

Cutting rows into chunk messages is ``engine.chunks``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from bulk_import.core.errors import (
    BulkImportError,
    ConflictError,
    NotFoundError,
    TransientError,
    WorkflowUnavailableError,
)
from bulk_import.core.model import CallStage, Counts, ImportJob, ImportStatus, RowOutcome
from bulk_import.core.ports import Deps, payload_key
from bulk_import.core.tenants import Principal
from bulk_import.engine import workflow

# The chunks' messages and splitting live in ``engine.chunks``; re-exported for the callers of this module.
from bulk_import.engine.chunks import INLINE_CHUNK_BYTES as INLINE_CHUNK_BYTES
from bulk_import.engine.chunks import ChunkMessage as ChunkMessage
from bulk_import.engine.chunks import SplitRow as SplitRow
from bulk_import.engine.chunks import send_chunks as send_chunks
from bulk_import.engine.chunks import split_file_rows as split_file_rows
from bulk_import.engine.chunks import split_indexed_rows as split_indexed_rows
from bulk_import.engine.chunks import split_rows as split_rows
from bulk_import.engine.files.outputs import INDEXES_FIELD, REQUEST
from bulk_import.engine.files.row_files import keep_failed_rows, write_api_results
from bulk_import.engine.paging import job_view as job_view  # the job routes' use case, re-exported
from bulk_import.engine.pipeline import (
    check_follow_up,
    check_record_count,
    failure_cause,
    load_tenant,
    persist,
    read_existing,
)
from bulk_import.kinds import get_kind
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.validation import safe_references, validate_rows

log = logging.getLogger(__name__)


def new_job(
    deps: Deps, kind: ImportKind[Any], tenant_id: str, source: str, options: dict[str, Any]
) -> ImportJob:
    """A QUEUED import of ``kind``."""
    now = deps.clock.now()
    return ImportJob(
        import_id=deps.new_id(),
        tenant_id=tenant_id,
        kind=kind.name,
        source=source,
        status="QUEUED",
        created_at=now,
        updated_at=now,
        options=options,
    )


def start_async_import(
    kind: ImportKind[Any],
    request: Mapping[str, Any],
    rows: Sequence[Any],
    principal: Principal,
    deps: Deps,
    *,
    source: str = "api",
    max_records: int | None = None,
    indexes: Sequence[int] | None = None,
) -> ImportJob:
    """Check the request, store it, queue its chunks and return the QUEUED import (answered 202).

    ``max_records`` overrides the kind's per-request limit for imports that are not one API request.
    ``indexes`` gives each row the index it keeps from an earlier import (a retry of its failed rows);
    they are stored with the request, so a retry of this import reads them back.

    Raises
    ------
    InvalidRequestError, NotFoundError
        Request-level problems, before anything is stored or queued.
    """
    assert deps.payloads is not None and deps.queue is not None, (
        "async imports need a payload store and a queue"
    )
    check_record_count(kind, rows, max_records)
    tenant = load_tenant(deps.tenants, principal)
    kind_options = kind.options(request, tenant, deps.clock.now())
    calls = check_follow_up(kind, kind_options, deps)
    options = {k: v for k, v in request.items() if k != kind.records_field and v is not None}
    job = new_job(deps, kind, tenant.tenant_id, source, options)
    job.counts = Counts(total=len(rows))
    if calls is not None:
        job.calls = CallStage()
    stored: dict[str, Any] = {**request, kind.records_field: list(rows)}
    if indexes is None:
        messages = list(
            split_rows(deps, kind, job, rows, options=kind_options, inline_bytes=INLINE_CHUNK_BYTES)
        )
    else:
        stored[INDEXES_FIELD] = list(indexes)
        pairs = list(zip(indexes, rows, strict=True))
        messages = split_indexed_rows(deps, kind, job, pairs, kind_options, INLINE_CHUNK_BYTES)
    deps.payloads.put_json(payload_key(job.tenant_id, job.import_id, REQUEST), stored)
    job.chunks_total = len(messages)
    # The import exists before its first chunk can reach a worker, and its workflow (waiting for the
    # chunks) before the last one can be accounted for.
    deps.imports.save(job)
    if job.calls is not None and workflow.start_follow_up(deps, job, chunked=True) is None:
        raise WorkflowUnavailableError(
            job.error or "the workflow could not be started", {"importId": job.import_id}
        )
    send_chunks(deps, messages)
    return job


def process_chunk(message: ChunkMessage, deps: Deps) -> ImportJob | None:
    """Validate and write one chunk, record its rows and counts once; return the job if it completed it.

    Whatever a row holds fails that row alone (``validate_rows``, ``persist``): only failures of the
    stack itself (throttling left after the writer's retries, timeouts, lost connections, an LMS that
    does not answer) fail the chunk, for the queue to deliver it again.

    Raises
    ------
    Exception
        Any failure propagates so the queue redelivers the chunk (the reason is kept on the import).
    """
    job = deps.imports.get(message.tenant_id, message.import_id)
    if job is None:
        raise NotFoundError(f"import {message.import_id} of tenant {message.tenant_id} not found")
    if job.status in ("DONE", "FAILED"):
        return None
    if job.status == "CANCELLED":
        # Checked before anything of the chunk is written: its rows are counted, once, as cancelled.
        return _account(deps, job, message.chunk, Counts(cancelled=message.count))
    if job.inserted_at is not None:
        # Every chunk was accounted for already; telling the workflow again is harmless, and heals a
        # resume that failed when the last chunk was counted (or, without a workflow, an import whose
        # worker stopped before it was finished).
        if job.has_follow_up:
            workflow.insertion_complete(deps, job)
        else:
            finish_import(deps, job)
        return None
    try:
        return _process_chunk(message, job, deps)
    except Exception as exc:
        # Kept in words for the rows' errors, should the chunk reach the dead-letter queue.
        reason = failure_cause(exc)
        if isinstance(exc, (BulkImportError, TransientError)):
            reason = f"{type(exc).__name__}: {reason}"
        deps.imports.save_chunk_error(message.tenant_id, message.import_id, message.chunk, reason)
        raise


def _process_chunk(message: ChunkMessage, job: ImportJob, deps: Deps) -> ImportJob | None:
    kind = get_kind(job.kind)  # the stored import, not the message, says what kind it is
    now = deps.clock.now()
    if job.status == "QUEUED":
        deps.imports.mark_processing(job.tenant_id, job.import_id, now)
    tenant = deps.tenants.load_config(job.tenant_id)
    if tenant is None:
        raise NotFoundError(f"tenant {job.tenant_id} is not configured")
    options = kind.options(job.options, tenant, job.created_at)
    rows = message.rows if message.rows is not None else deps.payloads.get_json(message.rows_key or "")  # type: ignore[union-attr]
    options = kind.prepare(rows, options, tenant, deps)
    outcomes = validate_rows(
        kind,
        rows,
        options,
        tenant,
        start_index=message.start,
        duplicates=message.duplicates,
        duplicate_fields=message.duplicate_fields,
        skipped=message.skipped,
        rejected=message.rejected,
    )
    existing = read_existing(kind, outcomes, deps.records, job.tenant_id)
    # Rows left unwritten by throttling fail the chunk once every other row is written: delivered
    # again, it rewrites the same records and counts each row once.
    tenant_id, import_id = job.tenant_id, job.import_id
    persist(kind, outcomes, options, deps.records, tenant_id, import_id, existing=existing, retry_later=True)
    deps.imports.add_rows(job, outcomes, row_results(kind, outcomes, job.tenant_id))
    _keep_failed_rows(deps, job, outcomes)
    return _account(deps, job, message.chunk, Counts.of(outcomes))


def _keep_failed_rows(deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome]) -> None:
    # The failed rows as sent, for the import's errors.csv (a file import's is read from its file).
    if job.source_file is None and deps.files is not None:
        keep_failed_rows(deps, job, [(o.index, o.raw) for o in outcomes if o.errors])


def row_results(
    kind: ImportKind[Any], outcomes: Sequence[RowOutcome], tenant_id: str
) -> list[dict[str, Any]]:
    """Each row's result, with the ``id`` it is stored under (what ``results.csv`` shows); a row the kind
    cannot describe still gets one (index, status and errors)."""
    results = []
    for o in outcomes:
        try:
            result = kind.row_result(o)
            stored = kind.stored_id(o, tenant_id)
            if stored is not None and "id" not in result:
                result["id"] = stored
        except Exception:
            result = {"index": o.index, "status": o.status, "errors": [e.message for e in o.errors]}
        results.append(result)
    return results


def _account(deps: Deps, job: ImportJob, chunk: int, counts: Counts) -> ImportJob | None:
    """Count a chunk once; the chunk that accounts for the import's last row finishes it.

    The last chunk is told by the repository's conditional update (``complete_if_done``), which marks
    the insertion complete while the import stays PROCESSING. Then an import with a workflow has it
    resumed; one without writes its result files and becomes DONE with them in one update, so an
    import seen DONE always links to its files. A cancelled import gets its files once its last chunk is
    counted as cancelled.
    """
    counts.total = 0  # the import's total was set when it was split
    now = deps.clock.now()
    deps.imports.apply_chunk(job.tenant_id, job.import_id, chunk, counts, now)
    done = deps.imports.complete_if_done(job.tenant_id, job.import_id, now, final=False)
    if done is None:
        if job.status == "CANCELLED" and not job.has_follow_up:
            current = deps.imports.get(job.tenant_id, job.import_id)
            if current is not None and _every_chunk_counted(current) and "results" not in current.files:
                finish_import(deps, current)
        return None
    if done.has_follow_up:
        workflow.insertion_complete(deps, done)
    else:
        done = finish_import(deps, done)
    if deps.on_complete is not None:
        deps.on_complete(done)
    return done


def _every_chunk_counted(job: ImportJob) -> bool:
    return job.chunks_done >= job.chunks_total


def finish_import(deps: Deps, job: ImportJob) -> ImportJob:
    """Write the result files of an import without a workflow whose rows are all accounted for, then
    record them with its final status: DONE, or CANCELLED (and when) if a cancel came first.

    The files are best effort: an import whose files cannot be written still finishes (never stuck), and
    its view writes them when it is read.
    """
    files: dict[str, str] = {}
    try:
        files = write_api_results(deps, job)
    except Exception:
        log.exception("import %s: its result files could not be written", job.import_id)
    now = deps.clock.now()
    current = deps.imports.get(job.tenant_id, job.import_id) or job
    status: ImportStatus
    if current.status == "CANCELLED":
        status, finished = "CANCELLED", current.completed_at or now
    else:
        status, finished = "DONE", now
    try:
        deps.imports.finish(job.tenant_id, job.import_id, status, finished, files=files or None)
    except ConflictError:
        # Cancelled since it was read: the cancel answered, so it stands, with the files written.
        fresh = deps.imports.get(job.tenant_id, job.import_id) or current
        status, finished = "CANCELLED", fresh.completed_at or now
        deps.imports.finish(job.tenant_id, job.import_id, None, finished, files=files or None)
    current.status, current.completed_at, current.updated_at = status, finished, finished
    current.files = {**(current.files or {}), **files}
    return current


def fail_chunk(message: ChunkMessage, deps: Deps, reason: str | None = None) -> ImportJob | None:
    """Mark every row of a dead-lettered chunk failed with the reason, and count them once.

    A chunk reaches the dead-letter queue only for failures of the stack (rows' own problems fail the
    rows), so its rows may be sent again.
    """
    job = deps.imports.get(message.tenant_id, message.import_id)
    if job is None:
        return None
    kind = get_kind(job.kind)
    why = (
        reason or deps.imports.get_chunk_error(job.tenant_id, job.import_id, message.chunk) or "unknown error"
    )
    rows: list[Any] = [None] * message.count
    try:
        loaded = message.rows if message.rows is not None else deps.payloads.get_json(message.rows_key or "")  # type: ignore[union-attr]
        rows = list(loaded)
    except Exception:
        pass
    outcomes = []
    for offset in range(message.count):
        raw = rows[offset] if offset < len(rows) else None
        o = RowOutcome(index=message.start + offset, raw=raw, refs=safe_references(kind, raw))
        o.fail("row", f"row: not processed, its chunk failed repeatedly ({why})")
        outcomes.append(o)
    deps.imports.add_rows(job, outcomes, row_results(kind, outcomes, job.tenant_id))
    _keep_failed_rows(deps, job, [o for o in outcomes if o.raw is not None])
    return _account(deps, job, message.chunk, Counts(failed=len(outcomes)))
