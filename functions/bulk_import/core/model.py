"""Value objects shared by the pipeline, the kinds and the stores."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

ImportStatus = Literal["QUEUED", "PROCESSING", "DONE", "FAILED", "CANCELLED"]
RowStatus = Literal["created", "updated", "failed", "skipped", "valid"]
#: State of an import's call stage; ``NOT_REQUESTED`` when the import asked for no calls.
CallStatus = Literal["PENDING", "RUNNING", "DONE", "FAILED", "CANCELLED"]


@dataclass(slots=True)
class FieldError:
    """One problem with one field of one row; ``message`` already names the field."""

    field: str
    message: str


@dataclass(slots=True)
class RowOutcome:
    """What the pipeline learned about one input row.

    ``index`` is the 0-based position in the request (or data row in a file), ``refs`` the caller's own
    references for the row (``loan_id``, ``temp_id``, ``id``…) when it has them.
    """

    index: int
    raw: Any
    refs: dict[str, str] = field(default_factory=dict)
    record: dict[str, Any] | None = None
    errors: list[FieldError] = field(default_factory=list)
    skipped_reason: str | None = None
    status: RowStatus = "valid"
    key: str | None = None

    @property
    def is_valid(self) -> bool:
        """True when the row passed every rule and was neither skipped nor failed."""
        return self.record is not None and not self.errors and self.skipped_reason is None

    def error_entries(self) -> list[dict[str, Any]]:
        """Per-row errors as the API reports them: index, the caller's references, field, message."""
        return [
            {"index": self.index, **self.refs, "field": e.field, "message": e.message} for e in self.errors
        ]

    def fail(self, field_name: str, message: str) -> None:
        """Mark the row failed with one more field error."""
        self.errors.append(FieldError(field_name, message))
        self.record = None
        self.status = "failed"


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A normalized record ready to store: ``entity`` and ``key`` identify it within its tenant.

    The key is deterministic (built from the caller's references), so writing it again is an update.
    """

    entity: str
    key: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class WriteFailure:
    """A record that could not be written after every retry, with the reason."""

    key: str
    reason: str


@dataclass(slots=True)
class Counts:
    """Row counters of an import.

    ``cancelled`` counts rows a cancel kept from being written: the rows of the chunks a worker reached
    after the import was cancelled.
    """

    total: int = 0
    valid: int = 0
    invalid: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    cancelled: int = 0

    def shown(self, status: str) -> dict[str, int]:
        """The counters as an import's view shows them.

        A cancelled import's chunks still in the queue are counted ``cancelled`` by the workers that
        reach them; until then the view already counts every row not accounted for as cancelled, so
        that ``succeeded + failed + skipped + cancelled == total`` holds as soon as the cancel answers.
        """
        body = self.as_dict()
        if status == "CANCELLED":
            body["cancelled"] = max(0, self.total - self.succeeded - self.failed - self.skipped)
        return body

    def add(self, other: Counts) -> None:
        """Add ``other`` into these counters."""
        for name in self.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, int]:
        """The counters as a plain mapping (API and storage shape); ``cancelled`` only when some are."""
        return {name: getattr(self, name) for name in self.__slots__ if name != "cancelled" or self.cancelled}

    @classmethod
    def of(cls, outcomes: list[RowOutcome]) -> Counts:
        """Count outcomes after persistence."""
        c = cls(total=len(outcomes))
        for o in outcomes:
            if o.status == "skipped":
                c.skipped += 1
                continue
            if o.errors and o.key is None:
                c.invalid += 1
            else:
                c.valid += 1
            if o.status in ("created", "updated"):
                c.succeeded += 1
            else:
                c.failed += 1
        return c


@dataclass(slots=True)
class CallStage:
    """The call stage of an import that asked for calls, as ``GET /v1/imports/{id}`` shows it.

    ``PENDING`` until the stored customers are split into batches (the workflow may still be waiting for
    the insertion stage), ``RUNNING`` while batches publish, then ``DONE`` or ``FAILED``. ``requested``,
    ``skipped`` and ``failed`` count customers; ``batches`` and ``batches_done`` count batches of up to 500.
    ``do_not_call_list`` and ``frequency`` count the skipped customers whose number is on the tenant's
    do-not-call list or had its weekly cap of calls (the others had ``doNotCall``); ``waiting`` maps each
    window opening (ISO 8601, UTC) to the customers deferred until it, whose calls are not requested yet.
    The API shows a RUNNING stage with deferred customers as ``SCHEDULED``.
    """

    status: CallStatus = "PENDING"
    batches: int = 0
    batches_done: int = 0
    requested: int = 0
    skipped: int = 0
    failed: int = 0
    execution_id: str | None = None
    do_not_call_list: int = 0
    frequency: int = 0
    waiting: dict[str, int] = field(default_factory=dict)

    @property
    def deferred(self) -> int:
        """Customers waiting for their calling window (none once the stage ended: cancelled or failed)."""
        if self.status != "RUNNING":
            return 0
        return sum(n for n in self.waiting.values() if n > 0)

    @property
    def next_window_at(self) -> str | None:
        """The earliest window opening a deferred customer waits for, if any."""
        if self.status != "RUNNING":
            return None
        return min((at for at, n in self.waiting.items() if n > 0), default=None)

    def as_dict(self) -> dict[str, Any]:
        """The API shape."""
        deferred = self.deferred
        return {
            "status": "SCHEDULED" if self.status == "RUNNING" and deferred else self.status,
            "batches": self.batches,
            "batchesDone": self.batches_done,
            "requested": self.requested,
            "skipped": self.skipped,
            "failed": self.failed,
            "deferred": deferred,
            "nextWindowAt": self.next_window_at,
            "skippedBy": {
                "doNotCall": max(self.skipped - self.do_not_call_list - self.frequency, 0),
                "doNotCallList": self.do_not_call_list,
                "frequency": self.frequency,
            },
            "executionId": self.execution_id,
        }


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One call to request for one stored customer: who to call, for which campaign, under which key."""

    campaign_id: str
    customer_key: str
    phone: str
    reference: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class ImportJob:
    """One bulk write: its kind, status, counters, timestamps and follow-up state.

    An import with a follow-up stage (``calls``) is sequenced by the workflow: ``inserted_at`` is set when
    its records are all accounted for, and it becomes ``DONE`` (or ``FAILED``) when the workflow finishes.
    ``task_token`` is the token the workflow's insertion stage waits on (chunked imports); it never leaves
    the service.

    File imports have ``source_file``: the object key of the file, its name, format and what
    reading it found (columns, warnings); their workflow writes the result files (``files``: name ->
    object key) at finalization. ``execution_id`` is the workflow execution, once started.
    """

    import_id: str
    tenant_id: str
    kind: str
    source: str
    status: ImportStatus
    created_at: datetime
    updated_at: datetime
    counts: Counts = field(default_factory=Counts)
    completed_at: datetime | None = None
    options: dict[str, Any] = field(default_factory=dict)
    calls: CallStage | None = None
    files: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    chunks_total: int = 0
    chunks_done: int = 0
    batches: int = 0
    inserted_at: datetime | None = None
    task_token: str | None = None
    source_file: dict[str, Any] | None = None
    execution_id: str | None = None

    @property
    def has_follow_up(self) -> bool:
        """True when a workflow sequences this import after its insertion: calls were asked for, or it
        came from a file (its result files are written at finalization)."""
        return self.calls is not None or self.source_file is not None

    def to_api(self) -> dict[str, Any]:
        """The import as ``GET /v1/imports/{importId}`` returns it."""
        body: dict[str, Any] = {
            "importId": self.import_id,
            "kind": self.kind,
            "source": self.source,
            "status": self.status,
            "counts": self.counts.shown(self.status),
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
            "completedAt": _iso(self.completed_at) if self.completed_at else None,
            "calls": self.calls.as_dict() if self.calls is not None else {"status": "NOT_REQUESTED"},
        }
        if self.chunks_total:
            body["chunks"] = {"total": self.chunks_total, "done": self.chunks_done}
        if self.source_file is not None:
            body["file"] = file_view(self.source_file)
        if self.files:
            body["files"] = dict(self.files)
        if self.error:
            body["error"] = self.error
        return body


#: What ``GET /v1/imports/{id}`` shows of a file import's ``source_file``.
FILE_VIEW_FIELDS = ("name", "key", "format", "awaitingUpload", "unknownColumns", "warnings")


def file_view(source_file: dict[str, Any]) -> dict[str, Any]:
    """The public part of an import's ``source_file`` (no version ids or etags)."""
    return {k: source_file[k] for k in FILE_VIEW_FIELDS if source_file.get(k) not in (None, [], False)}


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


#: The events a webhook endpoint may ask for: an import ended (each final status), or its call stage did.
WEBHOOK_EVENTS = ("import.completed", "import.failed", "import.cancelled", "calls.completed")


@dataclass(slots=True)
class WebhookEndpoint:
    """A tenant's webhook endpoint: where deliveries go, which events, and its signing secret, sealed.

    ``sealed_secret`` is the ``whsec_`` secret as the secret box encrypted it: the clear secret is
    returned once, when the endpoint is configured, and opened again only to sign a delivery.
    ``disabled_at`` is set when the endpoint answered 410 Gone: nothing is delivered to it until it is
    configured again.
    """

    tenant_id: str
    url: str
    events: tuple[str, ...]
    sealed_secret: str
    created_at: datetime
    updated_at: datetime
    disabled_at: datetime | None = None
    disabled_reason: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The endpoint as ``GET /v1/webhooks`` shows it (never its secret)."""
        return {
            "url": self.url,
            "events": list(self.events),
            "enabled": self.disabled_at is None,
            "disabledAt": _iso(self.disabled_at) if self.disabled_at else None,
            "disabledReason": self.disabled_reason,
            "createdAt": _iso(self.created_at),
            "updatedAt": _iso(self.updated_at),
        }
