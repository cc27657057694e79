"""``make demo``: the whole stack in-process, the demo seed, a sample import of every kind, a summary."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bulk_import.cli_text import counts_line, more_line, row_reference, seed_counts_line
from bulk_import.local.client import ApiResponse, call
from bulk_import.local.stack import LocalStack


def events_dir() -> Path:
    """The ``events/`` folder of the checkout (the demo's sample requests)."""
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "events"
        if (candidate / "seed" / "demo-seed.json").is_file():
            return candidate
    raise FileNotFoundError("events/seed/demo-seed.json not found; run from the repository root")


def send_event(stack: LocalStack, event_file: Path) -> ApiResponse:
    """Replay an API Gateway event file over HTTP against the local stack."""
    event = json.loads(event_file.read_text(encoding="utf-8"))
    headers = {
        k: v for k, v in (event.get("headers") or {}).items() if k.lower() in ("x-api-key", "authorization")
    }
    return call(
        stack.url, event["httpMethod"], event["path"], raw=(event.get("body") or "").encode(), headers=headers
    )


def _print_errors(errors: list[dict[str, Any]], limit: int = 6) -> None:
    for e in errors[:limit]:
        refs = row_reference(e)
        print(f"      row {e['index']}{' (' + refs + ')' if refs else ''}: {e['message']}")
    _more(limit, len(errors), "GET /v1/imports/{importId}/errors")


def _more(shown: int, total: int, where: str = "") -> None:
    """``… and N more`` under a list that was cut."""
    cut = more_line(shown, total, where)
    if cut:
        print(f"      {cut}")


def _print_import(stack: LocalStack, import_id: str, key: dict[str, str]) -> dict[str, Any]:
    """``GET /v1/imports/{importId}``: its status and counts on one line; the view."""
    job = call(stack.url, "GET", f"/v1/imports/{import_id}", headers=key).body or {}
    chunks = job.get("chunks")
    done = f", chunks {chunks['done']}/{chunks['total']}" if chunks else ""
    print(f"      GET /v1/imports/{import_id} -> {job.get('status')}: {counts_line(job.get('counts'))}{done}")
    return job


def _campaign_customers(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    for name, label in (
        ("campaign-customers-clean.json", "clean"),
        ("campaign-customers-messy.json", "partly bad"),
    ):
        resp = send_event(stack, ev / "api" / name)
        body = resp.body or {}
        print(f"  POST /api/v1/customers/add/bulk ({label}) -> {resp.status}: {body.get('message')}")
        results = body.get("results", {})
        names = ("total", "valid", "invalid", "successful", "failed", "batchesProcessed")
        print(f"      {counts_line(results, names)}")
        _print_errors(results.get("errors", []))
        _print_import(stack, body["importId"], key)


def _debts(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    resp = send_event(stack, ev / "api" / "debts-french-batch.json")
    body = resp.body or {}
    print(f"  POST /external-api/v1/debts/batch ({body.get('batch_name')}) -> {resp.status}")
    if resp.status != 201:
        print(f"      {body.get('message', resp.text[:200])}")
        return
    print(f"      {counts_line(body['summary'], ('total', 'created', 'failed', 'skipped', 'credits'))}")
    by_destination: dict[str, list[int]] = {}
    for c in body["created"]:
        if c["destination"]:
            by_destination.setdefault(c["destination"], []).append(c["credits_per_call"])
    destinations = ", ".join(
        f"{dest} x{len(prices)} ({prices[0]} credits/call)" for dest, prices in sorted(by_destination.items())
    )
    print(f"      created by destination: {destinations}")
    for f in body["failed"][:5]:
        reasons = "; ".join(f"{field}: {' / '.join(msgs)}" for field, msgs in f["errors"].items())
        print(f"      failed row {f['index']} (temp_id={f['temp_id']}): {reasons}")
    _more(5, len(body["failed"]))
    for s in body["skipped"]:
        print(f"      skipped row {s['index']}: {s['reason']}")
    _print_import(stack, body["import_id"], key)


def wait_for_job(stack: LocalStack, path: str, key: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """Poll an async job's GET route until it is DONE or FAILED (or the timeout passes)."""
    deadline = time.monotonic() + timeout
    while True:
        body = call(stack.url, "GET", path, headers=key).body or {}
        if body.get("status") in ("DONE", "FAILED") or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def _payments(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    resp = send_event(stack, ev / "api" / "payments-import.json")
    job = resp.body or {}
    print(
        f"  POST /payments/payments/import -> {resp.status}: job {job.get('job_id')} {job.get('status')}, "
        f"{job.get('total')} rows"
    )
    final = wait_for_job(stack, f"/payments/payments/import/{job['job_id']}", key)
    progress = f"{counts_line(final, ('processed', 'failed', 'processing'))}"
    print(f"      chunk worker (SQS) -> {final.get('status')}: {progress}")
    failed = [p for p in final.get("progress", []) if p["status"] == "FAILED"]
    for item in failed[:5]:
        print(f"      row {item['row']} ({item['id']}): {item['error']['message']}")
    _more(5, len(failed))
    _print_import(stack, job["job_id"], key)


def _stored_customer(stack: LocalStack, tenant: str, customer_id: str) -> dict[str, Any]:
    from bulk_import import resources
    from bulk_import.adapters.dynamo_codec import from_item
    from bulk_import.adapters.dynamo_keys import record_pk

    item = (
        stack.session()
        .client("dynamodb")
        .get_item(
            TableName=stack.names[resources.RECORDS_TABLE.env_var],
            Key={"pk": {"S": record_pk(tenant, "customer-profile", customer_id)}, "sk": {"S": "R"}},
        )
    )
    return from_item(item["Item"]) if "Item" in item else {}


def _customers(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    for label in ("create", "same id again: update"):
        resp = send_event(stack, ev / "api" / "customers-single.json")
        body = resp.body or {}
        print(
            f"  POST /customers ({label}) -> {resp.status}: {body.get('id')} {body.get('firstName')} "
            f"{body.get('lastName')}, {body.get('phoneNumber')}, {body.get('timezone')}"
        )
    resp = send_event(stack, ev / "api" / "customers-batch.json")
    job = resp.body or {}
    print(
        f"  POST /customers/batch -> {resp.status}: job {job.get('jobId')} {job.get('status')}, "
        f"{job.get('total')} rows"
    )
    final = wait_for_job(stack, f"/customers/batch/{job['jobId']}", key)
    print(f"      chunk worker (SQS) -> {final.get('status')}: {counts_line(final.get('counts'))}")
    for r in final.get("results", []):
        detail = "; ".join(r["errors"]) if r["errors"] else ""
        print(f"      customer {r['index']} ({r['id']}): {r['status']}{' - ' + detail if detail else ''}")
    # cust-2003 was sent without a timezone: show what was stored for it, straight from DynamoDB.
    resolved = _stored_customer(stack, "acme", "cust-2003")
    print(
        f"      stored cust-2003: timezone {resolved.get('timezone')} "
        f"(resolved offline from zip {resolved.get('zipCode')})"
    )
    synced = call(
        stack.url,
        "POST",
        "/customers",
        body={"id": "12345", "taskType": "reminder", "sync": True},
        headers=key,
    )
    body = synced.body or {}
    print(
        f"  POST /customers (sync from the LMS, id 12345) -> {synced.status}: {body.get('firstName')} "
        f"{body.get('lastName')}, timezone {body.get('timezone')} (from zip {body.get('zipCode')}), "
        f"loans {', '.join(str(loan.get('id')) for loan in body.get('loans', []))}"
    )


def wait_for_tag(stack: LocalStack, key: str, timeout: float = 60) -> str | None:
    """The ``import-id`` tag the file-drop handler puts on a dropped file, once it is there."""
    s3 = stack.session().client("s3", endpoint_url=stack.endpoint_url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        tags = s3.get_object_tagging(Bucket=stack.bucket_name, Key=key)["TagSet"]
        found = {t["Key"]: t["Value"] for t in tags}.get("import-id")
        if found:
            return str(found)
        time.sleep(0.1)
    return None


def download(url: str) -> bytes:
    """GET a presigned URL (of the local emulation)."""
    import urllib.request

    with urllib.request.urlopen(url, timeout=30) as resp:
        return bytes(resp.read())


def _file_drop(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    source = ev / "files" / "debts-relances-fr.csv"
    object_key = "incoming/acme/debts/relances juillet.csv"
    s3 = stack.session().client("s3", endpoint_url=stack.endpoint_url)
    s3.put_object(
        Bucket=stack.bucket_name,
        Key=object_key,
        Body=source.read_bytes(),
        Metadata={"timeline-id": "tl-standard", "timeline-start-mode": "next_day"},
    )
    print(
        f"  put s3://{stack.bucket_name}/{object_key} ({source.name}: French, semicolons, Windows-1252, "
        "an instruction row) with metadata timeline-id=tl-standard, timeline-start-mode=next_day"
    )
    import_id = wait_for_tag(stack, object_key)
    if import_id is None:
        print("      the file was not picked up")
        return
    print(f"      S3 notification -> file-drop queue -> handler: import {import_id} (tag import-id)")
    wait_for_job(stack, f"/v1/imports/{import_id}", key)
    job = _print_import(stack, import_id, key)
    files = job.get("files") or {}
    if "summary" in files:
        summary = json.loads(download(files["summary"]))
        info = summary["file"]
        print(
            f"      summary.json: {info.get('format')} {info.get('encoding')} "
            f"delimiter {info.get('delimiter')!r}, {info.get('rows')} data rows, "
            f"columns {', '.join(info.get('columns') or [])}, "
            f"{summary.get('errorRows')} rows in errors.csv"
        )
    if "errors" in files:
        lines = download(files["errors"]).decode("utf-8-sig").splitlines()
        print("      errors.csv (first lines; cells that could run as formulas start with '):")
        for line in lines[:5]:
            print(f"        {line[:150]}{'…' if len(line) > 150 else ''}")
        _more(5, len(lines), "errors.csv")


def _print_calls(job: dict[str, Any]) -> None:
    calls = job.get("calls", {})
    batches = f"batches {calls.get('batchesDone')}/{calls.get('batches')} · "
    print(
        f"      GET /v1/imports/{job.get('importId')} -> {job.get('status')}, calls {calls.get('status')}: "
        f"{batches}{counts_line(calls, ('requested', 'skipped', 'failed'))}"
    )
    if job.get("error"):
        print(f"      error: {job['error']}")


def _print_call_results(results: dict[str, Any]) -> None:
    names = ("queued", "skipped", "deferred", "batches")
    print(f"      callResults: {results.get('status')}, {counts_line(results, names)}")


def _calls(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    # The import answers once its customers are stored; its GET shows the calls until the workflow is done.
    received = len(stack.calls_received)
    resp = send_event(stack, ev / "api" / "campaign-customers-calls.json")
    body = resp.body or {}
    print(f"  POST /api/v1/customers/add/bulk (leads, initiateCall) -> {resp.status}: {body.get('message')}")
    _print_call_results(body.get("callResults") or {})
    _print_calls(wait_for_job(stack, f"/v1/imports/{body['importId']}", key))
    for event in _events_since(stack, received, body["callResults"]["queued"]):
        d = event["detail"]
        print(
            f"      CallRequested on the bus: {d['customerKey']} {d['phone']} "
            f"(agent {d['agentId']}, disposition {d['dispositionId']})"
        )

    # Enough customers for several batches of 500; every 25th asked not to be called.
    records = [
        {
            "loan_id": f"DEMO-{i:05d}",
            "first_name": "Client",
            "last_name": f"n°{i}",
            "phone_number": f"06 10 {i // 100 % 100:02d} {i % 100:02d} 00",
            "loan_amount": 1500,
            "emi_amount": "62.50",
            "emi_due_date": "2026-12-05",
            **({"doNotCall": True} if i % 25 == 0 else {}),
        }
        for i in range(1_200)
    ]
    received = len(stack.calls_received)
    resp = call(
        stack.url,
        "POST",
        "/api/v1/customers/add/bulk",
        body={
            "campaignId": "camp-loans",
            "records": records,
            "initiateCall": True,
            "callConfig": {"agentId": "agent-042", "dispositionId": "disp-reminder"},
        },
        headers=key,
    )
    body = resp.body or {}
    print(
        f"  POST /api/v1/customers/add/bulk (1,200 loans, initiateCall) -> {resp.status}: {body['message']}"
    )
    _print_call_results(body.get("callResults") or {})
    _print_calls(wait_for_job(stack, f"/v1/imports/{body['importId']}", key))
    events = _events_since(stack, received, body["callResults"]["queued"])
    print(f"      the calls queue (a rule on the bus) received {len(events)} CallRequested events")


def _events_since(stack: LocalStack, start: int, count: int, timeout: float = 30) -> list[dict[str, Any]]:
    """Events the local calls queue received after the first ``start``, once ``count`` arrived."""
    deadline = time.monotonic() + timeout
    while len(stack.calls_received) - start < count and time.monotonic() < deadline:
        time.sleep(0.1)
    return stack.calls_received[start:]


def _lifecycle(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    from bulk_import.local.demo_lifecycle import lifecycle

    # An upload waits for its file: QUEUED until the file comes, so it can be cancelled.
    body = {"kind": "debts", "filename": "later.csv", "options": {"timeline-id": "tl-standard"}}
    upload = call(stack.url, "POST", "/v1/imports/uploads", body=body, headers=key).body or {}
    import_id = upload.get("importId")
    print(f"  POST /v1/imports/uploads (debts) -> {upload.get('status')}: {import_id} waits for its file")
    for label in ("cancel", "cancel again"):
        resp = call(stack.url, "POST", f"/v1/imports/{import_id}/cancel", headers=key)
        said = (resp.body or {}).get("status") or (resp.body or {}).get("message")
        print(f"  POST /v1/imports/{{importId}}/cancel ({label}) -> {resp.status}: {said}")
    # A payments import cancelled with chunks still queued, and the failed rows of another sent again.
    lifecycle(stack, ev, key)


def _deferred_calls(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    """Calls held back by the calling windows and sent once a window opens (``local/demo_calls.py``)."""
    try:
        from bulk_import.local import demo_calls
    except ImportError:  # a version of the package without calling windows
        print("  (calling windows are not in this version)")
        return
    for line in demo_calls.run_partly_deferred_import(stack, key):
        print(f"  {line}")


#: The demo's scenarios, in order: (title, function). Each kind adds its own.
SCENARIOS: list[tuple[str, Callable[[LocalStack, Path, dict[str, str]], None]]] = [
    ("Campaign customers (synchronous)", _campaign_customers),
    ("Call initiation (Step Functions workflow: calls in batches of 500 on EventBridge)", _calls),
    ("Debts (synchronous, French phones, destination pricing)", _debts),
    ("File drop (a CSV put in the bucket: S3 notification, SQS, chunks, result files)", _file_drop),
    ("Payment instructions (asynchronous: S3 payload, SQS chunks, worker)", _payments),
    ("Customers (one synchronous, a batch asynchronous; LMS sync, timezone from zip)", _customers),
    ("The life of an import: cancel, and retry the failed rows", _lifecycle),
    ("Deferred calls (calling windows and caps)", _deferred_calls),
]


def run_demo() -> int:
    """Start the stack, load the demo seed, run every scenario, print what happened, stop."""
    ev = events_dir()
    with LocalStack() as stack:
        seeded = stack.load_seed(ev / "seed" / "demo-seed.json")
        print(f"Local stack: API {stack.url}, AWS emulation {stack.endpoint_url}")
        print(f"Seed loaded: {seed_counts_line(seeded)}")
        key = {"X-API-Key": "acme-secret"}
        unauth = call(stack.url, "GET", "/api/v1/campaigns")
        print(f"  GET /api/v1/campaigns without a key -> {unauth.status}")
        for title, scenario in SCENARIOS:
            print(f"\n== {title}")
            scenario(stack, ev, key)
        docs = call(stack.url, "GET", "/openapi.json")
        print(
            f"\nOpenAPI: GET /openapi.json -> {docs.status}, "
            f"{len((docs.body or {}).get('paths', {}))} paths; browsable at /docs"
        )
    print("\nDemo finished; the local stack is stopped.")
    return 0
