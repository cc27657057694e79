"""DynamoDB implementation of ``RecordStore``: imported records, one partition per record.

An import with a call stage lists the records it stored in its own partition of the imports table, for its
call stage: one *call list* per ``put_records`` call, written after the records, naming the records
actually stored with the few fields the call stage reads (``CALL_LIST_FIELDS``), as compressed JSON
(``dynamo_packing``; a few parts when large). The 1,000 customers of a write make about 11 KB: about 0.01
write unit a record, where an index entry cost one. The records of every other import are written alone.

A call list's sort key is ``CALL#LIST#{entity}#{digest of the records given}#{part:03d}``: a chunk
written again rewrites its own list. Each part carries the digest of the list's content (``w``) and its
number of parts (``parts``); readers take the parts whose ``w`` is part 0's and whose number is below its
``parts``, and skip the leftovers of a rewrite in fewer parts. The lists expire with the import's other
row items (``expiresAt``, ``RowExpiry``), and never sooner than ``CALL_ITEMS_MIN_SECONDS`` after written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_codec import from_item, to_item
from bulk_import.adapters.dynamo_import_items import EXPIRES_AT, RowExpiry
from bulk_import.adapters.dynamo_keys import (
    CALL_LIST_FIELDS,
    CALL_LIST_PREFIX,
    call_list_sk,
    import_pk,
    record_pk,
)
from bulk_import.adapters.dynamo_packing import call_item_expiry, pack, packed_items, unpack
from bulk_import.adapters.dynamo_paging import batch_get_items
from bulk_import.adapters.dynamo_results import current_parts
from bulk_import.adapters.errors import UnstorableValueError
from bulk_import.core.model import ImportJob, StoredRecord, WriteFailure
from bulk_import.core.ports import RefusedWrite

#: The request option by which a synchronous import asks for calls: its job is saved before its records,
#: and its call stage (``callStatus``) only once they are stored.
CALLS_OPTION = "initiateCall"
#: Imports whose call stage the store remembers (a container writes the chunks of a few at a time).
KNOWN_IMPORTS = 1024
#: The record's own attributes a call list entry is read back with.
RECORD_KEY = "recordKey"
IMPORT_ID = "importId"


@dataclass
class DynamoRecordStore:
    """Imported records in the records table, one partition per record.

    ``imports_table`` is where the store reads whether an import has a call stage (its job item), once
    per import, and writes the call lists of those that have one: without it, no import is listed.
    ``config_table`` is where the tenants' retention is read (``RowExpiry``), for the lists' expiry.
    """

    client: Any
    table: str
    writer: BatchWriter
    clock: Any = None
    imports_table: str | None = None
    config_table: str | None = None
    #: When the call lists expire (default: a ``RowExpiry`` of its own, built on first use).
    row_expiry: RowExpiry | None = None
    _calls: dict[tuple[str, str], bool] = field(default_factory=dict, init=False, repr=False)

    def has_call_stage(self, tenant_id: str, import_id: str) -> bool:
        """Whether this import's records are listed for a call stage: its job has one, or asked for
        one; False when the store has no imports table to ask."""
        if self.imports_table is None:
            return False
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
        self._know(tenant_id, import_id, calls)
        return calls

    def note_job(self, job: ImportJob) -> None:
        """Learn whether an import has a call stage from its job as this container saves it (a
        synchronous import saves its job, then stores its records: they need not read it back)."""
        self._know(job.tenant_id, job.import_id, job.calls is not None or bool(job.options.get(CALLS_OPTION)))

    def _know(self, tenant_id: str, import_id: str, calls: bool) -> None:
        if len(self._calls) >= KNOWN_IMPORTS:
            self._calls.clear()
        self._calls[(tenant_id, import_id)] = calls

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        """See ``RecordStore.put_records``: one item per record, then the call list of those stored
        when the import has a call stage.

        When the call list cannot be written, its records are reported unwritten (a ``WriteFailure``:
        sending them again writes the list): a stored record the call stage does not know of would
        never be called.
        """
        now = (self.clock.now() if self.clock else datetime.now(UTC)).isoformat()
        items = []
        refused: list[WriteFailure] = []
        for r in records:
            data = {
                **r.data,
                "pk": record_pk(tenant_id, r.entity, r.key),
                "sk": "R",
                "tenantId": tenant_id,
                "entity": r.entity,
                RECORD_KEY: r.key,
                IMPORT_ID: import_id,
                "updatedAt": now,
            }
            try:
                item = to_item(data)
            except UnstorableValueError as exc:
                refused.append(RefusedWrite(key=r.key, reason=exc.message))
                continue
            items.append(item)
        for u in self.writer.put(self.table, items):
            key = u.item[RECORD_KEY]["S"]
            refused.append(RefusedWrite(key, u.reason) if u.permanent else WriteFailure(key, u.reason))
        if items and self.has_call_stage(tenant_id, import_id):
            unwritten = {f.key for f in refused}
            stored = [r for r in records if r.key not in unwritten]
            refused += self._list_calls(tenant_id, import_id, records, stored)
        return refused

    def _list_calls(
        self,
        tenant_id: str,
        import_id: str,
        given: Sequence[StoredRecord],
        stored: Sequence[StoredRecord],
    ) -> list[WriteFailure]:
        """Write the call lists of ``stored`` (per entity; named by the keys ``given``, so a chunk
        written again rewrites them); the records of a list not written, as failures."""
        assert self.imports_table is not None
        pk = import_pk(tenant_id, import_id)
        expires = {"N": str(call_item_expiry(self.expiry.for_import(tenant_id, import_id)))}
        items: list[dict[str, Any]] = []
        for entity in sorted({r.entity for r in given}):
            name = hashlib.blake2b(digest_size=8)
            for r in given:
                if r.entity == entity:
                    name.update(r.key.encode() + b"\0")
            blobs = pack(
                [
                    [r.key, {f: r.data[f] for f in CALL_LIST_FIELDS if r.data.get(f) is not None}]
                    for r in stored
                    if r.entity == entity
                ]
            )
            content = {"S": hashlib.blake2b(b"".join(blobs), digest_size=6).hexdigest()}
            items += [
                {
                    "pk": {"S": pk},
                    "sk": {"S": call_list_sk(entity, name.hexdigest(), part)},
                    "parts": {"N": str(len(blobs))},
                    "w": content,
                    "e": {"B": blob},
                    EXPIRES_AT: expires,
                }
                for part, blob in enumerate(blobs)
            ]
        return [
            (RefusedWrite if u.permanent else WriteFailure)(str(entry[0]), f"its call list: {u.reason}")
            for u in self.writer.put(self.imports_table, items)
            for entry in unpack(u.item["e"]["B"])
        ]

    @property
    def expiry(self) -> RowExpiry:
        assert self.imports_table is not None
        if self.row_expiry is None:
            self.row_expiry = RowExpiry(self.client, self.imports_table, self.config_table)
        return self.row_expiry

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
            found[data[RECORD_KEY]] = data
        return found

    def iter_import_records(
        self, tenant_id: str, import_id: str, entity: str, fields: Sequence[str] | None = None
    ) -> Iterator[StoredRecord]:
        """See ``RecordStore.iter_import_records``: the import's call lists, one consistent Query.

        Only imports with a call stage have lists. Each record the import stored is yielded once. Fields
        the lists hold are read from them, as the import stored them: a record another import wrote
        since is yielded all the same (``request_calls`` reads each record again and skips it). For
        other fields (or every field, ``fields`` None) the records are read from the table by key, and
        those another import wrote since are left out.
        """
        if self.imports_table is None:
            return
        listed = fields is not None and set(fields) <= {RECORD_KEY, *CALL_LIST_FIELDS}
        seen: set[str] = set()
        for entries in self._call_lists(tenant_id, import_id, entity):
            fresh: list[tuple[str, dict[str, Any]]] = []
            for key, data in entries:
                if str(key) not in seen:
                    seen.add(str(key))
                    fresh.append((str(key), data))
            if listed:
                assert fields is not None
                for key, listed_data in fresh:
                    wanted = {f: listed_data[f] for f in fields if f in listed_data}
                    yield StoredRecord(entity=entity, key=key, data={**wanted, RECORD_KEY: key})
                continue
            keys = [k for k, _ in fresh]
            read = None if fields is None else [*fields, IMPORT_ID]
            stored = self.get_records(tenant_id, entity, keys, read)
            for key in keys:
                record = stored.get(key)
                if record is not None and record.get(IMPORT_ID) == import_id:
                    if fields is not None and IMPORT_ID not in fields:
                        record.pop(IMPORT_ID)
                    yield StoredRecord(entity=entity, key=key, data=record)

    def _call_lists(self, tenant_id: str, import_id: str, entity: str) -> Iterator[list[Any]]:
        """The entries of each current part of the import's call lists of ``entity``, leftovers skipped."""
        assert self.imports_table is not None
        pk = import_pk(tenant_id, import_id)
        prefix = f"{CALL_LIST_PREFIX}{entity}#"
        items = packed_items(self.client, self.imports_table, pk, prefix, ("parts", "w", "e"))
        for item in current_parts(items, lambda sk: sk.rpartition("#")[::2]):
            yield unpack(item["e"]["B"])


def _projection(fields: Sequence[str] | None) -> dict[str, Any]:
    """ProjectionExpression of ``fields`` and the record key (names go through placeholders: any field
    name may be a DynamoDB reserved word)."""
    if fields is None:
        return {}
    names = {f"#p{i}": name for i, name in enumerate(dict.fromkeys(["recordKey", *fields]))}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
