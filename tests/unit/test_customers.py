"""Customers on fakes: every rule and its message, LMS sync, the single use case, the batch."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError
from tests.fakes import ACME, FakeLms, FakeQueue, acme_config, make_deps

from bulk_import.core.errors import InvalidRequestError, LmsUnavailableError, NotFoundError
from bulk_import.core.model import Counts, ImportJob, RowOutcome
from bulk_import.core.ports import Deps
from bulk_import.engine import jobs
from bulk_import.engine.pipeline import persist
from bulk_import.kinds import get_kind
from bulk_import.kinds.customer_rows import METADATA_MAX_BYTES, CustomerRow, CustomersBatchRequest
from bulk_import.kinds.customers import CustomersKind, CustomersOptions
from bulk_import.kinds.row_plan import _RowPlan
from bulk_import.kinds.validation import validate_rows
from bulk_import.usecases.customers import upsert_customer

KIND = get_kind("customers")
TENANT = acme_config()
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DROP = object()
ADA = {
    "id": "12345",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "phoneNumber": "+14155550100",
    "zipCode": "94102",
    "streetAddress1": "1 Main St",
    "city": "San Francisco",
    "state": "CA",
    "ssnLastFour": "0042",
    "loans": [{"id": 67890}, {"id": 67891, "balance": 1200}],
}


def customer(**changes: Any) -> dict[str, Any]:
    """A valid customer without sync; ``changes`` override fields, DROP removes one."""
    row: dict[str, Any] = {
        "id": "c-1",
        "taskType": "collections",
        "firstName": "Grace",
        "lastName": "Hopper",
        "phoneNumber": "(212) 555-0142",
        "timezone": "America/New_York",
        "streetAddress1": "123 Main St",
        "city": "New York",
        "state": "NY",
        "zipCode": "10001",
    }
    for name, value in changes.items():
        if value is DROP:
            row.pop(name, None)
        else:
            row[name] = value
    return row


def deps_with_ada() -> Deps:
    deps = make_deps()
    assert isinstance(deps.lms, FakeLms)
    deps.lms.add("acme", ADA)
    return deps


def validate(*rows: Any, deps: Deps | None = None) -> list[RowOutcome]:
    deps = deps or deps_with_ada()
    options = KIND.prepare(rows, KIND.options({}, TENANT, NOW), TENANT, deps)
    return validate_rows(KIND, rows, options, TENANT)


def record_of(row: Any, deps: Deps | None = None) -> dict[str, Any]:
    (outcome,) = validate(row, deps=deps)
    assert outcome.errors == [], [e.message for e in outcome.errors]
    assert outcome.record is not None
    return outcome.record


def messages_of(row: Any, deps: Deps | None = None) -> list[str]:
    (outcome,) = validate(row, deps=deps)
    assert outcome.record is None, "the customer should have failed"
    return [e.message for e in outcome.errors]


# -- the kind's API ---------------------------------------------------------------------------------
def test_the_kind_is_registered_as_the_async_batch_route() -> None:
    assert isinstance(KIND, CustomersKind)
    assert (KIND.route, KIND.scope, KIND.records_field, KIND.mode) == (
        "/customers/batch",
        "customers:write",
        "customers",
        "async",
    )
    assert KIND.job_route == "/customers/batch/<job_id>"
    assert (KIND.entity, KIND.ref_fields, KIND.reads_existing, KIND.max_records) == (
        "customer-profile",
        ("id",),
        True,
        10_000,
    )


def test_the_row_model_runs_as_a_compiled_plan() -> None:
    # Validation speed depends on it: a field rule that breaks the plan would fall back to pydantic.
    plan = _RowPlan.of(CustomerRow)
    assert plan is not None and plan.columns == ("phoneNumber",)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"customers": []}, "too_short"),
        ({"customers": [{}] * 10_001}, "too_long"),
        ({"customers": [{}], "sync": True}, "extra_forbidden"),
        ({"items": [{}]}, "missing"),
    ],
)
def test_the_batch_envelope_needs_1_to_10000_customers_and_nothing_else(
    body: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValidationError) as exc:
        CustomersBatchRequest.model_validate(body)
    assert problem in {e["type"] for e in exc.value.errors()}


# -- a valid customer -------------------------------------------------------------------------------
def test_a_valid_customer_is_normalized() -> None:
    record = record_of(
        customer(
            state=" ny ",
            email="Grace.Hopper@Example.COM",
            birthday="1985-06-15",
            ssnLastFour="1234",
            streetAddress2="Apt 4B",
            test="true",
            doNotCall=False,
            loanIds=[123, "456", 123],
            loanId=" LN-1 ",
            externalMetadata={"pay_day": "Friday", "nested": {"a": [1, 2.5]}},
        )
    )
    assert record == {
        "id": "c-1",
        "taskType": "collections",
        "firstName": "Grace",
        "lastName": "Hopper",
        "phoneNumber": "+12125550142",
        "timezone": "America/New_York",
        "streetAddress1": "123 Main St",
        "city": "New York",
        "state": "NY",
        "zipCode": "10001",
        "email": "Grace.Hopper@example.com",
        "birthday": date(1985, 6, 15),
        "ssnLastFour": "1234",
        "streetAddress2": "Apt 4B",
        "isTest": True,
        "doNotCall": False,
        "loanIds": [123, 456],
        "loanId": "LN-1",
        "externalMetadata": {"pay_day": "Friday", "nested": {"a": [1, 2.5]}},
    }


def test_phones_use_the_us_region_whatever_the_tenants_default() -> None:
    assert TENANT.default_phone_region == "FR"
    assert record_of(customer(phoneNumber="415 555 0100"))["phoneNumber"] == "+14155550100"
    assert record_of(customer(phoneNumber="+33 6 12 34 56 78"))["phoneNumber"] == "+33612345678"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"taskType": "Collections"}, ("taskType", "collections")),
        ({"timezone": "america/chicago"}, ("timezone", "America/Chicago")),
        ({"isTest": True, "test": False}, ("isTest", True)),
        ({"test": True}, ("isTest", True)),
        ({}, ("isTest", False)),
        ({"doNotCall": "yes"}, ("doNotCall", True)),
        ({"loanIds": "123, 456;789"}, ("loanIds", [123, 456, 789])),
        ({"birthday": "2026-11-20"}, ("birthday", date(2026, 11, 20))),  # today is not the future
        ({"id": 42}, ("id", "42")),
        ({"externalMetadata": {}}, ("externalMetadata", {})),
        # Numbers with a fraction arrive from the API as Decimal, never float.
        (
            {"externalMetadata": {"score": Decimal("712.5"), "n": [1, Decimal("2.25")]}},
            ("externalMetadata", {"score": Decimal("712.5"), "n": [1, Decimal("2.25")]}),
        ),
        ({"loanIds": [Decimal("123.0"), 456]}, ("loanIds", [123, 456])),
        ({"id": Decimal("12345.0")}, ("id", "12345")),
    ],
)
def test_accepted_values(changes: dict[str, Any], expected: tuple[str, Any]) -> None:
    name, value = expected
    assert record_of(customer(**changes))[name] == value


def test_sync_and_test_are_directives_not_stored() -> None:
    record = record_of(customer(sync=False, test=True))
    assert "sync" not in record and "test" not in record


# -- rules and their messages ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": DROP}, "id: is required"),
        ({"id": "  "}, "id: is required"),
        ({"id": "x" * 201}, "id: at most 200 characters"),
        ({"id": {"a": 1}}, "id: must be text"),
        ({"taskType": DROP}, "taskType: is required"),
        (
            {"taskType": "sales"},
            "taskType: unknown task type sales (valid task types: collections, reminder)",
        ),
        ({"firstName": DROP}, "firstName: is required"),
        ({"lastName": ""}, "lastName: is required"),
        ({"phoneNumber": DROP}, "phoneNumber: is required"),
        ({"phoneNumber": "555-01"}, "phoneNumber: too short to be a phone number"),
        ({"phoneNumber": "call me"}, "phoneNumber: not a phone number"),
        ({"streetAddress1": None}, "streetAddress1: is required"),
        ({"city": DROP}, "city: is required"),
        ({"state": DROP}, "state: is required"),
        ({"state": "California"}, "state: not a 2-letter US state code: California"),
        ({"zipCode": DROP}, "zipCode: is required"),
        ({"timezone": "PST"}, "timezone: not an IANA timezone name: PST (for example America/New_York)"),
        (
            {"timezone": DROP, "zipCode": "00000"},
            "timezone: is required (its zipCode is not a US ZIP code with a known timezone)",
        ),
        ({"timezone": DROP, "zipCode": DROP}, "timezone: is required (or a US zipCode to resolve it from)"),
        ({"birthday": "2026-11-21"}, "birthday: must not be in the future"),
        ({"birthday": "15/06/1985"}, "birthday: must be a date as YYYY-MM-DD"),
        ({"birthday": "1985-02-30"}, "birthday: not a real calendar date"),
        ({"ssnLastFour": "123"}, "ssnLastFour: must be exactly 4 digits"),
        ({"ssnLastFour": "12345"}, "ssnLastFour: must be exactly 4 digits"),
        ({"ssnLastFour": "12a4"}, "ssnLastFour: must be exactly 4 digits"),
        ({"ssnLastFour": True}, "ssnLastFour: must be exactly 4 digits"),
        ({"email": "grace@"}, "email: not a valid email address"),
        ({"doNotCall": "maybe"}, "doNotCall: must be true or false"),
        ({"isTest": 2}, "isTest: must be true or false"),
        ({"sync": "sometimes"}, "sync: must be true or false"),
        (
            {"externalMetadata": "employer"},
            'externalMetadata: must be an object, e.g. {"employer_name": "Acme"}',
        ),
        (
            {"externalMetadata": {"x": float("nan")}},
            "externalMetadata: must hold JSON values only (no NaN or Infinity)",
        ),
        ({"loanIds": [1, "two"]}, "loanIds: must be a list of whole numbers, e.g. [123, 456]"),
        ({"loanIds": [True]}, "loanIds: must be a list of whole numbers, e.g. [123, 456]"),
        ({"loanIds": [-1]}, "loanIds: must be a list of whole numbers, e.g. [123, 456]"),
        ({"loanIds": 123}, "loanIds: must be a list of whole numbers, e.g. [123, 456]"),
        ({"loanId": ["a"]}, "loanId: must be text"),
        ({"phone": "+14155550100"}, "phone: is not a known field"),
    ],
)
def test_rule_messages(changes: dict[str, Any], message: str) -> None:
    assert message in messages_of(customer(**changes))


@pytest.mark.parametrize(
    ("sent", "stored"),
    [("OUI", True), (" y ", True), ("Yes", True), (1, True), ("non", False), ("N", False), (0, False)],
)
def test_do_not_call_reads_the_same_spellings_as_every_other_flag(sent: Any, stored: bool) -> None:
    assert record_of(customer(doNotCall=sent))["doNotCall"] is stored


def test_a_customer_that_is_not_an_object_fails() -> None:
    assert messages_of(["c-1", "collections"]) == ["row: must be an object with named fields"]


def test_external_metadata_is_limited_to_32_kb_as_json() -> None:
    overhead = len(json.dumps({"blob": ""}, separators=(",", ":")))
    fits = {"blob": "x" * (METADATA_MAX_BYTES - overhead)}
    assert record_of(customer(externalMetadata=fits))["externalMetadata"] == fits
    over = {"blob": "x" * (METADATA_MAX_BYTES - overhead + 1)}
    assert messages_of(customer(externalMetadata=over)) == [
        "externalMetadata: at most 32 KB as JSON (32,768 bytes), got 32,769 bytes"
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"externalMetadata": {"n": 10**40}}, "externalMetadata.n: at most 38 significant digits"),
        ({"externalMetadata": {"n": [Decimal("1E-400")]}}, "externalMetadata.n[0]: at least 1e-130"),
        ({"externalMetadata": {"n": "\ud800"}}, "externalMetadata.n: must be valid Unicode text"),
        ({"loanIds": [1e100]}, "loanIds: at most 38 significant digits"),
        ({"loanIds": [Decimal("1E+200")]}, "loanIds: at most 9.99e125 in magnitude"),
        ({"id": "c" * 201}, "id: at most 200 characters"),
        ({"loanId": "L" * 2048}, "loanId: at most 200 characters"),
        ({"city": "New\x00York"}, "city: must not contain control characters"),
    ],
)
def test_values_storage_cannot_hold_fail_the_customer_naming_the_limit(
    changes: dict[str, Any], message: str
) -> None:
    found = messages_of(customer(**changes))
    assert any(m.startswith(message) for m in found), found


def test_external_metadata_nesting_is_limited() -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(16):
        node["n"] = {}
        node = node["n"]
    assert messages_of(customer(externalMetadata=deep)) == ["externalMetadata: at most 16 levels of nesting"]


def test_a_missing_timezone_is_resolved_from_a_us_zip() -> None:
    assert record_of(customer(timezone=DROP, zipCode="60601"))["timezone"] == "America/Chicago"
    assert record_of(customer(timezone=DROP, zipCode="94102-1234"))["timezone"] == "America/Los_Angeles"
    # A timezone sent wins over the zip.
    assert record_of(customer(timezone="America/Denver", zipCode="60601"))["timezone"] == "America/Denver"


def test_every_problem_of_a_customer_is_reported_at_once() -> None:
    assert messages_of({"id": "c-2", "taskType": "sales", "state": "XX"}) == [
        "taskType: unknown task type sales (valid task types: collections, reminder)",
        "state: not a 2-letter US state code: XX",
        "firstName: is required",
        "lastName: is required",
        "phoneNumber: is required",
        "timezone: is required (or a US zipCode to resolve it from)",
        "streetAddress1: is required",
        "city: is required",
        "zipCode: is required",
    ]


def test_a_tenant_without_task_types_says_so() -> None:
    tenant = acme_config(task_types=())
    options = KIND.options({}, tenant, NOW)
    (outcome,) = validate_rows(KIND, [customer()], options, tenant)
    assert [e.message for e in outcome.errors] == [
        "taskType: unknown task type collections (your account has no task types configured)"
    ]


def test_birthday_future_is_judged_in_the_tenants_timezone() -> None:
    # 23:30 UTC on the 20th is already the 21st in Paris.
    late = KIND.options({}, TENANT, datetime(2026, 11, 20, 23, 30, tzinfo=UTC))
    (outcome,) = validate_rows(KIND, [customer(birthday="2026-11-21")], late, TENANT)
    assert outcome.errors == []


def test_duplicate_ids_fail_the_later_customer() -> None:
    first, second = validate(customer(), customer(firstName="Other"))
    assert first.errors == [] and [e.message for e in second.errors] == ["id: duplicate of row 0"]


# -- sync with the LMS ----------------------------------------------------------------------------
def test_sync_fills_only_the_missing_fields_and_the_caller_wins() -> None:
    record = record_of(
        {"id": "12345", "taskType": "collections", "sync": True, "firstName": "Augusta", "phoneNumber": ""}
    )
    assert record["firstName"] == "Augusta"  # sent by the caller
    assert record["lastName"] == "Lovelace"  # from the LMS
    assert record["phoneNumber"] == "+14155550100"  # empty counts as missing: from the LMS
    assert record["ssnLastFour"] == "0042"
    assert record["timezone"] == "America/Los_Angeles"  # resolved from the LMS zip
    assert record["loans"] == [{"id": 67890}, {"id": 67891, "balance": 1200}]  # no loanIds: all


def test_sync_loan_ids_filter_the_lms_loans() -> None:
    record = record_of({"id": "12345", "taskType": "collections", "sync": True, "loanIds": [67891]})
    assert record["loans"] == [{"id": 67891, "balance": 1200}] and record["loanIds"] == [67891]


def test_sync_loan_ids_the_lms_does_not_have_fail_the_customer() -> None:
    assert messages_of({"id": "12345", "taskType": "collections", "sync": True, "loanIds": [67890, 1]}) == [
        "loanIds: loan 1 not in the LMS for customer 12345 (its loans: 67890, 67891)"
    ]


def test_sync_an_unknown_id_fails_on_id_alone() -> None:
    assert messages_of({"id": "nobody", "taskType": "collections", "sync": True}) == [
        "id: customer nobody is not in your LMS"
    ]


def test_sync_lms_values_that_break_a_rule_say_where_they_came_from() -> None:
    deps = make_deps()
    assert isinstance(deps.lms, FakeLms)
    deps.lms.add("acme", {**ADA, "state": "California", "ssnLastFour": "42"})
    assert messages_of({"id": "12345", "taskType": "reminder", "sync": True}, deps) == [
        "ssnLastFour: must be exactly 4 digits (value from the LMS)",
        "state: not a 2-letter US state code: California (value from the LMS)",
    ]


def test_sync_the_merged_customer_still_needs_what_calls_need() -> None:
    deps = make_deps()
    assert isinstance(deps.lms, FakeLms)
    deps.lms.add("acme", {"id": "7", "firstName": "Only"})
    assert "lastName: is required" in messages_of({"id": "7", "taskType": "reminder", "sync": True}, deps)


def test_sync_lms_timezone_is_kept_only_with_the_lms_zip() -> None:
    deps = make_deps()
    assert isinstance(deps.lms, FakeLms)
    deps.lms.add("acme", {**ADA, "timezone": "America/Los_Angeles"})
    same = record_of({"id": "12345", "taskType": "reminder", "sync": True}, deps)
    assert same["timezone"] == "America/Los_Angeles"
    moved = record_of({"id": "12345", "taskType": "reminder", "sync": True, "zipCode": "10001"}, deps)
    assert moved["timezone"] == "America/New_York"


def test_rows_without_sync_never_reach_the_lms() -> None:
    deps = deps_with_ada()
    validate(customer(), customer(id="c-2", sync=False), deps=deps)
    assert isinstance(deps.lms, FakeLms) and deps.lms.lookups == []


def test_the_lms_is_asked_once_per_request_for_every_sync_id() -> None:
    deps = deps_with_ada()
    rows = [{"id": i, "taskType": "reminder", "sync": True} for i in ("12345", "a", "12345", " b ")]
    validate(*rows, deps=deps)
    assert isinstance(deps.lms, FakeLms) and deps.lms.lookups == [["12345", "a", "b"]]


def test_without_an_lms_client_sync_customers_fail_saying_so() -> None:
    deps = make_deps()
    deps.lms = None
    assert messages_of({"id": "12345", "taskType": "reminder", "sync": True}, deps) == [
        "sync: no LMS is connected, the customer cannot be fetched"
    ]


def test_an_unreachable_lms_fails_the_whole_request_not_single_rows() -> None:
    deps = deps_with_ada()
    assert isinstance(deps.lms, FakeLms)
    deps.lms.down = True
    with pytest.raises(LmsUnavailableError):
        validate({"id": "12345", "taskType": "reminder", "sync": True}, deps=deps)


# -- the SSN never leaks ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "row",
    [
        customer(ssnLastFour="9876", birthday="2999-01-01"),
        customer(ssnLastFour="98765"),
        customer(ssnLastFour="98a7"),
        customer(ssnLastFour=" 9876 ", taskType="sales"),
        {"id": "nobody", "taskType": "reminder", "sync": True, "ssnLastFour": "9876"},
    ],
)
def test_the_ssn_is_in_no_error_entry_or_row_result(row: dict[str, Any]) -> None:
    (outcome,) = validate(row)
    assert outcome.errors
    secret = str(row["ssnLastFour"]).strip()
    assert secret not in json.dumps(outcome.error_entries())
    assert secret not in json.dumps(KIND.row_result(outcome))
    assert secret not in json.dumps(KIND.redact(row))
    assert KIND.redact(row)["ssnLastFour"] == "***"


def test_the_ssn_from_the_lms_is_in_no_error_either() -> None:
    (outcome,) = validate({"id": "12345", "taskType": "sales", "sync": True})
    assert "0042" not in json.dumps([outcome.error_entries(), KIND.row_result(outcome)])


# -- storing ---------------------------------------------------------------------------------------
def test_stored_customers_have_iso_birthdays_and_flags_always_set() -> None:
    record = record_of(customer(birthday="1985-06-15"))
    data = KIND.to_stored(record, "c-1", KIND.options({}, TENANT, NOW)).data
    assert data["birthday"] == "1985-06-15" and data["doNotCall"] is False and data["isTest"] is False
    assert list(data)[:3] == ["firstName", "lastName", "id"]


def test_an_update_without_do_not_call_keeps_a_stored_true() -> None:
    deps = make_deps()
    options = KIND.options({}, TENANT, NOW)
    for row, stored_before, expected in [
        (customer(), {"doNotCall": True}, True),
        (customer(doNotCall=False), {"doNotCall": True}, False),
        (customer(), {"doNotCall": False}, False),
        (customer(), None, False),
    ]:
        (outcome,) = validate_rows(KIND, [row], options, TENANT)
        existing = {"c-1": {**(stored_before or {}), "importId": "imp_old"}} if stored_before else {}
        persist(KIND, [outcome], options, deps.records, "acme", "imp_new", existing=existing)
        assert deps.records.get_records("acme", "customer-profile", ["c-1"])["c-1"]["doNotCall"] is expected


# -- the single endpoint's use case ---------------------------------------------------------------
def test_upsert_creates_then_updates() -> None:
    deps = deps_with_ada()
    created, body = upsert_customer(deps, ACME, customer(ssnLastFour="1234"))
    assert created is True and body["phoneNumber"] == "+12125550142" and body["ssnLastFour"] == "1234"
    assert "importId" not in body and "tenantId" not in body
    created, body = upsert_customer(deps, ACME, customer(city="Brooklyn"))
    assert created is False and body["city"] == "Brooklyn" and "ssnLastFour" not in body
    assert deps.imports.jobs == {}  # a single customer is not an import


def test_upsert_unknown_task_type_is_400_with_the_valid_task_types() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        upsert_customer(make_deps(), ACME, customer(taskType="sales"))
    assert exc.value.details["validTaskTypes"] == ["collections", "reminder"]
    assert exc.value.message.startswith("taskType: unknown task type sales")


def test_upsert_missing_fields_is_400_naming_each() -> None:
    with pytest.raises(InvalidRequestError) as exc:
        upsert_customer(make_deps(), ACME, customer(city=DROP, zipCode=DROP))
    assert exc.value.details["errors"] == ["city: is required", "zipCode: is required"]
    assert "validTaskTypes" not in exc.value.details


def test_upsert_sync_unknown_id_is_404_and_an_unreachable_lms_502() -> None:
    deps = deps_with_ada()
    with pytest.raises(NotFoundError, match="customer nobody is not in your LMS"):
        upsert_customer(deps, ACME, {"id": "nobody", "taskType": "reminder", "sync": True})
    assert isinstance(deps.lms, FakeLms)
    deps.lms.down = True
    with pytest.raises(LmsUnavailableError) as exc:
        upsert_customer(deps, ACME, {"id": "12345", "taskType": "reminder", "sync": True})
    assert exc.value.status == 502
    assert deps.records.items == {}


def test_upsert_refuses_a_body_that_is_not_an_object() -> None:
    with pytest.raises(InvalidRequestError, match="body: must be a JSON object"):
        upsert_customer(make_deps(), ACME, [customer()])


def test_upsert_reports_a_write_that_failed() -> None:
    deps = make_deps()
    deps.records.fail_keys.add("c-1")  # type: ignore[attr-defined]
    with pytest.raises(Exception, match=r"customer c-1: row: not stored \(throttled"):
        upsert_customer(deps, ACME, customer())


# -- the batch on fakes ----------------------------------------------------------------------------
def run_batch(deps: Deps, rows: list[Any]) -> dict[str, Any]:
    job = jobs.start_async_import(KIND, {}, rows, ACME, deps)
    assert isinstance(deps.queue, FakeQueue)
    for body in deps.queue.messages:
        jobs.process_chunk(jobs.ChunkMessage.from_json(body), deps)
    deps.queue.messages.clear()
    return jobs.job_view(deps, ACME, "customers", job.import_id)


def test_a_batch_reports_every_customer_and_counts() -> None:
    deps = deps_with_ada()
    rows = [customer(id=f"c-{i}") for i in range(600)]
    rows[3] = customer(id="c-3", taskType="sales")
    rows.append({"id": "12345", "taskType": "reminder", "sync": True})
    rows.append(customer(id="c-7"))  # a duplicate of row 7, in another chunk
    view = run_batch(deps, rows)
    assert view["status"] == "DONE"
    assert view["counts"] == {"total": 602, "created": 600, "updated": 0, "failed": 2, "pending": 0}
    results = view["results"]
    assert [r["index"] for r in results] == list(range(602))
    assert results[3]["errors"] == [
        "taskType: unknown task type sales (valid task types: collections, reminder)"
    ]
    assert results[600] == {"index": 600, "id": "12345", "status": "created", "errors": []}
    assert results[601]["errors"] == ["id: duplicate of row 7"]
    # Sending customers again updates them (row 3 fails again on its task type).
    again = run_batch(deps, rows[:10])
    assert again["counts"]["updated"] == 9 and again["counts"]["failed"] == 1


def test_the_accepted_answer_and_job_view_shapes() -> None:
    at = datetime(2026, 11, 20, 9, 0, 1, tzinfo=UTC)
    job = ImportJob("imp_1", "acme", "customers", "api", "QUEUED", at, at, counts=Counts(total=3))
    assert KIND.accepted(job) == (
        202,
        {"jobId": "imp_1", "status": "QUEUED", "total": 3, "importId": "imp_1"},
    )
    view = KIND.job_view(job, [{"index": 1, "id": "b", "status": "updated", "errors": []}])
    assert view["counts"] == {"total": 3, "created": 0, "updated": 1, "failed": 0, "pending": 2}
    assert view["createdAt"] == "2026-11-20T09:00:01Z" and view["completedAt"] is None


def test_options_carry_the_tenants_today() -> None:
    options = KIND.options({}, TENANT, NOW)
    assert isinstance(options, CustomersOptions) and options.today == date(2026, 11, 20)
    assert options.lms is None


def test_sync_without_an_id_only_asks_for_the_id() -> None:
    assert messages_of({"taskType": "reminder", "sync": True}) == ["id: is required"]


def test_an_lms_outage_fails_the_chunk_so_it_is_retried_then_dead_lettered_with_the_reason() -> None:
    deps = deps_with_ada()
    assert isinstance(deps.lms, FakeLms) and isinstance(deps.queue, FakeQueue)
    deps.lms.down = True
    job = jobs.start_async_import(
        KIND, {}, [{"id": "12345", "taskType": "reminder", "sync": True}, customer()], ACME, deps
    )
    (body,) = deps.queue.messages
    message = jobs.ChunkMessage.from_json(body)
    with pytest.raises(LmsUnavailableError):
        jobs.process_chunk(message, deps)
    assert deps.records.items == {}  # nothing of the chunk was written
    jobs.fail_chunk(message, deps)
    view = jobs.job_view(deps, ACME, "customers", job.import_id)
    assert view["status"] == "DONE" and view["counts"]["failed"] == 2
    (message_text,) = view["results"][0]["errors"]
    assert message_text.startswith("row: not processed")
    assert "the LMS at lms.example did not answer within 5 s for customer x" in message_text
