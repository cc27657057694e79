"""Idempotency keys in the imports table, on moto: the conditional write decides, TTL cleans up."""

from __future__ import annotations

import json
import os
import random
import string
import threading
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bulk_import.adapters.dynamo_idempotency import MAX_STORED_BODY_BYTES, DynamoIdempotencyStore
from bulk_import.local.resources import create_tables, local_names
from bulk_import.resources import IMPORTS_TABLE
from bulk_import.usecases.idempotency import (
    REPLAYED_HEADER,
    Answer,
    IdempotencyKeyReusedError,
    IdempotencyRecord,
    RecordState,
    RequestInProgressError,
    key_hash,
    run_idempotent,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ROUTE = "POST /api/v1/campaigns"
BODY = {"name": "Spring", "serviceType": "collections"}


@pytest.fixture
def table() -> Iterator[tuple[Any, str]]:
    """The stack's imports table on moto, and a DynamoDB client."""
    with mock_aws():
        names = local_names()
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_tables(ddb, names)
        yield ddb, names[IMPORTS_TABLE.env_var]
    os.environ.pop("AWS_ENDPOINT_URL", None)


class OneWriteAtATime:
    """A DynamoDB client whose calls moto applies one at a time.

    DynamoDB applies each write to an item atomically, its condition included; moto checks a condition
    and then writes, so two threads can both pass the check. The lock gives moto DynamoDB's atomicity
    back, and the race left is the one the conditional write must decide.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.exceptions = client.exceptions
        self.meta = client.meta

    def __getattr__(self, name: str) -> Any:
        call = getattr(self._client, name)

        def serialized(**kwargs: Any) -> Any:
            with self._lock:
                return call(**kwargs)

        return serialized


@pytest.fixture
def store(table: tuple[Any, str]) -> DynamoIdempotencyStore:
    ddb, name = table
    return DynamoIdempotencyStore(OneWriteAtATime(ddb), name)


def items(table: tuple[Any, str]) -> list[dict[str, Any]]:
    ddb, name = table
    found: list[dict[str, Any]] = ddb.scan(TableName=name)["Items"]
    return found


class Handler:
    def __init__(self, status: int = 201, body: str | None = None) -> None:
        self.runs = 0
        self.status = status
        self.body = body

    def __call__(self) -> Answer:
        self.runs += 1
        return (
            self.status,
            self.body or json.dumps({"id": f"cmp-{self.runs}"}),
            {"Content-Type": "application/json"},
        )


def send(
    store: DynamoIdempotencyStore, handler: Any, *, key: str = "k-1", body: Any = BODY, at: datetime = T0
) -> Any:
    return run_idempotent(store, "acme", key, ROUTE, body, at, handler)


def test_a_retry_replays_the_first_answer_from_the_table(store: DynamoIdempotencyStore) -> None:
    handler = Handler()
    first = send(store, handler)
    again = send(store, handler, body={"serviceType": "collections", "name": "Spring"})
    assert handler.runs == 1
    assert (again.status, again.body, again.headers[REPLAYED_HEADER]) == (201, first.body, "true")
    assert again.headers["Content-Type"] == "application/json"
    with pytest.raises(IdempotencyKeyReusedError):
        send(store, handler, body={"name": "Summer"})


def test_the_record_is_one_item_named_by_a_hash_that_expires_through_the_tables_ttl(
    table: tuple[Any, str], store: DynamoIdempotencyStore
) -> None:
    key = "invoice-7781-retry-secret"
    send(store, Handler(), key=key)
    [item] = items(table)
    assert item["pk"]["S"] == f"IDEMP#{key_hash('acme', key)}" and not item["pk"]["S"].startswith("T#")
    assert int(item["expiresAt"]["N"]) == int(T0.timestamp()) + 24 * 3600
    assert key not in json.dumps(item)
    ddb, name = table
    ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expiresAt"


def test_an_expired_item_that_ttl_has_not_deleted_yet_no_longer_holds_the_key(
    table: tuple[Any, str], store: DynamoIdempotencyStore
) -> None:
    handler = Handler()
    send(store, handler)
    later = send(store, handler, at=T0 + timedelta(hours=25))
    assert not later.replayed and handler.runs == 2
    assert len(items(table)) == 1


def test_error_answers_leave_nothing_in_the_table(
    table: tuple[Any, str], store: DynamoIdempotencyStore
) -> None:
    assert send(store, Handler(status=400)).status == 400
    assert items(table) == []
    handler = Handler()
    assert not send(store, handler).replayed and handler.runs == 1


def test_a_large_answer_is_kept_compressed_and_replayed_exactly(
    table: tuple[Any, str], store: DynamoIdempotencyStore
) -> None:
    rows = [{"row": n, "status": "CREATED", "id": f"cus-{n:06d}"} for n in range(20_000)]
    body = json.dumps({"results": rows, "note": "\u00e9\u4e2d"}, ensure_ascii=False)
    assert len(body.encode()) > MAX_STORED_BODY_BYTES
    handler = Handler(status=207, body=body)
    send(store, handler)
    [item] = items(table)
    assert "B" in item["answerBody"]
    again = send(store, handler)
    assert again.replayed and again.body == body and again.status == 207 and handler.runs == 1


def test_an_answer_too_large_even_compressed_is_not_kept_and_frees_the_key(
    table: tuple[Any, str], store: DynamoIdempotencyStore
) -> None:
    noise = "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=600_000))
    handler = Handler(body=json.dumps({"blob": noise}))
    assert send(store, handler).status == 201
    assert items(table) == []
    assert not send(store, handler).replayed and handler.runs == 2


def test_a_request_costs_one_conditional_write_and_one_update_and_a_replay_one_write(
    table: tuple[Any, str], store: DynamoIdempotencyStore
) -> None:
    ddb, _ = table
    calls: Counter[str] = Counter()
    ddb.meta.events.register("before-call.dynamodb", lambda model, **_: calls.update([model.name]))
    rows = json.dumps([{"row": n} for n in range(10_000)])
    send(store, Handler(body=rows), body={"customers": [{"id": n} for n in range(10_000)]})
    assert calls == {"PutItem": 1, "UpdateItem": 1}
    calls.clear()
    send(store, Handler(), body={"customers": [{"id": n} for n in range(10_000)]})
    assert calls == {"PutItem": 1}


def _record(at: int) -> IdempotencyRecord:
    return IdempotencyRecord(
        key_hash=key_hash("acme", "raced"),
        fingerprint="f",
        state=RecordState.IN_PROGRESS,
        started_at=at,
        expires_at=at + 24 * 3600,
        locked_until=at + 15 * 60,
    )


def _race(
    store: DynamoIdempotencyStore, record: IdempotencyRecord, racers: int
) -> list[IdempotencyRecord | None]:
    barrier = threading.Barrier(racers)
    outcomes: list[IdempotencyRecord | None] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        outcome = store.begin(record)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run) for _ in range(racers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.parametrize("attempt", range(5))
def test_of_requests_racing_with_one_key_exactly_one_begins(
    store: DynamoIdempotencyStore, attempt: int
) -> None:
    outcomes = _race(store, _record(int(T0.timestamp())), racers=2 + attempt)
    assert outcomes.count(None) == 1
    assert all(o is not None and o.state is RecordState.IN_PROGRESS for o in outcomes if o is not None)


def test_of_requests_racing_for_an_abandoned_key_exactly_one_takes_it_over(
    store: DynamoIdempotencyStore,
) -> None:
    start = int(T0.timestamp())
    assert store.begin(_record(start)) is None
    assert store.begin(_record(start + 14 * 60)) is not None
    outcomes = _race(store, _record(start + 15 * 60), racers=4)
    assert outcomes.count(None) == 1


def test_the_second_of_two_overlapping_requests_answers_409(store: DynamoIdempotencyStore) -> None:
    def slow_first() -> Answer:
        with pytest.raises(RequestInProgressError):
            send(store, Handler(), at=T0 + timedelta(seconds=30))
        return 202, '{"jobId": "j-1"}', {}

    assert send(store, slow_first).status == 202
    assert send(store, Handler(), at=T0 + timedelta(minutes=1)).body == '{"jobId": "j-1"}'


def test_completing_a_released_key_creates_no_item_without_an_expiry(
    table: tuple[Any, str], store: DynamoIdempotencyStore
) -> None:
    record = _record(int(T0.timestamp()))
    store.begin(record)
    store.release(record.key_hash)
    headers: Mapping[str, str] = {}
    assert store.complete(record.key_hash, 201, "{}", headers) is False
    assert items(table) == []
