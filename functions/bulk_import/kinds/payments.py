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
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from bulk_import.core.model import ImportJob, RowOutcome, StoredRecord
from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.fields import Reference, Text, reference
from bulk_import.kinds.row_limits import reference_text, shown_name
from bulk_import.kinds.row_plan import row_errors
from bulk_import.rules.currencies import normalize_currency
from bulk_import.rules.dates import parse_iso_datetime
from bulk_import.rules.errors import RuleError
from bulk_import.rules.money import MSG_NEGATIVE, parse_amount
from bulk_import.rules.strings import clean, is_blank

#: Significant decimal places of ``amount.amount`` (seed: "up to 3 decimal points").
AMOUNT_PLACES = 3
#: Prefix and hex length of the ids assigned to items sent without one.
ASSIGNED_ID_PREFIX = "pay_"
ASSIGNED_ID_HEX = 20
#: The only status of a stored payment that an import may overwrite (seed: "will update the pending payment").
UPDATABLE_STATUS = "PENDING"

_PURPOSE = re.compile(r"[A-Z]{4}", re.ASCII)
MSG_PURPOSE = "must be 4 capital letters A-Z, e.g. SALA"
MSG_URL = "must be an http or https URL, e.g. https://files.example.com/invoice.pdf"
MSG_HOURS = "must be a whole number of hours, e.g. 24"


# -- field rules -----------------------------------------------------------------------------------
def _required_text(value: Any) -> str:
    if isinstance(value, (dict, list, bool)):
        raise RuleError("must be text")
    text = clean(value)
    if text is None:
        raise RuleError("is required")
    return text


def _choice(*allowed: str) -> Any:
    """A rule accepting one of ``allowed`` in any case and returning its canonical spelling."""
    by_upper = {a.upper(): a for a in allowed}
    listed = " or ".join(allowed)

    def run(value: Any) -> str | None:
        if isinstance(value, (dict, list, bool)):
            raise RuleError(f"must be {listed}")
        text = clean(value)
        if text is None:
            return None
        canonical = by_upper.get(text.upper())
        if canonical is None:
            raise RuleError(f"must be {listed}, not {text[:20]}")
        return canonical

    return run


def _required(rule: Any) -> Any:
    """Run ``rule``, refusing a blank value or one the rule turns into None ("is required")."""

    def run(value: Any) -> Any:
        if is_blank(value):
            raise RuleError("is required")
        result = rule(value)
        if result is None:
            raise RuleError("is required")
        return result

    return run


def _optional(rule: Any) -> Any:
    def run(value: Any) -> Any:
        return None if is_blank(value) else rule(value)

    return run


def _payment_amount(value: Any) -> Decimal:
    # The bounds of every kind's amounts (at most 999,999,999,999.999), plus the seed's 3 places.
    return parse_amount(value, allow_zero=False, max_places=AMOUNT_PLACES)


def _currency(value: Any) -> str:
    # The seed's contract spells codes in capitals (^[A-Z]{3}$): "usd" is refused, not corrected.
    return normalize_currency(value, strict=True)


def _required_reference(value: Any) -> str:
    text = reference(value)
    if text is None:
        raise RuleError("is required")
    return text


def _hours(value: Any) -> int:
    if isinstance(value, bool):
        raise RuleError(MSG_HOURS)
    try:
        hours = parse_amount(value)
    except RuleError as exc:
        if str(exc) == MSG_NEGATIVE:
            raise RuleError("must be 0 hours or more") from None
        raise RuleError(MSG_HOURS) from None
    if hours != hours.to_integral_value():
        raise RuleError(MSG_HOURS)
    return int(hours)


def _purpose(value: Any) -> str:
    text = _required_text(value)
    if not _PURPOSE.fullmatch(text):
        raise RuleError(MSG_PURPOSE)
    return text


def _url(value: Any) -> str:
    text = _required_text(value)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # "http://[::1" and other unparsable netlocs
        raise RuleError(MSG_URL) from None
    if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise RuleError(MSG_URL)
    return text


def _utc_iso(value: Any, info: ValidationInfo) -> str:
    """An ISO 8601 date-time as a UTC string; a time without offset is read in the tenant's timezone."""
    moment = parse_iso_datetime(value)
    if moment.tzinfo is None:
        zone = (info.context or {}).get("zone") or UTC
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _tenant(info: ValidationInfo) -> TenantConfig | None:
    # ``PaymentsKind.validate`` always passes the tenant; without one (the model used on its own, for
    # its schema) the account-dependent checks cannot apply rather than guess.
    tenant = (info.context or {}).get("tenant")
    return tenant if isinstance(tenant, TenantConfig) else None


RequiredText = Annotated[str, BeforeValidator(_required_text)]
AmountType = Annotated[str, BeforeValidator(_required(_choice("LAND", "SEND")))]
ExecutionType = Annotated[str | None, BeforeValidator(_choice("SEND", "LAND"))]
PaymentAmount = Annotated[Decimal, BeforeValidator(_required(_payment_amount))]
Currency = Annotated[str | None, BeforeValidator(_optional(_currency))]
Hours = Annotated[int | None, BeforeValidator(_optional(_hours))]
Purpose = Annotated[str | None, BeforeValidator(_optional(_purpose))]
Url = Annotated[str, BeforeValidator(_url)]
PaymentId = Annotated[str | None, BeforeValidator(reference)]
ReferenceId = Annotated[str, BeforeValidator(_required_reference)]
_DATE_TIME_SCHEMA: JsonDict = {"format": "date-time", "examples": ["2026-12-01T09:00:00Z"]}


# -- row model -------------------------------------------------------------------------------------
class Source(BaseModel):
    """Where the money comes from: one of the tenant's payment source groups."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str | None, BeforeValidator(_choice("group"))] = Field(
        default="group", description="Type of source; must be group."
    )
    id: ReferenceId = Field(description="A payment source (group) of the account.")

    @field_validator("type", mode="after")
    @classmethod
    def _default_type(cls, value: str | None) -> str:
        return value or "group"

    @field_validator("id", mode="after")
    @classmethod
    def _known_source(cls, value: str, info: ValidationInfo) -> str:
        tenant = _tenant(info)
        if tenant is not None and value not in tenant.payment_sources:
            names = sorted(tenant.payment_sources)
            known = ", ".join(names[:5]) + (", …" if len(names) > 5 else "") if names else "none configured"
            raise RuleError(f"unknown payment source {shown_name(value)} (known: {known})")
        return value


class Target(BaseModel):
    """Who receives the money: one of the tenant's contacts, authorized to receive payments."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str | None, BeforeValidator(_choice("contact"))] = Field(
        default="contact", description="Type of target; must be contact."
    )
    id: ReferenceId = Field(description="The beneficiary: a contact of the account that is authorized.")

    @field_validator("type", mode="after")
    @classmethod
    def _default_type(cls, value: str | None) -> str:
        return value or "contact"

    @field_validator("id", mode="after")
    @classmethod
    def _authorized_contact(cls, value: str, info: ValidationInfo) -> str:
        tenant = _tenant(info)
        if tenant is None:
            return value
        contact = tenant.contacts.get(value)
        if contact is None:
            raise RuleError(f"unknown contact {shown_name(value)}")
        # Only an explicit true authorizes: a contact whose flag is missing has not been approved.
        if contact.get("authorized") is not True:
            raise RuleError(f"contact {shown_name(value)} is not authorized to receive payments")
        return value


class PaymentAmountSpec(BaseModel):
    """How much, in which currency, and whether it is the amount sent or the amount landed."""

    model_config = ConfigDict(extra="forbid")

    type: AmountType = Field(description="LAND: the amount credited; SEND: the amount debited.")
    amount: PaymentAmount = Field(description="Greater than 0, at most 3 decimal places.")
    currency: Currency = Field(default=None, description="ISO 4217 code, when it differs from the default.")


class Execution(BaseModel):
    """When the payment is sent (SEND) or must arrive (LAND)."""

    model_config = ConfigDict(extra="forbid")

    type: ExecutionType = Field(default=None, description="SEND or LAND; defaults to amount.type.")
    date: str = Field(
        description="ISO 8601 date-time; without an offset it is read in the account's timezone.",
        json_schema_extra=_DATE_TIME_SCHEMA,
    )
    margin: Hours = Field(default=None, description="Hours before the date the payment may be sent early.")

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> str:
        if is_blank(value):
            raise RuleError("is required")
        return _utc_iso(value, info)


class Final(BaseModel):
    """Whether the amount is final, and when the final amount is expected if not."""

    model_config = ConfigDict(extra="forbid")

    is_final: bool | None = None
    expected: str | None = Field(default=None, json_schema_extra=_DATE_TIME_SCHEMA)

    @field_validator("expected", mode="before")
    @classmethod
    def _expected(cls, value: Any, info: ValidationInfo) -> str | None:
        return None if is_blank(value) else _utc_iso(value, info)


class Attachment(BaseModel):
    """A file attached to the payment, by link."""

    model_config = ConfigDict(extra="forbid")

    id: Reference = None
    title: Text = None
    url: Url = Field(description="http or https link to the file.")


class PaymentItem(BaseModel):
    """One item of ``POST /payments/payments/import``.

    ``source``, ``target``, ``amount`` and ``execution`` are required (enforced by the kind, so a missing
    one reads "is required" whether it is absent, null or empty).
    """

    model_config = ConfigDict(extra="forbid")

    id: PaymentId = Field(
        default=None,
        description="Your id for the payment; assigned when missing. An existing id updates "
        "that payment while it is pending.",
    )
    description: Text = None
    signature: Text = None
    purpose: Purpose = Field(default=None, description="Four capital letters, e.g. SALA.")
    source: Source | None = None
    target: Target | None = None
    approved: bool | None = Field(default=None, description="True when the payment is ready to be executed.")
    amount: PaymentAmountSpec | None = None
    execution: Execution | None = None
    final: Final | None = None
    attachments: list[Attachment] | None = None
    user_tags: dict[str, StrictStr] | None = Field(default=None, description="Key/value tags, text only.")

    @model_validator(mode="after")
    def _execution_type_defaults_to_amount_type(self) -> PaymentItem:
        if self.execution is not None and self.amount is not None and self.execution.type is None:
            self.execution.type = self.amount.type
        return self


REQUIRED_FIELDS = ("source", "target", "amount", "execution")


class PaymentsImportRequest(BaseModel):
    """Body of ``POST /payments/payments/import``."""

    model_config = ConfigDict(extra="forbid")

    items: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=10_000,
        description="Payment instructions (1 to 10,000). Row schema: PaymentItem; each item is checked "
        "on its own and reported in the job's progress.",
    )


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
        if isinstance(value, bool) or not isinstance(value, (str, int)):
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
                fields.setdefault(e.field, []).append(e.message)
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
            PROCESSING, DONE or FAILED), ``progress`` (sorted by row) and ``import_id``.
        """
        counts = job.counts
        processing = max(0, counts.total - counts.succeeded - counts.failed - counts.skipped)
        return {
            "job_id": job.import_id,
            "started_at": _iso_utc(job.created_at),
            "total": counts.total,
            "processing": processing,
            "processed": counts.succeeded,
            "failed": counts.failed,
            "status": job.status,
            "progress": sorted(results, key=_row_number),
            "import_id": job.import_id,
        }
