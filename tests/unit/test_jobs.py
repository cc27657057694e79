"""The asynchronous machinery on fakes, with a minimal kind: split, process, redeliver, dead-letter."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ConfigDict
from tests.fakes import ACME, FakeImports, FakePayloads, FakeQueue, FakeRecords, make_deps

from bulk_import.core.model import RowOutcome, StoredRecord
from bulk_import.core.tenants import TenantConfig
from bulk_import.engine import jobs
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.fields import PositiveInt, Text
from bulk_import.kinds.row_plan import row_errors


class NumberRow(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: Text = None
    n: PositiveInt = None


class NumbersRequest(BaseModel):
    items: list[dict[str, Any]]


class NumbersKind(ImportKind[None]):
    """An async kind of numbered rows, keyed by id."""

    name: ClassVar[str] = "numbers"
    entity: ClassVar[str] = "number"
    records_field: ClassVar[str] = "items"
    ref_fields: ClassVar[tuple[str, ...]] = ("id",)
    route: ClassVar[str] = "/numbers"
    scope: ClassVar[str] = "payments:write"
    request_model: ClassVar[type[BaseModel]] = NumbersRequest
    mode: ClassVar[str] = "async"
    chunk_size: ClassVar[int] = 3
    max_records: ClassVar[int] = 100_000

    def options(self, request: Mapping[str, Any], tenant: TenantConfig, now: datetime) -> None:
        return None

    def validate(self, raw: Any, index: int, options: None, tenant: TenantConfig) -> RowOutcome:
        record, errors = row_errors(NumberRow, raw, required=("id", "n"))
        return RowOutcome(index=index, raw=raw, record=record, errors=errors)

    def key(self, record: Mapping[str, Any], options: None) -> str:
        return str(record["id"])

    def to_stored(self, record: Mapping[str, Any], key: str, options: None) -> StoredRecord:
        return StoredRecord(self.entity, key, dict(record))

    def dedupe_key(self, raw: Any, options: Any = None) -> str | None:
        return str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else None


@pytest.fixture(autouse=True)
def numbers_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(REGISTRY, "numbers", "tests.unit.test_jobs:NumbersKind")
    get_kind.cache_clear()
    yield
    get_kind.cache_clear()


def rows(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "n": i + 1} for i in range(n)]


def drain(deps: Any, *, times: int = 1) -> list[Any]:
    """Deliver every queued message ``times`` times (at-least-once delivery)."""
    assert isinstance(deps.queue, FakeQueue)
    done = []
    for _ in range(times):
        for body in list(deps.queue.messages):
            done.append(jobs.process_chunk(jobs.ChunkMessage.from_json(body), deps))
    return [d for d in done if d is not None]


def test_start_answers_queued_and_sends_chunks_of_the_kind_size() -> None:
    deps = make_deps()
    job = jobs.start_async_import(get_kind("numbers"), {}, rows(7), ACME, deps)
    assert job.status == "QUEUED" and job.counts.total == 7 and job.chunks_total == 3
    assert isinstance(deps.queue, FakeQueue)
    assert [(m["start"], m["count"]) for m in deps.queue.messages] == [(0, 3), (3, 3), (6, 1)]
    assert isinstance(deps.payloads, FakePayloads)
    assert deps.payloads.objects[f"payloads/acme/{job.import_id}/request.json"]["items"] == rows(7)


def test_every_chunk_processed_makes_the_import_done_once() -> None:
    deps = make_deps()
    completed: list[Any] = []
    deps.on_complete = completed.append
    job = jobs.start_async_import(get_kind("numbers"), {}, rows(7), ACME, deps)
    done = drain(deps)
    assert len(done) == 1 and len(completed) == 1
    stored = deps.imports.get("acme", job.import_id)
    assert stored is not None and stored.status == "DONE"
    assert stored.counts.as_dict() == {
        "total": 7,
        "valid": 7,
        "invalid": 0,
        "succeeded": 7,
        "failed": 0,
        "skipped": 0,
    }
    assert [r["index"] for r in deps.imports.list_results("acme", job.import_id)] == list(range(7))


def test_redelivered_chunks_change_nothing_the_second_time() -> None:
    deps = make_deps()
    job = jobs.start_async_import(get_kind("numbers"), {}, [*rows(7), {"id": "bad", "n": 0}], ACME, deps)
    drain(deps, times=3)
    stored = deps.imports.get("acme", job.import_id)
    assert stored is not None
    assert stored.counts.as_dict() == {
        "total": 8,
        "valid": 7,
        "invalid": 1,
        "succeeded": 7,
        "failed": 1,
        "skipped": 0,
    }
    assert isinstance(deps.records, FakeRecords)
    assert len(deps.records.items) == 7
    assert len(deps.imports.list_errors("acme", job.import_id, 100, None).items) == 1


def test_a_key_repeated_in_another_chunk_fails_the_later_row() -> None:
    deps = make_deps()
    data = [*rows(5), {"id": "r1", "n": 99}]
    job = jobs.start_async_import(get_kind("numbers"), {}, data, ACME, deps)
    drain(deps)
    (err,) = deps.imports.list_errors("acme", job.import_id, 10, None).items
    assert err == {"index": 5, "id": "r1", "field": "id", "message": "id: duplicate of row 1"}
    assert isinstance(deps.records, FakeRecords)
    assert deps.records.items[("acme", "number", "r1")]["n"] == 2


def test_large_chunks_travel_through_the_payload_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs, "INLINE_CHUNK_BYTES", 10)
    deps = make_deps()
    job = jobs.start_async_import(get_kind("numbers"), {}, rows(4), ACME, deps)
    assert isinstance(deps.queue, FakeQueue)
    assert all(
        "rows" not in m and m["rowsKey"].startswith(f"payloads/acme/{job.import_id}/")
        for m in deps.queue.messages
    )
    drain(deps)
    stored = deps.imports.get("acme", job.import_id)
    assert stored is not None and stored.status == "DONE" and stored.counts.succeeded == 4


def test_a_failing_chunk_keeps_its_reason_and_dead_lettering_fails_its_rows() -> None:
    deps = make_deps()
    job = jobs.start_async_import(get_kind("numbers"), {}, rows(4), ACME, deps)
    assert isinstance(deps.queue, FakeQueue)
    first, second = (jobs.ChunkMessage.from_json(m) for m in deps.queue.messages)
    jobs.process_chunk(second, deps)
    broken = make_deps()  # a tenant directory that lost the tenant: every attempt raises
    broken.imports, broken.payloads = deps.imports, deps.payloads
    broken.tenants.configs.clear()  # type: ignore[attr-defined]
    for _ in range(2):
        with pytest.raises(Exception, match="tenant acme is not configured"):
            jobs.process_chunk(first, broken)
    done = jobs.fail_chunk(first, deps)
    assert done is not None and done.status == "DONE"
    assert done.counts.as_dict() == {
        "total": 4,
        "valid": 1,
        "invalid": 0,
        "succeeded": 1,
        "failed": 3,
        "skipped": 0,
    }
    errors = deps.imports.list_errors("acme", job.import_id, 10, None).items
    assert [e["index"] for e in errors] == [0, 1, 2]
    assert (
        "its chunk failed repeatedly (NotFoundError: tenant acme is not configured)" in errors[0]["message"]
    )
    assert errors[0]["id"] == "r0"
    # The DLQ can deliver twice too.
    assert jobs.fail_chunk(first, deps) is None
    final = deps.imports.get("acme", job.import_id)
    assert final is not None and final.counts.failed == 3


def test_chunks_of_a_finished_import_are_ignored() -> None:
    deps = make_deps()
    jobs.start_async_import(get_kind("numbers"), {}, rows(2), ACME, deps)
    drain(deps)
    assert isinstance(deps.imports, FakeImports)
    assert drain(deps) == []


def test_job_view_hides_other_tenants_and_kinds() -> None:
    deps = make_deps()
    job = jobs.start_async_import(get_kind("numbers"), {}, rows(2), ACME, deps)
    drain(deps)
    assert jobs.job_view(deps, ACME, "numbers", job.import_id)["status"] == "DONE"
    from bulk_import.core.errors import NotFoundError
    from bulk_import.core.tenants import Principal

    with pytest.raises(NotFoundError):
        jobs.job_view(deps, Principal("globex", ACME.scopes), "numbers", job.import_id)
    with pytest.raises(NotFoundError):
        jobs.job_view(deps, ACME, "campaign-customers", job.import_id)


def _chunk_peak_bytes(total_rows: int) -> int:
    import tracemalloc

    deps = make_deps()
    jobs.start_async_import(get_kind("numbers"), {}, rows(total_rows), ACME, deps, max_records=total_rows)
    assert isinstance(deps.queue, FakeQueue)
    drain_first = [jobs.ChunkMessage.from_json(m) for m in deps.queue.messages[:3]]
    jobs.process_chunk(drain_first[0], deps)  # warm caches (kind, plans) outside the measurement
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        jobs.process_chunk(drain_first[1], deps)
        return tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_a_workers_memory_per_chunk_does_not_grow_with_the_import() -> None:
    small, large = _chunk_peak_bytes(30), _chunk_peak_bytes(30_000)
    assert large < small * 1.5 + 4096, (small, large)
