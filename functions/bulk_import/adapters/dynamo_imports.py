"""DynamoDB implementation of ``ImportRepository``: import jobs, their rows, their calls and pending uploads.

All of an import's items share its partition (``T#{tenant}#IMPORT#{id}``): the job (``META``), what
happened to its rows (``ROWS#``, a block of rows per write: ``dynamo_results``), its call lists and the
calls each call batch requested (``CALL#LIST#``, ``CALL#BATCH#``: ``dynamo_import_calls``) and chunk
errors (``CHUNKERR#``). The per-row items carry ``expiresAt`` (the table's TTL), the import's
creation time plus its tenant's retention; the job and its listing item carry none, so the tenant's
history of imports and their counts stay.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Mapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_codec import from_item, to_item
from bulk_import.adapters.dynamo_import_calls import ImportCallStage
from bulk_import.adapters.dynamo_import_items import (
    EXPIRES_AT,
    RowExpiry,
    job_from_item,
    job_to_item,
    list_jobs,
    listing_item,
)
from bulk_import.adapters.dynamo_keys import import_pk
from bulk_import.adapters.dynamo_results import ImportRowResults
from bulk_import.adapters.dynamo_uploads import PendingUploadIndex
from bulk_import.core.errors import ConflictError
from bulk_import.core.model import CallStatus, Counts, ImportJob, ImportStatus


@dataclass
class DynamoImportRepository(ImportCallStage, ImportRowResults, PendingUploadIndex):
    """Import jobs and their per-row errors in the imports table.

    ``config_table`` is where the tenants' ``retentionDays`` are read; without it, every import's rows
    keep the default retention.
    """

    client: Any
    table: str
    writer: BatchWriter
    config_table: str | None = None
    #: When the import's per-row items expire (default: a ``RowExpiry`` of its own on these tables).
    row_expiry: InitVar[RowExpiry | None] = None
    #: Told of every job this repository saves (the record store learns the import's call stage).
    on_save: Callable[[ImportJob], None] | None = None
    expiry: RowExpiry = field(init=False, repr=False)
    #: ``(tenant, import, thread)`` whose last ``apply_chunk`` left chunks of the import to count.
    _chunks_left: set[tuple[str, str, int]] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self, row_expiry: RowExpiry | None) -> None:
        self.expiry = row_expiry or RowExpiry(self.client, self.table, self.config_table)

    def save(self, job: ImportJob) -> None:
        """See ``ImportRepository.save``; the tenant's listing item of the import is written with it.

        The listing item's key depends only on the import's id and creation time, so saving the import
        again rewrites the same small item.
        """
        self.client.put_item(TableName=self.table, Item=to_item(job_to_item(job)))
        self.client.put_item(TableName=self.table, Item=listing_item(job))
        self.expiry.know(job)
        if self.on_save is not None:
            self.on_save(job)

    def list_page(
        self, tenant_id: str, limit: int, after: str | None, kind: str | None, status: str | None
    ) -> tuple[list[ImportJob], str | None]:
        """See ``ImportRepository.list_page``."""
        return list_jobs(self.client, self.table, tenant_id, limit, after, kind, status)

    def cancel(self, tenant_id: str, import_id: str, now: datetime) -> ImportJob | None:
        """See ``ImportRepository.cancel``: one conditional update, then the call stage's own state."""
        try:
            resp = self._update(
                tenant_id,
                import_id,
                "SET #s = :c, completedAt = :now, updatedAt = :now",
                to_item({":c": "CANCELLED", ":q": "QUEUED", ":p": "PROCESSING", ":now": now}),
                condition=" AND #s IN (:q, :p)",
                ExpressionAttributeNames={"#s": "status"},
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        job = job_from_item(from_item(resp["Attributes"]))
        if job.calls is not None and job.calls.status in ("PENDING", "RUNNING"):
            # A workflow finishing meanwhile set its own final state: that one stands.
            with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
                self._update(
                    tenant_id,
                    import_id,
                    "SET callStatus = :c",
                    to_item({":c": "CANCELLED", ":pending": "PENDING", ":running": "RUNNING"}),
                    condition=" AND callStatus IN (:pending, :running)",
                )
            job.calls.status = "CANCELLED"
        return job

    def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
        """See ``ImportRepository.get``."""
        resp = self.client.get_item(
            TableName=self.table,
            Key=to_item({"pk": import_pk(tenant_id, import_id), "sk": "META"}),
            ConsistentRead=True,
        )
        return job_from_item(from_item(resp["Item"])) if "Item" in resp else None

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
        transaction (a 4,000-chunk import keeps a set of about 24 KB). The import as updated says whether
        chunks are left: if so, the ``complete_if_done`` that follows on this thread makes no call (a
        conditional write that fails is billed like one that succeeds).
        """
        deltas = {f":{k}": v for k, v in counts.as_dict().items() if k != "total"}
        adds = ", ".join(f"n_{k[1:]} {k}" for k in deltas)
        values = to_item({**deltas, ":one": 1, ":now": now})
        values[":chunk"] = {"N": str(chunk)}
        values[":chunks"] = {"NS": [str(chunk)]}
        try:
            resp = self.client.update_item(
                TableName=self.table,
                Key=to_item({"pk": import_pk(tenant_id, import_id), "sk": "META"}),
                UpdateExpression=f"ADD {adds}, chunksDone :one, chunksApplied :chunks SET updatedAt = :now",
                ConditionExpression="attribute_exists(pk) AND NOT contains(chunksApplied, :chunk)",
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        stored = resp.get("Attributes", {})
        done, total = (int(stored.get(a, {}).get("N", 0)) for a in ("chunksDone", "chunksTotal"))
        if done < total:
            self._chunks_left.add((tenant_id, import_id, threading.get_ident()))
        return True

    def complete_if_done(
        self, tenant_id: str, import_id: str, now: datetime, *, final: bool = True
    ) -> ImportJob | None:
        """See ``ImportRepository.complete_if_done``: conditional, so only one caller completes it; no call
        right after an ``apply_chunk`` of this thread that left chunks to count."""
        key = (tenant_id, import_id, threading.get_ident())
        if key in self._chunks_left:
            self._chunks_left.discard(key)
            return None
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

    def finish(
        self,
        tenant_id: str,
        import_id: str,
        status: ImportStatus | None,
        now: datetime,
        *,
        error: str | None = None,
        calls_status: CallStatus | None = None,
        files: Mapping[str, str] | None = None,
    ) -> None:
        """See ``ImportRepository.finish``.

        ``DONE`` is set only if the import was not cancelled meanwhile: a cancel answered while the last
        step wrote the result files stands. Then ``ConflictError`` is raised and nothing is written (the
        step records its files with ``status`` None).
        """
        sets = ["updatedAt = :now"]
        values: dict[str, Any] = {":now": now}
        names: dict[str, str] = {}
        condition = ""
        if status == "DONE":
            condition = " AND #s <> :cancelled"
            values[":cancelled"] = "CANCELLED"
            names["#s"] = "status"
        if status is not None:
            sets += ["#s = :status", "completedAt = :now"]
            values[":status"] = status
            names["#s"] = "status"
        if files:
            sets.append("files = :files")
            values[":files"] = dict(files)
        if error is not None:
            sets.append("#e = :error")
            values[":error"] = error
        if calls_status is not None:
            sets.append("callStatus = :calls")
            values[":calls"] = calls_status
        if error is not None:
            names["#e"] = "error"
        try:
            self._update(
                tenant_id,
                import_id,
                "SET " + ", ".join(sets),
                to_item(values),
                condition=condition,
                # DynamoDB refuses an empty map of names.
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            current = self.get(tenant_id, import_id) if condition else None
            if current is not None and current.status == "CANCELLED":
                raise ConflictError(f"import {import_id} was cancelled before it finished") from None
            raise

    def save_chunk_error(self, tenant_id: str, import_id: str, chunk: int, reason: str) -> None:
        """See ``ImportRepository.save_chunk_error``."""
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {
                    "pk": import_pk(tenant_id, import_id),
                    "sk": f"CHUNKERR#{chunk:06d}",
                    "reason": reason[:2000],
                    EXPIRES_AT: self.expiry.for_import(tenant_id, import_id),
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
