"""Publishing the ``CallRequested`` events of the call stage: their shape and the bus's retries."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence

from bulk_import.core.model import CallRequest, ImportJob
from bulk_import.core.ports import BusEvent, EventBus

#: ``source`` and ``detail-type`` of the events published for calls.
EVENT_SOURCE = "bulk-import"
CALL_REQUESTED = "CallRequested"
#: Attempts at publishing an event whose entry the bus refused, and the pause before the first retry
#: (doubled each time).
PUBLISH_ATTEMPTS = 4
PUBLISH_BACKOFF_SECONDS = 0.2


def call_id(import_id: str, customer_key: str) -> str:
    """A stable id of one import's call to one customer (consumers drop repeats with it)."""
    return hashlib.sha256(f"{import_id}\0{customer_key}".encode()).hexdigest()[:32]


def call_event(
    job: ImportJob, request: CallRequest, config: Mapping[str, str], call_by: str | None = None
) -> BusEvent:
    """The ``CallRequested`` event of one customer; ``callBy`` is when their calling window closes."""
    return BusEvent(
        detail_type=CALL_REQUESTED,
        detail={
            "callId": call_id(job.import_id, request.customer_key),
            "tenantId": job.tenant_id,
            "importId": job.import_id,
            "campaignId": request.campaign_id,
            "customerKey": request.customer_key,
            "customerRef": dict(request.reference),
            "phone": request.phone,
            "agentId": config["agentId"],
            "dispositionId": config["dispositionId"],
            "callBy": call_by,
        },
    )


def publish(
    bus: EventBus,
    events: Sequence[tuple[str, BusEvent]],
    *,
    pause: Callable[[float], None] = time.sleep,
    attempts: int = PUBLISH_ATTEMPTS,
) -> tuple[list[str], dict[str, str]]:
    """Publish keyed events ``bus.max_entries`` at a time, re-sending refused entries with backoff.

    Returns
    -------
    (sent, failed)
        Keys of the accepted events, and key -> last reason for those still refused after ``attempts``.
    """
    sent: list[str] = []
    failed: dict[str, str] = {}
    for start in range(0, len(events), bus.max_entries):
        part = list(events[start : start + bus.max_entries])
        reasons: list[str | None] = []
        for attempt in range(attempts):
            if attempt:
                pause(PUBLISH_BACKOFF_SECONDS * 2 ** (attempt - 1))
            reasons = bus.put_events([event for _, event in part])
            sent += [k for (k, _), why in zip(part, reasons, strict=True) if why is None]
            refused = [(item, why) for item, why in zip(part, reasons, strict=True) if why is not None]
            part = [item for item, _ in refused]
            reasons = [why for _, why in refused]
            if not part:
                break
        failed.update({k: why or "refused" for (k, _), why in zip(part, reasons, strict=True)})
    return sent, failed
