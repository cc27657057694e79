"""Files as a client written from the contract uploads them, over HTTP against the local stack.

A JSON file may be an array of rows or the kind's own request body: a body carries its options (the
campaign of campaign customers) with it, so its upload need not name them again.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
RECORD = {
    "loan_id": "L-file-body-1",
    "first_name": "Ada",
    "phone_number": "06 12 34 56 78",
    "loan_amount": 1200,
    "emi_amount": 99.5,
    "emi_due_date": "2026-12-05",
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def uploaded(stack: LocalStack, filename: str, content: Any, options: dict[str, Any]) -> dict[str, Any]:
    """The finished import of ``content`` uploaded as ``filename`` through an upload URL."""
    answer = call(
        stack.url,
        "POST",
        "/v1/imports/uploads",
        body={"kind": "campaign-customers", "filename": filename, "options": options},
        headers=KEY,
    )
    assert answer.status == 201, answer.text
    put = urllib.request.Request(answer.body["uploadUrl"], data=json.dumps(content).encode(), method="PUT")
    with urllib.request.urlopen(put, timeout=30) as sent:
        assert sent.status == 200
    deadline = time.monotonic() + 60
    while True:
        view = call(stack.url, "GET", f"/v1/imports/{answer.body['importId']}", headers=KEY).body
        if view["status"] in ("DONE", "FAILED"):
            return dict(view)
        assert time.monotonic() < deadline, view
        time.sleep(0.2)


def test_a_json_file_holding_the_request_body_is_uploaded_without_repeating_its_campaign(
    stack: LocalStack,
) -> None:
    view = uploaded(stack, "loans.json", {"campaignId": "camp-loans", "records": [RECORD]}, {})
    assert view["status"] == "DONE", view
    assert view["counts"]["succeeded"] == 1, view


def test_a_json_array_uploaded_without_its_campaign_fails_its_import_naming_the_campaign(
    stack: LocalStack,
) -> None:
    view = uploaded(stack, "loans.json", [RECORD], {})
    assert view["status"] == "FAILED", view
    assert "campaignId" in view["error"] or "campaign-id" in view["error"], view


def test_a_csv_upload_without_its_campaign_is_still_refused_at_once(stack: LocalStack) -> None:
    body = {"kind": "campaign-customers", "filename": "loans.csv", "options": {}}
    answer = call(stack.url, "POST", "/v1/imports/uploads", body=body, headers=KEY)
    assert answer.status == 400, answer.text
    assert "campaign-id" in answer.body["message"] or "campaignId" in answer.body["message"], answer.text


def test_a_row_repeating_a_failed_row_s_key_is_a_duplicate_in_a_request_as_in_a_file(
    stack: LocalStack,
) -> None:
    rows = [{**RECORD, "loan_id": "L-dup-1", "phone_number": "1"}, {**RECORD, "loan_id": "L-dup-1"}]
    in_file = uploaded(stack, "dup.json", rows, {"campaignId": "camp-loans"})
    errors = call(stack.url, "GET", f"/v1/imports/{in_file['importId']}/errors", headers=KEY).body["errors"]
    body = {"campaignId": "camp-loans", "records": rows}
    answer = call(stack.url, "POST", "/api/v1/customers/add/bulk", body=body, headers=KEY)
    assert answer.status == 400, answer.text
    in_request = answer.body["results"]["errors"]
    assert in_request == errors, (in_request, errors)
    assert in_request[1]["message"] == "loan_id: duplicate of row 0", answer.text


def test_a_debt_repeating_a_failed_debt_s_internal_id_is_a_duplicate(stack: LocalStack) -> None:
    debt = {
        "firstname": "Jean",
        "lastname": "Dup",
        "currency": "EUR",
        "email": "j@d.fr",
        "internal_id": "D-dup",
    }
    body = {"debts": [{**debt, "amount": -1}, {**debt, "amount": 10}]}
    answer = call(stack.url, "POST", "/external-api/v1/debts/batch", body=body, headers=KEY)
    assert answer.status == 201, answer.text
    assert answer.body["summary"]["created"] == 0, answer.text
    assert answer.body["failed"][1]["errors"] == {"internal_id": ["duplicate of row 0"]}, answer.text
