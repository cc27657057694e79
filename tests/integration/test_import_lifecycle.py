"""The list of a tenant's imports and the cancel of an import, through the API handler under moto."""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest
from tests.integration.conftest import load_event, with_body, with_scopes

from bulk_import import resources
from bulk_import.entrypoints import api, worker
from bulk_import.local.poller import SqsPoller

pytestmark = pytest.mark.usefixtures("aws")

SCOPES = "campaigns:write customers:write debts:write imports:read payments:write"


def call(event: dict[str, Any], context: Any) -> tuple[int, Any]:
    resp = api.handler(event, context)
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None


def get(path: str, *, tenant: str = "acme", query: dict | None = None) -> dict:
    base = load_event("api/campaigns-list.json")
    return with_scopes(
        {**base, "path": path, "httpMethod": "GET", "queryStringParameters": query}, SCOPES, tenant
    )


def cancel(import_id: str, *, tenant: str = "acme", scopes: str = SCOPES) -> dict:
    # Sent as a client would: a POST with no body at all.
    base = load_event("api/campaigns-list.json")
    event = {**base, "path": f"/v1/imports/{import_id}/cancel", "httpMethod": "POST", "body": None}
    return with_scopes(event, scopes, tenant)


def sync_import(context: Any, *, tenant: str = "acme") -> str:
    status, body = call(with_scopes(load_event("api/campaign-customers-clean.json"), SCOPES, tenant), context)
    assert status == 201, body
    return str(body["importId"])


def async_import(context: Any, rows: int) -> str:
    event = load_event("api/payments-import-clean.json")
    item = json.loads(event["body"])["items"][0]
    items = [{**item, "loan_id": f"L{i:05d}", "payment_id": f"P{i:05d}"} for i in range(rows)]
    status, body = call(with_body(event, {"items": items}), context)
    assert status == 202, body
    return str(body["import_id"])


def listed(context: Any, **query: str) -> list[dict[str, Any]]:
    """Every page of ``GET /v1/imports`` with ``query``, to the end."""
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(50):
        status, page = call(
            get("/v1/imports", query={**query, **({"cursor": cursor} if cursor else {})}), context
        )
        assert status == 200, page
        seen += page["imports"]
        cursor = page["nextCursor"]
        if cursor is None:
            return seen
    raise AssertionError("the list never ended")


def run_worker(names: dict[str, str]) -> None:
    poller = SqsPoller(
        boto3.client("sqs"),
        names[resources.CHUNK_QUEUE_ENV],
        worker.handler,
        batch_size=resources.CHUNK_BATCH_SIZE,
    )
    poller._arn = "arn:aws:sqs:us-east-1:123456789012:chunks"
    for _ in range(30):
        if poller.poll_once() == 0:
            return


def test_the_list_is_newest_first_in_the_shape_of_each_imports_view(context) -> None:
    ids = [sync_import(context) for _ in range(3)]
    status, page = call(get("/v1/imports"), context)
    assert status == 200 and page["nextCursor"] is None
    assert [i["importId"] for i in page["imports"]] == ids[::-1]
    for item in page["imports"]:
        _, view = call(get(f"/v1/imports/{item['importId']}"), context)
        assert item == view


def test_pages_of_the_list_reach_the_end_without_a_repeat_or_a_gap(context) -> None:
    ids = [sync_import(context) for _ in range(5)]
    status, page = call(get("/v1/imports", query={"limit": "2"}), context)
    assert status == 200 and len(page["imports"]) == 2 and page["nextCursor"]
    assert [i["importId"] for i in listed(context, limit="2")] == ids[::-1]
    assert [i["importId"] for i in listed(context, limit="5")] == ids[::-1]


def test_the_list_filters_on_kind_and_status_while_paging(context) -> None:
    done = [sync_import(context) for _ in range(3)]
    queued = async_import(context, 3)
    assert [i["importId"] for i in listed(context, kind="payments")] == [queued]
    assert [i["importId"] for i in listed(context, kind="campaign-customers", limit="1")] == done[::-1]
    assert [i["importId"] for i in listed(context, status="DONE", limit="1")] == done[::-1]
    assert [i["importId"] for i in listed(context, status="QUEUED", limit="1")] == [queued]
    assert listed(context, status="CANCELLED") == []


def test_another_tenants_imports_are_never_listed(context) -> None:
    sync_import(context, tenant="acme")
    assert listed(context) != []
    status, page = call(get("/v1/imports", tenant="globex"), context)
    assert status == 200 and page == {"imports": [], "nextCursor": None}


def test_a_cursor_of_another_tenant_or_a_forged_one_is_refused(context) -> None:
    for _ in range(3):
        sync_import(context)
    _, page = call(get("/v1/imports", query={"limit": "1"}), context)
    status, body = call(get("/v1/imports", tenant="globex", query={"cursor": page["nextCursor"]}), context)
    assert status == 400 and "cursor" in body["message"]
    forged = base64.urlsafe_b64encode(json.dumps({"after": "9999", "t": "0" * 16}).encode()).decode()
    for cursor in (forged, "not-a-cursor", "%%%"):
        status, body = call(get("/v1/imports", query={"cursor": cursor}), context)
        assert status == 400 and body["message"], cursor


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5"])
def test_a_limit_outside_1_to_100_is_400(context, limit: str) -> None:
    status, body = call(get("/v1/imports", query={"limit": limit}), context)
    assert status == 400 and body["message"]


def test_an_unknown_kind_or_status_filter_is_400(context) -> None:
    for query in ({"kind": "invoices"}, {"status": "finished"}):
        status, body = call(get("/v1/imports", query=query), context)
        assert status == 400 and body["message"], query


def test_a_cancelled_asynchronous_import_writes_no_chunk_and_counts_every_row(context, aws) -> None:
    import_id = async_import(context, 600)  # three chunks, none processed yet
    status, view = call(cancel(import_id), context)
    assert status == 200, view
    assert view["status"] == "CANCELLED" and view["completedAt"]
    counts = view["counts"]
    assert counts["cancelled"] == counts["total"] - counts["succeeded"] - counts["failed"] == 600
    run_worker(aws)
    _, after = call(get(f"/v1/imports/{import_id}"), context)
    assert after["status"] == "CANCELLED"
    assert after["counts"]["succeeded"] == 0 and after["counts"]["cancelled"] == 600
    assert after["chunks"] == {"total": 3, "done": 3}
    assert listed(context, status="CANCELLED")[0]["importId"] == import_id


def test_cancelling_twice_is_409(context) -> None:
    import_id = async_import(context, 3)
    assert call(cancel(import_id), context)[0] == 200
    status, body = call(cancel(import_id), context)
    assert status == 409 and "CANCELLED" in body["message"]


def test_cancelling_a_finished_import_is_409_and_changes_nothing(context, aws) -> None:
    import_id = async_import(context, 3)
    run_worker(aws)
    _, before = call(get(f"/v1/imports/{import_id}"), context)
    assert before["status"] == "DONE"
    status, body = call(cancel(import_id), context)
    assert status == 409 and "DONE" in body["message"]
    after = call(get(f"/v1/imports/{import_id}"), context)[1]
    # Links to result files are presigned anew on every read; everything else must be unchanged.
    assert {k: v for k, v in after.items() if k != "files"} == {
        k: v for k, v in before.items() if k != "files"
    }


def test_cancelling_another_tenants_or_an_unknown_import_is_404(context) -> None:
    import_id = async_import(context, 3)
    assert call(cancel(import_id, tenant="globex"), context)[0] == 404
    assert call(cancel("no-such-import"), context)[0] == 404
    assert call(get(f"/v1/imports/{import_id}"), context)[1]["status"] == "QUEUED"


def test_cancelling_needs_the_write_scope_of_the_imports_kind(context) -> None:
    import_id = async_import(context, 3)
    status, _ = call(cancel(import_id, scopes="imports:read customers:write"), context)
    assert status == 403
    assert call(cancel(import_id, scopes="imports:read payments:write"), context)[0] == 200
