"""How an import job, its error entries and its row results are stored as DynamoDB items.

The job's item mapping both ways, and the row items that never fail for the row's own values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bulk_import.adapters.dynamo_codec import as_text_numbers, clipped, to_item
from bulk_import.adapters.dynamo_keys import import_pk
from bulk_import.adapters.errors import UnstorableValueError
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
    )


def plain_numbers(value: Any) -> Any:
    """DynamoDB numbers (Decimal) back to ints where whole, in nested data."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_numbers(v) for v in value]
    return value


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def job_from_item(data: dict[str, Any]) -> ImportJob:
    """Rebuild an ``ImportJob`` from its stored item."""
    counts = Counts(**{k: int(data.get(f"n_{k}", 0)) for k in Counts().as_dict()})
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


def row_item(pk: str, sk: str, name: str, value: dict[str, Any]) -> dict[str, Any]:
    """One error entry or row result as an item; it never fails for the row's own values."""
    value = clipped(value)
    try:
        return to_item({"pk": pk, "sk": sk, name: value})
    except UnstorableValueError:
        # A number DynamoDB cannot hold among the caller's references: kept as its text.
        return to_item({"pk": pk, "sk": sk, name: as_text_numbers(value)})


def whole_numbers(entry: dict[str, Any]) -> dict[str, Any]:
    # DynamoDB returns every number as Decimal; error entries only hold whole numbers (row index).
    return {k: int(v) if isinstance(v, Decimal) else v for k, v in entry.items()}
