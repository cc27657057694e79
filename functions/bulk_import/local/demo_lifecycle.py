"""The demo's scenario of an import's life as the payments kind's own job view shows it: a cancel while
chunks wait in the queue, then a retry of the failed rows of a finished import, and its result files."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from bulk_import.cli_text import counts_line
from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

PAYMENTS = "/payments/payments/import"


def _items(ev: Path, contacts: list[str], stem: str) -> list[dict[str, Any]]:
    event = json.loads((ev / "api" / "payments-import-clean.json").read_text(encoding="utf-8"))
    template = json.loads(event["body"])["items"][0]
    stamp = time.time_ns()
    return [
        {**template, "id": f"{stem}-{stamp}-{i}", "target": {"type": "contact", "id": contact}}
        for i, contact in enumerate(contacts)
    ]


def _settled(stack: LocalStack, import_id: str, key: dict[str, str], timeout: float = 120) -> dict[str, Any]:
    """The payments job view once every chunk is accounted for (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        view = call(stack.url, "GET", f"/v1/imports/{import_id}", headers=key).body or {}
        chunks = view.get("chunks") or {}
        finished = view.get("status") in ("DONE", "FAILED", "CANCELLED")
        if (finished and chunks.get("done") == chunks.get("total")) or time.monotonic() > deadline:
            return call(stack.url, "GET", f"{PAYMENTS}/{import_id}?limit=5", headers=key).body or {}
        time.sleep(0.3)


def _line(job: dict[str, Any]) -> str:
    counts = counts_line(job, ("total", "processed", "failed", "cancelled", "processing"))
    retry = f", retryOf {job['retryOf']}" if job.get("retryOf") else ""
    return f"{job.get('status')}: {counts}{retry}"


def lifecycle(stack: LocalStack, ev: Path, key: dict[str, str]) -> None:
    """Cancel a payments import with chunks still queued; retry the failed rows of another one."""
    sent = call(
        stack.url, "POST", PAYMENTS, body={"items": _items(ev, ["ct-1"] * 2000, "pay-cancel")}, headers=key
    )
    job_id = str((sent.body or {}).get("job_id"))
    print(f"  POST {PAYMENTS} (2,000 payments, 8 chunks) -> {sent.status}: job {job_id}")
    resp = call(stack.url, "POST", f"/v1/imports/{job_id}/cancel", headers=key)
    print(
        f"  POST /v1/imports/{{importId}}/cancel at once -> {resp.status}: {(resp.body or {}).get('status')}"
    )
    print(
        f"      GET {PAYMENTS}/{{job_id}} once the queue is drained -> {_line(_settled(stack, job_id, key))}"
    )
    print("      (a chunk being written when the cancel came completes; the chunks after it are not written)")

    contacts = ["ct-1", "ct-2", "ct-1", "ct-unknown"]
    first = call(stack.url, "POST", PAYMENTS, body={"items": _items(ev, contacts, "pay-retry")}, headers=key)
    first_id = str((first.body or {}).get("job_id"))
    print(f"  POST {PAYMENTS} (4 payments, 2 of them failing) -> {_line(_settled(stack, first_id, key))}")
    resp = call(stack.url, "POST", f"/v1/imports/{first_id}/retry", headers=key)
    retry = resp.body or {}
    print(
        f"  POST /v1/imports/{{importId}}/retry -> {resp.status}: "
        f"{retry.get('importId')}, {retry.get('total')} rows sent again"
    )
    if resp.status != 202:
        return
    job = _settled(stack, retry["importId"], key)
    print(f"      GET {PAYMENTS}/{{job_id}} -> {_line(job)}")
    for item in job.get("progress", []):
        why = (item.get("error") or {}).get("message", "")
        print(f"      row {item['row']} ({item['id']}): {item['status']} {why}".rstrip())
    view = call(stack.url, "GET", f"/v1/imports/{retry['importId']}", headers=key).body or {}
    print(f"      result files: {', '.join(sorted(view.get('files') or {})) or 'none'} (presigned links)")
