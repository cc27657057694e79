"""Lists packed as compressed items: every value back in order, every part under the item limits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.adapters import dynamo_packing
from bulk_import.adapters.dynamo_packing import CALL_ITEMS_MIN_SECONDS, call_item_expiry, pack, unpack

entries = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=60),
        st.dictionaries(st.sampled_from(["phone_number", "timezone", "doNotCall"]), st.text(max_size=30)),
    ).map(list),
    max_size=300,
)


@given(entries)
def test_a_packed_list_reads_back_whole_and_in_order(values: list[Any]) -> None:
    assert [v for blob in pack(values) for v in unpack(blob)] == values


@given(entries)
def test_a_list_larger_than_a_part_is_split_in_parts_that_each_fit(values: list[Any]) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(dynamo_packing, "MAX_PART_BYTES", 1_000)
        blobs = pack(values)
    assert all(len(b) <= 1_000 for b in blobs)
    assert [v for blob in blobs for v in unpack(blob)] == values


def test_numbers_read_back_as_dynamodb_numbers() -> None:
    (blob,) = pack([["k", {"amount": Decimal("12.50"), "count": 3}]])
    assert unpack(blob) == [["k", {"amount": Decimal("12.50"), "count": 3}]]


def test_nothing_to_pack_is_no_part() -> None:
    assert pack([]) == []


def test_a_single_value_too_large_for_a_part_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dynamo_packing, "MAX_PART_BYTES", 10)
    with pytest.raises(ValueError, match="does not fit in one item"):
        pack(["x" * 1_000])


def test_call_items_expire_with_the_retention_but_never_within_two_days_of_their_write() -> None:
    now = 1_800_000_000
    assert call_item_expiry(now + 30 * 86_400, now) == now + 30 * 86_400
    assert call_item_expiry(now - 86_400, now) == now + CALL_ITEMS_MIN_SECONDS == now + 2 * 86_400
