"""French phone numbers typed by hand in debt files: a digit missing or one too many says so.

``06 12 34 56 7`` has nine digits. libphonenumber finds that length possible in France (other number
types have it), so the number used to be refused for an "unknown prefix", although 06 is the most common
prefix there is. The contract asks for a specific message: too short, not a number, unknown prefix.
Phones that an export wrote as floats (``4155550100.0``) are read as their digits.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules.errors import RuleError
from bulk_import.rules.phones import (
    MSG_NOT_FRENCH,
    MSG_TOO_LONG,
    MSG_TOO_SHORT,
    normalize_french_phone,
    normalize_phone,
)

mobiles = st.builds(
    lambda prefix, rest: f"0{prefix}{rest}",
    st.sampled_from(["6", "73", "75", "76", "77", "78"]),
    st.from_regex(r"[0-9]{7}", fullmatch=True),
).map(lambda n: n if len(n) == 10 else n + "1")


def refusal(text: str) -> str:
    with pytest.raises(RuleError) as caught:
        normalize_french_phone(text)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("06 12 34 56 7", MSG_TOO_SHORT),
        ("06.12.34.56.7", MSG_TOO_SHORT),
        ("01 23 45 67 8", MSG_TOO_SHORT),
        ("0690 12 34 5", MSG_TOO_SHORT),
        ("06 12 34 56 789", MSG_TOO_LONG),
        ("+33 6 12 34 56 7", MSG_TOO_SHORT),
        ("07 00 00 00 00", MSG_NOT_FRENCH),
    ],
)
def test_a_french_number_with_a_digit_too_few_or_too_many_says_so(text: str, message: str) -> None:
    assert refusal(text) == message


@given(mobiles)
def test_any_french_mobile_missing_its_last_digit_is_too_short(number: str) -> None:
    normalize_french_phone(number)  # valid, in mainland France or overseas (0690: Guadeloupe)
    assert refusal(number[:-1]) == MSG_TOO_SHORT


#: A phone column held as floats, as an export writes it, and the number it is (region, E.164).
FLOAT_TEXTS = {
    "4155550100.0": ("US", "+14155550100"),
    "919876543210.0": ("IN", "+919876543210"),
    "+33612345678.0": ("FR", "+33612345678"),
}


@pytest.mark.parametrize("text", FLOAT_TEXTS)
def test_a_phone_written_as_a_float_by_an_export_is_read_as_its_digits(text: str) -> None:
    # pandas writes a phone column holding a blank cell as floats: 4155550100.0 used to be "too long".
    region, e164 = FLOAT_TEXTS[text]
    assert normalize_phone(text, region) == e164


def test_a_french_debt_phone_written_as_a_float_is_read_as_its_digits() -> None:
    assert normalize_french_phone("612345678.0").e164 == "+33612345678"
