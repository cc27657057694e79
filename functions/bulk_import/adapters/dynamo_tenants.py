"""DynamoDB implementation of ``TenantDirectory``: tenants, API key hashes and configuration.

Also the writers the seed loader uses to create tenants, keys, configuration entries and LMS customers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from bulk_import.adapters.dynamo_codec import from_item, plain_numbers, to_item
from bulk_import.adapters.dynamo_keys import lms_pk, lms_sk, tenant_pk
from bulk_import.adapters.dynamo_paging import query_items
from bulk_import.adapters.row_expiry import RowExpiry
from bulk_import.core.tenants import DEFAULT_RETENTION_DAYS, Campaign, Principal, TenantConfig


@dataclass
class DynamoTenantDirectory:
    """Tenants, API key hashes and configuration in the config table.

    ``expiry``, when given, is told each retention a configuration read brings (the per-row writers of
    the same container then need no read of their own).
    """

    client: Any
    table: str
    expiry: RowExpiry | None = None

    def principal_for_key_hash(self, key_hash: str) -> Principal | None:
        """See ``TenantDirectory.principal_for_key_hash``."""
        resp = self.client.get_item(TableName=self.table, Key=to_item({"pk": f"KEY#{key_hash}", "sk": "KEY"}))
        if "Item" not in resp:
            return None
        item = from_item(resp["Item"])
        return Principal(tenant_id=item["tenantId"], scopes=frozenset(item.get("scopes", [])))

    def load_config(self, tenant_id: str) -> TenantConfig | None:
        """See ``TenantDirectory.load_config``: one paginated query over the tenant's partition."""
        items = list(self._query(tenant_pk(tenant_id)))
        config = next((i for i in items if i["sk"] == "CONFIG"), None)
        if config is None:
            return None
        by_prefix: dict[str, dict[str, dict[str, Any]]] = {}
        for item in items:
            prefix, _, ident = item["sk"].partition("#")
            if ident:
                by_prefix.setdefault(prefix, {})[ident] = item.get("data", {})
        campaigns = {
            cid: Campaign(id=cid, name=d.get("name", cid), service_type=d.get("serviceType", "collections"))
            for cid, d in by_prefix.get("CAMPAIGN", {}).items()
        }
        loaded = TenantConfig(
            tenant_id=tenant_id,
            timezone=config.get("timezone", "UTC"),
            default_phone_region=config.get("defaultPhoneRegion", "US"),
            campaigns=campaigns,
            task_types=tuple(config.get("taskTypes", [])),
            timelines=by_prefix.get("TIMELINE", {}),
            payment_sources=by_prefix.get("SOURCE", {}),
            contacts=by_prefix.get("CONTACT", {}),
            price_table=config.get("priceTable"),
            lms=config.get("lms", {}),
            retention_days=int(config.get("retentionDays", DEFAULT_RETENTION_DAYS)),
            call_policy=plain_numbers(config.get("callPolicy") or {}),
        )
        if self.expiry is not None and "retentionDays" in config:
            self.expiry.remember(tenant_id, loaded.retention_days)
        return loaded

    def save_campaign(self, tenant_id: str, campaign: Campaign) -> None:
        """See ``TenantDirectory.save_campaign``."""
        self.put_config_item(tenant_id, f"CAMPAIGN#{campaign.id}", campaign.to_api())

    # -- used by the seed loader -------------------------------------------------------------
    def put_config_item(self, tenant_id: str, sk: str, data: dict[str, Any]) -> None:
        """Store one configuration entry (``CAMPAIGN#id``, ``TIMELINE#id``…) of a tenant."""
        self.client.put_item(
            TableName=self.table, Item=to_item({"pk": tenant_pk(tenant_id), "sk": sk, "data": data})
        )

    def put_tenant(self, tenant_id: str, settings: dict[str, Any]) -> None:
        """Create or replace a tenant's settings item."""
        self.client.put_item(
            TableName=self.table, Item=to_item({"pk": tenant_pk(tenant_id), "sk": "CONFIG", **settings})
        )

    def put_lms_customer(self, tenant_id: str, customer: dict[str, Any]) -> None:
        """Store one LMS customer record (the DynamoDB implementation of a tenant's LMS)."""
        self.client.put_item(
            TableName=self.table,
            Item=to_item({"pk": lms_pk(tenant_id), "sk": lms_sk(str(customer["id"])), "data": customer}),
        )

    def put_api_key(self, tenant_id: str, key_hash: str, scopes: Sequence[str]) -> None:
        """Store an API key by its hash."""
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {"pk": f"KEY#{key_hash}", "sk": "KEY", "tenantId": tenant_id, "scopes": list(scopes)}
            ),
        )

    def _query(self, pk: str) -> Iterator[dict[str, Any]]:
        items = query_items(
            self.client,
            TableName=self.table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )
        for item in items:
            yield from_item(item)
