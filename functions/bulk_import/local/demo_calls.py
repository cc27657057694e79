"""The demo of calling windows: one import whose calls are partly deferred, on a running local stack.

Two customers are chosen from the current time: one whose local calling window is open now (called at
once) and one whose window is closed (deferred: the workflow waits for the opening, and the import's
``calls`` say ``SCHEDULED``, with ``deferred`` and ``nextWindowAt``). The candidates are phone numbers
around the world, each with a single timezone, under the default windows of their country.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bulk_import.cli_text import counts_line
from bulk_import.local.client import call
from bulk_import.rules.calling import next_window, phone_zone_and_region

if TYPE_CHECKING:
    from bulk_import.local.stack import LocalStack

#: (where, phone number): one of them at least has its window open at any hour, another closed.
CANDIDATES = (
    ("New York", "+12125550123"),
    ("Paris", "+33142685300"),
    ("Mumbai", "+919820012345"),
    ("Tokyo", "+81312345678"),
    ("Los Angeles", "+12135550123"),
    ("Sydney", "+61293744000"),
    ("São Paulo", "+551130031234"),
    ("Auckland", "+6493091234"),
)
DEMO_KEY = {"X-API-Key": "acme-secret"}


def _window(phone: str, now: datetime) -> tuple[datetime, datetime] | None:
    zone, region = phone_zone_and_region(phone)
    if zone is None:
        return None
    return next_window(now, zone, None, region)


def choose_customers(now: datetime) -> tuple[tuple[str, str] | None, tuple[str, str] | None]:
    """One candidate whose window is open at ``now`` and one whose window is closed (None if none is)."""
    open_now = closed = None
    for where, phone in CANDIDATES:
        window = _window(phone, now)
        if window is None:
            continue
        if window[0] <= now and open_now is None:
            open_now = (where, phone)
        elif window[0] > now and closed is None:
            closed = (where, phone)
    return open_now, closed


def _record(n: int, where: str, phone: str) -> dict[str, Any]:
    return {
        "loan_id": f"WINDOW-{n}",
        "first_name": f"Client in {where}",
        "phone_number": phone,
        "loan_amount": 900,
        "emi_amount": "75.00",
        "emi_due_date": "2026-12-15",
    }


def _clock(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_partly_deferred_import(
    stack: LocalStack, key: dict[str, str] | None = None, timeout: float = 30
) -> list[str]:
    """Import two customers with calls, one inside their window and one outside; describe what happened.

    Parameters
    ----------
    stack
        A started local stack with the demo seed (campaign ``camp-loans`` of tenant ``acme``).
    key
        The API key header (default: the demo seed's ``acme`` key).
    timeout
        Seconds to wait for the call stage to schedule the deferred call.

    Returns
    -------
    list of str
        Printable lines: the two customers and their windows, the answer's ``callResults``, the import's
        ``calls`` (``SCHEDULED``, one deferred, ``nextWindowAt``), and the event of the customer called now.
    """
    key = key or DEMO_KEY
    now = datetime.now(UTC)
    open_now, closed = choose_customers(now)
    chosen = [c for c in (open_now, closed) if c is not None]
    lines = [f"It is {_clock(now)}."]
    for label, customer in (("open now", open_now), ("closed", closed)):
        if customer is None:
            lines.append(f"  no candidate has its window {label} at this hour")
            continue
        window = _window(customer[1], now)
        assert window is not None
        what = f"open until {_clock(window[1])}" if label == "open now" else f"opens {_clock(window[0])}"
        lines.append(f"  {customer[0]} {customer[1]}: calling window {what}")
    received = len(stack.calls_received)
    resp = call(
        stack.url,
        "POST",
        "/api/v1/customers/add/bulk",
        body={
            "campaignId": "camp-loans",
            "records": [_record(n, where, phone) for n, (where, phone) in enumerate(chosen)],
            "initiateCall": True,
            "callConfig": {"agentId": "agent-window", "dispositionId": "disp-window"},
        },
        headers=key,
    )
    body = resp.body or {}
    lines.append(f"POST /api/v1/customers/add/bulk -> {resp.status}: {body.get('message')}")
    results = body.get("callResults") or {}
    lines.append(
        f"  callResults {results.get('status')}: "
        + counts_line(results, ("queued", "deferred", "skipped", "batches"))
    )
    if "importId" not in body:
        return lines
    calls = _settled_calls(stack, body["importId"], key, timeout, called_now=int(open_now is not None))
    lines.append(
        f"GET /v1/imports/{body['importId']} -> calls {calls.get('status')}: "
        + counts_line(calls, ("requested", "deferred"))
        + f", next window opens {calls.get('nextWindowAt')}"
    )
    deadline = time.monotonic() + 10
    mine: list[dict[str, Any]] = []
    while time.monotonic() < deadline and len(mine) < (open_now is not None):
        mine = [e for e in stack.calls_received[received:] if e["detail"]["importId"] == body["importId"]]
        time.sleep(0.1)
    for event in mine:
        d = event["detail"]
        lines.append(f"  CallRequested now: {d['phone']} callBy {d.get('callBy')}")
    if closed is not None:
        lines.append(f"  {closed[0]}'s call waits in the workflow until its window opens (no Lambda running)")
    return lines


def _settled_calls(
    stack: LocalStack, import_id: str, key: dict[str, str], timeout: float, called_now: int
) -> dict[str, Any]:
    """The import's ``calls`` once those callable now were requested and the others wait (or it ended)."""
    deadline = time.monotonic() + timeout
    calls: dict[str, Any] = {}
    while time.monotonic() < deadline:
        calls = (call(stack.url, "GET", f"/v1/imports/{import_id}", headers=key).body or {}).get("calls", {})
        if calls.get("status") in ("DONE", "FAILED", "CANCELLED"):
            return calls
        if calls.get("status") == "SCHEDULED" and calls.get("requested", 0) >= called_now:
            return calls
        time.sleep(0.2)
    return calls
