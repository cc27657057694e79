"""Customers: customer profiles keyed by the caller's ``id``, one or many at a time.

``POST /customers`` writes one customer synchronously (``bulk_import.usecases.customers``);
``POST /customers/batch`` is this kind's asynchronous bulk route (202, chunk workers) and
``GET /customers/batch/{jobId}`` its job view. Both run the rules below, written once.

Decisions where the contract is silent (README has the short version):

* ``id`` is the key: the same id again replaces the stored customer (201 created, 200 updated), except
  ``doNotCall``: a stored ``true`` is kept when an update does not send the field, so an update that
  forgets it never re-enables calls to someone who asked not to be called. Sending ``false`` clears it.
* ``sync: true``: the LMS record fills the profile fields the caller left missing (empty counts as
  missing); the merged customer must then pass the same rules as any other, so a customer always has
  what calls need (name, phone, timezone, address). An LMS value that breaks a rule is reported with
  "(value from the LMS)". The LMS timezone is used only when the zip code in effect is the LMS's own:
  a caller who sends a new zip code without a timezone gets the zone of that zip.
* ``loanIds`` filters the LMS loans stored as ``loans``; an id the LMS does not list for the customer
  fails the customer (it names the loans the LMS has). An empty list counts as missing (all loans).
* ``test`` and ``isTest`` both mark a test customer, stored as ``isTest``; ``sync`` and ``test`` are
  directives and not stored.
* ``ssnLastFour`` is stored and returned to its own caller (the seed's response has it), and never
  appears in an error message, a per-row result or an error report: its rule never echoes the value,
  and ``redact`` masks it wherever a row is echoed as sent.
* ``birthday`` may not be after today in the tenant's timezone (for a batch: the day it was accepted).
* The job view carries every customer's ``{index, id, status, errors}``, ``errors`` being messages that
  start with the field; ``GET /v1/imports/{importId}/errors`` has them with ``field`` apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel

from bulk_import.core.errors import BulkImportError, InvalidRequestError, NotFoundError
from bulk_import.core.model import FieldError, ImportJob, RowOutcome, StoredRecord
from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.customer_lms import lms_loans, merge_lms, plain_numbers, with_zip_timezone
from bulk_import.kinds.customer_rows import (
    ALWAYS_REQUIRED,
    FROM_LMS,
    MSG_NOT_IN_LMS,
    MSG_UNKNOWN_TASK_TYPE,
    PHONE_REGION,
    REQUIRED,
    RESPONSE_FIELDS,
    CustomerRow,
    CustomersBatchRequest,
    customer_id_of,
    shown,
)
from bulk_import.kinds.row_limits import MASK
from bulk_import.kinds.row_plan import row_errors, warm_rows
from bulk_import.rules.errors import RuleError
from bulk_import.rules.flags import parse_flag
from bulk_import.rules.strings import is_blank

if TYPE_CHECKING:
    from bulk_import.core.ports import Deps


@dataclass(frozen=True)
class CustomersOptions:
    """What validating customers needs beyond each row: the tenant's date and task types, LMS records."""

    tenant_id: str
    today: date
    #: The validation context of ``CustomerRow`` (phone region, today, task types).
    context: dict[str, Any] = field(default_factory=dict)
    #: LMS records of the rows sent with ``sync``, by id (filled by ``prepare``); None: not consulted.
    lms: Mapping[str, Mapping[str, Any]] | None = None


# -- helpers --------------------------------------------------------------------------------------
def _today(timezone: str, now: datetime) -> date:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        zone: Any = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return now.astimezone(zone).date()


def _wants_sync(raw: Any) -> bool:
    if not isinstance(raw, Mapping):
        return False
    try:
        return parse_flag(raw.get("sync")) is True
    except RuleError:
        return False  # the row rules report the bad value


# -- the kind --------------------------------------------------------------------------------------
class CustomersKind(ImportKind[CustomersOptions]):
    """Customers: one profile per caller ``id``, created or updated, in batches of up to 10,000."""

    name: ClassVar[str] = "customers"
    # Not "customer": campaign customers use that entity, with keys of their own.
    entity: ClassVar[str] = "customer-profile"
    records_field: ClassVar[str] = "customers"
    ref_fields: ClassVar[tuple[str, ...]] = ("id",)
    max_records: ClassVar[int] = 10_000
    route: ClassVar[str] = "/customers/batch"
    scope: ClassVar[str] = "customers:write"
    request_model: ClassVar[type[BaseModel]] = CustomersBatchRequest
    row_model: ClassVar[type[BaseModel] | None] = CustomerRow
    summary: ClassVar[str] = "Create or update customers in bulk (202 with the job; GET the job for results)"
    mode: ClassVar[str] = "async"
    job_route: ClassVar[str | None] = "/customers/batch/<job_id>"
    reads_existing: ClassVar[bool] = True
    existing_fields: ClassVar[tuple[str, ...] | None] = ("importId", "doNotCall")

    def options(self, request: Mapping[str, Any], tenant: TenantConfig, now: datetime) -> CustomersOptions:
        """The tenant's today and task types; see ``ImportKind.options`` (no batch-level options)."""
        today = _today(tenant.timezone, now)
        context = {
            "region": PHONE_REGION,
            "today": today,
            "task_types": {t.casefold(): t for t in tenant.task_types},
            "valid_task_types": tuple(tenant.task_types),
        }
        return CustomersOptions(tenant_id=tenant.tenant_id, today=today, context=context)

    def prepare(
        self, rows: Sequence[Any], options: CustomersOptions, tenant: TenantConfig, deps: Deps
    ) -> CustomersOptions:
        """Fetch the LMS records of the rows sent with ``sync: true``, in one call per request or chunk.

        Rows without ``sync`` never reach the LMS. With no LMS client in ``deps`` the options stay
        as they are, and ``validate`` fails the ``sync`` rows saying so.

        Raises
        ------
        LmsUnavailableError
            The LMS could not be reached: the request answers 502, a chunk is retried by its queue.
        """
        ids = [cid for raw in rows if _wants_sync(raw) and (cid := customer_id_of(raw)) is not None]
        if not ids or deps.lms is None:
            return options
        found = deps.lms.fetch_customers(tenant, list(dict.fromkeys(ids)))
        return replace(options, lms={k: plain_numbers(v) for k, v in found.items()})

    def warm(self, rows: Sequence[Any], options: CustomersOptions) -> None:
        """Normalize the request's phone numbers in one pass first (see ``warm_rows``)."""
        warm_rows(CustomerRow, rows, options.context)

    def skip_reason(self, raw: Any) -> str | None:
        """Never skip: every customer ends created, updated or failed."""
        return None

    def validate(self, raw: Any, index: int, options: CustomersOptions, tenant: TenantConfig) -> RowOutcome:
        """Validate one customer, merged with its LMS record when sent with ``sync``.

        Returns
        -------
        RowOutcome
            The normalized customer in ``record`` (E.164 phone, canonical timezone, upper-case state,
            ``birthday`` a date, ``isTest`` set, ``loans`` for synced customers), or field errors. An id
            the LMS does not know fails the customer on ``id`` alone, without a cascade of "is required".
        """
        if not isinstance(raw, Mapping):
            _, errors = row_errors(CustomerRow, raw)
            return RowOutcome(index=index, raw=raw, errors=errors)
        row: Mapping[str, Any] = raw
        required: tuple[str, ...] = REQUIRED
        from_lms: frozenset[str] = frozenset()
        lms_record: Mapping[str, Any] | None = None
        blocker: FieldError | None = None
        customer_id = customer_id_of(raw)
        if _wants_sync(raw):
            if customer_id is None:
                pass  # "id: is required" (or its own rule) says why; nothing can be fetched without it
            elif options.lms is None:
                blocker = FieldError("sync", "sync: no LMS is connected, the customer cannot be fetched")
            else:
                lms_record = options.lms.get(customer_id)
                if lms_record is None:
                    blocker = FieldError("id", f"id: customer {shown(customer_id)} {MSG_NOT_IN_LMS}")
                else:
                    row, from_lms = merge_lms(raw, lms_record)
            if lms_record is None:
                # Nothing to merge: only the caller's own values are checked, not what the LMS lacks.
                required = ALWAYS_REQUIRED
        row = with_zip_timezone(row)
        record, errors = row_errors(CustomerRow, row, context=options.context, required=required)
        if blocker is not None:
            errors.append(blocker)
        for e in errors:
            if e.field in from_lms:
                e.message += FROM_LMS
            elif e.field == "timezone" and e.message == "timezone: is required":
                zip_code = row.get("zipCode")
                e.message += (
                    " (or a US zipCode to resolve it from)"
                    if is_blank(zip_code)
                    else " (its zipCode is not a US ZIP code with a known timezone)"
                )
        if errors or record is None:
            return RowOutcome(index=index, raw=raw, errors=errors)
        if lms_record is not None:
            loans, problem = lms_loans(lms_record, record.get("loanIds"), record["id"])
            if problem is not None:
                return RowOutcome(index=index, raw=raw, errors=[FieldError("loanIds", problem)])
            record["loans"] = loans
        test = record.pop("test", None)
        record["isTest"] = bool(record.get("isTest")) or bool(test)
        record.pop("sync", None)
        return RowOutcome(index=index, raw=raw, record=record)

    def key(self, record: Mapping[str, Any], options: CustomersOptions) -> str:
        """The caller's id."""
        return str(record["id"])

    def to_stored(self, record: Mapping[str, Any], key: str, options: CustomersOptions) -> StoredRecord:
        """The customer in the seed's field order, ``birthday`` as ISO text, the flags always set."""
        data: dict[str, Any] = {}
        for name in RESPONSE_FIELDS:
            value = record.get(name)
            if value is not None:
                data[name] = value.isoformat() if isinstance(value, date) else value
        data["id"] = key
        data["doNotCall"] = bool(record.get("doNotCall", False))
        data["isTest"] = bool(record.get("isTest", False))
        return StoredRecord(entity=self.entity, key=key, data=data)

    def reconcile(self, outcome: RowOutcome, existing: Mapping[str, Any] | None, import_id: str) -> None:
        """Keep a stored ``doNotCall: true`` when the update does not send the field (see module notes)."""
        record = outcome.record
        if record is None or existing is None or "doNotCall" in record:
            return
        if existing.get("doNotCall") is True:
            record["doNotCall"] = True

    def dedupe_key(self, raw: Any, options: CustomersOptions | None = None) -> str | None:
        """The customer's id as its key will be; repeats across chunks fail the later customer."""
        return customer_id_of(raw)

    def redact(self, raw: Any) -> Any:
        """The row with ``ssnLastFour`` masked, for anything that echoes rows as sent."""
        if isinstance(raw, Mapping) and not is_blank(raw.get("ssnLastFour")):
            raw = {**raw, "ssnLastFour": MASK}
        return super().redact(raw)

    # -- the single endpoint -----------------------------------------------------------------
    def present(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A stored customer as the API answers it: the seed's fields only, none of the storage's own."""
        return {name: plain_numbers(data[name]) for name in RESPONSE_FIELDS if data.get(name) is not None}

    def single_error(self, outcome: RowOutcome, tenant: TenantConfig) -> BulkImportError:
        """The error answered for one customer that failed (``POST /customers``).

        Returns
        -------
        BulkImportError
            400 listing the valid task types (``validTaskTypes``) when the task type is unknown; else
            404 when the LMS does not know the id; else 400. Each carries ``errors``, every message.
        """
        messages = [e.message for e in outcome.errors]
        text = "; ".join(messages) or "invalid customer"
        if any(e.field == "taskType" and MSG_UNKNOWN_TASK_TYPE in e.message for e in outcome.errors):
            return InvalidRequestError(text, {"validTaskTypes": list(tenant.task_types), "errors": messages})
        lms_miss = [e.message for e in outcome.errors if e.field == "id" and MSG_NOT_IN_LMS in e.message]
        if lms_miss:
            return NotFoundError(lms_miss[0], {"errors": messages})
        return InvalidRequestError(text, {"errors": messages})

    # -- asynchronous kind -------------------------------------------------------------------
    def row_result(self, outcome: RowOutcome) -> dict[str, Any]:
        """``{index, id, status created|updated|failed, errors}``; errors are messages naming the field."""
        status = outcome.status if outcome.status in ("created", "updated") else "failed"
        errors = [e.message for e in outcome.errors]
        if status == "failed" and not errors:
            # Not failed by a rule yet not written: say why rather than report a bare failure.
            errors = [f"row: {outcome.skipped_reason or 'not stored'}"]
        customer_id = outcome.refs.get("id") or customer_id_of(outcome.raw)
        return {"index": outcome.index, "id": customer_id, "status": status, "errors": errors}

    def accepted(self, job: ImportJob) -> tuple[int, dict[str, Any]]:
        """202 ``{jobId, status, total, importId}``."""
        return 202, {
            "jobId": job.import_id,
            "status": job.status,
            "total": job.counts.total,
            "importId": job.import_id,
        }

    def job_view(self, job: ImportJob, results: list[dict[str, Any]]) -> dict[str, Any]:
        """The job: status, counts and every customer's result recorded so far, by index.

        ``counts`` has ``total``, ``created``, ``updated``, ``failed`` and ``pending`` (not yet
        processed), counted from the results so they always add up; and ``cancelled`` (rows a cancel
        kept from being written) for a cancelled import. ``retryOf`` names the import whose failed rows
        this one retries, when it is a retry.
        """
        ordered = sorted(results, key=lambda r: int(r.get("index", -1)))
        counts = {"total": job.counts.total, "created": 0, "updated": 0, "failed": 0}
        for r in ordered:
            status = r.get("status")
            counts[status if status in ("created", "updated") else "failed"] += 1
        # As in the import's view: a cancelled import counts as cancelled every row not accounted for
        # yet, and ``cancelled`` is shown for cancelled imports and wherever it is not 0.
        cancelled = job.counts.shown(job.status).get("cancelled", 0)
        if cancelled or job.status == "CANCELLED":
            counts["cancelled"] = cancelled
        counts["pending"] = max(0, job.counts.total - len(ordered) - cancelled)
        summary = job.to_api()
        view: dict[str, Any] = {
            "jobId": job.import_id,
            "importId": job.import_id,
            "status": job.status,
            "total": job.counts.total,
            "counts": counts,
            "createdAt": summary["createdAt"],
            "completedAt": summary["completedAt"],
            "results": ordered,
        }
        if job.options.get("retryOf"):
            view["retryOf"] = job.options["retryOf"]
        return view
