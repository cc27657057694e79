"""A payments re-import on moto's DynamoDB asks for the fields its checks read, not whole records."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.fakes import acme_config
from tests.unit.test_payments import item

from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.core.model import StoredRecord
from bulk_import.engine.pipeline import persist, read_existing
from bulk_import.entrypoints import runtime
from bulk_import.kinds import get_kind
from bulk_import.kinds.validation import validate_rows

pytestmark = pytest.mark.usefixtures("aws")
KIND = get_kind("payments")
TENANT = acme_config()
OPTIONS = KIND.options({}, TENANT, datetime(2026, 11, 20, tzinfo=UTC))


def payment(i: int) -> dict[str, Any]:
    return item(id=f"pay-{i}")


def test_a_reimport_reads_only_the_declared_fields_and_still_tells_pending_from_executed() -> None:
    records = runtime.DEPS.get().records
    assert isinstance(records, DynamoRecordStore)
    stored = [
        StoredRecord("payment", "pay-0", {**payment(0), "status": "PENDING", "notes": "x" * 20_000}),
        StoredRecord("payment", "pay-1", {**payment(1), "status": "EXECUTED", "notes": "x" * 20_000}),
    ]
    assert records.put_records("acme", "imp_old", stored) == []
    asked: list[dict[str, Any]] = []
    answered: list[dict[str, Any]] = []
    events = records.client.meta.events
    events.register("provide-client-params.dynamodb.BatchGetItem", lambda params, **_: asked.append(params))
    events.register("after-call.dynamodb.BatchGetItem", lambda parsed, **_: answered.append(parsed))

    outcomes = validate_rows(KIND, [payment(0), payment(1), payment(2)], OPTIONS, TENANT)
    existing = read_existing(KIND, outcomes, records, "acme")
    persist(KIND, outcomes, OPTIONS, records, "acme", "imp_new", existing=existing)

    ((request,),) = [list(a["RequestItems"].values()) for a in asked]
    names = request["ExpressionAttributeNames"]
    assert sorted(names.values()) == ["id", "importId", "recordKey", "status"]
    assert request["ProjectionExpression"] == ", ".join(names)  # placeholders: ``status`` is reserved
    (items,) = [p["Responses"][records.table] for p in answered]
    assert len(items) == 2 and all(set(item) == {"id", "importId", "recordKey", "status"} for item in items)
    assert [o.status for o in outcomes] == ["updated", "failed", "created"]
    assert [e.message for e in outcomes[1].errors] == [
        "id: payment pay-1 is EXECUTED, only pending payments can be updated"
    ]
