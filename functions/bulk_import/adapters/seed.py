"""Loads a seed file into the stores: tenants, API key hashes, configuration, LMS records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.model import StoredRecord
from bulk_import.core.ports import WebhookPorts
from bulk_import.core.tenants import (
    DEFAULT_RETENTION_DAYS,
    MAX_RETENTION_DAYS,
    MIN_RETENTION_DAYS,
    SCOPES,
    Campaign,
    TenantConfig,
    hash_api_key,
)
from bulk_import.rules.calling_policy import parse_call_policy
from bulk_import.rules.errors import RuleError


class SeedApiKey(BaseModel):
    """An API key in clear, as written in the seed file (stored as a hash)."""

    key: str = Field(min_length=8)
    scopes: list[str]


class SeedTenant(BaseModel):
    """One tenant of a seed file."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    timezone: str = "UTC"
    defaultPhoneRegion: str = "US"  # noqa: N815
    apiKeys: list[SeedApiKey] = []  # noqa: N815
    campaigns: list[dict[str, Any]] = []
    taskTypes: list[str] = []  # noqa: N815
    timelines: list[dict[str, Any]] = []
    paymentSources: list[dict[str, Any]] = []  # noqa: N815
    contacts: list[dict[str, Any]] = []
    payments: list[dict[str, Any]] = []
    lms: dict[str, Any] = {}
    priceTable: dict[str, Any] | None = None  # noqa: N815
    #: Days the per-row items of the tenant's imports are kept (checked by ``parse_seed``).
    retentionDays: StrictInt = DEFAULT_RETENTION_DAYS  # noqa: N815
    #: When and how often the tenant's customers may be called (windows, do-not-call list, weekly cap).
    callPolicy: dict[str, Any] = {}  # noqa: N815
    #: The tenant's webhook endpoint: ``{"url", "events", "secret"?}``.
    webhooks: dict[str, Any] | None = None


class SeedFile(BaseModel):
    """The whole seed file."""

    tenants: list[SeedTenant]


def parse_seed(document: Any) -> SeedFile:
    """Validate a seed document; unknown scopes are rejected so a typo cannot lock a client out."""
    seed = SeedFile.model_validate(document)
    for tenant in seed.tenants:
        if not MIN_RETENTION_DAYS <= tenant.retentionDays <= MAX_RETENTION_DAYS:
            raise InvalidRequestError(
                f"tenant {tenant.id}: retentionDays must be a whole number of days from "
                f"{MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}, not {tenant.retentionDays}"
            )
        try:
            parse_call_policy(tenant.callPolicy)
        except RuleError as error:
            raise InvalidRequestError(f"tenant {tenant.id}: callPolicy: {error}") from None
        for key in tenant.apiKeys:
            unknown = set(key.scopes) - SCOPES
            if unknown:
                raise InvalidRequestError(f"tenant {tenant.id}: unknown scopes {sorted(unknown)}")
    return seed


def load_seed(
    document: Any,
    directory: DynamoTenantDirectory,
    records: DynamoRecordStore,
    webhooks: WebhookPorts | None = None,
) -> dict[str, int]:
    """Store every tenant of a seed document; loading the same file again gives the same state.

    A tenant's ``webhooks`` is configured as ``PUT /v1/webhooks`` would (``webhooks``: the deployment's
    webhook ports; default: built from the environment's ``WEBHOOK_KEY_ID`` when a tenant has one).

    Returns
    -------
    dict[str, int]
        How many tenants, keys and configuration entries were written.
    """
    seed = parse_seed(document)
    counts = {"tenants": 0, "apiKeys": 0, "entries": 0}
    for t in seed.tenants:
        lms_settings = {k: v for k, v in t.lms.items() if k != "customers"}
        directory.put_tenant(
            t.id,
            {
                "timezone": t.timezone,
                "defaultPhoneRegion": t.defaultPhoneRegion.upper(),
                "taskTypes": t.taskTypes,
                "priceTable": t.priceTable,
                "lms": lms_settings or None,
                "retentionDays": t.retentionDays,
                "callPolicy": t.callPolicy,
            },
        )
        counts["tenants"] += 1
        for k in t.apiKeys:
            directory.put_api_key(t.id, hash_api_key(k.key), k.scopes)
            counts["apiKeys"] += 1
        entries: list[tuple[str, dict[str, Any]]] = []
        entries += [(f"CAMPAIGN#{c['id']}", c) for c in t.campaigns]
        entries += [(f"TIMELINE#{x['id']}", x) for x in t.timelines]
        entries += [(f"SOURCE#{x['id']}", x) for x in t.paymentSources]
        entries += [(f"CONTACT#{x['id']}", x) for x in t.contacts]
        for sk, data in entries:
            directory.put_config_item(t.id, sk, data)
        for customer in t.lms.get("customers", []):
            directory.put_lms_customer(t.id, customer)
        counts["entries"] += len(entries) + len(t.lms.get("customers", []))
        if t.webhooks is not None:
            webhooks = webhooks or seed_webhook_ports(directory)
            seed_webhook(webhooks, t.id, t.webhooks)
            counts["entries"] += 1
        if t.payments:
            stored = [StoredRecord(entity="payment", key=str(p["id"]), data=dict(p)) for p in t.payments]
            failed = records.put_records(t.id, "seed", stored)
            if failed:
                raise RuntimeError(f"seed payments not stored: {failed[0].reason}")
            counts["entries"] += len(stored)
    return counts


def seed_webhook(ports: WebhookPorts, tenant_id: str, webhook: dict[str, Any]) -> None:
    """Configure a tenant's webhook endpoint from its seed entry (``{"url", "events", "secret"?}``).

    Raises
    ------
    InvalidRequestError
        The entry has other fields, or an endpoint ``PUT /v1/webhooks`` would refuse.
    """
    from datetime import UTC, datetime

    from bulk_import.usecases.webhooks import configure_endpoint

    unknown = sorted(set(webhook) - {"url", "events", "secret"})
    if unknown:
        raise InvalidRequestError(f"tenant {tenant_id}: webhooks: unknown fields {unknown}")
    try:
        configure_endpoint(
            ports,
            tenant_id,
            webhook.get("url"),
            webhook.get("events"),
            webhook.get("secret"),
            datetime.now(UTC),
        )
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"tenant {tenant_id}: webhooks: {exc.message}") from exc


def seed_webhook_ports(directory: DynamoTenantDirectory) -> WebhookPorts:
    """The webhook ports of the deployment a seed is loaded into, from the environment's key.

    Raises
    ------
    InvalidRequestError
        No ``WEBHOOK_KEY_ID``: the secrets could not be sealed.
    """
    import boto3

    from bulk_import.adapters.dynamo_webhooks import DynamoWebhookStore
    from bulk_import.adapters.webhook_secrets import KmsSecretBox
    from bulk_import.adapters.webhook_sender import WEBHOOK_KEY_ENV, SocketResolver, WebhookSettings

    settings = WebhookSettings.from_env()
    if not settings.key_id:
        raise InvalidRequestError(f"webhooks in a seed need the stack's webhook key: set {WEBHOOK_KEY_ENV}")
    return WebhookPorts(
        store=DynamoWebhookStore(directory.client, directory.table, ""),
        secrets=KmsSecretBox(boto3.client("kms"), settings.key_id),
        resolver=SocketResolver(),
        allow_loopback_http=settings.allow_loopback_http,
    )


def tenant_from_seed(tenant: SeedTenant) -> TenantConfig:
    """A seed file's tenant as the configuration the rules read (as ``load_config`` would return it)."""
    campaigns = {
        str(c["id"]): Campaign(
            id=str(c["id"]),
            name=str(c.get("name", c["id"])),
            service_type=str(c.get("serviceType", "collections")),
        )
        for c in tenant.campaigns
    }
    return TenantConfig(
        tenant_id=tenant.id,
        timezone=tenant.timezone,
        default_phone_region=tenant.defaultPhoneRegion.upper(),
        campaigns=campaigns,
        task_types=tuple(tenant.taskTypes),
        timelines={str(x["id"]): x for x in tenant.timelines},
        payment_sources={str(x["id"]): x for x in tenant.paymentSources},
        contacts={str(x["id"]): x for x in tenant.contacts},
        price_table=tenant.priceTable,
        lms={k: v for k, v in tenant.lms.items() if k != "customers"},
        retention_days=tenant.retentionDays,
        call_policy=tenant.callPolicy,
    )


class SeedLms:
    """The LMS records of a seed file, in memory (``bulk-import validate``: no AWS, no network)."""

    def __init__(self, seed: SeedFile) -> None:
        self._records = {
            (t.id, str(c["id"])): dict(c) for t in seed.tenants for c in t.lms.get("customers", [])
        }

    def fetch_customer(self, tenant: TenantConfig, customer_id: str) -> dict[str, Any] | None:
        """See ``LmsClient.fetch_customer``."""
        return self.fetch_customers(tenant, [customer_id]).get(customer_id)

    def fetch_customers(self, tenant: TenantConfig, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """See ``LmsClient.fetch_customers``."""
        found = {c: self._records.get((tenant.tenant_id, c)) for c in customer_ids}
        return {c: dict(r) for c, r in found.items() if r is not None}
