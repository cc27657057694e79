"""Retrying the failed rows of a finished import, through the API handler under moto."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from tests.integration.conftest import EVENTS, load_event, with_body, with_scopes
from tests.integration.test_import_lifecycle import SCOPES, call, cancel, get, run_worker

from bulk_import.adapters.aws import build_deps
from bulk_import.adapters.seed import load_seed
from bulk_import.settings import Settings

pytestmark = pytest.mark.usefixtures("aws")


def retry(import_id: str, *, tenant: str = "acme", scopes: str = SCOPES) -> dict[str, Any]:
    # Sent as a client would: a POST with no body at all.
    base = load_event("api/campaigns-list.json")
    event = {**base, "path": f"/v1/imports/{import_id}/retry", "httpMethod": "POST", "body": None}
    return with_scopes(event, scopes, tenant)


def payments(context: Any, contacts: list[str]) -> str:
    event = load_event("api/payments-import-clean.json")
    item = json.loads(event["body"])["items"][0]
    items = [
        {**item, "id": f"pay-r{i}", "target": {"type": "contact", "id": contact}}
        for i, contact in enumerate(contacts)
    ]
    status, body = call(with_body(event, {"items": items}), context)
    assert status == 202, body
    return str(body["import_id"])


def authorize_every_contact() -> None:
    seed = json.loads((EVENTS / "seed" / "demo-seed.json").read_text())
    for tenant in seed["tenants"]:
        for contact in tenant.get("contacts", []):
            contact["authorized"] = True
    deps = build_deps(Settings.from_env())
    load_seed(seed, deps.tenants, deps.records)


def progress(context: Any, import_id: str) -> dict[int, dict[str, Any]]:
    status, view = call(get(f"/payments/payments/import/{import_id}"), context)
    assert status == 200, view
    return {int(p["row"]): p for p in view["progress"]}


def errors_of(context: Any, import_id: str) -> list[dict[str, Any]]:
    status, page = call(get(f"/v1/imports/{import_id}/errors"), context)
    assert status == 200, page
    return list(page["errors"])


def test_a_payment_to_a_contact_authorized_since_succeeds_on_retry_at_its_first_index(aws, context) -> None:
    original = payments(context, ["ct-1", "ct-2", "ct-1", "ct-2", "ct-1"])
    run_worker(aws)
    _, view = call(get(f"/v1/imports/{original}"), context)
    assert view["status"] == "DONE" and view["counts"]["failed"] == 2, view
    authorize_every_contact()

    status, body = call(retry(original), context)
    assert status == 202, body
    assert body["retryOf"] == original and body["total"] == 2 and body["importId"] != original
    run_worker(aws)
    _, again = call(get(f"/v1/imports/{body['importId']}"), context)
    assert again["status"] == "DONE" and again["retryOf"] == original
    assert again["counts"]["total"] == 2 and again["counts"]["succeeded"] == 2, again
    rows = progress(context, body["importId"])
    assert sorted(rows) == [1, 3] and {p["status"] for p in rows.values()} == {"SUCCESS"}


def test_a_retry_of_a_retry_keeps_the_first_imports_indexes(aws, context) -> None:
    original = payments(context, ["ct-1", "ct-2", "ct-2", "ct-unknown"])
    run_worker(aws)
    status, first = call(retry(original), context)
    assert status == 202 and first["total"] == 3, first
    run_worker(aws)
    assert {e["index"] for e in errors_of(context, first["importId"])} == {1, 2, 3}
    authorize_every_contact()
    status, second = call(retry(first["importId"]), context)
    assert status == 202 and second["retryOf"] == first["importId"] and second["total"] == 3, second
    run_worker(aws)
    _, view = call(get(f"/v1/imports/{second['importId']}"), context)
    assert view["counts"]["succeeded"] == 2 and view["counts"]["failed"] == 1, view
    assert [e["index"] for e in errors_of(context, second["importId"])] == [3]


def campaign_customers(context: Any, bad_rows: set[int], rows: int = 4) -> tuple[str, list[dict[str, Any]]]:
    event = with_scopes(load_event("api/campaign-customers-clean.json"), SCOPES)
    body = json.loads(event["body"])
    template = body["records"][0]
    customers = []
    for i in range(rows):
        row = copy.deepcopy(template)
        row["loan_id"] = f"L-{i:04d}"
        row["phone_number"] = f"06 12 34 {i:02d} 78"
        if i in bad_rows:
            row["phone_number"] = "not a phone"
        customers.append(row)
    status, answer = call(with_body(event, {**body, "records": customers}), context)
    assert status in (200, 201, 207), answer
    return str(answer["importId"]), customers


def test_a_synchronous_retry_imports_the_failed_rows_as_sent_at_their_indexes(context) -> None:
    original, _ = campaign_customers(context, {1, 3})
    status, body = call(retry(original), context)
    assert status == 202 and body["total"] == 2 and body["retryOf"] == original, body
    _, view = call(get(f"/v1/imports/{body['importId']}"), context)
    # Sent as they were, the rows fail again, for the same reason and at the same place.
    assert view["status"] == "DONE" and view["retryOf"] == original and view["counts"]["failed"] == 2
    assert [e["index"] for e in errors_of(context, body["importId"])] == [1, 3]
    assert errors_of(context, body["importId"]) == errors_of(context, original)


def test_an_import_without_a_failed_row_or_still_running_answers_409(aws, context) -> None:
    clean, _ = campaign_customers(context, set())
    status, body = call(retry(clean), context)
    assert status == 409 and "no failed row" in body["message"] and body["errors"] == [body["message"]]
    queued = payments(context, ["ct-2"])
    status, body = call(retry(queued), context)
    assert status == 409 and "QUEUED" in body["message"], body


def test_a_cancelled_import_retries_its_failed_rows_only(aws, context) -> None:
    queued = payments(context, ["ct-2", "ct-1"])
    assert call(cancel(queued), context)[0] == 200
    run_worker(aws)
    status, body = call(retry(queued), context)
    assert status == 409 and "no failed row" in body["message"], body


def test_another_tenants_import_is_not_found_and_the_kinds_scope_is_needed(context) -> None:
    original, _ = campaign_customers(context, {0})
    status, body = call(retry(original, tenant="globex"), context)
    assert status == 404, body
    status, body = call(retry(original, scopes="imports:read"), context)
    assert status == 403, body
    status, _ = call(retry("no-such-import"), context)
    assert status == 404
