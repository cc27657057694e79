"""The values the ports take and return (pages, files, call counts, events), apart from the ports.

They are imported by the adapters and use cases that build or read them, when a request first needs
them: a request that only reads its tenant's campaigns creates none of these classes, whose creation is
most of what importing the ports would cost. ``bulk_import.core.ports`` still names each of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bulk_import.core.model import WriteFailure


@dataclass(frozen=True, slots=True)
class RefusedWrite(WriteFailure):
    """A record storage refused for what it holds (too large, a value it cannot store): sending it
    again cannot help, unlike a ``WriteFailure`` left by throttling or a service error."""


@dataclass(frozen=True)
class PendingUpload:
    """An upload whose import waits for its file, and when it is due to fail if none came."""

    tenant_id: str
    import_id: str
    due: datetime


@dataclass(frozen=True)
class ErrorPage:
    """One page of per-row errors and the cursor of the next page (None at the end)."""

    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True)
class ResultPage:
    """Per-row results from one row on, as ``(row index, result)`` in row order; ``more``: others follow."""

    rows: list[tuple[int, dict[str, Any]]]
    more: bool


@dataclass(frozen=True)
class StoredFile:
    """What the file store knows about one object: its size, user metadata and identity.

    ``version`` (a versioned bucket's version id) or else ``etag`` pins the exact content, so reading
    the file again later reads the same bytes, or fails.
    """

    key: str
    size: int
    metadata: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class CallCounts:
    """What one call batch did: customers whose call was requested, skipped (``doNotCall``), or failed.

    ``skipped`` counts every skipped customer; ``do_not_call_list`` and ``frequency`` say how many of them
    were on the tenant's do-not-call list or past the weekly cap (the rest had ``doNotCall``).
    ``waited`` is how many customers of the batch had waited for their window, by the window's opening
    (ISO 8601): they are no longer deferred.
    """

    requested: int = 0
    skipped: int = 0
    failed: int = 0
    do_not_call_list: int = 0
    frequency: int = 0
    waited: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CallSchedule:
    """What the call stage planned for an import's customers before requesting any call.

    ``skipped`` counts customers never to be called (``doNotCall``, of which ``do_not_call_list`` were
    on the tenant's list), ``failed`` those no window could be found for; ``waiting`` maps each window
    opening (ISO 8601, UTC) to the customers deferred until it.
    """

    batches: int
    skipped: int = 0
    do_not_call_list: int = 0
    failed: int = 0
    waiting: Mapping[str, int] = field(default_factory=dict)

    @property
    def deferred(self) -> int:
        """Customers waiting for their window to open."""
        return sum(self.waiting.values())


@dataclass(frozen=True)
class BusEvent:
    """One event for the event bus: its type and its JSON-ready detail (the source is the adapter's)."""

    detail_type: str
    detail: dict[str, Any]
