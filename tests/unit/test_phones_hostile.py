"""Phone numbers as exports write them: the ones that cannot be dialled say why, specifically."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules.errors import RuleError
from bulk_import.rules.phones import (
    MSG_EXTENSION,
    MSG_NOT_A_PHONE,
    MSG_SEVERAL,
    normalize_french_phone,
    normalize_phone,
)


def refusal(raw: str, region: str = "US") -> str:
    with pytest.raises(RuleError) as caught:
        normalize_phone(raw, region)
    return str(caught.value)


@pytest.mark.parametrize(
    "raw", ["+1 (415) 555-0101 ext. 5", "415-555-0101 x12", "4155550101#204", "(415) 555 0101 Extension 7"]
)
def test_a_number_with_an_extension_says_so(raw: str) -> None:
    assert refusal(raw) == MSG_EXTENSION


def test_a_french_number_with_an_extension_says_so() -> None:
    with pytest.raises(RuleError, match="extension"):
        normalize_french_phone("01 23 45 67 89 poste 12")


@pytest.mark.parametrize(
    "raw", ["06 12 34 56 78 / 06 12 34 56 79", "0612345678, 0612345679", "415-555-0101 or 415-555-0102"]
)
def test_a_cell_with_two_numbers_says_so(raw: str) -> None:
    assert refusal(raw, "FR" if raw.startswith("06") else "US") == MSG_SEVERAL


@pytest.mark.parametrize("raw", ["call me", "n/a", "415-CALL-NOW", "12/05/2026"])
def test_text_that_is_no_number_is_not_a_phone_number(raw: str) -> None:
    assert refusal(raw) == MSG_NOT_A_PHONE


@given(st.text(max_size=40))
def test_whatever_the_text_a_refusal_is_one_of_the_documented_messages(raw: str) -> None:
    try:
        normalize_phone(raw, "FR")
    except RuleError as error:
        assert str(error) and "\n" not in str(error)
