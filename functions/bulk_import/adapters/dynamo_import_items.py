"""How an import job is stored as DynamoDB items: the job's item mapping both ways and the tenant's
listing of its imports (the rows themselves: ``dynamo_results``; when they expire: ``row_expiry``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bulk_import.adapters.dynamo_codec import from_item, plain_numbers, to_item
from bulk_import.adapters.dynamo_keys import import_pk
from bulk_import.adapters.dynamo_paging import batch_get_items
from bulk_import.adapters.row_expiry import (  # noqa: F401  (named here too, where the writers look)
    EXPIRES_AT,
    RowExpiry,
    parse_time,
)
from bulk_import.core.model import CallStage, Counts, ImportJob


def job_to_item(job: ImportJob) -> dict[str, Any]:
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
        **(calls_to_item(job.calls) if job.calls is not None else {}),
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
CALL_ATTRIBUTES = {
    "status": "callStatus",
    "batches": "callBatches",
    "batches_done": "callBatchesDone",
    "requested": "callRequested",
    "skipped": "callSkipped",
    "failed": "callFailed",
    "execution_id": "executionId",
    "do_not_call_list": "callSkippedList",
    "frequency": "callSkippedFrequency",
    #: Window opening (ISO 8601) -> customers deferred until it, counted down as their batches publish.
    "waiting": "callWaiting",
}


def calls_to_item(calls: CallStage) -> dict[str, Any]:
    return {attr: getattr(calls, name) for name, attr in CALL_ATTRIBUTES.items()}


def calls_from_item(data: dict[str, Any]) -> CallStage | None:
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
        do_not_call_list=int(data.get("callSkippedList", 0)),
        frequency=int(data.get("callSkippedFrequency", 0)),
        waiting={str(at): int(n) for at, n in (data.get("callWaiting") or {}).items()},
    )


def job_from_item(data: dict[str, Any]) -> ImportJob:
    """Rebuild an ``ImportJob`` from its stored item."""
    counts = Counts(**{k: int(data.get(f"n_{k}", 0)) for k in Counts.__slots__})
    created = parse_time(data["createdAt"]) or datetime.now(UTC)
    return ImportJob(
        import_id=data["importId"],
        tenant_id=data["tenantId"],
        kind=data["kind"],
        source=data.get("source", "api"),
        status=data["status"],
        created_at=created,
        updated_at=parse_time(data.get("updatedAt")) or created,
        completed_at=parse_time(data.get("completedAt")),
        counts=counts,
        options=data.get("options") or {},
        calls=calls_from_item(data),
        files=data.get("files") or {},
        source_file=plain_numbers(data["sourceFile"]) if data.get("sourceFile") is not None else None,
        execution_id=data.get("executionId"),
        error=data.get("error"),
        chunks_total=int(data.get("chunksTotal", 0)),
        chunks_done=int(data.get("chunksDone", 0)),
        batches=int(data.get("batches", 0)),
        inserted_at=parse_time(data.get("insertedAt")),
        task_token=data.get("taskToken"),
    )


# -- the tenant's listing of its imports ---------------------------------------------------------------
#: Query calls one page of the listing may take while filters leave it short (the cursor goes on).
LIST_QUERY_CALLS = 10


def list_pk(tenant_id: str) -> str:
    """Partition of a tenant's listing items, one per import (the listing never scans the table)."""
    return f"LIST#{tenant_id}"


def list_sk(job: ImportJob) -> str:
    """Sort key of an import's listing item: creation time (fixed width, so text order is time order)."""
    return f"{job.created_at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}#{job.import_id}"


def listing_item(job: ImportJob) -> dict[str, Any]:
    """The listing item of an import; ``kind`` never changes, so filters on it are applied by the query."""
    return to_item(
        {"pk": list_pk(job.tenant_id), "sk": list_sk(job), "importId": job.import_id, "kind": job.kind}
    )


def list_jobs(
    client: Any,
    table: str,
    tenant_id: str,
    limit: int,
    after: str | None,
    kind: str | None,
    status: str | None,
) -> tuple[list[ImportJob], str | None]:
    """Up to ``limit`` imports of a tenant newest first, from the listing item after sort key ``after``.

    Listing items are queried newest first, their imports read by BatchGetItem, and ``status`` checked on
    the imports themselves (it changes; the listing item is never rewritten). Query calls go on until
    the page is full or the partition ends, at most ``LIST_QUERY_CALLS`` of them (100 listing items each
    when a filter is set); the position returned
    (None at the end) is the sort key of the last listing item the page used.
    """
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": list_pk(tenant_id)}},
        "ScanIndexForward": False,
    }
    if kind is not None:
        kwargs["FilterExpression"] = "kind = :kind"
        kwargs["ExpressionAttributeValues"][":kind"] = {"S": kind}
    if after is not None:
        kwargs["ExclusiveStartKey"] = {"pk": {"S": list_pk(tenant_id)}, "sk": {"S": after}}
    found: list[tuple[str, ImportJob]] = []
    position: str | None = after
    filtered = kind is not None or status is not None
    for _ in range(LIST_QUERY_CALLS):
        # One more than the page needs, so a full last page says it is the last. A filter leaves out
        # items a query read (DynamoDB applies ``Limit`` before ``FilterExpression``): then each call
        # reads a full 100, so that imports of one kind behind many of others still fill the page.
        kwargs["Limit"] = 100 if filtered else min(100, limit + 1 - len(found))
        resp = client.query(**kwargs)
        entries = [(i["sk"]["S"], i["importId"]["S"]) for i in resp.get("Items", [])]
        keys = [{"pk": {"S": import_pk(tenant_id, iid)}, "sk": {"S": "META"}} for _, iid in entries]
        jobs = {
            j.import_id: j
            for j in (job_from_item(from_item(i)) for i in batch_get_items(client, table, keys))
        }
        for sk, iid in entries:
            job = jobs.get(iid)
            if job is not None and (status is None or job.status == status):
                found.append((sk, job))
            if len(found) > limit:
                return [j for _, j in found[:limit]], found[limit - 1][0]
            position = sk
        last = resp.get("LastEvaluatedKey")
        if last is None:
            return [j for _, j in found], None
        position = last["sk"]["S"]
        kwargs["ExclusiveStartKey"] = last
    return [j for _, j in found], position
