"""Asynchronous imports: store the request, answer at once, process chunks from a queue.

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

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bulk_import.core.errors import (
    BulkImportError,
    NotFoundError,
    TransientError,
    WorkflowUnavailableError,
)
from bulk_import.core.model import CallStage, Counts, ImportJob, RowOutcome
from bulk_import.core.ports import Deps, payload_key
from bulk_import.core.tenants import Principal
from bulk_import.engine import workflow
from bulk_import.engine.files.outputs import INDEXES_FIELD, REQUEST
from bulk_import.engine.messages import MAX_REASON_CHARS, batches, body_bytes
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

#: A chunk message whose body (rows inline) would pass this many bytes carries its rows through the
#: payload store instead: a message stays a quarter of SQS's 1 MiB, so several fit one batch.
INLINE_CHUNK_BYTES = 256 * 1024


@dataclass
class ChunkMessage:
    """What a chunk worker receives: which rows of which import, inline or by payload key.

    ``duplicates`` (index -> first index) marks rows repeating an earlier row of the import, with the
    field to report in ``duplicate_fields`` when it is not the kind's default; ``skipped`` and
    ``rejected`` (index -> reason) are rows a file reader judged already.
    """

    tenant_id: str
    import_id: str
    kind: str
    chunk: int
    start: int
    count: int
    rows: list[Any] | None = None
    rows_key: str | None = None
    duplicates: dict[int, int] = field(default_factory=dict)
    duplicate_fields: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)
    rejected: dict[int, str] = field(default_factory=dict)

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
        for name, value in (
            ("duplicates", self.duplicates),
            ("duplicateFields", self.duplicate_fields),
            ("skipped", self.skipped),
            ("rejected", self.rejected),
        ):
            if value:
                body[name] = {str(k): v for k, v in value.items()}
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> ChunkMessage:
        """Parse a message body (raises KeyError/ValueError on a malformed one)."""

        def by_index(name: str) -> dict[int, Any]:
            return {int(k): v for k, v in (body.get(name) or {}).items()}

        return cls(
            tenant_id=str(body["tenantId"]),
            import_id=str(body["importId"]),
            kind=str(body["kind"]),
            chunk=int(body["chunk"]),
            start=int(body["start"]),
            count=int(body["count"]),
            rows=body.get("rows"),
            rows_key=body.get("rowsKey"),
            duplicates={k: int(v) for k, v in by_index("duplicates").items()},
            duplicate_fields={k: str(v) for k, v in by_index("duplicateFields").items()},
            skipped={k: str(v) for k, v in by_index("skipped").items()},
            rejected={k: str(v) for k, v in by_index("rejected").items()},
        )


@dataclass(slots=True)
class SplitRow:
    """One row on its way into a chunk: the row, and a file reader's verdict on it, if any."""

    raw: Any
    skip: str | None = None
    reject: str | None = None


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


def _digest(namespace: str, value: str) -> int:
    """A 96-bit digest of a key within its namespace (collisions: about 1 in 10^16 for a million keys)."""
    data = f"{namespace}\0{value}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=12).digest(), "big")


def split_rows(
    deps: Deps,
    kind: ImportKind[Any],
    job: ImportJob,
    rows: Iterable[Any],
    *,
    start: int = 0,
    options: Any = None,
) -> Iterator[ChunkMessage]:
    """Cut rows into chunk messages (streaming: only one chunk is held at a time).

    Rows pass through ``kind.before_split`` and ``kind.dedupe_key``: a key seen earlier in the import
    marks the later row a duplicate, whichever chunk either lands in; so does a value of one of
    ``kind.unique_refs`` used by an earlier row. ``options`` (the import's) are handed to
    ``dedupe_key``.
    """
    return split_file_rows(deps, kind, job, (SplitRow(raw) for raw in rows), start=start, options=options)


def split_file_rows(
    deps: Deps,
    kind: ImportKind[Any],
    job: ImportJob,
    rows: Iterable[SplitRow],
    *,
    start: int = 0,
    options: Any = None,
) -> Iterator[ChunkMessage]:
    """``split_rows`` for rows that may carry a verdict already (skipped or rejected file rows).

    Judged rows travel in their chunk like any other (so every row is accounted for there) but take no
    part in duplicate detection.
    """
    assert deps.payloads is not None
    # Keys seen so far, as 96-bit digests: a file of a million rows keeps two million of them.
    seen: dict[int, int] = {}
    chunk: list[Any] = []
    dupes: dict[int, int] = {}
    dupe_fields: dict[int, str] = {}
    skipped: dict[int, str] = {}
    rejected: dict[int, str] = {}
    number = 0
    index = start
    first = start

    def flush() -> ChunkMessage:
        nonlocal number
        msg = ChunkMessage(
            job.tenant_id,
            job.import_id,
            kind.name,
            number,
            first,
            len(chunk),
            duplicates=dict(dupes),
            duplicate_fields=dict(dupe_fields),
            skipped={i: why[:MAX_REASON_CHARS] for i, why in skipped.items()},
            rejected={i: why[:MAX_REASON_CHARS] for i, why in rejected.items()},
        )
        msg.rows = list(chunk)
        if body_bytes(msg.to_json()) > INLINE_CHUNK_BYTES:
            # Measured on the whole body as sent: rows of any size, in any alphabet, fit a message.
            msg.rows = None
            msg.rows_key = payload_key(job.tenant_id, job.import_id, f"chunk-{number:06d}.json")
            assert deps.payloads is not None
            deps.payloads.put_json(msg.rows_key, chunk)
        number += 1
        return msg

    for item in rows:
        if item.skip is not None:
            skipped[index] = item.skip
            row = item.raw
        elif item.reject is not None:
            rejected[index] = item.reject
            row = item.raw
        else:
            row = kind.before_split(item.raw, index, job.import_id)
            key = kind.dedupe_key(row, options)
            if key is not None:
                mark = _digest("k", key)
                if mark in seen:
                    dupes[index] = seen[mark]
                else:
                    seen[mark] = index
            if kind.unique_refs and index not in dupes:
                refs = kind.references(row)
                for name in kind.unique_refs:
                    if name not in refs:
                        continue
                    mark = _digest(name, refs[name])
                    if mark in seen:
                        dupes[index], dupe_fields[index] = seen[mark], name
                        break
                    seen[mark] = index
        chunk.append(row)
        index += 1
        if len(chunk) >= kind.chunk_size:
            yield flush()
            chunk, dupes, dupe_fields, first = [], {}, {}, index
            skipped, rejected = {}, {}
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
        messages = list(split_rows(deps, kind, job, rows, options=kind_options))
    else:
        stored[INDEXES_FIELD] = list(indexes)
        messages = split_indexed_rows(deps, kind, job, list(zip(indexes, rows, strict=True)), kind_options)
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


def split_indexed_rows(
    deps: Deps, kind: ImportKind[Any], job: ImportJob, rows: list[tuple[int, Any]], options: Any
) -> list[ChunkMessage]:
    """Chunk messages of rows that keep their index in an earlier import (``(index, raw)`` pairs).

    A chunk covers consecutive indexes: each run of consecutive rows becomes chunks of its own, so
    every row is validated and reported at its original index.
    """
    assert deps.payloads is not None
    runs: list[list[tuple[int, Any]]] = []
    for index, raw in rows:
        if runs and runs[-1][-1][0] == index - 1 and len(runs[-1]) < kind.chunk_size:
            runs[-1].append((index, raw))
        else:
            runs.append([(index, raw)])
    messages: list[ChunkMessage] = []
    for run in runs:
        for message in split_rows(deps, kind, job, [raw for _, raw in run], start=run[0][0], options=options):
            message.chunk = len(messages)
            if message.rows_key is not None:
                # Each run numbers its chunks from 0 (the next run writes the same key): stored again
                # at once under the chunk's own number.
                key = payload_key(job.tenant_id, job.import_id, f"retry-{message.chunk:06d}.json")
                deps.payloads.put_json(key, deps.payloads.get_json(message.rows_key))
                message.rows_key = key
            messages.append(message)
    return messages


def send_chunks(deps: Deps, messages: Iterable[ChunkMessage]) -> int:
    """Send chunk messages in batches of at most 10 entries and ``messages.BATCH_BYTES``; return how many."""
    assert deps.queue is not None
    sent = 0
    for batch in batches(m.to_json() for m in messages):
        deps.queue.send(batch)
        sent += len(batch)
    return sent


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
        # resume that failed when the last chunk was counted.
        workflow.insertion_complete(deps, job)
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
    deps.imports.add_rows(job, outcomes, row_results(kind, outcomes))
    return _account(deps, job, message.chunk, Counts.of(outcomes))


def row_results(kind: ImportKind[Any], outcomes: Sequence[RowOutcome]) -> list[dict[str, Any]]:
    """Each row's result; a row the kind cannot describe still gets one (index, status and errors)."""
    results = []
    for o in outcomes:
        try:
            results.append(kind.row_result(o))
        except Exception:
            results.append({"index": o.index, "status": o.status, "errors": [e.message for e in o.errors]})
    return results


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
    deps.imports.add_rows(job, outcomes, row_results(kind, outcomes))
    return _account(deps, job, message.chunk, Counts(failed=len(outcomes)))
