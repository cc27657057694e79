"""Storage limits: what DynamoDB and UTF-8 JSON cannot hold is named before anything is written."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules.limits import (
    MAX_RECORD_BYTES,
    MSG_CONTROL,
    MSG_KEY_EMPTY,
    MSG_NOT_FINITE,
    MSG_REFERENCE_TOO_LONG,
    MSG_SURROGATE,
    MSG_TOO_DEEP,
    MSG_TOO_LARGE,
    MSG_TOO_MANY_DIGITS,
    MSG_TOO_SMALL,
    amount_problem,
    estimated_size,
    number_problem,
    reference_problem,
    stored_size_problem,
    text_problem,
    value_problem,
)

_SERIALIZER = TypeSerializer()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, None),
        (Decimal("0E-500"), None),
        (10**38 - 1, None),
        (-(10**38) + 1, None),
        (10**38, MSG_TOO_MANY_DIGITS),
        (10**40, MSG_TOO_MANY_DIGITS),
        (Decimal("1" * 39), MSG_TOO_MANY_DIGITS),
        (Decimal("0." + "1" * 39), MSG_TOO_MANY_DIGITS),
        (Decimal("1E+30"), None),
        (Decimal("9.99E+125"), None),
        (Decimal("1E+126"), MSG_TOO_LARGE),
        (Decimal("-1E+200"), MSG_TOO_LARGE),
        (Decimal("1E-130"), None),
        (Decimal("-1E-130"), None),
        (Decimal("1E-131"), MSG_TOO_SMALL),
        (Decimal("1E-400"), MSG_TOO_SMALL),
        (Decimal("NaN"), MSG_NOT_FINITE),
        (Decimal("-Infinity"), MSG_NOT_FINITE),
        (1e300, MSG_TOO_LARGE),
        (5e-324, MSG_TOO_SMALL),
        (float("nan"), MSG_NOT_FINITE),
        (float("inf"), MSG_NOT_FINITE),
        (0.1, None),
        (True, None),
    ],
)
def test_numbers_outside_what_storage_holds_are_named(value: Any, message: str | None) -> None:
    assert number_problem(value) == message


@given(
    st.one_of(
        st.integers(min_value=-(10**45), max_value=10**45),
        st.floats(),
        st.decimals(),
        st.decimals(places=40),
    )
)
def test_a_number_without_a_problem_is_one_dynamodb_serializes(value: Any) -> None:
    problem = number_problem(value)
    if problem is None:
        number = Decimal(repr(value)) if isinstance(value, float) else value
        # boto3 raises for any number it would have to round or that is out of DynamoDB's range.
        _SERIALIZER.serialize(number)


@given(st.integers(min_value=-(10**37), max_value=10**37) | st.decimals(allow_nan=False, places=5))
def test_ordinary_numbers_have_no_problem(value: Any) -> None:
    if isinstance(value, Decimal) and not value.is_finite():
        return
    if isinstance(value, Decimal) and not value.is_zero() and abs(value) > Decimal("9.99e125"):
        return
    assert number_problem(value) is None or len(Decimal(value).as_tuple().digits) > 38


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Jean-Pierre", None),
        ("tab\tand\r\nline breaks", None),
        ("émoji 🎉 and 中文", None),
        ("\u200b zero width is printable enough", None),
        ("nul\x00", MSG_CONTROL),
        ("escape\x1b[31m", MSG_CONTROL),
        ("delete\x7f", MSG_CONTROL),
        ("c1\x85", MSG_CONTROL),
        ("vertical\x0btab", MSG_CONTROL),
        ("lone \ud800", MSG_SURROGATE),
        ("\udfff", MSG_SURROGATE),
    ],
)
def test_text_storage_or_json_cannot_hold_is_named(text: str, message: str | None) -> None:
    assert text_problem(text) == message


@given(st.text())
def test_text_without_a_problem_encodes_as_utf8_json(text: str) -> None:
    if text_problem(text) is None:
        json.dumps(text, ensure_ascii=False).encode("utf-8")
        assert not any(c < " " and c not in "\t\r\n" for c in text)


def test_references_are_at_most_200_characters() -> None:
    assert reference_problem("L" * 200) is None
    assert reference_problem("L" * 201) == MSG_REFERENCE_TOO_LONG == "at most 200 characters"
    assert reference_problem("L" * 2048) == MSG_REFERENCE_TOO_LONG
    assert reference_problem("ok\x00") == MSG_CONTROL


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (Decimal("999999999999.999"), None),
        (Decimal("1000000000000"), "at most 999,999,999,999.999"),
        (Decimal("1E+30"), "at most 999,999,999,999.999"),
        (Decimal("1E-400"), MSG_TOO_SMALL),
    ],
)
def test_amounts_are_bounded_like_in_every_kind(value: Decimal, message: str | None) -> None:
    assert amount_problem(value) == message


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"k": value}
    return value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"employer": "Acme", "scores": [1, 2.5, Decimal("3.25")], "ok": True, "none": None}, None),
        ({"score": 10**40}, f"score: {MSG_TOO_MANY_DIGITS}"),
        ({"a": {"b": [1, Decimal("1E-400")]}}, f"a.b[1]: {MSG_TOO_SMALL}"),
        ({"a": ["fine", "bad\x00"]}, f"a[1]: {MSG_CONTROL}"),
        ({"\ud800": 1}, f"object keys {MSG_SURROGATE}"),
        ({"": 1}, MSG_KEY_EMPTY),
        ({"k" * 201: 1}, "object keys at most 200 characters"),
        (_nested(16), None),
        (_nested(17), f"{'.'.join(['k'] * 16)}: {MSG_TOO_DEEP}"),
        ([float("nan")], f"[0]: {MSG_NOT_FINITE}"),
    ],
)
def test_nested_values_are_walked_to_the_first_problem(value: Any, message: str | None) -> None:
    assert value_problem(value) == message


def test_a_very_deep_value_is_refused_without_recursing_to_the_bottom() -> None:
    assert value_problem(_nested(5_000)) is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.decimals() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_nested_values_never_raise_and_clean_ones_serialize(value: Any) -> None:
    problem = value_problem(value)
    if problem is None:
        _SERIALIZER.serialize(_decimals(value))


def _decimals(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimals(v) for v in value]
    return value


def test_a_record_over_350_kb_is_named_with_its_size() -> None:
    assert stored_size_problem({"pk": "t#1", "name": "x" * 300_000}) is None
    message = stored_size_problem({"pk": "t#1", "name": "x" * 500_000})
    assert message == "the stored record would be about 501 KB; at most 350 KB"


def test_multibyte_text_counts_its_utf8_bytes() -> None:
    # 100,000 characters of 4 bytes each: 400 KB stored, over the limit although short in characters.
    assert stored_size_problem({"name": "🎉" * 100_000}) is not None
    assert estimated_size("é") == 2


@given(st.dictionaries(st.text(min_size=1, max_size=10), json_values, max_size=8))
def test_the_estimate_is_never_below_the_json_text_of_strings(item: dict[str, Any]) -> None:
    size = sum(estimated_size(k) + estimated_size(v) for k, v in item.items())
    strings = sum(len(k.encode("utf-8", "surrogatepass")) for k in item)
    assert size >= strings
    assert (stored_size_problem(item) is None) == (size <= MAX_RECORD_BYTES)
