"""Campaign customers as real clients send them, over HTTP: every row counted failed says why."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
PATH = "/api/v1/customers/add/bulk"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def loan(loan_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "loan_id": loan_id,
        "first_name": "Ada",
        "phone_number": "06 12 34 56 78",
        "loan_amount": "1 234,50",
        "emi_amount": 99.5,
        "emi_due_date": "05-12-2026",
        **extra,
    }


def test_messy_but_valid_values_are_all_added(stack: LocalStack) -> None:
    records = [
        loan("L-c-1"),
        loan("L-c-2", phone_number="+33 (0)6 12 34 56 79", emi_due_date="2026-12-05", loan_amount=0),
        loan("L-c-3", phone_number="0033612345680", emi_due_date="05/12/2026", loan_period="12"),
        loan(" L-c-4 ", first_name="  Zoé ", phone_number="06.12.34.56.81", loan_amount="1234.5"),
    ]
    answer = call(stack.url, "POST", PATH, body={"campaignId": "camp-loans", "records": records}, headers=KEY)
    assert answer.status == 201, answer.text
    assert answer.body["results"]["successful"] == 4 and answer.body["results"]["errors"] == []


@pytest.mark.parametrize(
    "records",
    [
        [loan("L-c-10"), {}],
        [loan("L-c-11"), {"loan_id": "", "first_name": "  ", "phone_number": None}],
        [{}],
    ],
)
def test_every_row_counted_failed_has_its_reason(stack: LocalStack, records: list[dict[str, Any]]) -> None:
    answer = call(stack.url, "POST", PATH, body={"campaignId": "camp-loans", "records": records}, headers=KEY)
    results = answer.body["results"]
    failed_rows = {entry["index"] for entry in results["errors"]}
    assert results["failed"] == len(failed_rows), answer.text
    if answer.status >= 400:
        assert answer.body["errors"], answer.text
