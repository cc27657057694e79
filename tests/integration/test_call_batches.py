"""The calls each batch requested, under moto: one item per batch, read back consistently."""

from __future__ import annotations

import random
from typing import Any

import boto3
import pytest

from bulk_import.adapters.dynamo_imports import DynamoImportRepository
from bulk_import.adapters.dynamo_keys import CALL_BATCH_PREFIX
from bulk_import.adapters.dynamo_results import MAX_PART_BYTES
from bulk_import.entrypoints import runtime

pytestmark = pytest.mark.usefixtures("aws")
IMPORT = "imp-calls"


def repository() -> DynamoImportRepository:
    imports = runtime.DEPS.get().imports
    assert isinstance(imports, DynamoImportRepository)
    return imports


def batch_items(imports: DynamoImportRepository) -> list[dict[str, Any]]:
    resp = boto3.client("dynamodb").query(
        TableName=imports.table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": f"T#acme#IMPORT#{IMPORT}"}, ":p": {"S": CALL_BATCH_PREFIX}},
    )
    return list(resp["Items"])


def test_the_calls_of_a_batch_are_one_item_holding_every_key_recorded_so_far() -> None:
    imports = repository()
    keys = [f"camp-loans#L-{i:05d}" for i in range(500)]
    imports.record_requested_calls("acme", IMPORT, keys[:200], batch=3)
    imports.record_requested_calls("acme", IMPORT, keys[200:], batch=3)
    assert imports.requested_calls("acme", IMPORT, keys, batch=3) == set(keys)
    assert imports.requested_calls("acme", IMPORT, keys, batch=4) == set()
    (item,) = batch_items(imports)
    assert len(item["k"]["B"]) < 2_048 and "expiresAt" in item


def test_recording_calls_already_recorded_writes_nothing() -> None:
    imports = repository()
    imports.record_requested_calls("acme", IMPORT, ["a", "b"], batch=0)
    writes: list[str] = []
    event = "before-call.dynamodb.BatchWriteItem"
    imports.client.meta.events.register(event, lambda **kw: writes.append("w"))
    imports.record_requested_calls("acme", IMPORT, ["b", "a"], batch=0)
    assert writes == []


def test_a_batch_of_ten_thousand_customers_fits() -> None:
    imports = repository()
    draw = random.Random(3)
    keys = [f"camp-loans#{draw.getrandbits(128):032x}" for _ in range(10_000)]
    for start in range(0, 10_000, 2_500):
        imports.record_requested_calls("acme", IMPORT, keys[start : start + 2_500], batch=1)
    assert imports.requested_calls("acme", IMPORT, [*keys, "camp-loans#other"], batch=1) == set(keys)
    assert all(len(item["k"]["B"]) <= MAX_PART_BYTES for item in batch_items(imports))
