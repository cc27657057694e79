"""IANA timezone names, and the timezone of a US ZIP code, resolved offline.

A ZIP code resolves through the ``zipcodes`` package, which knows each of the ~42,000 5-digit ZIP codes and
the IANA zone of the place it serves, so codes near zone borders get their own zone: Jackson County in
South Dakota (57521, Mountain) against Sioux Falls (Central), Grundy County in Tennessee (37301, Central)
against Chattanooga (Eastern), Michigan's Upper Peninsula counties on Central time (49801,
``America/Menominee``), the Navajo Nation in Arizona, which observes daylight saving time (86515,
``America/Denver``), Alpine in west Texas (79830, Central). Zones are the tz database's own, so Louisville
is ``America/Kentucky/Louisville`` and south-west Indiana ``America/Indiana/Vincennes``: the same clocks as
their larger neighbours today, kept apart because their history differs.

The package loads its data (about 40 MB, a quarter of a second) on the first lookup, not at import; each
ZIP's answer is then cached. A ZIP code the package does not know, a military (APO/FPO) code, which has
no zone there, or a zone the tz database does not know resolve to nothing: the caller keeps its own
timezone rather than a guess from neighbouring codes.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean

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


@lru_cache(maxsize=8192)
def _zone_of_zip5(zip5: str) -> str | None:
    # Deferred: only customers without a timezone need it, and its data loads on the first lookup.
    import zipcodes

    known = _timezones_by_lower_name()
    for place in zipcodes.matching(zip5):
        zone = place.get("timezone") or ""
        # A few records hold a place name or nothing in place of a zone (military codes have none).
        if known.get(zone.lower()) == zone:
            return str(zone)
    return None


#: What joins a ZIP code and its +4 part besides a plain hyphen: a space, or a dash of another width.
_PLUS4_JOIN = re.compile(r"(?<=^\d{5})\s*[\s\u2010-\u2015-]\s*(?=\d{4}$)")


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
    # "94102 1234" and "94102 – 1234" are ZIP+4 codes as people type and paste them.
    zip5, _, plus4 = _PLUS4_JOIN.sub("-", text, count=1).partition("-")
    if plus4 and not (len(plus4) == 4 and plus4.isascii() and plus4.isdigit()):
        return None
    if len(zip5) == 9 and not plus4:
        zip5 = zip5[:5]  # ZIP+4 written without its dash
    if not (3 <= len(zip5) <= 5 and zip5.isascii() and zip5.isdigit()):
        return None
    # A spreadsheet reads 02134 (Boston) as the number 2134.
    return zip5.zfill(5)


def timezone_for_us_zip(zip_code: str) -> str | None:
    """Resolve the IANA timezone of a US ZIP code offline, from its 5 digits.

    Parameters
    ----------
    zip_code
        A ZIP (``"94102"``), a ZIP+4 (``"94102-1234"`` or ``"941021234"``), or a ZIP whose leading zeros a
        spreadsheet dropped (``"2134"`` or the int ``2134`` is ``02134``).

    Returns
    -------
    str or None
        The IANA zone of the place the ZIP code serves (``"America/Los_Angeles"``); ``None`` when the text
        is not a ZIP code, or the code is unknown or military (APO/FPO). See the module notes.
    """
    zip5 = _zip5(zip_code)
    if zip5 is None:
        return None
    return _zone_of_zip5(zip5)


#: The former name of the lazy ZIP lookup, which the package's import-purity check still inspects.
_zone_by_prefix = _zone_of_zip5
