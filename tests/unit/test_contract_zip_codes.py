"""ZIP+4 codes as people write them resolve to the ZIP code's timezone, whatever joins the two parts."""

from __future__ import annotations

import pytest

from bulk_import.rules.timezones import timezone_for_us_zip


@pytest.mark.parametrize(
    "written", ["94102-1234", "941021234", "94102 1234", "94102 – 1234", "94102\u20131234"]
)
def test_a_zip_plus_four_resolves_whatever_separates_its_parts(written: str) -> None:
    assert timezone_for_us_zip(written) == "America/Los_Angeles"


@pytest.mark.parametrize("written", ["94102 12", "94102-12345", "9410 21234", "94102 abcd"])
def test_a_code_that_is_not_a_zip_plus_four_resolves_to_nothing(written: str) -> None:
    assert timezone_for_us_zip(written) is None
