"""The one true/false parser of options, fields and upload metadata."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules.errors import RuleError
from bulk_import.rules.flags import FALSE_WORDS, TRUE_WORDS, parse_flag
from bulk_import.rules.strings import clean


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("TRUE", True),  # a spreadsheet's boolean cell as text
        ("yes", True),
        ("Y", True),
        ("oui", True),
        ("Oui", True),
        ("1", True),
        (" yes ", True),
        ("\ufeffyes", True),  # the byte-order mark of a CSV file's first cell
        ("\u00a0true\u200b", True),
        ("false", False),
        ("False", False),
        ("no", False),
        ("N", False),
        ("non", False),
        ("NON", False),
        ("0", False),
        ("\t0\n", False),
    ],
)
def test_accepted_spellings(raw: object, expected: bool) -> None:
    assert parse_flag(raw) is expected


@pytest.mark.parametrize("raw", [None, "", "   ", "\u200b", float("nan"), Decimal("NaN")])
def test_missing_values_are_not_set(raw: object) -> None:
    assert parse_flag(raw) is None


@pytest.mark.parametrize(
    "raw",
    [
        "maybe",
        "vrai",
        "t",
        "yes please",
        "2",
        "-1",
        "1.0",
        2,
        -1,
        1.0,
        0.0,
        Decimal("1"),
        [],
        [True],
        {},
        {"value": True},
    ],
)
def test_anything_else_is_refused(raw: object) -> None:
    with pytest.raises(RuleError) as info:
        parse_flag(raw)
    assert str(info.value) == "must be true or false"


def test_the_error_is_a_value_error_for_field_validators() -> None:
    with pytest.raises(ValueError, match="must be true or false"):
        parse_flag("peut-être")


def test_no_spelling_means_both_true_and_false() -> None:
    assert not TRUE_WORDS & FALSE_WORDS


@given(st.sampled_from(sorted(TRUE_WORDS | FALSE_WORDS)), st.text(" \t\r\n", max_size=3), st.booleans())
def test_every_spelling_reads_the_same_in_any_case_and_padding(word: str, padding: str, upper: bool) -> None:
    raw = padding + (word.upper() if upper else word) + padding
    assert parse_flag(raw) is (word in TRUE_WORDS)


@given(st.one_of(st.text(max_size=8), st.sampled_from(sorted(TRUE_WORDS | FALSE_WORDS))))
def test_text_is_true_false_missing_or_refused_never_guessed(raw: str) -> None:
    words = (clean(raw) or "").lower()
    try:
        result = parse_flag(raw)
    except RuleError:
        assert words not in TRUE_WORDS | FALSE_WORDS and words
        return
    if result is None:
        assert clean(raw) is None
    else:
        assert words in (TRUE_WORDS if result else FALSE_WORDS)
