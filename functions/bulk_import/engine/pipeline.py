"""The import pipeline, written once for every kind: validate, normalize, dedupe, persist, report.

Kinds plug in through ``ImportKind``; storage is reached only through the ports, so this module is
pure Python and runs the same inline (API), in chunk workers (SQS) and in dry runs (``validate``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from bulk_import.core.errors import (
    BulkImportError,
    InvalidRequestError,
    NotAvailableError,
    TransientError,
)
from bulk_import.core.model import RowOutcome, StoredRecord, WriteFailure
from bulk_import.core.ports import (
    Deps,
    RecordStore,
    RefusedWrite,
)
from bulk_import.core.ports import load_tenant as load_tenant  # the use cases find it here too
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.validation import ROW_NOT_HANDLED
from bulk_import.kinds.validation import safe_references as safe_references
from bulk_import.rules.limits import stored_size_problem

OptionsT = TypeVar("OptionsT")

log = logging.getLogger(__name__)


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
    """The stored versions of the valid rows' keys, for kinds that reconcile against them.

    Only the fields the kind's checks read (``kind.existing_fields``) and ``importId`` (which tells
    ``persist`` created from updated) are read, so a re-import does not pay for whole records; a kind
    that declares none gets them whole.
    """
    if not kind.reads_existing:
        return None
    keys = [o.key for o in outcomes if o.key is not None]
    if not keys:
        return {}
    declared = kind.existing_fields
    fields = None if declared is None else tuple(dict.fromkeys(("importId", *declared)))
    return store.get_records(tenant_id, kind.entity, keys, fields)
