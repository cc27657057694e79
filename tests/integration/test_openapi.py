"""The OpenAPI document tells the truth: every status, its body schema, how to send a key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.integration.conftest import load_event

from bulk_import.entrypoints import api, apidoc, openapi_build
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
    ("put", "/v1/webhooks"): {"200", "501"},
    ("get", "/v1/webhooks"): {"200", "404", "501"},
    ("delete", "/v1/webhooks"): {"204", "501"},
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
            if status == "204":
                assert "content" not in response  # a 204 has no body
                continue
            schema = response["content"]["application/json"]["schema"]
            if int(status) >= 400:
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, status


def test_success_bodies_have_real_schemas(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    for _, path, op in operations(doc):
        for status, response in op["responses"].items():
            if int(status) < 300 and status != "204":  # a 204 has no body
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
    assert tags == {
        "Campaigns",
        "Campaign customers",
        "Debts",
        "Customers",
        "Payments",
        "Imports",
        "Webhooks",
    }


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


def test_the_served_document_is_the_committed_one_and_the_routes_still_declare_it() -> None:
    # The API serves the file written at build time; it must be what the routes declare today.
    built = openapi_build.document_text(openapi_build.api_document())
    stored = apidoc.DOCUMENT_PATH.read_text(encoding="utf-8")
    assert stored == built, (
        f"{apidoc.DOCUMENT_PATH.name} is stale: run {openapi_build.COMMAND} to regenerate it"
    )
    served = json.loads(fetch("/openapi.json")["body"])
    assert served == {**json.loads(stored), "servers": [{"url": "/"}]}


#: What answering ``/openapi.json`` never loads: the generator, the answer models, Powertools' OpenAPI
#: models and validation, and any AWS client.
NOT_LOADED = (
    "bulk_import.entrypoints.openapi_build",
    "bulk_import.entrypoints.schemas",
    "aws_lambda_powertools.event_handler.openapi.models",
    "aws_lambda_powertools.event_handler.openapi.dependant",
    "aws_lambda_powertools.event_handler.middlewares.openapi_validation",
    "boto3",
    "botocore.client",
)


def test_serving_the_document_loads_nothing_that_generates_it() -> None:
    import subprocess
    import sys

    event = json.dumps(public_get("/openapi.json"))
    code = (
        "import json, sys\n"
        "from bulk_import.entrypoints import api\n"
        "from bulk_import.local.gateway import LambdaContext\n"
        f"response = api.handler(json.loads({event!r}), LambdaContext('api'))\n"
        "assert response['statusCode'] == 200, response\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({NOT_LOADED!r}))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
