"""Delivering one webhook event: sign it (Standard Webhooks), POST it, and say what to do next.

A delivery is one queued message: the tenant, the import, the event, its ``webhook-id`` and the time the
event happened. Its body is built when it is sent: ``{"type", "timestamp", "data"}``, ``data`` the import
as ``GET /v1/imports/{importId}`` shows it then. ``webhook-id`` is the same on every attempt (receivers
deduplicate on it); ``webhook-timestamp`` is the attempt's, as the signature covers it and receivers
refuse old ones.

An attempt that gets no 2xx answer within ``TIMEOUT_SECONDS`` is tried again after each of
``RETRY_DELAYS`` in turn, then given up (the queue keeps it in its dead-letter queue). A 410 Gone
disables the endpoint: nothing more is sent to it until it is configured again.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from standardwebhooks import Webhook

from bulk_import.core.errors import NotFoundError
from bulk_import.core.model import WebhookEndpoint
from bulk_import.core.ports import Deps, WebhookPorts
from bulk_import.core.tenants import Principal
from bulk_import.engine.announce import Delivery
from bulk_import.rules.webhook_urls import WebhookUrlError
from bulk_import.usecases.imports import import_view
from bulk_import.usecases.webhooks import checked_target

log = logging.getLogger(__name__)

#: Seconds before each retry of a delivery without a 2xx answer (the Standard Webhooks schedule).
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
#: Attempts in all: the first and one per retry.
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
#: Seconds an endpoint has to answer an attempt.
TIMEOUT_SECONDS = 10.0
#: The scope deliveries read imports with (the tenant's own, as ``GET /v1/imports/{id}`` would).
_READER_SCOPES = frozenset({"imports:read"})


@dataclass(frozen=True)
class Outcome:
    """What became of an attempt: ``done`` (delivered, or nothing left to deliver), else ``retry_in``
    seconds before the next attempt, None when the attempts ran out."""

    done: bool
    reason: str
    retry_in: int | None = None
    status: int | None = None


def retry_after(attempt: int) -> int | None:
    """Seconds before the attempt after ``attempt`` (1 is the first), None after the last one."""
    return RETRY_DELAYS[attempt - 1] if 1 <= attempt <= len(RETRY_DELAYS) else None


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def payload(delivery: Delivery, data: dict[str, Any]) -> str:
    """The body of a delivery, as signed and sent."""
    document = {"type": delivery.event, "timestamp": delivery.timestamp, "data": data}
    return json.dumps(document, default=_number, separators=(",", ":"), ensure_ascii=False)


def signed_headers(secret: str, delivery: Delivery, body: str, now: datetime) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt, signed with the endpoint's ``whsec_`` secret."""
    signature = Webhook(secret).sign(delivery.webhook_id, now.astimezone(UTC), body)
    return {
        "webhook-id": delivery.webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def _failed(attempt: int, reason: str, status: int | None = None) -> Outcome:
    return Outcome(done=False, reason=reason, retry_in=retry_after(attempt), status=status)


def _wanted(endpoint: WebhookEndpoint | None, event: str) -> str | None:
    """Why nothing is to be delivered to the endpoint, or None when the event is to be."""
    if endpoint is None:
        return "no endpoint is configured"
    if endpoint.disabled_at is not None:
        return "the endpoint is disabled"
    if event not in endpoint.events:
        return "the endpoint no longer asks for this event"
    return None


def deliver(deps: Deps, delivery: Delivery, attempt: int) -> Outcome:
    """Make attempt number ``attempt`` (1 is the first) of a delivery.

    The endpoint is read again (it may have been changed, disabled or deleted since the event), its URL
    checked again (names change), and the import read as it is now. Never raises for the endpoint's
    sake: what went wrong is the outcome's ``reason`` (which never holds the secret).
    """
    ports: WebhookPorts | None = deps.webhooks
    if ports is None or ports.transport is None:
        return Outcome(done=True, reason="webhooks are not available on this deployment")
    endpoint = ports.store.get_webhook(delivery.tenant_id)
    skip = _wanted(endpoint, delivery.event)
    if skip or endpoint is None:
        return Outcome(done=True, reason=skip or "no endpoint is configured")
    try:
        target, addresses = checked_target(ports, endpoint.url)
    except WebhookUrlError as exc:
        return _failed(attempt, f"url refused: {exc}")
    try:
        view = import_view(deps, Principal(delivery.tenant_id, _READER_SCOPES), delivery.import_id)
    except NotFoundError:
        return Outcome(done=True, reason="the import no longer exists")
    body = payload(delivery, view)
    now = deps.clock.now()
    headers = signed_headers(
        ports.secrets.open(delivery.tenant_id, endpoint.sealed_secret), delivery, body, now
    )
    status: int | None = None
    reason = "no address to connect to"
    for address in addresses:
        try:
            status = ports.transport.post(target.url, address, body.encode("utf-8"), headers, TIMEOUT_SECONDS)
            break
        except ConnectionError as exc:  # refused or reset: the name's next address may answer
            reason = f"connection failed: {type(exc).__name__}"
        except OSError as exc:
            reason = f"no answer: {type(exc).__name__}" if not str(exc) else f"no answer: {str(exc)[:200]}"
            break
    if status is None:
        return _failed(attempt, reason)
    took = (deps.clock.now() - now).total_seconds()
    if 200 <= status < 300 and took > TIMEOUT_SECONDS:
        # An answer the endpoint dragged out (a byte at a time) past the deadline is no delivery
        # within it: tried again like one that never came, and the receiver deduplicates on the id.
        return _failed(
            attempt, f"answered {status} after {took:.0f} s, past the {TIMEOUT_SECONDS:.0f} s allowed"
        )
    if 200 <= status < 300:
        return Outcome(done=True, reason="delivered", status=status)
    if status == 410:
        ports.store.disable_webhook(
            delivery.tenant_id, endpoint.url, f"the endpoint answered 410 Gone at {delivery_time(now)}", now
        )
        return Outcome(done=True, reason="410 Gone: the endpoint is disabled", status=status)
    return _failed(attempt, f"answered {status}", status)


def delivery_time(now: datetime) -> str:
    """A moment as the API writes it (UTC, ISO 8601)."""
    return now.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
