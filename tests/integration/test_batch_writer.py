"""BatchWriteItem behaviour that moto cannot show: UnprocessedItems retries, backoff, giving up."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import ANY, Stubber

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
    assert [item for item, _ in failed] == [batch[1]]
    assert "still unwritten after 3 attempts" in failed[0][1]


def test_throttling_errors_are_retried_and_other_errors_fail_the_batch(client) -> None:
    writer = BatchWriter(client, sleep=lambda s: None)
    batch = items(2)
    with Stubber(client) as stub:
        stub.add_client_error("batch_write_item", "ProvisionedThroughputExceededException")
        stub.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": ANY})
        assert writer.put("t", batch) == []
        stub.add_client_error("batch_write_item", "ValidationException", "Item size has exceeded the maximum")
        failed = writer.put("t", batch)
    assert len(failed) == 2
    assert failed[0][1] == "ValidationException: Item size has exceeded the maximum"


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
