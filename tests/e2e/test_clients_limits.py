"""Request-level values too large or too odd to store, over HTTP: a 400 naming the field, never a 500.

Rows have their limits checked one by one; these are the values of a request itself (a campaign's name,
the options an import keeps: ``callConfig``, upload options), which are stored with one item.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import ApiResponse, call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
HUGE = "x" * 450_000
LOAN = {
    "loan_id": "L-lim-1",
    "first_name": "Ada",
    "phone_number": "06 12 34 56 78",
    "loan_amount": "1200",
    "emi_amount": "99.50",
    "emi_due_date": "05/12/2026",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def refused(answer: ApiResponse, field: str, limit: str) -> None:
    assert answer.status == 400, answer.text[:300]
    assert answer.body["message"].startswith(f"{field}: {limit}"), answer.text[:300]
    assert any(str(e).startswith(f"{field}: {limit}") for e in answer.body["errors"]), answer.text[:300]
    assert len(answer.text) < 2_000  # the value itself is not echoed


@pytest.mark.parametrize(
    ("name", "limit"),
    [
        (HUGE, "at most 200 characters"),
        ("x" * 201, "at most 200 characters"),
        ("Lo\x00ans", "must not contain"),
    ],
)
def test_a_campaign_name_that_cannot_be_stored_is_refused(stack: LocalStack, name: str, limit: str) -> None:
    body = {"name": name, "serviceType": "collections"}
    refused(call(stack.url, "POST", "/api/v1/campaigns", body=body, headers=KEY), "name", limit)


def test_a_campaign_name_of_200_characters_is_created(stack: LocalStack) -> None:
    body = {"name": "é" * 200, "serviceType": "leads"}
    answer = call(stack.url, "POST", "/api/v1/campaigns", body=body, headers=KEY)
    assert answer.status == 201 and answer.body["name"] == "é" * 200, answer.text[:300]


def newest_import_ids(stack: LocalStack) -> list[str]:
    """The ids of the tenant's five newest imports."""
    answer = call(stack.url, "GET", "/v1/imports?limit=5", headers=KEY)
    return [i["importId"] for i in answer.body["imports"]]


@pytest.mark.parametrize("dry_run", ["", "?dryRun=true"])
@pytest.mark.parametrize("field", ["agentId", "dispositionId"])
def test_a_call_configuration_too_long_to_store_is_refused_before_anything_is_written(
    stack: LocalStack, field: str, dry_run: str
) -> None:
    config = {"agentId": "ag-1", "dispositionId": "dp-1", field: HUGE}
    body = {"campaignId": "camp-loans", "records": [LOAN], "initiateCall": True, "callConfig": config}
    before = newest_import_ids(stack)
    answer = call(stack.url, "POST", f"/api/v1/customers/add/bulk{dry_run}", body=body, headers=KEY)
    refused(answer, f"callConfig.{field}", "at most 200 characters")
    # No import was created (the newest one, an earlier test's, may still be finishing meanwhile).
    assert newest_import_ids(stack) == before


def test_an_upload_option_too_long_to_store_is_refused(stack: LocalStack) -> None:
    options: dict[str, Any] = {"campaign-id": "camp-loans", "initiate-call": "true"}
    options |= {"agent-id": HUGE, "disposition-id": "dp-1"}
    body = {"kind": "campaign-customers", "filename": "loans.csv", "options": options}
    answer = call(stack.url, "POST", "/v1/imports/uploads", body=body, headers=KEY)
    refused(answer, "callConfig.agentId", "at most 200 characters")


@pytest.mark.parametrize("kind", [{}, ["debts"]])
def test_an_upload_whose_kind_is_not_text_is_a_400_with_an_idempotency_key_too(
    stack: LocalStack, kind: Any
) -> None:
    headers = {**KEY, "Idempotency-Key": f"kind-{type(kind).__name__}"}
    body = {"kind": kind, "filename": "loans.csv"}
    answer = call(stack.url, "POST", "/v1/imports/uploads", body=body, headers=headers)
    assert answer.status == 400, answer.text
    assert answer.body["message"].startswith("kind:"), answer.text


def test_ten_thousand_failed_campaign_customers_still_get_an_answer_with_the_import_id(
    stack: LocalStack,
) -> None:
    records = [{"loan_id": f"L-{i}-" + "x" * 150} for i in range(10_000)]
    body = {"campaignId": "camp-loans", "records": records}
    answer = call(stack.url, "POST", "/api/v1/customers/add/bulk", body=body, headers=KEY)
    assert answer.status == 400, answer.text[:300]
    assert answer.body["importId"] and answer.body["results"]["failed"] == 10_000, answer.text[:300]
    assert len(answer.text.encode()) < 6_000_000
    shown = answer.body["cut"]["results.errors"]
    assert answer.body["truncated"] is True
    assert shown["shown"] == len(answer.body["results"]["errors"]) < shown["total"], answer.body["cut"]
    assert answer.body["moreAt"] == f"/v1/imports/{answer.body['importId']}/errors"
    assert len(answer.body["errors"]) <= 51


def test_a_dry_run_of_ten_thousand_failing_payments_still_fits_lambda_s_response(stack: LocalStack) -> None:
    # Every item fails on several fields, each error naming a long id: the finished job view a dry run
    # answers would pass 6 MB; it holds the first page of its rows and says more were left out.
    items = [
        {"id": f"P-{i:05d}-" + "y" * 180, "amount": {"type": "SEND", "amount": "-1", "currency": "ZZZ"}}
        for i in range(10_000)
    ]
    answer = call(
        stack.url, "POST", "/payments/payments/import?dryRun=true", body={"items": items}, headers=KEY
    )
    assert answer.status == 200, answer.text[:300]
    assert len(answer.text.encode()) < 6_000_000
    assert answer.body["dryRun"] is True and answer.body["failed"] == 10_000, answer.text[:300]
    assert answer.body["truncated"] is True and 0 < len(answer.body["progress"]) < 10_000
