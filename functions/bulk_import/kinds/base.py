"""The plug-in interface of an import kind: ``ImportKind`` and the ``ImportResult`` it answers from.

A kind is one module: its row schema, its rules, its keys and its response shape. The pipeline
(``bulk_import.engine.pipeline``) is written once and calls a kind only through this interface.
Validating a row against a row model, and the readable messages of its errors, live in ``row_plan``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from bulk_import.core.model import CallRequest, ImportJob, RowOutcome, StoredRecord
from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.row_limits import mask_sensitive, reference_text
from bulk_import.rules.strings import is_blank

if TYPE_CHECKING:  # the pipeline imports this module; only the types are needed here
    from pydantic import BaseModel  # not imported with the kinds' base: reads of imports never validate

    from bulk_import.core.ports import Deps

OptionsT = TypeVar("OptionsT")


@dataclass
class ImportResult(Generic[OptionsT]):
    """What an import produced: the job, every row's outcome and how many write batches it took."""

    job: ImportJob
    options: OptionsT
    outcomes: list[RowOutcome]
    batches: int
    #: What was handed to the workflow when the import asked for calls (``callResults``), else None.
    call_results: dict[str, Any] | None = None


class ImportKind(ABC, Generic[OptionsT]):
    """One kind of bulk import.

    Class attributes
    ----------------
    name
        The kind's name in imports, file-drop keys and the registry (``campaign-customers``).
    entity
        The stored entity (``customer``, ``debt``…): records of one entity share a key space per tenant.
    records_field
        The request body field holding the rows.
    ref_fields
        The caller's reference fields echoed in per-row errors (``loan_id``, ``temp_id``…).
    unique_refs
        Reference fields whose values must be unique within one import even when the records' keys
        differ (``temp_id``, which matches results to rows): a repeat fails the later row.
    max_records, max_body_bytes
        Request limits (400 and 413 beyond them).
    write_batch_size
        Records per reported write batch (each written as parallel BatchWriteItem calls of 25).
    route, scope, request_model, summary
        The HTTP API of the kind: its bulk route, the scope it needs, the pydantic model of its body
        (which defines the OpenAPI document and rejects malformed envelopes), and a one-line summary.
    """

    name: ClassVar[str]
    entity: ClassVar[str]
    records_field: ClassVar[str] = "records"
    ref_fields: ClassVar[tuple[str, ...]] = ()
    unique_refs: ClassVar[tuple[str, ...]] = ()
    max_records: ClassVar[int] = 10_000
    max_body_bytes: ClassVar[int] = 6_000_000
    write_batch_size: ClassVar[int] = 1000
    route: ClassVar[str]
    scope: ClassVar[str]
    request_model: ClassVar[type[BaseModel]]
    summary: ClassVar[str] = ""
    #: ``sync``: validated and written inline, final counts in the response. ``async``: stored, answered
    #: 202 at once, and processed by chunk workers from SQS.
    mode: ClassVar[str] = "sync"
    #: Async kinds: the GET route of one job in the kind's own shape (``/payments/payments/import/<job_id>``;
    #: the path parameter is always named ``job_id``), answered by ``job_view``.
    job_route: ClassVar[str | None] = None
    #: Rows per SQS chunk for async imports (a chunk is retried as a whole).
    chunk_size: ClassVar[int] = 250
    #: When true the pipeline reads the stored versions of a chunk's keys before writing and calls
    #: ``reconcile`` for each valid row (updates allowed only in some states, created vs updated).
    reads_existing: ClassVar[bool] = False
    #: The stored fields ``reconcile`` reads from a row's stored version: only these are read back
    #: (with ``importId``, by which the pipeline tells created from updated). None: the whole record.
    existing_fields: ClassVar[tuple[str, ...] | None] = None
    #: The stored fields ``call_request`` reads: the call stage reads only these back (None: all).
    call_fields: ClassVar[tuple[str, ...] | None] = None
    #: The lists of the synchronous answer (``respond``) that hold an entry per row, as dotted paths in
    #: the order they matter: cut from the end when the answer would pass Lambda's response limit
    #: (``engine.answers``).
    answer_row_lists: ClassVar[tuple[str, ...]] = ()

    # -- file imports -------------------------------------------------------------------
    #: The pydantic model of one row: its fields are the columns a file's header may name (case,
    #: spaces, underscores and dashes ignored; nested models as ``source.id``).
    row_model: ClassVar[type[BaseModel] | None] = None
    #: Other header names accepted for a field (normalized name -> field), e.g. French template headers.
    file_aliases: ClassVar[dict[str, str]] = {}
    #: Object metadata of a dropped file -> the request option it sets: ``(option, type)`` where the
    #: option may be dotted (``callConfig.agentId``) and the type is ``text`` or ``flag``.
    file_options: ClassVar[dict[str, tuple[str, str]]] = {}

    @abstractmethod
    def options(self, request: Mapping[str, Any], tenant: TenantConfig, now: datetime) -> OptionsT:
        """Check the batch-level part of a request against the tenant and return the import options.

        ``now`` is the pipeline clock's time (UTC), for rules that depend on the date.

        Raises
        ------
        InvalidRequestError
            The request cannot be processed at all (400).
        NotFoundError
            It names something the tenant does not have (404).
        """

    @abstractmethod
    def validate(self, raw: Any, index: int, options: OptionsT, tenant: TenantConfig) -> RowOutcome:
        """Validate and normalize one row; the outcome carries the record or the field errors."""

    @abstractmethod
    def key(self, record: Mapping[str, Any], options: OptionsT) -> str:
        """The record's deterministic key within the tenant (same key = same record, an update)."""

    @abstractmethod
    def to_stored(self, record: Mapping[str, Any], key: str, options: OptionsT) -> StoredRecord:
        """The record as stored."""

    def prepare(self, rows: Sequence[Any], options: OptionsT, tenant: TenantConfig, deps: Deps) -> OptionsT:
        """Fetch through the ports what validating ``rows`` needs beyond the request and the tenant.

        The pipeline calls it once per request or chunk, after ``options`` and before ``validate_rows``,
        so that ``validate`` itself stays pure: I/O happens here, in one batched call, and its results
        travel in the options returned. Default: no I/O, the options unchanged.

        Parameters
        ----------
        rows
            The raw rows about to be validated (one request, or one chunk of an async import).
        options, tenant
            The options built by ``options`` and the tenant's configuration.
        deps
            The ports (``deps.lms`` for customers sent with ``sync``).

        Returns
        -------
        OptionsT
            The options to validate ``rows`` with.
        """
        return options

    def warm(self, rows: Sequence[Any], options: OptionsT) -> None:
        """Run expensive column rules over all rows before row-by-row validation (see ``warm_rows``)."""

    def skip_reason(self, raw: Any) -> str | None:
        """Why a row is skipped rather than validated (empty or instruction rows), or None."""
        if raw is None:
            return "empty row"
        if type(raw) is dict or isinstance(raw, Mapping):  # the exact type first: no ABC check per row
            for value in raw.values():
                if not is_blank(value):
                    return None
            return "empty row"
        return None

    def references(self, raw: Any) -> dict[str, str]:
        """The caller's references of a raw row (non-empty ones of ``ref_fields``), for error reports."""
        refs: dict[str, str] = {}
        if type(raw) is dict or isinstance(raw, Mapping):
            for name in self.ref_fields:
                # A value that cannot be a reference (too long, control characters) is not echoed: its
                # row fails on it, and reports stay small and encodable.
                text = reference_text(raw.get(name))
                if text is not None:
                    refs[name] = text
        return refs

    def redact(self, raw: Any) -> Any:
        """A row as it may appear in logs and error reports that echo rows as sent (e.g. ``errors.csv``).

        Default: the row with the value of every key naming a social security number masked
        (``mask_sensitive``), whatever the kind; every report that echoes rows must pass them through here.
        """
        return mask_sensitive(raw)

    def duplicate_field(self, outcome: RowOutcome) -> str:
        """The field a row repeating an earlier row's key is reported on (default: its first reference)."""
        return next(iter(outcome.refs), "row")

    def duplicate_message(self, first_index: int) -> str:
        """Message of a row whose key already appeared in the same import."""
        return f"duplicate of row {first_index}"

    def respond(self, result: ImportResult[OptionsT]) -> tuple[int, dict[str, Any]]:
        """The HTTP status and body of a finished synchronous import, in the kind's own shape."""
        raise NotImplementedError(f"{self.name} is not a synchronous kind")

    # -- follow-up: calls -----------------------------------------------------------
    def call_config(self, options: OptionsT) -> dict[str, str] | None:
        """``{"agentId", "dispositionId"}`` when the import asked for calls once its records are stored.

        Default: None, the kind never asks for calls. A kind that returns a configuration gets a workflow
        whose call stage reads its stored records back and asks ``call_request`` about each.
        """
        return None

    def call_request(self, data: Mapping[str, Any], key: str) -> CallRequest | None:
        """The call to request for one stored record of this kind, or None when it must not be called
        (``doNotCall``, no phone). ``data`` is the record as stored (``to_stored``), ``key`` its key."""
        return None

    # -- asynchronous kinds ------------------------------------------------------------------
    def before_split(self, raw: Any, index: int, import_id: str) -> Any:
        """Adjust a raw row when an async import is split into chunks (e.g. assign a missing id).

        Must be deterministic in ``(raw, index, import_id)`` so a retried split gives the same rows.
        """
        return raw

    def dedupe_key(self, raw: Any, options: OptionsT | None = None) -> str | None:
        """The row's key as far as it can be told before validation, for duplicate detection across the
        chunks of one async import (the later row fails); None when the row has no usable key yet.

        ``options`` are the import's (None when not known), for kinds whose key depends on them."""
        return None

    def reconcile(self, outcome: RowOutcome, existing: Mapping[str, Any] | None, import_id: str) -> None:
        """Check a valid row against its stored version (``reads_existing`` kinds); may ``outcome.fail``.

        ``existing`` is None when the key is new. A record last written by this same import counts as
        new (a redelivered chunk must not turn "created" into "updated").
        """

    def stored_id(self, outcome: RowOutcome, tenant_id: str) -> str | None:
        """The id a stored row is known by (``results.csv``'s ``storedId``): its record key by default
        (a kind whose answers name its records otherwise says so); None for a row not stored."""
        stored = outcome.record is not None and outcome.status in ("created", "updated")
        return outcome.key if stored else None

    def row_result(self, outcome: RowOutcome) -> dict[str, Any]:
        """The per-row result kept for async imports and shown by the kind's job view."""
        return {
            "index": outcome.index,
            **outcome.refs,
            "status": outcome.status,
            "errors": [e.message for e in outcome.errors],
        }

    def accepted(self, job: ImportJob) -> tuple[int, dict[str, Any]]:
        """Status and body answered when an async import is accepted (default: 202 and the import)."""
        return 202, job.to_api()

    def job_view(self, job: ImportJob, results: list[dict[str, Any]]) -> dict[str, Any]:
        """The kind's own view of an async import and its per-row results (its GET route): the
        import's own view (``counts.cancelled`` when cancelled), ``retryOf`` for a retry, and
        ``results``."""
        view = {**job.to_api(), "results": results}
        if job.options.get("retryOf"):
            view["retryOf"] = job.options["retryOf"]
        return view
