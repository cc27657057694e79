"""Calling windows through the local stack over HTTP, as a client sees them: deferred calls are SCHEDULED."""

from __future__ import annotations

import json
import time
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import call
from bulk_import.local.demo_calls import run_partly_deferred_import
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
GLOBEX = {"X-API-Key": "globex-secret"}
EVERY_DAY = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def closed_window_in_new_york(now: datetime) -> dict[str, Any]:
    """A one-hour window, every day, that is closed at ``now`` in New York (two hours ahead, or behind)."""
    hour = now.astimezone(zoneinfo.ZoneInfo("America/New_York")).hour
    start = hour + 2 if hour <= 20 else hour - 3
    return {"days": EVERY_DAY, "start": f"{start:02d}:00", "end": f"{start + 1:02d}:00"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    seed = json.loads((EVENTS / "seed" / "demo-seed.json").read_text())
    for tenant in seed["tenants"]:
        if tenant["id"] == "globex":
            tenant["callPolicy"] = {"windows": [closed_window_in_new_york(datetime.now(UTC))]}
    with LocalStack(seeds=[seed]) as s:
        yield s


def test_an_import_outside_its_customers_window_reports_its_calls_scheduled(stack: LocalStack) -> None:
    records = [
        {
            "loan_id": f"NY-{n}",
            "first_name": "Dana",
            "phone_number": f"(212) 555-01{n:02d}",
            "loan_amount": "1200",
            "emi_amount": "100",
            "emi_due_date": "2026-12-20",
        }
        for n in range(3)
    ]
    for record in records:
        record["phone_number"] = "+1 " + record["phone_number"]
    resp = call(
        stack.url,
        "POST",
        "/api/v1/customers/add/bulk",
        body={
            "campaignId": "camp-emi",
            "records": records,
            "initiateCall": True,
            "callConfig": {"agentId": "a-1", "dispositionId": "d-1"},
        },
        headers=GLOBEX,
    )
    assert resp.status == 201, resp.text[:300]
    assert resp.body["callResults"]["status"] == "STARTED"
    deadline = time.monotonic() + 30
    while True:
        job = call(stack.url, "GET", f"/v1/imports/{resp.body['importId']}", headers=GLOBEX).body
        if job["calls"]["status"] != "PENDING" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    calls = job["calls"]
    assert job["status"] == "PROCESSING"
    assert calls["status"] == "SCHEDULED"
    assert (calls["deferred"], calls["requested"], calls["batches"]) == (3, 0, 1)
    opens = datetime.fromisoformat(calls["nextWindowAt"].replace("Z", "+00:00"))
    assert opens > datetime.now(UTC)
    assert opens.astimezone(zoneinfo.ZoneInfo("America/New_York")).minute == 0
    assert calls["skippedBy"] == {"doNotCall": 0, "doNotCallList": 0, "frequency": 0}
    assert not [e for e in stack.calls_received if e["detail"]["importId"] == resp.body["importId"]]


def test_the_demo_runs_an_import_whose_calls_are_partly_deferred(stack: LocalStack) -> None:
    lines = run_partly_deferred_import(stack)
    text = "\n".join(lines)
    assert "POST /api/v1/customers/add/bulk -> 201" in text
    assert "calls SCHEDULED: requested=1 deferred=1 nextWindowAt=20" in text, text
    assert "CallRequested now: +" in text and "callBy 20" in text, text
