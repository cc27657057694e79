"""The local stack's faster DynamoDB projection answers exactly what moto's own does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bulk_import.local.fast_dynamodb import fast_dynamodb

ITEM: dict[str, Any] = {
    "pk": {"S": "T#acme#PAYMENT"},
    "sk": {"S": "pay-1"},
    "status": {"S": "EXECUTED"},
    "importId": {"S": "imp_1"},
    "amount": {"M": {"amount": {"N": "12.50"}, "currency": {"S": "EUR"}}},
    "tags": {"L": [{"S": "a"}, {"N": "1"}]},
    "flag": {"BOOL": True},
}
PROJECTIONS = [
    ("#s, importId", {"#s": "status"}),
    ("#s, absentField, flag, tags", {"#s": "status"}),
    ("amount.currency, importId", None),
    ("tags[1], #s", {"#s": "status"}),
]


def create_table(ddb: Any, name: str) -> None:
    """A table keyed by ``pk`` and ``sk``, as the records table is."""
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, "t")
        ddb.put_item(TableName="t", Item=ITEM)
        yield ddb


@pytest.mark.parametrize("expression, names", PROJECTIONS)
def test_a_projected_read_answers_as_moto_does(client: Any, expression: str, names: Any) -> None:
    request: dict[str, Any] = {
        "Keys": [{"pk": ITEM["pk"], "sk": ITEM["sk"]}],
        "ProjectionExpression": expression,
    }
    if names:
        request["ExpressionAttributeNames"] = names

    def read() -> Any:
        got = client.get_item(
            TableName="t", Key=request["Keys"][0], **{k: v for k, v in request.items() if k != "Keys"}
        )
        batch = client.batch_get_item(RequestItems={"t": request})
        return got["Item"], batch["Responses"]["t"]

    plain = read()
    with fast_dynamodb():
        fast = read()
    assert fast == plain
