"""Handlers and adapters under moto: the real resources, the demo seed, events from ``events/``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bulk_import.adapters.aws import build_deps
from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
from bulk_import.adapters.seed import load_seed
from bulk_import.entrypoints import authorizer, runtime
from bulk_import.local.emulation import fast_sqs
from bulk_import.local.gateway import LambdaContext
from bulk_import.local.resources import create_all, local_names
from bulk_import.local.workflow import LambdaRouter, executing_workflows
from bulk_import.settings import Settings, get_settings

EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    """An event file from ``events/`` (path relative to it)."""
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def _stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    names = create_all(boto3.session.Session(), local_names(), "us-east-1")
    for k, v in names.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    runtime.DEPS.set(None)
    runtime.IDEMPOTENCY.set(None)
    authorizer.DIRECTORY.set(None)
    deps = build_deps(Settings.from_env())
    assert isinstance(deps.tenants, DynamoTenantDirectory) and isinstance(deps.records, DynamoRecordStore)
    load_seed(json.loads((EVENTS / "seed" / "demo-seed.json").read_text()), deps.tenants, deps.records)
    yield names
    get_settings.cache_clear()
    runtime.DEPS.set(None)
    runtime.IDEMPOTENCY.set(None)
    authorizer.DIRECTORY.set(None)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Moto with the stack's resources and the demo seed; handlers rebuilt against it.

    moto records workflow executions here without running them (see ``aws_workflows``).
    """
    with mock_aws():
        yield from _stack(monkeypatch)
    os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture
def aws_workflows(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[dict[str, str], LambdaRouter]]:
    """As ``aws``, and moto's Step Functions interpreter runs the workflow, its tasks on our handler."""
    with mock_aws(), executing_workflows() as router, fast_sqs():
        for names in _stack(monkeypatch):
            yield names, router
    os.environ.pop("AWS_ENDPOINT_URL", None)


@pytest.fixture
def context() -> LambdaContext:
    """A Lambda context object."""
    return LambdaContext("test")


def with_body(event: dict[str, Any], body: Any) -> dict[str, Any]:
    """A copy of ``event`` with another JSON body (or raw text when ``body`` is a str)."""
    return {**event, "body": body if isinstance(body, str) else json.dumps(body)}


def with_scopes(event: dict[str, Any], scopes: str, tenant: str = "acme") -> dict[str, Any]:
    """A copy of ``event`` as the authorizer would pass it for another tenant or scope set."""
    ctx = {
        **event["requestContext"],
        "authorizer": {"principalId": tenant, "tenantId": tenant, "scopes": scopes},
    }
    return {**event, "requestContext": ctx}
