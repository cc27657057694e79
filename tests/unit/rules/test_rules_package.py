"""The rules package: public names, and purity (no AWS, no work at import)."""

import subprocess
import sys

import bulk_import.rules as rules


def test_public_api_is_exported() -> None:
    expected = {
        "RuleError",
        "clean",
        "is_blank",
        "normalize_phone",
        "normalize_french_phone",
        "PhoneResult",
        "region_of",
        "parse_flexible_date",
        "parse_iso_date",
        "parse_iso_datetime",
        "not_in_future",
        "parse_amount",
        "parse_positive_int",
        "normalize_currency",
        "validate_timezone",
        "timezone_for_us_zip",
        "normalize_email",
        "normalize_state",
        "french_public_holidays",
        "is_french_business_day",
        "next_french_business_day",
        "french_subdivisions",
        "parse_flag",
    }
    assert expected <= set(rules.__all__)
    assert all(hasattr(rules, name) for name in rules.__all__)


def test_rule_error_is_a_value_error() -> None:
    # pydantic turns a ValueError raised in a validator into a field error; RuleError must stay one.
    assert issubclass(rules.RuleError, ValueError)


def test_import_is_pure_and_lazy() -> None:
    # Importing the rules builds constants only: no AWS SDK, no library that is slow to load (holidays,
    # zipcodes, python_calamine, phonenumbers are imported by the first rule that needs them), and no
    # cache filled; importing one rule's module loads no other rule's libraries.
    code = (
        "import sys, bulk_import.rules, bulk_import.rules.limits\n"
        "heavy = [m for m in ('boto3', 'botocore', 'aws_lambda_powertools', 'holidays', 'zipcodes',"
        " 'python_calamine', 'phonenumbers') if m in sys.modules]\n"
        "import bulk_import.rules.timezones as timezones\n"
        "lazy = [f.__name__ for f in (timezones._timezones_by_lower_name, timezones._zone_of_zip5)"
        " if f.cache_info().currsize]\n"
        "print(heavy, lazy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[] []"
