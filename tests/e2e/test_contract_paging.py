"""Paging as a client written from the contract pages, over HTTP against the local stack: every row once,
in order, whatever the page size, and a bad ``limit`` told its range in words.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
PAYMENT = {
    "source": {"type": "group", "id": "grp-main"},
    "target": {"type": "contact", "id": "ct-1"},
    "amount": {"type": "SEND", "amount": 10, "currency": "EUR"},
    "execution": {"date": "2026-12-01T09:00:00Z"},
}
#: Seven items, the odd ones failing on their purpose.
ITEMS = [{**PAYMENT, "id": f"pay-page-{n}", **({"purpose": "x"} if n % 2 else {})} for n in range(7)]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


@pytest.fixture(scope="module")
def job(stack: LocalStack) -> str:
    answer = call(stack.url, "POST", "/payments/payments/import", body={"items": ITEMS}, headers=KEY)
    assert answer.status == 202, answer.text
    job_id = str(answer.body["job_id"])
    deadline = time.monotonic() + 60
    while call(stack.url, "GET", f"/v1/imports/{job_id}", headers=KEY).body["status"] != "DONE":
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.2)
    return job_id


def pages(stack: LocalStack, path: str, field: str, limit: int) -> list[list[Any]]:
    out: list[list[Any]] = []
    cursor = None
    while True:
        query = f"?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        answer = call(stack.url, "GET", path + query, headers=KEY)
        assert answer.status == 200, answer.text
        out.append(answer.body[field])
        cursor = answer.body["nextCursor"]
        if cursor is None:
            return out


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 8, 1000])
def test_the_job_s_progress_pages_give_every_item_once_in_order_and_no_empty_last_page(
    stack: LocalStack, job: str, limit: int
) -> None:
    got = pages(stack, f"/payments/payments/import/{job}", "progress", limit)
    assert [p["row"] for page in got for p in page] == [str(n) for n in range(7)]
    assert all(page for page in got), got


@pytest.mark.parametrize("limit", [1, 3, 4, 1000])
def test_the_import_s_error_pages_give_every_error_once_in_row_order(
    stack: LocalStack, job: str, limit: int
) -> None:
    got = pages(stack, f"/v1/imports/{job}/errors", "errors", limit)
    assert [(e["index"], e["id"]) for page in got for e in page] == [(n, f"pay-page-{n}") for n in (1, 3, 5)]
    assert all(page for page in got), got


@pytest.mark.parametrize(
    ("path", "limit", "message"),
    [
        ("/v1/imports", "0", "query.limit: at least 1"),
        ("/v1/imports", "101", "query.limit: at most 100"),
        ("/v1/imports/{job}/errors", "0", "query.limit: at least 1"),
        ("/v1/imports/{job}/errors", "1001", "query.limit: at most 1000"),
        ("/payments/payments/import/{job}", "10001", "query.limit: at most 10000"),
    ],
)
def test_a_limit_out_of_range_is_told_its_range_in_words(
    stack: LocalStack, job: str, path: str, limit: str, message: str
) -> None:
    answer = call(stack.url, "GET", path.format(job=job) + f"?limit={limit}", headers=KEY)
    assert answer.status == 400, answer.text
    assert answer.body["errors"] == [message], answer.text
