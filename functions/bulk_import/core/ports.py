"""The interfaces the use cases talk through; ``bulk_import.adapters`` has one AWS implementation each.

Tests hand in fakes (``tests/fakes.py``) or the AWS adapters over moto.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import import_module
from typing import IO, TYPE_CHECKING, Any, Protocol

from bulk_import.core.errors import NotFoundError

if TYPE_CHECKING:
    # The model and the ports' values, for the annotations: importing the ports creates neither (see
    # ``__getattr__``).
    from datetime import datetime

    from bulk_import.core.model import (
        CallStatus,
        Counts,
        ImportJob,
        ImportStatus,
        RowOutcome,
        StoredRecord,
    )
    from bulk_import.core.model import WriteFailure as WriteFailure
    from bulk_import.core.tenants import Campaign, Principal, TenantConfig
    from bulk_import.core.values import BusEvent as BusEvent
    from bulk_import.core.values import CallCounts as CallCounts
    from bulk_import.core.values import CallSchedule as CallSchedule
    from bulk_import.core.values import ErrorPage as ErrorPage
    from bulk_import.core.values import PendingUpload as PendingUpload
    from bulk_import.core.values import RefusedWrite as RefusedWrite
    from bulk_import.core.values import ResultPage as ResultPage
    from bulk_import.core.values import StoredFile as StoredFile
    from bulk_import.core.webhook_ports import AddressResolver as AddressResolver
    from bulk_import.core.webhook_ports import SecretBox as SecretBox
    from bulk_import.core.webhook_ports import WebhookPorts as WebhookPorts
    from bulk_import.core.webhook_ports import WebhookQueue as WebhookQueue
    from bulk_import.core.webhook_ports import WebhookStore as WebhookStore
    from bulk_import.core.webhook_ports import WebhookTransport as WebhookTransport

#: The names this module gives for classes defined elsewhere, and where each is: imported when first
#: asked for (``from bulk_import.core.ports import ErrorPage``), so that the ports cost only themselves.
_ELSEWHERE = {
    **dict.fromkeys(
        (
            "BusEvent",
            "CallCounts",
            "CallSchedule",
            "ErrorPage",
            "PendingUpload",
            "RefusedWrite",
            "ResultPage",
            "StoredFile",
        ),
        "bulk_import.core.values",
    ),
    "WriteFailure": "bulk_import.core.model",
    **dict.fromkeys(
        (
            "AddressResolver",
            "SecretBox",
            "WebhookPorts",
            "WebhookQueue",
            "WebhookStore",
            "WebhookTransport",
        ),
        "bulk_import.core.webhook_ports",
    ),
}


def __getattr__(name: str) -> Any:
    module = _ELSEWHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(module), name)


class Clock(Protocol):
    """The time, in UTC (a port so tests can fix it)."""

    def now(self) -> datetime:
        """Return the current time, timezone-aware, in UTC."""
        ...


class TenantDirectory(Protocol):
    """API keys and per-tenant configuration."""

    def principal_for_key_hash(self, key_hash: str) -> Principal | None:
        """Return the tenant and scopes of a key hash, or None when the key is unknown."""
        ...

    def load_config(self, tenant_id: str) -> TenantConfig | None:
        """Return the tenant's configuration, or None when the tenant does not exist."""
        ...

    def save_campaign(self, tenant_id: str, campaign: Campaign) -> None:
        """Create or replace a campaign of the tenant."""
        ...


class RecordStore(Protocol):
    """Where imported records live, always under their tenant."""

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        """Write records (idempotent by key) and return those still unwritten after retries."""
        ...

    def get_records(
        self, tenant_id: str, entity: str, keys: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Return the stored data of the given keys that exist (only ``fields`` of it, when given)."""
        ...

    def iter_import_records(
        self, tenant_id: str, import_id: str, entity: str, fields: Sequence[str] | None = None
    ) -> Iterator[StoredRecord]:
        """Yield the records of ``entity`` an import stored (only ``fields`` of them, when given).

        Only imports with a call stage are listed: their records are listed as they are stored (the
        import's call lists), for the call stage to read back."""
        ...


class ImportRepository(Protocol):
    """Import jobs, their counters and per-row results."""

    def save(self, job: ImportJob) -> None:
        """Create or overwrite an import's metadata."""
        ...

    def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
        """Return an import of the tenant, or None (also for another tenant's id)."""
        ...

    def add_rows(
        self, job: ImportJob, outcomes: Sequence[RowOutcome], results: Sequence[dict[str, Any]] | None = None
    ) -> None:
        """Store per-row errors and, for async kinds, each row's result (idempotent by row index)."""
        ...

    def list_results(self, tenant_id: str, import_id: str) -> list[dict[str, Any]]:
        """Every stored per-row result of an import, in row order."""
        ...

    def list_results_page(
        self, tenant_id: str, import_id: str, limit: int, after: int | None = None
    ) -> ResultPage:
        """At most ``limit`` per-row results of an import in row order, from the row after ``after`` on."""
        ...

    def count_results(self, tenant_id: str, import_id: str) -> dict[str, int]:
        """How many stored per-row results of an import have each ``status`` (reads the statuses only)."""
        ...

    def mark_processing(self, tenant_id: str, import_id: str, now: datetime) -> None:
        """Move a QUEUED import to PROCESSING (no-op in any other state)."""
        ...

    def apply_chunk(self, tenant_id: str, import_id: str, chunk: int, counts: Counts, now: datetime) -> bool:
        """Add a chunk's counts to its import atomically, once: False when that chunk was applied already."""
        ...

    def complete_if_done(
        self, tenant_id: str, import_id: str, now: datetime, *, final: bool = True
    ) -> ImportJob | None:
        """Note that every chunk is accounted for; return the job (as stored) when this call did it.

        ``final``: the import becomes DONE. Otherwise a workflow follows the insertion: the import stays
        PROCESSING with ``inserted_at`` set, once.
        """
        ...

    def save_chunk_error(self, tenant_id: str, import_id: str, chunk: int, reason: str) -> None:
        """Remember why a chunk failed (read when it reaches the dead-letter queue)."""
        ...

    def get_chunk_error(self, tenant_id: str, import_id: str, chunk: int) -> str | None:
        """The last recorded failure of a chunk, if any."""
        ...

    def list_errors(self, tenant_id: str, import_id: str, limit: int, cursor: str | None) -> ErrorPage:
        """Page through an import's per-row errors in row order."""
        ...

    # -- the life of an import -----------------------------------------------------------------
    def list_page(
        self, tenant_id: str, limit: int, after: str | None, kind: str | None, status: str | None
    ) -> tuple[list[ImportJob], str | None]:
        """Up to ``limit`` imports of the tenant of ``kind`` and ``status`` (when given), newest first.

        ``after`` is a position a previous page returned; the position returned is None after the last
        page. Read through a per-tenant index, never by scanning every tenant's imports.
        """
        ...

    def cancel(self, tenant_id: str, import_id: str, now: datetime) -> ImportJob | None:
        """Make a QUEUED or PROCESSING import CANCELLED; return it as stored, None in any other state."""
        ...

    # -- uploads waiting for their file ------------------------------------------------------------
    def add_pending_upload(self, upload: PendingUpload) -> None:
        """Remember an upload that must fail at ``upload.due`` if its file never arrives."""
        ...

    def due_uploads(self, now: datetime, since: datetime) -> list[PendingUpload]:
        """The pending uploads due between ``since`` and ``now`` (read by time, never by a scan)."""
        ...

    def remove_pending_upload(self, upload: PendingUpload) -> None:
        """Forget a pending upload (its file arrived, or its import was failed)."""
        ...

    # -- the workflow; each is one conditional or additive update of the import --------------
    def set_execution(self, tenant_id: str, import_id: str, execution_id: str, now: datetime) -> None:
        """Record the workflow execution that sequences the import."""
        ...

    def save_task_token(self, tenant_id: str, import_id: str, token: str, now: datetime) -> ImportJob | None:
        """Store the token the insertion stage waits on; return the import as stored (None: no import)."""
        ...

    def apply_call_batch(
        self, tenant_id: str, import_id: str, batch: int, counts: CallCounts, now: datetime
    ) -> bool:
        """Add one call batch's counts to the import once: False when that batch was counted already."""
        ...

    def schedule_calls(self, tenant_id: str, import_id: str, schedule: CallSchedule, now: datetime) -> None:
        """Start the call stage: its batches, the customers skipped by reason and those deferred to their
        window."""
        ...

    def finish(
        self,
        tenant_id: str,
        import_id: str,
        status: ImportStatus | None,
        now: datetime,
        *,
        error: str | None = None,
        calls_status: CallStatus | None = None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        """Set the import's final status, its call stage's when given, (failures) why, and (file
        imports) the object keys of its result files. ``status`` None leaves the import's status and
        ``completedAt`` as they are (the call stage of a DONE import ending later).

        Raises
        ------
        ConflictError
            ``status`` is ``DONE`` and the import was cancelled meanwhile: the cancel stands and nothing
            is written (the caller records its files with ``status`` None).
        """
        ...

    def requested_calls(
        self, tenant_id: str, import_id: str, keys: Sequence[str], *, batch: int = 0
    ) -> set[str]:
        """Which of these customers already had their call requested by call batch ``batch`` of this
        import."""
        ...

    def record_requested_calls(
        self, tenant_id: str, import_id: str, keys: Sequence[str], *, batch: int = 0
    ) -> None:
        """Remember that these customers' calls were requested by call batch ``batch`` (kept per batch,
        with the keys it recorded before)."""
        ...


IdFactory = Callable[[], str]


class PayloadStore(Protocol):
    """Request payloads and chunk bodies too large for a queue message (S3)."""

    def put_json(self, key: str, value: Any) -> None:
        """Store ``value`` as JSON under ``key``."""
        ...

    def get_json(self, key: str) -> Any:
        """Load the JSON stored under ``key``."""
        ...


class FileStore(Protocol):
    """Dropped files and result files (the import bucket).

    Keys are the bucket's: ``incoming/{tenantId}/{kind}/{name}`` for files to import,
    ``results/{tenantId}/{importId}/...`` for result files.
    """

    def describe(self, key: str) -> StoredFile | None:
        """Size, metadata and identity of an object, or None when it does not exist."""
        ...

    def open(self, key: str, *, version: str | None = None, etag: str | None = None) -> IO[bytes]:
        """A binary stream of the object (read as it goes; never held whole in memory).

        Raises
        ------
        FileChangedError
            ``version``/``etag`` no longer name the object's content (replaced or deleted).
        """
        ...

    def put(self, key: str, body: IO[bytes], content_type: str) -> None:
        """Store a stream as an object (uploaded in parts when large)."""
        ...

    def upload_url(self, key: str, expires_in: int) -> str:
        """A presigned URL to PUT an object at ``key``."""
        ...

    def download_url(self, key: str, expires_in: int, filename: str | None = None) -> str:
        """A presigned URL to GET an object (downloaded as ``filename`` when given)."""
        ...

    def tag(self, key: str, tags: Mapping[str, str], *, version: str | None = None) -> None:
        """Set tags on an object (the import a dropped file became)."""
        ...


class ChunkQueue(Protocol):
    """The queue that hands chunks of async imports to workers (SQS)."""

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Send chunk messages; raise when any could not be sent."""
        ...


class CallCaps(Protocol):
    """How many calls each phone number got lately, counted atomically across imports."""

    def take(
        self, tenant_id: str, calls: Sequence[tuple[str, str]], now: datetime, max_calls: int
    ) -> set[str]:
        """Take one slot per ``(phone, call id)`` where the phone had fewer than ``max_calls`` calls in the
        7 days up to ``now``; return the call ids that got one.

        Idempotent per call id: a call that holds a slot already keeps it and is returned again.
        """
        ...


class EventBus(Protocol):
    """The bus follow-up work is published to (EventBridge)."""

    max_entries: int

    def put_events(self, events: Sequence[BusEvent]) -> list[str | None]:
        """Publish up to ``max_entries`` events in one call.

        Returns
        -------
        list[str | None]
            One entry per event, in order: None when it was accepted, else the reason it was not (such
            entries may be sent again).

        Raises
        ------
        Exception
            The call as a whole failed (nothing was published).
        """
        ...


class Workflow(Protocol):
    """The state machine that sequences an import after its insertion (Step Functions)."""

    def start(self, job: ImportJob, *, chunked: bool) -> str:
        """Start the import's execution (idempotent by import) and return the execution's id.

        ``chunked``: the insertion stage waits until every chunk is accounted for; otherwise the records
        are stored already.
        """
        ...

    def resume(self, token: str, output: dict[str, Any]) -> None:
        """Let the state waiting on ``token`` continue with ``output`` (a stale token is ignored)."""
        ...


class LmsClient(Protocol):
    """A tenant's loan management system (LMS), read by customers sent with ``sync: true``.

    One interface, two implementations (``bulk_import.adapters.lms``): records loaded into DynamoDB by
    the seed file, and an HTTP LMS whose URL and credentials are in the tenant's configuration.
    Customer records use the API's field names (``firstName``, ``zipCode``…) plus ``loans``, a list of
    ``{"id": <int>, …}``.
    """

    def fetch_customer(self, tenant: TenantConfig, customer_id: str) -> dict[str, Any] | None:
        """The LMS record of one customer, or None when the LMS does not know the id.

        Raises
        ------
        LmsUnavailableError
            The LMS could not be reached or answered an error other than "not found".
        """
        ...

    def fetch_customers(self, tenant: TenantConfig, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The LMS records of several customers, by id; ids the LMS does not know are left out.

        Raises
        ------
        LmsUnavailableError
            As ``fetch_customer``.
        """
        ...


@dataclass
class Deps:
    """The ports a use case needs, built once per container by the entry point (or by a test)."""

    tenants: TenantDirectory
    records: RecordStore
    imports: ImportRepository
    clock: Clock
    new_id: IdFactory
    payloads: PayloadStore | None = None
    queue: ChunkQueue | None = None
    #: Tenants' loan management systems (customers sent with ``sync``); None: no LMS reachable.
    lms: LmsClient | None = None
    #: Called once when every chunk of an async import is accounted for (after the workflow, if any,
    #: was told).
    on_complete: Callable[[ImportJob], None] | None = None
    #: The workflow that sequences imports asking for calls; None: calls cannot be asked for.
    workflow: Workflow | None = None
    #: The bus ``CallRequested`` events go to (the workflow's call stage).
    events: EventBus | None = None
    #: Dropped files and result files (file imports); None: no file imports on this deployment.
    files: FileStore | None = None
    #: Calls per phone number lately (the weekly cap); None: the cap is not enforced.
    call_caps: CallCaps | None = None
    #: Webhook endpoints, their secrets and delivery queue; None: this deployment sends no webhooks.
    webhooks: WebhookPorts | None = None


def payload_key(tenant_id: str, import_id: str, name: str) -> str:
    """Object key of an import's stored payloads; tenant first, like every key."""
    return f"payloads/{tenant_id}/{import_id}/{name}"


def load_tenant(tenants: TenantDirectory, principal: Principal) -> TenantConfig:
    """Return the caller's tenant configuration (a key whose tenant is gone answers 404)."""
    tenant = tenants.load_config(principal.tenant_id)
    if tenant is None:
        raise NotFoundError(f"tenant {principal.tenant_id} is not configured")
    return tenant
