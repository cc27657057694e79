"""What happened to each row, stored a block per chunk under moto: error pages and job views keep their
contract whatever the chunks, the splits of large blocks, the page sizes and the cursors."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulk_import.adapters import dynamo_results
from bulk_import.adapters.dynamo_imports import DynamoImportRepository
from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.model import Counts, FieldError, ImportJob, RowOutcome
from bulk_import.engine import paging
from bulk_import.entrypoints import runtime

pytestmark = pytest.mark.usefixtures("aws")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
RUNS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def repository() -> DynamoImportRepository:
    imports = runtime.DEPS.get().imports
    while not isinstance(imports, DynamoImportRepository):  # a wrapper that announces, around the store
        imports = imports.inner
    return imports


def saved_job(rows: int) -> ImportJob:
    job = ImportJob(
        import_id=f"imp_{uuid.uuid4().hex}",
        tenant_id="acme",
        kind="payments",
        source="api",
        status="PROCESSING",
        created_at=NOW,
        updated_at=NOW,
        counts=Counts(total=rows),
    )
    repository().save(job)
    return job


def outcome(index: int, errors: int, width: int) -> RowOutcome:
    o = RowOutcome(index=index, raw=None, refs={"id": f"p{index}"})
    for n in range(errors):
        # Texts of every width, some far from compressible, so that large blocks split in parts.
        o.errors.append(FieldError(f"f{n}", f"f{n}: {uuid.uuid4().hex * width}"[:1000]))
    o.status = "failed" if errors else "created"
    return o


def result(o: RowOutcome) -> dict[str, Any]:
    return {"index": o.index, "id": o.refs["id"], "status": o.status, "errors": [e.message for e in o.errors]}


def write(job: ImportJob, outcomes: list[RowOutcome], chunk: int, *, results: bool = True) -> None:
    for start in range(0, len(outcomes), chunk):
        part = outcomes[start : start + chunk]
        repository().add_rows(job, part, [result(o) for o in part] if results else None)


def all_errors(imports: DynamoImportRepository, job: ImportJob, limit: int) -> list[list[dict[str, Any]]]:
    pages, cursor = [], None
    while True:
        page = imports.list_errors(job.tenant_id, job.import_id, limit, cursor)
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages


rows_of = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 40)), min_size=1, max_size=120)


@RUNS
@given(
    rows=rows_of,
    chunk=st.integers(1, 130),
    limit=st.integers(1, 60),
    part_bytes=st.sampled_from([1_500, 6_000, dynamo_results.MAX_PART_BYTES]),
    first=st.integers(0, 5),
)
def test_error_pages_list_every_entry_once_in_row_order_whatever_the_chunks_and_splits(
    rows: list[tuple[int, int]], chunk: int, limit: int, part_bytes: int, first: int
) -> None:
    job = saved_job(len(rows))
    # Rows start at ``first``: a retry keeps the indexes of the rows it sends again.
    outcomes = [outcome(first + i, errors, width) for i, (errors, width) in enumerate(rows)]
    with mock.patch.object(dynamo_results, "MAX_PART_BYTES", part_bytes):
        write(job, outcomes, chunk, results=False)
        pages = all_errors(repository(), job, limit)
    expected = [entry for o in outcomes for entry in o.error_entries()]
    assert [entry for page in pages for entry in page] == expected
    assert all(len(page) <= limit for page in pages)
    # Every page but the last is full, and the last one is empty only when there is nothing at all.
    assert all(len(page) == limit for page in pages[:-1])
    assert bool(pages[-1]) == bool(expected)


@RUNS
@given(
    rows=rows_of,
    chunk=st.integers(1, 130),
    limit=st.integers(1, 60),
    part_bytes=st.sampled_from([1_500, 6_000, dynamo_results.MAX_PART_BYTES]),
)
def test_job_view_pages_list_every_result_once_in_row_order_whatever_the_chunks_and_splits(
    rows: list[tuple[int, int]], chunk: int, limit: int, part_bytes: int
) -> None:
    job = saved_job(len(rows))
    outcomes = [outcome(i, errors, width) for i, (errors, width) in enumerate(rows)]
    with mock.patch.object(dynamo_results, "MAX_PART_BYTES", part_bytes):
        write(job, outcomes, chunk)
        seen: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = paging.read_page(repository(), job.tenant_id, job.import_id, limit, cursor)
            assert 1 <= len(page.results) <= limit
            seen += page.results
            cursor = page.next_cursor
            if cursor is None:
                break
        tally = repository().count_results(job.tenant_id, job.import_id)
    assert seen == [result(o) for o in outcomes]
    assert tally == {s: sum(o.status == s for o in outcomes) for s in {o.status for o in outcomes}}


def test_a_chunk_written_again_in_fewer_parts_shows_only_its_latest_rows() -> None:
    job = saved_job(40)
    long = [outcome(i, 3, 30) for i in range(40)]
    with mock.patch.object(dynamo_results, "MAX_PART_BYTES", 3_000):
        write(job, long, 40)
        parts = len(repository().client.query(**_rows_query(job))["Items"])
        # Delivered again, the same chunk now fails every row with one short error: fewer parts.
        short = [outcome(i, 1, 1) for i in range(40)]
        write(job, short, 40)
    assert parts > 2
    imports = repository()
    assert imports.list_results(job.tenant_id, job.import_id) == [result(o) for o in short]
    assert all_errors(imports, job, 1_000) == [[e for o in short for e in o.error_entries()]]
    assert imports.count_results(job.tenant_id, job.import_id) == {"failed": 40}


def _rows_query(job: ImportJob) -> dict[str, Any]:
    return {
        "TableName": repository().table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :r)",
        "ExpressionAttributeValues": {
            ":pk": {"S": f"T#{job.tenant_id}#IMPORT#{job.import_id}"},
            ":r": {"S": "ROWS#"},
        },
    }


def test_a_chunk_is_one_item_of_a_few_kilobytes() -> None:
    job = saved_job(250)
    write(job, [outcome(i, 0, 1) for i in range(250)], 250)
    (item,) = repository().client.query(**_rows_query(job))["Items"]
    assert len(item["res"]["B"]) < 4_000


def test_a_synchronous_import_without_errors_writes_no_row_item() -> None:
    job = saved_job(10)
    repository().add_rows(job, [outcome(i, 0, 1) for i in range(10)])
    assert repository().client.query(**_rows_query(job))["Items"] == []


@pytest.mark.parametrize(
    "cursor",
    ["", "not-a-cursor", "eyJzayI6ICJFUlIjMDAwMDAwMDAxIzAwMCJ9", "eyJpIjoiIiwiZSI6WzEsMV19", "A" * 300],
    ids=["empty", "garbage", "an earlier layout", "another binding", "too long"],
)
def test_an_error_cursor_this_import_never_returned_is_refused(cursor: str) -> None:
    job = saved_job(3)
    write(job, [outcome(i, 2, 1) for i in range(3)], 3)
    with pytest.raises(InvalidRequestError, match="cursor"):
        repository().list_errors(job.tenant_id, job.import_id, 1, cursor or "=")


def test_an_error_cursor_of_one_import_is_refused_by_another() -> None:
    first, other = saved_job(3), saved_job(3)
    for job in (first, other):
        write(job, [outcome(i, 2, 1) for i in range(3)], 3)
    cursor = repository().list_errors(first.tenant_id, first.import_id, 1, None).next_cursor
    assert cursor is not None
    with pytest.raises(InvalidRequestError, match="cursor"):
        repository().list_errors(other.tenant_id, other.import_id, 1, cursor)


def test_a_single_row_too_large_for_one_item_keeps_its_first_errors() -> None:
    job = saved_job(1)
    huge = outcome(0, 400, 40)
    with mock.patch.object(dynamo_results, "MAX_PART_BYTES", 20_000):
        write(job, [huge], 1)
    kept = repository().list_errors(job.tenant_id, job.import_id, 1_000, None).items
    assert 0 < len(kept) < 400
    assert kept == huge.error_entries()[: len(kept)]


def test_an_import_job_is_updated_once_per_chunk_and_once_more_when_complete() -> None:
    job = saved_job(30)
    job.chunks_total = 3
    imports = repository()
    imports.save(job)
    updates: list[str] = []
    real = imports.client.update_item

    def spy(**kwargs: Any) -> Any:
        updates.append(kwargs["UpdateExpression"].split()[0])
        return real(**kwargs)

    with mock.patch.object(imports.client, "update_item", spy):
        completed = []
        for chunk in (0, 1, 2, 1):  # the last one is a chunk delivered twice
            imports.apply_chunk(job.tenant_id, job.import_id, chunk, Counts(succeeded=10), NOW)
            completed.append(imports.complete_if_done(job.tenant_id, job.import_id, NOW, final=True))
    assert [c is not None for c in completed] == [False, False, True, False]
    # Three chunks counted, one completion, and the repeat's two refused conditional writes.
    assert updates == ["ADD", "ADD", "ADD", "SET", "ADD", "SET"]
    stored = imports.get(job.tenant_id, job.import_id)
    assert stored is not None and (stored.status, stored.counts.succeeded) == ("DONE", 30)
