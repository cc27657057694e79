"""Paths as clients spell them, over HTTP against the local stack: a route answered with a trailing slash is
the same route, with the same body limit.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def body_of(size: int, field: str, envelope: dict[str, object]) -> bytes:
    """``envelope`` with ``field`` padded so that the JSON text is exactly ``size`` bytes."""
    empty = len(json.dumps({**envelope, field: ""}).encode())
    raw = json.dumps({**envelope, field: "x" * (size - empty)}).encode()
    assert len(raw) == size
    return raw


def test_debts_one_byte_over_their_limit_are_413_with_a_trailing_slash_too(stack: LocalStack) -> None:
    raw = body_of(1_000_001, "batch_name", {"debts": [{"firstname": "A"}]})
    answer = call(stack.url, "POST", "/external-api/v1/debts/batch/", raw=raw, headers=KEY)
    assert answer.status == 413, answer.text
    assert "1,000,000" in answer.body["message"], answer.text


def test_one_customer_one_byte_over_its_limit_is_413_with_a_trailing_slash_too(stack: LocalStack) -> None:
    raw = body_of(100_001, "streetAddress2", {"id": "c-slash", "taskType": "collections"})
    answer = call(stack.url, "POST", "/customers/", raw=raw, headers=KEY)
    assert answer.status == 413, answer.text
