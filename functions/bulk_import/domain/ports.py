"""The interfaces the use cases talk through; ``bulk_import.adapters`` has one AWS implementation each.

Tests hand in fakes (``tests/fakes.py``) or the AWS adapters over moto.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bulk_import.domain.model import Counts, ImportJob, RowOutcome, StoredRecord, WriteFailure
from bulk_import.domain.tenants import Campaign, Principal, TenantConfig


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

    def get_records(self, tenant_id: str, entity: str, keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Return the stored data of the given keys that exist."""
        ...

    def iter_import_records(self, tenant_id: str, import_id: str, entity: str) -> Iterator[StoredRecord]:
        """Yield the records of ``entity`` last written by an import."""
        ...


@dataclass(frozen=True)
class ErrorPage:
    """One page of per-row errors and the cursor of the next page (None at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


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

    def mark_processing(self, tenant_id: str, import_id: str, now: datetime) -> None:
        """Move a QUEUED import to PROCESSING (no-op in any other state)."""
        ...

    def apply_chunk(self, tenant_id: str, import_id: str, chunk: int, counts: Counts, now: datetime) -> bool:
        """Add a chunk's counts to its import atomically, once: False when that chunk was applied already."""
        ...

    def complete_if_done(self, tenant_id: str, import_id: str, now: datetime) -> ImportJob | None:
        """Set DONE when every chunk is accounted for; return the job when this call completed it."""
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


IdFactory = Callable[[], str]


class PayloadStore(Protocol):
    """Request payloads and chunk bodies too large for a queue message (S3)."""

    def put_json(self, key: str, value: Any) -> None:
        """Store ``value`` as JSON under ``key``."""
        ...

    def get_json(self, key: str) -> Any:
        """Load the JSON stored under ``key``."""
        ...


class ChunkQueue(Protocol):
    """The queue that hands chunks of async imports to workers (SQS)."""

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """Send chunk messages; raise when any could not be sent."""
        ...


class LmsClient(Protocol):
    """A tenant's loan management system (LMS), read by customers sent with ``sync: true`` (SPEC 3.3).

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
