"""A route's JSON answer without a return model: plain JSON values are written as they are, decimals as
numbers (as clients sent them), anything else as pydantic-core makes it JSON-ready."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from bulk_import.entrypoints.resolver import serialize
from bulk_import.entrypoints.router import Route


@dataclass
class Stored:
    id: str
    at: datetime


def _answer(value: Any) -> Any:
    def route() -> Any:  # no return model: the answer is written as it comes
        return value

    r = Route("GET", "/x", route, {})
    r.fields()
    return json.loads(serialize(r.jsonable(value)))


_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.datetimes(timezones=st.just(UTC)),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


@given(_values)
def test_an_answer_without_decimals_is_written_as_pydantic_core_makes_it_json_ready(value: Any) -> None:
    assert _answer(value) == json.loads(serialize(to_jsonable_python(value)))


def test_dataclasses_and_datetimes_inside_an_answer_are_written_as_json() -> None:
    when = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert _answer({"items": [Stored("c1", when)], "count": Decimal("2")}) == {
        "items": [{"id": "c1", "at": "2026-12-01T09:30:00Z"}],
        "count": 2,
    }


def test_decimals_echoed_from_a_request_are_written_as_numbers() -> None:
    sent = {"data": {"amount": Decimal("12.5"), "list": [Decimal("1.5"), Decimal("2")]}, "rows": 1}
    assert _answer(sent) == {"data": {"amount": 12.5, "list": [1.5, 2]}, "rows": 1}


@given(
    st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**30), max_value=10**30, places=8)
    | st.decimals(allow_nan=False, allow_infinity=False)
)
def test_a_decimal_is_written_with_every_digit_it_has(value: Decimal) -> None:
    text = serialize({"amount": value})
    assert json.loads(text, parse_float=Decimal, parse_int=Decimal)["amount"] == value


def test_a_decimal_json_has_no_number_for_is_written_as_null() -> None:
    assert json.loads(serialize([Decimal("NaN"), Decimal("-Infinity")])) == [None, None]
