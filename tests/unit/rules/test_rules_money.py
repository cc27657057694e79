"""Money amounts and positive integers: decimals in, decimals out, never float."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules import RuleError, parse_amount, parse_positive_int


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1234.50", "1234.50"),  # the places written are kept
        ("1234", "1234"),
        (" 1234.5 ", "1234.5"),
        ("1 234.50", "1234.50"),
        ("1 234 567,89", "1234567.89"),
        ("1\u00a0234,50", "1234.50"),  # French formatting: no-break space and decimal comma
        ("1\u202f234,50", "1234.50"),  # narrow no-break space (newer French locales)
        ("1_234.50", "1234.50"),
        ("1234,5", "1234.5"),
        ("1,234", "1.234"),  # no dot: the comma is the decimal separator, as the contract says
        ("0,99", "0.99"),
        (".5", "0.5"),
        ("+12", "12"),
        ("0", "0"),
        ("0.00", "0.00"),
        ("-0", "0"),  # negative zero is zero
        (1234, "1234"),
        (0, "0"),
        (Decimal("1234.50"), "1234.50"),
        (Decimal("1E+3"), "1000"),  # plain notation
        (0.1, "0.1"),  # never 0.1000000000000000055511151231257827
        (1234.5, "1234.5"),
        (19.99, "19.99"),
        (1e11, "100000000000.0"),
        (Decimal("1E+11"), "100000000000"),  # plain notation
        (Decimal("999999999999.999"), "999999999999.999"),
        ("0.001", "0.001"),
    ],
)
def test_parse_amount(raw: object, expected: str) -> None:
    result = parse_amount(raw)
    assert isinstance(result, Decimal)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize(
    ("raw", "kwargs", "message"),
    [
        ("abc", {}, "must be a number such as 1234.50"),
        ("12abc", {}, "must be a number such as 1234.50"),
        ("€12", {}, "must be a number such as 1234.50"),
        ("12 EUR", {}, "must be a number such as 1234.50"),
        ("1e5", {}, "must be a number such as 1234.50"),
        ("NaN", {}, "must be a number such as 1234.50"),
        ("Infinity", {}, "must be a number such as 1234.50"),
        (float("nan"), {}, "must be a number such as 1234.50"),
        (float("inf"), {}, "must be a number such as 1234.50"),
        (Decimal("NaN"), {}, "must be a number such as 1234.50"),
        (Decimal("-Infinity"), {}, "must be a number such as 1234.50"),
        ("1.2.3", {}, "must be a number such as 1234.50"),
        ("-", {}, "must be a number such as 1234.50"),
        ([12], {}, "must be a number such as 1234.50"),
        (
            "1,234.50",
            {},
            "must be a number such as 1234.50 (use a dot for decimals and no commas between thousands)",
        ),
        (
            "1.234,50",
            {},
            "must be a number such as 1234.50 (use a dot for decimals and no commas between thousands)",
        ),
        (
            "1,234,567",
            {},
            "must be a number such as 1234.50 (use a dot for decimals and no commas between thousands)",
        ),
        (True, {}, "must be a number, not true/false"),
        (False, {}, "must be a number, not true/false"),
        ("", {}, "must not be empty"),
        ("-5", {}, "must not be negative"),
        ("-0.01", {}, "must not be negative"),
        (-3, {}, "must not be negative"),
        (-0.5, {}, "must not be negative"),
        ("0", {"allow_zero": False}, "must be greater than 0"),
        ("0.000", {"allow_zero": False}, "must be greater than 0"),
        (0, {"allow_zero": False}, "must be greater than 0"),
        ("-1", {"allow_zero": False}, "must not be negative"),
        ("1.2345", {"max_places": 3}, "at most 3 decimal places"),
        ("0.001", {"max_places": 2}, "at most 2 decimal places"),
        ("0.05", {"max_places": 1}, "at most 1 decimal place"),
        ("0.5", {"max_places": 0}, "at most 0 decimal places"),
        (0.1234, {"max_places": 3}, "at most 3 decimal places"),
    ],
)
def test_parse_amount_rejects(raw: object, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        parse_amount(raw, **kwargs)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


@pytest.mark.parametrize(
    ("raw", "kwargs", "expected"),
    [
        ("1.234", {"max_places": 3}, "1.234"),
        ("12.500", {"max_places": 1}, "12.500"),  # trailing zeros are not significant places
        ("100", {"max_places": 0}, "100"),
        ("0.01", {"allow_zero": False, "max_places": 2}, "0.01"),
    ],
)
def test_parse_amount_limits_accept(raw: object, kwargs: dict[str, object], expected: str) -> None:
    assert str(parse_amount(raw, **kwargs)) == expected  # type: ignore[arg-type]


@given(
    st.one_of(
        st.integers(min_value=0, max_value=999_999_999_999),
        st.just(0.0),
        st.floats(min_value=0.001, max_value=999_999_999_999, allow_nan=False, allow_infinity=False),
        st.decimals(min_value="0.001", max_value="999999999999.999", places=3),
        st.decimals(min_value="0.001", max_value="99999999", places=6),
    )
)
def test_parse_amount_never_returns_a_float_and_keeps_the_written_value(raw: int | float | Decimal) -> None:
    result = parse_amount(raw)
    assert type(result) is Decimal
    expected = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    assert result == expected


@given(st.decimals(min_value=0, max_value="999999999999.99", places=2))
def test_parse_amount_reads_french_and_spaced_formatting(value: Decimal) -> None:
    plain = f"{value:f}"
    whole, _, cents = plain.partition(".")
    grouped = f"{int(whole):,}".replace(",", " ")
    assert parse_amount(f"{grouped}.{cents}") == value
    assert parse_amount(f"{grouped},{cents}") == value
    assert parse_amount(plain) == value


@given(st.text(max_size=20))
def test_parse_amount_any_text_gives_non_negative_decimal_or_rule_error(text: str) -> None:
    try:
        result = parse_amount(text)
    except RuleError:
        return
    assert type(result) is Decimal
    assert result.is_finite() and result >= 0


@pytest.mark.parametrize(
    ("raw", "kwargs", "message"),
    [
        (Decimal("1E+30"), {}, "at most 999,999,999,999.999"),
        (1e30, {}, "at most 999,999,999,999.999"),
        (10**40, {}, "at most 999,999,999,999.999"),
        ("1" * 40, {}, "at most 999,999,999,999.999"),
        (Decimal("1E+999999"), {}, "at most 999,999,999,999.999"),
        ("1000000000000", {}, "at most 999,999,999,999.999"),
        (Decimal("1E-400"), {"allow_zero": False}, "must be at least 0.001"),
        (Decimal("1E-130"), {"allow_zero": False}, "must be at least 0.001"),
        (Decimal("1E-130"), {}, "must be 0 or at least 0.001"),
        ("0.0009", {}, "must be 0 or at least 0.001"),
        (1e-300, {"allow_zero": False}, "must be at least 0.001"),
        ("1." + "1" * 40, {}, "at most 38 significant digits"),
    ],
)
def test_amounts_outside_the_shared_bounds_fail_naming_the_bound(
    raw: object, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(RuleError) as excinfo:
        parse_amount(raw, **kwargs)  # type: ignore[arg-type]
    assert str(excinfo.value) == message


@given(
    st.one_of(
        st.decimals(allow_nan=False, allow_infinity=False),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(min_value=-(10**60), max_value=10**60),
    ),
    st.booleans(),
)
def test_every_accepted_amount_is_within_the_shared_bounds(raw: object, allow_zero: bool) -> None:
    try:
        result = parse_amount(raw, allow_zero=allow_zero)
    except RuleError:
        return
    assert (result.is_zero() and allow_zero) or Decimal("0.001") <= result <= Decimal("999999999999.999")
    assert len(result.as_tuple().digits) <= 38


# --- parse_positive_int ---


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", 12), (12, 12), (12.0, 12), ("12.0", 12), (" 36 ", 36), (Decimal("24"), 24), ("1", 1)],
)
def test_parse_positive_int(raw: object, expected: int) -> None:
    result = parse_positive_int(raw)
    assert result == expected
    assert type(result) is int


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (12.5, "must be a whole number"),
        ("12.5", "must be a whole number"),
        (0, "must be greater than 0"),
        ("0", "must be greater than 0"),
        (-3, "must be greater than 0"),
        ("-3", "must be greater than 0"),
        (True, "must be a number, not true/false"),
        ("twelve", "must be a whole number such as 12"),
        ("12 months", "must be a whole number such as 12"),
        ("1,234,567", "must be a whole number such as 12"),
        ("", "must not be empty"),
        (10**40, "at most 38 significant digits"),
        (Decimal("1E+200"), "at most 9.99e125 in magnitude"),
        (1e300, "at most 9.99e125 in magnitude"),
        ("1" * 39, "at most 38 significant digits"),
        (1e38, "at most 38 significant digits"),  # one digit as written, 39 as the integer stored
    ],
)
def test_parse_positive_int_rejects(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        parse_positive_int(raw)
    assert str(excinfo.value) == message


@given(st.integers(min_value=1, max_value=10**9))
def test_parse_positive_int_round_trips(n: int) -> None:
    assert parse_positive_int(n) == n
    assert parse_positive_int(str(n)) == n
    assert parse_positive_int(float(n)) == n
