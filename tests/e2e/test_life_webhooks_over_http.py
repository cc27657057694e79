"""Webhooks of two tenants through the local stack: one tenant's slow endpoint holds up no other's."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
SLOW = {"X-API-Key": "acme-secret"}
FAST = {"X-API-Key": "globex-hooks"}


class Endpoint:
    """A loopback endpoint that answers every POST 204 after ``delay`` seconds, noting when each came."""

    def __init__(self, delay: float) -> None:
        self.arrived: list[tuple[float, dict[str, Any]]] = []
        endpoint = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                endpoint.arrived.append((time.monotonic(), json.loads(body)))
                time.sleep(delay)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    seed = json.loads((EVENTS / "seed" / "demo-seed.json").read_text(encoding="utf-8"))
    globex = next(t for t in seed["tenants"] if t["id"] == "globex")
    globex["apiKeys"].append({"key": "globex-hooks", "scopes": ["customers:write", "webhooks:write"]})
    with LocalStack(seeds=[seed]) as s:
        yield s


def _debts(stack: LocalStack) -> str:
    debt = {"firstname": "Ada", "lastname": "Byron", "amount": 10, "currency": "EUR", "phone": "0612345678"}
    answer = call(stack.url, "POST", "/external-api/v1/debts/batch", body={"debts": [debt]}, headers=SLOW)
    assert answer.status == 201, answer.text
    return str(answer.body["import_id"])


def _customers(stack: LocalStack) -> str:
    record = {
        "loan_id": "G-1",
        "first_name": "Ravi",
        "phone_number": "98765 43210",
        "loan_amount": "1000",
        "emi_amount": "100",
        "emi_due_date": "2026-12-20",
    }
    body = {"campaignId": "camp-emi", "records": [record]}
    answer = call(stack.url, "POST", "/api/v1/customers/add/bulk", body=body, headers=FAST)
    assert answer.status == 201, answer.text
    return str(answer.body["importId"])


def test_a_tenant_whose_endpoint_takes_its_10_seconds_does_not_delay_another_tenant_s_events(
    stack: LocalStack,
) -> None:
    slow, fast = Endpoint(delay=12), Endpoint(delay=0)
    try:
        for endpoint, key in ((slow, SLOW), (fast, FAST)):
            put = {"url": endpoint.url, "events": ["import.completed"]}
            assert call(stack.url, "PUT", "/v1/webhooks", body=put, headers=key).status == 200
        for _ in range(3):
            _debts(stack)
        deadline = time.monotonic() + 20
        while len(slow.arrived) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        sent = time.monotonic()
        import_id = _customers(stack)
        while not fast.arrived and time.monotonic() < sent + 30:
            time.sleep(0.1)
        assert fast.arrived, "the other tenant's event never came"
        came, document = fast.arrived[0]
        assert document["data"]["importId"] == import_id
        waited = came - sent
        assert waited < 6, f"the other tenant's event waited {waited:.1f} s behind the slow endpoint"
    finally:
        slow.close()
        fast.close()
