"""The OpenAPI document tells the truth: every status, its body schema, how to send a key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.integration.conftest import load_event

from bulk_import.entrypoints import api
from bulk_import.local.gateway import LambdaContext

COMMON = {"400", "401", "403", "413", "415", "500"}
OWN = {
    ("post", "/api/v1/campaigns"): {"201", "409"},
    ("get", "/api/v1/campaigns"): {"200"},
    ("post", "/api/v1/customers/add/bulk"): {"201", "207", "404"},
    ("post", "/external-api/v1/debts/batch"): {"201", "404"},
    ("post", "/customers"): {"200", "201", "404", "502"},
    ("post", "/customers/batch"): {"202"},
    ("get", "/customers/batch/{jobId}"): {"200", "404"},
    ("post", "/payments/payments/import"): {"202"},
    ("get", "/payments/payments/import/{job_id}"): {"200", "404"},
    ("get", "/v1/imports/{importId}"): {"200", "404"},
    ("get", "/v1/imports/{importId}/errors"): {"200", "404"},
    ("post", "/v1/imports/uploads"): {"201", "501"},
    ("get", "/v1/imports"): {"200"},
    ("post", "/v1/imports/{importId}/cancel"): {"200", "404", "409"},
    ("post", "/v1/imports/{importId}/retry"): {"202", "404", "409"},
}


def public_get(path: str, host: str = "127.0.0.1:8000") -> dict[str, Any]:
    """A GET of a public path as the local stack's gateway passes it (stage "local", no authorizer)."""
    base = load_event("api/campaigns-list.json")
    context = {k: v for k, v in base["requestContext"].items() if k != "authorizer"}
    return {**base, "path": path, "headers": {"Host": host}, "requestContext": {**context, "stage": "local"}}


def fetch(path: str) -> dict[str, Any]:
    resp = api.handler(public_get(path), LambdaContext("test"))
    assert resp["statusCode"] == 200
    return resp


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    return json.loads(fetch("/openapi.json")["body"])


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, p, op) for p, ops in doc["paths"].items() for m, op in ops.items()]


def test_every_route_is_documented_with_the_statuses_it_answers(doc: dict[str, Any]) -> None:
    found = {(m, p): set(op["responses"]) for m, p, op in operations(doc)}
    assert set(found) == set(OWN)
    for route, own in OWN.items():
        assert COMMON | own <= found[route], route


def test_only_routes_taking_an_idempotency_key_document_422(doc: dict[str, Any]) -> None:
    # Request validation answers 400, never 422; 422 is the answer to a reused Idempotency-Key.
    for _, _, op in operations(doc):
        takes_key = any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", []))
        assert ("422" in op["responses"]) == takes_key, op.get("operationId")
    assert "HTTPValidationError" not in json.dumps(doc)


def test_every_error_status_has_the_one_error_model(doc: dict[str, Any]) -> None:
    error = doc["components"]["schemas"]["ErrorResponse"]
    assert set(error["required"]) == {"message", "errors"}
    for _, _, op in operations(doc):
        for status, response in op["responses"].items():
            schema = response["content"]["application/json"]["schema"]
            if int(status) >= 400:
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, status


def test_success_bodies_have_real_schemas(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for _, path, op in operations(doc):
        for status, response in op["responses"].items():
            if int(status) < 300:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                model = schemas[ref.rsplit("/", 1)[1]]
                assert model.get("required"), (path, status)
    assert {"importId", "results"} <= set(schemas["CampaignCustomersResponse"]["required"])
    assert {"job_id", "progress"} <= set(schemas["PaymentsJob"]["required"])


def test_both_key_schemes_guard_every_route(doc: dict[str, Any]) -> None:
    assert doc["components"]["securitySchemes"] == {
        "Bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
        "X-API-Key": {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "X-API-Key: <key>",
        },
    }
    for _, path, op in operations(doc):
        assert op["security"] == [{"Bearer": []}, {"X-API-Key": []}], path


def test_path_parameters_are_named_as_the_readme_names_them(doc: dict[str, Any]) -> None:
    names = {
        p: [x["name"] for x in op.get("parameters", []) if x["in"] == "path"] for _, p, op in operations(doc)
    }
    assert names["/customers/batch/{jobId}"] == ["jobId"]
    assert names["/payments/payments/import/{job_id}"] == ["job_id"]
    assert names["/v1/imports/{importId}"] == ["importId"]
    queries = {
        p: {x["name"] for x in op.get("parameters", []) if x["in"] == "query"} for _, p, op in operations(doc)
    }
    assert queries["/customers/batch/{jobId}"] == {"limit", "cursor"}
    assert queries["/payments/payments/import/{job_id}"] == {"limit", "cursor"}


def test_one_title_and_one_tag_style(doc: dict[str, Any]) -> None:
    assert doc["info"]["title"] == "Bulk import API"
    tags = {t for _, _, op in operations(doc) for t in op["tags"]}
    assert tags == {"Campaigns", "Campaign customers", "Debts", "Customers", "Payments", "Imports"}


def test_the_local_stack_and_a_custom_domain_are_served_from_the_root(doc: dict[str, Any]) -> None:
    # The local gateway's events carry a stage named "local", which is in no URL.
    assert doc["servers"] == [{"url": "/"}]


def test_the_stage_is_the_server_on_api_gateways_own_endpoint() -> None:
    event = public_get("/openapi.json", host="abc123.execute-api.eu-west-3.amazonaws.com")
    event["requestContext"]["stage"] = "prod"
    resp = api.handler(event, LambdaContext("test"))
    assert json.loads(resp["body"])["servers"] == [{"url": "/prod"}]


def test_the_swagger_ui_embeds_the_same_document_with_an_authorize_button() -> None:
    page = fetch("/docs")
    assert "text/html" in json.dumps(page.get("multiValueHeaders") or page.get("headers"))
    html = page["body"]
    assert "SwaggerUIBundle" in html
    assert '"securitySchemes"' in html and '"/local"' not in html
