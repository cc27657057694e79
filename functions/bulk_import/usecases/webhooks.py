"""A tenant's webhook endpoint: configure it (``PUT /v1/webhooks`` or the seed file), read it, delete it.

One endpoint per tenant: a URL, the events it wants and a ``whsec_`` signing secret. The secret is
generated unless given, returned once (by the call that configured it), stored sealed by the secret box
(KMS) and never shown again, logged or repeated in an error. The URL is checked as written and again
through every address its host resolves to (``bulk_import.rules.webhook_urls``).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bulk_import.core.errors import InvalidRequestError, NotAvailableError, NotFoundError
from bulk_import.core.model import WEBHOOK_EVENTS, WebhookEndpoint
from bulk_import.core.ports import Deps, WebhookPorts
from bulk_import.core.tenants import Principal
from bulk_import.rules.webhook_urls import (
    WebhookTarget,
    WebhookUrlError,
    check_addresses,
    parse_webhook_url,
)

SECRET_PREFIX = "whsec_"
#: Random bytes of a generated secret; a given one must hold between the two bounds (Standard Webhooks).
SECRET_BYTES = 32
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
_BASE64 = re.compile(r"^[A-Za-z0-9+/]+={0,2}$")


def new_secret() -> str:
    """A new signing secret: ``whsec_`` and the base64 of ``SECRET_BYTES`` random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def secret_problem(secret: str) -> str | None:
    """Why a given secret cannot sign deliveries, or None. The message never repeats the secret."""
    expected = (
        f"must be {SECRET_PREFIX} followed by the base64 of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} "
        "random bytes"
    )
    if not secret.startswith(SECRET_PREFIX):
        return expected
    encoded = secret[len(SECRET_PREFIX) :]
    if not _BASE64.match(encoded):
        return expected
    try:
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return expected
    return None if MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES else expected


def events_problems(events: Sequence[str]) -> list[str]:
    """What is wrong with a list of event names (empty, unknown names)."""
    if not events:
        return [f"events: at least one of {', '.join(WEBHOOK_EVENTS)}"]
    unknown = [e for e in dict.fromkeys(events) if e not in WEBHOOK_EVENTS]
    if unknown:
        shown = ", ".join(repr(e[:60]) for e in unknown[:5])
        return [f"events: unknown event {shown}; the events are {', '.join(WEBHOOK_EVENTS)}"]
    return []


def checked_target(
    ports: WebhookPorts, url: str, *, unresolved_ok: bool = False
) -> tuple[WebhookTarget, list[str]]:
    """The URL as checked and the addresses deliveries may go to (an IP literal's own address, or every
    address its name resolves to, each one allowed).

    ``unresolved_ok``: a name that resolves to no address passes (with none), as when an endpoint is
    configured before its name is published; a delivery to it fails until the name resolves.

    Raises
    ------
    WebhookUrlError
        The URL, or an address it leads to, is not allowed.
    """
    allow = ports.allow_loopback_http
    target = parse_webhook_url(url, allow_loopback_http=allow)
    if target.address is not None:
        return target, [str(target.address)]
    addresses = ports.resolver.resolve(target.host, target.port)
    if addresses or not unresolved_ok:
        check_addresses(target, addresses, allow_loopback_http=allow)
    return target, addresses


def configure_endpoint(
    ports: WebhookPorts,
    tenant_id: str,
    url: Any,
    events: Any,
    secret: Any,
    now: datetime,
) -> tuple[WebhookEndpoint, str]:
    """Check and store a tenant's endpoint; return it and its clear secret (generated unless given).

    Raises
    ------
    InvalidRequestError
        Every problem at once: the URL, the events, the secret (never repeated).
    """
    problems: list[str] = []
    if not isinstance(url, str):
        problems.append("url: must be text")
    else:
        try:
            checked_target(ports, url, unresolved_ok=True)
        except WebhookUrlError as exc:
            problems.append(f"url: {exc}")
    if not isinstance(events, (list, tuple)) or not all(isinstance(e, str) for e in events):
        problems.append("events: must be a list of event names")
    else:
        problems += events_problems([e.strip() for e in events])
    if secret is not None:
        problem = secret_problem(secret.strip()) if isinstance(secret, str) else "must be text"
        if problem:
            problems.append(f"secret: {problem}")
    if problems:
        raise InvalidRequestError("; ".join(problems), {"errors": problems})
    clear = secret.strip() if isinstance(secret, str) else new_secret()
    previous = ports.store.get_webhook(tenant_id)
    endpoint = WebhookEndpoint(
        tenant_id=tenant_id,
        url=url.strip(),
        events=tuple(dict.fromkeys(e.strip() for e in events)),
        sealed_secret=ports.secrets.seal(tenant_id, clear),
        created_at=previous.created_at if previous is not None else now,
        updated_at=now,
    )
    ports.store.put_webhook(endpoint)
    return endpoint, clear


def _ports(deps: Deps) -> WebhookPorts:
    if deps.webhooks is None:
        raise NotAvailableError("webhooks are not available on this deployment")
    return deps.webhooks


def put_webhook(deps: Deps, principal: Principal, url: Any, events: Any, secret: Any) -> dict[str, Any]:
    """``PUT /v1/webhooks``: configure the caller's endpoint; the answer holds its secret, this once."""
    endpoint, clear = configure_endpoint(
        _ports(deps), principal.tenant_id, url, events, secret, deps.clock.now()
    )
    return {**endpoint.to_api(), "secret": clear}


def get_webhook(deps: Deps, principal: Principal) -> dict[str, Any]:
    """``GET /v1/webhooks``: the caller's endpoint, without its secret."""
    endpoint = _ports(deps).store.get_webhook(principal.tenant_id)
    if endpoint is None:
        raise NotFoundError("no webhook endpoint is configured")
    return endpoint.to_api()


def delete_webhook(deps: Deps, principal: Principal) -> None:
    """``DELETE /v1/webhooks``: no more deliveries to the caller's endpoint (none queued is sent either)."""
    _ports(deps).store.delete_webhook(principal.tenant_id)
