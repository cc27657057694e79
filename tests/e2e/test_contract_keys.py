"""API keys and other one-value headers sent twice, over HTTP against the local stack.

A header line repeated with two values is a request whose meaning is not ours to guess: two API keys are
refused as a credential sent wrong (401, never the tenant of whichever came last), two idempotency keys as a
header given twice (400). The same value twice is that value.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
DEBTS = {
    "debts": [{"firstname": "Jean", "lastname": "Twice", "amount": 5, "currency": "EUR", "email": "j@t.fr"}]
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def send(
    stack: LocalStack, method: str, path: str, lines: list[tuple[str, str]], body: bytes | None = None
) -> tuple[int, Any]:
    """Status and parsed body of a request whose header lines are sent exactly as listed."""
    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.putrequest(method, path)
        for name, value in lines:
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Type", "application/json")
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        return answer.status, json.loads(answer.read() or b"null")
    finally:
        connection.close()


@pytest.mark.parametrize(
    "lines",
    [
        [("X-API-Key", "acme-secret"), ("X-API-Key", "globex-secret")],
        [("Authorization", "Bearer acme-secret"), ("Authorization", "Bearer globex-secret")],
    ],
)
def test_two_api_keys_in_one_header_are_401_not_the_last_key_s_tenant(
    stack: LocalStack, lines: list[tuple[str, str]]
) -> None:
    status, body = send(stack, "GET", "/v1/imports?limit=1", lines)
    assert status == 401, body
    assert body["message"] == "Unauthorized" and body["errors"], body


def test_one_api_key_sent_twice_is_that_key(stack: LocalStack) -> None:
    status, body = send(stack, "GET", "/v1/imports?limit=1", [("X-API-Key", "acme-secret")] * 2)
    assert status == 200, body


def test_two_idempotency_keys_are_400_and_nothing_is_imported(stack: LocalStack) -> None:
    reader = [("X-API-Key", "acme-secret")]
    before = send(stack, "GET", "/v1/imports?kind=debts", reader)[1]["imports"]
    lines = [*reader, ("Idempotency-Key", "first-key"), ("Idempotency-Key", "second-key")]
    status, body = send(stack, "POST", "/external-api/v1/debts/batch", lines, json.dumps(DEBTS).encode())
    assert status == 400, body
    assert "Idempotency-Key" in body["message"] and "once" in body["message"], body
    status, listing = send(stack, "GET", "/v1/imports?kind=debts", reader)
    assert status == 200 and listing["imports"] == before, listing
