"""The call lists of an import under moto: written after its records, only for an import with a call
stage, only for the records stored, read back consistently with what the call stage needs."""

from __future__ import annotations

import random
import zlib
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest
from scripts.cost_meter import item_size

from bulk_import.adapters.batch_writer import BatchWriter, Unwritten
from bulk_import.adapters.dynamo_keys import CALL_LIST_FIELDS, CALL_LIST_PREFIX
from bulk_import.adapters.dynamo_packing import CALL_ITEMS_MIN_SECONDS, unpack
from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.adapters.dynamo_results import MAX_PART_BYTES
from bulk_import.core.model import CallStage, Counts, ImportJob, StoredRecord
from bulk_import.core.ports import RefusedWrite
from bulk_import.entrypoints import runtime

pytestmark = pytest.mark.usefixtures("aws")
NOW = datetime.now(UTC).replace(microsecond=0)


def saved_job(
    import_id: str, *, calls: bool = False, options: dict[str, Any] | None = None, created: datetime = NOW
) -> ImportJob:
    job = ImportJob(
        import_id=import_id,
        tenant_id="acme",
        kind="campaign-customers",
        source="api",
        status="PROCESSING",
        created_at=created,
        updated_at=created,
        counts=Counts(total=3),
        options=options or {},
        calls=CallStage() if calls else None,
    )
    runtime.DEPS.get().imports.save(job)
    return job


def customers(n: int, start: int = 0, notes: int = 2_000) -> list[StoredRecord]:
    return [
        StoredRecord(
            entity="customer",
            key=f"camp-loans#L{i:06d}",
            data={
                "loan_id": f"L{i:06d}",
                "campaign_id": "camp-loans",
                "phone_number": f"+3361{i:07d}",
                "first_name": "Camille",
                "timezone": "Europe/Paris",
                "notes": "x" * notes,
            },
        )
        for i in range(start, start + n)
    ]


def store() -> DynamoRecordStore:
    records = runtime.DEPS.get().records
    assert isinstance(records, DynamoRecordStore) and records.imports_table is not None
    return records


def list_items(records: DynamoRecordStore, import_id: str = "imp-calls") -> list[dict[str, Any]]:
    resp = boto3.client("dynamodb").query(
        TableName=records.imports_table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={":pk": {"S": f"T#acme#IMPORT#{import_id}"}, ":p": {"S": CALL_LIST_PREFIX}},
    )
    return list(resp["Items"])


def listed_keys(records: DynamoRecordStore, import_id: str = "imp-calls") -> list[str]:
    return [r.key for r in records.iter_import_records("acme", import_id, "customer", ["phone_number"])]


class FailingWriter(BatchWriter):
    """Writes as DynamoDB does, except the items ``fails`` picks: unwritten (throttled, or refused)."""

    def __init__(self, client: Any, fails: Any, permanent: bool = False) -> None:
        super().__init__(client, sleep=lambda s: None)
        self.fails, self.permanent = fails, permanent

    def put(self, table: str, items: Sequence[dict[str, Any]]) -> list[Unwritten]:
        bad = [i for i in items if self.fails(table, i)]
        super().put(table, [i for i in items if not self.fails(table, i)])
        return [Unwritten(i, "throttled", self.permanent) for i in bad]


def test_records_of_an_import_without_calls_are_not_listed() -> None:
    saved_job("imp-plain")
    records = store()
    assert records.put_records("acme", "imp-plain", customers(3)) == []
    assert list_items(records, "imp-plain") == []
    assert listed_keys(records, "imp-plain") == []
    assert len(records.get_records("acme", "customer", [c.key for c in customers(3)])) == 3


@pytest.mark.parametrize(
    "job", [{"calls": True}, {"options": {"initiateCall": True}}], ids=["call stage", "asked for calls"]
)
def test_records_of_an_import_with_a_call_stage_are_listed_with_what_the_stage_reads(job: Any) -> None:
    saved_job("imp-calls", **job)
    records = store()
    assert records.put_records("acme", "imp-calls", customers(3)) == []
    fields = ["phone_number", "doNotCall", "loan_id", "timezone"]
    listed = {r.key: r.data for r in records.iter_import_records("acme", "imp-calls", "customer", fields)}
    assert set(listed) == {"camp-loans#L000000", "camp-loans#L000001", "camp-loans#L000002"}
    assert listed["camp-loans#L000001"]["phone_number"] == "+33610000001"
    assert listed["camp-loans#L000001"]["timezone"] == "Europe/Paris"
    # One compressed item for the chunk, holding the keys and the listed fields only, and expiring.
    (item,) = list_items(records)
    entries = unpack(item["e"]["B"])
    assert {name for _, data in entries for name in data} <= set(CALL_LIST_FIELDS)
    assert "notes" not in zlib.decompress(item["e"]["B"]).decode()
    assert int(item["expiresAt"]["N"]) == int(NOW.timestamp()) + 30 * 86_400


def test_a_list_written_after_the_retention_of_its_import_still_lives_two_days() -> None:
    saved_job("imp-calls", calls=True, created=NOW - timedelta(days=40))  # past the default 30 days
    records = store()
    records.put_records("acme", "imp-calls", customers(2))
    (item,) = list_items(records)
    assert int(item["expiresAt"]["N"]) >= int(NOW.timestamp()) + CALL_ITEMS_MIN_SECONDS
    assert len(listed_keys(records)) == 2


def test_fields_the_lists_do_not_hold_are_read_from_the_table() -> None:
    saved_job("imp-calls", calls=True)
    records = store()
    records.put_records("acme", "imp-calls", customers(2))
    listed = {r.key: r.data for r in records.iter_import_records("acme", "imp-calls", "customer", ["notes"])}
    assert {k: len(v["notes"]) for k, v in listed.items()} == dict.fromkeys(listed, 2_000)
    assert all(set(v) == {"notes", "recordKey"} for v in listed.values())
    whole = {r.key: r.data for r in records.iter_import_records("acme", "imp-calls", "customer")}
    assert whole["camp-loans#L000000"]["first_name"] == "Camille"


def test_a_record_another_import_wrote_since_is_left_out_of_what_is_read_from_the_table() -> None:
    saved_job("imp-calls", calls=True)
    saved_job("imp-later")
    records = store()
    records.put_records("acme", "imp-calls", customers(3))
    records.put_records("acme", "imp-later", customers(1))
    read = [r.key for r in records.iter_import_records("acme", "imp-calls", "customer", ["notes"])]
    assert sorted(read) == ["camp-loans#L000001", "camp-loans#L000002"]
    # The lists name it still (the call stage reads the record again before calling, and skips it).
    assert len(listed_keys(records)) == 3


def test_each_chunk_has_its_list_and_a_chunk_written_again_rewrites_its_own() -> None:
    saved_job("imp-calls", calls=True)
    records = store()
    for start in (0, 1_000, 2_000):
        records.put_records("acme", "imp-calls", customers(1_000, start))
    records.put_records("acme", "imp-calls", customers(1_000, 1_000))  # delivered again
    assert len(list_items(records)) == 3
    records.put_records("acme", "imp-calls", customers(10, 2_995))  # the same loans in another chunk
    keys = listed_keys(records)
    assert len(keys) == len(set(keys)) == 3_005


def test_ten_thousand_records_in_one_write_are_listed_in_parts_under_the_item_limit() -> None:
    saved_job("imp-calls", calls=True)
    records = store()
    draw = random.Random(7)
    many = [
        replace(r, key=f"camp-loans#{draw.getrandbits(128):032x}", data={**r.data, "notes": ""})
        for r in customers(10_000)
    ]
    assert records.put_records("acme", "imp-calls", many) == []
    items = list_items(records)
    assert all(len(i["e"]["B"]) <= MAX_PART_BYTES for i in items)
    assert sorted(listed_keys(records)) == sorted(r.key for r in many)


def test_records_refused_or_left_unwritten_are_not_listed() -> None:
    saved_job("imp-calls", calls=True)
    base = store()
    throttled = "camp-loans#L000001"
    records = DynamoRecordStore(
        base.client,
        base.table,
        FailingWriter(base.client, lambda t, i: i.get("recordKey", {}).get("S") == throttled),
        imports_table=base.imports_table,
    )
    rows = customers(4)
    rows[2] = replace(rows[2], data={**rows[2].data, "loan_amount": Decimal("1" * 40)})  # beyond 38 digits
    failures = records.put_records("acme", "imp-calls", rows)
    assert {f.key: isinstance(f, RefusedWrite) for f in failures} == {
        throttled: False,
        "camp-loans#L000002": True,
    }
    assert sorted(listed_keys(records)) == ["camp-loans#L000000", "camp-loans#L000003"]


def test_records_whose_call_list_was_not_written_are_reported_unwritten() -> None:
    saved_job("imp-calls", calls=True)
    base = store()
    records = DynamoRecordStore(
        base.client,
        base.table,
        FailingWriter(base.client, lambda t, i: t == base.imports_table),
        imports_table=base.imports_table,
    )
    failures = records.put_records("acme", "imp-calls", customers(3))
    assert sorted(f.key for f in failures) == [r.key for r in customers(3)]
    assert not any(isinstance(f, RefusedWrite) for f in failures)
    # Sent again with the table writing, the chunk is listed.
    assert base.put_records("acme", "imp-calls", customers(3)) == []
    assert len(listed_keys(base)) == 3


def _asked(records: DynamoRecordStore) -> list[str]:
    """The tables ``records`` will GetItem from (its client is the test's own, rebuilt for each test)."""
    asked: list[str] = []
    real = records.client.get_item

    def spy(**kwargs: Any) -> Any:
        asked.append(kwargs["TableName"])
        return real(**kwargs)

    records.client.get_item = spy
    return asked


def test_the_store_asks_once_per_import_whether_it_has_a_call_stage() -> None:
    saved_job("imp-calls", calls=True)
    wired = store()
    # A store of another container: it did not see the job saved.
    records = DynamoRecordStore(
        wired.client, wired.table, wired.writer, wired.clock, wired.imports_table, wired.config_table
    )
    asked = _asked(records)
    for n in range(3):
        records.put_records("acme", "imp-calls", customers(n + 1))
    assert asked.count(records.imports_table) == 2  # the call stage, once; the import's creation, once
    assert set(asked) <= {records.imports_table, records.config_table}


def test_the_store_of_the_container_that_saved_the_job_reads_no_job() -> None:
    saved_job("imp-calls", calls=True)
    records = store()
    asked = _asked(records)
    for n in range(3):
        records.put_records("acme", "imp-calls", customers(n + 1))
    assert records.imports_table not in asked
    assert len(list_items(records)) == 3  # listed for its call stage all the same


def test_a_call_stage_chunk_of_1000_customers_costs_about_one_write_unit_each() -> None:
    saved_job("imp-calls", calls=True)
    records = store()
    units: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        for requests in params["RequestItems"].values():
            units.extend(-(-item_size(r["PutRequest"]["Item"]) // 1024) for r in requests)

    event = "provide-client-params.dynamodb.BatchWriteItem"
    records.client.meta.events.register(event, count)
    try:
        assert records.put_records("acme", "imp-calls", customers(1_000, notes=0)) == []
    finally:
        records.client.meta.events.unregister(event, count)
    # A record is one unit; the list of the 1,000 is one item of a few units (an index cost 1,000).
    assert len(units) == 1_001
    assert units[:1_000] == [1] * 1_000 or sorted(units)[:1_000] == [1] * 1_000
    assert sum(units) <= 1_030
