"""Whole flows through the local stack over HTTP: the same handlers, moto, SQS pollers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bulk_import.local.client import call
from bulk_import.local.demo import send_event, wait_for_job
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
DAYS = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # The demo tenants, callable at any hour: these flows are about the workflow, not calling windows (whose
    # defaults would make the calls of French numbers wait outside 10:00-13:00 and 14:00-20:00 in Paris).
    seed = json.loads((EVENTS / "seed" / "demo-seed.json").read_text(encoding="utf-8"))
    for tenant in seed["tenants"]:
        tenant["callPolicy"] = {"windows": [{"days": DAYS, "start": "00:00", "end": "24:00"}]}
    with LocalStack() as s:
        s.load_seed(seed)
        yield s


def every_page(stack: LocalStack, path: str, field: str) -> list[dict[str, Any]]:
    """Every entry of a job view's paginated ``field``, following ``nextCursor`` as a client does."""
    entries: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = call(stack.url, "GET", path + (f"?cursor={quote(cursor)}" if cursor else ""), headers=KEY)
        assert page.status == 200, page.text[:300]
        entries.extend(page.body[field])
        cursor = page.body.get("nextCursor")
        if not cursor:
            return entries


def test_keys_are_required_and_scoped(stack: LocalStack) -> None:
    assert call(stack.url, "GET", "/api/v1/campaigns").status == 401
    assert call(stack.url, "GET", "/api/v1/campaigns", headers={"X-API-Key": "nope"}).status == 401
    readonly = {"Authorization": "Bearer acme-readonly"}
    assert call(stack.url, "GET", "/api/v1/campaigns", headers=readonly).status == 403
    listed = call(stack.url, "GET", "/api/v1/campaigns", headers={"Authorization": "Bearer acme-secret"})
    assert listed.status == 200 and {c["id"] for c in listed.body["campaigns"]} >= {
        "camp-loans",
        "camp-leads",
    }
    assert call(stack.url, "GET", "/openapi.json").status == 200


def test_campaign_customers_are_stored_and_their_import_is_readable(stack: LocalStack) -> None:
    resp = send_event(stack, EVENTS / "api" / "campaign-customers-messy.json")
    assert resp.status == 207
    import_id = resp.body["importId"]
    job = call(stack.url, "GET", f"/v1/imports/{import_id}", headers=KEY)
    assert job.status == 200 and job.body["counts"]["succeeded"] == resp.body["results"]["successful"]
    errors = call(stack.url, "GET", f"/v1/imports/{import_id}/errors?limit=3", headers=KEY).body
    assert len(errors["errors"]) == 3 and errors["nextCursor"]
    other = call(stack.url, "GET", f"/v1/imports/{import_id}", headers={"X-API-Key": "globex-secret"})
    assert other.status == 404


def test_customers_with_calls_go_through_the_workflow_to_the_bus(stack: LocalStack) -> None:
    resp = send_event(stack, EVENTS / "api" / "campaign-customers-calls.json")
    assert resp.status == 201
    results = resp.body["callResults"]
    assert (results["status"], results["batches"], results["queued"], results["skipped"]) == (
        "STARTED",
        1,
        3,
        1,
    )
    imp = wait_for_job(stack, f"/v1/imports/{resp.body['importId']}", KEY)
    assert imp["status"] == "DONE"
    assert imp["calls"] == {
        "status": "DONE",
        "batches": 1,
        "batchesDone": 1,
        "requested": 3,
        "skipped": 1,
        "failed": 0,
        "deferred": 0,
        "nextWindowAt": None,
        "skippedBy": {"doNotCall": 1, "doNotCallList": 0, "frequency": 0},
        "executionId": results["executionId"],
    }
    # The workflow itself ends well, not only the import it updated.
    machine = stack.session().client("stepfunctions")
    deadline = time.monotonic() + 10
    while (status := machine.describe_execution(executionArn=results["executionId"])["status"]) == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert status == "SUCCEEDED"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [e for e in stack.calls_received if e["detail"]["importId"] == resp.body["importId"]]
        if len(mine) == 3:
            break
        time.sleep(0.1)
    assert sorted(e["detail"]["customerRef"]["lead_id"] for e in mine) == ["LD-2001", "LD-2002", "LD-2004"]


def test_a_payments_import_reaches_done_by_itself(stack: LocalStack) -> None:
    resp = send_event(stack, EVENTS / "api" / "payments-import.json")
    assert resp.status == 202 and resp.body["status"] == "QUEUED"
    view = f"/payments/payments/import/{resp.body['job_id']}"
    final = wait_for_job(stack, view, KEY)
    assert final["status"] == "DONE"
    progress = every_page(stack, view, "progress")
    assert final["total"] == len(progress) == final["processed"] + final["failed"]
    assert {p["status"] for p in progress} == {"SUCCESS", "FAILED"}


def test_a_large_payments_import_is_chunked_and_counted_exactly(stack: LocalStack) -> None:
    template = json.loads(json.loads((EVENTS / "api" / "payments-import-clean.json").read_text())["body"])[
        "items"
    ][0]
    items = [{**template, "id": f"e2e-{i:05d}"} for i in range(2_000)]
    items.append({**template, "id": "e2e-00007"})  # a duplicate, in another chunk
    resp = call(stack.url, "POST", "/payments/payments/import", body={"items": items}, headers=KEY)
    assert resp.status == 202
    view = f"/payments/payments/import/{resp.body['job_id']}"
    final = wait_for_job(stack, view, KEY, timeout=300)
    assert final["status"] == "DONE"
    assert (final["total"], final["processed"], final["failed"]) == (2_001, 2_000, 1)
    (dup,) = [p for p in every_page(stack, view, "progress") if p["status"] == "FAILED"]
    assert dup["row"] == "2000" and "duplicate of row 7" in dup["error"]["message"]
    imp = call(stack.url, "GET", f"/v1/imports/{resp.body['job_id']}", headers=KEY).body
    assert imp["chunks"] == {"total": 9, "done": 9}


def test_ten_thousand_customers_in_one_batch_complete_with_a_result_each(stack: LocalStack) -> None:
    customers = [
        {
            "id": f"e2e-{i:05d}",
            "taskType": "reminder",
            "firstName": "Test",
            "lastName": f"Customer {i}",
            "phoneNumber": f"(415) 555-{i:04d}",
            "streetAddress1": f"{i} Main St",
            "city": "San Francisco",
            "state": "CA",
            "zipCode": "94102",  # no timezone: resolved from the zip for every one
        }
        for i in range(10_000)
    ]
    customers[42]["birthday"] = "2999-01-01"
    resp = call(stack.url, "POST", "/customers/batch", body={"customers": customers}, headers=KEY)
    assert resp.status == 202 and resp.body["total"] == 10_000
    # Poll the import's status (one item), not the job view: on moto, listing 10,000 results takes
    # seconds, and polling it would slow the workers it waits for.
    imp = wait_for_job(stack, f"/v1/imports/{resp.body['importId']}", KEY, timeout=300)
    assert imp["status"] == "DONE"
    view = f"/customers/batch/{resp.body['jobId']}"
    final = call(stack.url, "GET", view, headers=KEY).body
    assert final["status"] == "DONE"
    assert final["counts"] == {"total": 10_000, "created": 9_999, "updated": 0, "failed": 1, "pending": 0}
    results = every_page(stack, view, "results")
    assert [r["index"] for r in results] == list(range(10_000))
    assert results[42]["errors"] == ["birthday: must not be in the future"]


def test_a_customer_is_created_then_updated(stack: LocalStack) -> None:
    first = send_event(stack, EVENTS / "api" / "customers-single.json")
    second = send_event(stack, EVENTS / "api" / "customers-single.json")
    assert (first.status, second.status) == (201, 200)
    assert first.body == second.body and first.body["phoneNumber"] == "+12125550142"


def test_bad_requests_never_500(stack: LocalStack) -> None:
    for path in (
        "/api/v1/customers/add/bulk",
        "/external-api/v1/debts/batch",
        "/payments/payments/import",
        "/customers/batch",
        "/customers",
    ):
        assert call(stack.url, "POST", path, raw=b"{oops", headers=KEY).status == 400
        assert call(stack.url, "POST", path, body=[], headers=KEY).status == 400
        assert call(stack.url, "POST", path, raw=b"x" * 6_000_001, headers=KEY).status == 413


def _s3(stack: LocalStack) -> Any:
    return stack.session().client("s3", endpoint_url=stack.endpoint_url)


def test_a_file_copied_into_the_bucket_is_imported_by_itself(stack: LocalStack) -> None:
    from bulk_import.local.demo import download, wait_for_tag

    key = "incoming/acme/debts/relances juillet.csv"
    _s3(stack).upload_file(
        str(EVENTS / "files" / "debts-relances-fr.csv"),
        stack.bucket_name,
        key,
        ExtraArgs={"Metadata": {"timeline-id": "tl-gentle"}},
    )
    import_id = wait_for_tag(stack, key)
    assert import_id is not None
    job = wait_for_job(stack, f"/v1/imports/{import_id}", KEY)
    assert job["status"] == "DONE" and job["source"] == "file"
    assert (job["counts"]["succeeded"], job["counts"]["failed"], job["counts"]["skipped"]) == (7, 5, 2)
    summary = json.loads(download(job["files"]["summary"]))
    assert summary["options"]["timeline_id"] == "tl-gentle" and summary["errorRows"] == 5
    report = download(job["files"]["errors"]).decode("utf-8-sig").splitlines()
    assert len(report) == 6 and report[0].startswith("index;Prénom")


def test_a_campaign_customers_file_with_initiate_call_requests_the_calls(stack: LocalStack) -> None:
    from bulk_import.local.demo import wait_for_tag

    rows = ["lead_id;first_name;phone_number;lead_date;do not call"]
    rows += [
        f"FILE-{i:03d};Client {i};06 20 00 {i // 100:02d} {i % 100:02d};2026-11-0{1 + i % 9};"
        for i in range(40)
    ]
    rows[5] = rows[5] + "yes"
    key = "incoming/acme/campaign-customers/leads-novembre.csv"
    _s3(stack).put_object(
        Bucket=stack.bucket_name,
        Key=key,
        Body=("\n".join(rows) + "\n").encode(),
        Metadata={
            "campaign-id": "camp-leads",
            "initiate-call": "true",
            "agent-id": "agent-file",
            "disposition-id": "disp-file",
        },
    )
    import_id = wait_for_tag(stack, key)
    assert import_id is not None
    job = wait_for_job(stack, f"/v1/imports/{import_id}", KEY)
    assert job["status"] == "DONE", job.get("error")
    assert job["counts"]["succeeded"] == 40
    assert (job["calls"]["status"], job["calls"]["requested"], job["calls"]["skipped"]) == ("DONE", 39, 1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mine = [e for e in stack.calls_received if e["detail"]["importId"] == import_id]
        if len(mine) == 39:
            break
        time.sleep(0.1)
    assert len(mine) == 39
    assert {e["detail"]["agentId"] for e in mine} == {"agent-file"}
    assert "files" in job and set(job["files"]) == {"summary", "errors", "results"}
