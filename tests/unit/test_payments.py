"""Payment instructions: item rules, assigned ids, updates of pending payments, job shape."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.fakes import FakeRecords, acme_config

from bulk_import.core.model import Counts, ImportJob, RowOutcome
from bulk_import.engine.pipeline import persist
from bulk_import.kinds import get_kind
from bulk_import.kinds.payment_items import PaymentsImportRequest
from bulk_import.kinds.payments import PaymentsKind
from bulk_import.kinds.validation import validate_rows

KIND = get_kind("payments")
TENANT = acme_config()
OPTIONS = KIND.options({}, TENANT, datetime(2026, 11, 20, tzinfo=UTC))
EVENTS = Path(__file__).resolve().parents[2] / "events" / "api"
DROP = object()


def item(**changes: Any) -> dict[str, Any]:
    """A valid item; ``changes`` set dotted paths (``amount__amount``) to a value, or remove it with DROP."""
    row: dict[str, Any] = {
        "id": "pay-1",
        "source": {"type": "group", "id": "grp-main"},
        "target": {"type": "contact", "id": "ct-1"},
        "amount": {"type": "SEND", "amount": "100.50", "currency": "EUR"},
        "execution": {"date": "2026-12-01T09:00:00Z"},
    }
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = row
        for name in parents:
            node = node.setdefault(name, {})
        if value is DROP:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return row


def validate(*rows: Any) -> list[RowOutcome]:
    return validate_rows(KIND, rows, OPTIONS, TENANT)


def errors_of(row: Any) -> dict[str, list[str]]:
    (outcome,) = validate(row)
    assert outcome.record is None, "the item should have failed"
    found: dict[str, list[str]] = {}
    for e in outcome.errors:
        found.setdefault(e.field, []).append(e.message)
    return found


def record_of(row: Any) -> dict[str, Any]:
    (outcome,) = validate(row)
    assert outcome.errors == [], [e.message for e in outcome.errors]
    assert outcome.record is not None
    return outcome.record


def job(status: str = "QUEUED", **counts: int) -> ImportJob:
    at = datetime(2026, 11, 20, 9, 0, 1, tzinfo=UTC)
    return ImportJob(
        import_id="imp_0001",
        tenant_id="acme",
        kind="payments",
        source="api",
        status=status,  # type: ignore[arg-type]
        created_at=at,
        updated_at=at,
        counts=Counts(**counts),
    )


# -- the kind's API ---------------------------------------------------------------------------------
def test_the_kind_is_registered_as_the_async_seed_route() -> None:
    assert isinstance(KIND, PaymentsKind)
    assert (KIND.route, KIND.scope, KIND.records_field) == (
        "/payments/payments/import",
        "payments:write",
        "items",
    )
    assert (KIND.mode, KIND.job_route) == ("async", "/payments/payments/import/<job_id>")
    assert (KIND.entity, KIND.ref_fields, KIND.reads_existing) == ("payment", ("id",), True)
    assert (KIND.max_records, KIND.chunk_size) == (10_000, 250)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"items": []}, "too_short"),
        ({"items": [{}] * 10_001}, "too_long"),
        ({"items": [{}], "batch": "x"}, "extra_forbidden"),
        ({"records": [{}]}, "missing"),
        ({"items": "nope"}, "list_type"),
    ],
)
def test_the_envelope_needs_1_to_10000_items_and_nothing_else(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError) as exc:
        PaymentsImportRequest.model_validate(body)
    assert problem in {e["type"] for e in exc.value.errors()}


def test_the_envelope_accepts_items_whatever_their_content() -> None:
    # Item rules are per row (a bad item fails alone), never a 400 for the whole request.
    assert len(PaymentsImportRequest.model_validate({"items": [{"amount": "x"}, {}]}).items) == 2


# -- a valid item ---------------------------------------------------------------------------------
def test_a_valid_item_is_stored_pending_and_normalized() -> None:
    row = item(
        amount__currency=" USD ",
        amount__type="land",
        execution__margin="24",
        purpose="SALA",
        final={"is_final": False, "expected": "2026-11-28T12:00:00+01:00"},
        attachments=[{"id": "att-1", "title": "Invoice", "url": "https://files.example.com/a.pdf"}],
        user_tags={"team": "ops"},
        description="  December invoice  ",
    )
    (outcome,) = validate(row)
    assert outcome.errors == [] and outcome.key == "pay-1"
    stored = KIND.to_stored(outcome.record or {}, outcome.key, OPTIONS)
    assert (stored.entity, stored.key) == ("payment", "pay-1")
    assert stored.data == {
        "id": "pay-1",
        "source": {"type": "group", "id": "grp-main"},
        "target": {"type": "contact", "id": "ct-1"},
        "amount": {"type": "LAND", "amount": Decimal("100.50"), "currency": "USD"},
        "execution": {"type": "LAND", "date": "2026-12-01T09:00:00Z", "margin": 24},
        "purpose": "SALA",
        "final": {"is_final": False, "expected": "2026-11-28T11:00:00Z"},
        "attachments": [{"id": "att-1", "title": "Invoice", "url": "https://files.example.com/a.pdf"}],
        "user_tags": {"team": "ops"},
        "description": "December invoice",
        "approved": False,
        "status": "PENDING",
    }
    assert isinstance(stored.data["amount"]["amount"], Decimal)


@pytest.mark.parametrize(
    ("changes", "path", "expected"),
    [
        ({"execution__type": "SEND", "amount__type": "LAND"}, ("execution", "type"), "SEND"),
        ({"amount__type": "LAND"}, ("execution", "type"), "LAND"),
        ({"execution__date": "2026-12-01T10:00:00"}, ("execution", "date"), "2026-12-01T09:00:00Z"),
        ({"execution__date": "2026-07-01T10:00:00"}, ("execution", "date"), "2026-07-01T08:00:00Z"),
        ({"execution__date": "2026-12-01T10:00:00-05:00"}, ("execution", "date"), "2026-12-01T15:00:00Z"),
        ({"execution__margin": 0}, ("execution", "margin"), 0),
        ({"execution__margin": "48"}, ("execution", "margin"), 48),
        ({"amount__amount": 0.1}, ("amount", "amount"), Decimal("0.1")),
        ({"amount__amount": 1000}, ("amount", "amount"), Decimal("1000")),
        ({"amount__amount": "12.500"}, ("amount", "amount"), Decimal("12.500")),
        ({"amount__currency": DROP}, ("amount", "currency"), None),
        ({"source__type": DROP}, ("source", "type"), "group"),
        ({"target__type": "CONTACT"}, ("target", "type"), "contact"),
        (
            {"attachments": [{"url": "http://files.example.com/a"}]},
            ("attachments",),
            [{"url": "http://files.example.com/a"}],
        ),
        ({"approved": True}, ("approved",), True),
        ({"id": "  pay-7  "}, ("id",), "pay-7"),
        ({"id": 42}, ("id",), "42"),
    ],
)
def test_accepted_values_are_stored_in_canonical_form(
    changes: dict[str, Any], path: tuple[str, ...], expected: Any
) -> None:
    value: Any = record_of(item(**changes))
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    assert value == expected
    if isinstance(expected, Decimal):
        assert str(value) == str(expected)  # the places written are kept, never a float round trip


def test_naive_times_are_read_in_the_tenants_timezone() -> None:
    ny = acme_config(timezone="America/New_York")
    (outcome,) = validate_rows(KIND, [item(execution__date="2026-12-01T10:00:00")], OPTIONS, ny)
    assert outcome.record is not None
    assert outcome.record["execution"]["date"] == "2026-12-01T15:00:00Z"


# -- every rule, with the exact field and an actionable message -----------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"source": DROP}, "source", "source: is required"),
        ({"source": None}, "source", "source: is required"),
        ({"source": ""}, "source", "source: is required"),
        ({"source": "grp-main"}, "source", "source: must be an object"),
        ({"source__type": "wallet"}, "source.type", "source.type: must be group"),
        ({"source__id": DROP}, "source.id", "source.id: is required"),
        ({"source__id": "  "}, "source.id", "source.id: is required"),
        (
            {"source__id": "grp-other"},
            "source.id",
            "source.id: unknown payment source grp-other (known: grp-main)",
        ),
        ({"source__owner": "x"}, "source.owner", "source.owner: is not a known field"),
        ({"target": DROP}, "target", "target: is required"),
        ({"target__type": "group"}, "target.type", "target.type: must be contact"),
        ({"target__id": DROP}, "target.id", "target.id: is required"),
        ({"target__id": "ct-99"}, "target.id", "target.id: unknown contact ct-99"),
        (
            {"target__id": "ct-2"},
            "target.id",
            "target.id: contact ct-2 is not authorized to receive payments",
        ),
        ({"amount": DROP}, "amount", "amount: is required"),
        ({"amount__type": DROP}, "amount.type", "amount.type: is required"),
        ({"amount__type": "BOTH"}, "amount.type", "amount.type: must be LAND or SEND"),
        ({"amount__amount": DROP}, "amount.amount", "amount.amount: is required"),
        ({"amount__amount": ""}, "amount.amount", "amount.amount: is required"),
        ({"amount__amount": 0}, "amount.amount", "amount.amount: must be greater than 0"),
        ({"amount__amount": "-5"}, "amount.amount", "amount.amount: must not be negative"),
        ({"amount__amount": "10.1234"}, "amount.amount", "amount.amount: at most 3 decimal places"),
        ({"amount__amount": 0.0001}, "amount.amount", "amount.amount: at most 3 decimal places"),
        ({"amount__amount": "ten"}, "amount.amount", "amount.amount: must be a number"),
        ({"amount__amount": True}, "amount.amount", "amount.amount: must be a number, not true/false"),
        ({"amount__amount": "1e3"}, "amount.amount", "amount.amount: must be a number"),
        ({"amount__amount": "1" + "0" * 15}, "amount.amount", "amount.amount: at most 999,999,999,999.999"),
        ({"amount__amount": Decimal("1E+30")}, "amount.amount", "amount.amount: at most 999,999,999,999.999"),
        ({"amount__amount": "9" * 40}, "amount.amount", "amount.amount: at most 999,999,999,999.999"),
        ({"amount__amount": Decimal("1E-130")}, "amount.amount", "amount.amount: at most 3 decimal places"),
        (
            {"amount__currency": "usd"},
            "amount.currency",
            "amount.currency: must be written in capital letters: USD, not usd",
        ),
        ({"purpose": "sala"}, "purpose", "purpose: must be 4 capital letters A-Z, e.g. SALA"),
        ({"id": "p" * 201}, "id", "id: at most 200 characters"),
        ({"source__id": "s" * 201}, "source.id", "source.id: at most 200 characters"),
        ({"target__id": "t" * 2000}, "target.id", "target.id: at most 200 characters"),
        ({"user_tags": {"team": "a\x00b"}}, "user_tags", "user_tags.team: must not contain control"),
        ({"description": "bad \ud800"}, "description", "description: must be valid Unicode text"),
        (
            {"amount__currency": "EURO"},
            "amount.currency",
            "amount.currency: not an ISO 4217 currency code: EURO",
        ),
        ({"amount__currency": "€"}, "amount.currency", "amount.currency: not an ISO 4217 currency code"),
        ({"amount__fee": 1}, "amount.fee", "amount.fee: is not a known field"),
        ({"execution": DROP}, "execution", "execution: is required"),
        ({"execution__date": DROP}, "execution.date", "execution.date: is required"),
        ({"execution__date": ""}, "execution.date", "execution.date: is required"),
        (
            {"execution__date": "2026-12-01"},
            "execution.date",
            "execution.date: needs a time as well as a date",
        ),
        (
            {"execution__date": "01/12/2026 09:00"},
            "execution.date",
            "execution.date: must be an ISO 8601 date-time",
        ),
        (
            {"execution__date": "2026-02-30T09:00:00Z"},
            "execution.date",
            "execution.date: must be an ISO 8601",
        ),
        ({"execution__type": "NOW"}, "execution.type", "execution.type: must be SEND or LAND"),
        ({"execution__margin": -1}, "execution.margin", "execution.margin: must be 0 hours or more"),
        ({"execution__margin": 1.5}, "execution.margin", "execution.margin: must be a whole number of hours"),
        (
            {"execution__margin": "soon"},
            "execution.margin",
            "execution.margin: must be a whole number of hours",
        ),
        ({"purpose": "sala"}, "purpose", "purpose: must be 4 capital letters A-Z, e.g. SALA"),
        ({"purpose": "SALAR"}, "purpose", "purpose: must be 4 capital letters"),
        ({"purpose": "SA1A"}, "purpose", "purpose: must be 4 capital letters"),
        ({"final": {"is_final": "perhaps"}}, "final.is_final", "final.is_final: must be true or false"),
        (
            {"final": {"expected": "tomorrow"}},
            "final.expected",
            "final.expected: must be an ISO 8601 date-time",
        ),
        ({"final": {"done": True}}, "final.done", "final.done: is not a known field"),
        (
            {"attachments": [{"url": "ftp://files.example.com/a"}]},
            "attachments.0.url",
            "attachments.0.url: must be an http or https URL",
        ),
        (
            {"attachments": [{"url": "javascript:alert(1)"}]},
            "attachments.0.url",
            "attachments.0.url: must be an http or https URL",
        ),
        (
            {"attachments": [{"url": "https://"}]},
            "attachments.0.url",
            "attachments.0.url: must be an http or https",
        ),
        (
            {"attachments": [{"url": "https://ok.example.com"}, {"title": "x"}]},
            "attachments.1.url",
            "attachments.1.url: is required",
        ),
        (
            {"attachments": [{"url": "https://ok.example.com", "size": 3}]},
            "attachments.0.size",
            "attachments.0.size: is not a known field",
        ),
        ({"attachments": {"url": "https://ok.example.com"}}, "attachments", "attachments: must be a list"),
        ({"user_tags": {"team": 7}}, "user_tags.team", "user_tags.team: must be text"),
        ({"user_tags": ["team"]}, "user_tags", "user_tags: must be an object"),
        ({"approved": "maybe"}, "approved", "approved: must be true or false"),
        ({"description": {"text": "x"}}, "description", "description: must be text"),
        ({"signature": ["x"]}, "signature", "signature: must be text"),
        ({"id": {"x": 1}}, "id", "id: must be text"),
        ({"id": "p" * 201}, "id", "id: at most 200 characters"),
        ({"beneficiary": "ct-1"}, "beneficiary", "beneficiary: is not a known field"),
    ],
)
def test_each_rule_fails_the_item_on_its_field(changes: dict[str, Any], field: str, message: str) -> None:
    found = errors_of(item(**changes))
    assert field in found, found
    assert any(m.startswith(message) for m in found[field]), found[field]
    assert all("value_error" not in m and "Value error" not in m for ms in found.values() for m in ms)


def test_every_problem_of_an_item_is_reported_at_once() -> None:
    found = errors_of(item(target__id="ct-2", amount__amount="1.0001", purpose="x", amount__currency="zz"))
    assert set(found) == {"target.id", "amount.amount", "purpose", "amount.currency"}


def test_an_empty_item_fails_with_what_is_missing_instead_of_being_skipped() -> None:
    (outcome,) = validate({})
    assert outcome.status == "failed" and outcome.skipped_reason is None
    assert {e.field for e in outcome.errors} == {"source", "target", "amount", "execution"}


@pytest.mark.parametrize("row", [None, "pay-1", 12, ["a"]])
def test_an_item_that_is_not_an_object_fails_alone(row: Any) -> None:
    good, bad = validate(item(), row)
    assert good.errors == []
    assert [e.message for e in bad.errors] == ["row: must be an object with named fields"]


# -- amounts, for any value ------------------------------------------------------------------------
POSITIVE_3DP = st.decimals(
    min_value=Decimal("0.001"), max_value=Decimal("999999999999.999"), places=3, allow_nan=False
).filter(lambda d: d > 0)


@given(amount=POSITIVE_3DP, as_text=st.booleans())
def test_any_positive_amount_with_up_to_3_places_is_stored_exactly(amount: Decimal, as_text: bool) -> None:
    (outcome,) = validate(item(amount__amount=format(amount, "f") if as_text else amount))
    assert outcome.errors == []
    assert outcome.record is not None
    stored = KIND.to_stored(outcome.record, outcome.key or "", OPTIONS).data["amount"]["amount"]
    assert isinstance(stored, Decimal)
    assert stored == amount and str(stored) == str(amount)


@given(
    units=st.integers(min_value=1, max_value=10**12),
    places=st.integers(min_value=4, max_value=12),
    as_text=st.booleans(),
)
def test_any_amount_with_4_or_more_significant_places_is_rejected(
    units: int, places: int, as_text: bool
) -> None:
    amount = Decimal(units * 10 + 1).scaleb(-places)  # ends in 1: every place counts
    found = errors_of(item(amount__amount=format(amount, "f") if as_text else amount))
    assert found == {"amount.amount": ["amount.amount: at most 3 decimal places"]}


# -- ids -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("missing", [DROP, None, "", "   "])
def test_an_item_without_id_gets_a_deterministic_id_in_a_copy(missing: Any) -> None:
    raw = item(id=missing)
    before = copy.deepcopy(raw)
    first = KIND.before_split(raw, 3, "imp_0001")
    assert raw == before  # the caller's item is never changed
    assert re.fullmatch(r"pay_[0-9a-f]{20}", first["id"])
    assert KIND.before_split(copy.deepcopy(before), 3, "imp_0001") == first  # a retried split: same id
    assert KIND.before_split(raw, 4, "imp_0001")["id"] != first["id"]
    assert KIND.before_split(raw, 3, "imp_0002")["id"] != first["id"]
    assert {k: v for k, v in first.items() if k != "id"} == {k: v for k, v in before.items() if k != "id"}


def test_an_item_with_an_id_or_that_is_not_an_object_passes_unchanged() -> None:
    raw = item(id="pay-9")
    assert KIND.before_split(raw, 0, "imp_0001") is raw
    assert KIND.before_split("text", 0, "imp_0001") == "text"


def test_assigned_ids_become_the_payment_keys() -> None:
    row = KIND.before_split(item(id=DROP), 0, "imp_0001")
    (outcome,) = validate(row)
    assert outcome.key == row["id"]
    assert outcome.refs == {"id": row["id"]}


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ({"id": " pay-1 "}, "pay-1"),
        ({"id": 7}, "7"),
        ({"id": ""}, None),
        ({"id": "  "}, None),
        ({"id": None}, None),
        ({}, None),
        ({"id": True}, None),
        ({"id": {"a": 1}}, None),
        ("pay-1", None),
    ],
)
def test_dedupe_key_is_the_trimmed_id(raw: Any, key: str | None) -> None:
    assert KIND.dedupe_key(raw) == key


def test_the_same_id_twice_in_one_import_fails_the_later_item() -> None:
    first, other, again = validate(item(id="pay-1"), item(id="pay-2"), item(id=" pay-1 "))
    assert first.errors == [] and other.errors == []
    assert [(e.field, e.message) for e in again.errors] == [("id", "id: duplicate of row 0")]


# -- updates of existing payments -------------------------------------------------------------------
def valid_outcome(**changes: Any) -> RowOutcome:
    (outcome,) = validate(item(**changes))
    assert outcome.errors == []
    return outcome


@pytest.mark.parametrize(
    "existing",
    [
        None,
        {"id": "pay-1", "status": "PENDING", "importId": "imp_0000"},
        {"id": "pay-1", "status": "pending"},
        # Written earlier by this same import (a redelivered chunk): not an update of someone else's.
        {"id": "pay-1", "status": "EXECUTED", "importId": "imp_0001"},
    ],
)
def test_new_and_pending_payments_may_be_written(existing: dict[str, Any] | None) -> None:
    outcome = valid_outcome()
    KIND.reconcile(outcome, existing, "imp_0001")
    assert outcome.errors == [] and outcome.status == "valid" and outcome.record is not None


@pytest.mark.parametrize("status", ["EXECUTED", "CANCELLED", "APPROVED", None])
def test_a_payment_no_longer_pending_fails_the_item_on_id(status: str | None) -> None:
    outcome = valid_outcome(id="pay-old")
    KIND.reconcile(outcome, {"id": "pay-old", "status": status, "importId": "seed"}, "imp_0001")
    assert outcome.status == "failed" and outcome.record is None
    shown = status or "UNKNOWN"
    assert [(e.field, e.message) for e in outcome.errors] == [
        ("id", f"id: payment pay-old is {shown}, only pending payments can be updated")
    ]


def test_through_the_pipeline_new_pending_and_executed_end_created_updated_failed() -> None:
    store = FakeRecords()
    store.items[("acme", "payment", "pay-old")] = {"id": "pay-old", "status": "EXECUTED", "importId": "seed"}
    store.items[("acme", "payment", "pay-p")] = {"id": "pay-p", "status": "PENDING", "importId": "imp_0000"}
    outcomes = validate(item(id="pay-new"), item(id="pay-p", amount__amount="9"), item(id="pay-old"))
    existing = store.get_records("acme", "payment", [o.key for o in outcomes if o.key])
    persist(KIND, outcomes, OPTIONS, store, "acme", "imp_0001", existing=existing)
    assert [o.status for o in outcomes] == ["created", "updated", "failed"]
    assert store.items[("acme", "payment", "pay-old")]["status"] == "EXECUTED"  # untouched
    assert store.items[("acme", "payment", "pay-p")]["amount"]["amount"] == Decimal("9")
    assert [KIND.row_result(o)["status"] for o in outcomes] == ["SUCCESS", "SUCCESS", "FAILED"]


# -- progress entries and the job ------------------------------------------------------------------
def test_a_stored_item_reports_success_with_its_id_and_row_as_text() -> None:
    outcome = valid_outcome(id="pay-5")
    outcome.index = 12
    outcome.status = "created"
    assert KIND.row_result(outcome) == {"id": "pay-5", "status": "SUCCESS", "row": "12", "error": None}


def test_a_failed_item_reports_every_message_and_the_fields() -> None:
    (outcome,) = validate(item(id="pay-6", target__id="ct-2", amount__amount="1.0001"))
    assert KIND.row_result(outcome) == {
        "id": "pay-6",
        "status": "FAILED",
        "row": "0",
        "error": {
            "message": "target.id: contact ct-2 is not authorized to receive payments; "
            "amount.amount: at most 3 decimal places",
            "fields": {
                "target.id": ["target.id: contact ct-2 is not authorized to receive payments"],
                "amount.amount": ["amount.amount: at most 3 decimal places"],
            },
        },
    }


def test_an_item_failed_without_a_rule_still_says_why() -> None:
    outcome = RowOutcome(index=4, raw={"id": "pay-8"}, refs={"id": "pay-8"}, status="valid")
    result = KIND.row_result(outcome)
    assert result["status"] == "FAILED"
    assert result["error"] == {"message": "row: not stored", "fields": {"row": ["row: not stored"]}}


def test_accepting_answers_202_with_the_queued_job_in_the_seed_shape() -> None:
    status, body = KIND.accepted(job(total=9))
    assert status == 202
    assert body == {
        "job_id": "imp_0001",
        "started_at": "2026-11-20T09:00:01Z",
        "total": 9,
        "processing": 9,
        "processed": 0,
        "failed": 0,
        "status": "QUEUED",
        "progress": [],
        "import_id": "imp_0001",
    }


def test_the_job_view_counts_and_orders_progress_by_row_number() -> None:
    results: list[dict[str, Any]] = [
        {"id": "p10", "status": "SUCCESS", "row": "10", "error": None},
        {"id": "p2", "status": "FAILED", "row": "2", "error": {"message": "x", "fields": {}}},
        {"id": "p1", "status": "SUCCESS", "row": "1", "error": None},
    ]
    view = KIND.job_view(job("PROCESSING", total=12, succeeded=2, failed=1), results)
    assert [r["row"] for r in view["progress"]] == ["1", "2", "10"]
    assert (view["total"], view["processing"], view["processed"], view["failed"]) == (12, 9, 2, 1)
    assert view["status"] == "PROCESSING"


def test_a_finished_job_is_done_with_nothing_processing() -> None:
    view = KIND.job_view(job("DONE", total=3, succeeded=2, failed=1), [])
    assert (view["status"], view["processing"], view["processed"], view["failed"]) == ("DONE", 0, 2, 1)


def test_processing_never_goes_negative_when_counts_overshoot() -> None:
    assert KIND.job_view(job("DONE", total=2, succeeded=2, failed=1), [])["processing"] == 0


# -- the sample events -----------------------------------------------------------------------------
def event_items(name: str) -> list[Any]:
    event = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    assert event["path"] == KIND.route and event["httpMethod"] == "POST"
    body = json.loads(event["body"])
    PaymentsImportRequest.model_validate(body)
    return list(body["items"])


def import_event(name: str) -> list[dict[str, Any]]:
    """Split, validate, reconcile against the demo seed's ``pay-old`` and write, as a worker would."""
    rows = [KIND.before_split(raw, i, "imp_0001") for i, raw in enumerate(event_items(name))]
    store = FakeRecords()
    store.items[("acme", "payment", "pay-old")] = {"id": "pay-old", "status": "EXECUTED", "importId": "seed"}
    outcomes = validate(*rows)
    existing = store.get_records("acme", "payment", [o.key for o in outcomes if o.key])
    persist(KIND, outcomes, OPTIONS, store, "acme", "imp_0001", existing=existing)
    return [KIND.row_result(o) for o in outcomes]


def test_the_clean_event_imports_every_item() -> None:
    results = import_event("payments-import-clean.json")
    assert len(results) == 5
    assert [r["status"] for r in results] == ["SUCCESS"] * 5, results


def test_the_messy_event_fails_each_bad_item_for_its_own_reason() -> None:
    results = import_event("payments-import.json")
    failed = {r["row"]: sorted(r["error"]["fields"]) for r in results if r["status"] == "FAILED"}
    assert [r["row"] for r in results if r["status"] == "SUCCESS"] == ["0"]
    assert failed == {
        "1": ["amount.currency"],  # "usd": codes are written in capitals
        "2": ["target.id"],
        "3": ["source.id"],
        "4": ["amount.amount"],
        "5": ["purpose"],
        "6": ["amount.currency"],
        "7": ["id"],
        "8": ["id"],
    }
    assert results[1]["id"].startswith("pay_")
    assert "duplicate of row 0" in results[8]["error"]["message"]
    assert "pay-old is EXECUTED" in results[7]["error"]["message"]
