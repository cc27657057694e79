"""Idempotency keys over the real API handler (moto): a replay answers as the first time, writes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from tests.integration.conftest import load_event, with_body, with_scopes

from bulk_import.entrypoints import api, runtime
from bulk_import.usecases.idempotency import (
    ABANDONED_AFTER_SECONDS,
    IdempotencyRecord,
    RecordState,
    fingerprint,
    key_hash,
)


@pytest.fixture(autouse=True)
def fresh_store(aws: dict[str, str]) -> Iterator[None]:
    runtime.IDEMPOTENCY.set(None)
    yield
    runtime.IDEMPOTENCY.set(None)


def send(event: dict[str, Any], context: Any, key: str | None = None) -> tuple[int, Any, dict[str, str]]:
    if key is not None:
        event = {**event, "headers": {**(event.get("headers") or {}), "Idempotency-Key": key}}
    resp = api.handler(event, context)
    headers = {str(k): str(v) for k, v in (resp.get("headers") or {}).items()}
    for name, values in (resp.get("multiValueHeaders") or {}).items():
        headers[name] = ", ".join(values)
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None, headers


def count(table: str) -> int:
    """Items of ``table`` other than idempotency records."""
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    return sum(1 for item in items if not item["pk"]["S"].startswith("IDEMP#"))


def queued(aws: dict[str, str]) -> int:
    attrs = boto3.client("sqs").get_queue_attributes(
        QueueUrl=aws["CHUNK_QUEUE_URL"], AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def test_a_replayed_import_answers_the_first_answer_and_writes_nothing(context, aws) -> None:
    event = load_event("api/campaign-customers-clean.json")
    status, body, headers = send(event, context, "retry-1")
    assert status == 201, body
    assert "Idempotent-Replayed" not in headers
    records, imports = count(aws["RECORDS_TABLE"]), count(aws["IMPORTS_TABLE"])

    again, replayed, replay_headers = send(event, context, "retry-1")

    assert (again, replayed) == (status, body)
    assert replay_headers["Idempotent-Replayed"] == "true"
    assert replay_headers["Content-Type"].startswith("application/json")
    assert (count(aws["RECORDS_TABLE"]), count(aws["IMPORTS_TABLE"])) == (records, imports)


def test_the_header_name_is_matched_in_any_case(context) -> None:
    event = load_event("api/campaign-customers-clean.json")
    event = {**event, "headers": {**event["headers"], "idempotency-key": "lower"}}
    first = api.handler(event, context)
    second = api.handler(event, context)
    assert second["body"] == first["body"]
    assert second["headers"]["Idempotent-Replayed"] == "true"


def test_key_order_and_whitespace_do_not_make_another_request(context) -> None:
    event = load_event("api/campaign-customers-clean.json")
    document = json.loads(event["body"])
    _, first, _ = send(event, context, "k")
    reordered = json.dumps(dict(reversed(list(document.items()))), indent=7)
    status, body, headers = send(with_body(event, reordered), context, "k")
    assert body == first and headers["Idempotent-Replayed"] == "true", status


def test_the_same_key_with_another_body_is_422(context, aws) -> None:
    event = load_event("api/campaign-customers-clean.json")
    send(event, context, "k")
    records = count(aws["RECORDS_TABLE"])
    other = json.loads(event["body"])
    other["records"] = other["records"][:1]
    status, body, headers = send(with_body(event, other), context, "k")
    assert status == 422
    assert "another route or body" in body["message"] and isinstance(body["errors"], list)
    assert "Idempotent-Replayed" not in headers
    assert count(aws["RECORDS_TABLE"]) == records


def test_the_same_key_on_another_route_is_422(context) -> None:
    send(load_event("api/campaign-customers-clean.json"), context, "shared")
    status, body, _ = send(load_event("api/debts-french-batch.json"), context, "shared")
    assert status == 422, body


def test_an_error_answer_is_not_remembered(context) -> None:
    event = load_event("api/campaign-customers-clean.json")
    broken = json.loads(event["body"]) | {"campaignId": "camp-missing"}
    assert send(with_body(event, broken), context, "fix-me")[0] == 404
    status, body, headers = send(event, context, "fix-me")
    assert status == 201, body
    assert "Idempotent-Replayed" not in headers


def test_a_malformed_body_is_not_remembered(context) -> None:
    event = load_event("api/campaign-customers-clean.json")
    bad = json.loads(event["body"]) | {"records": "not a list"}
    assert send(with_body(event, bad), context, "fix-me")[0] == 400
    assert send(event, context, "fix-me")[0] == 201


def test_a_key_whose_first_request_is_running_is_409(context, aws) -> None:
    event = load_event("api/campaign-customers-clean.json")
    now = int(runtime.DEPS.get().clock.now().timestamp())
    runtime.IDEMPOTENCY.get().begin(
        IdempotencyRecord(
            key_hash=key_hash("acme", "busy"),
            fingerprint=fingerprint("POST /api/v1/customers/add/bulk", json.loads(event["body"])),
            state=RecordState.IN_PROGRESS,
            started_at=now,
            expires_at=now + 86_400,
            locked_until=now + ABANDONED_AFTER_SECONDS,
        )
    )
    records = count(aws["RECORDS_TABLE"])
    status, body, _ = send(event, context, "busy")
    assert status == 409
    assert "still being processed" in body["message"]
    assert count(aws["RECORDS_TABLE"]) == records


def test_a_replayed_payments_import_starts_no_second_job(context, aws) -> None:
    event = load_event("api/payments-import-clean.json")
    status, job, _ = send(event, context, "pay-once")
    assert status == 202, job
    imports, messages = count(aws["IMPORTS_TABLE"]), queued(aws)
    again, replayed, headers = send(event, context, "pay-once")
    assert (again, replayed) == (202, job)
    assert headers["Idempotent-Replayed"] == "true"
    assert (count(aws["IMPORTS_TABLE"]), queued(aws)) == (imports, messages)


def test_two_tenants_use_one_key_independently(context, aws) -> None:
    event = load_event("api/campaigns-list.json")
    create = {**event, "httpMethod": "POST", "path": "/api/v1/campaigns"}
    body = {"name": "Spring", "serviceType": "collections"}
    acme = with_scopes(with_body(create, body), "campaigns:write", "acme")
    globex = with_scopes(with_body(create, body), "campaigns:write", "globex")
    first, created, _ = send(acme, context, "same")
    assert first == 201, created
    status, other, headers = send(globex, context, "same")
    assert status == 201 and "Idempotent-Replayed" not in headers
    assert other["id"] != created["id"] or other.get("tenantId") != created.get("tenantId")


def test_a_key_without_the_routes_scope_is_403_not_a_replay(context) -> None:
    event = load_event("api/campaign-customers-clean.json")
    send(event, context, "scoped")
    status, body, headers = send(with_scopes(event, "imports:read"), context, "scoped")
    assert status == 403, body
    assert "Idempotent-Replayed" not in headers


@pytest.mark.parametrize("key", ["k" * 256, "clé", "tab\there", ""])
def test_an_invalid_key_is_400_and_nothing_runs(context, aws, key: str) -> None:
    records = count(aws["RECORDS_TABLE"])
    status, body, _ = send(load_event("api/campaign-customers-clean.json"), context, key)
    assert status == 400
    assert ("Idempotency-Key" in body["message"] and key not in body["message"]) or not key
    assert count(aws["RECORDS_TABLE"]) == records


def test_a_key_of_255_printable_characters_is_accepted(context) -> None:
    key = "".join(chr(32 + i % 95) for i in range(255))
    assert send(load_event("api/campaign-customers-clean.json"), context, key)[0] == 201


def test_without_a_key_every_request_runs(context, aws) -> None:
    event = load_event("api/campaign-customers-clean.json")
    first, second = send(event, context)[1], send(event, context)[1]
    assert first["importId"] != second["importId"]


def test_the_openapi_document_shows_the_header_and_its_answers(context) -> None:
    status, doc, _ = send({**load_event("api/campaigns-list.json"), "path": "/openapi.json"}, context)
    assert status == 200
    for path in sorted(api.IDEMPOTENT_PATHS):
        operation = doc["paths"][path]["post"]
        header = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert header["in"] == "header" and header["required"] is False
        assert header["schema"]["maxLength"] == 255
        for status_code in ("409", "422"):
            schema = operation["responses"][status_code]["content"]["application/json"]["schema"]
            assert schema["$ref"].endswith("/ErrorResponse")
        success = [v for k, v in operation["responses"].items() if k.startswith("2")]
        assert success and all("Idempotent-Replayed" in answer["headers"] for answer in success)
    assert "422" not in doc["paths"]["/v1/imports/{importId}"]["get"]["responses"]


def test_a_dry_run_upload_leaves_no_idempotency_record(context, aws) -> None:
    body = {"kind": "debts", "filename": "relances.csv", "options": {"timeline_id": "tl-standard"}}
    event = {**load_event("api/debts-french-batch.json"), "path": "/v1/imports/uploads"}
    first, answer, _ = send(with_body(event, {**body, "dryRun": True}), context, "dry-upload")
    again, second, headers = send(with_body(event, {**body, "dryRun": True}), context, "dry-upload")

    assert (first, again) == (201, 201), (answer, second)
    assert answer["importId"] != second["importId"] and "Idempotent-Replayed" not in headers
    items = boto3.client("dynamodb").scan(TableName=aws["IMPORTS_TABLE"])["Items"]
    assert not [item for item in items if item["pk"]["S"].startswith("IDEMP#")]


def _retry_event(import_id: str) -> dict[str, Any]:
    event = load_event("api/campaigns-list.json")
    path = f"/v1/imports/{import_id}/retry"
    return {**event, "httpMethod": "POST", "path": path, "pathParameters": {"proxy": path[1:]}}


def test_a_retry_sent_again_with_its_key_replays_the_new_import_and_starts_no_other(context) -> None:
    _, messy, _ = send(load_event("api/campaign-customers-messy.json"), context)
    first = send(_retry_event(messy["importId"]), context, "retry-once")
    again = send(_retry_event(messy["importId"]), context, "retry-once")
    assert first[0] == 202, first[1]
    assert (again[0], again[1]) == (first[0], first[1])
    assert again[2]["Idempotent-Replayed"] == "true"


def test_a_retry_key_replays_nothing_to_a_key_without_the_imports_write_scope(context) -> None:
    _, messy, _ = send(load_event("api/campaign-customers-messy.json"), context)
    send(_retry_event(messy["importId"]), context, "retry-scoped")
    status, body, headers = send(
        with_scopes(_retry_event(messy["importId"]), "imports:read"), context, "retry-scoped"
    )
    assert status == 403, body
    assert "Idempotent-Replayed" not in headers


def test_a_retry_key_on_another_tenants_import_is_404(context) -> None:
    _, messy, _ = send(load_event("api/campaign-customers-messy.json"), context)
    event = with_scopes(_retry_event(messy["importId"]), "customers:write", "globex")
    status, body, _ = send(event, context, "retry-foreign")
    assert status == 404, body


@pytest.mark.parametrize("key", ["k" * 256, "clé", ""])
def test_a_dry_run_with_a_malformed_key_is_told_so_as_the_real_request_would_be(context, key: str) -> None:
    event = load_event("api/campaign-customers-clean.json")
    status, body, _ = send({**event, "queryStringParameters": {"dryRun": "true"}}, context, key)
    assert status == 400, body
    assert "Idempotency-Key" in body["message"]


def test_a_dry_run_with_a_good_key_runs_and_remembers_nothing(context, aws) -> None:
    event = {**load_event("api/campaign-customers-clean.json"), "queryStringParameters": {"dryRun": "true"}}
    status, body, headers = send(event, context, "dry-key")
    again = send(event, context, "dry-key")
    assert status == 200 and body["dryRun"] is True
    assert "Idempotent-Replayed" not in headers and "Idempotent-Replayed" not in again[2]
