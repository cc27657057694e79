"""True/false options and fields, as JSON, a CSV cell, a spreadsheet cell or upload metadata give them."""

from __future__ import annotations

from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean, is_blank

#: Spellings of true, compared after trimming and ignoring case (French ``oui`` for the French templates).
TRUE_WORDS = frozenset({"true", "yes", "y", "oui", "1"})
#: Spellings of false, likewise.
FALSE_WORDS = frozenset({"false", "no", "n", "non", "0"})

MSG_FLAG = "must be true or false"


def parse_flag(value: object) -> bool | None:
    """Read a true/false value.

    Parameters
    ----------
    value
        ``True``/``False`` (JSON, or a spreadsheet's boolean cell); the integers ``1`` and ``0``; or text
        among ``true``, ``yes``, ``y``, ``oui``, ``1`` and ``false``, ``no``, ``n``, ``non``, ``0``, with
        any case and surrounding spaces or invisible characters (``" Yes "``, ``"OUI"``, a byte-order
        mark). A spreadsheet's boolean cell read as text
        (``"TRUE"``) is covered too.

    Returns
    -------
    bool or None
        The value; ``None`` when it is missing: ``None``, empty or blank text, or NaN (an empty cell).

    Raises
    ------
    RuleError
        ``"must be true or false"`` for anything else: other words, other numbers (``2``, ``1.0``), lists,
        objects.
    """
    if is_blank(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = (clean(value) or "").lower()
        if text in TRUE_WORDS:
            return True
        if text in FALSE_WORDS:
            return False
    raise RuleError(MSG_FLAG)
