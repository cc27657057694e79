"""Rows with keys and values that real clients send by mistake, over HTTP: each job view still answers."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def payment(**extra: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / "api" / "payments-import.json").read_text(encoding="utf-8"))
    return {**json.loads(event["body"])["items"][0], **extra}


def finished_view(stack: LocalStack, job_id: str) -> Any:
    view = call(stack.url, "GET", f"/payments/payments/import/{job_id}", headers=KEY)
    deadline = time.monotonic() + 60
    while (
        view.status == 200 and view.body["status"] not in ("DONE", "FAILED") and time.monotonic() < deadline
    ):
        time.sleep(0.3)
        view = call(stack.url, "GET", f"/payments/payments/import/{job_id}", headers=KEY)
    return view


@pytest.mark.parametrize("value", [["\x01"], "\x07", {"a": "\x00"}])
def test_an_unnamed_field_with_control_characters_fails_its_row_and_the_job_still_reads(
    stack: LocalStack, value: Any
) -> None:
    sent = call(
        stack.url, "POST", "/payments/payments/import", body={"items": [payment(**{"": value})]}, headers=KEY
    )
    assert sent.status == 202, sent.text
    view = finished_view(stack, sent.body["job_id"])
    assert view.status == 200, view.text[:300]
    (entry,) = view.body["progress"]
    assert entry["status"] == "FAILED"
    assert all(name for name in entry["error"]["fields"]), entry["error"]
