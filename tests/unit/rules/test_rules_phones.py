"""Phone numbers: E.164 normalization with a default region, and the French rules of the debts import."""

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulk_import.rules import (
    FRENCH_OVERSEAS_REGIONS,
    PhoneResult,
    RuleError,
    normalize_french_phone,
    normalize_phone,
    region_of,
)

# --- normalize_phone ---


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("98765 43210", "IN", "+919876543210"),
        ("098765 43210", "IN", "+919876543210"),  # Indian trunk prefix 0
        ("+91 98765-43210", "IN", "+919876543210"),
        ("9876543210", "IN", "+919876543210"),
        (9876543210, "IN", "+919876543210"),  # a spreadsheet cell read as a number
        (9876543210.0, "IN", "+919876543210"),
        ("(415) 555-2671", "US", "+14155552671"),
        ("415.555.2671", "US", "+14155552671"),
        ("1-415-555-2671", "US", "+14155552671"),
        ("+1 (415) 555-2671", "US", "+14155552671"),
        ("  415 555 2671  ", "US", "+14155552671"),
        ("415\u00a0555\u00a02671", "US", "+14155552671"),  # no-break spaces
        ("+44 20 7946 0958", "US", "+442079460958"),  # + keeps its own country
        ("0044 20 7946 0958", "US", "+442079460958"),  # so does 00, even where the exit code is 011
        ("011 44 20 7946 0958", "US", "+442079460958"),  # the US exit code itself
        ("+1 415 555 2671", "IN", "+14155552671"),
        ("00 1 415 555 2671", "FR", "+14155552671"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("+33 (0)6 12 34 56 78", "FR", "+33612345678"),  # the "(0)" French habit
        ("+212 6 12 34 56 78", "FR", "+212612345678"),
        ("030 123456", "DE", "+4930123456"),
        ("98765 43210", "in", "+919876543210"),  # region in lower case from a config file
    ],
)
def test_normalize_phone(raw: object, region: str, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "message"),
    [
        ("abc", "US", "not a phone number"),
        ("call me", "US", "not a phone number"),
        ("1-800-FLOWERS", "US", "not a phone number"),  # vanity letters are not dialable by a robot
        ("415-555-2671 ext 5", "US", "has an extension, which cannot be dialled; send the number alone"),
        ("415/555/2671", "US", "not a phone number"),
        ("+", "US", "not a phone number"),
        ("++14155552671", "US", "not a phone number"),
        ("415+5552671", "US", "not a phone number"),
        ("٤١٥٥٥٥٢٦٧١", "US", "not a phone number"),  # Arabic-Indic digits
        (True, "US", "must be text, not true/false"),
        (12.5, "US", "not a phone number"),
        ("", "US", "must not be empty"),
        (None, "US", "must not be empty"),
        ("1", "US", "too short to be a phone number"),
        ("123", "US", "too short to be a phone number"),
        ("98765", "IN", "too short to be a phone number"),
        ("+44 20", "US", "too short to be a phone number"),
        ("555-2671", "US", "too short to be a phone number (is the area code missing?)"),
        ("98765 43210 98765 43210", "IN", "too long to be a phone number"),
        ("+44 20 7946 0958 1234 5678 90", "US", "too long to be a phone number"),
        ("+999 1234567", "US", "unknown country calling code"),
        ("00999 1234567", "FR", "unknown country calling code"),
        ("01234 56789", "IN", "not a valid number for region IN"),
        ("(123) 555-2671", "US", "not a valid number for region US"),  # no area code starts with 1
        ("+44 70 0000 0000 0", "IN", "too long to be a phone number"),
        ("+33 7 01 23 45 67", "US", "not a valid number for region FR"),  # the number's own region
        ("0033 7 01 23 45 67", "IN", "not a valid number for region FR"),
    ],
)
def test_normalize_phone_rejects_with_specific_message(raw: object, region: str, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        normalize_phone(raw, region)
    assert str(excinfo.value) == message


def test_unknown_default_region_is_a_configuration_error_not_a_row_error() -> None:
    with pytest.raises(ValueError, match="unsupported default phone region") as excinfo:
        normalize_phone("4155552671", "XX")
    assert not isinstance(excinfo.value, RuleError)


# Real example numbers for a spread of regions, written the way people write them.
_REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
_TYPES = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]
_FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
]


def _example(region: str, number_type: int) -> phonenumbers.PhoneNumber | None:
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None or not phonenumbers.is_valid_number(example):
        return None
    return example


@settings(max_examples=150, deadline=None)
@given(
    region=st.sampled_from(_REGIONS),
    number_type=st.sampled_from(_TYPES),
    number_format=st.sampled_from(_FORMATS),
    other_region=st.sampled_from(_REGIONS),
)
def test_example_numbers_round_trip_and_output_is_idempotent(
    region: str, number_type: int, number_format: int, other_region: str
) -> None:
    example = _example(region, number_type)
    if example is None:
        return
    expected = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    written = phonenumbers.format_number(example, number_format)
    if "-" in written or "(" in written or "." in written or " " in written or written.startswith("+"):
        assert normalize_phone(written, region) == expected
    # The stored value is final: normalizing it again, with any tenant region, changes nothing.
    assert normalize_phone(expected, other_region) == expected
    assert normalize_phone("00" + expected[1:], other_region) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.sampled_from(["US", "IN", "FR", "GB"]))
def test_any_text_gives_e164_or_rule_error(text: str, region: str) -> None:
    try:
        result = normalize_phone(text, region)
    except RuleError as exc:
        assert str(exc)  # every rejection explains itself
    else:
        assert result.startswith("+")
        assert result[1:].isdigit()
        assert 8 <= len(result) <= 16


# --- normalize_french_phone ---


@pytest.mark.parametrize(
    ("raw", "e164", "region"),
    [
        ("06 12 34 56 78", "+33612345678", "FR"),
        ("06.12.34.56.78", "+33612345678", "FR"),
        ("06-12-34-56-78", "+33612345678", "FR"),
        ("0612345678", "+33612345678", "FR"),
        (" 06 12 34 56 78 ", "+33612345678", "FR"),
        ("01 42 68 53 00", "+33142685300", "FR"),  # Paris landline
        ("07 81 23 45 67", "+33781234567", "FR"),
        (612345678, "+33612345678", "FR"),  # spreadsheet dropped the leading zero
        ("0033612345678", "+33612345678", "FR"),
        ("0033 6 12 34 56 78", "+33612345678", "FR"),
        ("+33612345678", "+33612345678", "FR"),
        ("+33 6 12 34 56 78", "+33612345678", "FR"),
        ("+33 (0)6 12 34 56 78", "+33612345678", "FR"),
        ("33612345678", "+33612345678", "FR"),
        ("33 6 12 34 56 78", "+33612345678", "FR"),
        (33612345678, "+33612345678", "FR"),
        # Overseas: national numbers not valid in mainland France.
        ("0690123456", "+590690123456", "GP"),
        ("06 90 12 34 56", "+590690123456", "GP"),
        ("0590 82 12 34", "+590590821234", "GP"),  # Guadeloupe landline
        ("0692123456", "+262692123456", "RE"),
        ("0262 20 12 34", "+262262201234", "RE"),
        ("0694201234", "+594694201234", "GF"),
        ("0594 30 12 34", "+594594301234", "GF"),
        ("0696123456", "+596696123456", "MQ"),
        ("0596 30 12 34", "+596596301234", "MQ"),  # valid for mainland France in libphonenumber, too
        ("02 40 12 34 56", "+33240123456", "FR"),  # Nantes: an 02 landline that stays mainland
        ("05 56 12 34 56", "+33556123456", "FR"),  # Bordeaux
        ("09 51 23 45 67", "+33951234567", "FR"),  # mainland VoIP
        ("0806 12 34 56", "+33806123456", "FR"),  # shared-cost number, mainland despite overseas ranges
        ("0639012345", "+262639012345", "YT"),
        ("0269 61 23 45", "+262269612345", "YT"),
        ("0590 27 12 34", "+590590271234", "BL"),  # Saint-Barthélemy landline range
        ("0590 87 12 34", "+590590871234", "BL"),
        ("75 12 34", "+687751234", "NC"),  # New Caledonia mobile, 6 digits
        ("87 12 34 56", "+68987123456", "PF"),  # French Polynesia mobile, 8 digits
        ("0708401234", "+508708401234", "PM"),  # Saint-Pierre-and-Miquelon mobile
        # International numbers of any country keep it.
        ("+212612345678", "+212612345678", "MA"),
        ("00212 6 12 34 56 78", "+212612345678", "MA"),
        ("+213 5 51 23 45 67", "+213551234567", "DZ"),
        ("+216 20 123 456", "+21620123456", "TN"),
        ("+32 470 12 34 56", "+32470123456", "BE"),
        ("+590690123456", "+590690123456", "GP"),
        ("+262692123456", "+262692123456", "RE"),
        ("+262639012345", "+262639012345", "YT"),
        ("+1 415 555 2671", "+14155552671", "US"),
    ],
)
def test_normalize_french_phone(raw: object, e164: str, region: str) -> None:
    assert normalize_french_phone(raw) == PhoneResult(e164=e164, region=region)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("abc", "not a phone number"),
        ("06 12 34 56 7a", "not a phone number"),
        ("", "must not be empty"),
        ("06", "too short to be a phone number"),
        ("06 12 34", "too short to be a phone number"),
        ("06 12 34 56", "too short to be a phone number"),
        ("06 12 34 56 78 9", "too long to be a phone number"),
        ("06 12 34 56 78 90 12", "too long to be a phone number"),
        ("07 01 23 45 67", "not a valid French number (unknown prefix)"),
        ("+33 7 01 23 45 67", "not a valid number for region FR"),
        ("+33 6 90 12 34 56", "not a valid number for region FR"),  # +33 is mainland, not Guadeloupe
        ("+212 1234", "too short to be a phone number"),
        ("+999 612345678", "unknown country calling code"),
        ("00999 612345678", "unknown country calling code"),
    ],
)
def test_normalize_french_phone_rejects_with_specific_message(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        normalize_french_phone(raw)
    assert str(excinfo.value) == message


def test_overseas_order_puts_guadeloupe_before_its_neighbours_and_pm_last() -> None:
    assert FRENCH_OVERSEAS_REGIONS.index("GP") < FRENCH_OVERSEAS_REGIONS.index("BL")
    assert FRENCH_OVERSEAS_REGIONS.index("GP") < FRENCH_OVERSEAS_REGIONS.index("MF")
    # Placed earlier, Saint-Pierre-and-Miquelon would claim New Caledonia's 6-digit numbers.
    assert normalize_french_phone("75 12 34").region == "NC"


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=0, max_value=99_999_999), st.sampled_from(["6", "7"]))
def test_french_mobiles_are_french_and_idempotent(suffix: int, first: str) -> None:
    national = f"0{first}{suffix:08d}"
    try:
        result = normalize_french_phone(national)
    except RuleError:
        return  # unassigned ranges such as 070 are rightly refused
    assert result.e164 == "+33" + national[1:] or result.region in FRENCH_OVERSEAS_REGIONS
    # Storing and re-reading the E.164 number gives the same destination.
    assert normalize_french_phone(result.e164) == result
    assert region_of(result.e164) == result.region


# --- region_of ---


@pytest.mark.parametrize(
    ("e164", "region"),
    [
        ("+33612345678", "FR"),
        ("+590690123456", "GP"),
        ("+590590271234", "BL"),
        ("+262692123456", "RE"),
        ("+262639012345", "YT"),
        ("+212612345678", "MA"),
        ("+14155552671", "US"),
        ("+16135550123", "CA"),
        ("+442079460958", "GB"),
    ],
)
def test_region_of(e164: str, region: str) -> None:
    assert region_of(e164) == region


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0612345678", "not an E.164 phone number (must start with +)"),
        ("+999123456", "unknown country calling code"),
        ("+33701234567", "not a valid number for region FR"),
    ],
)
def test_region_of_rejects_non_e164(raw: str, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        region_of(raw)
    assert str(excinfo.value) == message


@settings(max_examples=400, deadline=None)
@given(
    digits=st.text(alphabet="0123456789", min_size=4, max_size=15),
    region=st.sampled_from(["FR", "US", "IN", "GB", "DE", "MA", "GP", "RE", "BR", "IT", "CA", "SG"]),
    international=st.booleans(),
)
def test_fast_validity_gives_the_same_verdict_as_phonenumbers(
    digits: str, region: str, international: bool
) -> None:
    import phonenumbers

    from bulk_import.rules.phones import is_valid

    try:
        number = phonenumbers.parse(
            ("+" if international else "") + digits, None if international else region
        )
    except phonenumbers.NumberParseException:
        return
    assert is_valid(number) == phonenumbers.is_valid_number(number)


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("0612345678", "FR"),
        ("0145678901", "FR"),
        ("98765 43210", "IN"),
        ("+44 7911 123456", "FR"),
        ("+39 06 1234 5678", "FR"),
        ("+1 415 555 2671", "FR"),
        ("0690123456", "GP"),
        ("+212 612 345678", "FR"),
    ],
)
def test_fast_validity_accepts_real_numbers_like_phonenumbers(raw: str, region: str) -> None:
    import phonenumbers

    from bulk_import.rules.phones import is_valid

    number = phonenumbers.parse(raw, region)
    assert is_valid(number) is True is phonenumbers.is_valid_number(number)
