"""US state codes (USPS two-letter abbreviations)."""

from __future__ import annotations

from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean

# The 50 states, the District of Columbia, the inhabited territories, and the USPS military "states" (Armed
# Forces Americas/Europe/Pacific) that service members' APO/FPO addresses use.
# A whitespace-separated block reads better than 59 quoted strings, hence the noqa.
US_STATE_CODES: frozenset[str] = frozenset(
    """
    AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND
    OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY
    DC
    AS GU MP PR VI
    AA AE AP
    """.split()  # noqa: SIM905
)

_MAX_ECHO = 20


def normalize_state(raw: object) -> str:
    """Check a 2-letter US state code.

    Parameters
    ----------
    raw
        The code as sent, any case, with spaces around (``" ca "``).

    Returns
    -------
    str
        The upper-case code (``"CA"``).

    Raises
    ------
    RuleError
        ``"not a 2-letter US state code: X"``, also for full state names (``"California"``).
    """
    text = clean(raw)
    if text is None:
        raise RuleError("must not be empty")
    code = text.upper()
    if code not in US_STATE_CODES:
        shown = text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"
        raise RuleError(f"not a 2-letter US state code: {shown}")
    return code
