"""Phone numbers in the forms clients copy them from: a ``tel:`` link, digits typed on a full-width keyboard.
Each is the number it shows; anything else about them is judged as before."""

from __future__ import annotations

import pytest

from bulk_import.rules.errors import RuleError
from bulk_import.rules.phones import normalize_french_phone, normalize_phone


@pytest.mark.parametrize(
    ("written", "region", "e164"),
    [
        ("tel:+14155550100", "US", "+14155550100"),
        ("TEL:+1-415-555-0100", "US", "+14155550100"),
        ("tel:4155550100", "US", "+14155550100"),
        ("４１５５５５０１００", "US", "+14155550100"),
        ("＋９１ ９８７６５ ４３２１０", "US", "+919876543210"),
        ("（415）555-0100", "US", "+14155550100"),
    ],
)
def test_a_phone_in_a_copied_form_is_the_number_it_shows(written: str, region: str, e164: str) -> None:
    assert normalize_phone(written, region) == e164


def test_a_french_phone_in_a_tel_link_is_french() -> None:
    assert normalize_french_phone("tel:06 12 34 56 78").e164 == "+33612345678"


@pytest.mark.parametrize("written", ["tel:", "tel:abc", "telephone 4155550100", "٤١٥٥٥٥٠١٠٠x"])
def test_what_only_looks_like_a_copied_phone_is_still_not_a_phone(written: str) -> None:
    with pytest.raises(RuleError):
        normalize_phone(written, "US")
