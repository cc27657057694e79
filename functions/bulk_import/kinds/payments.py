"""Payment instructions: bulk payments to a tenant's authorized beneficiaries.

An asynchronous kind: ``POST /payments/payments/import`` answers 202 with the job at once, chunk
workers validate and write the items, and ``GET /payments/payments/import/{job_id}`` shows the job
in the seed's shape with one ``progress`` entry per item.

Decisions where the contract is silent (also in the kind's docstrings):

* Ids: an item without ``id`` gets ``pay_`` + 20 hex characters of a SHA-256 of (import id, row
  index), assigned when the import is split, so a retried split or a redelivered chunk gives the
  same id and writes the same record.
* Enumerations (``LAND``/``SEND``, ``group``, ``contact``) are read case-insensitively and stored in
  their canonical spelling; ``purpose`` is checked exactly (``^[A-Z]{4}$``), as the seed writes it.
* Date-times are stored in UTC as ISO 8601 strings (``2026-12-01T08:00:00Z``); one written without
  ``Z`` or an offset is read in the tenant's timezone, the time its people mean.
* The job's ``status`` is the import's own (``QUEUED``, ``PROCESSING``, ``DONE``, ``FAILED``): the seed
  lists QUEUED and DONE only, but telling a client its job is being worked on is more useful than
  answering QUEUED until it is done, and a client waiting for ``DONE`` behaves the same.
* An empty item is a mistake, not a template row: it fails with "is required" errors instead of
  being skipped, so every item ends SUCCESS or FAILED as the seed's ``progress`` promises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
)

from bulk_import.core.model import ImportJob, RowOutcome, StoredRecord
from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.payment_items import (
    ASSIGNED_ID_HEX,
    ASSIGNED_ID_PREFIX,
    REQUIRED_FIELDS,
    UPDATABLE_STATUS,
    PaymentItem,
    PaymentsImportRequest,
)
from bulk_import.kinds.row_limits import reference_text
from bulk_import.kinds.row_plan import row_errors
from bulk_import.rules.strings import is_blank


@dataclass(frozen=True)
class PaymentsOptions:
    """Batch-level options of a payments import: none beyond the tenant."""

    tenant_id: str


# -- helpers ---------------------------------------------------------------------------------------
def assigned_id(import_id: str, index: int) -> str:
    """The id given to the item at ``index`` of import ``import_id`` when it was sent without one.

    Parameters
    ----------
    import_id
        The import the item belongs to.
    index
        The item's 0-based position in the request.

    Returns
    -------
    str
        ``pay_`` and 20 hex characters, the same for the same (import, index): a retried split or a
        redelivered chunk writes the same payment again instead of a second one.
    """
    digest = hashlib.sha256(f"{import_id}\0{index}".encode()).hexdigest()
    return ASSIGNED_ID_PREFIX + digest[:ASSIGNED_ID_HEX]


def _plain(value: Any) -> Any:
    # Nested models become plain mappings so records and stored data hold no pydantic objects.
    if isinstance(value, BaseModel):
        return value.model_dump(exclude_none=True)
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _row_number(result: Mapping[str, Any]) -> int:
    try:
        return int(result.get("row", -1))
    except (TypeError, ValueError):
        return -1


# -- the kind --------------------------------------------------------------------------------------
class PaymentsKind(ImportKind[PaymentsOptions]):
    """The payments import kind: bulk payment instructions, processed asynchronously."""

    name: ClassVar[str] = "payments"
    entity: ClassVar[str] = "payment"
    records_field: ClassVar[str] = "items"
    ref_fields: ClassVar[tuple[str, ...]] = ("id",)
    max_records: ClassVar[int] = 10_000
    max_body_bytes: ClassVar[int] = 6_000_000
    route: ClassVar[str] = "/payments/payments/import"
    scope: ClassVar[str] = "payments:write"
    request_model: ClassVar[type[BaseModel]] = PaymentsImportRequest
    row_model: ClassVar[type[BaseModel] | None] = PaymentItem
    summary: ClassVar[str] = "Bulk import payment instructions (202 with the job; GET the job for progress)"
    mode: ClassVar[str] = "async"
    job_route: ClassVar[str | None] = "/payments/payments/import/<job_id>"
    chunk_size: ClassVar[int] = 250
    reads_existing: ClassVar[bool] = True
    existing_fields: ClassVar[tuple[str, ...] | None] = ("importId", "status", "id")

    def options(self, request: Mapping[str, Any], tenant: TenantConfig, now: datetime) -> PaymentsOptions:
        """No batch-level options beyond the envelope; see ``ImportKind.options``."""
        return PaymentsOptions(tenant_id=tenant.tenant_id)

    def skip_reason(self, raw: Any) -> str | None:
        """Never skip: an empty payment item is a mistake the caller must see, not a template row."""
        return None

    def validate(self, raw: Any, index: int, options: PaymentsOptions, tenant: TenantConfig) -> RowOutcome:
        """Validate one payment item against the rules and the tenant's sources and contacts.

        Parameters
        ----------
        raw
            The item as sent (after ``before_split`` in async imports, so it has an id).
        index
            Its 0-based position in the request.
        options, tenant
            The import's options and the tenant (payment sources, contacts, timezone).

        Returns
        -------
        RowOutcome
            The normalized payment in ``record`` (plain mappings, ``Decimal`` amount, UTC ISO
            date-times, ``id`` always set), or field errors named by dotted path (``amount.amount``).
        """
        if isinstance(raw, Mapping):
            # Empty strings count as missing: "target": "" must read "is required", not "must be
            # an object". Only the required objects need this; the other fields clean blanks themselves.
            raw_fields = {k: v for k, v in raw.items() if not (k in REQUIRED_FIELDS and is_blank(v))}
        else:
            raw_fields = raw
        record, errors = row_errors(
            PaymentItem,
            raw_fields,
            context={"tenant": tenant, "zone": ZoneInfo(tenant.timezone)},
            required=REQUIRED_FIELDS,
        )
        if record is not None:
            record = {k: _plain(v) for k, v in record.items()}
            if "id" not in record:
                # Reached only when the rows were not split (dry runs): derive an id from the position
                # alone so every row still has a distinct key.
                record["id"] = assigned_id("", index)
        return RowOutcome(index=index, raw=raw, record=record, errors=errors)

    def key(self, record: Mapping[str, Any], options: PaymentsOptions) -> str:
        """The payment id."""
        return str(record["id"])

    def to_stored(self, record: Mapping[str, Any], key: str, options: PaymentsOptions) -> StoredRecord:
        """The normalized payment, pending and approved or not.

        An update replaces the pending payment entirely; it stays ``PENDING``.
        """
        data = {
            **record,
            "id": key,
            "approved": bool(record.get("approved", False)),
            "status": UPDATABLE_STATUS,
        }
        return StoredRecord(entity=self.entity, key=key, data=data)

    # -- asynchronous kind -------------------------------------------------------------------
    def before_split(self, raw: Any, index: int, import_id: str) -> Any:
        """Give an item sent without ``id`` (missing, null or blank) its assigned id, in a copy.

        Parameters
        ----------
        raw
            The item as sent; never modified.
        index, import_id
            Its position and import, from which the id is derived (see ``assigned_id``).

        Returns
        -------
        Any
            ``raw`` itself when it has an id or is not an object, else a shallow copy with ``id`` set.
        """
        if not isinstance(raw, Mapping) or not is_blank(raw.get("id")):
            return raw
        return {**raw, "id": assigned_id(import_id, index)}

    def dedupe_key(self, raw: Any, options: PaymentsOptions | None = None) -> str | None:
        """The item's id as its record key will be (trimmed text), or None when it has no usable id.

        Numbers are read as text like the row model reads them, so ``7`` and ``"7"`` are the same id.
        """
        if not isinstance(raw, Mapping):
            return None
        value = raw.get("id")
        if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
            return None
        return reference_text(value)

    def reconcile(self, outcome: RowOutcome, existing: Mapping[str, Any] | None, import_id: str) -> None:
        """Allow an existing id only while that payment is pending.

        A new id, a pending payment, or a payment last written by this same import (a redelivered
        chunk) passes; any other status fails the item on ``id``. Whether a passing item was created
        or updated is decided by the pipeline from the same stored version, so nothing is marked here.
        """
        if existing is None or existing.get("importId") == import_id:
            return
        status = str(existing.get("status") or "UNKNOWN").strip().upper()
        if status != UPDATABLE_STATUS:
            payment = str(existing.get("id") or outcome.key or (outcome.record or {}).get("id"))
            outcome.fail("id", f"id: payment {payment} is {status}, only pending payments can be updated")

    def row_result(self, outcome: RowOutcome) -> dict[str, Any]:
        """The item's ``progress`` entry: ``{id, status SUCCESS|FAILED, row, error}``.

        ``row`` is the 0-based index as text (the seed's type); ``error`` is None on success, else
        ``{"message": all messages joined by "; ", "fields": {field: [messages]}}``.
        """
        payment_id = outcome.refs.get("id") or (outcome.record or {}).get("id")
        if payment_id is None and isinstance(outcome.raw, Mapping):
            payment_id = self.dedupe_key(outcome.raw)
        ok = outcome.status in ("created", "updated")
        error: dict[str, Any] | None = None
        if not ok:
            fields: dict[str, list[str]] = {}
            for e in outcome.errors:
                fields.setdefault(e.field or "row", []).append(e.message)
            if not fields:
                # Not failed by a rule yet not written (skipped or never persisted): say so, never
                # report a bare FAILED.
                reason = outcome.skipped_reason or "not stored"
                fields = {"row": [f"row: {reason}"]}
            messages = [m for ms in fields.values() for m in ms]
            error = {"message": "; ".join(messages), "fields": fields}
        return {
            "id": payment_id,
            "status": "SUCCESS" if ok else "FAILED",
            "row": str(outcome.index),
            "error": error,
        }

    def accepted(self, job: ImportJob) -> tuple[int, dict[str, Any]]:
        """202 and the job in the seed's shape, nothing processed yet."""
        return 202, self.job_view(job, [])

    def job_view(self, job: ImportJob, results: list[dict[str, Any]]) -> dict[str, Any]:
        """The job as the seed shows it, plus ``import_id`` for ``GET /v1/imports/{importId}``.

        Parameters
        ----------
        job
            The import; its counters say how far it got.
        results
            The ``row_result`` entries recorded so far, in any order.

        Returns
        -------
        dict
            ``job_id``, ``started_at`` (ISO 8601 UTC), ``total``, ``processing`` (not yet accounted
            for), ``processed`` (succeeded), ``failed``, ``status`` (the import's status: QUEUED,
            PROCESSING, DONE, FAILED or CANCELLED), ``progress`` (sorted by row) and ``import_id``;
            ``cancelled`` (rows a cancel kept from being written) for a cancelled import, and
            ``retryOf`` (the import whose failed rows this one retries) for a retry.
            ``processed + failed + cancelled + processing`` is ``total``.
        """
        counts = job.counts.shown(job.status)
        cancelled = counts.get("cancelled", 0)
        done = counts["succeeded"] + counts["failed"] + counts["skipped"] + cancelled
        view: dict[str, Any] = {
            "job_id": job.import_id,
            "started_at": _iso_utc(job.created_at),
            "total": counts["total"],
            "processing": max(0, counts["total"] - done),
            "processed": counts["succeeded"],
            "failed": counts["failed"],
            "status": job.status,
            "progress": sorted(results, key=_row_number),
            "import_id": job.import_id,
        }
        if cancelled or job.status == "CANCELLED":
            view["cancelled"] = cancelled
        if job.options.get("retryOf"):
            view["retryOf"] = job.options["retryOf"]
        return view
