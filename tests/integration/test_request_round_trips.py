"""The DynamoDB calls of a first synchronous import: nothing read that the request already knows."""

from __future__ import annotations

from typing import Any

import pytest
from tests.integration.conftest import load_event

from bulk_import.entrypoints import api, runtime

pytestmark = pytest.mark.usefixtures("aws")


def _calls_of_a_first_request(event: dict[str, Any], context: Any) -> tuple[int, list[tuple[str, str]]]:
    """The answer's status and the (operation, key) of each DynamoDB call a fresh container made."""
    runtime.CLIENTS.set(None)
    runtime.DEPS.set(None)
    seen: list[tuple[str, str]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        key = params.get("Key") or {}
        seen.append((model.name, "#".join(str(v.get("S")) for v in key.values())))

    ddb = runtime.CLIENTS.get().client("dynamodb")
    ddb.meta.events.register("provide-client-params.dynamodb.*", record)
    resp = api.handler(event, context)
    return resp["statusCode"], seen


def test_a_first_synchronous_import_reads_its_tenant_once_and_its_own_job_never(context: Any) -> None:
    status, seen = _calls_of_a_first_request(load_event("api/campaign-customers-clean.json"), context)
    assert status == 201
    gets = [key for op, key in seen if op == "GetItem"]
    # The tenant's configuration (retention included) comes with its one Query; the job, the call stage
    # and the final status are what this container saved itself. The job is read once, after the rows are
    # written, for a cancel sent meanwhile (which must stand); besides it only the webhook endpoint.
    assert [op for op, _ in seen].count("Query") == 1, seen
    assert not [key for key in gets if key.endswith("#CONFIG")], seen
    assert len([key for key in gets if key.endswith("#META")]) == 1, seen
    assert len(gets) <= 2, seen
