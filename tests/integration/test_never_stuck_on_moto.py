"""Never stuck, over moto and through the handlers: a failing synchronous import answers 500 with its id;
the scheduled sweep fails uploads that never got their file, reading them by due hour (no scan)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from tests.fakes import ACME, FixedClock
from tests.integration.conftest import load_event

from bulk_import.adapters.dynamo_imports import DynamoImportRepository
from bulk_import.entrypoints import api, runtime, sweep
from bulk_import.usecases.uploads import create_upload


class NoScans:
    """A DynamoDB client that refuses to scan (the sweep must find pending uploads without one)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def scan(self, **kwargs: Any) -> Any:
        raise AssertionError("the imports table was scanned")


def test_a_synchronous_import_that_stops_midway_answers_500_with_its_import_id(
    aws: dict[str, str], context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps = runtime.DEPS.get()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("<html><body>Internal Server Error</body></html>")

    monkeypatch.setattr(deps.records, "put_records", broken)
    resp = api.handler(load_event("api/campaign-customers-clean.json"), context)
    body = json.loads(resp["body"])
    assert resp["statusCode"] == 500
    assert body["message"].startswith("the import failed before it finished: 0 of 3 rows were stored")
    assert "<html>" not in resp["body"]
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.status == "FAILED"
    assert job.counts.total == 3 and job.counts.succeeded == 0 and job.counts.failed == 3


def test_the_scheduled_sweep_fails_expired_uploads_without_scanning(
    aws: dict[str, str], context: Any
) -> None:
    deps = runtime.DEPS.get()
    clock = FixedClock()
    deps.clock = clock
    assert isinstance(deps.imports, DynamoImportRepository)
    deps.imports.client = NoScans(deps.imports.client)
    old = create_upload(deps, ACME, "debts", "july.csv", {})["importId"]
    clock.current += timedelta(hours=3)
    fresh = create_upload(deps, ACME, "debts", "august.csv", {})["importId"]

    clock.current += timedelta(hours=23)  # the first URL expired 25 hours ago, the second 22 hours ago
    assert sweep.handler({"source": "aws.events"}, context) == {"failedUploads": 1, "importIds": [old]}
    assert sweep.handler({"source": "aws.events"}, context)["failedUploads"] == 0

    failed, waiting = deps.imports.get("acme", old), deps.imports.get("acme", fresh)
    assert failed is not None and failed.status == "FAILED"
    assert failed.error is not None and failed.error.startswith("no file was uploaded")
    assert failed.files.get("summary", "").endswith("summary.json")
    assert waiting is not None and waiting.status == "QUEUED"

    clock.current += timedelta(hours=4)
    assert sweep.handler({}, context)["importIds"] == [fresh]
