"""The local stack's faster DynamoDB answers are moto's answers, for every type of attribute value."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from bulk_import.local.fast_dynamodb import fast_dynamodb

pytestmark = pytest.mark.usefixtures("aws")

ITEM = {
    "pk": {"S": "T#acme#customer#L1"},
    "sk": {"S": "R"},
    "text": {"S": "Léa"},
    "amount": {"N": "1500.75"},
    "blob": {"B": b"\x00\x01zlib"},
    "flag": {"BOOL": False},
    "nothing": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "numbers": {"NS": ["1", "2.5"]},
    "blobs": {"BS": [b"x", b"y"]},
    "nested": {
        "M": {
            "list": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"BOOL": True}}}, {"B": b"\xff"}]},
            "empty": {"M": {}},
        }
    },
}


def answers(client: Any, table: str) -> list[Any]:
    key = {"pk": ITEM["pk"], "sk": ITEM["sk"]}
    return [
        client.get_item(TableName=table, Key=key)["Item"],
        client.batch_get_item(RequestItems={table: {"Keys": [key]}})["Responses"][table],
        client.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": ITEM["pk"]},
        )["Items"],
    ]


def test_every_attribute_type_reads_back_the_same_with_the_faster_answers(aws: dict[str, str]) -> None:
    client = boto3.client("dynamodb")
    table = aws["RECORDS_TABLE"]
    client.put_item(TableName=table, Item=ITEM)
    plain = answers(client, table)
    with fast_dynamodb():
        fast = answers(client, table)
    assert fast == plain
    assert plain[0] == ITEM
