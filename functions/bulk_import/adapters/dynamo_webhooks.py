"""DynamoDB implementation of ``WebhookStore``: tenants' endpoints and the marks of announced events.

A tenant's endpoint is one item of its configuration partition (``T#{tenant}``, sort key ``WEBHOOK``),
its secret stored as the secret box sealed it. The mark that an import's event was announced lives with
the import (``T#{tenant}#IMPORT#{id}``, sort key ``WEBHOOK#{event}``), written on condition that it does
not exist, so an event is announced once however often the step that ends the import runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bulk_import.adapters.dynamo_codec import from_item, to_item
from bulk_import.adapters.dynamo_import_items import EXPIRES_AT, parse_time
from bulk_import.adapters.dynamo_keys import import_pk, tenant_pk
from bulk_import.core.model import WebhookEndpoint
from bulk_import.core.tenants import DEFAULT_RETENTION_DAYS

#: Sort key of a tenant's endpoint in its configuration partition.
WEBHOOK_SK = "WEBHOOK"
#: How long an event's mark is kept: the default retention of an import's per-row items.
MARK_DAYS = DEFAULT_RETENTION_DAYS


@dataclass
class DynamoWebhookStore:
    """Endpoints in the config table, event marks in the imports table."""

    client: Any
    config_table: str
    imports_table: str

    def _key(self, tenant_id: str) -> dict[str, Any]:
        return to_item({"pk": tenant_pk(tenant_id), "sk": WEBHOOK_SK})

    def get_webhook(self, tenant_id: str) -> WebhookEndpoint | None:
        """See ``WebhookStore.get_webhook``."""
        resp = self.client.get_item(
            TableName=self.config_table, Key=self._key(tenant_id), ConsistentRead=True
        )
        if "Item" not in resp:
            return None
        item = from_item(resp["Item"])
        created = parse_time(item.get("createdAt"))
        updated = parse_time(item.get("updatedAt"))
        assert created is not None and updated is not None
        return WebhookEndpoint(
            tenant_id=tenant_id,
            url=str(item["url"]),
            events=tuple(str(e) for e in item.get("events", [])),
            sealed_secret=str(item["sealedSecret"]),
            created_at=created,
            updated_at=updated,
            disabled_at=parse_time(item.get("disabledAt")),
            disabled_reason=item.get("disabledReason"),
        )

    def put_webhook(self, endpoint: WebhookEndpoint) -> None:
        """See ``WebhookStore.put_webhook``."""
        item = {
            "pk": tenant_pk(endpoint.tenant_id),
            "sk": WEBHOOK_SK,
            "url": endpoint.url,
            "events": list(endpoint.events),
            "sealedSecret": endpoint.sealed_secret,
            "createdAt": endpoint.created_at,
            "updatedAt": endpoint.updated_at,
        }
        if endpoint.disabled_at is not None:
            item["disabledAt"] = endpoint.disabled_at
            item["disabledReason"] = endpoint.disabled_reason or ""
        self.client.put_item(TableName=self.config_table, Item=to_item(item))

    def delete_webhook(self, tenant_id: str) -> bool:
        """See ``WebhookStore.delete_webhook``."""
        resp = self.client.delete_item(
            TableName=self.config_table, Key=self._key(tenant_id), ReturnValues="ALL_OLD"
        )
        return "Attributes" in resp

    def disable_webhook(self, tenant_id: str, url: str, reason: str, now: datetime) -> bool:
        """See ``WebhookStore.disable_webhook``: conditional on the endpoint still having ``url``."""
        try:
            self.client.update_item(
                TableName=self.config_table,
                Key=self._key(tenant_id),
                UpdateExpression="SET disabledAt = :now, disabledReason = :why, updatedAt = :now",
                ConditionExpression="attribute_exists(pk) AND #u = :url",
                ExpressionAttributeNames={"#u": "url"},
                ExpressionAttributeValues=to_item({":now": now, ":why": reason, ":url": url}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def claim_event(self, tenant_id: str, import_id: str, event: str, now: datetime) -> bool:
        """See ``WebhookStore.claim_event``: a put on condition that the mark does not exist."""
        expires = int((now + timedelta(days=MARK_DAYS)).timestamp())
        try:
            self.client.put_item(
                TableName=self.imports_table,
                Item=to_item(
                    {
                        "pk": import_pk(tenant_id, import_id),
                        "sk": f"WEBHOOK#{event}",
                        "announcedAt": now,
                        EXPIRES_AT: expires,
                    }
                ),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_event(self, tenant_id: str, import_id: str, event: str) -> None:
        """See ``WebhookStore.release_event``."""
        self.client.delete_item(
            TableName=self.imports_table,
            Key=to_item({"pk": import_pk(tenant_id, import_id), "sk": f"WEBHOOK#{event}"}),
        )
