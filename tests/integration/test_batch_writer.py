"""BatchWriteItem behaviour that moto cannot show: UnprocessedItems retries, backoff, giving up."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from hypothesis import given, settings
from hypothesis import strategies as st

from bulk_import.adapters.batch_writer import BatchWriter


def items(n: int) -> list[dict]:
    return [{"pk": {"S": f"k{i}"}, "sk": {"S": "R"}} for i in range(n)]


def put(item: dict) -> dict:
    return {"PutRequest": {"Item": item}}


@pytest.fixture
def client():
    return boto3.client("dynamodb", region_name="us-east-1")


def test_unprocessed_items_are_retried_until_written(client) -> None:
    sleeps: list[float] = []
    writer = BatchWriter(client, sleep=sleeps.append, rand=lambda: 1.0)
    batch = items(3)
    with Stubber(client) as stub:
        stub.add_response(
            "batch_write_item",
            {"UnprocessedItems": {"t": [put(batch[2])]}},
            {"RequestItems": {"t": [put(i) for i in batch]}},
        )
        stub.add_response(
            "batch_write_item",
            {"UnprocessedItems": {"t": [put(batch[2])]}},
            {"RequestItems": {"t": [put(batch[2])]}},
        )
        stub.add_response(
            "batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"t": [put(batch[2])]}}
        )
        assert writer.put("t", batch) == []
        stub.assert_no_pending_responses()
    # Capped exponential backoff: 50 ms then 100 ms (jitter pinned to its maximum).
    assert sleeps == [0.05, 0.1]


def test_items_still_unprocessed_after_every_attempt_are_reported_failed(client) -> None:
    writer = BatchWriter(client, max_attempts=3, sleep=lambda s: None)
    batch = items(2)
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response(
                "batch_write_item", {"UnprocessedItems": {"t": [put(batch[1])]}}, {"RequestItems": ANY}
            )
        failed = writer.put("t", batch)
    assert [u.item for u in failed] == [batch[1]]
    assert failed[0].reason == "throttled, still unwritten after 3 attempts"
    assert not failed[0].permanent


def test_throttling_errors_are_retried_until_written(client) -> None:
    writer = BatchWriter(client, sleep=lambda s: None)
    batch = items(2)
    with Stubber(client) as stub:
        stub.add_client_error("batch_write_item", "ProvisionedThroughputExceededException")
        stub.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": ANY})
        assert writer.put("t", batch) == []
        stub.assert_no_pending_responses()


def test_throttling_that_outlasts_the_retries_is_reported_as_worth_sending_again(client) -> None:
    writer = BatchWriter(client, max_attempts=2, sleep=lambda s: None)
    with Stubber(client) as stub:
        stub.add_client_error("batch_write_item", "ProvisionedThroughputExceededException")
        stub.add_client_error("batch_write_item", "InternalServerError", http_status_code=500)
        failed = writer.put("t", items(2))
    assert [(u.reason, u.permanent) for u in failed] == [
        ("InternalServerError, still unwritten after 2 attempts", False)
    ] * 2


class RefusingTable:
    """A table that refuses every call holding a refused item (as DynamoDB does for an item too large)
    and answers the last item of the first ``unprocessed`` calls unprocessed."""

    def __init__(self, refused: set[str], unprocessed: int) -> None:
        self.refused, self.unprocessed = refused, unprocessed
        self.stored: list[str] = []

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 (boto3's parameter name)
        ((table, puts),) = RequestItems.items()
        assert 1 <= len(puts) <= 25
        keys = [p["PutRequest"]["Item"]["pk"]["S"] for p in puts]
        if self.refused & set(keys):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "Item size has exceeded the maximum"}},
                "BatchWriteItem",
            )
        if self.unprocessed and len(puts) > 1:
            self.unprocessed -= 1
            self.stored += keys[:-1]
            return {"UnprocessedItems": {table: puts[-1:]}}
        self.stored += keys
        return {"UnprocessedItems": {}}


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 80),
    refused=st.sets(st.integers(0, 79), max_size=6),
    unprocessed=st.integers(0, 7),
)
def test_refused_items_fail_alone_and_every_other_item_is_written_once(
    n: int, refused: set[int], unprocessed: int
) -> None:
    batch = items(n)
    refused_keys = {f"k{i}" for i in refused if i < n}
    table = RefusingTable(refused_keys, unprocessed)
    failed = BatchWriter(table, sleep=lambda s: None, max_workers=1).put("t", batch)
    assert sorted(u.item["pk"]["S"] for u in failed) == sorted(refused_keys)
    assert all(u.permanent and u.reason.startswith("the record is larger") for u in failed)
    assert sorted(table.stored) == sorted(i["pk"]["S"] for i in batch if i["pk"]["S"] not in refused_keys)


def test_a_failure_of_the_table_itself_is_not_blamed_on_the_items(client) -> None:
    writer = BatchWriter(client, sleep=lambda s: None)
    with Stubber(client) as stub:
        stub.add_client_error("batch_write_item", "ResourceNotFoundException", "Requested resource not found")
        with pytest.raises(ClientError):
            writer.put("t", items(3))


def test_backoff_is_capped_and_jittered() -> None:
    writer = BatchWriter(None, base_delay=0.05, max_delay=2.0, rand=lambda: 1.0)
    assert [writer.backoff(a) for a in range(8)] == [0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    writer.rand = lambda: 0.5
    assert writer.backoff(10) == 1.0


class CountingClient:
    """Counts BatchWriteItem calls and their sizes (moto accepts more than 25; we must not send them)."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    def batch_write_item(self, RequestItems: dict) -> dict:  # noqa: N803 - boto3's name
        (requests,) = RequestItems.values()
        self.sizes.append(len(requests))
        return {"UnprocessedItems": {}}


@pytest.mark.parametrize("n", [1, 25, 26, 999, 1000, 10_000])
def test_n_items_take_exactly_ceil_n_over_25_calls_of_at_most_25(n: int) -> None:
    fake = CountingClient()
    assert BatchWriter(fake).put("t", items(n)) == []
    assert len(fake.sizes) == -(-n // 25)
    assert max(fake.sizes) <= 25
    assert sum(fake.sizes) == n
