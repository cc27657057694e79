"""Idempotency under concurrency, over HTTP against the local stack as a client sees it.

Two clients that send the same import with the same ``Idempotency-Key`` at the same moment (a retry that
overtakes a slow first attempt) must not import twice: one request runs, the other is told it is still
running (409) or gets the first answer replayed.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.local.client import ApiResponse, call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def campaign_import(rows: int) -> dict[str, object]:
    """A synchronous campaign-customers import of ``rows`` valid customers with fresh loan ids."""
    event = json.loads((EVENTS / "api" / "campaign-customers-clean.json").read_text(encoding="utf-8"))
    body = json.loads(event["body"])
    template = body["records"][0]
    run = uuid.uuid4().hex[:8]
    body["records"] = [{**template, "loan_id": f"L-{run}-{i}"} for i in range(rows)]
    return body


def send_together(
    stack: LocalStack, body: object, headers: dict[str, str], clients: int
) -> list[ApiResponse]:
    """Send the same POST from ``clients`` threads released at once."""
    start = threading.Barrier(clients)
    answers: list[ApiResponse | None] = [None] * clients

    def send(i: int) -> None:
        start.wait()
        answers[i] = call(stack.url, "POST", "/api/v1/customers/add/bulk", body=body, headers=headers)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert all(a is not None for a in answers), "a request never got an answer"
    return [a for a in answers if a is not None]


def test_two_concurrent_posts_with_one_key_import_once(stack: LocalStack) -> None:
    body = campaign_import(200)
    headers = {**KEY, "Idempotency-Key": f"concurrent-{uuid.uuid4().hex}"}
    answers = send_together(stack, body, headers, clients=2)
    statuses = sorted(a.status for a in answers)
    ran = [a for a in answers if a.status < 300 and a.headers.get("Idempotent-Replayed") != "true"]
    assert len(ran) == 1, [(a.status, a.headers.get("Idempotent-Replayed"), a.text[:300]) for a in answers]
    first = ran[0]
    other = next(a for a in answers if a is not first)
    if other.status == 409:
        assert other.body is not None and other.body["message"], other.text
        assert other.body["errors"] == [other.body["message"]], other.text
    else:
        # The first answer, replayed: the same import, not a second one.
        assert other.headers.get("Idempotent-Replayed") == "true", (statuses, other.text[:300])
        assert other.status == first.status and other.body == first.body
    import_id = first.body["importId"]
    job = call(stack.url, "GET", f"/v1/imports/{import_id}", headers=KEY)
    assert job.status == 200, job.text
    assert job.body["counts"]["total"] == 200, job.body
    # Once the first has finished, the key replays its answer: still one import.
    again = call(stack.url, "POST", "/api/v1/customers/add/bulk", body=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true", again.text[:300]
    assert again.body["importId"] == import_id
