"""clean() and is_blank(): what every other rule sees of a raw value."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules import RuleError, clean, is_blank


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane ", "Jane"),
        ("Jane", "Jane"),
        ("\tMarie-Claire\n", "Marie-Claire"),
        ("\u00a0Dupont\u00a0", "Dupont"),  # no-break spaces from spreadsheets
        ("\ufeffL-1001", "L-1001"),  # BOM on the first cell of a CSV export
        ("\u200b L-1001 \u200b", "L-1001"),  # zero-width spaces from copy-paste
        ("a  b", "a  b"),  # inner spaces are data
        ("", None),
        ("   ", None),
        ("\n\t ", None),
        (None, None),
        (12345, "12345"),  # spreadsheet ids arrive as numbers
        (0, "0"),
        (Decimal("12345"), "12345"),
        (Decimal("1E+3"), "1000"),  # no exponent notation in an id
        (Decimal("12345.0"), "12345"),  # a JSON 12345.0 read as a decimal, like the same float
        (Decimal("12.50"), "12.50"),
        (Decimal("1E+999999"), "1E+999999"),  # never written out as a million digits
        (12345.0, "12345"),  # a whole float loses its ".0"
        (12.5, "12.5"),
        (float("nan"), None),  # what pandas puts in an empty cell
        (dt.date(2024, 3, 15), "2024-03-15"),
    ],
)
def test_clean(raw: object, expected: str | None) -> None:
    assert clean(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (True, "must be text, not true/false"),
        (False, "must be text, not true/false"),
        (["a"], "must be text, not a list"),
        ({"a": 1}, "must be text, not an object"),
        (object(), "must be text"),
    ],
)
def test_clean_rejects_non_text(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        clean(raw)
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, True),
        ("", True),
        ("  \t", True),
        ("\ufeff", True),
        (float("nan"), True),
        ("x", False),
        (0, False),  # zero is a value, not an absence
        (False, False),
        ([], False),
        ({"a": 1}, False),
    ],
)
def test_is_blank(raw: object, expected: bool) -> None:
    assert is_blank(raw) is expected


@given(st.text())
def test_clean_never_leaves_edge_whitespace_and_agrees_with_is_blank(text: str) -> None:
    result = clean(text)
    assert (result is None) == is_blank(text)
    if result is not None:
        assert result == result.strip()
        assert result in text
