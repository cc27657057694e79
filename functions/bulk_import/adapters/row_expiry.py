"""When an import's per-row items expire, and the imports table's TTL attribute.

Apart from the job's item mapping (``dynamo_import_items``) so that the tenant directory, which tells
the expiry each tenant's retention, loads neither the job model nor its mapping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bulk_import import resources
from bulk_import.adapters.dynamo_keys import import_pk, tenant_pk
from bulk_import.core.tenants import DEFAULT_RETENTION_DAYS, MAX_RETENTION_DAYS, MIN_RETENTION_DAYS

if TYPE_CHECKING:
    from bulk_import.core.model import ImportJob

#: The imports table's TTL attribute (epoch seconds): DynamoDB deletes an item some time after it.
EXPIRES_AT = resources.IMPORTS_TABLE.ttl_attribute or "expiresAt"


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass
class RowExpiry:
    """When an import's per-row items expire: the import's creation time plus its tenant's retention.

    The retention is the ``retentionDays`` of the tenant's settings item in the config table, read with
    one small GetItem and remembered for ``cache_seconds`` (a changed retention applies to items written
    after that). Without a config table, or for a tenant without the setting, it is
    ``DEFAULT_RETENTION_DAYS``. Creation times are remembered per import, so the writers that only know
    an import's id read its job item once.
    """

    client: Any
    imports_table: str
    config_table: str | None = None
    cache_seconds: float = 300.0
    _days: dict[str, tuple[int, float]] = field(default_factory=dict, init=False, repr=False)
    _created: dict[tuple[str, str], datetime] = field(default_factory=dict, init=False, repr=False)

    def retention_days(self, tenant_id: str) -> int:
        """The tenant's retention in days, within the bounds a seed file may set."""
        cached = self._days.get(tenant_id)
        if cached is not None and time.monotonic() - cached[1] < self.cache_seconds:
            return cached[0]
        days = DEFAULT_RETENTION_DAYS
        if self.config_table:
            resp = self.client.get_item(
                TableName=self.config_table,
                Key={"pk": {"S": tenant_pk(tenant_id)}, "sk": {"S": "CONFIG"}},
                ProjectionExpression="retentionDays",
            )
            stored = resp.get("Item", {}).get("retentionDays", {}).get("N")
            if stored is not None:
                days = int(Decimal(stored))
        return self.remember(tenant_id, days)

    def remember(self, tenant_id: str, days: int) -> int:
        """Keep a retention read elsewhere (the tenant's configuration, loaded by the same request), so
        that the first write of a request does not read it again; returns it within its bounds."""
        days = min(max(int(days), MIN_RETENTION_DAYS), MAX_RETENTION_DAYS)
        self._days[tenant_id] = (days, time.monotonic())
        return days

    def for_job(self, job: ImportJob) -> int:
        """Epoch seconds at which the per-row items of ``job`` expire."""
        self.know(job)
        return self._at(job.tenant_id, job.created_at)

    def know(self, job: ImportJob) -> None:
        """Keep the creation time of a job this container saved (its writers then read no job)."""
        self._created[(job.tenant_id, job.import_id)] = job.created_at

    def for_import(self, tenant_id: str, import_id: str) -> int:
        """As ``for_job``, for an import known by its id (its creation time read from its job item)."""
        created = self._created.get((tenant_id, import_id))
        if created is None:
            resp = self.client.get_item(
                TableName=self.imports_table,
                Key={"pk": {"S": import_pk(tenant_id, import_id)}, "sk": {"S": "META"}},
                ProjectionExpression="createdAt",
            )
            # An import without its job item is not in the listing any more: its leftovers expire from now.
            created = parse_time(resp.get("Item", {}).get("createdAt", {}).get("S")) or datetime.now(UTC)
            self._created[(tenant_id, import_id)] = created
        return self._at(tenant_id, created)

    def _at(self, tenant_id: str, created: datetime) -> int:
        return int((created + timedelta(days=self.retention_days(tenant_id))).timestamp())
