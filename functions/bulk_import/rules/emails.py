"""E-mail address syntax check."""

from __future__ import annotations

import re

from bulk_import.rules.errors import RuleError
from bulk_import.rules.strings import clean

MSG_INVALID_EMAIL = "not a valid email address"

# Dot-atom local part (RFC 5322 without quoted strings or comments, which no real mailbox import needs) and a
# domain of LDH labels ending in an alphabetic TLD of at least 2 letters, or an IDN TLD in punycode. Every
# repetition is separated by a literal dot, so matching stays linear: no catastrophic backtracking on long
# input.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_EMAIL = re.compile(
    rf"(?P<local>{_ATEXT}+(?:\.{_ATEXT}+)*)@(?P<domain>(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}}))",
    re.ASCII,
)
# RFC 5321 limits: 64 octets for the local part, 254 for a whole forward path address.
_MAX_LOCAL = 64
_MAX_TOTAL = 254


def normalize_email(raw: object) -> str:
    """Check an e-mail address and lower-case its domain.

    Parameters
    ----------
    raw
        The address as sent (``" Jane.Doe@Example.COM "``).

    Returns
    -------
    str
        The trimmed address with its domain in lower case (``"Jane.Doe@example.com"``). The local part keeps
        its case: mail servers may treat it as case-sensitive.

    Raises
    ------
    RuleError
        ``"not a valid email address"`` for spaces, a missing or repeated ``@``, consecutive or edge dots,
        a domain without a dot or with a TLD shorter than 2 letters, non-ASCII characters, or over-long parts.
    """
    text = clean(raw)
    if text is None:
        raise RuleError("must not be empty")
    if len(text) > _MAX_TOTAL:
        raise RuleError(MSG_INVALID_EMAIL)
    match = _EMAIL.fullmatch(text)
    if match is None or len(match["local"]) > _MAX_LOCAL:
        raise RuleError(MSG_INVALID_EMAIL)
    return f"{match['local']}@{match['domain'].lower()}"
