"""BatchWriteItem behaviour that moto cannot show: UnprocessedItems retries, backoff, giving up."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
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


def test_an_item_too_large_fails_alone_and_the_rest_of_its_batch_is_written(client) -> None:
    batch = items(3)
    refused = batch[1]

    def answer(request: dict) -> None:
        sent = [r["PutRequest"]["Item"] for r in request["RequestItems"]["t"]]
        if refused in sent:
            stub.add_client_error(
                "batch_write_item", "ValidationException", "Item size has exceeded the maximum allowed size"
            )
        else:
            stub.add_response("batch_write_item", {"UnprocessedItems": {}})

    writer = BatchWriter(client, sleep=lambda s: None)
    written: list[dict] = []

    def record(params: dict, **kwargs: object) -> None:
        answer(params)
        written.append(params)

    client.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", record)
    with Stubber(client) as stub:
        failed = writer.put("t", batch)
    assert [(u.item, u.reason, u.permanent) for u in failed] == [
        (refused, "the record is larger than DynamoDB accepts (400 KB an item)", True)
    ]
    stored = [
        r["PutRequest"]["Item"]
        for call in written
        if refused not in [r["PutRequest"]["Item"] for r in call["RequestItems"]["t"]]
        for r in call["RequestItems"]["t"]
    ]
    assert sorted(i["pk"]["S"] for i in stored) == ["k0", "k2"]


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
