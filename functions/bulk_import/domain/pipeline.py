"""The import pipeline, written once for every kind: validate, normalize, dedupe, persist, report.

Kinds plug in through ``ImportKind``; storage is reached only through the ports, so this module is
pure Python and runs the same inline (API), in chunk workers (SQS) and in dry runs (``validate``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from bulk_import.domain.errors import InvalidRequestError, NotFoundError
from bulk_import.domain.kinds.base import ImportKind, ImportResult
from bulk_import.domain.model import Counts, ImportJob, RowOutcome, StoredRecord
from bulk_import.domain.ports import Clock, IdFactory, ImportRepository, RecordStore, TenantDirectory
from bulk_import.domain.tenants import Principal, TenantConfig

OptionsT = TypeVar("OptionsT")


@dataclass
class Deps:
    """The ports a use case needs, built once per container by the entry point (or by a test)."""

    tenants: TenantDirectory
    records: RecordStore
    imports: ImportRepository
    clock: Clock
    new_id: IdFactory


def validate_rows(
    kind: ImportKind[OptionsT],
    rows: Iterable[Any],
    options: OptionsT,
    tenant: TenantConfig,
    *,
    start_index: int = 0,
    seen: dict[str, int] | None = None,
) -> list[RowOutcome]:
    """Skip, validate, normalize and dedupe rows.

    Parameters
    ----------
    kind, options, tenant
        The import kind, its options and the tenant's configuration.
    rows
        Raw rows in order; each outcome's ``index`` is ``start_index`` plus its position.
    seen
        Keys already used earlier in the same import (key -> first index); updated in place so chunks
        and file pages share one dedupe scope.

    Returns
    -------
    list[RowOutcome]
        One outcome per row, valid ones with ``record`` and ``key`` set.
    """
    seen = {} if seen is None else seen
    outcomes: list[RowOutcome] = []
    for offset, raw in enumerate(rows):
        index = start_index + offset
        reason = kind.skip_reason(raw)
        if reason is not None:
            outcomes.append(RowOutcome(index=index, raw=raw, skipped_reason=reason, status="skipped"))
            continue
        outcome = kind.validate(raw, index, options, tenant)
        if not outcome.refs:
            outcome.refs = kind.references(raw)
        if outcome.record is not None and not outcome.errors:
            key = kind.key(outcome.record, options)
            first = seen.get(key)
            if first is not None and first != index:
                name = next(iter(outcome.refs), "row")
                outcome.fail(name, f"{name}: {kind.duplicate_message(first)}")
            else:
                seen[key] = index
                outcome.key = key
        else:
            outcome.status = "failed"
        outcomes.append(outcome)
    return outcomes


def persist(
    kind: ImportKind[OptionsT],
    outcomes: Sequence[RowOutcome],
    options: OptionsT,
    store: RecordStore,
    tenant_id: str,
    import_id: str,
    *,
    existing: Mapping[str, Any] | None = None,
) -> int:
    """Write the valid outcomes in batches of ``kind.write_batch_size`` and mark each row's status.

    A row still unwritten after the store's retries is marked failed with the reason, never dropped.
    ``existing`` (key -> stored data) lets the status say ``updated`` instead of ``created``.

    Returns
    -------
    int
        The number of write batches processed.
    """
    valid = [o for o in outcomes if o.key is not None and o.status == "valid"]
    size = kind.write_batch_size
    batches = math.ceil(len(valid) / size) if valid else 0
    for b in range(batches):
        part = valid[b * size : (b + 1) * size]
        stored: list[StoredRecord] = [
            kind.to_stored(o.record or {}, o.key or "", options) for o in part
        ]
        failures = {f.key: f.reason for f in store.put_records(tenant_id, import_id, stored)}
        for o in part:
            reason = failures.get(o.key or "")
            if reason is not None:
                o.fail("row", f"row: not stored ({reason}); send it again")
            else:
                o.status = "updated" if existing is not None and o.key in existing else "created"
    return batches


def load_tenant(tenants: TenantDirectory, principal: Principal) -> TenantConfig:
    """Return the caller's tenant configuration (a key whose tenant is gone answers 404)."""
    tenant = tenants.load_config(principal.tenant_id)
    if tenant is None:
        raise NotFoundError(f"tenant {principal.tenant_id} is not configured")
    return tenant


def check_record_count(kind: ImportKind[Any], rows: Sequence[Any]) -> None:
    """Reject requests with no rows or more than the kind allows (400, nothing written)."""
    field = kind.records_field
    if len(rows) == 0:
        raise InvalidRequestError(f"{field}: at least 1 record is required")
    if len(rows) > kind.max_records:
        raise InvalidRequestError(
            f"{field}: at most {kind.max_records:,} records per request, got {len(rows):,}"
        )


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

    Raises
    ------
    InvalidRequestError, NotFoundError
        From the request-level checks, before anything is written.
    """
    check_record_count(kind, rows)
    tenant = load_tenant(deps.tenants, principal)
    now = deps.clock.now()
    options = kind.options(request, tenant, now)
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
    outcomes = validate_rows(kind, rows, options, tenant)
    keys = [o.key for o in outcomes if o.key is not None]
    existing = deps.records.get_records(tenant.tenant_id, kind.entity, keys) if _wants_existing(kind) else None
    batches = persist(kind, outcomes, options, deps.records, tenant.tenant_id, job.import_id, existing=existing)
    job.counts = Counts.of(outcomes)
    job.batches = batches
    job.status = "DONE"
    job.completed_at = job.updated_at = deps.clock.now()
    deps.imports.add_rows(job, outcomes)
    deps.imports.save(job)
    return ImportResult(job=job, options=options, outcomes=outcomes, batches=batches)


def _wants_existing(kind: ImportKind[Any]) -> bool:
    return bool(getattr(kind, "reports_updates", False))


def _jsonable_options(request: Mapping[str, Any], records_field: str) -> dict[str, Any]:
    return {k: v for k, v in request.items() if k != records_field and v is not None}
