"""Hostile values in the rows of every kind: each row gets exactly one outcome, valid rows stay valid.

Rows mix valid ones with values real exports and real clients produce (40-digit numbers, exponents,
lone surrogates, control characters, 2 KB ids, 500 KB strings, deep objects, wrong types). Whatever
they hold, a row fails alone with messages that encode as JSON, and what is valid can be stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fakes import ACME, FakeRecords, acme_config, make_deps
from tests.unit.test_campaign_customers import loan
from tests.unit.test_customers import customer
from tests.unit.test_debts import debt
from tests.unit.test_payments import item

from bulk_import.adapters.dynamo_codec import to_item
from bulk_import.core.model import RowOutcome
from bulk_import.kinds import get_kind
from bulk_import.kinds.validation import validate_rows
from bulk_import.rules.limits import stored_size_problem
from bulk_import.usecases.sync_imports import run_inline_import

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
TENANT = acme_config()


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


HOSTILE: list[Any] = [
    10**40,
    -(10**40),
    10**400,
    Decimal("1" * 40),
    Decimal("0." + "7" * 45),
    Decimal("1E+30"),
    Decimal("1E+200"),
    Decimal("1E-130"),
    Decimal("1E-400"),
    Decimal("NaN"),
    Decimal("-0"),
    1e30,
    1e-300,
    float("nan"),
    float("inf"),
    "NaN",
    "Infinity",
    "-inf",
    "1e5",
    "1" * 40,
    "0." + "1" * 40,
    "\ud800",
    "Jean\udfffPierre",
    "\x00",
    "name\x1b[31m",
    "\x7f",
    "\x85",
    "L" * 2048,
    "x" * 500_000,
    "é" * 200_000,
    "🎉" * 50,
    "\u200b\ufeff",
    "١٢٣",
    "İstanbul ß Ω≈ç√",
    "\u2028\u2029",
    "1,234.50",
    "1.234,50",
    "",
    "   ",
    _nested(40),
    {"a": [10**40]},
    {"\ud800": 1},
    {"": "empty key"},
    {f"k{i}": "v" * 1000 for i in range(40)},
    [],
    ["a", "b"],
    [[[["deep"]]]],
    {},
    True,
    False,
    None,
    0,
    -1,
    12.5,
]

hostile_values = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.integers(min_value=-(10**45), max_value=10**45),
    st.decimals(),
    st.floats(),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers() | st.text(max_size=5), max_size=3),
)
hostile_rows = st.one_of(
    st.sampled_from([None, [], "a row as text", 42, {"\ud800": 1}, {"x" * 300: 1}, {}, [{"id": 1}]]),
    st.dictionaries(st.text(max_size=8), hostile_values, max_size=4),
)


@dataclass
class KindCase:
    """One kind, a valid row per position, its fields, and the request that sets its options."""

    name: str
    valid: Callable[[int], dict[str, Any]]
    fields: tuple[str, ...]
    request: dict[str, Any]


def _campaign_row(i: int) -> dict[str, Any]:
    return loan(i, last_name="Martin", loan_amount=Decimal("1000.50"), loan_period=12)


def _debt_row(i: int) -> dict[str, Any]:
    return debt(i, amount=Decimal("150.25"))


def _customer_row(i: int) -> dict[str, Any]:
    metadata = {"employer": "Acme", "score": Decimal("712.5"), "tags": ["a", 1]}
    return customer(id=f"c-{i}", externalMetadata=metadata, loanIds=[123, 456])


def _payment_row(i: int) -> dict[str, Any]:
    return item(
        id=f"pay-{i}",
        amount__amount=Decimal("100.5"),
        execution__margin=24,
        purpose="SALA",
        user_tags={"team": "ops"},
        description="December invoice",
    )


CASES = [
    KindCase(
        "campaign-customers",
        _campaign_row,
        ("loan_id", "first_name", "last_name", "phone_number", "loan_amount", "emi_amount", "loan_period"),
        {"campaignId": "camp-loans"},
    ),
    KindCase(
        "debts",
        _debt_row,
        ("temp_id", "internal_id", "firstname", "lastname", "amount", "currency", "phone", "email"),
        {},
    ),
    KindCase(
        "customers",
        _customer_row,
        ("id", "firstName", "city", "zipCode", "externalMetadata", "loanIds", "loanId", "email"),
        {},
    ),
    KindCase(
        "payments",
        _payment_row,
        ("id", "amount", "source", "target", "user_tags", "description", "purpose", "attachments"),
        {},
    ),
]
NESTED = {
    "payments": (("amount", "amount"), ("amount", "currency"), ("source", "id"), ("user_tags", "team")),
    "customers": (("externalMetadata", "score"), ("externalMetadata", "employer")),
}


def run_kind(case: KindCase, rows: list[Any]) -> list[RowOutcome]:
    kind = get_kind(case.name)
    options = kind.options(case.request, TENANT, NOW)
    options = kind.prepare(rows, options, TENANT, make_deps())
    return validate_rows(kind, rows, options, TENANT)


def assert_one_outcome_each(case: KindCase, rows: list[Any], outcomes: list[RowOutcome]) -> None:
    kind = get_kind(case.name)
    options = kind.options(case.request, TENANT, NOW)
    assert [o.index for o in outcomes] == list(range(len(rows)))
    for outcome in outcomes:
        if outcome.status == "skipped":
            assert outcome.record is None and not outcome.errors
        elif outcome.errors:
            assert outcome.record is None
            for error in outcome.errors:
                # Every message encodes as UTF-8 JSON, names its field and echoes little of the input.
                json.dumps(error.message, ensure_ascii=False).encode("utf-8")
                json.dumps(outcome.refs, ensure_ascii=False).encode("utf-8")
                assert error.message.startswith(f"{error.field}"), error.message
                assert len(error.message) < 600, error.message[:200]
        else:
            assert outcome.record is not None and outcome.key is not None
            stored = kind.to_stored(outcome.record, outcome.key, options)
            # What passed the rules can be stored: serializable, and within the item size limit.
            assert stored_size_problem(stored.data) is None
            to_item(stored.data)


def _mixed(case: KindCase) -> st.SearchStrategy[tuple[list[Any], set[int]]]:
    """Rows, and the positions of the rows left valid."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[list[Any], set[int]]:
        count = draw(st.integers(min_value=1, max_value=8))
        rows: list[Any] = []
        valid: set[int] = set()
        for i in range(count):
            choice = draw(st.sampled_from(["valid", "field", "nested", "extra", "row"]))
            row = case.valid(i)
            if choice == "valid":
                valid.add(i)
            elif choice == "field":
                row[draw(st.sampled_from(case.fields))] = draw(hostile_values)
            elif choice == "nested" and case.name in NESTED:
                outer, inner = draw(st.sampled_from(NESTED[case.name]))
                row[outer] = {**row.get(outer, {}), inner: draw(hostile_values)}
            elif choice == "extra":
                row[draw(st.sampled_from(["\ud800", "x" * 500, "note", "a\x00b"]))] = draw(hostile_values)
            else:
                row = draw(hostile_rows)
            rows.append(row)
        return rows, valid

    return build()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hostile_values_cost_only_their_own_row(case: KindCase, data: st.DataObject) -> None:
    rows, valid = data.draw(_mixed(case))
    outcomes = run_kind(case, rows)
    assert_one_outcome_each(case, rows, outcomes)
    for index in valid:
        assert outcomes[index].errors == [], [e.message for e in outcomes[index].errors]
        assert outcomes[index].record is not None


def _failure(case_name: str, changes: dict[str, Any]) -> list[str]:
    case = next(c for c in CASES if c.name == case_name)
    row = {**case.valid(1), **changes}
    first, outcome, last = run_kind(case, [case.valid(0), row, case.valid(2)])
    assert first.errors == [] and last.errors == [], "a neighbour of the hostile row failed"
    assert outcome.record is None, f"{changes} was accepted"
    return [e.message for e in outcome.errors]


@pytest.mark.parametrize(
    ("case_name", "changes", "message"),
    [
        ("campaign-customers", {"loan_amount": 10**39}, "loan_amount: at most 999,999,999,999.999"),
        ("campaign-customers", {"loan_amount": Decimal("1E+30")}, "loan_amount: at most 999,999,999,999.999"),
        (
            "campaign-customers",
            {"loan_amount": Decimal("1E-400")},
            "loan_amount: must be 0 or at least 0.001",
        ),
        ("campaign-customers", {"loan_id": "L" * 2048}, "loan_id: at most 200 characters"),
        ("campaign-customers", {"loan_period": 10**40}, "loan_period: at most 38 significant digits"),
        ("campaign-customers", {"first_name": "\ud800"}, "first_name: must be valid Unicode text"),
        ("campaign-customers", {"first_name": "x" * 500_000}, "row: the stored record would be about"),
        ("campaign-customers", {"last_name": "a\x00b"}, "last_name: must not contain control characters"),
        ("debts", {"amount": Decimal("1E+30")}, "amount: at most 999,999,999,999.999"),
        ("debts", {"amount": Decimal("1E-400")}, "amount: must be at least 0.001"),
        ("debts", {"amount": Decimal("1E-130")}, "amount: must be at least 0.001"),
        ("debts", {"amount": 1e30}, "amount: at most 999,999,999,999.999"),
        ("debts", {"internal_id": "I" * 201}, "internal_id: at most 200 characters"),
        ("debts", {"temp_id": "T" * 2048}, "temp_id: at most 200 characters"),
        ("debts", {"lastname": "Martin\ud800"}, "lastname: must be valid Unicode text"),
        (
            "customers",
            {"externalMetadata": {"n": 10**40}},
            "externalMetadata.n: at most 38 significant digits",
        ),
        ("customers", {"externalMetadata": {"n": Decimal("1E+200")}}, "externalMetadata.n: at most 9.99e125"),
        ("customers", {"loanIds": [10**40]}, "loanIds: at most 38 significant digits"),
        ("customers", {"loanIds": [1e100]}, "loanIds: at most 38 significant digits"),
        ("customers", {"id": "c" * 2048}, "id: at most 200 characters"),
        ("customers", {"firstName": "Grace\ud800"}, "firstName: must be valid Unicode text"),
        ("customers", {"city": "x" * 500_000}, "row: the stored record would be about"),
        (
            "payments",
            {"amount": {"type": "SEND", "amount": Decimal("1E+30")}},
            "amount.amount: at most 999,999",
        ),
        ("payments", {"amount": {"type": "SEND", "amount": 10**40}}, "amount.amount: at most 999,999"),
        ("payments", {"amount": {"type": "SEND", "amount": 1, "currency": "usd"}}, "amount.currency:"),
        ("payments", {"purpose": "sala"}, "purpose: must be 4 capital letters"),
        ("payments", {"user_tags": {"n": "\x1b"}}, "user_tags.n: must not contain control characters"),
        ("payments", {"id": "p" * 2048}, "id: at most 200 characters"),
        ("payments", {"description": "x" * 500_000}, "row: the stored record would be about"),
    ],
)
def test_each_storage_limit_fails_its_row_alone_naming_the_limit(
    case_name: str, changes: dict[str, Any], message: str
) -> None:
    messages = _failure(case_name, changes)
    assert any(m.startswith(message) for m in messages), messages


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_rows_with_decimals_where_json_had_floats_are_valid(case: KindCase) -> None:
    # The API reads JSON numbers with a fraction as Decimal: every kind accepts them like floats.
    (outcome,) = run_kind(case, [case.valid(0)])
    assert outcome.errors == [], [e.message for e in outcome.errors]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.name in ("campaign-customers", "debts")], ids=lambda c: c.name
)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_synchronous_import_stores_every_valid_row_and_reports_every_other(
    case: KindCase, data: st.DataObject
) -> None:
    rows, valid = data.draw(_mixed(case))
    deps = make_deps(TENANT)
    result = run_inline_import(get_kind(case.name), case.request, rows, ACME, deps)
    counts = result.job.counts
    assert counts.total == len(rows) == counts.succeeded + counts.failed + counts.skipped
    assert isinstance(deps.records, FakeRecords)
    assert len(deps.records.items) == counts.succeeded >= len(valid)
    stored = {o.index for o in result.outcomes if o.status in ("created", "updated")}
    assert valid <= stored
