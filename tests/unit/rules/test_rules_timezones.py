"""IANA timezone names and offline ZIP-code resolution."""

import csv
import zoneinfo
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.domain.rules import RuleError, timezone_for_us_zip, validate_timezone


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
        ("40202", "America/New_York"),  # Louisville
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


def _rows() -> list[dict[str, str]]:
    text = (resources.files("bulk_import") / "data" / "us_zip3_timezones.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def test_zip_data_file_is_consistent() -> None:
    rows = _rows()
    zones = zoneinfo.available_timezones()
    covered: set[int] = set()
    for row in rows:
        start, end = int(row["prefix_start"]), int(row["prefix_end"])
        assert len(row["prefix_start"]) == len(row["prefix_end"]) == 3
        assert start <= end
        assert row["tz"] in zones, row
        prefixes = set(range(start, end + 1))
        assert not prefixes & covered, f"overlapping range {row}"
        covered |= prefixes
    # Every state, DC and the territories with ZIP codes are there.
    assert {row["state"] for row in rows} >= {"CA", "TX", "NY", "FL", "DC", "PR", "VI", "GU", "HI", "AK"}
    assert len({row["state"] for row in rows}) == 54


@given(st.integers(min_value=0, max_value=99999), st.integers(min_value=0, max_value=9999))
def test_zip_plus_four_resolves_like_its_zip(zip5: int, plus4: int) -> None:
    assert timezone_for_us_zip(f"{zip5:05d}-{plus4:04d}") == timezone_for_us_zip(f"{zip5:05d}")
