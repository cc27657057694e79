"""The weekly cap of calls per phone number on DynamoDB (moto): counted atomically, idempotent, expiring."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from bulk_import import resources
from bulk_import.adapters.dynamo_call_caps import DynamoCallCaps, phone_pk

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
PHONE = "+12125550100"


class _AtomicWrites:
    """DynamoDB checks a write's condition and applies it in one step; moto's in-process backend does
    not lock between the two, so threads that write at once may all pass the same check. Writes go
    one at a time here, as DynamoDB applies them; reads and the time between a read and its write still
    interleave, which is what the cap's protocol must survive."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def put_item(self, **kwargs: Any) -> Any:
        with self._lock:
            return self._client.put_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def caps(aws: dict[str, str]) -> DynamoCallCaps:
    return DynamoCallCaps(_AtomicWrites(boto3.client("dynamodb")), aws[resources.IMPORTS_TABLE.env_var])


def test_two_imports_at_once_never_both_take_the_last_slot(caps: DynamoCallCaps) -> None:
    assert caps.take("acme", [(PHONE, "earlier-1"), (PHONE, "earlier-2")], NOW, 3) == {
        "earlier-1",
        "earlier-2",
    }
    granted: list[set[str]] = []
    start = threading.Barrier(8)

    def one_import(n: int) -> None:
        start.wait()
        granted.append(caps.take("acme", [(PHONE, f"import-{n}")], NOW + timedelta(seconds=1), 3))

    threads = [threading.Thread(target=one_import, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(len(g) for g in granted) == [0] * 7 + [1]
    assert len(caps.recent_calls("acme", PHONE, NOW + timedelta(seconds=2))) == 3


def test_a_phone_gets_at_most_the_cap_in_any_seven_days(caps: DynamoCallCaps) -> None:
    calls = [(PHONE, f"c{n}") for n in range(9)]
    assert caps.take("acme", calls, NOW, 7) == {f"c{n}" for n in range(7)}
    # A week minus a second later the first calls still count; a week later they left the count.
    assert caps.take("acme", [(PHONE, "later")], NOW + timedelta(days=7, seconds=-1), 7) == set()
    assert caps.take("acme", [(PHONE, "later")], NOW + timedelta(days=7), 7) == {"later"}


def test_a_batch_that_runs_again_keeps_its_slots_and_takes_no_more(caps: DynamoCallCaps) -> None:
    first = caps.take("acme", [(PHONE, "a"), (PHONE, "b")], NOW, 2)
    again = caps.take("acme", [(PHONE, "a"), (PHONE, "b")], NOW + timedelta(minutes=5), 2)
    assert first == again == {"a", "b"}
    assert len(caps.recent_calls("acme", PHONE, NOW + timedelta(minutes=6))) == 2


def test_the_cap_is_per_tenant_and_per_number(caps: DynamoCallCaps) -> None:
    assert caps.take("acme", [(PHONE, "a")], NOW, 1) == {"a"}
    assert caps.take("globex", [(PHONE, "b")], NOW, 1) == {"b"}
    assert caps.take("acme", [("+12125550101", "c"), (PHONE, "d")], NOW, 1) == {"c"}


def test_a_numbers_calls_expire_a_week_after_its_latest_call(
    caps: DynamoCallCaps, aws: dict[str, str]
) -> None:
    caps.take("acme", [(PHONE, "a")], NOW, 7)
    caps.take("acme", [(PHONE, "b")], NOW + timedelta(days=2), 7)
    item = boto3.client("dynamodb").get_item(
        TableName=aws[resources.IMPORTS_TABLE.env_var],
        Key={"pk": {"S": phone_pk("acme", PHONE)}, "sk": {"S": "CALLS"}},
    )["Item"]
    expires = datetime.fromtimestamp(int(item["expiresAt"]["N"]), UTC)
    assert NOW + timedelta(days=9) <= expires <= NOW + timedelta(days=9, seconds=2)
