"""AWS's byte limits under moto: SQS refuses a batch over 1 MiB, DynamoDB pages results by Query and Limit."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from tests.integration.conftest import load_event, with_body, with_scopes
from tests.unit.test_byte_limits import PHRASE

from bulk_import import resources
from bulk_import.adapters.dynamo_imports import DynamoImportRepository
from bulk_import.adapters.sqs import SqsChunkQueue
from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.model import Counts, ImportJob, RowOutcome
from bulk_import.core.tenants import Principal
from bulk_import.engine import jobs
from bulk_import.engine.messages import body_bytes
from bulk_import.entrypoints import api, runtime

pytestmark = pytest.mark.usefixtures("aws")
ACME = Principal("acme", ("imports:read", "payments:write", "customers:write"))


def item(i: int) -> dict[str, Any]:
    """A payment instruction with a description, attachments and tags (a request of 10,000 is ~4.5 MB)."""
    return {
        "id": f"pay-{i:05d}",
        "source": {"type": "group", "id": "grp-main"},
        "target": {"type": "contact", "id": "ct-1"},
        "amount": {"type": "SEND", "amount": "99.125", "currency": "EUR"},
        "execution": {"date": "2026-12-01T09:00:00Z"},
        "description": (PHRASE * 3)[:100],
        "attachments": [{"id": f"a-{i}", "title": "Fiche n°1", "url": f"https://files.example/{i}.pdf"}],
        "user_tags": {"équipe": "paie", "mois": "décembre"},
    }


def call(event: dict[str, Any], context: Any) -> tuple[int, Any]:
    resp = api.handler(event, context)
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None


def queued(queue_url: str) -> list[str]:
    sqs = boto3.client("sqs")
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return out
        out += [m["Body"] for m in msgs]


def test_a_10000_item_payments_request_with_rich_items_is_accepted(aws: dict[str, str], context: Any) -> None:
    items = [item(i) for i in range(10_000)]
    body = json.dumps({"items": items}, ensure_ascii=False)
    assert len(body.encode()) > 3_000_000
    status, job = call(with_body(load_event("api/payments-import.json"), body), context)
    assert status == 202, job
    assert (job["status"], job["total"]) == ("QUEUED", 10_000)
    bodies = queued(aws[resources.CHUNK_QUEUE_ENV])
    assert len(bodies) == 40
    assert max(len(b.encode()) for b in bodies) <= jobs.INLINE_CHUNK_BYTES
    # Ten of these chunks are more than one SendMessageBatch may carry: moto refused them before.
    assert sum(len(b.encode()) for b in bodies[:10]) > 1_048_576


def test_the_sqs_queue_cuts_sends_by_bytes_where_ten_entries_would_be_refused(aws: dict[str, str]) -> None:
    sqs = boto3.client("sqs")
    calls: list[int] = []
    real = sqs.send_message_batch

    def counting(**kwargs: Any) -> Any:
        calls.append(sum(len(e["MessageBody"].encode()) for e in kwargs["Entries"]))
        return real(**kwargs)

    sqs.send_message_batch = counting  # type: ignore[method-assign]
    queue = SqsChunkQueue(sqs, aws[resources.CHUNK_QUEUE_ENV])
    messages = [{"n": n, "pad": "é" * 40_000} for n in range(10)]  # 240 KB each once escaped
    assert all(body_bytes(m) > 200_000 for m in messages)
    queue.send(messages)
    assert len(calls) == 3 and max(calls) <= 1_000_000
    assert sorted(json.loads(b)["n"] for b in queued(aws[resources.CHUNK_QUEUE_ENV])) == list(range(10))


def stored_job(
    repo: DynamoImportRepository, import_id: str, rows: int, error_chars: int = 0, chunk: int = 0
) -> ImportJob:
    """A finished payments import of ``rows`` failed rows, their results written ``chunk`` rows at a time
    (0: all at once, as a synchronous import writes them)."""
    now = runtime.DEPS.get().clock.now()
    job = ImportJob(
        import_id=import_id,
        tenant_id="acme",
        kind="payments",
        source="api",
        status="DONE",
        created_at=now,
        updated_at=now,
        counts=Counts(total=rows, failed=rows),
    )
    repo.save(job)
    message = ("description: " + "trop long " * error_chars)[:error_chars] or "amount: must be > 0"
    results = [
        {"id": f"p{i}", "status": "FAILED", "row": str(i), "error": {"message": message, "fields": {}}}
        for i in range(rows)
    ]
    outcomes = [RowOutcome(index=i, raw=None) for i in range(rows)]
    step = chunk or rows
    for start in range(0, rows, step):
        repo.add_rows(job, outcomes[start : start + step], results[start : start + step])
    return job


def test_job_views_page_through_dynamodb_and_refuse_a_foreign_cursor(context: Any) -> None:
    deps = runtime.DEPS.get()
    assert isinstance(deps.imports, DynamoImportRepository)
    job = stored_job(deps.imports, "imp-paged", 2_300)
    stored_job(deps.imports, "imp-other", 10)
    # Without parameters, every row (they fit one page): what a poll gets over HTTP.
    event = load_event("api/campaigns-list.json")
    poll = with_scopes(
        {**event, "path": f"/payments/payments/import/{job.import_id}", "httpMethod": "GET"}, "imports:read"
    )
    status, first = call(poll, context)
    assert status == 200, first
    assert [int(p["row"]) for p in first["progress"]] == list(range(2_300)) and first["nextCursor"] is None
    assert (first["total"], first["failed"], first["status"]) == (2_300, 2_300, "DONE")
    rows, cursor, pages = [], None, 0
    while True:
        view = jobs.job_view(deps, ACME, "payments", job.import_id, limit=700, cursor=cursor)
        rows += [int(p["row"]) for p in view["progress"]]
        pages, cursor = pages + 1, view["nextCursor"]
        if cursor is None:
            break
    assert pages == 4 and rows == list(range(2_300))
    second = jobs.job_view(deps, ACME, "payments", job.import_id, limit=700)
    with pytest.raises(InvalidRequestError, match="cursor"):
        jobs.job_view(deps, ACME, "payments", "imp-other", cursor=second["nextCursor"])


def test_a_page_reads_the_blocks_that_hold_its_rows_not_the_whole_partition(aws: dict[str, str]) -> None:
    deps = runtime.DEPS.get()
    assert isinstance(deps.imports, DynamoImportRepository)
    stored_job(deps.imports, "imp-big", 1_200, error_chars=2_000, chunk=250)
    asked: list[dict[str, Any]] = []
    returned: list[int] = []
    real = deps.imports.client.query

    def spy(**kwargs: Any) -> Any:
        asked.append(kwargs)
        answer = real(**kwargs)
        returned.append(len(answer.get("Items", [])))
        return answer

    deps.imports.client.query = spy
    page = deps.imports.list_results_page("acme", "imp-big", 100, after=499)
    assert [i for i, _ in page.rows] == list(range(500, 600)) and page.more
    # Rows 500 to 600 are in the chunk of rows 500-749: one Query, never the blocks before it.
    assert len(asked) == 1 and returned[0] <= 2
    last = deps.imports.list_results_page("acme", "imp-big", 1_000, after=1_099)
    assert [i for i, _ in last.rows] == list(range(1_100, 1_200)) and not last.more
    assert deps.imports.count_results("acme", "imp-big") == {"FAILED": 1_200}


def test_the_default_page_of_long_errors_stays_under_the_lambda_response_limit(context: Any) -> None:
    deps = runtime.DEPS.get()
    assert isinstance(deps.imports, DynamoImportRepository)
    job = stored_job(deps.imports, "imp-long", 5_000, error_chars=3_000)
    view = jobs.job_view(deps, ACME, "payments", job.import_id)
    assert len(json.dumps(view).encode()) < 0.7 * 6_000_000 and view["nextCursor"]
