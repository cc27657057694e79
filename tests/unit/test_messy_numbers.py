"""Numbers as hostile clients write them: exponents far beyond what a decimal context holds.

JSON allows any exponent (``1e999999999`` is nine characters), and the request boundary reads such a
literal as a ``Decimal`` without complaint. Arithmetic on it (``abs``, ``int``) overflows the decimal
context or writes out a billion digits, so a row holding one must be judged without either. Rows
that travel to a worker (queue messages, the payload store) keep their decimals exactly.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.test_hostile_rows import CASES, KindCase, run_kind

from bulk_import.rules.exact_json import dumps_exact, loads_exact, tag_decimals, untag_decimals
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


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**40), max_value=10**40)
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.sampled_from([Decimal("1e999999999"), Decimal("-0"), Decimal("5"), Decimal("1.0")])
    | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


def same(a: Any, b: Any) -> bool:
    """Equal, with decimals equal only to decimals of the same digits and exponent."""
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return type(a) is type(b) and a.as_tuple() == b.as_tuple()
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
    return type(a) is type(b) and a == b


@given(json_values)
def test_rows_read_back_from_the_payload_store_are_the_rows_as_sent(value: Any) -> None:
    assert same(loads_exact(dumps_exact(value)), value)


@given(json_values)
def test_rows_of_a_queue_message_reach_the_worker_as_sent(value: Any) -> None:
    tagged, tag = tag_decimals(value)
    # The queue writes unknown types as text and reads JSON back without decimals.
    sent = json.loads(json.dumps(tagged, default=str))
    assert same(untag_decimals(sent, tag), value)
