"""DynamoDB implementation of ``RecordStore``: imported records, one partition per record.

Each record is also written to the ``by_import`` index, sharded, so an import's records can be read back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_codec import from_item, to_item
from bulk_import.adapters.dynamo_keys import IMPORT_INDEX_SHARDS, import_index_pk, import_shard_pk, record_pk
from bulk_import.adapters.dynamo_paging import batch_get_items, query_items
from bulk_import.adapters.errors import UnstorableValueError
from bulk_import.core.model import StoredRecord, WriteFailure
from bulk_import.core.ports import RefusedWrite


@dataclass
class DynamoRecordStore:
    """Imported records in the records table, one partition per record."""

    client: Any
    table: str
    writer: BatchWriter
    clock: Any = None

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        """See ``RecordStore.put_records``."""
        now = (self.clock.now() if self.clock else datetime.now(UTC)).isoformat()
        items = []
        refused: list[WriteFailure] = []
        for r in records:
            try:
                item = to_item(
                    {
                        **r.data,
                        "pk": record_pk(tenant_id, r.entity, r.key),
                        "sk": "R",
                        "gsi1pk": import_index_pk(tenant_id, import_id, r.entity, r.key),
                        "gsi1sk": r.key,
                        "tenantId": tenant_id,
                        "entity": r.entity,
                        "recordKey": r.key,
                        "importId": import_id,
                        "updatedAt": now,
                    }
                )
            except UnstorableValueError as exc:
                refused.append(RefusedWrite(key=r.key, reason=exc.message))
                continue
            items.append(item)
        for u in self.writer.put(self.table, items):
            key = u.item["recordKey"]["S"]
            refused.append(RefusedWrite(key, u.reason) if u.permanent else WriteFailure(key, u.reason))
        return refused

    def get_records(
        self, tenant_id: str, entity: str, keys: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """See ``RecordStore.get_records``: BatchGetItem, 100 keys a call."""
        wanted = [
            {"pk": {"S": record_pk(tenant_id, entity, k)}, "sk": {"S": "R"}} for k in dict.fromkeys(keys)
        ]
        found: dict[str, dict[str, Any]] = {}
        for item in batch_get_items(self.client, self.table, wanted, **_projection(fields)):
            data = from_item(item)
            found[data["recordKey"]] = data
        return found

    def iter_import_records(
        self, tenant_id: str, import_id: str, entity: str, fields: Sequence[str] | None = None
    ) -> Iterator[StoredRecord]:
        """See ``RecordStore.iter_import_records``: one query per index shard."""
        for shard in range(IMPORT_INDEX_SHARDS):
            items = query_items(
                self.client,
                TableName=self.table,
                IndexName="by_import",
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues={
                    ":pk": {"S": import_shard_pk(tenant_id, import_id, entity, shard)}
                },
                **_projection(fields),
            )
            for item in items:
                data = from_item(item)
                yield StoredRecord(entity=entity, key=data["recordKey"], data=data)


def _projection(fields: Sequence[str] | None) -> dict[str, Any]:
    """ProjectionExpression of ``fields`` and the record key (names go through placeholders: any field
    name may be a DynamoDB reserved word)."""
    if fields is None:
        return {}
    names = {f"#p{i}": name for i, name in enumerate(dict.fromkeys(["recordKey", *fields]))}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
