"""``phonenumbers.parse`` for a number already reduced to ``+digits`` or ``digits``.

``phonenumbers.parse`` reads free text: it looks for where a number starts, strips extensions and
RFC 3966 parameters, maps letters and other scripts' digits to ASCII digits one character at a time,
and only then reads the country code and the national prefix. That front end is three quarters of its
time on a customer file. ``phones._compact`` has already refused everything but ASCII digits after an
optional ``+``, and for such text every step of the front end gives back its input unchanged, so
``parse_compact`` starts where the front end ends and runs the library's own steps from there
(country code, international prefix, national prefix, lengths). The result, a ``PhoneNumber`` or a
``NumberParseException`` of the same type, is ``phonenumbers.parse``'s (a property test holds them
equal). It calls steps that are internal to ``phonenumbers``; a release that changes them fails that test.
"""

from __future__ import annotations

import re
from functools import lru_cache

from phonenumbers import NumberParseException, PhoneMetadata, PhoneNumber, ValidationResult
from phonenumbers import phonenumberutil as pnu

# The lengths of ``phonenumbers.parse`` (same names there, without the underscore).
_MIN_LENGTH_FOR_NSN = 2
_MAX_LENGTH_FOR_NSN = 17
_MAX_INPUT_STRING_LENGTH = 250
_MAX_LENGTH_COUNTRY_CODE = 3
_KEEP_UNSTRIPPED = (
    ValidationResult.TOO_SHORT,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY,
    ValidationResult.INVALID_LENGTH,
)


_TEL_LINK = re.compile(r"tel:\s*", re.IGNORECASE)


def number_as_shown(text: str) -> str:
    """The number a copied form shows: a ``tel:`` link's number, full-width digits and signs (typed on an
    East Asian keyboard) as ASCII ones. Other scripts' digits stay, and are refused as before."""
    if text[:4].lower() == "tel:":
        text = _TEL_LINK.sub("", text, count=1)
    if not text.isascii():
        # U+FF01..U+FF5E are ASCII's full-width forms; only those are folded.
        text = text.translate(_FULL_WIDTH)
    return text


_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


@lru_cache(maxsize=1024)
def _pattern(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


def _national_prefix(metadata: PhoneMetadata) -> re.Pattern[str] | None:
    prefix = metadata.national_prefix_for_parsing
    return _pattern(prefix) if prefix else None


def _country_code(digits: str) -> tuple[int, str]:
    # The first 1 to 3 digits that are a known calling code (calling codes are prefix-free).
    if not digits or digits[0] == "0":
        return 0, digits
    known = pnu.COUNTRY_CODE_TO_REGION_CODE
    for size in range(1, min(len(digits), _MAX_LENGTH_COUNTRY_CODE) + 1):
        code = int(digits[:size])
        if code in known:
            return code, digits[size:]
    return 0, digits


def _extract_country_code(number: str, metadata: PhoneMetadata | None) -> tuple[int, str]:
    """``_maybe_extract_country_code`` of phonenumbers, for ``+digits`` or ``digits``."""
    if not number:
        return 0, ""
    international = False
    if number[0] == "+":
        number = number[1:]
        international = True
    elif metadata is not None:
        idd = metadata.international_prefix
        match = _pattern(idd).match(number) if idd else None
        # The library strips an international prefix only when a digit other than 0 follows it.
        if match is not None and number[match.end() : match.end() + 1] != "0":
            number = number[match.end() :]
            international = True
    if international:
        if len(number) <= _MIN_LENGTH_FOR_NSN:
            raise NumberParseException(
                NumberParseException.TOO_SHORT_AFTER_IDD,
                "Phone number had an IDD, but after this was not long enough to be a viable phone number.",
            )
        code, rest = _country_code(number)
        if code:
            return code, rest
        raise NumberParseException(
            NumberParseException.INVALID_COUNTRY_CODE, "Country calling code supplied was not recognised."
        )
    if metadata is not None:
        own = str(metadata.country_code)
        if number.startswith(own):
            general = metadata.general_desc
            _, national, _ = pnu._maybe_strip_national_prefix_carrier_code(number[len(own) :], metadata)
            if (
                not pnu._match_national_number(number, general, False)
                and pnu._match_national_number(national, general, False)
            ) or pnu._test_number_length(number, metadata) == ValidationResult.TOO_LONG:
                return metadata.country_code or 0, national
    return 0, ""


def _viable(number: str) -> bool:
    # ``_is_viable_phone_number`` for ``+digits``/``digits``: two digits, or a ``+`` and three.
    return len(number) >= (4 if number[0] == "+" else _MIN_LENGTH_FOR_NSN)


def parse_compact(number: str, region: str | None) -> PhoneNumber:
    """``phonenumbers.parse(number, region)`` for ``number`` made of ASCII digits after an optional ``+``.

    Parameters
    ----------
    number
        ``"+33612345678"`` or ``"0612345678"``: what ``phones._compact`` returns.
    region
        The region of numbers written without a country code (upper case), or None.

    Raises
    ------
    NumberParseException
        Of the type ``phonenumbers.parse`` raises for the same text.
    """
    if len(number) > _MAX_INPUT_STRING_LENGTH:
        raise NumberParseException(
            NumberParseException.TOO_LONG, "The string supplied was too long to parse."
        )
    if not number or not _viable(number):
        raise NumberParseException(
            NumberParseException.NOT_A_NUMBER, "The string supplied did not seem to be a phone number."
        )
    metadata = PhoneMetadata.metadata_for_region(region, None) if region is not None else None
    if metadata is None and number[0] != "+":
        raise NumberParseException(
            NumberParseException.INVALID_COUNTRY_CODE, "Missing or invalid default region."
        )
    try:
        country_code, national = _extract_country_code(number, metadata)
    except NumberParseException as exc:
        if exc.error_type != NumberParseException.INVALID_COUNTRY_CODE or number[0] != "+":
            raise
        # As the library does: read the digits after the "+" as if it were not there.
        country_code, national = _extract_country_code(number[1:], metadata)
        if country_code == 0:
            raise NumberParseException(
                NumberParseException.INVALID_COUNTRY_CODE, "Could not interpret numbers after plus-sign."
            ) from None
    if country_code != 0:
        number_region = pnu.region_code_for_country_code(country_code)
        if number_region != region:
            metadata = PhoneMetadata.metadata_for_region_or_calling_code(country_code, number_region)
    else:
        national += number
        if metadata is not None:
            country_code = metadata.country_code or 0
    if len(national) < _MIN_LENGTH_FOR_NSN:
        raise NumberParseException(
            NumberParseException.TOO_SHORT_NSN, "The string supplied is too short to be a phone number."
        )
    prefix = _national_prefix(metadata) if metadata is not None else None
    if prefix is not None and metadata is not None and national and prefix.match(national):
        # Only a number starting with the national prefix can lose it (else the library returns it as is).
        _, stripped, _ = pnu._maybe_strip_national_prefix_carrier_code(national, metadata)
        if pnu._test_number_length(stripped, metadata) not in _KEEP_UNSTRIPPED:
            national = stripped
    if len(national) < _MIN_LENGTH_FOR_NSN:
        raise NumberParseException(
            NumberParseException.TOO_SHORT_NSN, "The string supplied is too short to be a phone number."
        )
    if len(national) > _MAX_LENGTH_FOR_NSN:
        raise NumberParseException(
            NumberParseException.TOO_LONG, "The string supplied is too long to be a phone number."
        )
    result = PhoneNumber(country_code=country_code, national_number=int(national))
    if national[0] == "0":
        pnu._set_italian_leading_zeros_for_phone_number(national, result)
    return result
