"""The life of an import as a new client drives it over HTTP: retries of dry runs, and the bodies that cancel
and retry take."""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import ApiResponse, call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
SEED = json.loads((EVENTS / "seed" / "demo-seed.json").read_text(encoding="utf-8"))
KEY = {"X-API-Key": "acme-secret"}
FINISHED = ("DONE", "FAILED", "CANCELLED")
#: Two debts, the second failing on its amount.
DEBTS_CSV = (
    "firstname,lastname,amount,currency,phone\n"
    "Ada,Lovelace,10,EUR,0612345678\n"
    "Alan,Turing,-5,EUR,0612345679\n"
)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[SEED]) as s:
        yield s


def api(stack: LocalStack, method: str, path: str, body: Any = None) -> ApiResponse:
    return call(stack.url, method, path, body=body, headers=KEY)


def finished(stack: LocalStack, import_id: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = api(stack, "GET", f"/v1/imports/{import_id}")
        assert view.status == 200, view.text
        if view.body["status"] in FINISHED:
            return dict(view.body)
        time.sleep(0.2)
    raise AssertionError(f"import {import_id} did not finish")


def uploaded(stack: LocalStack, text: str, **extra: Any) -> str:
    answer = api(
        stack,
        "POST",
        "/v1/imports/uploads",
        {"kind": "debts", "filename": "debts.csv", "options": {}, **extra},
    )
    assert answer.status == 201, answer.text
    put = urllib.request.Request(answer.body["uploadUrl"], data=text.encode(), method="PUT")
    put.add_header("Content-Type", "text/csv")
    with urllib.request.urlopen(put, timeout=30) as resp:
        assert resp.status == 200
    return str(answer.body["importId"])


def debts_import(stack: LocalStack) -> str:
    debts = [
        {"firstname": "Ada", "lastname": "Lovelace", "amount": 10, "currency": "EUR", "phone": "0612345678"},
        {"firstname": "Alan", "lastname": "Turing", "amount": -5, "currency": "EUR", "phone": "0612345679"},
    ]
    answer = api(stack, "POST", "/external-api/v1/debts/batch", {"debts": debts})
    assert answer.status == 201, answer.text
    return str(answer.body["import_id"])


def test_the_failed_rows_of_a_dry_run_cannot_be_retried_into_a_real_import(stack: LocalStack) -> None:
    import_id = uploaded(stack, DEBTS_CSV, dryRun=True)
    view = finished(stack, import_id)
    assert view["dryRun"] is True and view["counts"]["failed"] == 1
    before = api(stack, "GET", "/v1/imports?kind=debts&limit=100").body["imports"]

    answer = api(stack, "POST", f"/v1/imports/{import_id}/retry")

    assert answer.status == 409, answer.text
    assert "dry run" in answer.body["message"]
    after = api(stack, "GET", "/v1/imports?kind=debts&limit=100").body["imports"]
    assert [i["importId"] for i in after] == [i["importId"] for i in before]


@pytest.mark.parametrize("action", ["cancel", "retry"])
def test_cancel_and_retry_refuse_an_unknown_field_in_their_body(stack: LocalStack, action: str) -> None:
    import_id = debts_import(stack)
    answer = api(stack, "POST", f"/v1/imports/{import_id}/{action}", {"importId": "imp_other"})
    assert answer.status == 400, answer.text
    assert "importId: is not a known field" in answer.body["message"]


def test_a_retry_sent_twice_with_one_idempotency_key_makes_one_new_import(stack: LocalStack) -> None:
    import_id = debts_import(stack)
    headers = {**KEY, "Idempotency-Key": f"retry-{import_id}"}
    first = call(stack.url, "POST", f"/v1/imports/{import_id}/retry", headers=headers)
    again = call(stack.url, "POST", f"/v1/imports/{import_id}/retry", headers=headers)
    assert first.status == 202, first.text
    assert again.status == 202 and again.body == first.body
    assert again.headers.get("Idempotent-Replayed") == "true"


def test_an_api_import_without_a_failed_row_still_links_an_errors_csv_of_one_header_row(
    stack: LocalStack,
) -> None:
    debt = {"firstname": "Ada", "lastname": "Byron", "amount": 10, "currency": "EUR", "phone": "0612345678"}
    answer = api(stack, "POST", "/external-api/v1/debts/batch", {"debts": [debt]})
    assert answer.status == 201, answer.text
    files = finished(stack, answer.body["import_id"]).get("files", {})
    assert "results" in files and "errors" in files, files
    with urllib.request.urlopen(files["errors"], timeout=30) as resp:
        lines = resp.read().decode("utf-8-sig").splitlines()
    assert len(lines) == 1 and lines[0].startswith("index,")
