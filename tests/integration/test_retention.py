"""Per-row items of an import expire (the imports table's TTL) after the retention of its tenant."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.integration.conftest import EVENTS, load_event, with_body, with_scopes
from tests.integration.test_import_lifecycle import call, run_worker

from bulk_import import resources
from bulk_import.adapters.aws import build_deps
from bulk_import.adapters.dynamo_imports import DynamoImportRepository
from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
from bulk_import.adapters.seed import load_seed, parse_seed
from bulk_import.core.errors import InvalidRequestError
from bulk_import.entrypoints import runtime
from bulk_import.settings import Settings

SCOPES = "campaigns:write customers:write debts:write imports:read payments:write"
DAY = 86_400


@pytest.fixture
def deps(aws: dict[str, str]) -> Any:
    """The API's dependencies as the functions build them: the imports repository reads each tenant's
    retention from the config table."""
    built = build_deps(Settings.from_env())
    runtime.DEPS.set(built)
    return built


def seed_retention(deps: Any, tenant: str, days: int) -> None:
    document = json.loads((EVENTS / "seed" / "demo-seed.json").read_text())
    for t in document["tenants"]:
        if t["id"] == tenant:
            t["retentionDays"] = days
    assert isinstance(deps.tenants, DynamoTenantDirectory) and isinstance(deps.records, DynamoRecordStore)
    load_seed(document, deps.tenants, deps.records)


def import_items(import_id: str) -> tuple[datetime, list[dict[str, Any]]]:
    """The import's creation time and every other item of its partition, as stored."""
    table = boto3.resource("dynamodb").Table(Settings.from_env().imports_table)
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {}
    while True:
        page = table.scan(**kwargs)
        items += [i for i in page["Items"] if str(i["pk"]).endswith(f"#IMPORT#{import_id}")]
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    meta = next(i for i in items if i["sk"] == "META")
    created = datetime.fromisoformat(str(meta["createdAt"]).replace("Z", "+00:00"))
    return created, [i for i in items if i["sk"] != "META"]


def assert_expire_after(import_id: str, days: int, prefixes: set[str]) -> None:
    created, items = import_items(import_id)
    assert {str(i["sk"]).split("#")[0] for i in items} >= prefixes
    expected = int((created + timedelta(days=days)).timestamp())
    assert {str(i["sk"]): int(i[resources.IMPORTS_TABLE.ttl_attribute or ""]) for i in items} == {
        str(i["sk"]): expected for i in items
    }


def messy_sync_import(context: Any) -> str:
    status, body = call(with_scopes(load_event("api/campaign-customers-messy.json"), SCOPES), context)
    assert status in (200, 201, 207), body
    return str(body["importId"])


def async_payments(context: Any, rows: int) -> str:
    event = load_event("api/payments-import-clean.json")
    item = json.loads(event["body"])["items"][0]
    items = [{**item, "loan_id": f"L{i:05d}", "payment_id": f"P{i:05d}"} for i in range(rows)]
    items[1] = {**items[1], "amount": "not money"}
    status, body = call(with_body(event, {"items": items}), context)
    assert status == 202, body
    return str(body["import_id"])


def test_error_items_of_a_synchronous_import_expire_thirty_days_after_it_by_default(deps, context) -> None:
    import_id = messy_sync_import(context)
    assert_expire_after(import_id, 30, {"ROWS"})


def test_results_and_errors_of_an_asynchronous_import_expire_with_the_tenants_retention(
    deps, context, aws
) -> None:
    seed_retention(deps, "acme", 7)
    import_id = async_payments(context, 5)
    run_worker(aws)
    assert_expire_after(import_id, 7, {"ROWS"})


def test_call_markers_and_chunk_errors_expire_with_the_rows_of_their_import(deps, context) -> None:
    seed_retention(deps, "acme", 7)
    import_id = messy_sync_import(context)
    # Another container's repository: it knows the import by its id only.
    fresh = DynamoImportRepository(
        deps.imports.client, deps.imports.table, deps.imports.writer, deps.imports.config_table
    )
    fresh.record_requested_calls("acme", import_id, ["C1", "C2"])
    fresh.save_chunk_error("acme", import_id, 3, "poison")
    assert_expire_after(import_id, 7, {"ROWS", "CALL", "CHUNKERR"})


def test_the_job_and_its_listing_item_are_kept(deps, context) -> None:
    import_id = messy_sync_import(context)
    table = boto3.resource("dynamodb").Table(Settings.from_env().imports_table)
    kept = [i for i in table.scan()["Items"] if i["sk"] == "META" or str(i["pk"]).startswith("LIST#")]
    assert any(i.get("importId") == import_id for i in kept)
    assert all("expiresAt" not in i for i in kept)


def test_the_api_answers_the_same_whatever_the_retention(deps, context) -> None:
    seed_retention(deps, "acme", 3650)
    import_id = messy_sync_import(context)
    event = load_event("api/campaigns-list.json")
    view = {**event, "path": f"/v1/imports/{import_id}/errors", "httpMethod": "GET"}
    status, page = call(with_scopes(view, SCOPES), context)
    assert status == 200
    assert all("expiresAt" not in json.dumps(entry) for entry in page["errors"])


def seed_with(days: Any) -> dict[str, Any]:
    return {"tenants": [{"id": "acme", "retentionDays": days}]}


@pytest.mark.parametrize("days", [0, 5000, -1, 3651])
def test_the_seed_refuses_a_retention_out_of_bounds_naming_the_tenant_and_the_bounds(days: int) -> None:
    with pytest.raises(InvalidRequestError, match=r"tenant acme: retentionDays .* from 1 to 3650"):
        parse_seed(seed_with(days))


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=3651)))
def test_the_seed_refuses_every_retention_outside_one_day_to_ten_years(days: int) -> None:
    with pytest.raises(InvalidRequestError):
        parse_seed(seed_with(days))


@given(st.integers(min_value=1, max_value=3650))
def test_the_seed_keeps_every_retention_within_bounds(days: int) -> None:
    assert parse_seed(seed_with(days)).tenants[0].retentionDays == days


@pytest.mark.parametrize("days", ["7", 7.5, True, None])
def test_the_seed_refuses_a_retention_that_is_not_a_whole_number(days: Any) -> None:
    with pytest.raises(ValueError, match="retentionDays"):
        parse_seed(seed_with(days))


def test_a_tenant_without_a_retention_keeps_thirty_days() -> None:
    assert parse_seed({"tenants": [{"id": "acme"}]}).tenants[0].retentionDays == 30
