"""The records index (``by_import``) under moto: sparse, and projected to what the call stage reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from bulk_import.adapters.dynamo_keys import IMPORT_INDEX, IMPORT_INDEX_ATTRIBUTES
from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.core.model import CallStage, Counts, ImportJob, StoredRecord
from bulk_import.entrypoints import runtime

pytestmark = pytest.mark.usefixtures("aws")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def saved_job(import_id: str, *, calls: bool = False, options: dict[str, Any] | None = None) -> ImportJob:
    job = ImportJob(
        import_id=import_id,
        tenant_id="acme",
        kind="campaign-customers",
        source="api",
        status="PROCESSING",
        created_at=NOW,
        updated_at=NOW,
        counts=Counts(total=3),
        options=options or {},
        calls=CallStage() if calls else None,
    )
    runtime.DEPS.get().imports.save(job)
    return job


def customers(n: int) -> list[StoredRecord]:
    return [
        StoredRecord(
            entity="customer",
            key=f"L{i}",
            data={
                "loan_id": f"L{i}",
                "phone_number": f"+3361234567{i}",
                "first_name": "Camille",
                "timezone": "Europe/Paris",
                "notes": "x" * 2_000,
            },
        )
        for i in range(n)
    ]


def store() -> DynamoRecordStore:
    records = runtime.DEPS.get().records
    assert isinstance(records, DynamoRecordStore) and records.imports_table is not None
    return records


def index_items(records: DynamoRecordStore) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=records.table, IndexName=IMPORT_INDEX)["Items"]


def test_records_of_an_import_without_calls_are_not_in_the_index() -> None:
    saved_job("imp-plain")
    records = store()
    assert records.put_records("acme", "imp-plain", customers(3)) == []
    assert index_items(records) == []
    assert list(records.iter_import_records("acme", "imp-plain", "customer", ["phone_number"])) == []
    assert set(records.get_records("acme", "customer", ["L0", "L1", "L2"])) == {"L0", "L1", "L2"}


@pytest.mark.parametrize(
    "job", [{"calls": True}, {"options": {"initiateCall": True}}], ids=["call stage", "asked for calls"]
)
def test_records_of_an_import_with_a_call_stage_are_listed_with_what_the_stage_reads(job: Any) -> None:
    saved_job("imp-calls", **job)
    records = store()
    assert records.put_records("acme", "imp-calls", customers(3)) == []
    fields = ["phone_number", "doNotCall", "loan_id", "timezone"]
    listed = {r.key: r.data for r in records.iter_import_records("acme", "imp-calls", "customer", fields)}
    assert set(listed) == {"L0", "L1", "L2"}
    assert listed["L1"]["phone_number"] == "+33612345671" and listed["L1"]["timezone"] == "Europe/Paris"
    # The index holds the keys and the projected fields only, never the rest of the record.
    assert all(
        set(item) <= {"pk", "sk", "gsi1pk", "gsi1sk", *IMPORT_INDEX_ATTRIBUTES}
        for item in index_items(records)
    )


def test_fields_the_index_does_not_project_are_read_from_the_table() -> None:
    saved_job("imp-calls", calls=True)
    records = store()
    records.put_records("acme", "imp-calls", customers(2))
    listed = {r.key: r.data for r in records.iter_import_records("acme", "imp-calls", "customer", ["notes"])}
    assert {k: len(v["notes"]) for k, v in listed.items()} == {"L0": 2_000, "L1": 2_000}
    whole = {r.key: r.data for r in records.iter_import_records("acme", "imp-calls", "customer")}
    assert whole["L0"]["first_name"] == "Camille"


def test_a_record_taken_over_by_an_import_without_calls_leaves_the_index() -> None:
    saved_job("imp-calls", calls=True)
    saved_job("imp-later")
    records = store()
    records.put_records("acme", "imp-calls", customers(3))
    records.put_records("acme", "imp-later", customers(1))
    listed = [r.key for r in records.iter_import_records("acme", "imp-calls", "customer", ["loan_id"])]
    assert sorted(listed) == ["L1", "L2"]


def test_the_store_asks_once_per_import_whether_it_has_a_call_stage() -> None:
    saved_job("imp-calls", calls=True)
    records = store()
    asked: list[str] = []
    real = records.client.get_item

    def spy(**kwargs: Any) -> Any:
        asked.append(kwargs["TableName"])
        return real(**kwargs)

    records.client.get_item = spy  # type: ignore[method-assign]
    for n in range(3):
        records.put_records("acme", "imp-calls", customers(n + 1))
    assert asked == [records.imports_table]
