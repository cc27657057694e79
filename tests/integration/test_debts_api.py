"""The debts route through the real API handler under moto, with the demo seed and the French batch event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.integration.conftest import load_event, with_body, with_scopes

from bulk_import.entrypoints import api

pytestmark = pytest.mark.usefixtures("aws")

EVENT = "api/debts-french-batch.json"


def call(event: dict[str, Any], context: Any) -> tuple[int, Any]:
    resp = api.handler(event, context)
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None


def test_french_batch_answers_201_with_created_failed_and_skipped(context) -> None:
    status, body = call(load_event(EVENT), context)
    assert status == 201, body
    assert body["error"] is False
    assert body["batch_name"] == "Relances juillet 2026"
    assert body["summary"] == {"total": 16, "created": 10, "failed": 3, "skipped": 3, "credits": 480}
    destinations = {
        c["temp_id"]: (c["phone"], c["destination"], c["credits_per_call"]) for c in body["created"]
    }
    assert destinations["T-004"] == ("+33612345681", "FR", 25)  # 0033…
    assert destinations["T-005"] == ("+33612345682", "FR", 25)  # 33…
    assert destinations["T-006"] == ("+590690123456", "GP", 100)
    assert destinations["T-007"] == ("+262692123456", "RE", 100)
    assert destinations["T-008"] == ("+212612345678", "MA", 125)
    assert destinations["T-013"] == (None, None, None)
    failed = {f["temp_id"]: f["errors"] for f in body["failed"]}
    assert set(failed) == {"T-009", "T-010", "T-011"}
    assert failed["T-009"]["phone"][0].startswith("Morocco (MA) is an expensive destination")
    assert failed["T-010"] == {"phone": ["too short to be a phone number"]}
    assert failed["T-011"] == {"currency": ["not an ISO 4217 currency code: EURO"]}
    assert [s["index"] for s in body["skipped"]] == [13, 14, 15]

    status, job = call(
        with_scopes(
            {**load_event(EVENT), "httpMethod": "GET", "path": f"/v1/imports/{body['import_id']}"},
            "imports:read",
        ),
        context,
    )
    assert status == 200
    assert job["kind"] == "debts" and job["status"] == "DONE"
    assert job["counts"] == {
        "total": 16,
        "valid": 10,
        "invalid": 3,
        "succeeded": 10,
        "failed": 3,
        "skipped": 3,
    }


def test_sending_the_batch_again_gives_the_same_debt_ids(context) -> None:
    _, first = call(load_event(EVENT), context)
    _, again = call(load_event(EVENT), context)
    assert [c["debt_id"] for c in again["created"]] == [c["debt_id"] for c in first["created"]]


def test_a_key_without_debts_write_is_403(context) -> None:
    event = with_scopes(load_event(EVENT), "customers:write imports:read")
    status, body = call(event, context)
    assert status == 403
    assert body["message"] == "this API key lacks the scope debts:write"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"debts": [{"firstname": "A"}], "timeline_id": "tl-nope"}, "timeline_id: unknown timeline tl-nope"),
        ({"debts": [{"firstname": "A"}] * 1001}, "debts: at most 1,000 items"),
        ({"debts": {"firstname": "A"}}, "debts: must be a list"),
        ({"debts": [{"firstname": "A"}], "callback": "x"}, "callback: is not a known field"),
    ],
)
def test_invalid_requests_are_400(context, body: dict[str, Any], message: str) -> None:
    status, resp = call(with_body(load_event(EVENT), body), context)
    assert status == 400
    assert resp["message"].startswith(message)


def test_the_route_is_in_the_openapi_document(context) -> None:
    event = {**load_event(EVENT), "httpMethod": "GET", "path": "/openapi.json"}
    status, doc = call(event, context)
    assert status == 200
    assert "/external-api/v1/debts/batch" in doc["paths"]
