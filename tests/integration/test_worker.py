"""Chunk workers under moto: SQS events, partial batch failures, redelivery, the dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from tests.fakes import ALL_SCOPES

from bulk_import import resources
from bulk_import.core.tenants import Principal
from bulk_import.engine import jobs
from bulk_import.entrypoints import runtime, worker
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.local.poller import SqsPoller

ACME = Principal("acme", ALL_SCOPES)


@pytest.fixture(autouse=True)
def numbers_kind(monkeypatch: pytest.MonkeyPatch, aws: dict[str, str]) -> Iterator[None]:
    monkeypatch.setitem(REGISTRY, "numbers", "tests.unit.test_jobs:NumbersKind")
    get_kind.cache_clear()
    yield
    get_kind.cache_clear()


def start(n: int) -> str:
    data = [{"id": f"r{i}", "n": i + 1} for i in range(n)]
    return jobs.start_async_import(get_kind("numbers"), {}, data, ACME, runtime.DEPS.get()).import_id


def pump(poller: SqsPoller, rounds: int = 20) -> None:
    for _ in range(rounds):
        if poller.poll_once() == 0:
            return


def test_worker_processes_every_chunk_and_the_import_is_done(aws: dict[str, str]) -> None:
    import_id = start(10)
    sqs = boto3.client("sqs")
    poller = SqsPoller(
        sqs, aws[resources.CHUNK_QUEUE_ENV], worker.handler, batch_size=resources.CHUNK_BATCH_SIZE
    )
    poller.start = lambda: poller  # type: ignore[method-assign]  # driven by hand, no thread
    poller._arn = "arn:aws:sqs:us-east-1:123456789012:chunks"
    pump(poller)
    job = runtime.DEPS.get().imports.get("acme", import_id)
    assert job is not None and job.status == "DONE"
    assert job.counts.succeeded == 10 and job.chunks_done == 4
    assert poller.invocations == 1  # 4 chunks fit one batch of 5


def sqs_event(bodies: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"m{i}",
                "receiptHandle": f"h{i}",
                "body": json.dumps(b),
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:chunks",
                "awsRegion": "us-east-1",
            }
            for i, b in enumerate(bodies)
        ]
    }


def queued_bodies(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    out = []
    while True:
        msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not msgs:
            return out
        out += [json.loads(m["Body"]) for m in msgs]


def test_a_chunk_delivered_twice_is_counted_once(aws: dict[str, str], context: Any) -> None:
    import_id = start(4)
    bodies = queued_bodies(aws[resources.CHUNK_QUEUE_ENV])
    for _ in range(3):
        assert worker.handler(sqs_event(bodies), context) == {"batchItemFailures": []}
    job = runtime.DEPS.get().imports.get("acme", import_id)
    assert job is not None and job.status == "DONE"
    assert job.counts.as_dict() == {
        "total": 4,
        "valid": 4,
        "invalid": 0,
        "succeeded": 4,
        "failed": 0,
        "skipped": 0,
    }
    assert job.chunks_done == 2


def test_only_the_failing_chunk_is_reported_and_it_ends_in_the_dlq(aws: dict[str, str], context: Any) -> None:
    import_id = start(9)
    good = queued_bodies(aws[resources.CHUNK_QUEUE_ENV])
    # A chunk whose body was offloaded to S3 and is gone: it can never succeed.
    poison = {k: v for k, v in good[2].items() if k != "rows"} | {
        "rowsKey": f"payloads/acme/{import_id}/lost.json"
    }
    result = worker.handler(sqs_event([good[0], poison, good[1]]), context)
    assert result == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    job = runtime.DEPS.get().imports.get("acme", import_id)
    assert job is not None and job.status == "PROCESSING" and job.counts.succeeded == 6

    # Through the queue: the poison chunk is received maxReceiveCount times, then redriven to the DLQ.
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=aws[resources.CHUNK_QUEUE_ENV], MessageBody=json.dumps(poison))
    main = SqsPoller(sqs, aws[resources.CHUNK_QUEUE_ENV], worker.handler, retry_delay=0)
    main._arn = "arn:aws:sqs:us-east-1:123456789012:chunks"
    for _ in range(resources.CHUNK_MAX_RECEIVE_COUNT + 2):
        main.poll_once()
    dead = queued_bodies(aws[resources.CHUNK_DLQ_ENV])
    assert [b["chunk"] for b in dead] == [2]
    assert main.invocations == resources.CHUNK_MAX_RECEIVE_COUNT

    # The DLQ consumer marks the chunk's rows failed with the recorded reason, once.
    for _ in range(2):
        assert worker.dlq_handler(sqs_event(dead), context) == {"batchItemFailures": []}
    errors = runtime.DEPS.get().imports.list_errors("acme", import_id, 100, None).items
    assert [e["index"] for e in errors] == [6, 7, 8]
    assert all("its chunk failed repeatedly (NoSuchKey" in e["message"] for e in errors)
    job = runtime.DEPS.get().imports.get("acme", import_id)
    assert job is not None and job.status == "DONE"
    assert job.counts.as_dict() == {
        "total": 9,
        "valid": 6,
        "invalid": 0,
        "succeeded": 6,
        "failed": 3,
        "skipped": 0,
    }


def emf_documents(out: str) -> list[dict[str, Any]]:
    """The embedded-metric documents among the lines a handler printed (logs are lines too)."""
    lines = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    return [doc for doc in lines if "_aws" in doc]


def test_rows_are_counted_in_the_metrics_once_when_chunks_are_delivered_again(
    aws: dict[str, str], context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    start(4)
    bodies = queued_bodies(aws[resources.CHUNK_QUEUE_ENV])
    capsys.readouterr()
    for _ in range(3):
        worker.handler(sqs_event(bodies), context)
    docs = emf_documents(capsys.readouterr().out)
    assert [(d["kind"], d["RowsImported"], d["RowsFailed"], d["RowsSkipped"]) for d in docs] == [
        ("numbers", [4.0], [0.0], [0.0])
    ]
    assert docs[0]["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["kind", "service"]]
    assert "acme" not in json.dumps(docs)


def test_a_dead_lettered_chunk_is_counted_with_the_rows_it_failed(
    aws: dict[str, str], context: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import_id = start(9)
    bodies = queued_bodies(aws[resources.CHUNK_QUEUE_ENV])
    worker.handler(sqs_event(bodies[:2]), context)
    poison = {k: v for k, v in bodies[2].items() if k != "rows"} | {
        "rowsKey": f"payloads/acme/{import_id}/lost.json"
    }
    capsys.readouterr()
    assert worker.dlq_handler(sqs_event([poison]), context) == {"batchItemFailures": []}
    (doc,) = emf_documents(capsys.readouterr().out)
    assert doc["kind"] == "numbers"
    assert doc["ChunksDeadLettered"] == [1.0]
    # The import completed with this chunk: its final counts, the dead chunk's 3 rows failed.
    assert doc["RowsImported"] == [6.0] and doc["RowsFailed"] == [3.0]


def test_a_failing_metrics_write_never_fails_the_batch(
    aws: dict[str, str], context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulk_import.entrypoints import metrics

    def broken(self: Any, **_: Any) -> None:
        raise OSError("stdout is gone")

    monkeypatch.setattr(metrics.EphemeralMetrics, "flush_metrics", broken)
    import_id = start(4)
    bodies = queued_bodies(aws[resources.CHUNK_QUEUE_ENV])
    assert worker.handler(sqs_event(bodies), context) == {"batchItemFailures": []}
    job = runtime.DEPS.get().imports.get("acme", import_id)
    assert job is not None and job.status == "DONE"
    assert metrics.METRICS.pending() == {}
