"""Values copied out of right-to-left interfaces: direction marks around numbers, ids and dates.

Arabic and Hebrew CRMs, and spreadsheets in those locales, wrap what they display in invisible direction
marks (U+200E, U+200F) or embeddings and isolates (U+202A…U+202E, U+2066…U+2069). Copied into a file
or a request, ``\\u200e06 12 34 56 78`` used to fail as "not a phone number", and ``\\u200eR3`` was another
loan id than ``R3``. They are trimmed like spaces and zero-width characters.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.test_hostile_rows import CASES, run_kind

from bulk_import.rules.strings import INVISIBLE, clean

CAMPAIGN = next(case for case in CASES if case.name == "campaign-customers")
MARKS = [
    "\u200e",
    "\u200f",
    "\u061c",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2069",
    "\u00ad",
]


@pytest.mark.parametrize("mark", MARKS, ids=lambda m: f"U+{ord(m):04X}")
def test_a_row_wrapped_in_direction_marks_reads_as_the_row_without_them(mark: str) -> None:
    row = CAMPAIGN.valid(0)
    wrapped = {
        name: f"{mark}{value}{mark}" if isinstance(value, str) else value for name, value in row.items()
    }
    clean_row, marked_row = run_kind(CAMPAIGN, [row, {**wrapped, "loan_id": f"{mark}{row['loan_id']}"}])
    assert clean_row.record is not None and not clean_row.errors
    # The same customer: a duplicate of the first row, not a second customer or a failed phone.
    assert [e.message for e in marked_row.errors] == ["loan_id: duplicate of row 0"]


@given(
    st.text(min_size=1, max_size=10).filter(lambda t: t.strip() == t and clean(t) == t),
    st.text(INVISIBLE + " "),
)
def test_invisible_characters_around_text_are_trimmed(text: str, around: str) -> None:
    assert clean(around + text + around) == text
