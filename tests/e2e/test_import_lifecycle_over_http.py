"""The life of an import over HTTP against the local stack, as a client sees it: result files written
when an asynchronous import finishes, a cancel landing while chunks are queued and one is being written,
and retries (of retries) against the tenant's configuration of today.
"""

from __future__ import annotations

import copy
import csv
import io
import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import import resources
from bulk_import.entrypoints import runtime, worker
from bulk_import.local.client import ApiResponse, call
from bulk_import.local.poller import SqsPoller
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
SEED = json.loads((EVENTS / "seed" / "demo-seed.json").read_text(encoding="utf-8"))
KEY = {"X-API-Key": "acme-secret"}
PAYMENTS = "/payments/payments/import"
FINISHED = ("DONE", "FAILED", "CANCELLED")


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[SEED]) as s:
        yield s


def api(stack: LocalStack, method: str, path: str, body: Any = None) -> ApiResponse:
    return call(stack.url, method, path, body=body, headers=KEY)


def payment_items(contacts: list[str]) -> list[dict[str, Any]]:
    """One payment per contact, with fresh ids (a contact other than ct-1 is not authorized)."""
    event = json.loads((EVENTS / "api" / "payments-import-clean.json").read_text(encoding="utf-8"))
    template = json.loads(event["body"])["items"][0]
    run = uuid.uuid4().hex[:8]
    return [
        {**template, "id": f"pay-{run}-{i}", "target": {"type": "contact", "id": contact}}
        for i, contact in enumerate(contacts)
    ]


def send_payments(stack: LocalStack, contacts: list[str]) -> str:
    answer = api(stack, "POST", PAYMENTS, {"items": payment_items(contacts)})
    assert answer.status == 202, answer.text
    return str(answer.body["import_id"])


def wait_for(check: Callable[[], Any], what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def finished_job(stack: LocalStack, import_id: str) -> dict[str, Any]:
    """The payments job view, polled (never the import's own view) until the import is finished."""

    def read() -> dict[str, Any] | None:
        view = api(stack, "GET", f"{PAYMENTS}/{import_id}")
        assert view.status == 200, view.text
        return view.body if view.body["status"] in FINISHED else None

    return dict(wait_for(read, f"import {import_id} to finish"))


def import_view(stack: LocalStack, import_id: str) -> dict[str, Any]:
    view = api(stack, "GET", f"/v1/imports/{import_id}")
    assert view.status == 200, view.text
    return dict(view.body)


def download(url: str) -> list[list[str]]:
    """A result file through its presigned link, as a browser would fetch it."""
    with urllib.request.urlopen(url, timeout=30) as resp:
        return list(csv.reader(io.StringIO(resp.read().decode("utf-8-sig"))))


def stored_object(stack: LocalStack, import_id: str, name: str) -> dict[str, Any] | None:
    s3 = stack.session().client("s3", endpoint_url=stack.endpoint_url)
    try:
        head = s3.head_object(Bucket=stack.bucket_name, Key=f"results/acme/{import_id}/{name}")
    except s3.exceptions.ClientError:
        return None
    return dict(head)


def error_indexes(stack: LocalStack, import_id: str) -> list[int]:
    page = api(stack, "GET", f"/v1/imports/{import_id}/errors")
    assert page.status == 200, page.text
    return sorted({int(e["index"]) for e in page.body["errors"]})


def test_an_asynchronous_imports_files_are_written_when_it_finishes_and_reading_writes_nothing(
    stack: LocalStack,
) -> None:
    import_id = send_payments(stack, ["ct-1", "ct-2", "ct-1"])
    job = finished_job(stack, import_id)
    assert job["status"] == "DONE" and (job["processed"], job["failed"]) == (2, 1), job
    # Before anyone read the import's own view, its files are in the bucket already.
    results, errors = (
        stored_object(stack, import_id, "results.csv"),
        stored_object(stack, import_id, "errors.csv"),
    )
    assert results is not None and errors is not None

    first, second = import_view(stack, import_id), import_view(stack, import_id)
    assert set(first["files"]) == {"results", "errors"} and first["filesExpiresIn"] > 0
    assert {k: v for k, v in first.items() if k != "files"} == {
        k: v for k, v in second.items() if k != "files"
    }
    again = stored_object(stack, import_id, "results.csv")
    assert again is not None and again["ETag"] == results["ETag"]
    assert again["LastModified"] == results["LastModified"]

    rows = download(first["files"]["results"])
    assert rows[0] == ["index", "reference", "status", "storedId"]
    assert [(r[0], r[2]) for r in rows[1:]] == [("0", "created"), ("1", "failed"), ("2", "created")]
    failed = download(first["files"]["errors"])
    assert len(failed) == 2 and failed[1][0] == "1" and json.loads(failed[1][3])["target"]["id"] == "ct-2"


class HeldWrite:
    """Holds the first record write of one import until released: a chunk caught being written."""

    def __init__(self, import_id_of: Callable[[], str | None]) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self._import_id_of = import_id_of
        self._held = False

    def wrap(self, put: Callable[..., Any]) -> Callable[..., Any]:
        def held_put(tenant_id: str, import_id: str, records: Any) -> Any:
            if not self._held and import_id == self._import_id_of():
                self._held = True
                self.entered.set()
                self.release.wait(timeout=60)
            return put(tenant_id, import_id, records)

        return held_put


@pytest.fixture
def paused_chunk_worker(stack: LocalStack) -> Iterator[Callable[[], None]]:
    """Stops the chunk queue's consumer; the function it yields starts it again."""
    poller = next(p for p in stack.pollers if p.name == "chunk-worker")
    poller.stop()

    def resume() -> None:
        sqs = stack.session().client("sqs")
        queue = stack.names[resources.CHUNK_QUEUE_ENV]
        fresh = SqsPoller(
            sqs, queue, worker.handler, batch_size=resources.CHUNK_BATCH_SIZE, name="chunk-worker"
        )
        stack.pollers[stack.pollers.index(poller)] = fresh.start()

    yield resume
    if any(p is poller for p in stack.pollers):
        resume()


def test_a_cancel_while_chunks_are_queued_writes_none_of_them_and_the_chunk_being_written_completes(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch, paused_chunk_worker: Callable[[], None]
) -> None:
    target: dict[str, str] = {}
    held = HeldWrite(lambda: target.get("id"))
    records = runtime.DEPS.get().records
    monkeypatch.setattr(records, "put_records", held.wrap(records.put_records))
    import_id = target["id"] = send_payments(stack, ["ct-1"] * 1000)  # four chunks of 250
    paused_chunk_worker()
    assert held.entered.wait(timeout=60), "no chunk of the import started to be written"

    cancelled = api(stack, "POST", f"/v1/imports/{import_id}/cancel", {})
    assert cancelled.status == 200, cancelled.text
    counts = cancelled.body["counts"]
    assert cancelled.body["status"] == "CANCELLED"
    assert counts["succeeded"] + counts["failed"] + counts["cancelled"] == counts["total"] == 1000
    held.release.set()

    view = wait_for(
        lambda: (v := import_view(stack, import_id))["chunks"]["done"] == 4 and "files" in v and v,
        "every chunk to be accounted for",
    )
    counts = view["counts"]
    assert view["status"] == "CANCELLED"
    assert (counts["succeeded"], counts["failed"], counts["cancelled"]) == (250, 0, 750), counts
    job = api(stack, "GET", f"{PAYMENTS}/{import_id}?limit=1000").body
    assert job["status"] == "CANCELLED" and job["processing"] == 0
    assert (job["processed"], job["failed"], job["cancelled"]) == (250, 0, 750)
    assert len(job["progress"]) == 250 and {p["status"] for p in job["progress"]} == {"SUCCESS"}

    # results.csv lists every row: the 250 of the chunk being written, stored, and 750 never written.
    rows = download(view["files"]["results"])[1:]
    assert [int(r[0]) for r in rows] == list(range(1000))
    assert sum(r[2] == "created" for r in rows) == 250 and sum(r[2] == "cancelled" for r in rows) == 750
    assert all(r[3] == "" for r in rows if r[2] == "cancelled")
    again = api(stack, "POST", f"/v1/imports/{import_id}/cancel", {})
    assert again.status == 409 and "CANCELLED" in again.body["message"], again.text
    retry = api(stack, "POST", f"/v1/imports/{import_id}/retry")
    assert retry.status == 409 and "no failed row" in retry.body["message"], retry.text


def test_a_finished_import_cannot_be_cancelled(stack: LocalStack) -> None:
    import_id = send_payments(stack, ["ct-1"])
    finished_job(stack, import_id)
    answer = api(stack, "POST", f"/v1/imports/{import_id}/cancel", {})
    assert answer.status == 409 and "DONE" in answer.body["message"], answer.text
    assert import_view(stack, import_id)["status"] == "DONE"


def test_a_queued_import_is_not_retried_and_cancelled_chunks_are_never_written(
    stack: LocalStack, paused_chunk_worker: Callable[[], None]
) -> None:
    import_id = send_payments(stack, ["ct-2", "ct-1"])
    retry = api(stack, "POST", f"/v1/imports/{import_id}/retry")
    assert retry.status == 409 and "QUEUED" in retry.body["message"], retry.text
    assert api(stack, "POST", f"/v1/imports/{import_id}/cancel").status == 200
    paused_chunk_worker()
    view = wait_for(lambda: (v := import_view(stack, import_id))["chunks"]["done"] == 1 and v, "the chunk")
    assert view["counts"]["cancelled"] == 2 and view["counts"]["succeeded"] == 0
    assert [r[2] for r in download(view["files"]["results"])[1:]] == ["cancelled", "cancelled"]
    assert download(view["files"]["errors"]) == [["index", "reference", "errors", "row"]]


def authorize(stack: LocalStack, contact: str) -> None:
    seed = copy.deepcopy(SEED)
    for tenant in seed["tenants"]:
        for entry in tenant.get("contacts", []):
            if entry["id"] == contact:
                entry["authorized"] = True
    stack.load_seed(seed)


def test_a_retry_of_a_retry_keeps_the_first_indexes_and_meets_todays_configuration(stack: LocalStack) -> None:
    original = send_payments(stack, ["ct-1", "ct-2", "ct-1", "ct-2", "ct-unknown"])
    assert finished_job(stack, original)["failed"] == 3
    first = api(stack, "POST", f"/v1/imports/{original}/retry")
    assert first.status == 202 and first.body["retryOf"] == original and first.body["total"] == 3, first.text
    job = finished_job(stack, first.body["importId"])
    # Sent again as they were, against the same configuration: they fail again, at their first places.
    assert job["retryOf"] == original and job["failed"] == 3 and job["processed"] == 0, job
    assert error_indexes(stack, first.body["importId"]) == [1, 3, 4]

    try:
        authorize(stack, "ct-2")
        second = api(stack, "POST", f"/v1/imports/{first.body['importId']}/retry")
        assert second.status == 202 and second.body["retryOf"] == first.body["importId"], second.text
        job = finished_job(stack, second.body["importId"])
    finally:
        stack.load_seed(SEED)
    assert job["retryOf"] == first.body["importId"] and (job["processed"], job["failed"]) == (2, 1), job
    assert sorted(int(p["row"]) for p in job["progress"]) == [1, 3, 4]
    assert error_indexes(stack, second.body["importId"]) == [4]
    view = import_view(stack, second.body["importId"])
    assert view["retryOf"] == first.body["importId"]
    rows = download(view["files"]["results"])[1:]
    assert [(r[0], r[2]) for r in rows] == [("1", "created"), ("3", "created"), ("4", "failed")]
    failed = download(view["files"]["errors"])[1:]
    assert [r[0] for r in failed] == ["4"] and json.loads(failed[0][3])["target"]["id"] == "ct-unknown"


def test_the_customers_job_view_shows_its_retry_and_its_cancel(
    stack: LocalStack, paused_chunk_worker: Callable[[], None]
) -> None:
    run = uuid.uuid4().hex[:8]
    event = json.loads((EVENTS / "api" / "customers-batch.json").read_text(encoding="utf-8"))
    good = json.loads(event["body"])["customers"][1]
    customers = [
        {**good, "id": f"c-{run}-0"},
        {**good, "id": f"c-{run}-1", "taskType": "no-such-task", "ssnLastFour": "4321"},
    ]
    sent = api(stack, "POST", "/customers/batch", {"customers": customers})
    assert sent.status == 202, sent.text
    cancelled = api(stack, "POST", f"/v1/imports/{sent.body['jobId']}/cancel")
    assert cancelled.status == 200, cancelled.text
    job = api(stack, "GET", f"/customers/batch/{sent.body['jobId']}").body
    assert job["status"] == "CANCELLED" and job["counts"]["cancelled"] == 2 and job["counts"]["pending"] == 0

    again = api(stack, "POST", "/customers/batch", {"customers": customers})
    paused_chunk_worker()
    wait_for(lambda: import_view(stack, again.body["jobId"])["status"] == "DONE", "the second batch")
    retry = api(stack, "POST", f"/v1/imports/{again.body['jobId']}/retry")
    assert retry.status == 202 and retry.body["total"] == 1, retry.text
    wait_for(lambda: import_view(stack, retry.body["importId"])["status"] == "DONE", "the retry")
    job = api(stack, "GET", f"/customers/batch/{retry.body['importId']}").body
    assert job["retryOf"] == again.body["jobId"] and [r["index"] for r in job["results"]] == [1]
    assert job["counts"]["failed"] == 1 and "cancelled" not in job["counts"]
    failed = download(import_view(stack, retry.body["importId"])["files"]["errors"])
    assert "4321" not in "".join(failed[1]) and failed[1][0] == "1"


def test_an_upload_cancelled_while_it_waits_for_its_file_links_its_empty_results_at_once(
    stack: LocalStack,
) -> None:
    body = {"kind": "debts", "filename": "later.csv", "options": {"timeline-id": "tl-standard"}}
    upload = api(stack, "POST", "/v1/imports/uploads", body)
    assert upload.status == 201, upload.text
    cancelled = api(stack, "POST", f"/v1/imports/{upload.body['importId']}/cancel")
    assert cancelled.status == 200 and cancelled.body["status"] == "CANCELLED", cancelled.text
    assert cancelled.body["counts"]["total"] == 0 == cancelled.body["counts"]["cancelled"]
    assert download(cancelled.body["files"]["results"]) == [["index", "reference", "status", "storedId"]]
    assert api(stack, "POST", f"/v1/imports/{upload.body['importId']}/cancel").status == 409


def test_a_file_sent_after_its_upload_was_cancelled_is_not_imported(stack: LocalStack) -> None:
    body = {"kind": "debts", "filename": "late.csv", "options": {"timeline-id": "tl-standard"}}
    upload = api(stack, "POST", "/v1/imports/uploads", body)
    assert upload.status == 201, upload.text
    import_id = upload.body["importId"]
    assert api(stack, "POST", f"/v1/imports/{import_id}/cancel").status == 200
    text = "firstname,lastname,amount,currency,phone\nAda,Lovelace,120,EUR,+33612345678\n"
    put = urllib.request.Request(upload.body["uploadUrl"], data=text.encode(), method="PUT")
    put.add_header("Content-Type", "text/csv")
    with urllib.request.urlopen(put, timeout=30) as answer:
        assert answer.status == 200
    time.sleep(3)  # the file drop's notification has reached the worker by then on the local stack
    view = import_view(stack, import_id)
    assert view["status"] == "CANCELLED" and view["counts"]["total"] == 0, view
