"""Dry runs of the bulk routes (``?dryRun=true``): the real request's parsing, rules and tenant look-ups,
and nothing stored.

A dry run runs the same steps as the request it stands for, with ports that read but never write: the
tenant's campaigns, task types, timelines, contacts and sources, the stored records an import compares
with (existing payments, customers) and the LMS are read as usual; record writes succeed without
storing anything, and no import, job, chunk message, event or workflow is created. An asynchronous
kind's rows are split and judged chunk by chunk exactly as its workers would judge them, inline.

The answer is the body the real request gives once finished, with ``"dryRun": true``,
``"dryRunStatus"`` (the status the real request would answer) and no import id. A job view shows the
counts of every row and the first page of per-row results (``paging.first_page``: at most 1,000 rows
and 1 MB); ``truncated`` says when rows beyond it are counted only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.model import Counts, StoredRecord, WriteFailure
from bulk_import.core.ports import Deps
from bulk_import.core.tenants import Principal
from bulk_import.engine import workflow
from bulk_import.engine.jobs import new_job, row_results, split_rows
from bulk_import.engine.paging import first_page
from bulk_import.engine.pipeline import (
    check_follow_up,
    check_record_count,
    load_tenant,
    persist,
    read_existing,
)
from bulk_import.kinds.base import ImportKind, ImportResult
from bulk_import.kinds.validation import validate_rows
from bulk_import.usecases.sync_imports import check_stored_options

#: The names an answer may carry an import's id under; a dry run has no import.
IMPORT_ID_FIELDS = ("importId", "import_id", "jobId", "job_id")
#: ``callResults.status`` of a dry run whose records would have had calls requested.
CALLS_NOT_REQUESTED = "DRY_RUN"


def dry_run_flag(value: str | None) -> bool:
    """The ``dryRun`` query parameter: ``true`` or ``false`` in any case; absent means false.

    Raises
    ------
    InvalidRequestError
        Any other value (``1``, ``yes``, empty): a typo must not turn a dry run into a real import.
    """
    if value is None:
        return False
    text = value.strip().lower()
    if text not in ("true", "false"):
        raise InvalidRequestError("dryRun: must be true or false")
    return text == "true"


class _ReadOnlyRecords:
    """The record store of a dry run: reads reach the real store, writes store nothing."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        return []

    def get_records(
        self, tenant_id: str, entity: str, keys: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        return dict(self._store.get_records(tenant_id, entity, keys, fields))

    def iter_import_records(
        self, tenant_id: str, import_id: str, entity: str, fields: Sequence[str] | None = None
    ) -> Iterator[StoredRecord]:
        return iter(())


class _MemoryPayloads:
    """Chunk payloads of a dry run, kept in memory for the length of the request."""

    def __init__(self) -> None:
        self._items: dict[str, Any] = {}

    def put_json(self, key: str, value: Any) -> None:
        self._items[key] = value

    def get_json(self, key: str) -> Any:
        return self._items[key]


class _NoWrites:
    """Stands for the ports a dry run must never reach (imports, queue, bus, workflow, files)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a dry run stores nothing (it tried {name})")


def read_only(deps: Deps) -> Deps:
    """``deps`` for a dry run: the same reads, no writes (see the module notes)."""
    unused: Any = _NoWrites()
    return replace(
        deps,
        records=_ReadOnlyRecords(deps.records),
        imports=unused,
        payloads=_MemoryPayloads(),
        queue=None,
        on_complete=None,
        events=None,
        files=None,
        workflow=unused if deps.workflow is not None else None,
    )


def finish(status: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """The answer of a dry run: the real request's body without an import id, marked as a dry run."""
    out = {k: v for k, v in body.items() if k not in IMPORT_ID_FIELDS}
    out["dryRun"] = True
    out["dryRunStatus"] = status
    return out


def dry_run_inline(
    kind: ImportKind[Any], request: Mapping[str, Any], rows: Sequence[Any], principal: Principal, deps: Deps
) -> dict[str, Any]:
    """A synchronous kind's request judged as ``run_inline_import`` would, with nothing stored.

    ``callResults`` (when calls were asked for) counts the calls that would be requested, with status
    ``DRY_RUN`` (``NOT_STARTED`` when no record would be stored) and no execution.

    Raises
    ------
    InvalidRequestError, NotFoundError, NotAvailableError
        The request-level checks, exactly as the real request raises them.
    """
    check_record_count(kind, rows)
    tenant = load_tenant(deps.tenants, principal)
    dry = read_only(deps)
    now = deps.clock.now()
    options = kind.prepare(rows, kind.options(request, tenant, now), tenant, dry)
    check_stored_options(request, kind.records_field)
    calls = check_follow_up(kind, options, deps)
    job = new_job(dry, kind, tenant.tenant_id, "api", {})
    outcomes = validate_rows(kind, rows, options, tenant)
    existing = read_existing(kind, outcomes, dry.records, tenant.tenant_id)
    batches = persist(kind, outcomes, options, dry.records, job.tenant_id, job.import_id, existing=existing)
    job.counts = Counts.of(outcomes)
    job.status, job.completed_at = "DONE", now
    result = ImportResult(job=job, options=options, outcomes=outcomes, batches=batches)
    if calls is not None:
        tally = workflow.tally_calls(kind, options, outcomes, tenant, now)
        status = CALLS_NOT_REQUESTED if job.counts.succeeded else "NOT_STARTED"
        result.call_results = workflow.call_results(
            None, tally.eligible, tally.skipped, status=status, deferred=tally.deferred
        )
    return finish(*kind.respond(result))


def dry_run_async(
    kind: ImportKind[Any], request: Mapping[str, Any], rows: Sequence[Any], principal: Principal, deps: Deps
) -> dict[str, Any]:
    """An asynchronous kind's request split and judged inline, answered as its finished job view.

    Rows are split as ``start_async_import`` splits them (so duplicates across chunks are found the
    same way) and each chunk is judged as a worker judges it. The view's counts are those of every
    row; its per-row part is the first page (``truncated`` when more rows were judged). Raises as
    ``dry_run_inline`` does.
    """
    check_record_count(kind, rows)
    tenant = load_tenant(deps.tenants, principal)
    dry = read_only(deps)
    kind_options = kind.options(request, tenant, deps.clock.now())
    check_follow_up(kind, kind_options, deps)
    options = {k: v for k, v in request.items() if k != kind.records_field and v is not None}
    job = new_job(dry, kind, tenant.tenant_id, "api", options)
    counts = Counts()
    results: list[dict[str, Any]] = []
    assert dry.payloads is not None
    for message in split_rows(dry, kind, job, rows, options=kind_options):
        chunk = message.rows if message.rows is not None else dry.payloads.get_json(message.rows_key or "")
        chunk_options = kind.prepare(chunk, kind.options(job.options, tenant, job.created_at), tenant, dry)
        outcomes = validate_rows(
            kind,
            chunk,
            chunk_options,
            tenant,
            start_index=message.start,
            duplicates=message.duplicates,
            duplicate_fields=message.duplicate_fields,
        )
        existing = read_existing(kind, outcomes, dry.records, tenant.tenant_id)
        persist(kind, outcomes, chunk_options, dry.records, job.tenant_id, job.import_id, existing=existing)
        counts.add(Counts.of(outcomes))
        results.extend(row_results(kind, outcomes, job.tenant_id))
    counts.total = len(rows)
    job.counts = counts
    job.status, job.completed_at = "DONE", deps.clock.now()
    job.updated_at = job.completed_at
    page, more = first_page(results)
    view = kind.job_view(job, page)
    _tally(view, results)
    view["nextCursor"] = None
    view["truncated"] = more
    return finish(202, view)


def _tally(view: dict[str, Any], results: Sequence[Mapping[str, Any]]) -> None:
    # A view that counts by result status (customers) saw one page; its counts are those of every row.
    counts = view.get("counts")
    if not isinstance(counts, dict) or not {"created", "updated", "failed", "pending"} <= set(counts):
        return
    created = sum(1 for r in results if r.get("status") == "created")
    updated = sum(1 for r in results if r.get("status") == "updated")
    counts.update(created=created, updated=updated, failed=len(results) - created - updated, pending=0)


def dry_run_customer(deps: Deps, principal: Principal, body: Any) -> dict[str, Any]:
    """``POST /customers?dryRun=true``: the customer as it would be stored, storing nothing.

    ``dryRunStatus`` is 201 when the id is new, 200 when it would update a stored customer.

    Raises
    ------
    InvalidRequestError, NotFoundError, LmsUnavailableError
        As ``upsert_customer`` (400, 404, 502).
    """
    from bulk_import.usecases.customers import upsert_customer

    created, customer = upsert_customer(read_only(deps), principal, body)
    return finish(201 if created else 200, customer)
