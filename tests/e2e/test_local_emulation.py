"""The embedded AWS emulation: each request atomic, as on AWS, and DynamoDB queries with moto's answers."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from moto.dynamodb.models import dynamodb_backends

from bulk_import.local.emulation import start_emulation
from bulk_import.local.fast_dynamodb import fast_dynamodb

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
REGION = "us-east-1"
ACCOUNT = "123456789012"
KEYS = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
INDEX = {
    "IndexName": "by_import",
    "KeySchema": [
        {"AttributeName": "gsi1pk", "KeyType": "HASH"},
        {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
    ],
    "Projection": {"ProjectionType": "ALL"},
}


def create_table(client: Any, name: str) -> None:
    client.create_table(
        TableName=name,
        KeySchema=KEYS,
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        GlobalSecondaryIndexes=[INDEX],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    server = start_emulation()
    port = server.server_address[1]
    try:
        yield boto3.client(
            "dynamodb",
            region_name=REGION,
            endpoint_url=f"http://127.0.0.1:{port}",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(max_pool_connections=64, retries={"max_attempts": 1}),
        )
    finally:
        server.shutdown()
        server.server_close()


def in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(i)`` on ``count`` threads released together; return what they raised.

    The interpreter switches threads every few microseconds meanwhile, rather than every 5 ms, so that
    requests served at once interleave as finely as they can.
    """
    barrier = threading.Barrier(count)
    raised: list[BaseException] = []

    def run(i: int) -> None:
        barrier.wait()
        try:
            work(i)
        except BaseException as exc:  # every failure is reported to the test
            raised.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        sys.setswitchinterval(interval)
    return raised


def test_of_concurrent_conditional_puts_of_one_key_exactly_one_succeeds(dynamodb: Any) -> None:
    create_table(dynamodb, "idempotency")
    winners: dict[str, list[int]] = {f"KEY#{k}": [] for k in range(12)}

    def put(i: int) -> None:
        for key, won in winners.items():
            try:
                dynamodb.put_item(
                    TableName="idempotency",
                    Item={"pk": {"S": key}, "sk": {"S": "IDEMPOTENCY"}, "owner": {"N": str(i)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                won.append(i)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    assert in_threads(16, put) == []
    for key, won in winners.items():
        assert len(won) == 1, key
        stored = dynamodb.get_item(
            TableName="idempotency", Key={"pk": {"S": key}, "sk": {"S": "IDEMPOTENCY"}}
        )
        assert stored["Item"]["owner"] == {"N": str(won[0])}


def test_queries_of_a_table_being_written_to_fail_none(dynamodb: Any) -> None:
    create_table(dynamodb, "busy")
    for first in range(0, 2000, 25):
        dynamodb.batch_write_item(
            RequestItems={
                "busy": [
                    {
                        "PutRequest": {
                            "Item": {
                                "pk": {"S": f"OLD#{n}"},
                                "sk": {"S": "META"},
                                "gsi1pk": {"S": "I"},
                                "gsi1sk": {"S": f"{n:05d}"},
                            }
                        }
                    }
                    for n in range(first, first + 25)
                ]
            }
        )

    def work(i: int) -> None:
        for n in range(30):
            if i % 2:
                # Each write opens a partition: the table's dictionary of partitions grows.
                dynamodb.put_item(
                    TableName="busy",
                    Item={
                        "pk": {"S": f"NEW#{i}-{n}"},
                        "sk": {"S": "META"},
                        "gsi1pk": {"S": "I"},
                        "gsi1sk": {"S": "0"},
                    },
                )
            else:
                dynamodb.query(
                    TableName="busy",
                    IndexName="by_import",
                    KeyConditionExpression="gsi1pk = :p",
                    ExpressionAttributeValues={":p": {"S": "I"}},
                    Limit=5,
                )
                dynamodb.query(
                    TableName="busy",
                    KeyConditionExpression="pk = :p",
                    ExpressionAttributeValues={":p": {"S": f"OLD#{n}"}},
                )

    assert in_threads(8, work) == []
    assert dynamodb.scan(TableName="busy", Select="COUNT")["Count"] == 2000 + 4 * 30


# --- DynamoDB queries: the same answers with and without fast_dynamodb --------------------------------

sort_keys = st.text(alphabet="ab#1", min_size=1, max_size=4)
items = st.lists(
    st.fixed_dictionaries(
        {"pk": st.sampled_from(["A", "B", "C"]), "sk": sort_keys},
        optional={
            "gsi1pk": st.sampled_from(["G", "H"]),
            "gsi1sk": sort_keys,
            "n": st.integers(-3, 3),
            "blob": st.text(alphabet="xyz", max_size=30),
        },
    ),
    max_size=40,
    unique_by=lambda item: (item["pk"], item["sk"]),
)
sort_conditions = st.one_of(
    st.none(),
    st.tuples(st.sampled_from(["=", "<", "<=", ">", ">="]), sort_keys),
    st.tuples(st.just("begins_with"), sort_keys),
    st.tuples(st.just("between"), sort_keys, sort_keys),
)
queries = st.fixed_dictionaries(
    {
        "index": st.booleans(),
        "partition": st.sampled_from(["A", "B", "C", "G", "H", "Z"]),
        "sort": sort_conditions,
        "limit": st.one_of(st.none(), st.integers(1, 6)),
        "forward": st.booleans(),
        "filter": st.booleans(),
        "project": st.booleans(),
        "start": st.one_of(st.none(), sort_keys),
    }
)


def to_item(row: dict[str, Any]) -> dict[str, Any]:
    return {k: {"N": str(v)} if k == "n" else {"S": v} for k, v in row.items()}


def query_request(table: str, q: dict[str, Any]) -> dict[str, Any]:
    hash_attr, range_attr = ("gsi1pk", "gsi1sk") if q["index"] else ("pk", "sk")
    values: dict[str, Any] = {":p": {"S": q["partition"]}}
    condition = f"{hash_attr} = :p"
    sort = q["sort"]
    if sort is not None:
        values[":a"] = {"S": sort[1]}
        if sort[0] == "begins_with":
            condition += f" AND begins_with({range_attr}, :a)"
        elif sort[0] == "between":
            low, high = sorted(sort[1:])
            values[":a"], values[":b"] = {"S": low}, {"S": high}
            condition += f" AND {range_attr} BETWEEN :a AND :b"
        else:
            condition += f" AND {range_attr} {sort[0]} :a"
    request: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": values,
        "ScanIndexForward": q["forward"],
    }
    if q["index"]:
        request["IndexName"] = "by_import"
    if q["limit"] is not None:
        request["Limit"] = q["limit"]
    if q["filter"]:
        request["FilterExpression"] = "attribute_not_exists(n) OR n >= :zero"
        values[":zero"] = {"N": "0"}
    if q["project"]:
        request["ProjectionExpression"] = "sk, n, gsi1sk"
    if q["start"] is not None and not q["index"]:
        request["ExclusiveStartKey"] = {"pk": {"S": q["partition"]}, "sk": {"S": q["start"]}}
    return request


def every_page(client: Any, request: dict[str, Any]) -> list[Any]:
    """Every response of a query paged to its end (or its error), as a client pages it."""
    pages: list[Any] = []
    request = dict(request)
    for _ in range(60):
        try:
            response = client.query(**request)
        except ClientError as exc:
            return [*pages, exc.response["Error"]]
        pages.append({k: response.get(k) for k in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if "LastEvaluatedKey" not in response:
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return pages


@pytest.fixture(scope="module")
def local_dynamodb() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(rows=items, asked=st.lists(queries, min_size=1, max_size=6))
def test_a_query_answers_as_moto_does_when_it_reads_only_its_partition(
    local_dynamodb: Any, rows: list[dict[str, Any]], asked: list[dict[str, Any]]
) -> None:
    client = local_dynamodb
    create_table(client, "rows")
    try:
        table = dynamodb_backends[ACCOUNT][REGION].tables["rows"]
        for row in rows:
            table.put_item(to_item(row))
        for q in asked:
            request = query_request("rows", q)
            moto_pages = every_page(client, request)
            with fast_dynamodb():
                fast_pages = every_page(client, request)
            assert fast_pages == moto_pages
    finally:
        client.delete_table(TableName="rows")
