"""DynamoDB implementation of ``CallCaps``: the calls each phone number got in the last 7 days, per tenant.

One item per tenant and phone number in the imports table (``T#{tenant}#PHONE#{e164}``, ``CALLS``) holds
the instants of its recent calls by call id, and a version. Taking a slot reads the item, drops the calls
older than 7 days, checks the cap (``within_call_cap``) and writes the item back on condition that its
version did not change: of two imports taking the last slot at once, one write fails its condition, reads
again and finds no slot left. The item expires (``expiresAt``, the table's TTL) 7 days after its latest
call, when it no longer counts for anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bulk_import.adapters.dynamo_import_items import EXPIRES_AT
from bulk_import.adapters.dynamo_keys import tenant_pk
from bulk_import.adapters.dynamo_paging import batch_get_items
from bulk_import.core.errors import TransientError

#: Conditional writes one phone number's slot may lose to other writers before the batch is retried.
ATTEMPTS = 8
#: Phone numbers whose slots are taken at the same time.
WORKERS = 8
_PERIOD = timedelta(days=7)


def phone_pk(tenant_id: str, phone: str) -> str:
    """Partition of a tenant's recent calls to one phone number."""
    return f"{tenant_pk(tenant_id)}#PHONE#{phone}"


class CallCapContentionError(TransientError):
    """A phone number's calls changed under every attempt to take a slot (retried by the workflow)."""


@dataclass
class DynamoCallCaps:
    """Slots of the weekly cap per tenant and phone number, in the imports table."""

    client: Any
    table: str

    def take(
        self, tenant_id: str, calls: Sequence[tuple[str, str]], now: datetime, max_calls: int
    ) -> set[str]:
        """See ``CallCaps.take``: the numbers' items read 100 a call, then each number's slots taken.

        Numbers are written in parallel, each one's calls in order; a number whose item changed since it
        was read is read again.
        """
        by_phone: dict[str, list[str]] = {}
        for phone, call_id in calls:
            by_phone.setdefault(phone, []).append(call_id)
        keys = [self._key(tenant_id, phone) for phone in by_phone]
        read = {
            item["pk"]["S"]: _parse(item)
            for item in batch_get_items(self.client, self.table, keys, ConsistentRead=True)
        }

        def one(phone: str) -> set[str]:
            first = read.get(phone_pk(tenant_id, phone), ({}, None))
            return self._take_phone(tenant_id, phone, by_phone[phone], now, max_calls, first)

        if len(by_phone) <= 1:
            results = [one(phone) for phone in by_phone]
        else:
            with ThreadPoolExecutor(max_workers=min(WORKERS, len(by_phone))) as pool:
                results = list(pool.map(one, by_phone))
        return {call_id for granted in results for call_id in granted}

    def recent_calls(self, tenant_id: str, phone: str, now: datetime) -> dict[str, datetime]:
        """Call id -> instant of the phone number's calls in the 7 days up to ``now``."""
        calls, _ = self._read(tenant_id, phone)
        return {k: t for k, t in calls.items() if t > now - _PERIOD}

    @staticmethod
    def _key(tenant_id: str, phone: str) -> dict[str, Any]:
        return {"pk": {"S": phone_pk(tenant_id, phone)}, "sk": {"S": "CALLS"}}

    def _read(self, tenant_id: str, phone: str) -> tuple[dict[str, datetime], int | None]:
        resp = self.client.get_item(
            TableName=self.table, Key=self._key(tenant_id, phone), ConsistentRead=True
        )
        return _parse(resp["Item"]) if "Item" in resp else ({}, None)

    def _take_phone(
        self,
        tenant_id: str,
        phone: str,
        call_ids: Sequence[str],
        now: datetime,
        max_calls: int,
        first: tuple[dict[str, datetime], int | None],
    ) -> set[str]:
        from bulk_import.rules.calling import within_call_cap  # deferred: phone data loads on first call

        for attempt in range(ATTEMPTS):
            calls, version = first if attempt == 0 else self._read(tenant_id, phone)
            calls = {k: t for k, t in calls.items() if t > now - _PERIOD}
            granted, added = set(), False
            for call_id in call_ids:
                if call_id in calls:
                    granted.add(call_id)  # taken by an earlier run of the same batch
                elif within_call_cap(list(calls.values()), now, max_calls):
                    calls[call_id] = now
                    granted.add(call_id)
                    added = True
            # Nothing to add: the answer stands on the consistent read (others only add calls).
            if not added or not self._changed(tenant_id, phone, calls, version, now):
                return granted
        raise CallCapContentionError(f"the recent calls of a phone number changed {ATTEMPTS} times")

    def _changed(
        self, tenant_id: str, phone: str, calls: dict[str, datetime], version: int | None, now: datetime
    ) -> bool:
        """Write the phone number's calls if nobody else did since ``version`` was read; True if they did."""
        latest = max(calls.values(), default=now)
        item = {
            **self._key(tenant_id, phone),
            "calls": {"M": {k: {"N": f"{t.timestamp():.3f}"} for k, t in calls.items()}},
            "version": {"N": str((version or 0) + 1)},
            EXPIRES_AT: {"N": str(int((latest + _PERIOD).timestamp()) + 1)},
        }
        if version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(version)}},
            }
        try:
            self.client.put_item(TableName=self.table, Item=item, **condition)
        except self.client.exceptions.ConditionalCheckFailedException:
            return True
        return False


def _parse(item: dict[str, Any]) -> tuple[dict[str, datetime], int | None]:
    """A number's calls by id, and the item's version."""
    calls = {k: datetime.fromtimestamp(float(Decimal(v["N"])), UTC) for k, v in item["calls"]["M"].items()}
    return calls, int(item["version"]["N"])
