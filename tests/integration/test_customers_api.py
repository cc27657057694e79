"""Customers through the real API handler and chunk worker under moto, with the demo seed."""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import pytest
from tests.integration.conftest import load_event, with_body, with_scopes
from tests.integration.test_worker import queued_bodies, sqs_event

from bulk_import import resources
from bulk_import.adapters.dynamo_codec import from_item
from bulk_import.adapters.dynamo_keys import record_pk
from bulk_import.entrypoints import api, worker

pytestmark = pytest.mark.usefixtures("aws")

SINGLE = "api/customers-single.json"
BATCH = "api/customers-batch.json"


def call(event: dict[str, Any], context: Any) -> tuple[int, Any]:
    resp = api.handler(event, context)
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None


def single(context: Any, **changes: Any) -> tuple[int, Any]:
    event = load_event(SINGLE)
    body = {k: v for k, v in {**json.loads(event["body"]), **changes}.items() if v is not None}
    return call(with_body(event, body), context)


def get(path: str, scopes: str = "imports:read", tenant: str = "acme") -> dict[str, Any]:
    event = {**load_event(SINGLE), "httpMethod": "GET", "path": path, "body": None}
    return with_scopes(event, scopes, tenant)


def stored(tenant: str, key: str) -> dict[str, Any] | None:
    """The stored customer, read straight from the records table."""
    item = boto3.client("dynamodb").get_item(
        TableName=os.environ[resources.RECORDS_TABLE.env_var],
        Key={"pk": {"S": record_pk(tenant, "customer-profile", key)}, "sk": {"S": "R"}},
    )
    return from_item(item["Item"]) if "Item" in item else None


# -- POST /customers -------------------------------------------------------------------------------
def test_a_new_customer_answers_201_and_the_same_id_again_200_with_the_stored_customer(context) -> None:
    status, body = single(context)
    assert status == 201, body
    assert body == {
        "firstName": "Grace",
        "lastName": "Hopper",
        "id": "cust-1001",
        "email": "grace.hopper@example.com",
        "birthday": "1985-06-15",
        "ssnLastFour": "1234",
        "timezone": "America/New_York",
        "phoneNumber": "+12125550142",
        "streetAddress1": "123 Main St",
        "streetAddress2": "Apt 4B",
        "city": "New York",
        "state": "NY",
        "zipCode": "10001",
        "doNotCall": False,
        "isTest": True,
        "taskType": "collections",
        "externalMetadata": {
            "employer_name": "Acme Corporation",
            "employer_phone": "+14155557777",
            "pay_frequency": "biweekly",
            "pay_day": "Friday",
        },
        "loanId": "LN-2001",
        "loanIds": [123, 456],
    }
    status, again = single(context, firstName="Grace B.")
    assert status == 200 and again["firstName"] == "Grace B."
    record = stored("acme", "cust-1001")
    assert record is not None and record["firstName"] == "Grace B." and record["tenantId"] == "acme"
    # Another tenant's customer with the same id is another customer.
    assert stored("globex", "cust-1001") is None


def test_an_unknown_task_type_answers_400_listing_the_valid_ones(context) -> None:
    status, body = single(context, taskType="telemarketing")
    assert status == 400
    assert body["validTaskTypes"] == ["collections", "reminder"]
    assert body["message"] == (
        "taskType: unknown task type telemarketing (valid task types: collections, reminder)"
    )
    assert stored("acme", "cust-1001") is None


def test_each_missing_field_is_named_and_nothing_is_written(context) -> None:
    status, body = call(with_body(load_event(SINGLE), {"id": "c-9", "taskType": "reminder"}), context)
    assert status == 400
    assert body["errors"] == [
        "firstName: is required",
        "lastName: is required",
        "phoneNumber: is required",
        "timezone: is required (or a US zipCode to resolve it from)",
        "streetAddress1: is required",
        "city: is required",
        "state: is required",
        "zipCode: is required",
    ]
    assert stored("acme", "c-9") is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"ssnLastFour": "12a4"}, "ssnLastFour: must be exactly 4 digits"),
        ({"state": "New York"}, "state: not a 2-letter US state code: New York"),
        ({"nickname": "G"}, "nickname: is not a known field"),
        ({"birthday": "2999-01-01"}, "birthday: must not be in the future"),
    ],
)
def test_rule_breaks_answer_400_with_the_field(context, changes: dict[str, Any], message: str) -> None:
    status, body = single(context, **changes)
    assert status == 400 and message in body["errors"], body
    assert "12a4" not in json.dumps(body)


def test_without_the_scope_it_is_403(context) -> None:
    status, body = call(with_scopes(load_event(SINGLE), "imports:read debts:write"), context)
    assert status == 403
    assert body["message"] == "this API key lacks the scope customers:write"


def test_sync_fills_missing_fields_from_the_seeded_lms_and_the_timezone_from_the_zip(context) -> None:
    event = with_body(
        load_event(SINGLE),
        {"id": "12345", "taskType": "collections", "loanId": "67890", "sync": True, "loanIds": [67891]},
    )
    status, body = call(event, context)
    assert status == 201, body
    assert (body["firstName"], body["lastName"], body["phoneNumber"]) == ("Ada", "Lovelace", "+14155550100")
    assert body["timezone"] == "America/Los_Angeles"  # from zip 94102
    assert body["loans"] == [{"id": 67891}] and body["loanId"] == "67890"


def test_sync_with_an_id_the_lms_does_not_know_is_404(context) -> None:
    event = with_body(load_event(SINGLE), {"id": "nobody", "taskType": "collections", "sync": True})
    status, body = call(event, context)
    assert status == 404
    assert body["message"] == "id: customer nobody is not in your LMS"


def test_a_body_over_100_kb_is_413(context) -> None:
    status, body = call(with_body(load_event(SINGLE), "x" * 100_001), context)
    assert status == 413 and "at most 100,000" in body["message"]


# -- POST /customers/batch and its job ------------------------------------------------------------
def run_workers(aws: dict[str, str], context: Any) -> None:
    bodies = queued_bodies(aws[resources.CHUNK_QUEUE_ENV])
    assert bodies, "the batch queued no chunk"
    assert worker.handler(sqs_event(bodies), context) == {"batchItemFailures": []}


def test_a_batch_is_accepted_then_workers_finish_it_with_a_result_per_customer(context, aws) -> None:
    status, accepted = call(load_event(BATCH), context)
    assert status == 202, accepted
    assert accepted == {
        "jobId": accepted["jobId"],
        "status": "QUEUED",
        "total": 7,
        "importId": accepted["jobId"],
    }
    job_path = f"/customers/batch/{accepted['jobId']}"
    status, queued = call(get(job_path), context)
    assert status == 200 and queued["status"] == "QUEUED" and queued["counts"]["pending"] == 7

    run_workers(aws, context)
    status, job = call(get(job_path), context)
    assert status == 200
    assert job["status"] == "DONE"
    assert job["counts"] == {"total": 7, "created": 3, "updated": 0, "failed": 4, "pending": 0}
    results = {r["id"]: r for r in job["results"]}
    assert [r["index"] for r in job["results"]] == list(range(7))
    assert results["12345"]["status"] == "created"
    assert results["cust-2001"]["status"] == "created"
    assert results["cust-2002"]["errors"] == [
        "taskType: unknown task type telemarketing (valid task types: collections, reminder)"
    ]
    assert results["cust-2003"] == {"index": 3, "id": "cust-2003", "status": "created", "errors": []}
    assert results["cust-2004"]["errors"] == ["birthday: must not be in the future"]
    assert sorted(results["cust-2005"]["errors"]) == [
        "ssnLastFour: must be exactly 4 digits",
        "state: not a 2-letter US state code: California",
        "timezone: is required (or a US zipCode to resolve it from)",
        "zipCode: is required",
    ]
    assert results["99999"]["errors"] == ["id: customer 99999 is not in your LMS"]

    synced = stored("acme", "12345")
    assert synced is not None and synced["loans"] == [{"id": 67890}] and synced["lastName"] == "Lovelace"
    resolved = stored("acme", "cust-2003")
    assert resolved is not None and resolved["timezone"] == "America/Chicago"
    dnc = stored("acme", "cust-2001")
    assert dnc is not None and dnc["doNotCall"] is True

    status, imp = call(get(f"/v1/imports/{accepted['importId']}"), context)
    assert status == 200 and imp["kind"] == "customers" and imp["counts"]["failed"] == 4
    status, errors = call(get(f"/v1/imports/{accepted['importId']}/errors"), context)
    assert status == 200
    assert {(e["index"], e["id"], e["field"]) for e in errors["errors"]} >= {
        (2, "cust-2002", "taskType"),
        (4, "cust-2004", "birthday"),
        (5, "cust-2005", "ssnLastFour"),
        (6, "99999", "id"),
    }
    # The SSNs of failed customers (4321 valid, 98765 not) are in no report.
    for report in (job, errors):
        assert "4321" not in json.dumps(report) and "98765" not in json.dumps(report)


def test_sending_the_batch_again_updates_the_customers(context, aws) -> None:
    call(load_event(BATCH), context)
    run_workers(aws, context)
    status, again = call(load_event(BATCH), context)
    assert status == 202
    run_workers(aws, context)
    _, job = call(get(f"/customers/batch/{again['jobId']}"), context)
    assert job["counts"] == {"total": 7, "created": 0, "updated": 3, "failed": 4, "pending": 0}


def test_the_job_needs_imports_read_and_is_not_found_for_another_tenant(context) -> None:
    _, accepted = call(load_event(BATCH), context)
    path = f"/customers/batch/{accepted['jobId']}"
    assert call(get(path, scopes="customers:write"), context)[0] == 403
    assert call(get(path, tenant="globex"), context)[0] == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"customers": []}, "customers: at least 1 item(s)"),
        ({"customers": [{}] * 10_001}, "customers: at most 10,000 items"),
        ({"customers": [{}], "sync": True}, "sync: is not a known field"),
        ({"records": [{}]}, "customers: is required"),
    ],
)
def test_bad_batch_envelopes_are_400(context, body: dict[str, Any], message: str) -> None:
    status, resp = call(with_body(load_event(BATCH), body), context)
    assert status == 400 and message in resp["message"], resp


def test_openapi_documents_both_routes_and_the_row_schema(context) -> None:
    base = load_event(SINGLE)
    base["requestContext"].pop("authorizer")
    status, doc = call({**base, "httpMethod": "GET", "path": "/openapi.json", "body": None}, context)
    assert status == 200
    assert {"/customers", "/customers/batch", "/customers/batch/{jobId}"} <= set(doc["paths"])
    assert "CustomerRow" in json.dumps(doc)
