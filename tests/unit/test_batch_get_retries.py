"""Reading many items: keys DynamoDB leaves unprocessed are asked again after a pause, a bounded number of
times (botocore's Stubber plays DynamoDB; moto never leaves keys unprocessed)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bulk_import.adapters.dynamo_paging import batch_get_items
from bulk_import.core.errors import TransientError

KEYS = [{"pk": {"S": f"p{i}"}, "sk": {"S": "R"}} for i in range(3)]


def _client() -> Any:
    return boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")


def _answer(found: list[dict[str, Any]], left: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"Responses": {"t": found}}
    if left:
        out["UnprocessedKeys"] = {"t": {"Keys": left}}
    return out


def test_unprocessed_keys_are_read_again_after_growing_pauses() -> None:
    client, pauses = _client(), []
    with Stubber(client) as stub:
        stub.add_response(
            "batch_get_item", _answer([KEYS[0]], KEYS[1:]), {"RequestItems": {"t": {"Keys": KEYS}}}
        )
        stub.add_response(
            "batch_get_item", _answer([], KEYS[1:]), {"RequestItems": {"t": {"Keys": KEYS[1:]}}}
        )
        stub.add_response(
            "batch_get_item", _answer(KEYS[1:], []), {"RequestItems": {"t": {"Keys": KEYS[1:]}}}
        )
        items = list(batch_get_items(client, "t", KEYS, sleep=pauses.append))
        stub.assert_no_pending_responses()
    assert items == KEYS
    assert len(pauses) == 2 and all(0 <= p <= 2.0 for p in pauses)


def test_keys_still_unprocessed_after_every_attempt_are_a_transient_error() -> None:
    client, pauses = _client(), []
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_response("batch_get_item", _answer([], KEYS))
        with pytest.raises(TransientError, match="3 keys of t still unprocessed after 3 reads"):
            list(batch_get_items(client, "t", KEYS, attempts=3, sleep=pauses.append))
    assert len(pauses) == 2
