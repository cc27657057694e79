"""Asynchronous imports (SPEC 4): store the request, answer at once, process chunks from a queue.

Exactly-once effect under at-least-once delivery:

* a row's record key is deterministic and writes are idempotent puts, so a chunk written twice
  stores the same records;
* per-row results and errors are keyed by row index, so writing them twice changes nothing;
* a chunk's counts reach its import in one transaction together with a marker item for that chunk,
  conditional on the marker not existing, so a redelivered chunk is never counted twice;
* the import becomes DONE (once) when every chunk is accounted for; an import with a workflow (calls)
  stays PROCESSING and its workflow is resumed instead (``workflow.insertion_complete``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulk_import.domain import workflow
from bulk_import.domain.errors import NotFoundError, WorkflowUnavailableError
from bulk_import.domain.kinds import get_kind
from bulk_import.domain.kinds.base import ImportKind
from bulk_import.domain.model import CallStage, Counts, ImportJob, RowOutcome
from bulk_import.domain.pipeline import (
    Deps,
    check_follow_up,
    check_record_count,
    load_tenant,
    payload_key,
    persist,
    read_existing,
    validate_rows,
)
from bulk_import.domain.tenants import Principal

#: Chunk bodies above this size travel through the payload store; SQS messages are limited to 256 KiB.
INLINE_CHUNK_BYTES = 200_000


@dataclass
class ChunkMessage:
    """What a chunk worker receives: which rows of which import, inline or by payload key."""

    tenant_id: str
    import_id: str
    kind: str
    chunk: int
    start: int
    count: int
    rows: list[Any] | None = None
    rows_key: str | None = None
    duplicates: dict[int, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The message body."""
        body: dict[str, Any] = {
            "v": 1,
            "tenantId": self.tenant_id,
            "importId": self.import_id,
            "kind": self.kind,
            "chunk": self.chunk,
            "start": self.start,
            "count": self.count,
        }
        if self.rows is not None:
            body["rows"] = self.rows
        if self.rows_key is not None:
            body["rowsKey"] = self.rows_key
        if self.duplicates:
            body["duplicates"] = {str(k): v for k, v in self.duplicates.items()}
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ChunkMessage:
        """Parse a message body (raises KeyError/ValueError on a malformed one)."""
        return cls(
            tenant_id=str(body["tenantId"]),
            import_id=str(body["importId"]),
            kind=str(body["kind"]),
            chunk=int(body["chunk"]),
            start=int(body["start"]),
            count=int(body["count"]),
            rows=body.get("rows"),
            rows_key=body.get("rowsKey"),
            duplicates={int(k): int(v) for k, v in (body.get("duplicates") or {}).items()},
        )


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


def split_rows(
    deps: Deps, kind: ImportKind[Any], job: ImportJob, rows: Iterable[Any], *, start: int = 0
) -> Iterator[ChunkMessage]:
    """Cut rows into chunk messages (streaming: only one chunk is held at a time).

    Rows pass through ``kind.before_split`` and ``kind.dedupe_key``: a key seen earlier in the import
    marks the later row a duplicate, whichever chunk either lands in.
    """
    assert deps.payloads is not None
    seen: dict[str, int] = {}
    chunk: list[Any] = []
    dupes: dict[int, int] = {}
    number = 0
    index = start
    first = start

    def flush() -> ChunkMessage:
        nonlocal number
        msg = ChunkMessage(
            job.tenant_id, job.import_id, kind.name, number, first, len(chunk), duplicates=dict(dupes)
        )
        body = json.dumps(chunk, default=str, separators=(",", ":"))
        if len(body.encode()) > INLINE_CHUNK_BYTES:
            msg.rows_key = payload_key(job.tenant_id, job.import_id, f"chunk-{number:06d}.json")
            assert deps.payloads is not None
            deps.payloads.put_json(msg.rows_key, chunk)
        else:
            msg.rows = list(chunk)
        number += 1
        return msg

    for raw in rows:
        row = kind.before_split(raw, index, job.import_id)
        key = kind.dedupe_key(row)
        if key is not None:
            if key in seen:
                dupes[index] = seen[key]
            else:
                seen[key] = index
        chunk.append(row)
        index += 1
        if len(chunk) >= kind.chunk_size:
            yield flush()
            chunk, dupes, first = [], {}, index
    if chunk:
        yield flush()


def start_async_import(
    kind: ImportKind[Any],
    request: Mapping[str, Any],
    rows: Sequence[Any],
    principal: Principal,
    deps: Deps,
    *,
    source: str = "api",
    max_records: int | None = None,
) -> ImportJob:
    """Check the request, store it, queue its chunks and return the QUEUED import (answered 202).

    ``max_records`` overrides the kind's per-request limit for imports that are not one API request.

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
    calls = check_follow_up(kind, kind.options(request, tenant, deps.clock.now()), deps)
    options = {k: v for k, v in request.items() if k != kind.records_field and v is not None}
    job = new_job(deps, kind, tenant.tenant_id, source, options)
    job.counts = Counts(total=len(rows))
    if calls is not None:
        job.calls = CallStage()
    deps.payloads.put_json(
        payload_key(job.tenant_id, job.import_id, "request.json"), {**request, kind.records_field: list(rows)}
    )
    messages = list(split_rows(deps, kind, job, rows))
    job.chunks_total = len(messages)
    # The import exists before its first chunk can reach a worker, and its workflow (waiting for the
    # chunks) before the last one can be accounted for.
    deps.imports.save(job)
    if job.calls is not None and workflow.start_follow_up(deps, job, chunked=True) is None:
        raise WorkflowUnavailableError(
            job.error or "the workflow could not be started", {"importId": job.import_id}
        )
    for i in range(0, len(messages), 10):
        deps.queue.send([m.to_json() for m in messages[i : i + 10]])
    return job


def process_chunk(message: ChunkMessage, deps: Deps) -> ImportJob | None:
    """Validate and write one chunk, record its rows and counts once; return the job if it completed it.

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
    if job.inserted_at is not None:
        # Every chunk was accounted for already; telling the workflow again is harmless, and heals a
        # resume that failed when the last chunk was counted.
        workflow.insertion_complete(deps, job)
        return None
    try:
        return _process_chunk(message, job, deps)
    except Exception as exc:
        deps.imports.save_chunk_error(
            message.tenant_id, message.import_id, message.chunk, f"{type(exc).__name__}: {exc}"
        )
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
        kind, rows, options, tenant, start_index=message.start, duplicates=message.duplicates
    )
    existing = read_existing(kind, outcomes, deps.records, job.tenant_id)
    persist(kind, outcomes, options, deps.records, job.tenant_id, job.import_id, existing=existing)
    deps.imports.add_rows(job, outcomes, [kind.row_result(o) for o in outcomes])
    return _account(deps, job, message.chunk, Counts.of(outcomes))


def _account(deps: Deps, job: ImportJob, chunk: int, counts: Counts) -> ImportJob | None:
    counts.total = 0  # the import's total was set when it was split
    now = deps.clock.now()
    deps.imports.apply_chunk(job.tenant_id, job.import_id, chunk, counts, now)
    done = deps.imports.complete_if_done(job.tenant_id, job.import_id, now, final=not job.has_follow_up)
    if done is not None:
        if done.has_follow_up:
            workflow.insertion_complete(deps, done)
        if deps.on_complete is not None:
            deps.on_complete(done)
    return done


def fail_chunk(message: ChunkMessage, deps: Deps, reason: str | None = None) -> ImportJob | None:
    """Mark every row of a dead-lettered chunk failed with the reason, and count them once."""
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
        o = RowOutcome(index=message.start + offset, raw=raw, refs=kind.references(raw))
        o.fail("row", f"row: not processed, its chunk failed repeatedly ({why})")
        outcomes.append(o)
    deps.imports.add_rows(job, outcomes, [kind.row_result(o) for o in outcomes])
    return _account(deps, job, message.chunk, Counts(failed=len(outcomes)))


def job_view(deps: Deps, principal: Principal, kind_name: str, job_id: str) -> dict[str, Any]:
    """An async import in its kind's own shape, with every row's result (404 for other kinds/tenants)."""
    job = deps.imports.get(principal.tenant_id, job_id)
    if job is None or job.kind != kind_name:
        raise NotFoundError(f"job {job_id} not found")
    kind = get_kind(kind_name)
    return kind.job_view(job, deps.imports.list_results(principal.tenant_id, job_id))
