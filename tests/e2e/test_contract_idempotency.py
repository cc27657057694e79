"""Idempotency keys as a client written from the contract retries with them, over HTTP against the stack.

A retry is the same request sent again, however the client spells its path: a route answered with and
without a trailing slash is one route, for its key too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
DEBTS = {
    "debts": [{"firstname": "Jean", "lastname": "Retry", "amount": 5, "currency": "EUR", "email": "j@r.fr"}]
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


@pytest.mark.parametrize("retried_as", ["/external-api/v1/debts/batch/", "/external-api/v1/debts/batch//"])
def test_a_retry_with_a_trailing_slash_replays_the_first_answer(stack: LocalStack, retried_as: str) -> None:
    headers = {**KEY, "Idempotency-Key": str(uuid.uuid4())}
    first = call(stack.url, "POST", "/external-api/v1/debts/batch", body=DEBTS, headers=headers)
    assert first.status == 201, first.text
    again = call(stack.url, "POST", retried_as, body=DEBTS, headers=headers)
    assert again.status == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true", again.headers
    assert again.body["import_id"] == first.body["import_id"], again.text


def test_a_dry_run_upload_sent_with_a_trailing_slash_keeps_no_idempotency_record(stack: LocalStack) -> None:
    headers = {**KEY, "Idempotency-Key": str(uuid.uuid4())}
    dry = {"kind": "debts", "filename": "relances.csv", "dryRun": True}
    first = call(stack.url, "POST", "/v1/imports/uploads/", body=dry, headers=headers)
    assert first.status == 201 and first.body.get("dryRun") is True, first.text
    # Nothing of the dry run was kept: the key is free for the real upload, with another body.
    real = call(stack.url, "POST", "/v1/imports/uploads", body={**dry, "dryRun": False}, headers=headers)
    assert real.status == 201, real.text
    assert real.headers.get("Idempotent-Replayed") is None and "dryRun" not in real.body, real.text
