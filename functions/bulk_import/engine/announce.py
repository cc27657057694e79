"""Announcing the end of imports to webhooks: a wrapper around the import repository.

Whatever ends an import (a synchronous import saved DONE, the last chunk of an asynchronous one, the
workflow's finalization, a cancel, a failure) goes through the repository, so the wrapper sees every
end without the steps knowing about webhooks. After a method that can end an import it works out the
events (``import.completed``, ``import.failed``, ``import.cancelled``, ``calls.completed``) and, for each
one the tenant's endpoint asks for, marks it announced with a conditional write and queues one
delivery. A step that runs twice finds the mark and queues nothing: each event is delivered once per
import.

Announcing never fails or slows an import beyond those two writes: any error is logged and counted
(``on_error``) and the import carries on. A delivery that could not be queued has its mark removed,
so the step running again announces it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bulk_import.core.model import CallStatus, ImportJob, ImportStatus
from bulk_import.core.ports import Clock, ImportRepository, WebhookPorts

log = logging.getLogger(__name__)

#: The event of each final status of an import.
IMPORT_EVENTS: dict[str, str] = {
    "DONE": "import.completed",
    "FAILED": "import.failed",
    "CANCELLED": "import.cancelled",
}
#: Final states of a call stage that end it with ``calls.completed`` (a cancelled one is the import's
#: ``import.cancelled``).
CALLS_ENDED = frozenset({"DONE", "FAILED"})


def events_of(status: str | None, calls_status: str | None) -> list[str]:
    """The events an import's final status and its call stage's final status announce."""
    events = [IMPORT_EVENTS[status]] if status in IMPORT_EVENTS else []
    if calls_status in CALLS_ENDED:
        events.append("calls.completed")
    return events


def job_events(job: ImportJob | None) -> list[str]:
    """The events an import as stored announces (none while it runs)."""
    if job is None:
        return []
    return events_of(job.status, job.calls.status if job.calls is not None else None)


@dataclass(frozen=True)
class Delivery:
    """One event to deliver, as its queue message holds it."""

    tenant_id: str
    import_id: str
    event: str
    webhook_id: str
    timestamp: str

    def to_message(self) -> dict[str, str]:
        """The queue message."""
        return {
            "tenantId": self.tenant_id,
            "importId": self.import_id,
            "type": self.event,
            "webhookId": self.webhook_id,
            "timestamp": self.timestamp,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Delivery:
        """Read a queue message (``KeyError`` when one is missing)."""
        return cls(
            tenant_id=str(message["tenantId"]),
            import_id=str(message["importId"]),
            event=str(message["type"]),
            webhook_id=str(message["webhookId"]),
            timestamp=str(message["timestamp"]),
        )


def webhook_id(tenant_id: str, import_id: str, event: str) -> str:
    """The ``webhook-id`` of an event of an import: the same however often the event is announced."""
    digest = hashlib.sha256(f"{tenant_id}\x00{import_id}\x00{event}".encode()).hexdigest()
    return f"msg_{digest[:32]}"


def new_delivery(tenant_id: str, import_id: str, event: str, now: datetime) -> Delivery:
    """The delivery of an event that happened ``now``."""
    stamp = now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Delivery(tenant_id, import_id, event, webhook_id(tenant_id, import_id, event), stamp)


#: Imports whose last saved events a repository remembers (a container handles a few at a time).
SAVED_IMPORTS = 1024

#: Receives what went wrong while announcing (the event, the error): logs and metrics.
ErrorHook = Callable[[str, Exception], None]


@dataclass
class AnnouncingImports:
    """An ``ImportRepository`` that announces the imports it sees end; everything else is the inner one's.

    Parameters
    ----------
    inner
        The repository every call goes to.
    webhooks
        The tenants' endpoints, the marks of announced events, and the delivery queue.
    clock
        When the events happened.
    on_error
        Called with the event and the error when one could not be announced (besides the log).
    """

    inner: ImportRepository
    webhooks: WebhookPorts
    clock: Clock
    on_error: ErrorHook | None = None
    #: The events of each import as this container last saved it: a save that follows one of its own
    #: (a synchronous import saved, then saved again finished) reads the import no more to compare.
    #: Another container may have saved it since; the events' marks keep an event from going out twice.
    _saved: dict[tuple[str, str], tuple[str, ...]] = field(default_factory=dict, init=False, repr=False)

    def __getattr__(self, name: str) -> Any:
        # Every other method (reads, counters, the workflow's updates) is the inner repository's, as it is:
        # none of them ends an import. (``inner`` itself is looked up here only before it is set: a copy.)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # -- the methods that can end an import ---------------------------------------------------------------
    def save(self, job: ImportJob) -> None:
        """See ``ImportRepository.save``; an import saved again in the final status it had already (its
        result files added when it is read, say) announces nothing: it ended before."""
        events = job_events(job)
        key = (job.tenant_id, job.import_id)
        if events:
            ended = self._saved.get(key)
            if ended is None:
                try:
                    before = self.inner.get(job.tenant_id, job.import_id)
                except Exception:
                    before = None
                ended = tuple(job_events(before)) if before is not None else ()
            if ended == tuple(events):
                events = []
        self.inner.save(job)
        if len(self._saved) >= SAVED_IMPORTS:
            self._saved.clear()
        self._saved[key] = tuple(job_events(job))
        self._announce(job.tenant_id, job.import_id, events)

    def complete_if_done(
        self, tenant_id: str, import_id: str, now: datetime, *, final: bool = True
    ) -> ImportJob | None:
        """See ``ImportRepository.complete_if_done``."""
        job = self.inner.complete_if_done(tenant_id, import_id, now, final=final)
        self._announce(tenant_id, import_id, job_events(job))
        return job

    def cancel(self, tenant_id: str, import_id: str, now: datetime) -> ImportJob | None:
        """See ``ImportRepository.cancel``."""
        job = self.inner.cancel(tenant_id, import_id, now)
        self._announce(tenant_id, import_id, ["import.cancelled"] if job is not None else [])
        return job

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
        """See ``ImportRepository.finish``."""
        self.inner.finish(
            tenant_id, import_id, status, now, error=error, calls_status=calls_status, files=files
        )
        self._announce(tenant_id, import_id, events_of(status, calls_status))

    # -- announcing -----------------------------------------------------------------------------------------
    def _announce(self, tenant_id: str, import_id: str, events: Iterable[str]) -> None:
        events = list(events)
        if not events:
            return
        try:
            endpoint = self.webhooks.store.get_webhook(tenant_id)
        except Exception as exc:
            self._failed(events[0], tenant_id, import_id, exc)
            return
        if endpoint is None or endpoint.disabled_at is not None:
            return
        for event in events:
            if event in endpoint.events:
                self._announce_one(tenant_id, import_id, event)

    def _announce_one(self, tenant_id: str, import_id: str, event: str) -> None:
        store, queue = self.webhooks.store, self.webhooks.queue
        try:
            if queue is None:
                raise RuntimeError("no delivery queue on this deployment")
            now = self.clock.now()
            if not store.claim_event(tenant_id, import_id, event, now):
                return
            try:
                queue.send(new_delivery(tenant_id, import_id, event, now).to_message())
            except Exception:
                store.release_event(tenant_id, import_id, event)
                raise
        except Exception as exc:
            self._failed(event, tenant_id, import_id, exc)

    def _failed(self, event: str, tenant_id: str, import_id: str, exc: Exception) -> None:
        log.warning(
            "webhook event %s of import %s (tenant %s) not announced: %s",
            event,
            import_id,
            tenant_id,
            type(exc).__name__,
        )
        if self.on_error is not None:
            try:
                self.on_error(event, exc)
            except Exception:  # a metric that cannot be written must not fail the import either
                log.warning("webhook announcement failure not counted", exc_info=True)
