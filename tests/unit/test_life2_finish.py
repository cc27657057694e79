"""An import cancelled while the step that finishes it writes its result files stays cancelled, on the
DynamoDB repository (under moto): the step's DONE is conditional, and its files are still recorded."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, cast

import boto3
import pytest
from moto import mock_aws

from bulk_import.adapters.aws import build_deps
from bulk_import.adapters.dynamo_imports import DynamoImportRepository
from bulk_import.core.errors import ConflictError
from bulk_import.core.model import Counts, ImportJob
from bulk_import.core.ports import Deps, ImportRepository
from bulk_import.engine import jobs
from bulk_import.local.resources import create_all, local_names
from bulk_import.settings import Settings, get_settings

NOW = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)


@pytest.fixture
def deps(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deps]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        for key, value in create_all(boto3.session.Session(), local_names(), "us-east-1").items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        yield build_deps(Settings.from_env())
    get_settings.cache_clear()


def running(deps: Deps) -> ImportJob:
    job = ImportJob(
        import_id="imp_finish",
        tenant_id="acme",
        kind="payments",
        source="api",
        status="PROCESSING",
        created_at=NOW,
        updated_at=NOW,
        counts=Counts(total=2, valid=2, succeeded=2),
        chunks_total=1,
        chunks_done=1,
    )
    deps.imports.save(job)
    return job


def test_done_is_refused_once_the_import_was_cancelled_and_the_files_are_recorded_all_the_same(
    deps: Deps,
) -> None:
    imports = deps.imports
    assert isinstance(getattr(imports, "inner", imports), DynamoImportRepository)
    job = running(deps)
    assert imports.cancel("acme", job.import_id, NOW) is not None

    with pytest.raises(ConflictError, match="cancelled"):
        imports.finish("acme", job.import_id, "DONE", NOW, files={"results": "results/acme/x/results.csv"})
    imports.finish("acme", job.import_id, None, NOW, files={"results": "results/acme/x/results.csv"})

    stored = imports.get("acme", job.import_id)
    assert stored is not None and stored.status == "CANCELLED"
    assert stored.files == {"results": "results/acme/x/results.csv"}


def test_the_worker_of_the_last_chunk_finishing_an_import_cancelled_meanwhile_leaves_it_cancelled(
    deps: Deps,
) -> None:
    job = running(deps)
    imports = deps.imports

    class CancelledAfterTheRead:
        """The repository, with a cancel landing right after the worker reads the import again."""

        cancelled = False

        def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
            found = imports.get(tenant_id, import_id)  # the worker reads it still PROCESSING...
            if not self.cancelled:
                assert imports.cancel(tenant_id, import_id, NOW) is not None  # ...and the cancel lands
                self.cancelled = True
            return found

        def __getattr__(self, name: str) -> Any:
            return getattr(imports, name)

    worker = replace(deps, imports=cast(ImportRepository, CancelledAfterTheRead()))
    finished = jobs.finish_import(worker, job)

    stored = deps.imports.get("acme", job.import_id)
    assert finished.status == "CANCELLED"
    assert stored is not None and stored.status == "CANCELLED"
    assert {"errors", "results"} <= set(stored.files)
