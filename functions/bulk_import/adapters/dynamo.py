"""DynamoDB implementations of the stores: tenants, records and imports.

Every key starts with the tenant (``T#{tenant}``), so no query can reach another tenant's items.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_codec import as_text_numbers, clipped, from_item, to_item
from bulk_import.adapters.errors import UnstorableValueError
from bulk_import.core.errors import InvalidRequestError, TransientError
from bulk_import.core.model import (
    CallStage,
    CallStatus,
    Counts,
    ImportJob,
    ImportStatus,
    RowOutcome,
    StoredRecord,
    WriteFailure,
)
from bulk_import.core.ports import CallCounts, ErrorPage, PendingUpload, RefusedWrite, ResultPage
from bulk_import.core.tenants import Campaign, Principal, TenantConfig

#: Records of one import are spread over this many index partitions, so a 10,000-record import does
#: not write one hot partition of the ``by_import`` index.
IMPORT_INDEX_SHARDS = 8


def tenant_pk(tenant_id: str) -> str:
    """Partition key of a tenant's configuration items."""
    return f"T#{tenant_id}"


def lms_pk(tenant_id: str) -> str:
    """Partition key of a tenant's LMS customer records (the DynamoDB implementation of its LMS)."""
    return f"{tenant_pk(tenant_id)}#LMS"


def lms_sk(customer_id: str) -> str:
    """Sort key of one LMS customer record."""
    return f"CUSTOMER#{customer_id}"


def record_pk(tenant_id: str, entity: str, key: str) -> str:
    """Partition key of one stored record."""
    return f"T#{tenant_id}#{entity}#{key}"


def import_pk(tenant_id: str, import_id: str) -> str:
    """Partition key of an import and its rows."""
    return f"T#{tenant_id}#IMPORT#{import_id}"


def import_index_pk(tenant_id: str, import_id: str, entity: str, key: str) -> str:
    """``by_import`` partition of a record, sharded by a stable hash of its key."""
    shard = int(hashlib.blake2s(key.encode(), digest_size=2).hexdigest(), 16) % IMPORT_INDEX_SHARDS
    return f"T#{tenant_id}#I#{import_id}#{entity}#{shard}"


@dataclass
class DynamoTenantDirectory:
    """Tenants, API key hashes and configuration in the config table."""

    client: Any
    table: str

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
        return TenantConfig(
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
        )

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
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
        }
        while True:
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                yield from_item(item)
            if "LastEvaluatedKey" not in resp:
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


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
        found: dict[str, dict[str, Any]] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [
                        {"pk": {"S": record_pk(tenant_id, entity, k)}, "sk": {"S": "R"}}
                        for k in unique[i : i + 100]
                    ],
                    **_projection(fields),
                }
            }
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    data = from_item(item)
                    found[data["recordKey"]] = data
                request = resp.get("UnprocessedKeys") or {}
        return found

    def iter_import_records(
        self, tenant_id: str, import_id: str, entity: str, fields: Sequence[str] | None = None
    ) -> Iterator[StoredRecord]:
        """See ``RecordStore.iter_import_records``: one query per index shard."""
        for shard in range(IMPORT_INDEX_SHARDS):
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "IndexName": "by_import",
                "KeyConditionExpression": "gsi1pk = :pk",
                "ExpressionAttributeValues": {":pk": {"S": f"T#{tenant_id}#I#{import_id}#{entity}#{shard}"}},
                **_projection(fields),
            }
            while True:
                resp = self.client.query(**kwargs)
                for item in resp.get("Items", []):
                    data = from_item(item)
                    yield StoredRecord(entity=entity, key=data["recordKey"], data=data)
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def _projection(fields: Sequence[str] | None) -> dict[str, Any]:
    """ProjectionExpression of ``fields`` and the record key (names go through placeholders: any field
    name may be a DynamoDB reserved word)."""
    if fields is None:
        return {}
    names = {f"#p{i}": name for i, name in enumerate(dict.fromkeys(["recordKey", *fields]))}
    return {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}


def _job_to_item(job: ImportJob) -> dict[str, Any]:
    return {
        "pk": import_pk(job.tenant_id, job.import_id),
        "sk": "META",
        "importId": job.import_id,
        "tenantId": job.tenant_id,
        "kind": job.kind,
        "source": job.source,
        "status": job.status,
        "createdAt": job.created_at,
        "updatedAt": job.updated_at,
        "completedAt": job.completed_at,
        "options": job.options,
        **(_calls_to_item(job.calls) if job.calls is not None else {}),
        "insertedAt": job.inserted_at,
        "taskToken": job.task_token,
        "files": job.files or None,
        "sourceFile": job.source_file,
        "executionId": job.execution_id or (job.calls.execution_id if job.calls is not None else None),
        "error": job.error,
        "chunksTotal": job.chunks_total,
        "chunksDone": job.chunks_done,
        "batches": job.batches,
        **{f"n_{k}": v for k, v in job.counts.as_dict().items()},
    }


#: The call stage's fields, stored as top-level attributes so batches can add to them atomically.
_CALL_ATTRIBUTES = {
    "status": "callStatus",
    "batches": "callBatches",
    "batches_done": "callBatchesDone",
    "requested": "callRequested",
    "skipped": "callSkipped",
    "failed": "callFailed",
    "execution_id": "executionId",
}


def _calls_to_item(calls: CallStage) -> dict[str, Any]:
    return {attr: getattr(calls, name) for name, attr in _CALL_ATTRIBUTES.items()}


def _calls_from_item(data: dict[str, Any]) -> CallStage | None:
    if "callStatus" not in data:
        return None
    return CallStage(
        status=data["callStatus"],
        batches=int(data.get("callBatches", 0)),
        batches_done=int(data.get("callBatchesDone", 0)),
        requested=int(data.get("callRequested", 0)),
        skipped=int(data.get("callSkipped", 0)),
        failed=int(data.get("callFailed", 0)),
        execution_id=data.get("executionId"),
    )


def _plain_numbers(value: Any) -> Any:
    """DynamoDB numbers (Decimal) back to ints where whole, in nested data."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def job_from_item(data: dict[str, Any]) -> ImportJob:
    """Rebuild an ``ImportJob`` from its stored item."""
    counts = Counts(**{k: int(data.get(f"n_{k}", 0)) for k in Counts().as_dict()})
    created = _parse_time(data["createdAt"]) or datetime.now(UTC)
    return ImportJob(
        import_id=data["importId"],
        tenant_id=data["tenantId"],
        kind=data["kind"],
        source=data.get("source", "api"),
        status=data["status"],
        created_at=created,
        updated_at=_parse_time(data.get("updatedAt")) or created,
        completed_at=_parse_time(data.get("completedAt")),
        counts=counts,
        options=data.get("options") or {},
        calls=_calls_from_item(data),
        files=data.get("files") or {},
        source_file=_plain_numbers(data["sourceFile"]) if data.get("sourceFile") is not None else None,
        execution_id=data.get("executionId"),
        error=data.get("error"),
        chunks_total=int(data.get("chunksTotal", 0)),
        chunks_done=int(data.get("chunksDone", 0)),
        batches=int(data.get("batches", 0)),
        inserted_at=_parse_time(data.get("insertedAt")),
        task_token=data.get("taskToken"),
    )


@dataclass
class DynamoImportRepository:
    """Import jobs and their per-row errors in the imports table."""

    client: Any
    table: str
    writer: BatchWriter

    def save(self, job: ImportJob) -> None:
        """See ``ImportRepository.save``."""
        self.client.put_item(TableName=self.table, Item=to_item(_job_to_item(job)))

    def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
        """See ``ImportRepository.get``."""
        resp = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": import_pk(tenant_id, import_id), "sk": "META"}),
            ConsistentRead=True,
        )
        return job_from_item(from_item(resp["Item"])) if "Item" in resp else None

    def add_rows(
        self, job: ImportJob, outcomes: Sequence[RowOutcome], results: Sequence[dict[str, Any]] | None = None
    ) -> None:
        """See ``ImportRepository.add_rows``: one item per field error and per result, keyed by row index."""
        pk = import_pk(job.tenant_id, job.import_id)
        items = []
        for o in outcomes:
            for n, entry in enumerate(o.error_entries()):
                items.append(_row_item(pk, f"ERR#{o.index:09d}#{n:03d}", "entry", entry))
        for o, result in zip(outcomes, results or (), strict=False):
            items.append(_row_item(pk, f"ROW#{o.index:09d}", "result", result))
        failed = self.writer.put(self.table, items)
        if failed:
            # The records themselves are stored; losing an error line must not go unnoticed either.
            message = f"{len(failed)} error rows of import {job.import_id} not stored: {failed[0].reason}"
            if all(not u.permanent for u in failed):
                raise TransientError(message)
            raise RuntimeError(message)

    def list_results(self, tenant_id: str, import_id: str) -> list[dict[str, Any]]:
        """See ``ImportRepository.list_results``."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :r)",
            "ExpressionAttributeValues": {":pk": {"S": import_pk(tenant_id, import_id)}, ":r": {"S": "ROW#"}},
        }
        out: list[dict[str, Any]] = []
        while True:
            resp = self.client.query(**kwargs)
            out += [_ints(from_item(i)["result"]) for i in resp.get("Items", [])]
            if "LastEvaluatedKey" not in resp:
                return out
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def list_results_page(
        self, tenant_id: str, import_id: str, limit: int, after: int | None = None
    ) -> ResultPage:
        """See ``ImportRepository.list_results_page``: a Query with a Limit, never the whole partition.

        One item more than ``limit`` is asked for, so the last page says it is the last. A Query stops at
        1 MB of items, so it may take a few calls to fill a page of large results.
        """
        first = 0 if after is None else after + 1
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": {
                ":pk": {"S": import_pk(tenant_id, import_id)},
                ":lo": {"S": f"ROW#{first:09d}"},
                ":hi": {"S": "ROW#999999999"},
            },
        }
        rows: list[tuple[int, dict[str, Any]]] = []
        while len(rows) <= limit:
            kwargs["Limit"] = limit + 1 - len(rows)
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                data = from_item(item)
                rows.append((int(str(data["sk"])[4:]), _ints(data["result"])))
            if "LastEvaluatedKey" not in resp:
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return ResultPage(rows=rows[:limit], more=len(rows) > limit)

    def count_results(self, tenant_id: str, import_id: str) -> dict[str, int]:
        """See ``ImportRepository.count_results`` (a Query projecting each result's status only)."""
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :r)",
            "ExpressionAttributeValues": {":pk": {"S": import_pk(tenant_id, import_id)}, ":r": {"S": "ROW#"}},
            "ProjectionExpression": "#r.#s",
            "ExpressionAttributeNames": {"#r": "result", "#s": "status"},
        }
        tally: dict[str, int] = {}
        while True:
            resp = self.client.query(**kwargs)
            for item in resp.get("Items", []):
                status = str(from_item(item).get("result", {}).get("status"))
                tally[status] = tally.get(status, 0) + 1
            if "LastEvaluatedKey" not in resp:
                return tally
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    def mark_processing(self, tenant_id: str, import_id: str, now: datetime) -> None:
        """See ``ImportRepository.mark_processing``."""
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"pk": import_pk(tenant_id, import_id), "sk": "META"}),
                UpdateExpression="SET #s = :p, updatedAt = :now",
                ConditionExpression="#s = :q",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item({":p": "PROCESSING", ":q": "QUEUED", ":now": now}),
            )

    def apply_chunk(self, tenant_id: str, import_id: str, chunk: int, counts: Counts, now: datetime) -> bool:
        """See ``ImportRepository.apply_chunk``.

        One conditional UpdateItem: the chunk's number joins a number set on the import and its counts are
        added, on condition that the number is not in the set yet. Atomic and idempotent without a
        transaction (a 4,000-chunk import keeps a set of about 24 KB).
        """
        deltas = {f":{k}": v for k, v in counts.as_dict().items() if k != "total"}
        adds = ", ".join(f"n_{k[1:]} {k}" for k in deltas)
        values = to_item({**deltas, ":one": 1, ":now": now})
        values[":chunk"] = {"N": str(chunk)}
        values[":chunks"] = {"NS": [str(chunk)]}
        try:
            self.client.update_item(
                TableName=self.table,
                Key=to_item({"pk": import_pk(tenant_id, import_id), "sk": "META"}),
                UpdateExpression=f"ADD {adds}, chunksDone :one, chunksApplied :chunks SET updatedAt = :now",
                ConditionExpression="attribute_exists(pk) AND NOT contains(chunksApplied, :chunk)",
                ExpressionAttributeValues=values,
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def complete_if_done(
        self, tenant_id: str, import_id: str, now: datetime, *, final: bool = True
    ) -> ImportJob | None:
        """See ``ImportRepository.complete_if_done``: conditional, so only one caller completes it."""
        if final:
            update = "SET #s = :done, completedAt = :now, updatedAt = :now"
            condition = "chunksDone >= chunksTotal AND #s IN (:q, :p)"
        else:
            update = "SET #s = :p, insertedAt = :now, updatedAt = :now"
            condition = "chunksDone >= chunksTotal AND #s IN (:q, :p) AND attribute_not_exists(insertedAt)"
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key=self._meta(tenant_id, import_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=to_item(
                    {":q": "QUEUED", ":p": "PROCESSING", ":now": now, **({":done": "DONE"} if final else {})}
                ),
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return job_from_item(from_item(resp["Attributes"]))

    # -- the workflow ---------------------------------------------------------------------------------------
    @staticmethod
    def _meta(tenant_id: str, import_id: str) -> dict[str, Any]:
        return to_item({"pk": import_pk(tenant_id, import_id), "sk": "META"})

    def _update(
        self, tenant_id: str, import_id: str, expression: str, values: dict[str, Any], **kw: Any
    ) -> Any:
        return self.client.update_item(
            TableName=self.table,
            Key=self._meta(tenant_id, import_id),
            UpdateExpression=expression,
            ConditionExpression="attribute_exists(pk)" + kw.pop("condition", ""),
            ExpressionAttributeValues=values,
            **kw,
        )

    def set_execution(self, tenant_id: str, import_id: str, execution_id: str, now: datetime) -> None:
        """See ``ImportRepository.set_execution``."""
        self._update(
            tenant_id,
            import_id,
            "SET executionId = :e, updatedAt = :now",
            to_item({":e": execution_id, ":now": now}),
        )

    def save_task_token(self, tenant_id: str, import_id: str, token: str, now: datetime) -> ImportJob | None:
        """See ``ImportRepository.save_task_token``."""
        try:
            resp = self._update(
                tenant_id,
                import_id,
                "SET taskToken = :t, updatedAt = :now",
                to_item({":t": token, ":now": now}),
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return job_from_item(from_item(resp["Attributes"]))

    def begin_calls(self, tenant_id: str, import_id: str, batches: int, skipped: int, now: datetime) -> None:
        """See ``ImportRepository.begin_calls``."""
        self._update(
            tenant_id,
            import_id,
            "SET callStatus = :running, callBatches = :b, callSkipped = :s, updatedAt = :now",
            to_item({":running": "RUNNING", ":b": batches, ":s": skipped, ":now": now}),
        )

    def apply_call_batch(
        self, tenant_id: str, import_id: str, batch: int, counts: CallCounts, now: datetime
    ) -> bool:
        """See ``ImportRepository.apply_call_batch``: one conditional update, like ``apply_chunk``."""
        values = to_item(
            {
                ":r": counts.requested,
                ":s": counts.skipped,
                ":f": counts.failed,
                ":one": 1,
                ":now": now,
            }
        )
        values[":batch"] = {"N": str(batch)}
        values[":batches"] = {"NS": [str(batch)]}
        try:
            self._update(
                tenant_id,
                import_id,
                "ADD callRequested :r, callSkipped :s, callFailed :f, callBatchesDone :one, "
                "callBatchesApplied :batches SET updatedAt = :now",
                values,
                condition=" AND NOT contains(callBatchesApplied, :batch)",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def finish(
        self,
        tenant_id: str,
        import_id: str,
        status: ImportStatus,
        now: datetime,
        *,
        error: str | None = None,
        calls_status: CallStatus | None = None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        """See ``ImportRepository.finish``."""
        sets = ["#s = :status", "completedAt = :now", "updatedAt = :now"]
        values: dict[str, Any] = {":status": status, ":now": now}
        if files:
            sets.append("files = :files")
            values[":files"] = dict(files)
        if error is not None:
            sets.append("#e = :error")
            values[":error"] = error
        if calls_status is not None:
            sets.append("callStatus = :calls")
            values[":calls"] = calls_status
        names = {"#s": "status", **({"#e": "error"} if error is not None else {})}
        self._update(
            tenant_id, import_id, "SET " + ", ".join(sets), to_item(values), ExpressionAttributeNames=names
        )

    def requested_calls(self, tenant_id: str, import_id: str, keys: Sequence[str]) -> set[str]:
        """See ``ImportRepository.requested_calls``: BatchGetItem of the markers, 100 keys a call."""
        pk = import_pk(tenant_id, import_id)
        found: set[str] = set()
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 100):
            request: dict[str, Any] = {
                self.table: {
                    "Keys": [{"pk": {"S": pk}, "sk": {"S": _call_sk(k)}} for k in unique[i : i + 100]],
                    "ProjectionExpression": "#sk",
                    "ExpressionAttributeNames": {"#sk": "sk"},
                }
            }
            while request:
                resp = self.client.batch_get_item(RequestItems=request)
                for item in resp.get("Responses", {}).get(self.table, []):
                    found.add(item["sk"]["S"].removeprefix("CALL#"))
                request = resp.get("UnprocessedKeys") or {}
        return found

    def record_requested_calls(self, tenant_id: str, import_id: str, keys: Sequence[str]) -> None:
        """See ``ImportRepository.record_requested_calls``: one marker item per customer, batch-written."""
        pk = import_pk(tenant_id, import_id)
        failed = self.writer.put(self.table, [to_item({"pk": pk, "sk": _call_sk(k)}) for k in keys])
        if failed:
            # Retried by the workflow; the events of customers without a marker are sent again.
            raise TransientError(
                f"{len(failed)} call markers of import {import_id} not stored: {failed[0].reason}"
            )

    # -- uploads waiting for their file -----------------------------------------------------------------
    def add_pending_upload(self, upload: PendingUpload) -> None:
        """See ``ImportRepository.add_pending_upload``: one index item in the partition of its due hour."""
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {
                    **_upload_key(upload),
                    "tenantId": upload.tenant_id,
                    "importId": upload.import_id,
                    "due": _stamp(upload.due),
                }
            ),
        )

    def due_uploads(self, now: datetime, since: datetime) -> list[PendingUpload]:
        """See ``ImportRepository.due_uploads``: one query per hour partition from ``since`` to ``now``."""
        found: list[PendingUpload] = []
        hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        # Sort keys start with the due time in a fixed-width form, and "$" sorts after its "#".
        cut = f"{_stamp(now)}$"
        while hour <= now:
            kwargs: dict[str, Any] = {
                "TableName": self.table,
                "KeyConditionExpression": "pk = :pk AND sk < :cut",
                "ExpressionAttributeValues": {":pk": {"S": _upload_bucket(hour)}, ":cut": {"S": cut}},
            }
            while True:
                resp = self.client.query(**kwargs)
                for item in resp.get("Items", []):
                    data = from_item(item)
                    due = _parse_time(data["due"]) or now
                    found.append(PendingUpload(data["tenantId"], data["importId"], due))
                if "LastEvaluatedKey" not in resp:
                    break
                kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
            hour += timedelta(hours=1)
        return found

    def remove_pending_upload(self, upload: PendingUpload) -> None:
        """See ``ImportRepository.remove_pending_upload``."""
        self.client.delete_item(TableName=self.table, Key=to_item(_upload_key(upload)))

    def save_chunk_error(self, tenant_id: str, import_id: str, chunk: int, reason: str) -> None:
        """See ``ImportRepository.save_chunk_error``."""
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {
                    "pk": import_pk(tenant_id, import_id),
                    "sk": f"CHUNKERR#{chunk:06d}",
                    "reason": reason[:2000],
                }
            ),
        )

    def get_chunk_error(self, tenant_id: str, import_id: str, chunk: int) -> str | None:
        """See ``ImportRepository.get_chunk_error``."""
        resp = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": import_pk(tenant_id, import_id), "sk": f"CHUNKERR#{chunk:06d}"}),
        )
        return from_item(resp["Item"]).get("reason") if "Item" in resp else None

    def list_errors(self, tenant_id: str, import_id: str, limit: int, cursor: str | None) -> ErrorPage:
        """See ``ImportRepository.list_errors``; the cursor is opaque and bound to this import."""
        pk = import_pk(tenant_id, import_id)
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :e)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":e": {"S": "ERR#"}},
            "Limit": limit,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": _decode_cursor(cursor)}}
        resp = self.client.query(**kwargs)
        items = [_ints(from_item(i)["entry"]) for i in resp.get("Items", [])]
        last = resp.get("LastEvaluatedKey")
        return ErrorPage(items=items, next_cursor=_encode_cursor(last["sk"]["S"]) if last else None)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _upload_bucket(moment: datetime) -> str:
    """Partition of the pending uploads due within one hour (the sweep reads the hours that are due)."""
    return f"UPLOADS#{moment.astimezone(UTC):%Y-%m-%dT%H}"


def _upload_key(upload: PendingUpload) -> dict[str, str]:
    sk = f"{_stamp(upload.due)}#{upload.tenant_id}#{upload.import_id}"
    return {"pk": _upload_bucket(upload.due), "sk": sk}


def _row_item(pk: str, sk: str, name: str, value: dict[str, Any]) -> dict[str, Any]:
    """One error entry or row result as an item; it never fails for the row's own values."""
    value = clipped(value)
    try:
        return to_item({"pk": pk, "sk": sk, name: value})
    except UnstorableValueError:
        # A number DynamoDB cannot hold among the caller's references: kept as its text.
        return to_item({"pk": pk, "sk": sk, name: as_text_numbers(value)})


def _call_sk(customer_key: str) -> str:
    return f"CALL#{customer_key}"


def _ints(entry: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB returns every number as Decimal; error entries only hold whole numbers (row index).
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in entry.items()}


def _encode_cursor(sk: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"sk": sk}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sk = json.loads(raw)["sk"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError("cursor: not a cursor this API returned") from exc
    if not isinstance(sk, str) or not sk.startswith("ERR#"):
        raise InvalidRequestError("cursor: not a cursor this API returned")
    return sk
