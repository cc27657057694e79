"""References written in two Unicode spellings: ``Zoé`` composed, or ``e`` and a combining accent.

macOS file names, some exports and copy-paste give the decomposed form (NFD); most keyboards the
composed one (NFC). They look the same everywhere, so they are one reference: the second row of a
request is its duplicate, and the reference is stored composed, whichever way it was sent.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.test_hostile_rows import CASES, KindCase, run_kind

from bulk_import.kinds import get_kind
from bulk_import.kinds.fields import reference

REFERENCE = {"campaign-customers": "loan_id", "debts": "internal_id", "customers": "id", "payments": "id"}
COMPOSED, DECOMPOSED = "Zoé-Ångström", unicodedata.normalize("NFD", "Zoé-Ångström")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_a_reference_sent_decomposed_is_a_duplicate_of_the_same_reference_composed(case: KindCase) -> None:
    field = REFERENCE[case.name]
    rows = [case.valid(0), case.valid(1)]
    rows[0][field], rows[1][field] = DECOMPOSED, COMPOSED
    first, second = run_kind(case, rows)
    assert first.record is not None and first.record[field] == COMPOSED
    assert [e.message for e in second.errors] == [f"{field}: duplicate of row 0"]


@pytest.mark.parametrize("kind", ["customers", "payments"])
def test_rows_of_different_chunks_meet_as_duplicates_in_either_spelling(kind: str) -> None:
    dedupe = get_kind(kind).dedupe_key
    assert dedupe({"id": DECOMPOSED}) == dedupe({"id": COMPOSED}) == COMPOSED


@given(st.text(alphabet=st.characters(categories=["L", "M", "N"]), min_size=1, max_size=30))
def test_a_reference_is_the_same_in_every_canonical_spelling(text: str) -> None:
    composed = reference(unicodedata.normalize("NFC", text))
    assert reference(unicodedata.normalize("NFD", text)) == composed
    assert composed is None or unicodedata.is_normalized("NFC", composed)
