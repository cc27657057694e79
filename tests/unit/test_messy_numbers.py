"""Numbers as hostile clients write them: exponents far beyond what a decimal context holds.

JSON allows any exponent (``1e999999999`` is nine characters), and the request boundary reads such a
literal as a ``Decimal`` without complaint. Arithmetic on it (``abs``, ``int``) overflows the decimal
context or writes out a billion digits, so a row holding one must be judged without either.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.unit.test_hostile_rows import CASES, KindCase, run_kind

from bulk_import.rules.limits import number_problem, value_problem

HUGE = [Decimal("1e999999999"), Decimal("-1e999999999"), Decimal("1e-999999999"), Decimal("9e999999")]


@pytest.mark.parametrize("value", HUGE, ids=str)
def test_a_number_beyond_the_decimal_context_is_refused_by_its_magnitude(value: Decimal) -> None:
    expected = "at least 1e-130" if value.adjusted() < 0 else "at most 9.99e125"
    assert (number_problem(value) or "").startswith(expected)
    assert (value_problem(value) or "").startswith(expected)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("value", HUGE[:2], ids=str)
def test_a_row_with_a_huge_exponent_fails_on_its_field_not_as_a_row_it_cannot_handle(
    case: KindCase, value: Decimal
) -> None:
    rows = []
    for field in case.fields:
        row = case.valid(len(rows))
        row[field] = value
        rows.append(row)
    rows.append(case.valid(len(rows)))
    outcomes = run_kind(case, rows)
    for field, outcome in zip(case.fields, outcomes, strict=False):
        messages = [e.message for e in outcome.errors]
        assert outcome.record is None, (field, messages)
        assert messages and all(not m.startswith("row:") for m in messages), (field, messages)
        assert any(m.startswith(f"{field}:") for m in messages), (field, messages)
    assert outcomes[-1].record is not None and not outcomes[-1].errors
