"""Listing imports with filters as a client reads the first page, over HTTP against the local stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
DEBT = {"firstname": "Marie", "lastname": "Curie", "amount": "10", "currency": "EUR", "phone": "0612345678"}
#: More imports of another kind than one page's queries read when the page is small.
NEWER = 45


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def test_the_newest_import_of_a_kind_is_on_the_first_page_behind_many_of_another_kind(
    stack: LocalStack,
) -> None:
    debts = call(stack.url, "POST", "/external-api/v1/debts/batch", body={"debts": [DEBT]}, headers=KEY)
    assert debts.status == 201, debts.text
    for n in range(NEWER):
        body = {"customers": [{"id": f"list-{n}", "taskType": "collections"}]}
        assert call(stack.url, "POST", "/customers/batch", body=body, headers=KEY).status == 202
    page = call(stack.url, "GET", "/v1/imports?kind=debts&limit=1", headers=KEY)
    assert page.status == 200, page.text
    assert [i["importId"] for i in page.body["imports"]] == [debts.body["import_id"]], page.text[:500]


@pytest.mark.parametrize(
    "query", ["kind=&status=&limit=20&cursor=", "kind=%20&status=", "kind=debts&status="]
)
def test_empty_filters_a_form_or_generated_client_sends_mean_no_filter(stack: LocalStack, query: str) -> None:
    page = call(stack.url, "GET", f"/v1/imports?{query}", headers=KEY)
    assert page.status == 200, page.text
    every = call(
        stack.url, "GET", "/v1/imports?limit=20" + ("&kind=debts" if "debts" in query else ""), headers=KEY
    )
    assert [i["importId"] for i in page.body["imports"]] == [i["importId"] for i in every.body["imports"]]


@pytest.mark.parametrize(("kind", "status"), [("DEBTS", "done"), (" Debts ", "Done"), ("debts", "DONE")])
def test_filters_written_in_another_case_filter_as_their_own_spelling(
    stack: LocalStack, kind: str, status: str
) -> None:
    debts = call(stack.url, "POST", "/external-api/v1/debts/batch", body={"debts": [DEBT]}, headers=KEY)
    assert debts.status == 201, debts.text
    query = urlencode({"kind": kind, "status": status, "limit": 100})
    page = call(stack.url, "GET", f"/v1/imports?{query}", headers=KEY)
    assert page.status == 200, page.text
    own = call(stack.url, "GET", "/v1/imports?kind=debts&status=DONE&limit=100", headers=KEY)
    assert [i["importId"] for i in page.body["imports"]] == [i["importId"] for i in own.body["imports"]]
    assert debts.body["import_id"] in [i["importId"] for i in page.body["imports"]]
