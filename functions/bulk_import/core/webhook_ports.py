"""The ports of webhooks: endpoints, sealed secrets, name resolution, the delivery queue, the transport.

Apart from the other ports so that a request that neither configures nor announces a webhook creates
none of these classes; ``bulk_import.core.ports`` still names each of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from datetime import datetime

    from bulk_import.core.model import WebhookEndpoint


class WebhookStore(Protocol):
    """Tenants' webhook endpoints (config table) and the marks of events already announced (imports table)."""

    def get_webhook(self, tenant_id: str) -> WebhookEndpoint | None:
        """The tenant's endpoint, or None when it has none."""
        ...

    def put_webhook(self, endpoint: WebhookEndpoint) -> None:
        """Create or replace the tenant's endpoint."""
        ...

    def delete_webhook(self, tenant_id: str) -> bool:
        """Remove the tenant's endpoint; False when it had none."""
        ...

    def disable_webhook(self, tenant_id: str, url: str, reason: str, now: datetime) -> bool:
        """Stop deliveries to the endpoint, if it still has ``url``; False when it was replaced meanwhile."""
        ...

    def claim_event(self, tenant_id: str, import_id: str, event: str, now: datetime) -> bool:
        """Mark ``event`` of an import announced, once: False when it was marked already."""
        ...

    def release_event(self, tenant_id: str, import_id: str, event: str) -> None:
        """Forget the mark (its delivery could not be queued, so running the step again may announce it)."""
        ...


class SecretBox(Protocol):
    """Encrypts webhook secrets at rest (KMS), bound to their tenant."""

    def seal(self, tenant_id: str, secret: str) -> str:
        """The secret, encrypted for ``tenant_id`` (text, safe to store)."""
        ...

    def open(self, tenant_id: str, sealed: str) -> str:
        """The clear secret of what ``seal`` returned for the same tenant."""
        ...


class AddressResolver(Protocol):
    """Resolves a host name to the IP addresses a connection would reach (DNS)."""

    def resolve(self, host: str, port: int) -> list[str]:
        """Every address of ``host`` (IPv4 and IPv6, as text); empty when the name does not resolve."""
        ...


class WebhookQueue(Protocol):
    """The queue webhook deliveries wait in (SQS), one message per delivery."""

    def send(self, message: dict[str, Any]) -> None:
        """Queue one delivery; raise when it could not be queued."""
        ...

    def retry_later(self, receipt: str, seconds: int) -> None:
        """Hold a received delivery back ``seconds`` before it is received again (its next attempt)."""
        ...


class WebhookTransport(Protocol):
    """Sends one delivery over HTTP to an address checked beforehand (the connection is pinned to it)."""

    def post(self, url: str, address: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """POST ``body`` to ``url`` through ``address``, without following redirects; return the status.

        Raises
        ------
        OSError
            No answer within ``timeout`` seconds, or the connection failed (TLS included).
        """
        ...


@dataclass
class WebhookPorts:
    """What configuring, announcing and delivering webhooks needs.

    ``allow_loopback_http``: the deployment may deliver over plain http to loopback addresses (the local
    stack only; on AWS every endpoint is https on a public address).
    """

    store: WebhookStore
    secrets: SecretBox
    resolver: AddressResolver
    queue: WebhookQueue | None = None
    transport: WebhookTransport | None = None
    allow_loopback_http: bool = False
