"""Webhooks through the local stack over HTTP: configure an endpoint, run imports, receive signed events."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks import Webhook

from bulk_import import resources
from bulk_import.entrypoints import worker
from bulk_import.local.client import call
from bulk_import.local.poller import SqsPoller
from bulk_import.local.stack import LocalStack
from bulk_import.local.webhooks import listen

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
HOOKS = {"X-API-Key": "acme-hooks"}
READER = {"X-API-Key": "acme-readonly"}
WRITER_WITHOUT_HOOKS = {"X-API-Key": "globex-secret"}  # writes imports, not webhooks


class Receiver:
    """An endpoint on loopback that keeps every request it gets and answers each with the next of
    ``statuses`` (the last one from then on)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses or (204,))
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if len(receiver.statuses) > 1 else receiver.statuses[0]
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks?source=bulk"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, count: int, timeout: float = 60) -> list[tuple[dict[str, str], bytes]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return list(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _seed() -> dict[str, Any]:
    document = json.loads((EVENTS / "seed" / "demo-seed.json").read_text(encoding="utf-8"))
    acme = document["tenants"][0]
    scopes = ["customers:write", "debts:write", "payments:write", "imports:read", "webhooks:write"]
    acme["apiKeys"].append({"key": "acme-hooks", "scopes": scopes})
    return document


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[_seed()]) as s:
        yield s


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _put(stack: LocalStack, body: dict[str, Any], headers: dict[str, str] = HOOKS) -> Any:
    return call(stack.url, "PUT", "/v1/webhooks", body=body, headers=headers)


def _payments(stack: LocalStack) -> str:
    event = json.loads((EVENTS / "api" / "payments-import-clean.json").read_text(encoding="utf-8"))
    resp = call(stack.url, "POST", event["path"], raw=event["body"].encode(), headers=HOOKS)
    assert resp.status == 202, resp.text[:300]
    return str(resp.body.get("importId") or resp.body["job_id"])


def test_an_async_import_delivers_a_verified_import_completed(stack: LocalStack, receiver: Receiver) -> None:
    put = _put(stack, {"url": receiver.url, "events": ["import.completed"]})
    assert put.status == 200, put.text
    secret = put.body["secret"]
    assert secret.startswith("whsec_")

    import_id = _payments(stack)
    (headers, body), *_ = receiver.wait(1)
    document = Webhook(secret).verify(body, headers)

    assert document["type"] == "import.completed"
    assert document["data"]["importId"] == import_id and document["data"]["status"] == "DONE"
    assert headers["webhook-id"].startswith("msg_")
    assert headers["content-type"] == "application/json"
    time.sleep(2)
    assert len(receiver.requests) == 1, "one delivery per import and event"


def test_the_endpoint_reads_back_without_its_secret_and_needs_its_scope(
    stack: LocalStack, receiver: Receiver
) -> None:
    put = _put(stack, {"url": receiver.url, "events": ["import.failed", "import.cancelled"]})
    assert put.status == 200
    for key in (HOOKS, READER):
        got = call(stack.url, "GET", "/v1/webhooks", headers=key)
        assert got.status == 200
        assert got.body["url"] == receiver.url and got.body["events"] == ["import.failed", "import.cancelled"]
        assert "secret" not in got.body and put.body["secret"] not in got.text
    refused = _put(stack, {"url": receiver.url, "events": ["import.completed"]}, WRITER_WITHOUT_HOOKS)
    assert refused.status == 403
    assert call(stack.url, "DELETE", "/v1/webhooks", headers=WRITER_WITHOUT_HOOKS).status == 403
    assert call(stack.url, "DELETE", "/v1/webhooks", headers=HOOKS).status == 204
    assert call(stack.url, "GET", "/v1/webhooks", headers=HOOKS).status == 404


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://10.0.0.8/hook",
        "https://[::ffff:10.0.0.1]:8443/",
        "http://2852039166/",
        "http://192.168.0.10:8080/",
        "ftp://127.0.0.1/",
        "http://user:pass@127.0.0.1/",
    ],
)
def test_addresses_inside_the_network_are_refused(stack: LocalStack, url: str) -> None:
    resp = _put(stack, {"url": url, "events": ["import.completed"]})
    assert resp.status == 400, resp.text
    assert resp.body["message"].startswith("url: ") and resp.body["errors"]


def test_a_given_secret_is_kept_and_never_echoed_when_refused(stack: LocalStack, receiver: Receiver) -> None:
    mine = "whsec_" + "A" * 40
    bad = _put(stack, {"url": receiver.url, "events": ["import.completed"], "secret": "whsec_tooShort"})
    assert bad.status == 400 and "tooShort" not in bad.text
    unknown = _put(stack, {"url": receiver.url, "events": ["import.done"]})
    assert unknown.status == 400 and "import.done" in unknown.body["message"]
    good = _put(stack, {"url": receiver.url, "events": ["import.completed"], "secret": mine})
    assert good.status == 200 and good.body["secret"] == mine


def test_webhooks_listen_prints_verified_deliveries_and_refuses_forged_ones() -> None:
    secret = "whsec_" + "B" * 40
    out = io.StringIO()
    server = listen(0, secret, out)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        body = json.dumps(
            {
                "type": "import.completed",
                "timestamp": "2026-12-01T10:00:00Z",
                "data": {"importId": "imp_1", "status": "DONE"},
            }
        )
        headers = {"webhook-id": "msg_1", "webhook-timestamp": str(int(time.time()))}
        from datetime import UTC, datetime

        signature = Webhook(secret).sign("msg_1", datetime.now(UTC), body)
        ok = call(url, "POST", "", raw=body.encode(), headers={**headers, "webhook-signature": signature})
        forged = call(
            url, "POST", "", raw=body.encode(), headers={**headers, "webhook-signature": "v1,Zm9yZ2Vk"}
        )
    finally:
        server.shutdown()
        server.server_close()
    assert ok.status == 204 and forged.status == 401
    printed = out.getvalue()
    assert "verified import.completed msg_1 import imp_1 status DONE" in printed
    assert "REFUSED" in printed


def test_a_failed_delivery_is_retried_after_five_seconds_with_the_same_webhook_id(stack: LocalStack) -> None:
    receiver = Receiver(500, 204)
    try:
        secret = _put(stack, {"url": receiver.url, "events": ["import.completed"]}).body["secret"]
        _payments(stack)
        first, second = receiver.wait(2, timeout=90)[:2]
    finally:
        receiver.close()
    assert first[0]["webhook-id"] == second[0]["webhook-id"]
    assert int(second[0]["webhook-timestamp"]) - int(first[0]["webhook-timestamp"]) >= 5
    assert Webhook(secret).verify(second[1], second[0])["type"] == "import.completed"


def test_a_410_gone_disables_the_endpoint(stack: LocalStack) -> None:
    receiver = Receiver(410)
    try:
        _put(stack, {"url": receiver.url, "events": ["import.completed"]})
        _payments(stack)
        receiver.wait(1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            view = call(stack.url, "GET", "/v1/webhooks", headers=HOOKS).body
            if not view["enabled"]:
                break
            time.sleep(0.2)
        assert view["enabled"] is False and "410" in view["disabledReason"]
        _payments(stack)
        time.sleep(3)
        assert len(receiver.requests) == 1
    finally:
        receiver.close()


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"events": ["import.completed"]}, "url"),
        ({"url": "https://hooks.example.com/", "events": "import.completed"}, "events"),
        ({"url": "https://hooks.example.com/", "events": [], "extra": 1}, "extra"),
        ({"url": 42, "events": ["import.completed"]}, "url"),
        ({"url": "https://hooks.example.com/", "events": ["import.completed"], "secret": 7}, "secret"),
    ],
)
def test_a_body_of_the_wrong_shape_answers_400_naming_the_field(
    stack: LocalStack, body: dict[str, Any], named: str
) -> None:
    resp = _put(stack, body)
    assert resp.status == 400, resp.text
    assert named in resp.body["message"] and resp.body["errors"]


def test_a_cancelled_import_delivers_import_cancelled(stack: LocalStack, receiver: Receiver) -> None:
    secret = _put(stack, {"url": receiver.url, "events": ["import.cancelled", "import.completed"]}).body[
        "secret"
    ]
    poller = next(p for p in stack.pollers if p.name == "chunk-worker")
    poller.stop()  # the chunk stays queued, so the import is still QUEUED when it is cancelled
    try:
        import_id = _payments(stack)
        cancelled = call(stack.url, "POST", f"/v1/imports/{import_id}/cancel", body={}, headers=HOOKS)
        assert cancelled.status == 200, cancelled.text
    finally:
        sqs = stack.session().client("sqs")
        fresh = SqsPoller(
            sqs,
            stack.names[resources.CHUNK_QUEUE_ENV],
            worker.handler,
            batch_size=resources.CHUNK_BATCH_SIZE,
            name="chunk-worker",
        )
        stack.pollers[stack.pollers.index(poller)] = fresh.start()
    (headers, body), *_ = receiver.wait(1)
    document = Webhook(secret).verify(body, headers)
    assert document["type"] == "import.cancelled" and document["data"]["importId"] == import_id
    time.sleep(2)
    assert [Webhook(secret).verify(b, h)["type"] for h, b in receiver.requests] == ["import.cancelled"]


def test_a_dropped_file_that_cannot_be_read_delivers_import_failed(
    stack: LocalStack, receiver: Receiver
) -> None:
    secret = _put(stack, {"url": receiver.url, "events": ["import.failed"]}).body["secret"]
    stack.session().client("s3").put_object(
        Bucket=stack.bucket_name, Key="incoming/acme/payments/broken.xlsx", Body=b"this is not a workbook"
    )
    (headers, body), *_ = receiver.wait(1, timeout=90)
    document = Webhook(secret).verify(body, headers)
    assert document["type"] == "import.failed" and document["data"]["status"] == "FAILED"
    assert document["data"]["file"]["name"] == "broken.xlsx"
