"""IANA timezone names, and the timezone of a US ZIP code, resolved offline.

ZIP resolution is prefix-level: ``bulk_import/data/us_zip3_timezones.csv`` maps ranges of 3-digit ZIP prefixes
(sectional centers) to the main IANA zone of the area they serve, from the USPS prefix-to-state ranges and
each state's main zone, plus the splits that follow prefix boundaries: the Florida panhandle (324-325,
Central), El Paso (798-799 and 885, Mountain), West and Middle Tennessee (Central) against East Tennessee
(373-374 and 376-379, Eastern), western Kentucky (420-424, Central), north-west and south-west Indiana
(463-464 and 476-477, Central), western South Dakota (577), south-western North Dakota (586) and the Nebraska
panhandle (693), Mountain, north Idaho (835 and 838, Pacific), Malheur County in Oregon (979, Mountain).

It is therefore approximate near zone borders that cut through a prefix: Michigan's Upper Peninsula counties
on Central time, the few Kansas and west Nebraska counties on Mountain time, the Navajo Nation in Arizona
(which observes daylight saving time) and similar places get their state's main zone. Military (APO/FPO) and
unassigned prefixes resolve to nothing.
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from bulk_import.domain.rules.errors import RuleError
from bulk_import.domain.rules.strings import clean

_ZIP_DATA = "us_zip3_timezones.csv"
_MAX_ECHO = 60


@lru_cache(maxsize=1)
def _timezones_by_lower_name() -> dict[str, str]:
    # available_timezones() walks the tz database on disk (hundreds of files): do it once, and only when a
    # timezone is first validated, not at import.
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def validate_timezone(raw: object) -> str:
    """Validate an IANA timezone name.

    Parameters
    ----------
    raw
        The name as sent (``"America/New_York"``). Case is forgiven: ``"america/new_york"`` gives the
        canonical spelling.

    Returns
    -------
    str
        The name as spelled in the tz database.

    Raises
    ------
    RuleError
        ``"not an IANA timezone name: X (for example America/New_York)"``, also for abbreviations that are not
        zone names (``"PST"``).
    """
    text = clean(raw)
    if text is None:
        raise RuleError("must not be empty")
    name = _timezones_by_lower_name().get(text.lower())
    if name is None:
        shown = text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"
        raise RuleError(f"not an IANA timezone name: {shown} (for example America/New_York)")
    return name


@lru_cache(maxsize=1)
def _zone_by_prefix() -> tuple[str | None, ...]:
    """Load the ZIP prefix ranges into a 1,000-slot table indexed by the prefix as an int."""
    # Imported here: importlib.resources and csv cost more at import than the whole rules package, and only
    # customers without a timezone ever need this table.
    import csv
    import io
    from importlib import resources

    text = (resources.files("bulk_import") / "data" / _ZIP_DATA).read_text(encoding="utf-8")
    table: list[str | None] = [None] * 1000
    for row in csv.DictReader(io.StringIO(text)):
        start, end = int(row["prefix_start"]), int(row["prefix_end"])
        for prefix in range(start, end + 1):
            if table[prefix] is not None:
                # A data error, caught by the unit tests: ranges must not overlap.
                raise ValueError(f"{_ZIP_DATA}: ZIP prefix {prefix:03d} is listed twice")
            table[prefix] = row["tz"]
    return tuple(table)


def _zip5(zip_code: object) -> str | None:
    """Return the 5-digit ZIP of a ZIP or ZIP+4, restoring leading zeros lost in spreadsheets."""
    if isinstance(zip_code, bool):
        return None
    try:
        text = clean(zip_code)
    except RuleError:
        return None
    if text is None:
        return None
    zip5, _, plus4 = text.partition("-")
    if plus4 and not (len(plus4) == 4 and plus4.isascii() and plus4.isdigit()):
        return None
    if len(zip5) == 9 and not plus4:
        zip5 = zip5[:5]  # ZIP+4 written without its dash
    if not (3 <= len(zip5) <= 5 and zip5.isascii() and zip5.isdigit()):
        return None
    # A spreadsheet reads 02134 (Boston) as the number 2134.
    return zip5.zfill(5)


def timezone_for_us_zip(zip_code: str) -> str | None:
    """Resolve the IANA timezone of a US ZIP code offline, from its 3-digit prefix.

    Parameters
    ----------
    zip_code
        A ZIP (``"94102"``), a ZIP+4 (``"94102-1234"`` or ``"941021234"``), or a ZIP whose leading zeros a
        spreadsheet dropped (``"2134"`` or the int ``2134`` is ``02134``).

    Returns
    -------
    str or None
        The main IANA zone of the prefix (``"America/Los_Angeles"``); ``None`` when the text is not a ZIP
        code or its prefix is unassigned or military (APO/FPO). Approximate near zone borders, see the module
        notes.
    """
    zip5 = _zip5(zip_code)
    if zip5 is None:
        return None
    return _zone_by_prefix()[int(zip5[:3])]
