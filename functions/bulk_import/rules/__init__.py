"""Pure validation and normalization rules shared by every import kind.

Each rule takes a raw value (as sent in JSON or read from a spreadsheet), returns the normalized value, and
raises :class:`RuleError` with a message a person can act on, without the field name: the caller prefixes it.
Nothing here touches AWS or the network, and importing the package does no work: each
rule's module is imported when one of its names is first used.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bulk_import.rules.currencies import ISO_4217_CURRENCIES, normalize_currency
    from bulk_import.rules.dates import (
        not_in_future,
        parse_flexible_date,
        parse_iso_date,
        parse_iso_datetime,
    )
    from bulk_import.rules.emails import normalize_email
    from bulk_import.rules.errors import RuleError
    from bulk_import.rules.flags import parse_flag
    from bulk_import.rules.holidays import (
        french_public_holidays,
        french_subdivisions,
        is_french_business_day,
        next_french_business_day,
    )
    from bulk_import.rules.money import parse_amount, parse_positive_int
    from bulk_import.rules.phones import (
        FRENCH_OVERSEAS_REGIONS,
        PhoneResult,
        normalize_french_phone,
        normalize_phone,
        region_of,
    )
    from bulk_import.rules.strings import clean, is_blank
    from bulk_import.rules.timezones import timezone_for_us_zip, validate_timezone
    from bulk_import.rules.us_states import US_STATE_CODES, normalize_state

#: Where each shared name lives: a module is imported when one of its names is first used, so that
#: importing one rule (``bulk_import.rules.limits``) does not load the phone metadata of another.
_MODULES = {
    "FRENCH_OVERSEAS_REGIONS": "phones",
    "ISO_4217_CURRENCIES": "currencies",
    "PhoneResult": "phones",
    "RuleError": "errors",
    "US_STATE_CODES": "us_states",
    "clean": "strings",
    "french_public_holidays": "holidays",
    "french_subdivisions": "holidays",
    "is_blank": "strings",
    "is_french_business_day": "holidays",
    "next_french_business_day": "holidays",
    "normalize_currency": "currencies",
    "normalize_email": "emails",
    "normalize_french_phone": "phones",
    "normalize_phone": "phones",
    "normalize_state": "us_states",
    "not_in_future": "dates",
    "parse_amount": "money",
    "parse_flag": "flags",
    "parse_flexible_date": "dates",
    "parse_iso_date": "dates",
    "parse_iso_datetime": "dates",
    "parse_positive_int": "money",
    "region_of": "phones",
    "timezone_for_us_zip": "timezones",
    "validate_timezone": "timezones",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "FRENCH_OVERSEAS_REGIONS",
    "ISO_4217_CURRENCIES",
    "US_STATE_CODES",
    "PhoneResult",
    "RuleError",
    "clean",
    "french_public_holidays",
    "french_subdivisions",
    "is_blank",
    "is_french_business_day",
    "next_french_business_day",
    "normalize_currency",
    "normalize_email",
    "normalize_french_phone",
    "normalize_phone",
    "normalize_state",
    "not_in_future",
    "parse_amount",
    "parse_flag",
    "parse_flexible_date",
    "parse_iso_date",
    "parse_iso_datetime",
    "parse_positive_int",
    "region_of",
    "timezone_for_us_zip",
    "validate_timezone",
]
