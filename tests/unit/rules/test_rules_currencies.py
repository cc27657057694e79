"""ISO 4217 currency codes."""

import pytest

from bulk_import.rules import ISO_4217_CURRENCIES, RuleError, normalize_currency


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("EUR", "EUR"),
        ("eur", "EUR"),
        (" usd ", "USD"),
        ("Gbp", "GBP"),
        ("MAD", "MAD"),
        ("DZD", "DZD"),
        ("TND", "TND"),
        ("XOF", "XOF"),
        ("XAF", "XAF"),
        ("XPF", "XPF"),
        ("CHF", "CHF"),
        ("JPY", "JPY"),
        ("INR", "INR"),
        ("XCG", "XCG"),  # Caribbean guilder, replaced ANG in 2025
        ("ZWG", "ZWG"),  # Zimbabwe Gold, replaced ZWL in 2024
        ("SLE", "SLE"),
        ("VES", "VES"),
    ],
)
def test_accepts_active_codes(raw: str, expected: str) -> None:
    assert normalize_currency(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("XYZ", "not an ISO 4217 currency code: XYZ"),
        ("xyz", "not an ISO 4217 currency code: XYZ"),
        ("€", "not an ISO 4217 currency code: €"),
        ("EURO", "not an ISO 4217 currency code: EURO"),
        ("EU R", "not an ISO 4217 currency code: EU R"),
        (978, "not an ISO 4217 currency code: 978"),  # numeric code is not accepted
        ("XTS", "not an ISO 4217 currency code: XTS"),  # test code
        ("XXX", "not an ISO 4217 currency code: XXX"),  # "no currency"
        ("XAU", "not an ISO 4217 currency code: XAU"),  # gold
        ("BOV", "not an ISO 4217 currency code: BOV"),  # fund code
        ("FRF", "not an ISO 4217 currency code: FRF"),  # historic
        ("HRK", "not an ISO 4217 currency code: HRK"),  # withdrawn 2023
        ("A" * 50, "not an ISO 4217 currency code: " + "A" * 20 + "…"),
        ("", "must not be empty"),
    ],
)
def test_rejects_other_codes(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        normalize_currency(raw)
    assert str(excinfo.value) == message


def test_list_is_complete_and_well_formed() -> None:
    assert len(ISO_4217_CURRENCIES) >= 150
    assert all(len(code) == 3 and code.isascii() and code.isupper() for code in ISO_4217_CURRENCIES)
    # Major currencies of every continent, so that an accidental deletion shows up.
    major = "USD CAD MXN BRL ARS EUR GBP SEK PLN RUB CNY INR IDR AUD NGN ZAR EGP KES SAR AED TRY KRW NZD SGD"
    assert set(major.split()) <= ISO_4217_CURRENCIES


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("usd", "must be written in capital letters: USD, not usd"),
        ("Eur", "must be written in capital letters: EUR, not Eur"),
        ("EURO", "not an ISO 4217 currency code: EURO"),
        ("XYZ", "not an ISO 4217 currency code: XYZ"),
    ],
)
def test_strict_codes_must_be_sent_in_capitals(raw: str, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        normalize_currency(raw, strict=True)
    assert str(excinfo.value) == message


def test_strict_codes_are_trimmed_like_any_text() -> None:
    assert normalize_currency(" USD ", strict=True) == "USD"
