"""Tenants, API keys and scopes.

API keys are random secrets; only their SHA-256 hash is stored, so a leaked table does not leak keys.
The tenant of a request always comes from its key, never from the body or the path.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any

from bulk_import.core.errors import AuthenticationError, ForbiddenError

SCOPES = frozenset(
    {"customers:write", "debts:write", "payments:write", "campaigns:write", "imports:read", "webhooks:write"}
)

#: Days an import's per-row items (results, errors, markers) are kept after the import was created.
DEFAULT_RETENTION_DAYS = 30
#: The retention a tenant may configure: at least a day, at most ten years.
MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650


def hash_api_key(key: str) -> str:
    """Return the hex SHA-256 of an API key, the only form in which keys are stored.

    Parameters
    ----------
    key
        The secret as the client sends it.
    """
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key() -> str:
    """Generate a new random API key (URL-safe, 256 bits)."""
    return "bik_" + secrets.token_urlsafe(32)


def extract_api_key(headers: dict[str, str] | None) -> str | None:
    """Find the API key in ``Authorization: Bearer <key>`` or ``X-API-Key: <key>`` (any header case).

    A credential sent wrong is refused, not passed over for the other header: an ``Authorization``
    header that is not ``Bearer <key>`` (another scheme, no key, empty) is no key, and so are two different
    keys, one in each header, since which tenant was meant is not ours to guess.
    """
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items() if isinstance(v, str)}
    auth = lowered.get("authorization", "").strip()
    bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
    if "authorization" in lowered and not bearer:
        return None
    named = lowered.get("x-api-key", "").strip()
    if bearer and named and bearer != named:
        return None
    return bearer or named or None


@dataclass(frozen=True)
class Principal:
    """Who is calling: the tenant of the key and the scopes it grants."""

    tenant_id: str
    scopes: frozenset[str]

    def require(self, scope: str) -> None:
        """Raise ``ForbiddenError`` unless this principal has ``scope``."""
        if scope not in self.scopes:
            raise ForbiddenError(f"this API key lacks the scope {scope}")


def require_principal(principal: Principal | None) -> Principal:
    """Return the principal or raise ``AuthenticationError`` when there is none."""
    if principal is None:
        raise AuthenticationError("missing or unknown API key")
    return principal


@dataclass(frozen=True)
class Campaign:
    """A calling campaign of a tenant; its service type decides the required customer fields."""

    id: str
    name: str
    service_type: str

    def to_api(self) -> dict[str, str]:
        """The campaign as the API returns it."""
        return {"id": self.id, "name": self.name, "serviceType": self.service_type}


@dataclass(frozen=True)
class TenantConfig:
    """Everything the rules need to know about one tenant, loaded once per request or chunk."""

    tenant_id: str
    timezone: str = "UTC"
    default_phone_region: str = "US"
    campaigns: dict[str, Campaign] = field(default_factory=dict)
    task_types: tuple[str, ...] = ()
    timelines: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    price_table: dict[str, Any] | None = None
    lms: dict[str, Any] = field(default_factory=dict)
    retention_days: int = DEFAULT_RETENTION_DAYS
    #: The tenant's calling policy as configured (``windows``, ``doNotCallNumbers``, ``maxCallsPer7Days``);
    #: the calling rules read it, and an empty one means the defaults of each country.
    call_policy: dict[str, Any] = field(default_factory=dict)
