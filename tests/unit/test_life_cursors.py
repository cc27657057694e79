"""Cursors of the listing, of a job's rows and of an import's errors: an edited cursor is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.adapters.dynamo_paging import decode_error_cursor, encode_error_cursor
from bulk_import.core.errors import InvalidRequestError
from bulk_import.engine.paging import decode_cursor as decode_rows_cursor
from bulk_import.engine.paging import encode_cursor as encode_rows_cursor
from bulk_import.usecases.lifecycle import decode_cursor as decode_list_cursor
from bulk_import.usecases.lifecycle import encode_cursor as encode_list_cursor

POSITION = "2026-12-01T16:49:27.465617Z#imp_d4235e0d506d4ec9a5c1dc190c364677"


def _payload(cursor: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


def _encoded(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def _edit_every_value(cursor: str, new: Callable[[Any], Any]) -> list[str]:
    """The cursor with one of its values replaced, once per value (the seal kept as it was)."""
    payload = _payload(cursor)
    edited = []
    for key, value in payload.items():
        if key != "s":
            edited.append(_encoded({**payload, key: new(value)}))
    return edited


def test_a_listing_cursor_reads_back_for_its_tenant() -> None:
    assert decode_list_cursor(encode_list_cursor(POSITION, "acme"), "acme") == POSITION


@given(st.text(min_size=1, max_size=200).filter(lambda p: p != POSITION))
def test_a_listing_cursor_whose_position_was_edited_is_refused(position: str) -> None:
    for tampered in _edit_every_value(encode_list_cursor(POSITION, "acme"), lambda _: position):
        with pytest.raises(InvalidRequestError, match="cursor: not a cursor"):
            decode_list_cursor(tampered, "acme")


def test_a_listing_cursor_of_another_tenant_is_refused() -> None:
    with pytest.raises(InvalidRequestError):
        decode_list_cursor(encode_list_cursor(POSITION, "acme"), "globex")


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_a_job_page_cursor_whose_row_was_edited_is_refused(after: int, other: int) -> None:
    cursor = encode_rows_cursor("acme", "imp_1", after)
    assert decode_rows_cursor("acme", "imp_1", cursor) == after
    if other != after:
        for tampered in _edit_every_value(cursor, lambda _: other):
            with pytest.raises(InvalidRequestError):
                decode_rows_cursor("acme", "imp_1", tampered)


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=9))
def test_an_error_page_cursor_whose_position_was_edited_is_refused(index: int, entry: int) -> None:
    cursor = encode_error_cursor("acme", "imp_1", index, entry)
    assert decode_error_cursor("acme", "imp_1", cursor) == (index, entry)
    for tampered in _edit_every_value(cursor, lambda _: [index + 1, entry]):
        with pytest.raises(InvalidRequestError):
            decode_error_cursor("acme", "imp_1", tampered)


@pytest.mark.parametrize(
    "decode",
    [
        lambda c: decode_list_cursor(c, "acme"),
        lambda c: decode_rows_cursor("acme", "imp_1", c),
        lambda c: decode_error_cursor("acme", "imp_1", c),
    ],
    ids=["listing", "job rows", "errors"],
)
@pytest.mark.parametrize(
    "cursor",
    ["", "%%%", "A" * 5000, _encoded({"p": 3}), _encoded({"s": "x"}), "W10", "bnVsbA", "e30"],
)
def test_a_malformed_cursor_is_refused_not_a_server_error(decode: Callable[[str], Any], cursor: str) -> None:
    with pytest.raises(InvalidRequestError):
        decode(cursor)
