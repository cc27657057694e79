"""DynamoDB implementation of ``RecordStore``: imported records, one partition per record.

The ``by_import`` index lists the records an import wrote, for its call stage. It is sparse: a record
carries the index's keys (``gsi1pk``, ``gsi1sk``) only when its import has a call stage, so the records of
every other import cost one write unit each instead of two. It projects the few attributes the call stage
reads (``IMPORT_INDEX_ATTRIBUTES``); a read that asks for others gets them from the table.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_codec import from_item, to_item
from bulk_import.adapters.dynamo_keys import (
    IMPORT_INDEX,
    IMPORT_INDEX_ATTRIBUTES,
    IMPORT_INDEX_SHARDS,
    import_index_pk,
    import_pk,
    import_shard_pk,
    record_pk,
)
from bulk_import.adapters.dynamo_paging import batch_get_items, query_items
from bulk_import.adapters.errors import UnstorableValueError
from bulk_import.core.model import StoredRecord, WriteFailure
from bulk_import.core.ports import RefusedWrite

#: The request option by which a synchronous import asks for calls: its job is saved before its records,
#: and its call stage (``callStatus``) only once they are stored.
CALLS_OPTION = "initiateCall"
#: Imports whose call stage the store remembers (a container writes the chunks of a few at a time).
KNOWN_IMPORTS = 1024


@dataclass
class DynamoRecordStore:
    """Imported records in the records table, one partition per record.

    ``imports_table`` is where the store reads whether an import has a call stage (its job item), once
    per import: without it, every record is indexed.
    """

    client: Any
    table: str
    writer: BatchWriter
    clock: Any = None
    imports_table: str | None = None
    _calls: dict[tuple[str, str], bool] = field(default_factory=dict, init=False, repr=False)

    def has_call_stage(self, tenant_id: str, import_id: str) -> bool:
        """Whether the records of this import go into the ``by_import`` index: its job has a call stage,
        or asked for one; True when the store has no imports table to ask."""
        if self.imports_table is None:
            return True
        known = self._calls.get((tenant_id, import_id))
        if known is not None:
            return known
        resp = self.client.get_item(
            TableName=self.imports_table,
            Key={"pk": {"S": import_pk(tenant_id, import_id)}, "sk": {"S": "META"}},
            ConsistentRead=True,
            ProjectionExpression="callStatus, #o.#c",
            ExpressionAttributeNames={"#o": "options", "#c": CALLS_OPTION},
        )
        job = from_item(resp.get("Item", {}))
        calls = "callStatus" in job or bool((job.get("options") or {}).get(CALLS_OPTION))
        if len(self._calls) >= KNOWN_IMPORTS:
            self._calls.clear()
        self._calls[(tenant_id, import_id)] = calls
        return calls

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        """See ``RecordStore.put_records``: one item per record, indexed when its import has a call stage."""
        now = (self.clock.now() if self.clock else datetime.now(UTC)).isoformat()
        indexed = bool(records) and self.has_call_stage(tenant_id, import_id)
        items = []
        refused: list[WriteFailure] = []
        for r in records:
            data = {
                **r.data,
                "pk": record_pk(tenant_id, r.entity, r.key),
                "sk": "R",
                "tenantId": tenant_id,
                "entity": r.entity,
                "recordKey": r.key,
                "importId": import_id,
                "updatedAt": now,
            }
            if indexed:
                data["gsi1pk"] = import_index_pk(tenant_id, import_id, r.entity, r.key)
                data["gsi1sk"] = r.key
            try:
                item = to_item(data)
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
        """See ``RecordStore.iter_import_records``: one query per index shard.

        Only the records of imports with a call stage are in the index. Fields it projects are read from
        it; for others (or every field, ``fields`` None) the records are read from the table by key.
        """
        projected = fields is not None and set(fields) <= set(IMPORT_INDEX_ATTRIBUTES)
        for shard in range(IMPORT_INDEX_SHARDS):
            items = query_items(
                self.client,
                TableName=self.table,
                IndexName=IMPORT_INDEX,
                KeyConditionExpression="gsi1pk = :pk",
                ExpressionAttributeValues={
                    ":pk": {"S": import_shard_pk(tenant_id, import_id, entity, shard)}
                },
                **_projection(fields if projected else ()),
            )
            if projected:
                for item in items:
                    data = from_item(item)
                    yield StoredRecord(entity=entity, key=data["recordKey"], data=data)
                continue
            keys = [item["recordKey"]["S"] for item in items]
            stored = self.get_records(tenant_id, entity, keys, fields)
            for key in keys:
                if key in stored:
                    yield StoredRecord(entity=entity, key=key, data=stored[key])


def _projection(fields: Sequence[str] | None) -> dict[str, Any]:
    """ProjectionExpression of ``fields`` and the record key (names go through placeholders: any field
    name may be a DynamoDB reserved word)."""
    if fields is None:
        return {}
    names = {f"#p{i}": name for i, name in enumerate(dict.fromkeys(["recordKey", *fields]))}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
