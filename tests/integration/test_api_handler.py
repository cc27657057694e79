"""The API Lambda under moto, driven by API Gateway events from ``events/``."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.integration.conftest import load_event, with_body, with_scopes

from bulk_import.entrypoints import api, authorizer

pytestmark = pytest.mark.usefixtures("aws")


def call(event: dict[str, Any], context: Any) -> tuple[int, Any]:
    resp = api.handler(event, context)
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None


def get(path: str, *, scopes: str = "imports:read", tenant: str = "acme", query: dict | None = None) -> dict:
    base = load_event("api/campaigns-list.json")
    event = {**base, "path": path, "httpMethod": "GET", "queryStringParameters": query}
    return with_scopes(event, scopes, tenant)


def test_clean_event_answers_201_and_the_import_is_readable(context) -> None:
    status, body = call(load_event("api/campaign-customers-clean.json"), context)
    assert status == 201, body
    assert body["results"]["successful"] == 3
    status, job = call(get(f"/v1/imports/{body['importId']}"), context)
    assert status == 200
    assert job["kind"] == "campaign-customers" and job["status"] == "DONE"
    assert job["counts"] == {"total": 3, "valid": 3, "invalid": 0, "succeeded": 3, "failed": 0, "skipped": 0}


def test_messy_event_answers_207_and_errors_page_through(context) -> None:
    status, body = call(load_event("api/campaign-customers-messy.json"), context)
    assert status == 207
    expected = body["results"]["errors"]
    seen: list[dict] = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        status, page = call(get(f"/v1/imports/{body['importId']}/errors", query=query), context)
        assert status == 200
        seen += page["errors"]
        cursor = page["nextCursor"]
        if not cursor:
            break
    assert seen == expected


def test_another_tenants_import_is_not_found(context) -> None:
    _, body = call(load_event("api/campaign-customers-clean.json"), context)
    status, resp = call(get(f"/v1/imports/{body['importId']}", tenant="globex"), context)
    assert status == 404
    assert "importId" not in resp


def test_missing_scope_is_403(context) -> None:
    event = with_scopes(load_event("api/campaign-customers-clean.json"), "imports:read")
    status, body = call(event, context)
    assert status == 403
    assert body["message"] == "this API key lacks the scope customers:write"


def test_no_authorizer_context_is_401(context) -> None:
    event = load_event("api/campaign-customers-clean.json")
    event = {
        **event,
        "requestContext": {k: v for k, v in event["requestContext"].items() if k != "authorizer"},
    }
    assert call(event, context)[0] == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "body: is not valid JSON"),
        ("[1, 2]", "body"),
        ({"campaignId": "camp-loans", "records": "nope"}, "records: must be a list"),
        ({"campaignId": "camp-loans", "records": [], "extra": 1}, "extra: is not a known field"),
        ({"campaignId": "camp-loans", "records": []}, "records: at least 1 item(s)"),
        ({"records": [{}]}, "campaignId: is required"),
        ({"campaignId": "camp-loans", "records": [{}] * 10_001}, "records: at most 10,000 items"),
        ({"campaignId": "camp-loans", "records": [{}], "initiateCall": True}, "callConfig"),
    ],
)
def test_bad_requests_are_400_with_a_message_naming_the_problem(context, body, message) -> None:
    status, resp = call(with_body(load_event("api/campaign-customers-clean.json"), body), context)
    assert status == 400, resp
    assert message in resp["message"]


def test_unknown_campaign_is_404_and_nothing_is_written(context, aws) -> None:
    event = load_event("api/campaign-customers-clean.json")
    body = json.loads(event["body"]) | {"campaignId": "camp-missing"}
    status, resp = call(with_body(event, body), context)
    assert status == 404
    assert resp["message"] == "campaign camp-missing not found"
    import boto3

    assert (
        boto3.client("dynamodb").scan(TableName=aws["RECORDS_TABLE"])["Count"] == 1
    )  # only the seed payment


def test_oversized_body_is_413(context) -> None:
    event = with_body(load_event("api/campaign-customers-clean.json"), "x" * 6_000_001)
    status, resp = call(event, context)
    assert status == 413
    assert "at most 6,000,000" in resp["message"]


def test_campaigns_can_be_created_and_listed(context) -> None:
    event = with_body(
        load_event("api/campaigns-list.json"), {"name": "Winter", "serviceType": "leads", "id": "w"}
    )
    event = {**event, "httpMethod": "POST", "path": "/api/v1/campaigns"}
    status, created = call(event, context)
    assert status == 201 and created == {"id": "w", "name": "Winter", "serviceType": "leads"}
    assert call(event, context)[0] == 409
    status, listed = call(load_event("api/campaigns-list.json"), context)
    assert status == 200
    assert [c["id"] for c in listed["campaigns"]] == ["camp-leads", "camp-loans", "w"]
    bad = with_body(event, {"name": "X", "serviceType": "telemarketing"})
    assert call(bad, context)[0] == 400


def test_openapi_and_docs_are_generated_from_the_code(context) -> None:
    base = load_event("api/campaigns-list.json")
    base["requestContext"].pop("authorizer")  # public routes: API Gateway runs no authorizer
    status, doc = call({**base, "path": "/openapi.json"}, context)
    assert status == 200
    assert "/api/v1/customers/add/bulk" in doc["paths"]
    assert "CampaignCustomersRequest" in json.dumps(doc)
    resp = api.handler({**base, "path": "/docs"}, context)
    assert resp["statusCode"] == 200 and "swagger" in resp["body"].lower()


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"X-API-Key": "acme-secret"}, True),
        ({"authorization": "Bearer acme-secret"}, True),
        ({"Authorization": "bearer   acme-secret "}, True),
        ({"X-API-Key": "wrong"}, False),
        ({"Authorization": "Basic acme-secret"}, False),
        ({"X-API-Key": "acme-secret", "Authorization": "Bearer acme-secret"}, True),
        ({"X-API-Key": "acme-secret", "Authorization": "Bearer globex-secret"}, False),
        ({"X-API-Key": "acme-secret", "Authorization": "Basic dXNlcjpwYXNz"}, False),
        ({"X-API-Key": "acme-secret", "Authorization": "Bearer "}, False),
        ({"X-API-Key": "acme-secret", "Authorization": ""}, False),
        ({}, False),
    ],
)
def test_authorizer_accepts_either_header_and_rejects_unknown_keys(headers, allowed, context) -> None:
    event = {
        "type": "REQUEST",
        "methodArn": "arn:aws:execute-api:us-east-1:1:api/prod/POST/x",
        "headers": headers,
    }
    if allowed:
        policy = authorizer.handler(event, context)
        assert policy["context"]["tenantId"] == "acme"
        assert "customers:write" in policy["context"]["scopes"].split()
        assert (
            policy["policyDocument"]["Statement"][0]["Resource"]
            == "arn:aws:execute-api:us-east-1:1:api/prod/*/*"
        )
    else:
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorizer.handler(event, context)


def emf_documents(out: str) -> list[dict[str, Any]]:
    """The embedded-metric documents among the lines a handler printed (logs are lines too)."""
    lines = (json.loads(line) for line in out.splitlines() if line.startswith("{"))
    return [doc for doc in lines if "_aws" in doc]


def test_a_synchronous_import_counts_its_rows_by_kind_and_never_by_tenant(context, capsys) -> None:
    capsys.readouterr()
    status, body = call(load_event("api/campaign-customers-messy.json"), context)
    assert status == 207
    (doc,) = emf_documents(capsys.readouterr().out)
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "BulkImport"
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["kind", "service"]]
    assert doc["kind"] == "campaign-customers" and doc["service"] == "bulk-import"
    results = body["results"]
    assert doc["RowsImported"] == [results["successful"]]
    assert doc["RowsFailed"] == [results["failed"]]
    assert "acme" not in json.dumps(doc)


def test_a_read_writes_no_metrics(context, capsys) -> None:
    capsys.readouterr()
    assert call(get("/v1/imports/nothing-here"), context)[0] == 404
    assert emf_documents(capsys.readouterr().out) == []


def _stored_import(import_id: str, kind: str) -> None:
    from datetime import UTC, datetime

    from bulk_import.core.model import Counts, ImportJob
    from bulk_import.entrypoints.runtime import DEPS

    now = datetime(2025, 1, 2, tzinfo=UTC)
    DEPS.get().imports.save(
        ImportJob(
            import_id=import_id,
            tenant_id="acme",
            kind=kind,
            source="api",
            status="DONE",
            created_at=now,
            updated_at=now,
            completed_at=now,
            counts=Counts(),
        )
    )


@pytest.mark.parametrize(
    ("import_id", "encoded"),
    [("abc#1", "abc%231"), ("relances juillet", "relances%20juillet"), ("a+b", "a+b"), ("x/y", "x%2Fy")],
)
def test_an_import_id_is_looked_up_url_decoded(context, import_id: str, encoded: str) -> None:
    _stored_import(import_id, "debts")
    status, job = call(get(f"/v1/imports/{encoded}"), context)
    assert status == 200, job
    assert job["importId"] == import_id
    status, page = call(get(f"/v1/imports/{encoded}/errors"), context)
    assert status == 200, page


def test_a_customers_batch_job_id_is_looked_up_url_decoded(context) -> None:
    _stored_import("job#7 a", "customers")
    status, view = call(get("/customers/batch/job%237%20a", scopes="imports:read customers:write"), context)
    assert status == 200, view
    assert "job#7 a" in json.dumps(view)


def test_every_kind_is_served_where_the_kind_says() -> None:
    # The routes are registered from a table, so that registering them imports no kind.
    from bulk_import.entrypoints import routes
    from bulk_import.kinds import REGISTRY, get_kind

    assert set(routes.KIND_ROUTES) == set(REGISTRY)
    for name in REGISTRY:
        kind = get_kind(name)
        assert routes.KIND_ROUTES[name] == (kind.route, kind.job_route, kind.mode), name


def test_a_read_builds_only_the_dynamodb_client(context) -> None:
    from bulk_import.entrypoints import runtime

    runtime.CLIENTS.set(None)
    status, _ = call(load_event("api/campaigns-list.json"), context)
    assert status == 200
    assert set(runtime.CLIENTS.get().__dict__.get("_clients", {})) == {"dynamodb"}


def test_the_handler_imports_no_kind_and_no_aws_client_until_a_request_needs_one() -> None:
    import subprocess
    import sys

    code = (
        "import json, sys\n"
        "from bulk_import.entrypoints import api\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(("
        "'bulk_import.kinds.campaign_customers', 'bulk_import.kinds.customers', 'bulk_import.kinds.debts', "
        "'bulk_import.kinds.payments', 'boto3', 'botocore.client', 'bulk_import.entrypoints.schemas', "
        "'aws_lambda_powertools.event_handler', 'pydantic', 'phonenumbers', 's3transfer', "
        "'bulk_import.entrypoints.bodies')))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
