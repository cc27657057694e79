"""Calling windows through the local stack over HTTP, as a client sees them: deferred calls are SCHEDULED."""

from __future__ import annotations

import json
import time
import zoneinfo
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def closed_window_in_new_york(now: datetime) -> dict[str, Any]:
    """A one-hour window, every day, that is closed at ``now`` in New York (two hours ahead, or behind)."""
    hour = now.astimezone(zoneinfo.ZoneInfo("America/New_York")).hour
    start = hour + 2 if hour <= 20 else hour - 3
    return {"days": EVERY_DAY, "start": f"{start:02d}:00", "end": f"{start + 1:02d}:00"}


def window_opening_soon_in_new_york(now: datetime) -> tuple[dict[str, Any], datetime]:
    """A window, every day, that opens at the next whole minute in New York at least 3 seconds away."""
    local = now.astimezone(NEW_YORK).replace(second=0, microsecond=0) + timedelta(minutes=1)
    if local - now < timedelta(seconds=3):
        local += timedelta(minutes=1)
    start = local.hour * 60 + local.minute
    end = min(start + 60, 24 * 60)
    window = {
        "days": EVERY_DAY,
        "start": f"{start // 60:02d}:{start % 60:02d}",
        "end": f"{end // 60:02d}:{end % 60:02d}",
    }
    return window, local.astimezone(UTC)


#: A tenant whose customers' window opens within a minute of the stack's start.
SOON: dict[str, Any] = {}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    seed = json.loads((EVENTS / "seed" / "demo-seed.json").read_text())
    now = datetime.now(UTC)
    for tenant in seed["tenants"]:
        if tenant["id"] == "globex":
            tenant["callPolicy"] = {"windows": [closed_window_in_new_york(now)]}
    window, SOON["opens"] = window_opening_soon_in_new_york(now)
    seed["tenants"].append(
        {
            "id": "initech",
            "apiKeys": [{"key": "initech-secret", "scopes": ["customers:write", "imports:read"]}],
            "campaigns": [{"id": "camp-soon", "name": "Soon", "serviceType": "collections"}],
            "callPolicy": {"windows": [window]},
        }
    )
    with LocalStack(seeds=[seed]) as s:
        yield s


def new_york_customers(n: int) -> list[dict[str, Any]]:
    return [
        {
            "loan_id": f"NY-{i}",
            "first_name": "Dana",
            "phone_number": f"+1 (212) 555-01{i:02d}",
            "loan_amount": "1200",
            "emi_amount": "100",
            "emi_due_date": "2026-12-20",
        }
        for i in range(n)
    ]


def post_with_calls(stack: LocalStack, campaign: str, key: dict[str, str], n: int) -> Any:
    body = {
        "campaignId": campaign,
        "records": new_york_customers(n),
        "initiateCall": True,
        "callConfig": {"agentId": "a-1", "dispositionId": "d-1"},
    }
    return call(stack.url, "POST", "/api/v1/customers/add/bulk", body=body, headers=key)


def test_an_import_outside_its_customers_window_reports_its_calls_scheduled(stack: LocalStack) -> None:
    resp = post_with_calls(stack, "camp-emi", GLOBEX, 3)
    assert resp.status == 201, resp.text[:300]
    assert resp.body["callResults"]["status"] == "STARTED"
    deadline = time.monotonic() + 30
    while True:
        job = call(stack.url, "GET", f"/v1/imports/{resp.body['importId']}", headers=GLOBEX).body
        if job["calls"]["status"] != "PENDING" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    calls = job["calls"]
    assert calls["status"] == "SCHEDULED"
    # The records are imported: the import ends DONE while its calls wait for their window.
    while job["status"] == "PROCESSING" and time.monotonic() < deadline:
        time.sleep(0.2)
        job = call(stack.url, "GET", f"/v1/imports/{resp.body['importId']}", headers=GLOBEX).body
    assert job["status"] == "DONE" and job["calls"] == calls | {"status": "SCHEDULED"}
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
    assert "calls SCHEDULED: requested 1 · deferred 1, next window opens 20" in text, text
    assert "CallRequested now: +" in text and "callBy 20" in text, text


def test_serve_publishes_a_deferred_call_when_its_window_opens(stack: LocalStack) -> None:
    key = {"X-API-Key": "initech-secret"}
    resp = post_with_calls(stack, "camp-soon", key, 2)
    assert resp.status == 201, resp.text[:300]
    import_id = resp.body["importId"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job = call(stack.url, "GET", f"/v1/imports/{import_id}", headers=key).body
        if job["calls"]["status"] not in ("PENDING", "RUNNING", "SCHEDULED"):
            break
        time.sleep(0.5)
    assert datetime.now(UTC) >= SOON["opens"]
    assert job["status"] == "DONE" and job["calls"]["requested"] == 2, job
    mine = [e["detail"] for e in stack.calls_received if e["detail"]["importId"] == import_id]
    assert sorted(d["phone"] for d in mine) == ["+12125550100", "+12125550101"]
    assert {datetime.fromisoformat(d["callBy"].replace("Z", "+00:00")) > SOON["opens"] for d in mine} == {
        True
    }
