"""Campaign customers through the pipeline on fakes: rules, dedupe, status codes, response shape."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.fakes import ACME, FakeRecords, FakeWorkflow, make_deps

from bulk_import.core.errors import InvalidRequestError, NotAvailableError, NotFoundError
from bulk_import.kinds import get_kind
from bulk_import.usecases.sync_imports import run_inline_import

KIND = get_kind("campaign-customers")


def loan(i: int = 1, **fields: Any) -> dict[str, Any]:
    row = {
        "loan_id": f"L-{i}",
        "first_name": "Camille",
        "phone_number": "06 12 34 56 78",
        "loan_amount": 1000,
        "emi_amount": "45.50",
        "emi_due_date": "05/12/2026",
    }
    row.update(fields)
    return {k: v for k, v in row.items() if v is not ...}


def run(
    records: list[Any], campaign: str = "camp-loans", deps: Any = None, **request: Any
) -> tuple[int, dict]:
    deps = deps or make_deps()
    result = run_inline_import(KIND, {"campaignId": campaign, **request}, records, ACME, deps)
    return KIND.respond(result)


def test_clean_batch_is_stored_normalized_and_answers_201() -> None:
    deps = make_deps()
    status, body = run(
        [loan(1), loan(2, phone_number="+33 7 81 22 33 44", emi_due_date="2026-12-10")], deps=deps
    )
    assert status == 201
    assert body["success"] is True
    assert body["message"] == "Added 2 of 2 records"
    assert body["results"] == {
        "total": 2,
        "valid": 2,
        "invalid": 0,
        "successful": 2,
        "failed": 0,
        "batchesProcessed": 1,
        "errors": [],
    }
    assert body["importId"].startswith("imp_")
    assert isinstance(deps.records, FakeRecords)
    stored = deps.records.items[("acme", "customer", "camp-loans#L-1")]
    assert stored["phone_number"] == "+33612345678"
    assert stored["emi_amount"] == Decimal("45.50")
    assert str(stored["emi_due_date"]) == "2026-12-05"
    assert stored["campaign_id"] == "camp-loans"


def test_partly_bad_batch_answers_207_with_actionable_errors() -> None:
    status, body = run([loan(1), loan(2, phone_number="12345"), loan(3, loan_amount=-5, first_name="  ")])
    assert status == 207
    assert body["success"] is False
    assert body["message"] == "Added 1 of 3 records"
    res = body["results"]
    assert (res["valid"], res["invalid"], res["successful"], res["failed"]) == (1, 2, 1, 2)
    by_field = {(e["index"], e["field"]): e for e in res["errors"]}
    assert by_field[(1, "phone_number")]["loan_id"] == "L-2"
    assert by_field[(1, "phone_number")]["message"].startswith("phone_number: ")
    assert "value_error" not in by_field[(1, "phone_number")]["message"]
    assert by_field[(2, "loan_amount")]["message"] == "loan_amount: must not be negative"
    assert by_field[(2, "first_name")]["message"] == "first_name: is required"


def test_nothing_added_answers_400_with_the_seed_shape() -> None:
    status, body = run([loan(1, phone_number="not a phone")])
    assert status == 400
    assert body["results"]["successful"] == 0
    assert body["message"] == "Added 0 of 1 records"


@pytest.mark.parametrize(
    ("campaign", "row", "missing"),
    [
        (
            "camp-loans",
            {"loan_id": "L-1", "first_name": "A", "phone_number": "0612345678"},
            {"loan_amount", "emi_amount", "emi_due_date"},
        ),
        ("camp-leads", {"lead_id": "LD-1", "first_name": "A", "phone_number": "0612345678"}, {"lead_date"}),
        ("camp-leads", {"lead_id": "LD-1", "first_name": "A", "lead_date": "2026-01-01"}, {"phone_number"}),
    ],
)
def test_required_fields_depend_on_the_campaign_service_type(
    campaign: str, row: dict, missing: set[str]
) -> None:
    status, body = run([row], campaign=campaign)
    assert status == 400
    assert {e["field"] for e in body["results"]["errors"]} == missing


def test_leads_campaign_keys_on_lead_id_and_needs_no_loan_fields() -> None:
    status, body = run(
        [{"lead_id": "LD-1", "first_name": "A", "phone_number": "0612345678", "lead_date": "01-02-2026"}],
        campaign="camp-leads",
    )
    assert status == 201, body


def test_same_key_twice_fails_the_later_row_with_its_first_position() -> None:
    status, body = run([loan(1), loan(2), loan(1, first_name="Again")])
    assert status == 207
    (err,) = body["results"]["errors"]
    assert err == {"index": 2, "loan_id": "L-1", "field": "loan_id", "message": "loan_id: duplicate of row 0"}


def test_adding_a_customer_again_updates_it() -> None:
    deps = make_deps()
    run([loan(1)], deps=deps)
    run([loan(1, first_name="Renamed")], deps=deps)
    assert isinstance(deps.records, FakeRecords)
    assert len(deps.records.items) == 1
    assert deps.records.items[("acme", "customer", "camp-loans#L-1")]["first_name"] == "Renamed"


def test_unknown_fields_in_a_row_fail_that_row() -> None:
    status, body = run([loan(1, phone="0612345678")])
    assert status == 400
    assert body["results"]["errors"][0]["message"] == "phone: is not a known field"


def test_non_object_row_fails_that_row_only() -> None:
    status, body = run([loan(1), "just text"])
    assert status == 207
    assert body["results"]["errors"][0]["index"] == 1


def test_unwritten_rows_are_reported_failed_not_dropped() -> None:
    deps = make_deps()
    assert isinstance(deps.records, FakeRecords)
    deps.records.fail_keys.add("camp-loans#L-2")
    status, body = run([loan(1), loan(2)], deps=deps)
    assert status == 207
    (err,) = body["results"]["errors"]
    assert err["loan_id"] == "L-2" and "not stored" in err["message"]
    assert body["results"]["valid"] == 2 and body["results"]["successful"] == 1


def test_batches_of_a_thousand_are_counted() -> None:
    deps = make_deps()
    rows = [loan(i) for i in range(2500)]
    status, body = run(rows, deps=deps)
    assert status == 201
    assert body["results"]["batchesProcessed"] == 3
    assert isinstance(deps.records, FakeRecords)
    assert deps.records.calls == 3


def test_unknown_campaign_is_404_and_writes_nothing() -> None:
    deps = make_deps()
    with pytest.raises(NotFoundError, match="campaign camp-nope not found"):
        run([loan(1)], campaign="camp-nope", deps=deps)
    assert isinstance(deps.records, FakeRecords)
    assert deps.records.items == {}


@pytest.mark.parametrize("count", [0, 10_001])
def test_record_count_limits_are_request_errors(count: int) -> None:
    with pytest.raises(InvalidRequestError, match="records: at"):
        run([loan(i) for i in range(count)])


def test_initiate_call_needs_a_call_config() -> None:
    with pytest.raises(InvalidRequestError, match="callConfig"):
        run([loan(1)], initiateCall=True)


def test_initiate_call_without_a_workflow_is_refused_before_anything_is_written() -> None:
    deps = make_deps()
    deps.workflow = None
    with pytest.raises(NotAvailableError, match="call initiation is not configured"):
        run([loan(1)], deps=deps, initiateCall=True, callConfig={"agentId": "a", "dispositionId": "d"})
    assert isinstance(deps.records, FakeRecords)
    assert deps.records.items == {}


def test_without_initiate_call_there_are_no_call_results_and_no_workflow() -> None:
    deps = make_deps()
    _, body = run([loan(1)], deps=deps, callConfig={"agentId": "a", "dispositionId": "d"})
    assert "callResults" not in body
    assert isinstance(deps.workflow, FakeWorkflow) and deps.workflow.started == []
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.status == "DONE" and job.to_api()["calls"] == {"status": "NOT_REQUESTED"}


def test_do_not_call_is_a_flag_of_the_row() -> None:
    status, body = run([loan(1, doNotCall="yes"), loan(2, doNotCall="maybe")])
    assert status == 207
    assert body["results"]["errors"] == [
        {"index": 1, "loan_id": "L-2", "field": "doNotCall", "message": "doNotCall: must be true or false"}
    ]


def test_the_import_keeps_its_counts_and_errors() -> None:
    deps = make_deps()
    _, body = run([loan(1), loan(2, phone_number="x")], deps=deps)
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.status == "DONE"
    assert job.counts.as_dict() == {
        "total": 2,
        "valid": 1,
        "invalid": 1,
        "succeeded": 1,
        "failed": 1,
        "skipped": 0,
    }
    page = deps.imports.list_errors("acme", body["importId"], 10, None)
    assert page.items[0]["loan_id"] == "L-2"


def test_phones_validated_column_wise_give_each_row_its_own_result() -> None:
    # The same numbers on several rows (memoized once per request) and a number sent as an integer.
    rows = [
        loan(1, phone_number="06 12 34 56 78"),
        loan(2, phone_number="12345"),
        loan(3, phone_number="06 12 34 56 78"),
        loan(4, phone_number="12345"),
        loan(5, phone_number=612345679),
    ]
    deps = make_deps()
    status, body = run(rows, deps=deps)
    assert status == 207
    assert [(e["index"], e["message"]) for e in body["results"]["errors"]] == [
        (1, "phone_number: too short to be a phone number"),
        (3, "phone_number: too short to be a phone number"),
    ]
    assert isinstance(deps.records, FakeRecords)
    phones = {k[2]: v["phone_number"] for k, v in deps.records.items.items()}
    assert phones == {
        "camp-loans#L-1": "+33612345678",
        "camp-loans#L-3": "+33612345678",
        "camp-loans#L-5": "+33612345679",
    }
