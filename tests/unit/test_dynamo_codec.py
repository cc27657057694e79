"""The DynamoDB codec writes and reads attribute values exactly as boto3's serializer does.

The codec is the project's own only so that the DynamoDB path does not import all of boto3; boto3's
``TypeSerializer`` and ``TypeDeserializer`` are the oracle here, on generated values.
"""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.adapters.dynamo_codec import deserialize, from_item, serialize, to_item
from bulk_import.adapters.errors import UnstorableValueError

numbers = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40),
    st.decimals(allow_nan=False, allow_infinity=False),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, st.text(), st.binary())
sets = st.one_of(
    st.frozensets(st.integers(min_value=-(10**20), max_value=10**20), max_size=5),
    st.frozensets(st.text(), min_size=1, max_size=5),
    st.frozensets(st.binary(), min_size=1, max_size=5),
)
values = st.recursive(
    st.one_of(scalars, sets),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.dictionaries(st.text(max_size=8), inner, max_size=4),
    ),
    max_leaves=12,
)


def _outcome(function: Any, value: Any) -> Any:
    """What a conversion returns, or the kind of error it raises."""
    try:
        return ("ok", function(value))
    except decimal.DecimalException as exc:
        return ("decimal", type(exc).__mro__[0:1])
    except TypeError:
        return ("type",)


@given(values)
def test_values_are_written_as_boto3_writes_them(value: Any) -> None:
    assert _outcome(serialize, value) == _outcome(TypeSerializer().serialize, value)


@given(values)
def test_stored_values_read_back_as_boto3_reads_them(value: Any) -> None:
    try:
        attribute = TypeSerializer().serialize(value)
    except (TypeError, decimal.DecimalException):
        return
    assert deserialize(attribute) == TypeDeserializer().deserialize(attribute)


@pytest.mark.parametrize("text", ["NaN", "-NaN", "sNaN", "Infinity", "-Infinity"])
def test_every_spelling_of_nan_and_infinity_is_refused(text: str) -> None:
    # boto3 lets "-Infinity" and "-NaN" through to DynamoDB, which refuses the whole request.
    with pytest.raises(TypeError):
        serialize(Decimal(text))


def test_binary_reads_back_as_bytes() -> None:
    assert deserialize({"B": b"\x00\xff"}) == b"\x00\xff"
    assert type(deserialize({"B": bytearray(b"x")})) is bytes


@pytest.mark.parametrize("attribute", [{}, {"X": "1"}])
def test_an_attribute_without_a_dynamodb_type_is_refused(attribute: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        deserialize(attribute)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Decimal("1" * 39), "38 significant digits"),
        (Decimal("1e200"), "larger than DynamoDB stores"),
        (Decimal("1e-200"), "closer to zero"),
        (Decimal("NaN"), "NaN or Infinity"),
        (object(), "a type DynamoDB cannot store"),
    ],
)
def test_a_value_dynamodb_cannot_hold_names_its_attribute_and_the_limit(value: Any, reason: str) -> None:
    with pytest.raises(UnstorableValueError, match=f"amount holds .*{reason}"):
        to_item({"amount": value})


def test_an_item_round_trips_with_dates_as_text_and_floats_as_decimals() -> None:
    from datetime import UTC, date, datetime

    item = to_item(
        {"at": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "on": date(2026, 1, 2), "x": 0.1, "gone": None}
    )
    assert from_item(item) == {"at": "2026-01-02T03:04:05Z", "on": "2026-01-02", "x": Decimal("0.1")}
