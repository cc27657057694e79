"""Dry runs (``?dryRun=true``) over the real API handler under moto: the real request's verdicts, nothing
stored, queued, started or remembered."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from tests.integration.conftest import load_event, with_body

from bulk_import.engine.jobs import ChunkMessage, process_chunk
from bulk_import.entrypoints import api, runtime

IMPORT_IDS = ("importId", "import_id", "jobId", "job_id")


@pytest.fixture(autouse=True)
def fresh_store(aws: dict[str, str]) -> Iterator[None]:
    runtime.IDEMPOTENCY.set(None)
    yield
    runtime.IDEMPOTENCY.set(None)


def send(event: dict[str, Any], context: Any, dry_run: str | None = None, key: str | None = None) -> Any:
    if dry_run is not None:
        event = {
            **event,
            "queryStringParameters": {**(event.get("queryStringParameters") or {}), "dryRun": dry_run},
        }
    if key is not None:
        event = {**event, "headers": {**(event.get("headers") or {}), "Idempotency-Key": key}}
    resp = api.handler(event, context)
    return resp["statusCode"], json.loads(resp["body"])


def snapshot(aws: dict[str, str]) -> dict[str, Any]:
    """Everything a request could leave behind: table items, queued messages, objects, executions."""
    dynamo, sqs, s3, sfn = (boto3.client(n) for n in ("dynamodb", "sqs", "s3", "stepfunctions"))
    tables = {t: len(dynamo.scan(TableName=t)["Items"]) for t in dynamo.list_tables()["TableNames"]}
    queues = {}
    for url in sqs.list_queues().get("QueueUrls", []):
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
        queues[url] = int(attrs["Attributes"]["ApproximateNumberOfMessages"])
    objects = s3.list_objects_v2(Bucket=aws["IMPORT_BUCKET"]).get("KeyCount", 0)
    executions = sum(
        len(sfn.list_executions(stateMachineArn=m["stateMachineArn"])["executions"])
        for m in sfn.list_state_machines()["stateMachines"]
    )
    return {"tables": tables, "queues": queues, "objects": objects, "executions": executions}


def run_chunks(aws: dict[str, str]) -> None:
    """Process every queued chunk as the worker would."""
    sqs = boto3.client("sqs")
    while msgs := sqs.receive_message(QueueUrl=aws["CHUNK_QUEUE_URL"], MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for m in msgs:
            process_chunk(ChunkMessage.from_json(json.loads(m["Body"])), runtime.DEPS.get())


def assert_dry(body: dict[str, Any]) -> None:
    assert body["dryRun"] is True
    assert all(body.get(name) is None for name in IMPORT_IDS), body


def test_a_dry_run_of_campaign_customers_gives_the_real_verdicts_and_stores_nothing(context, aws) -> None:
    event = load_event("api/campaign-customers-messy.json")
    before = snapshot(aws)
    status, dry = send(event, context, "true", key="k-1")
    assert status == 200, dry
    assert_dry(dry)
    assert snapshot(aws) == before  # not even the idempotency record of its key

    real_status, real = send(event, context)
    assert dry["dryRunStatus"] == real_status == 207
    assert dry["results"] == real["results"]
    assert (dry["success"], dry["message"]) == (real["success"], real["message"])


def test_a_dry_run_of_debts_prices_and_dates_the_debts_it_would_create(context, aws) -> None:
    event = load_event("api/debts-french-batch.json")
    before = snapshot(aws)
    status, dry = send(event, context, "TRUE")
    assert status == 200, dry
    assert_dry(dry)
    assert snapshot(aws) == before

    real_status, real = send(event, context)
    assert dry["dryRunStatus"] == real_status == 201
    real.pop("import_id")
    assert {k: v for k, v in dry.items() if not k.startswith("dryRun")} == real
    assert dry["summary"]["created"] > 0 and dry["summary"]["credits"] > 0


def test_a_dry_run_of_one_customer_answers_it_as_it_would_be_stored(context, aws) -> None:
    event = load_event("api/customers-single.json")
    before = snapshot(aws)
    status, dry = send(event, context, "true")
    assert status == 200, dry
    assert snapshot(aws) == before
    assert dry["dryRunStatus"] == 201

    real_status, real = send(event, context)
    assert real_status == 201
    assert {k: v for k, v in dry.items() if not k.startswith("dryRun")} == real
    _, again = send(event, context, "true")
    assert again["dryRunStatus"] == 200  # the id is stored now: an update


@pytest.mark.parametrize(
    ("name", "rows_field"),
    [("api/customers-batch.json", "results"), ("api/payments-import.json", "progress")],
)
def test_a_dry_run_of_an_async_import_is_its_finished_job_computed_inline(
    context, aws, name, rows_field
) -> None:
    event = load_event(name)
    before = snapshot(aws)
    status, dry = send(event, context, "true")
    assert status == 200, dry
    assert_dry(dry)
    assert snapshot(aws) == before
    assert dry["status"] == "DONE" and dry["dryRunStatus"] == 202 and dry["truncated"] is False

    real_status, accepted = send(event, context)
    assert real_status == 202
    run_chunks(aws)
    job_id = accepted.get("jobId") or accepted["job_id"]
    path = event["path"] + "/" + job_id
    view = api.handler(
        {**load_event("api/campaigns-list.json"), "path": path, "httpMethod": "GET"}
        | {
            "requestContext": {
                **event["requestContext"],
                "authorizer": {"tenantId": "acme", "scopes": "imports:read"},
            }
        },
        context,
    )
    real = json.loads(view["body"])
    assert real["status"] == "DONE"

    def verdicts(rows: list[dict[str, Any]]) -> list[Any]:
        # payment ids assigned to rows sent without one derive from the import id: compare the rest
        return [{k: v for k, v in r.items() if k != "id" or rows_field == "results"} for r in rows]

    assert verdicts(dry[rows_field]) == verdicts(real[rows_field])
    assert dry.get("counts") == real.get("counts")
    assert (dry["total"], dry.get("failed")) == (real["total"], real.get("failed"))


@pytest.mark.parametrize("value", ["1", "yes", "", "truee"])
def test_a_dry_run_flag_other_than_true_or_false_is_refused_and_nothing_is_stored(
    context, aws, value
) -> None:
    before = snapshot(aws)
    status, body = send(load_event("api/payments-import.json"), context, value)
    assert status == 400
    assert "dryRun" in body["message"]
    assert snapshot(aws) == before


def test_dry_run_false_is_the_real_request(context) -> None:
    status, body = send(load_event("api/payments-import.json"), context, "False")
    assert status == 202 and body["job_id"]


def test_a_request_level_error_answers_as_the_real_request_would(context, aws) -> None:
    event = load_event("api/campaign-customers-clean.json")
    event = with_body(event, {**json.loads(event["body"]), "campaignId": "no-such-campaign"})
    assert send(event, context, "true")[0] == send(event, context)[0] == 404


def test_a_dry_run_of_10000_payments_answers_every_item_s_progress_and_count_in_time(context, aws) -> None:
    event = load_event("api/payments-import.json")
    items = json.loads(event["body"])["items"]
    many = [{**items[i % len(items)], "id": f"p-{i}"} for i in range(10_000)]
    event = with_body(event, {"items": many})
    started = time.monotonic()
    resp = api.handler({**event, "queryStringParameters": {"dryRun": "true"}}, context)
    elapsed = time.monotonic() - started
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 200, body
    assert len(resp["body"].encode()) < 6_000_000
    assert body["total"] == 10_000 and body["processed"] + body["failed"] == 10_000
    assert len(body["progress"]) == 10_000 and body["truncated"] is False
    assert elapsed < 25, elapsed
