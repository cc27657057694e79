"""Once answered, an import never stays QUEUED or PROCESSING because something failed."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.fakes import ACME, FakeFiles, FakeImports, FakeRecords, FixedClock, make_deps

from bulk_import.core.errors import BulkImportError, ImportFailedError
from bulk_import.core.model import StoredRecord, WriteFailure
from bulk_import.core.ports import Deps
from bulk_import.engine.files.options import drop_import_id
from bulk_import.entrypoints import file_drop, runtime
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.local.gateway import LambdaContext
from bulk_import.usecases.imports import sweep_abandoned_uploads
from bulk_import.usecases.sync_imports import run_inline_import
from bulk_import.usecases.uploads import create_upload

FRENCH = (Path(__file__).resolve().parents[2] / "events" / "files" / "debts-relances-fr.csv").read_bytes()


@pytest.fixture(autouse=True)
def numbers_kind(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(REGISTRY, "numbers", "tests.unit.test_jobs:NumbersKind")
    get_kind.cache_clear()
    yield
    get_kind.cache_clear()


class RecordsThatBreak(FakeRecords):
    """Stores the first ``works`` batches, then raises like a store whose table went away."""

    def __init__(self, works: int, error: Exception) -> None:
        super().__init__()
        self.works, self.error = works, error

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        if self.calls >= self.works:
            raise self.error
        return super().put_records(tenant_id, import_id, records)


def numbers(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "n": i + 1} for i in range(n)]


def broken_import(deps: Deps, monkeypatch: pytest.MonkeyPatch, error: Exception) -> ImportFailedError:
    monkeypatch.setattr(get_kind("numbers"), "write_batch_size", 10)
    deps.records = RecordsThatBreak(works=1, error=error)
    with pytest.raises(ImportFailedError) as caught:
        run_inline_import(get_kind("numbers"), {}, [*numbers(24), {"id": "bad", "n": -1}], ACME, deps)
    return caught.value


# -- synchronous imports ---------------------------------------------------------------------------------
def test_a_synchronous_import_whose_store_fails_midway_ends_failed_with_its_id_and_counts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deps = make_deps()
    error = broken_import(deps, monkeypatch, KeyError("ResourceNotFoundException <html>…</html>"))
    assert error.status == 500 and isinstance(error, BulkImportError)
    import_id = error.details["importId"]
    assert error.message == (
        f"the import failed before it finished: 10 of 25 rows were stored; the others were not "
        f"(GET /v1/imports/{import_id} says which)"
    )
    job = deps.imports.get("acme", import_id)
    assert job is not None and job.status == "FAILED" and job.completed_at is not None
    assert job.counts.as_dict() == {
        "total": 25,
        "valid": 24,
        "invalid": 1,
        "succeeded": 10,
        "failed": 15,
        "skipped": 0,
    }
    assert job.error == "the import stopped on an unexpected error (KeyError); 10 of 25 rows were stored"
    errors = deps.imports.list_errors("acme", import_id, 100, None).items
    assert [e["index"] for e in errors] == list(range(10, 25))
    assert errors[0]["message"] == (
        "row: not stored: the import stopped on an unexpected error before this row; send it again"
    )
    assert errors[-1]["field"] == "n"  # the invalid row keeps its own reason
    assert "<html>" not in json.dumps([job.to_api(), errors]) + error.message


def test_a_failed_import_whose_failure_cannot_be_recorded_still_names_its_import(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deps = make_deps()

    class Unsaveable(FakeImports):
        def save(self, job: Any) -> None:
            if job.status == "FAILED":
                raise ConnectionError("dynamodb unreachable")
            super().save(job)

    deps.imports = Unsaveable()
    error = broken_import(deps, monkeypatch, ConnectionError("dynamodb unreachable"))
    assert error.details["importId"].startswith("imp_")


# -- uploads that never get their file -------------------------------------------------------------------
def test_the_sweep_fails_an_upload_24_hours_after_its_url_expired_and_leaves_a_fresh_one() -> None:
    deps = make_deps()
    clock = deps.clock
    assert isinstance(clock, FixedClock)
    old = create_upload(deps, ACME, "debts", "july.csv", {})["importId"]
    clock.current += timedelta(hours=20)
    fresh = create_upload(deps, ACME, "debts", "august.csv", {})["importId"]

    clock.current += timedelta(hours=4)  # 24 hours after the first upload: its URL expired 23 hours ago
    assert sweep_abandoned_uploads(deps) == []
    clock.current += timedelta(hours=1, seconds=5)
    assert sweep_abandoned_uploads(deps) == [old]
    assert sweep_abandoned_uploads(deps) == []  # swept once

    failed, waiting = deps.imports.get("acme", old), deps.imports.get("acme", fresh)
    assert failed is not None and waiting is not None
    assert failed.status == "FAILED" and failed.error is not None
    assert failed.error.startswith("no file was uploaded (the upload URL expired at ")
    assert waiting.status == "QUEUED"
    assert isinstance(deps.files, FakeFiles)
    summary = json.loads(deps.files.text(failed.files["summary"]))
    assert summary["status"] == "FAILED" and "no file was uploaded" in json.dumps(summary)


def test_an_upload_whose_file_arrived_is_left_alone_by_the_sweep() -> None:
    from bulk_import.usecases.files import handle_drop

    deps = make_deps()
    assert isinstance(deps.clock, FixedClock) and isinstance(deps.files, FakeFiles)
    answer = create_upload(deps, ACME, "debts", "july.csv", {"timeline_id": "tl-standard"})
    handle_drop(deps, deps.files.add(answer["key"], FRENCH))
    deps.clock.current += timedelta(days=2)
    assert sweep_abandoned_uploads(deps) == []
    job = deps.imports.get("acme", answer["importId"])
    assert job is not None and job.status != "FAILED"


# -- files whose processing exhausts its retries ---------------------------------------------------------
def dead_letter(key: str, size: int) -> dict[str, Any]:
    notification = {
        "Records": [{"eventName": "ObjectCreated:Put", "s3": {"object": {"key": key, "size": size}}}]
    }
    return {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "h1",
                "body": json.dumps(notification),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:file-drops-dlq",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_the_file_drop_dead_letter_consumer_fails_the_files_import_with_the_reason() -> None:
    deps = make_deps()
    assert isinstance(deps.files, FakeFiles)
    key = "incoming/acme/debts/relances.csv"
    drop = deps.files.add(key, FRENCH)
    runtime.DEPS.set(deps)
    try:
        answer = file_drop.dlq_handler(dead_letter(key, len(FRENCH)), LambdaContext("file-drop-dlq"))
    finally:
        runtime.DEPS.set(None)
    assert answer == {"batchItemFailures": []}
    job = deps.imports.get("acme", drop_import_id(key, drop.identity()))
    assert job is not None and job.status == "FAILED"
    assert job.error == (
        "the file could not be imported: its processing did not finish in any of its 3 attempts "
        "(it ran out of time or memory)"
    )
    summary = json.loads(deps.files.text(job.files["summary"]))
    assert summary["status"] == "FAILED"
