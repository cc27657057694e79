"""results.csv and errors.csv as streams, and an asynchronous import finished with them by its last chunk."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fakes import ACME, FakeFiles, make_deps

from bulk_import.core.ports import Deps
from bulk_import.engine import jobs
from bulk_import.engine.files.row_files import CsvStream
from bulk_import.kinds import get_kind

PAYMENTS = get_kind("payments")
cells = st.one_of(st.none(), st.integers(), st.text(max_size=40))


def read_in_parts(stream: CsvStream, part: int) -> tuple[bytes, list[int]]:
    data, sizes = b"", []
    while chunk := stream.read(part):
        data += chunk
        sizes.append(len(chunk))
    return data, sizes


@given(st.lists(st.lists(cells, min_size=1, max_size=4), max_size=60), st.integers(1, 5000))
def test_a_stream_read_in_parts_of_any_size_is_the_whole_csv_with_full_parts(
    rows: list[list[Any]], part: int
) -> None:
    data, sizes = read_in_parts(CsvStream(["a", "b"], rows), part)
    # Every part but the last is full: an upload in parts needs parts of the size it asked for.
    assert all(size == part for size in sizes[:-1])
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[0] == ["a", "b"] and len(parsed) == 1 + len(rows)
    for sent, got in zip(rows, parsed[1:], strict=True):
        for value, cell in zip(sent, got, strict=True):
            text = "" if value is None else value if isinstance(value, str) else json.dumps(value)
            assert cell == ("'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text)


def test_a_lone_surrogate_in_a_row_does_not_lose_the_file() -> None:
    data, _ = read_in_parts(CsvStream(["a"], [["ok"], ["bad \ud800 char"], ["after"]]), 7)
    assert [r[0] for r in csv.reader(io.StringIO(data.decode("utf-8-sig")))] == [
        "a",
        "ok",
        "bad ? char",
        "after",
    ]


def items(contacts: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"pay-{i}",
            "source": {"type": "group", "id": "grp-main"},
            "target": {"type": "contact", "id": contact},
            "amount": {"type": "SEND", "amount": "10.00", "currency": "EUR"},
            "execution": {"date": "2026-12-01T09:00:00Z"},
        }
        for i, contact in enumerate(contacts)
    ]


def run_chunks(deps: Deps) -> None:
    assert deps.queue is not None
    for body in list(deps.queue.messages):  # type: ignore[attr-defined]
        jobs.process_chunk(jobs.ChunkMessage.from_json(body), deps)


def csv_rows(files: FakeFiles, key: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(files.text(key))))


def test_the_last_chunk_finishes_the_import_with_its_files_before_anyone_reads_it() -> None:
    deps = make_deps()
    sent = items(["ct-1"] * 300 + ["ct-2"] * 3 + ["ct-1"] * 200)
    job = jobs.start_async_import(PAYMENTS, {"items": sent}, sent, ACME, deps)
    run_chunks(deps)
    done = deps.imports.get("acme", job.import_id)
    assert done is not None and done.status == "DONE" and set(done.files) == {"results", "errors"}
    files = deps.files
    assert isinstance(files, FakeFiles)
    results = csv_rows(files, done.files["results"])
    assert len(results) == 1 + 503 and [r[2] for r in results[301:304]] == ["failed"] * 3
    errors = csv_rows(files, done.files["errors"])
    assert [r[0] for r in errors[1:]] == ["300", "301", "302"]
    assert [json.loads(r[3])["id"] for r in errors[1:]] == ["pay-300", "pay-301", "pay-302"]


def test_an_import_whose_files_cannot_be_written_still_finishes(monkeypatch: pytest.MonkeyPatch) -> None:
    deps = make_deps()

    def refuse(*_: Any) -> None:
        raise OSError("the bucket is unreachable")

    monkeypatch.setattr(deps.files, "put", refuse)
    sent = items(["ct-1", "ct-2"])
    job = jobs.start_async_import(PAYMENTS, {"items": sent}, sent, ACME, deps)
    run_chunks(deps)
    done = deps.imports.get("acme", job.import_id)
    assert done is not None and done.status == "DONE" and not done.files
    assert (done.counts.succeeded, done.counts.failed) == (1, 1)


def test_a_chunk_delivered_again_after_its_worker_stopped_finishes_the_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deps = make_deps()
    sent = items(["ct-1", "ct-2"])
    job = jobs.start_async_import(PAYMENTS, {"items": sent}, sent, ACME, deps)
    real_finish = jobs.finish_import

    def stopped(*_: Any) -> Any:
        raise TimeoutError("the function timed out")

    monkeypatch.setattr(jobs, "finish_import", stopped)
    with pytest.raises(TimeoutError):
        run_chunks(deps)
    halfway = deps.imports.get("acme", job.import_id)
    assert halfway is not None and halfway.status == "PROCESSING" and halfway.inserted_at is not None
    monkeypatch.setattr(jobs, "finish_import", real_finish)
    run_chunks(deps)
    done = deps.imports.get("acme", job.import_id)
    assert done is not None and done.status == "DONE" and set(done.files) == {"results", "errors"}
    assert (done.counts.succeeded, done.counts.failed) == (1, 1)


def test_a_synchronous_imports_files_are_kept_when_its_workflow_finishes_it() -> None:
    from pathlib import Path

    from bulk_import.engine.files.row_files import write_api_results
    from bulk_import.usecases.sync_imports import run_inline_import

    deps = make_deps()
    event = Path(__file__).resolve().parents[2] / "events" / "api" / "campaign-customers-clean.json"
    body = json.loads(json.loads(event.read_text(encoding="utf-8"))["body"])
    kind = get_kind("campaign-customers")
    job = run_inline_import(kind, body, body["records"], ACME, deps).job
    files = deps.files
    assert isinstance(files, FakeFiles) and "results" in job.files
    before = csv_rows(files, job.files["results"])
    assert len(before) == 1 + len(body["records"])
    # What a workflow's finalization does once the calls are requested: the rows are not read again.
    assert write_api_results(deps, job) == job.files
    assert csv_rows(files, job.files["results"]) == before
