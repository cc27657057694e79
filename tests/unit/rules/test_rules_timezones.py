"""IANA timezone names and offline ZIP-code resolution."""

import zoneinfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.rules import RuleError, timezone_for_us_zip, validate_timezone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("America/New_York", "America/New_York"),
        (" America/Chicago ", "America/Chicago"),
        ("america/los_angeles", "America/Los_Angeles"),  # case forgiven, canonical spelling returned
        ("EUROPE/PARIS", "Europe/Paris"),
        ("Pacific/Honolulu", "Pacific/Honolulu"),
        ("America/Indiana/Indianapolis", "America/Indiana/Indianapolis"),
        ("UTC", "UTC"),
    ],
)
def test_validate_timezone(raw: str, expected: str) -> None:
    assert validate_timezone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("PST", "not an IANA timezone name: PST (for example America/New_York)"),
        ("Eastern", "not an IANA timezone name: Eastern (for example America/New_York)"),
        ("America/NewYork", "not an IANA timezone name: America/NewYork (for example America/New_York)"),
        ("GMT+2", "not an IANA timezone name: GMT+2 (for example America/New_York)"),
        ("-05:00", "not an IANA timezone name: -05:00 (for example America/New_York)"),
        ("../../etc/passwd", "not an IANA timezone name: ../../etc/passwd (for example America/New_York)"),
        ("", "must not be empty"),
    ],
)
def test_validate_timezone_rejects(raw: str, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        validate_timezone(raw)
    assert str(excinfo.value) == message


@given(st.sampled_from(sorted(zoneinfo.available_timezones())))
def test_every_available_zone_is_accepted_as_is_and_in_lower_case(name: str) -> None:
    assert validate_timezone(name) == name
    assert validate_timezone(name.lower()) == name


# --- timezone_for_us_zip ---


@pytest.mark.parametrize(
    ("zip_code", "expected"),
    [
        ("10001", "America/New_York"),  # Manhattan
        ("02134", "America/New_York"),  # Boston
        ("2134", "America/New_York"),  # same, leading zero lost in a spreadsheet
        (2134, "America/New_York"),
        ("00501", "America/New_York"),  # Holtsville NY
        ("20500", "America/New_York"),  # White House, DC
        ("33101", "America/New_York"),  # Miami
        ("32501", "America/Chicago"),  # Pensacola, Florida panhandle
        ("32401", "America/Chicago"),  # Panama City FL
        ("32301", "America/New_York"),  # Tallahassee stays Eastern
        ("60601", "America/Chicago"),  # Chicago
        ("75201", "America/Chicago"),  # Dallas
        ("79901", "America/Denver"),  # El Paso
        ("88510", "America/Denver"),  # El Paso's 885 prefix
        ("37201", "America/Chicago"),  # Nashville
        ("38103", "America/Chicago"),  # Memphis
        ("37902", "America/New_York"),  # Knoxville
        ("37402", "America/New_York"),  # Chattanooga
        ("40202", "America/Kentucky/Louisville"),  # Louisville: its own zone, Eastern time
        ("42101", "America/Chicago"),  # Bowling Green KY
        ("46204", "America/Indiana/Indianapolis"),
        ("46402", "America/Chicago"),  # Gary IN
        ("47708", "America/Chicago"),  # Evansville IN
        ("48201", "America/Detroit"),
        ("57701", "America/Denver"),  # Rapid City SD
        ("57104", "America/Chicago"),  # Sioux Falls
        ("58601", "America/Denver"),  # Dickinson ND
        ("58501", "America/Chicago"),  # Bismarck
        ("69361", "America/Denver"),  # Scottsbluff NE
        ("68102", "America/Chicago"),  # Omaha
        ("80202", "America/Denver"),  # Denver
        ("83702", "America/Boise"),  # Boise
        ("83814", "America/Los_Angeles"),  # Coeur d'Alene, north Idaho
        ("97914", "America/Boise"),  # Ontario OR
        ("97201", "America/Los_Angeles"),  # Portland
        ("85004", "America/Phoenix"),
        ("94102", "America/Los_Angeles"),  # San Francisco
        ("94102-1234", "America/Los_Angeles"),  # ZIP+4
        ("941021234", "America/Los_Angeles"),  # ZIP+4 without the dash
        (" 94102 ", "America/Los_Angeles"),
        ("96813", "Pacific/Honolulu"),
        ("99501", "America/Anchorage"),
        ("00901", "America/Puerto_Rico"),  # San Juan
        (901, "America/Puerto_Rico"),  # the same read as a number: two leading zeros lost
        ("00802", "America/St_Thomas"),  # US Virgin Islands
        ("96910", "Pacific/Guam"),
        ("98101", "America/Los_Angeles"),  # Seattle
        ("89101", "America/Los_Angeles"),  # Las Vegas
    ],
)
def test_timezone_for_us_zip(zip_code: object, expected: str) -> None:
    assert timezone_for_us_zip(zip_code) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "zip_code",
    [
        "09012",  # APO Europe (military)
        "34001",  # APO Americas
        "96201",  # APO Pacific
        "00100",  # unassigned prefix
        "",
        "ABCDE",
        "94102-12",  # malformed ZIP+4
        "941021",
        "94 102",
        "SW1A 1AA",  # a UK postcode
        None,
        True,
    ],
)
def test_timezone_for_us_zip_unknown(zip_code: object) -> None:
    assert timezone_for_us_zip(zip_code) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("zip_code", "expected", "the_3_digit_prefix_gave"),
    [
        ("57521", "America/Denver", "America/Chicago"),  # Belvidere SD, Jackson County on Mountain time
        ("37301", "America/Chicago", "America/New_York"),  # Altamont TN, Grundy County on Central time
        ("49801", "America/Menominee", "America/Detroit"),  # Iron Mountain, Michigan's Upper Peninsula
        ("32456", "America/New_York", "America/Chicago"),  # Port St. Joe, the Eastern part of the panhandle
        ("79830", "America/Chicago", "America/Denver"),  # Alpine TX, Central time west of the Pecos
        ("86515", "America/Denver", "America/Phoenix"),  # Window Rock, Navajo Nation (daylight saving)
        ("47501", "America/Indiana/Vincennes", "America/Indiana/Indianapolis"),  # Washington IN
        ("97904", "America/Los_Angeles", "America/Boise"),  # Drewsey, Harney County OR
        ("99801", "America/Juneau", "America/Anchorage"),
        ("58523", "America/North_Dakota/Beulah", "America/Chicago"),  # Mercer County ND
    ],
)
def test_codes_near_zone_borders_get_the_zone_of_their_own_place(
    zip_code: str, expected: str, the_3_digit_prefix_gave: str
) -> None:
    assert timezone_for_us_zip(zip_code) == expected != the_3_digit_prefix_gave


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("57521", "57501"),  # Belvidere (Mountain) and Pierre (Central)
        ("37301", "37311"),  # Altamont (Central) and Cleveland TN (Eastern)
        ("49801", "49855"),  # Iron Mountain (Central) and Marquette (Eastern)
        ("32456", "32401"),  # Port St. Joe (Eastern) and Panama City (Central)
        ("86033", "86001"),  # Kayenta, Navajo Nation (daylight saving) and Flagstaff (none)
    ],
)
def test_codes_sharing_their_first_three_digits_can_be_in_two_zones(one: str, other: str) -> None:
    assert one[:3] == other[:3]
    assert timezone_for_us_zip(one) != timezone_for_us_zip(other)
    assert None not in (timezone_for_us_zip(one), timezone_for_us_zip(other))


@pytest.mark.parametrize(
    "zip_code",
    [
        "10097",  # in Manhattan's range but not a ZIP code: no guess from the neighbours
        "99999",
        "99634",  # Napakiak AK: the package records the place's name, not a zone
    ],
)
def test_codes_without_a_known_zone_resolve_to_nothing(zip_code: str) -> None:
    assert timezone_for_us_zip(zip_code) is None


@given(st.integers(min_value=0, max_value=99999))
def test_every_resolved_zone_is_an_iana_zone_of_the_tz_database(zip5: int) -> None:
    zone = timezone_for_us_zip(f"{zip5:05d}")
    assert zone is None or zone in zoneinfo.available_timezones()


@given(st.integers(min_value=0, max_value=99999), st.integers(min_value=0, max_value=9999))
def test_zip_plus_four_resolves_like_its_zip(zip5: int, plus4: int) -> None:
    assert timezone_for_us_zip(f"{zip5:05d}-{plus4:04d}") == timezone_for_us_zip(f"{zip5:05d}")
