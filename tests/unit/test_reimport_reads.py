"""A re-import reads back only the stored fields its checks need, and answers as if it read them all."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from hypothesis import given
from hypothesis import strategies as st
from tests.fakes import FakeRecords, acme_config
from tests.unit.test_customers import customer
from tests.unit.test_payments import item

from bulk_import.core.model import RowOutcome
from bulk_import.engine.pipeline import persist, read_existing
from bulk_import.kinds import get_kind
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.customers import CustomersKind
from bulk_import.kinds.payments import PaymentsKind
from bulk_import.kinds.validation import validate_rows

TENANT = acme_config()
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PAYMENTS = get_kind("payments")
CUSTOMERS = get_kind("customers")


class WholePayments(PaymentsKind):
    """Payments as they were checked before: against the whole stored record."""

    existing_fields: ClassVar[tuple[str, ...] | None] = None


class WholeCustomers(CustomersKind):
    """Customers checked against the whole stored record."""

    existing_fields: ClassVar[tuple[str, ...] | None] = None


@dataclass
class WatchedRecords(FakeRecords):
    """The fake store, remembering the fields each read asked for."""

    asked: list[tuple[str, ...] | None] = field(default_factory=list)

    def get_records(
        self, tenant_id: str, entity: str, keys: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        self.asked.append(None if fields is None else tuple(fields))
        return super().get_records(tenant_id, entity, keys, fields)


def payment(i: int) -> dict[str, Any]:
    return item(id=f"pay-{i}", amount__amount=f"{i + 1}.50")


def reimport(
    kind: ImportKind[Any], rows: list[dict[str, Any]], stored: dict[str, dict[str, Any]]
) -> tuple[list[RowOutcome], WatchedRecords]:
    """Import ``rows`` as import ``imp_new`` over a store holding ``stored`` (key -> stored data)."""
    records = WatchedRecords()
    for key, data in stored.items():
        records.items[("acme", kind.entity, key)] = copy.deepcopy(data)
    options = kind.options({}, TENANT, NOW)
    outcomes = validate_rows(kind, rows, options, TENANT)
    existing = read_existing(kind, outcomes, records, "acme")
    persist(kind, outcomes, options, records, "acme", "imp_new", existing=existing)
    return outcomes, records


def answers(outcomes: list[RowOutcome]) -> list[tuple[str, list[tuple[str | None, str]]]]:
    return [(o.status, [(e.field, e.message) for e in o.errors]) for o in outcomes]


stored_payment = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["PENDING", "pending", "EXECUTED", "CANCELLED", None]),
        "importId": st.sampled_from(["imp_old", "imp_new"]),
        "notes": st.text(max_size=50),
    }
)


@given(st.lists(st.one_of(st.none(), stored_payment), min_size=1, max_size=8))
def test_a_payments_reimport_reads_three_fields_and_answers_as_with_whole_records(
    stored: list[dict[str, Any] | None],
) -> None:
    rows = [payment(i) for i in range(len(stored))]
    held = {
        f"pay-{i}": {**payment(i), "id": f"pay-{i}", "approved": False, **s}
        for i, s in enumerate(stored)
        if s is not None
    }
    projected, watched = reimport(PAYMENTS, rows, held)
    whole, _ = reimport(WholePayments(), rows, held)
    assert watched.asked == [("importId", "status", "id")]
    assert answers(projected) == answers(whole)
    assert [PAYMENTS.row_result(o) for o in projected] == [PAYMENTS.row_result(o) for o in whole]


def test_a_payment_no_longer_pending_still_fails_when_read_in_part() -> None:
    held = {"pay-0": {**payment(0), "status": "EXECUTED", "importId": "imp_old", "notes": "x" * 5_000}}
    (outcome,), _ = reimport(PAYMENTS, [payment(0)], held)
    assert answers([outcome]) == [
        ("failed", [("id", "id: payment pay-0 is EXECUTED, only pending payments can be updated")])
    ]


def test_a_payment_stored_by_the_same_import_is_still_created_when_read_in_part() -> None:
    held = {"pay-0": {**payment(0), "status": "PENDING", "importId": "imp_new"}}
    held["pay-1"] = {**payment(1), "status": "PENDING", "importId": "imp_old"}
    outcomes, _ = reimport(PAYMENTS, [payment(0), payment(1)], held)
    assert [o.status for o in outcomes] == ["created", "updated"]


@given(
    stored_flag=st.one_of(st.none(), st.booleans()),
    sent=st.sampled_from([{}, {"doNotCall": False}, {"doNotCall": True}]),
)
def test_a_customers_reimport_reads_do_not_call_alone_and_keeps_a_stored_true(
    stored_flag: bool | None, sent: dict[str, Any]
) -> None:
    held = (
        {}
        if stored_flag is None
        else {"c-1": {**customer(), "doNotCall": stored_flag, "importId": "imp_old"}}
    )
    (projected,), watched = reimport(CUSTOMERS, [customer(**sent)], held)
    (whole,), whole_records = reimport(WholeCustomers(), [customer(**sent)], held)
    assert watched.asked == [("importId", "doNotCall")]
    assert projected.status == ("created" if stored_flag is None else "updated")
    assert answers([projected]) == answers([whole])
    assert projected.record == whole.record
    assert watched.items == whole_records.items


def test_a_kind_that_declares_no_fields_reads_whole_records() -> None:
    held = {"pay-0": {**payment(0), "status": "PENDING", "importId": "imp_old"}}
    _, watched = reimport(WholePayments(), [payment(0)], held)
    assert ImportKind.existing_fields is None
    assert watched.asked == [None]


def test_kinds_that_do_not_reconcile_read_nothing() -> None:
    kind = get_kind("debts")
    assert not kind.reads_existing
    assert (
        read_existing(
            kind, [RowOutcome(index=0, raw={}, key="d-1", status="valid")], WatchedRecords(), "acme"
        )
        is None
    )
