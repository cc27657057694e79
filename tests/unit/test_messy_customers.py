"""Customers exported from spreadsheets: ZIP codes whose leading zeros became a number.

Excel reads the Boston ZIP ``02134`` as the number 2134, and exports it so (``2134``, or ``2134.0`` once
it went through JSON). The timezone was already resolved from ``02134``; the stored customer must say
``02134`` too, not a four-digit code no address has, whatever type the number arrived as. An id sent
as a number with a fraction (``12345.0``) is the id ``12345`` everywhere, the LMS look-up included.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from tests.fakes import ACME
from tests.unit.test_customers import DROP, customer, deps_with_ada
from tests.unit.test_hostile_rows import CASES, run_kind

from bulk_import.kinds import get_kind
from bulk_import.usecases.customers import upsert_customer

CUSTOMERS = next(case for case in CASES if case.name == "customers")


def judged(**changes: Any) -> tuple[dict[str, Any] | None, list[str]]:
    (outcome,) = run_kind(CUSTOMERS, [customer(**changes)])
    return outcome.record, [e.message for e in outcome.errors]


@pytest.mark.parametrize("zip_code", ["2134", 2134, Decimal("2134.0"), 2134.0, " 2134 ", "2134.0", "02134.0"])
def test_a_zip_code_that_lost_its_leading_zero_is_stored_with_it(zip_code: Any) -> None:
    record, errors = judged(zipCode=zip_code, timezone=DROP, state="MA", city="Boston")
    assert not errors and record is not None
    assert (record["zipCode"], record["timezone"]) == ("02134", "America/New_York")


def test_a_puerto_rico_zip_code_gets_both_of_its_zeros_back() -> None:
    record, errors = judged(zipCode=601, timezone=DROP, state="PR", city="Adjuntas")
    assert not errors and record is not None
    assert (record["zipCode"], record["timezone"]) == ("00601", "America/Puerto_Rico")


def test_a_five_digit_zip_code_written_as_a_float_is_stored_as_its_digits() -> None:
    record, errors = judged(zipCode="10001.0", timezone=DROP)
    assert not errors and record is not None
    assert (record["zipCode"], record["timezone"]) == ("10001", "America/New_York")


def test_a_zip_code_is_restored_even_when_the_timezone_is_given() -> None:
    record, errors = judged(zipCode="2134", state="MA", city="Boston")
    assert not errors and record is not None and record["zipCode"] == "02134"


@pytest.mark.parametrize("zip_code", ["10001", "02134-1234", "99999"])
def test_a_five_digit_or_unknown_zip_code_is_kept_as_sent(zip_code: str) -> None:
    record, errors = judged(zipCode=zip_code)
    assert not errors and record is not None and record["zipCode"] == zip_code


def test_a_synced_customer_whose_id_arrives_as_a_decimal_number_is_merged_with_its_lms_record() -> None:
    # 12345.0 read as the id "12345" by the id rule, but not looked up in the LMS: the customer was
    # stored with its id and task type alone, none of the fields the LMS holds, none required.
    created, stored = upsert_customer(
        deps_with_ada(), ACME, {"id": Decimal("12345.0"), "taskType": "collections", "sync": True}
    )
    assert created and stored["id"] == "12345"
    assert (stored["firstName"], stored["zipCode"], stored["timezone"]) == (
        "Ada",
        "94102",
        "America/Los_Angeles",
    )


@pytest.mark.parametrize("value", [Decimal("12345.0"), 12345.0, 12345, "12345"])
def test_every_spelling_of_a_numeric_id_is_one_key_across_chunks(value: Any) -> None:
    assert get_kind("customers").dedupe_key({"id": value}) == "12345"
    assert get_kind("payments").dedupe_key({"id": value}) == "12345"
