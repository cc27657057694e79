"""Request bodies as clients written from the contract send them, over HTTP against the local stack.

What generated clients and hand-written scripts put in a body besides the happy path: a row that is not an
object among good ones, ``null`` for an option that has a default, empty or over-long text where a name is
required, a service type written with a capital, ids written as numbers, and numbers where text was
expected. A bad row costs only itself; an empty value counts as missing; a limit is named.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import ApiResponse, call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
# The smallest valid row of each kind, each field as a client writes it.
LOAN = dict(
    loan_id="L-body-1",
    first_name="Ada",
    phone_number="06 12 34 56 78",
    loan_amount="1200",
    emi_amount="99.50",
) | {"emi_due_date": "05/12/2026"}
DEBT = dict(firstname="Marie", lastname="Curie", amount="10", currency="EUR") | {"phone": "0612345678"}
CUSTOMER = dict(id="cust-body-1", taskType="collections", firstName="Ada", lastName="Lovelace") | dict(
    phoneNumber="415 555 0100", streetAddress1="1 Main St", city="San Francisco", state="CA", zipCode="94102"
)
PAYMENT = {
    "source": {"type": "group", "id": "grp-main"},
    "target": {"type": "contact", "id": "ct-1"},
    "amount": {"type": "SEND", "amount": 10, "currency": "EUR"},
    "execution": {"date": "2026-12-01T09:00:00Z"},
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def send(stack: LocalStack, path: str, body: Any = None, raw: bytes | None = None) -> ApiResponse:
    return call(stack.url, "POST", path, body=body, raw=raw, headers=KEY)


def finished(stack: LocalStack, path: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        view = call(stack.url, "GET", path, headers=KEY).body
        if view.get("status") in ("DONE", "FAILED") or time.monotonic() > deadline:
            return dict(view)
        time.sleep(0.2)


# -- a row that is not an object fails alone -----------------------------------------------------------
NOT_OBJECTS = [None, 5, "a row as text", ["a", "list"]]
ROW_MESSAGE = "row: must be an object with named fields"


def test_campaign_customers_that_are_not_objects_fail_alone_and_the_good_one_is_added(
    stack: LocalStack,
) -> None:
    answer = send(
        stack, "/api/v1/customers/add/bulk", {"campaignId": "camp-loans", "records": [LOAN, *NOT_OBJECTS]}
    )
    assert answer.status == 207, answer.text
    results = answer.body["results"]
    assert (results["successful"], results["failed"]) == (1, len(NOT_OBJECTS)), answer.text
    # null is an empty row, and the seed's shape counts an empty row as one not added.
    assert [(e["index"], e["message"]) for e in results["errors"]] == [
        (1, "row: empty row, nothing to add"),
        *((i, ROW_MESSAGE) for i in range(2, len(NOT_OBJECTS) + 1)),
    ], answer.text


def test_debts_that_are_not_objects_fail_alone_in_a_processed_batch(stack: LocalStack) -> None:
    answer = send(stack, "/external-api/v1/debts/batch", {"debts": [DEBT, *NOT_OBJECTS]})
    assert answer.status == 201, answer.text
    assert answer.body["summary"]["created"] == 1, answer.text
    failed = answer.body["failed"]
    # null is an empty row, which debts skip.
    assert [(s["index"], s["reason"]) for s in answer.body["skipped"]] == [(1, "empty row")], answer.text
    assert [f["index"] for f in failed] == list(range(2, len(NOT_OBJECTS) + 1)), answer.text
    assert all(f["errors"] == {"row": ["must be an object with named fields"]} for f in failed), answer.text


def test_customers_of_a_batch_that_are_not_objects_fail_alone_in_the_job(stack: LocalStack) -> None:
    answer = send(stack, "/customers/batch", {"customers": [CUSTOMER, *NOT_OBJECTS]})
    assert answer.status == 202, answer.text
    view = finished(stack, f"/customers/batch/{answer.body['jobId']}")
    assert view["status"] == "DONE" and view["counts"]["failed"] == len(NOT_OBJECTS), view
    assert [r["errors"] for r in view["results"][1:]] == [[ROW_MESSAGE]] * len(NOT_OBJECTS), view


def test_payment_items_that_are_not_objects_fail_alone_as_they_do_in_a_json_file(stack: LocalStack) -> None:
    answer = send(stack, "/payments/payments/import", {"items": [PAYMENT, *NOT_OBJECTS]})
    assert answer.status == 202, answer.text
    view = finished(stack, f"/payments/payments/import/{answer.body['job_id']}")
    assert [p["status"] for p in view["progress"]] == ["SUCCESS"] + ["FAILED"] * len(NOT_OBJECTS), view
    assert all(p["error"]["message"] == ROW_MESSAGE for p in view["progress"][1:]), view


def test_a_dry_run_reports_rows_that_are_not_objects_as_the_real_request_would(stack: LocalStack) -> None:
    answer = send(stack, "/payments/payments/import?dryRun=true", {"items": [PAYMENT, None]})
    assert answer.status == 200, answer.text
    assert [p["status"] for p in answer.body["progress"]] == ["SUCCESS", "FAILED"], answer.text


# -- null for an option with a default is the default --------------------------------------------------
@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/customers/add/bulk", {"campaignId": "camp-loans", "records": [LOAN], "initiateCall": None}),
        ("/external-api/v1/debts/batch", {"debts": [DEBT], "accept_expensive_destination": None}),
        ("/v1/imports/uploads", {"kind": "debts", "filename": "a.csv", "options": None}),
    ],
)
def test_null_for_an_option_that_has_a_default_means_the_default(
    stack: LocalStack, path: str, body: dict[str, Any]
) -> None:
    answer = send(stack, path, body)
    assert answer.status < 300, answer.text
    assert "callResults" not in answer.body, answer.text


# -- empty text is missing, long text is over a named limit ----------------------------------------------
@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/api/v1/customers/add/bulk", {"campaignId": "", "records": [LOAN]}, "campaignId: is required"),
        ("/api/v1/customers/add/bulk", {"campaignId": None, "records": [LOAN]}, "campaignId: is required"),
        ("/api/v1/campaigns", {"name": None, "serviceType": "leads"}, "name: is required"),
        ("/api/v1/campaigns", {"name": "Loans", "serviceType": None}, "serviceType: is required"),
        ("/v1/imports/uploads", {"kind": "", "filename": "a.csv"}, "kind: is required"),
        ("/v1/imports/uploads", {"kind": "debts", "filename": ""}, "filename: is required"),
        ("/v1/imports/uploads", {"kind": "debts", "filename": None}, "filename: is required"),
        (
            "/v1/imports/uploads",
            {"kind": "debts", "filename": "a" * 1001},
            "filename: at most 1,000 characters",
        ),
        (
            "/external-api/v1/debts/batch",
            {"debts": [DEBT], "batch_name": "b" * 201},
            "batch_name: at most 200 characters",
        ),
    ],
)
def test_an_empty_value_is_missing_and_a_long_one_names_its_limit(
    stack: LocalStack, path: str, body: dict[str, Any], message: str
) -> None:
    answer = send(stack, path, body)
    assert answer.status == 400, answer.text
    assert answer.body["errors"] == [message], answer.text


# -- values written another way ----------------------------------------------------------------------
def test_a_service_type_written_with_capitals_creates_the_campaign_with_its_own_spelling(
    stack: LocalStack,
) -> None:
    answer = send(stack, "/api/v1/campaigns", {"name": "Relances", "serviceType": " Collections "})
    assert answer.status == 201, answer.text
    assert answer.body["serviceType"] == "collections", answer.text


def test_agent_and_disposition_ids_written_as_numbers_start_the_calls(stack: LocalStack) -> None:
    body = {
        "campaignId": "camp-loans",
        "records": [{**LOAN, "loan_id": "L-body-calls"}],
        "initiateCall": True,
        "callConfig": {"agentId": 42, "dispositionId": 7},
    }
    answer = send(stack, "/api/v1/customers/add/bulk?dryRun=true", body)
    assert answer.status == 200, answer.text
    assert answer.body["callResults"]["batches"] == 1, answer.text


@pytest.mark.parametrize(
    ("number", "limit"),
    [("1e200", "at most 9.99e125 in magnitude"), ("1" * 40, "at most 38 significant digits")],
)
def test_a_tag_number_storage_cannot_hold_fails_its_payment_naming_the_limit(
    stack: LocalStack, number: str, limit: str
) -> None:
    items = [{**PAYMENT, "user_tags": {"score": "PLACEHOLDER"}}]
    raw = json.dumps({"items": items}).replace('"PLACEHOLDER"', number).encode()
    answer = send(stack, "/payments/payments/import?dryRun=true", raw=raw)
    assert answer.status == 200, answer.text
    (progress,) = answer.body["progress"]
    assert progress["status"] == "FAILED", answer.text
    assert progress["error"]["message"] == f"user_tags.score: {limit}", answer.text


# -- one customer: every problem of the body, the tenant's rules included -------------------------------
def test_one_customer_with_a_bad_email_and_an_unknown_task_type_is_told_both_with_the_valid_types(
    stack: LocalStack,
) -> None:
    body = {**CUSTOMER, "taskType": "nope", "email": "not-an-address", "birthday": "2999-01-01"}
    answer = send(stack, "/customers", body)
    assert answer.status == 400, answer.text
    assert answer.body.get("validTaskTypes") == ["collections", "reminder"], answer.text
    messages = " | ".join(answer.body["errors"])
    assert "email:" in messages and "taskType:" in messages and "birthday:" in messages, answer.text


def test_a_campaign_named_and_identified_by_numbers_is_created_with_their_text(stack: LocalStack) -> None:
    answer = send(stack, "/api/v1/campaigns", {"name": 2026, "serviceType": "leads", "id": 4417})
    assert answer.status == 201, answer.text
    assert (answer.body["id"], answer.body["name"]) == ("4417", "2026"), answer.text


@pytest.mark.parametrize("kind", ["Debts", " debts ", "DEBTS"])
def test_an_upload_s_kind_in_another_case_is_that_kind_and_needs_its_scope(
    stack: LocalStack, kind: str
) -> None:
    body = {"kind": kind, "filename": "relances.csv"}
    answer = send(stack, "/v1/imports/uploads", body)
    assert answer.status == 201, answer.text
    assert answer.body["key"].startswith("incoming/acme/debts/"), answer.text
    refused = call(
        stack.url, "POST", "/v1/imports/uploads", body=body, headers={"X-API-Key": "acme-readonly"}
    )
    assert refused.status == 403 and "debts:write" in refused.body["message"], refused.text


def test_a_null_attachment_of_a_payment_is_told_it_must_be_an_object(stack: LocalStack) -> None:
    answer = send(
        stack, "/payments/payments/import?dryRun=true", {"items": [{**PAYMENT, "attachments": [None]}]}
    )
    assert answer.status == 200, answer.text
    assert answer.body["progress"][0]["error"]["message"] == "attachments.0: must be an object", answer.text
