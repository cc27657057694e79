"""A tenant's calling policy: its windows, its do-not-call list and its weekly call cap.

The policy is a tenant field of the seed file::

    {"windows": [{"days": ["MON", "TUE"], "start": "09:00", "end": "18:00"}],
     "doNotCallNumbers": ["+33612345678"], "maxCallsPer7Days": 3}

Every key is optional: without ``windows`` each customer gets the defaults of their phone's country,
without ``maxCallsPer7Days`` the cap is 7.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bulk_import.rules.calling import DEFAULT_MAX_CALLS_PER_7_DAYS, parse_max_calls_per_7_days
from bulk_import.rules.calling_windows import CallWindow, parse_call_windows
from bulk_import.rules.errors import RuleError

_KEYS = ("windows", "doNotCallNumbers", "maxCallsPer7Days")
#: A phone number in E.164 form.
E164 = re.compile(r"\+[1-9]\d{1,14}")
#: A do-not-call list is read before every batch of calls: it stays a size one item can hold.
MAX_DO_NOT_CALL_NUMBERS = 10_000


@dataclass(frozen=True)
class CallPolicy:
    """A tenant's calling policy, validated.

    Attributes
    ----------
    windows
        The tenant's own windows, or ``None`` for the defaults of each customer's country.
    do_not_call
        Phone numbers (E.164) never to call.
    max_calls_per_7_days
        At most this many calls per phone number in any 7 days.
    """

    windows: tuple[CallWindow, ...] | None = None
    do_not_call: frozenset[str] = frozenset()
    max_calls_per_7_days: int = DEFAULT_MAX_CALLS_PER_7_DAYS


def parse_do_not_call_numbers(raw: object) -> frozenset[str]:
    """Validate a do-not-call list.

    Parameters
    ----------
    raw
        A list of phone numbers in E.164 form (``"+12125550123"``; surrounding spaces forgiven), or
        ``None`` for none.

    Returns
    -------
    frozenset of str

    Raises
    ------
    RuleError
        Not a list, too long, or an entry that is not E.164 (its position is in the message).
    """
    if raw is None:
        return frozenset()
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes):
        raise RuleError("must be a list of phone numbers in E.164 form, such as +12125550123")
    if len(raw) > MAX_DO_NOT_CALL_NUMBERS:
        raise RuleError(f"at most {MAX_DO_NOT_CALL_NUMBERS:,} numbers, not {len(raw):,}")
    numbers = set()
    for position, item in enumerate(raw, start=1):
        text = item.strip() if isinstance(item, str) else None
        if text is None or E164.fullmatch(text) is None:
            raise RuleError(f"number {position}: {repr(item)[:24]} is not E.164 (such as +12125550123)")
        numbers.add(text)
    return frozenset(numbers)


def parse_call_policy(raw: object) -> CallPolicy:
    """Validate a tenant's calling policy as the seed file holds it.

    Parameters
    ----------
    raw
        ``{"windows"?, "doNotCallNumbers"?, "maxCallsPer7Days"?}``; ``None`` or ``{}`` for the defaults.

    Returns
    -------
    CallPolicy

    Raises
    ------
    RuleError
        Not an object, an unknown key, or a bad value; the message starts with the key
        (``"windows: window 2: ..."``).
    """
    if raw is None:
        return CallPolicy()
    if not isinstance(raw, Mapping):
        raise RuleError("callPolicy must be an object with windows, doNotCallNumbers, maxCallsPer7Days")
    unknown = sorted(str(key) for key in raw if key not in _KEYS)
    if unknown:
        raise RuleError(f"unknown key {unknown[0][:40]} (expected {', '.join(_KEYS)})")
    try:
        windows = parse_call_windows(raw["windows"]) if raw.get("windows") is not None else None
    except RuleError as error:
        raise RuleError(f"windows: {error}") from None
    try:
        numbers = parse_do_not_call_numbers(raw.get("doNotCallNumbers"))
    except RuleError as error:
        raise RuleError(f"doNotCallNumbers: {error}") from None
    try:
        cap = parse_max_calls_per_7_days(raw.get("maxCallsPer7Days"))
    except RuleError as error:
        raise RuleError(f"maxCallsPer7Days: {error}") from None
    return CallPolicy(windows=windows, do_not_call=numbers, max_calls_per_7_days=cap)
