"""Debts: debts imported in bulk with phone rules, destination pricing and skipped rows.

``POST /external-api/v1/debts/batch`` validates every debt, prices its phone by destination
(``debt_pricing``, which documents the tenant price table format), computes when its collection timeline
starts, stores the valid ones and answers 201 with ``created``, ``failed`` and ``skipped`` arrays whenever
the batch itself could be processed.

Decisions
---------
Key
    ``internal_id`` when the debt has one (the caller's durable id: sending it again updates the debt);
    otherwise a hash of the debt's normalized identity: first and last name (case and spacing folded),
    E.164 phone, e-mail (lower-cased), amount (trailing zeros dropped) and currency. ``temp_id`` is not
    part of the key: it only matches results to rows, and clients reuse ``"1"``, ``"2"``… in every batch,
    so keying on it would overwrite other batches' debts. It must still be unique within one batch (a
    repeat fails the later debt, ``"temp_id: duplicate of row N"``). Two rows with the same key in one
    batch fail the later one too (``internal_id`` or ``row``: ``"duplicate of row N"``).
``debt_id``
    ``"debt_"`` and 16 hex digits of SHA-256 over tenant and key: the same debt always gets the same id,
    and it is stored with the debt.
Skipped rows
    Rows whose every value is blank (``"empty row"``); template instruction rows: a ``firstname`` or
    ``lastname`` starting with ``*``, or any text value containing ``champs obligatoires``,
    ``champ obligatoire`` or ``required field`` (case and accents ignored); and a repeated header row
    (``firstname`` / ``lastname`` holding their own column names, such as ``Prénom`` and ``Nom``), which
    spreadsheet exports and copy-paste leave behind.
Options
    A debt's own ``accept_expensive_destination``, ``timeline_id`` and ``timeline_start_mode`` beat the
    batch's, including a debt-level ``false`` under a batch-level ``true``. The start mode defaults to
    ``immediate``: the start date is today in the tenant's timezone; ``next_day`` is the first French
    business day after today (no weekend, no French public holiday). The start date is stored with every
    debt, with or without a timeline.
Messages
    In ``failed[].errors`` (``{field: [messages]}``) the messages do not repeat the field name
    (``{"phone": ["too short to be a phone number"]}``); the import's stored errors
    (``GET /v1/imports/{importId}/errors``) keep the ``"field: message"`` form every kind uses.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.model import FieldError, RowOutcome, StoredRecord
from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.base import ImportKind, ImportResult
from bulk_import.kinds.debt_pricing import PricedPhone, PriceTable
from bulk_import.kinds.debt_rows import (
    DEFAULT_START_MODE,
    MAX_DEBTS,
    REQUIRED_FIELDS,
    DebtRow,
    DebtsRequest,
    parse_start_mode,
    unknown_timeline,
)
from bulk_import.kinds.row_limits import reference_text
from bulk_import.kinds.row_plan import row_errors
from bulk_import.rules.errors import RuleError
from bulk_import.rules.flags import parse_flag
from bulk_import.rules.holidays import next_french_business_day
from bulk_import.rules.limits import reference_problem
from bulk_import.rules.strings import clean, is_blank

#: Name fields checked for the ``*`` of template instruction rows.
NAME_FIELDS: tuple[str, ...] = ("firstname", "lastname")
#: Text found in template instruction rows, compared case- and accent-insensitively.
INSTRUCTION_MARKERS: tuple[str, ...] = ("champs obligatoires", "champ obligatoire", "required field")
_SHORTEST_MARKER = min(len(m) for m in INSTRUCTION_MARKERS)
#: Column names that, found as the values of both name fields, make a row a repeated header row.
_HEADER_NAMES: dict[str, frozenset[str]] = {
    "firstname": frozenset({"firstname", "first name", "prenom"}),
    "lastname": frozenset({"lastname", "last name", "nom"}),
}


@dataclass(frozen=True)
class DebtsOptions:
    """Batch-level options of a debts import, with the dates its start modes resolve to."""

    tenant_id: str
    prices: PriceTable
    today: date
    next_business_day: date
    batch_name: str | None = None
    accept_expensive_destination: bool = False
    timeline_id: str | None = None
    timeline_start_mode: str | None = None
    #: The batch's phones already normalized (text as sent -> result or error message).
    phones: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def start_date(self, mode: str) -> date:
        """The timeline start date of ``mode`` (``immediate`` or ``next_day``)."""
        return self.next_business_day if mode == "next_day" else self.today


def today_in(timezone: str, now: datetime) -> date:
    """The calendar date at ``now`` in ``timezone`` (a naive ``now`` is taken as UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.astimezone(ZoneInfo(timezone)).date()


def debt_id(tenant_id: str, key: str) -> str:
    """The deterministic public id of a debt: ``"debt_"`` and 16 hex digits of a hash of tenant and key."""
    digest = hashlib.sha256(f"{tenant_id}\0{key}".encode()).hexdigest()
    return f"debt_{digest[:16]}"


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces: for comparing free text typed in templates."""
    if text.isascii():
        # ASCII has no accents, and its case folding is lower-casing: the same result, far cheaper.
        plain = text.lower()
    else:
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("_", " ").split())


def _identity(record: Mapping[str, Any]) -> str:
    """A stable hash of the normalized identity of a debt without ``internal_id``."""
    amount = record.get("amount")
    parts = [
        _fold(str(record.get("firstname", ""))),
        _fold(str(record.get("lastname", ""))),
        record.get("phone") or "",
        str(record.get("email") or "").lower(),
        # 100, 100.0 and 100.00 are the same amount.
        format(amount.normalize(), "f") if amount is not None else "",
        record.get("currency") or "",
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:32]


class DebtsKind(ImportKind[DebtsOptions]):
    """Bulk import of debts: 201 whenever the batch was processed, even when debts failed."""

    name: ClassVar[str] = "debts"
    entity: ClassVar[str] = "debt"
    records_field: ClassVar[str] = "debts"
    ref_fields: ClassVar[tuple[str, ...]] = ("temp_id", "internal_id")
    answer_row_lists: ClassVar[tuple[str, ...]] = ("failed", "skipped", "created")
    unique_refs: ClassVar[tuple[str, ...]] = ("temp_id",)
    max_records: ClassVar[int] = MAX_DEBTS
    max_body_bytes: ClassVar[int] = 1_000_000
    write_batch_size: ClassVar[int] = MAX_DEBTS
    route: ClassVar[str] = "/external-api/v1/debts/batch"
    scope: ClassVar[str] = "debts:write"
    request_model: ClassVar[type[BaseModel]] = DebtsRequest
    row_model: ClassVar[type[BaseModel] | None] = DebtRow
    #: French template headers (normalized: lower case, no accents, spaces or dashes).
    file_aliases: ClassVar[dict[str, str]] = {
        "prenom": "firstname",
        "nom": "lastname",
        "montant": "amount",
        "devise": "currency",
        "telephone": "phone",
        "tel": "phone",
        "courriel": "email",
        "mail": "email",
    }
    file_options: ClassVar[dict[str, tuple[str, str]]] = {
        "timeline-id": ("timeline_id", "text"),
        "timeline-start-mode": ("timeline_start_mode", "text"),
        "accept-expensive-destination": ("accept_expensive_destination", "flag"),
        "batch-name": ("batch_name", "text"),
    }
    summary: ClassVar[str] = "Bulk import debts (201 with created, failed and skipped debts)"

    def options(self, request: Mapping[str, Any], tenant: TenantConfig, now: datetime) -> DebtsOptions:
        """Check the batch-level options; see ``ImportKind.options``.

        Raises
        ------
        InvalidRequestError
            An unknown ``timeline_id``, or a batch option of the wrong type.
        """
        batch_name = request.get("batch_name")
        if batch_name is not None and not isinstance(batch_name, str):
            raise InvalidRequestError("batch_name: must be text")
        # Stored with every debt of the batch: it must be storable text like any value of a row.
        problem = reference_problem(batch_name) if batch_name is not None else None
        if problem is not None:
            raise InvalidRequestError(f"batch_name: {problem}")
        try:
            accept = parse_flag(request.get("accept_expensive_destination"))
        except RuleError as exc:
            raise InvalidRequestError(f"accept_expensive_destination: {exc}") from None
        try:
            mode = parse_start_mode(request.get("timeline_start_mode"))
        except RuleError as exc:
            raise InvalidRequestError(f"timeline_start_mode: {exc}") from None
        try:
            timeline = clean(request.get("timeline_id"))
        except RuleError as exc:
            raise InvalidRequestError(f"timeline_id: {exc}") from None
        if timeline is not None and timeline not in tenant.timelines:
            raise InvalidRequestError(f"timeline_id: {unknown_timeline(timeline, tenant.timelines)}")
        today = today_in(tenant.timezone, now)
        return DebtsOptions(
            tenant_id=tenant.tenant_id,
            prices=PriceTable.from_config(tenant.price_table),
            today=today,
            next_business_day=next_french_business_day(today),
            batch_name=clean(batch_name),
            accept_expensive_destination=bool(accept),
            timeline_id=timeline,
            timeline_start_mode=mode,
        )

    def skip_reason(self, raw: Any) -> str | None:
        """Empty rows, template instruction rows and repeated header rows (see the module notes)."""
        reason = super().skip_reason(raw)
        if reason is not None or not isinstance(raw, Mapping):
            return reason
        for name in NAME_FIELDS:
            value = raw.get(name)
            if isinstance(value, str) and value.strip().startswith("*"):
                return f"template instruction row ({name} starts with *)"
        for value in raw.values():
            if isinstance(value, str):
                if len(value) < _SHORTEST_MARKER and value.isascii():
                    continue  # folding never lengthens ASCII text: no marker fits in it
                folded = _fold(value)
                for marker in INSTRUCTION_MARKERS:
                    if marker in folded:
                        return f'template instruction row (contains "{marker}")'
        names = {n: raw.get(n) for n in NAME_FIELDS}
        if all(isinstance(v, str) and _fold(v) in _HEADER_NAMES[n] for n, v in names.items()):
            return "repeated header row"
        return None

    def validate(self, raw: Any, index: int, options: DebtsOptions, tenant: TenantConfig) -> RowOutcome:
        """Validate, price and schedule one debt; see ``ImportKind.validate``."""
        record, errors = row_errors(
            DebtRow,
            raw,
            context={
                "tenant": tenant,
                "prices": options.prices,
                "accept_expensive": options.accept_expensive_destination,
                "phones": options.phones,
            },
            required=REQUIRED_FIELDS,
        )
        if isinstance(raw, Mapping) and is_blank(raw.get("phone")) and is_blank(raw.get("email")):
            errors.append(FieldError("phone", "phone: at least one of phone or email is required"))
            record = None
        if record is None:
            return RowOutcome(index=index, raw=raw, errors=errors)
        return RowOutcome(index=index, raw=raw, record=self._normalized(record, options))

    @staticmethod
    def _normalized(record: dict[str, Any], options: DebtsOptions) -> dict[str, Any]:
        """The debt as stored: phone flattened, per-debt options resolved against the batch's."""
        out = {k: v for k, v in record.items() if k not in ("phone", "accept_expensive_destination")}
        phone: PricedPhone | None = record.get("phone")
        if phone is not None:
            out.update(
                phone=phone.e164,
                destination=phone.region,
                credits_per_call=phone.credits,
                expensive_destination=phone.expensive,
            )
        mode = record.get("timeline_start_mode") or options.timeline_start_mode or DEFAULT_START_MODE
        out["timeline_id"] = record.get("timeline_id") or options.timeline_id
        out["timeline_start_mode"] = mode
        out["timeline_start_date"] = options.start_date(mode).isoformat()
        return out

    def dedupe_key(self, raw: Any, options: DebtsOptions | None = None) -> str | None:
        """``internal#<internal_id>`` when the debt has one (its key to be); identity keys need the
        normalized debt, so only ``internal_id`` and ``temp_id`` (a unique reference) are checked across
        the chunks of a file."""
        if not isinstance(raw, Mapping):
            return None
        internal = reference_text(raw.get("internal_id"))
        return f"internal#{internal}" if internal else None

    def key(self, record: Mapping[str, Any], options: DebtsOptions) -> str:
        """``internal#<internal_id>``, else ``identity#<hash>`` (see the module notes)."""
        internal = record.get("internal_id")
        if internal:
            return f"internal#{internal}"
        return f"identity#{_identity(record)}"

    def duplicate_field(self, outcome: RowOutcome) -> str:
        """``internal_id`` when the key came from it, else ``row`` (same identity as an earlier debt)."""
        record = outcome.record or {}
        return "internal_id" if record.get("internal_id") else "row"

    def to_stored(self, record: Mapping[str, Any], key: str, options: DebtsOptions) -> StoredRecord:
        """The normalized debt with its ``debt_id`` and batch name."""
        data = {**record, "debt_id": debt_id(options.tenant_id, key), "batch_name": options.batch_name}
        return StoredRecord(entity=self.entity, key=key, data=data)

    def stored_id(self, outcome: RowOutcome, tenant_id: str) -> str | None:
        """The ``debt_id`` of a stored debt, as ``created[]`` names it."""
        key = super().stored_id(outcome, tenant_id)
        return debt_id(tenant_id, key) if key is not None else None

    def respond(self, result: ImportResult[DebtsOptions]) -> tuple[int, dict[str, Any]]:
        """201 with ``summary``, ``created``, ``failed`` and ``skipped``."""
        tenant_id = result.job.tenant_id
        created: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        credits = 0
        for o in result.outcomes:
            refs = {"temp_id": o.refs.get("temp_id"), "internal_id": o.refs.get("internal_id")}
            if o.status == "skipped":
                skipped.append({"index": o.index, "reason": o.skipped_reason, "data": self.redact(o.raw)})
            elif o.status in ("created", "updated") and o.record is not None and o.key is not None:
                per_call = o.record.get("credits_per_call")
                credits += per_call or 0
                created.append(
                    {
                        "index": o.index,
                        **refs,
                        "debt_id": debt_id(tenant_id, o.key),
                        "phone": o.record.get("phone"),
                        "destination": o.record.get("destination"),
                        "credits_per_call": per_call,
                    }
                )
            else:
                failed.append(
                    {"index": o.index, **refs, "data": self.redact(o.raw), "errors": _grouped(o.errors)}
                )
        counts = result.job.counts
        body: dict[str, Any] = {
            "error": False,
            "import_id": result.job.import_id,
            "batch_name": result.options.batch_name,
            "summary": {
                "total": counts.total,
                "created": len(created),
                "failed": len(failed),
                "skipped": len(skipped),
                "credits": credits,
            },
            "created": created,
            "failed": failed,
            "skipped": skipped,
        }
        return 201, body


def _grouped(errors: list[FieldError]) -> dict[str, list[str]]:
    """``{field: [messages]}`` without the ``"field: "`` prefix the stored messages carry."""
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e.field, []).append(e.message.removeprefix(f"{e.field}: "))
    return out
