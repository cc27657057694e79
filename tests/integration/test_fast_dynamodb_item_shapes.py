"""The local stack's DynamoDB answers a read of any item, projected or whole, exactly as moto does, and a
re-import read through it still tells a pending payment from one already executed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from tests.fakes import acme_config
from tests.integration.test_fast_dynamodb_projection import create_table
from tests.unit.test_payments import item as payment_item

from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.core.model import StoredRecord
from bulk_import.engine.pipeline import persist, read_existing
from bulk_import.entrypoints import runtime
from bulk_import.kinds import get_kind
from bulk_import.kinds.validation import validate_rows
from bulk_import.local.fast_dynamodb import fast_dynamodb

KEY = {"pk": {"S": "T#acme#payment#p-1"}, "sk": {"S": "R"}}
NAMES = st.sampled_from(["status", "importId", "id", "amount", "notes", "tags", "data", "flag", "n"])
numbers = st.integers(-(10**12), 10**12).map(str) | st.decimals(
    min_value=-(10**6), max_value=10**6, places=3, allow_nan=False
).map(str)
scalars = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=12)),
    st.builds(lambda n: {"N": n}, numbers),
    st.builds(lambda b: {"BOOL": b}, st.booleans()),
    st.just({"NULL": True}),
    st.builds(lambda b: {"B": b}, st.binary(min_size=1, max_size=8)),
    st.builds(
        lambda ss: {"SS": ss}, st.lists(st.text(min_size=1, max_size=6), min_size=1, max_size=3, unique=True)
    ),
    st.builds(
        lambda ns: {"NS": ns}, st.lists(st.integers(0, 999).map(str), min_size=1, max_size=3, unique=True)
    ),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.builds(lambda xs: {"L": xs}, st.lists(inner, max_size=3))
        | st.builds(lambda m: {"M": m}, st.dictionaries(st.text(min_size=1, max_size=6), inner, max_size=3))
    ),
    max_leaves=8,
)
items = st.dictionaries(NAMES, values, max_size=7).map(lambda attrs: {**attrs, **KEY})


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(ddb, "t")
        yield ddb


def canonical(answer: Any) -> Any:
    """An answer with the members of each set in one order (DynamoDB's sets have none: moto's own
    projection reorders them)."""
    if isinstance(answer, list):
        return [canonical(a) for a in answer]
    if isinstance(answer, dict):
        return {
            k: sorted(v) if k in ("SS", "NS", "BS") and isinstance(v, list) else canonical(v)
            for k, v in answer.items()
        }
    return answer


def reads(client: Any, projected: list[str] | None) -> list[Any]:
    """The item as GetItem, BatchGetItem, Query and Scan answer it (names through placeholders: some
    are reserved words)."""
    asked: dict[str, Any] = {}
    if projected is not None:
        names = {f"#p{i}": name for i, name in enumerate(projected)}
        asked = {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    return canonical(
        [
            client.get_item(TableName="t", Key=KEY, **asked).get("Item"),
            client.batch_get_item(RequestItems={"t": {"Keys": [KEY], **asked}})["Responses"]["t"],
            client.query(
                TableName="t",
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues={":pk": KEY["pk"]},
                **asked,
            )["Items"],
            client.scan(TableName="t", **asked)["Items"],
        ]
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    stored=items, projected=st.none() | st.lists(NAMES | st.just("sk"), min_size=1, max_size=5, unique=True)
)
def test_a_read_of_any_item_answers_as_moto_does_and_a_projection_only_the_attributes_asked(
    client: Any, stored: dict[str, Any], projected: list[str] | None
) -> None:
    client.put_item(TableName="t", Item=stored)
    plain = reads(client, projected)
    with fast_dynamodb():
        fast = reads(client, projected)
    assert fast == plain
    whole = canonical(stored)
    expected = whole if projected is None else {n: whole[n] for n in projected if n in whole}
    got, (batch,), (queried,), (scanned,) = fast
    assert got == batch == queried == scanned == expected
    with fast_dynamodb():
        # The stored item is left whole by the projections read from it.
        assert reads(client, None)[0] == whole


KIND = get_kind("payments")
TENANT = acme_config()
OPTIONS = KIND.options({}, TENANT, datetime(2026, 11, 20, tzinfo=UTC))


@pytest.mark.usefixtures("aws")
def test_a_reimport_on_the_local_dynamodb_updates_a_pending_payment_and_refuses_an_executed_one() -> None:
    records = runtime.DEPS.get().records
    assert isinstance(records, DynamoRecordStore)
    with fast_dynamodb():
        stored = [
            StoredRecord("payment", "pay-0", {**payment_item(id="pay-0"), "status": "PENDING"}),
            StoredRecord("payment", "pay-1", {**payment_item(id="pay-1"), "status": "executed"}),
        ]
        assert records.put_records("acme", "imp_old", stored) == []
        rows = [payment_item(id=f"pay-{i}") for i in range(3)]
        outcomes = validate_rows(KIND, rows, OPTIONS, TENANT)
        existing = read_existing(KIND, outcomes, records, "acme")
        persist(KIND, outcomes, OPTIONS, records, "acme", "imp_new", existing=existing)
        after = records.get_records("acme", "payment", ["pay-0", "pay-1", "pay-2"], ("importId", "status"))
    assert [o.status for o in outcomes] == ["updated", "failed", "created"]
    assert [e.message for e in outcomes[1].errors] == [
        "id: payment pay-1 is EXECUTED, only pending payments can be updated"
    ]
    assert {k: v["importId"] for k, v in after.items()} == {
        "pay-0": "imp_new",
        "pay-1": "imp_old",
        "pay-2": "imp_new",
    }


def test_a_projected_batch_read_past_16_mb_leaves_the_same_keys_unprocessed_as_moto(client: Any) -> None:
    create_table(client, "big")
    try:
        keys = [{"pk": {"S": f"T#acme#payment#big-{i}"}, "sk": {"S": "R"}} for i in range(60)]
        for i, key in enumerate(keys):
            notes = {"S": f"{i:03d}" + "x" * 300_000}
            client.put_item(TableName="big", Item={**key, "notes": notes, "n": {"N": "1"}})
        request = {"big": {"Keys": keys, "ProjectionExpression": "notes, n"}}
        plain = client.batch_get_item(RequestItems=request)
        with fast_dynamodb():
            fast = client.batch_get_item(RequestItems=request)
    finally:
        client.delete_table(TableName="big")
    assert plain["UnprocessedKeys"]["big"]["Keys"]  # the limit is met
    assert fast["UnprocessedKeys"] == plain["UnprocessedKeys"]
    assert fast["Responses"] == plain["Responses"]
