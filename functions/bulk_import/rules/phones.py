"""Phone number normalization to E.164.

``phonenumbers`` (Google's libphonenumber metadata) does the parsing and validity checks; this module adds
what the product contract asks on top of it: a strict character check (letters and other garbage are refused
instead of being read as vanity numbers or extensions), ``00`` international prefixes whatever the default
region, one actionable message per failure, and the French rules of the debts import (overseas regions tried
after mainland France).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, ValidationResult

from bulk_import.rules.errors import RuleError
from bulk_import.rules.phone_parse import number_as_shown, parse_compact
from bulk_import.rules.strings import clean

MSG_NOT_A_PHONE = "not a phone number"
MSG_TOO_SHORT = "too short to be a phone number"
MSG_TOO_LONG = "too long to be a phone number"
MSG_UNKNOWN_COUNTRY_CODE = "unknown country calling code"
MSG_LOCAL_ONLY = "too short to be a phone number (is the area code missing?)"
MSG_NOT_FRENCH = "not a valid French number (unknown prefix)"
MSG_EXTENSION = "has an extension, which cannot be dialled; send the number alone"
MSG_SEVERAL = "holds more than one phone number; send one"

# Separators people type inside phone numbers. Deleting them with str.translate is much cheaper than a regex.
# Slashes, letters, "ext"/"x" extensions and anything else are refused: a debt reminder cannot dial them.
_SEPARATORS = str.maketrans("", "", " .-()\t\u00a0\u202f\u2009\u200e\u200f\u202a\u202c\u2066\u2069")

# French overseas departments and collectivities, in the order a French national number that is not valid in
# mainland France is tried: the Caribbean and Indian Ocean departments first (most people), then
# Saint-Barthélemy and Saint-Martin (GP first: they share +590 and the 0690 mobile ranges), then the Pacific
# territories, whose 6 and 8 digit numbers cannot clash with the 10-digit plans above (a bare 6-digit number
# valid in both New Caledonia and Wallis and Futuna goes to New Caledonia, 25 times more populous).
# Saint-Pierre-and-Miquelon comes last, against the usual listing: its metadata accepts almost every 6-digit
# number, so placed earlier it would claim New Caledonia's numbers; its 9-digit ranges are valid in mainland
# France first (0806-0809) or nowhere else, so last costs it nothing.
FRENCH_OVERSEAS_REGIONS: tuple[str, ...] = ("GP", "MQ", "GF", "RE", "YT", "BL", "MF", "NC", "PF", "WF", "PM")

_FR_COUNTRY_CODE = 33
# First digits of French national significant numbers (after the 0) whose ranges overlap an overseas
# region's: landlines 02 (Réunion, Mayotte), 05 (Antilles, Guiana) and VoIP 09. Mobiles (06, 07) and
# mainland-only ranges never need the overseas check.
_SHARED_WITH_OVERSEAS = frozenset("259")


@dataclass(frozen=True, slots=True)
class PhoneResult:
    """A normalized phone number and the country or territory it belongs to.

    Attributes
    ----------
    e164
        The number in E.164 (``+590690123456``).
    region
        ISO 3166-1 alpha-2 code of its country or territory (``"GP"``), as used for destination pricing.
    """

    e164: str
    region: str


#: A number written as a float's text: digits, then ".0". No one writes a phone number's last digits so.
_FLOAT_TEXT = re.compile(r"\+?[0-9]{6,}\.0+")


def _compact(raw: object) -> str:
    """Return the number as ``+digits`` or ``digits``, or raise when it cannot be a phone number."""
    if isinstance(raw, float) and not raw.is_integer():
        raise RuleError(MSG_NOT_A_PHONE)
    text = clean(raw)
    if text is None:
        raise RuleError("must not be empty")
    text = number_as_shown(text)
    if _FLOAT_TEXT.fullmatch(text):
        # "4155550100.0": a phone column that a tool (pandas, a spreadsheet) held as floats, then wrote out.
        text = text.partition(".")[0]
    compact = text.translate(_SEPARATORS)
    if compact.startswith("+"):
        digits = compact[1:]
    elif compact.startswith("00"):
        # International prefix used in most of the world; converting it here means "0044…" works even for a
        # US default region, whose own international prefix is 011.
        digits = compact[2:]
        compact = "+" + digits
    else:
        digits = compact
    # isascii() first: str.isdigit() also accepts superscripts and other scripts' digits.
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise RuleError(_why_not_a_phone(text))
    return compact


# What people add to a number in exports: an extension ("ext. 12", "x12", "#12", "poste 12"), or a second
# number after a slash, comma, semicolon or "or"/"ou". Read only once a number is refused.
_EXTENSION = re.compile(r"\d[\s.\-()]*(?:ext\.?|extension|x|#|poste|p\.)\s*\d{1,7}\s*$", re.IGNORECASE)
_SEVERAL = re.compile(
    r"\d{2}[\s.\-()]*(?:[/,;|&]|\bor\b|\bou\b|\bet\b|\band\b)[\s.\-()+]*\d{2}", re.IGNORECASE
)


def _why_not_a_phone(text: str) -> str:
    """The message for text that is not a number: a specific one for an extension or a second number."""
    if _EXTENSION.search(text):
        return MSG_EXTENSION
    if _SEVERAL.search(text) and sum(c.isdigit() for c in text) >= 12:
        return MSG_SEVERAL
    return MSG_NOT_A_PHONE


_Desc = tuple["re.Pattern[str]", frozenset[int]]


@lru_cache(maxsize=512)
def _type_descs(country_code: int) -> tuple[_Desc, tuple[_Desc, ...]] | None:
    """General, mobile and fixed-line patterns of a calling code that belongs to a single region."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code, ())
    metadata = PhoneMetadata.metadata_for_region(regions[0]) if len(regions) == 1 else None
    if metadata is None or metadata.general_desc is None:
        return None

    def desc(d: object) -> _Desc | None:
        pattern = getattr(d, "national_number_pattern", None)
        if not pattern:
            return None
        return re.compile(pattern), frozenset(getattr(d, "possible_length", ()) or ())

    general = desc(metadata.general_desc)
    if general is None:
        return None
    specific = tuple(x for x in (desc(metadata.mobile), desc(metadata.fixed_line)) if x is not None)
    return general, specific


def _matches(nsn: str, desc: _Desc) -> bool:
    pattern, lengths = desc
    return (not lengths or len(nsn) in lengths) and pattern.fullmatch(nsn) is not None


def is_valid(number: PhoneNumber) -> bool:
    """``phonenumbers.is_valid_number``, with a fast way to say yes.

    ``is_valid_number`` tries about ten number types (premium, toll-free, shared cost…) before mobile
    and fixed line, which is what almost every number in a customer file is. A number of a single-region
    calling code that matches its region's general pattern and its mobile or fixed-line pattern is valid
    by that same definition, so it is accepted after three matches; anything else gets the full check.
    The verdict is always ``is_valid_number``'s (a property test holds them equal).
    """
    descs = _type_descs(number.country_code)
    if descs is not None:
        nsn = phonenumbers.national_significant_number(number)
        general, specific = descs
        if _matches(nsn, general) and any(_matches(nsn, d) for d in specific):
            return True
    return bool(phonenumbers.is_valid_number(number))


def _parse(compact: str, region: str | None) -> PhoneNumber:
    try:
        return parse_compact(compact, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise RuleError(MSG_UNKNOWN_COUNTRY_CODE) from None
        if exc.error_type == NumberParseException.TOO_LONG:
            raise RuleError(MSG_TOO_LONG) from None
        # TOO_SHORT_NSN, TOO_SHORT_AFTER_IDD, and NOT_A_NUMBER (which, once _compact accepted the characters,
        # only means too few digits).
        raise RuleError(MSG_TOO_SHORT) from None


def _e164(number: PhoneNumber) -> str:
    # format_number(number, E164) for a number with a country code and no raw input (what the parser
    # gives): "+", the code and the national significant number, without format_number's other checks.
    return f"+{number.country_code}{phonenumbers.national_significant_number(number)}"


def _off_by_one_digit(
    number: PhoneNumber, compact: str, read: Callable[[str], PhoneNumber | None]
) -> str | None:
    """``MSG_TOO_SHORT`` when one more digit at the end would make the number valid, ``MSG_TOO_LONG`` when one
    digit less would: the usual slips of a number typed by hand, which libphonenumber's length check
    misses when the wrong length is a possible one elsewhere in the plan (``06 12 34 56 7`` in France).

    ``number`` is ``compact`` as parsed; ``read`` gives the valid number that other text is, or None. The
    candidate's digits must be the number's own plus or minus the last one, not digits read another way.
    """
    own = number.national_number or 0
    for digit in range(10):
        candidate = read(compact + str(digit))
        if candidate is not None and candidate.national_number == own * 10 + digit:
            return MSG_TOO_SHORT
    if own >= 10:
        candidate = read(compact[:-1])
        if candidate is not None and candidate.national_number == own // 10:
            return MSG_TOO_LONG
    return None


def _invalid(number: PhoneNumber, region: str) -> RuleError:
    """Build the most specific error for a parsed number that is not valid."""
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason == ValidationResult.TOO_SHORT:
        return RuleError(MSG_TOO_SHORT)
    if reason == ValidationResult.TOO_LONG:
        return RuleError(MSG_TOO_LONG)
    if reason == ValidationResult.INVALID_COUNTRY_CODE:
        return RuleError(MSG_UNKNOWN_COUNTRY_CODE)
    if reason == ValidationResult.IS_POSSIBLE_LOCAL_ONLY:
        return RuleError(MSG_LOCAL_ONLY)
    if reason == ValidationResult.INVALID_LENGTH:
        return RuleError(f"wrong number of digits for a number in region {region}")
    return RuleError(f"not a valid number for region {region}")


def _main_region(number: PhoneNumber) -> str:
    # The main region of the number's country calling code: "US" for +1, "FR" for +33, "ZZ" if unknown.
    return phonenumbers.region_code_for_country_code(number.country_code or 0)


def _region_for_message(number: PhoneNumber, default_region: str) -> str:
    # A number written with its own country code ("+44…", "0044…", or "011 44…" in the US) is judged against
    # that country, so the message must name it rather than the tenant's default region.
    if number.country_code == phonenumbers.country_code_for_region(default_region):
        return default_region
    return _main_region(number)


def normalize_phone(raw: object, default_region: str) -> str:
    """Normalize a phone number to E.164.

    Parameters
    ----------
    raw
        The number as sent: text with spaces, dots, dashes or parentheses (``"(415) 555-2671"``), an
        international number (``"+44 20 7946 0958"``, ``"0044 20 7946 0958"``), or an integer from a
        spreadsheet.
    default_region
        ISO 3166-1 alpha-2 region used for numbers without a country code (the tenant's region, e.g.
        ``"IN"``). Numbers starting with ``+`` or ``00`` keep their own country.

    Returns
    -------
    str
        The number in E.164, e.g. ``"+919876543210"``.

    Raises
    ------
    RuleError
        ``"not a phone number"`` (letters, symbols, no digits; ``MSG_EXTENSION`` or ``MSG_SEVERAL`` for an
        extension or a second number), ``"too short to be a phone number"``, ``"too
        long to be a phone number"``, ``"unknown country calling code"``, ``"too short to be a phone number
        (is the area code missing?)"`` or ``"not a valid number for region XX"`` (XX: the default region, or
        the number's own region when it carried a country code).
    ValueError
        When ``default_region`` is not a region ``phonenumbers`` knows: a configuration error, not a row
        error.
    """
    region = default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unsupported default phone region: {default_region!r}")
    number = _parse(_compact(raw), region)
    if is_valid(number):
        return _e164(number)
    raise _invalid(number, _region_for_message(number, region))


def _international(compact: str) -> PhoneResult:
    number = _parse(compact, None)
    if is_valid(number):
        region = phonenumbers.region_code_for_number(number)
        # Non-geographic numbers (+800, +882…) have the pseudo-region "001"; they are still real numbers.
        return PhoneResult(_e164(number), region or "001")
    raise _invalid(number, _main_region(number))


def normalize_french_phone(raw: object) -> PhoneResult:
    """Normalize a phone number of the debts import, where numbers without a country code are French.

    National numbers (``"06 12 34 56 78"``, ``"06.12.34.56.78"``, ``"0612345678"``, or ``612345678`` from
    a spreadsheet that dropped the leading zero) are tried in mainland France first, then in the overseas
    regions of :data:`FRENCH_OVERSEAS_REGIONS` in order: ``"0690123456"`` is Guadeloupe (``+590690123456``),
    ``"0692…"`` Réunion, ``"0694…"`` French Guiana, ``"0696…"`` Martinique, ``"0639…"`` Mayotte. ``"33…"``
    (11 digits), ``"0033…"`` and ``"+33…"`` are French numbers written with the country code; other
    international numbers (``+`` or ``00``) are accepted for any country.

    Parameters
    ----------
    raw
        The number as sent.

    Returns
    -------
    PhoneResult
        The E.164 number and its region (``"FR"``, ``"GP"``, ``"RE"``, ``"MA"`` …), ready for pricing.

    Raises
    ------
    RuleError
        ``"not a phone number"``, ``"too short to be a phone number"``, ``"too long to be a phone number"``,
        ``"unknown country calling code"``, ``"not a valid French number (unknown prefix)"`` for a national
        number valid nowhere in France, or ``"not a valid number for region XX"`` for an international one.
    """
    compact = _compact(raw)
    if compact.startswith("+"):
        return _international(compact)
    if len(compact) == 11 and compact.startswith("33"):
        # "33612345678": the country code without "+" or "00"; 11 digits cannot be a French national number.
        return _international("+" + compact)

    number = _parse(compact, "FR")
    if number.country_code != _FR_COUNTRY_CODE:
        # Only possible if the parser read an international prefix itself; trust what it found.
        return _international(_e164(number))
    valid_in_france = phonenumbers.is_valid_number_for_region(number, "FR")
    national_number = number.national_number
    if valid_in_france and str(national_number)[0] not in _SHARED_WITH_OVERSEAS:
        # Fast path for most rows: mainland mobiles (06, 07), 01/03/04 landlines and 08 special numbers.
        return PhoneResult(_e164(number), "FR")

    # libphonenumber's French metadata also accepts some overseas landline ranges (0596 Martinique, 0269
    # Mayotte, 0263 Réunion, 0598…), which are written the same way but priced as DOM-TOM: the overseas
    # regions' narrower ranges are checked before settling for mainland France. They use the same national
    # prefix 0, so the national significant number parsed for France is theirs too: only the country calling
    # code changes, and building the candidates avoids parsing again per region.
    for region in FRENCH_OVERSEAS_REGIONS:
        candidate = PhoneNumber(
            country_code=phonenumbers.country_code_for_region(region), national_number=national_number
        )
        if phonenumbers.is_valid_number_for_region(candidate, region):
            return PhoneResult(_e164(candidate), region)
    if valid_in_france:
        return PhoneResult(_e164(number), "FR")

    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason in (ValidationResult.TOO_SHORT, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
        raise RuleError(MSG_TOO_SHORT)
    if reason == ValidationResult.TOO_LONG:
        raise RuleError(MSG_TOO_LONG)
    raise RuleError(_off_by_one_digit(number, compact, _french) or MSG_NOT_FRENCH)


def _french(compact: str) -> PhoneNumber | None:
    """A national number read for France when it is valid there or in one of its overseas regions."""
    try:
        number = parse_compact(compact, "FR")
    except NumberParseException:
        return None
    if phonenumbers.is_valid_number_for_region(number, "FR"):
        return number
    for region in FRENCH_OVERSEAS_REGIONS:
        candidate = PhoneNumber(
            country_code=phonenumbers.country_code_for_region(region), national_number=number.national_number
        )
        if phonenumbers.is_valid_number_for_region(candidate, region):
            return candidate
    return None


def region_of(e164: str) -> str:
    """Return the region of an E.164 number.

    Parameters
    ----------
    e164
        A number as returned by :func:`normalize_phone` (``"+262692123456"``).

    Returns
    -------
    str
        ISO 3166-1 alpha-2 code of its country or territory (``"RE"``), ``"001"`` for non-geographic numbers.

    Raises
    ------
    RuleError
        When the text is not a valid E.164 number.
    """
    if not e164.startswith("+"):
        raise RuleError("not an E.164 phone number (must start with +)")
    number = _parse(_compact(e164), None)
    if not phonenumbers.is_valid_number(number):
        raise _invalid(number, _main_region(number))
    return phonenumbers.region_code_for_number(number) or "001"
