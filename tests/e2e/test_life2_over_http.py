"""The life of an import as a new client drives it over HTTP, second round: the result files of uploads
that end FAILED, and a cancel that lands while a finished file import writes its result files."""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.e2e.test_life_webhooks_over_http import Endpoint

from bulk_import.engine import workflow
from bulk_import.local.client import ApiResponse, call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
SEED = json.loads((EVENTS / "seed" / "demo-seed.json").read_text(encoding="utf-8"))
KEY = {"X-API-Key": "acme-secret"}
FINISHED = ("DONE", "FAILED", "CANCELLED")


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


def uploaded(stack: LocalStack, name: str, data: bytes, kind: str = "debts", **options: str) -> str:
    answer = api(stack, "POST", "/v1/imports/uploads", {"kind": kind, "filename": name, "options": options})
    assert answer.status == 201, answer.text
    put = urllib.request.Request(answer.body["uploadUrl"], data=data, method="PUT")
    with urllib.request.urlopen(put, timeout=30) as resp:
        assert resp.status == 200
    return str(answer.body["importId"])


def fetched(url: str) -> list[list[str]]:
    with urllib.request.urlopen(url, timeout=30) as resp:
        text = resp.read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


UNREADABLE = {
    "empty.csv": b"",
    "header-only.csv": b"firstname,lastname,amount,currency,phone\n",
    "not-a-workbook.xlsx": b"firstname,lastname\n",
    "object.json": b'{"rows": []}',
    "wide.csv": ("," * 20_000 + "\n").encode(),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE))
def test_an_upload_that_cannot_be_read_links_an_errors_csv_of_its_header_row_like_every_finished_import(
    stack: LocalStack, name: str
) -> None:
    view = finished(stack, uploaded(stack, name, UNREADABLE[name], **{"timeline-id": "tl-standard"}))
    assert view["status"] == "FAILED" and view["error"]
    assert {"results", "errors"} <= set(view.get("files") or {}), view.get("files")
    assert fetched(view["files"]["results"]) == [["index", "reference", "status", "storedId"]]
    errors = fetched(view["files"]["errors"])
    assert len(errors) == 1 and "errors" in errors[0]


def delivered(endpoint: Endpoint) -> list[tuple[str, str]]:
    """The type and import of each delivery the endpoint received, in order."""
    return [(body["type"], body["data"]["importId"]) for _, body in endpoint.arrived]


DEBTS_CSV = (
    b"firstname,lastname,amount,currency,phone\n"
    b"Ada,Lovelace,10,EUR,0612345678\n"
    b"Alan,Turing,-5,EUR,0612345679\n"
)


def test_a_cancel_landing_while_a_finished_file_import_writes_its_files_leaves_it_cancelled(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = Endpoint(delay=0)
    events = ["import.completed", "import.failed", "import.cancelled"]
    assert api(stack, "PUT", "/v1/webhooks", {"url": endpoint.url, "events": events}).status == 200
    cancels: list[ApiResponse] = []
    write_results_csv = workflow.write_results_csv

    def cancelled_meanwhile(deps: Any, job: Any, *args: Any, **kwargs: Any) -> str:
        # Every row is accounted for and the finalization writes the result files (seconds for a large
        # file): the person presses cancel now.
        cancels.append(api(stack, "POST", f"/v1/imports/{job.import_id}/cancel"))
        return write_results_csv(deps, job, *args, **kwargs)

    monkeypatch.setattr(workflow, "write_results_csv", cancelled_meanwhile)
    try:
        import_id = uploaded(stack, "relances.csv", DEBTS_CSV, **{"timeline-id": "tl-standard"})
        view = finished(stack, import_id)
        time.sleep(1)  # the finalization ends after the cancel answered
        view = api(stack, "GET", f"/v1/imports/{import_id}").body
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and ("import.cancelled", import_id) not in delivered(endpoint):
            time.sleep(0.2)
        time.sleep(1)
    finally:
        endpoint.close()
        api(stack, "DELETE", "/v1/webhooks")

    assert len(cancels) == 1 and cancels[0].status == 200, cancels[0].text
    assert cancels[0].body["status"] == "CANCELLED"
    assert view["status"] == "CANCELLED", "the cancel answered 200, so the import stays cancelled"
    assert view["counts"]["succeeded"] == 1 and view["counts"]["failed"] == 1
    assert {"errors", "results"} <= set(view.get("files") or {})
    assert [e for e in delivered(endpoint) if e[1] == import_id] == [("import.cancelled", import_id)]


def test_the_summary_of_a_file_import_cancelled_while_its_files_are_written_says_cancelled(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_results_csv = workflow.write_results_csv

    def cancelled_meanwhile(deps: Any, job: Any, *args: Any, **kwargs: Any) -> str:
        assert api(stack, "POST", f"/v1/imports/{job.import_id}/cancel").status == 200
        return write_results_csv(deps, job, *args, **kwargs)

    monkeypatch.setattr(workflow, "write_results_csv", cancelled_meanwhile)
    import_id = uploaded(stack, "relances.csv", DEBTS_CSV, **{"timeline-id": "tl-standard"})
    finished(stack, import_id)
    time.sleep(1)  # the finalization ends after the cancel answered
    view = api(stack, "GET", f"/v1/imports/{import_id}").body
    assert view["status"] == "CANCELLED"
    with urllib.request.urlopen(view["files"]["summary"], timeout=30) as resp:
        summary = json.loads(resp.read())
    assert summary["status"] == "CANCELLED"
    assert summary["errorRows"] == 1


def test_a_synchronous_import_cancelled_while_its_request_writes_its_rows_stays_cancelled_and_calls_nobody(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulk_import.usecases import sync_imports

    persist = sync_imports.persist
    cancels: list[ApiResponse] = []

    def cancelled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        listed = api(stack, "GET", "/v1/imports?status=PROCESSING&kind=campaign-customers&limit=1")
        (running,) = listed.body["imports"]
        cancels.append(api(stack, "POST", f"/v1/imports/{running['importId']}/cancel"))
        return persist(*args, **kwargs)

    monkeypatch.setattr(sync_imports, "persist", cancelled_meanwhile)
    record = {
        "loan_id": "L-SYNC-1",
        "first_name": "Ada",
        "phone_number": "+12125550147",
        "loan_amount": 100,
        "emi_amount": 10,
        "emi_due_date": "2026-12-20",
    }
    body = {
        "campaignId": "camp-loans",
        "records": [record],
        "initiateCall": True,
        "callConfig": {"agentId": "agent-1", "dispositionId": "disp-1"},
    }
    answer = api(stack, "POST", "/api/v1/customers/add/bulk", body)

    assert answer.status == 201, answer.text  # its rows were written: the answer says so
    assert answer.body["callResults"]["status"] == "CANCELLED"
    assert len(cancels) == 1 and cancels[0].status == 200, cancels[0].text
    time.sleep(2)  # a call stage, were one started, would have requested its call by now
    view = api(stack, "GET", f"/v1/imports/{answer.body['importId']}").body
    assert view["status"] == "CANCELLED"
    assert view["counts"]["succeeded"] == 1
    assert view["calls"]["status"] == "NOT_REQUESTED"
    assert not [c for c in stack.calls_received if c["detail"]["importId"] == answer.body["importId"]]
