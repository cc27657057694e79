"""Storage limits every kind applies to its rows, so a value storage cannot hold fails its row alone.

DynamoDB refuses a whole write batch for one item it cannot store (a number beyond its precision or
range, a key over its size, an item over 400 KB), and the boto3 serializer raises before sending for
numbers it would have to round. Checking the same limits as rules of the row turns each of those into a
plain row failure with a message naming the limit, before anything is written.

Every function returns the message of the first limit broken, without the field name (the caller
prefixes it, as for every rule), or ``None`` when the value is within every limit. They never raise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

#: Caller references and ids (``loan_id``, ``temp_id``, ``id``…): they become parts of DynamoDB keys
#: (2 KB partition key, 1 KB sort key) next to the tenant and the kind, with room to spare.
MAX_REFERENCE_CHARS = 200
#: DynamoDB numbers hold at most 38 digits of precision; boto3 refuses to round them.
MAX_SIGNIFICANT_DIGITS = 38
#: The smallest non-zero magnitude DynamoDB stores.
MIN_MAGNITUDE = Decimal("1e-130")
#: The largest magnitude accepted (DynamoDB's own ceiling is just under 1e126).
MAX_MAGNITUDE = Decimal("9.99e125")
#: The largest money amount of every kind (15 digits, 3 of them decimals).
MAX_AMOUNT = Decimal("999999999999.999")
#: A stored record, attribute names included, stays under DynamoDB's 400 KB item limit with room for the
#: import's own bookkeeping attributes.
MAX_RECORD_BYTES = 350_000
#: Nesting levels inside one field's value: DynamoDB allows 32 for a whole item, and a stored record
#: wraps the row's fields in a few levels of its own.
MAX_NESTING = 16
#: Keys of objects nested in a field (``externalMetadata``, ``user_tags``).
MAX_KEY_CHARS = 200

MSG_REFERENCE_TOO_LONG = f"at most {MAX_REFERENCE_CHARS} characters"
MSG_TOO_MANY_DIGITS = f"at most {MAX_SIGNIFICANT_DIGITS} significant digits"
MSG_TOO_LARGE = "at most 9.99e125 in magnitude"
MSG_TOO_SMALL = "at least 1e-130 in magnitude (or 0)"
MSG_NOT_FINITE = "must be a finite number"
MSG_CONTROL = "must not contain control characters (other than tab and line breaks)"
MSG_SURROGATE = "must be valid Unicode text (a lone surrogate cannot be stored as UTF-8)"
MSG_TOO_DEEP = f"nested at most {MAX_NESTING} levels deep"
MSG_KEY_EMPTY = "object keys must not be empty"
MSG_KEY_TOO_LONG = f"object keys at most {MAX_KEY_CHARS} characters"
MSG_AMOUNT_TOO_LARGE = "at most 999,999,999,999.999"

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# Integers strictly inside this bound have at most 38 digits: the usual case costs two comparisons.
_INT_BOUND = 10**MAX_SIGNIFICANT_DIGITS
_MIN_FLOAT = 1e-130
_MAX_FLOAT = 9.99e125


def text_problem(text: str) -> str | None:
    """What keeps ``text`` from being stored as UTF-8 text a person can read, or None.

    Parameters
    ----------
    text
        Any string.

    Returns
    -------
    str or None
        ``MSG_SURROGATE`` for a lone surrogate (``"\\ud800"``: not encodable as UTF-8, so neither JSON
        output nor DynamoDB can hold it), ``MSG_CONTROL`` for a control character other than tab, CR and
        LF (NUL, escape, DEL and the C1 range), else None.
    """
    # str.isprintable() is false for every control character and surrogate: one C-level scan clears
    # nearly all real text.
    if text.isprintable():
        return None
    if _SURROGATE.search(text):
        return MSG_SURROGATE
    if _CONTROL.search(text):
        return MSG_CONTROL
    return None


def reference_problem(text: str) -> str | None:
    """What keeps ``text`` from being a caller reference or id (part of a storage key), or None.

    Returns
    -------
    str or None
        ``"at most 200 characters"``, or the message of ``text_problem``, or None.
    """
    if len(text) > MAX_REFERENCE_CHARS:
        return MSG_REFERENCE_TOO_LONG
    return text_problem(text)


def number_problem(value: int | float | Decimal) -> str | None:
    """What keeps a number from being stored as a DynamoDB number, or None.

    Parameters
    ----------
    value
        An int, float or Decimal (bool is accepted as a value, not a number: None).

    Returns
    -------
    str or None
        ``"at most 38 significant digits"`` (digits as written: ``10**50`` written out has 51),
        ``"at most 9.99e125 in magnitude"``, ``"at least 1e-130 in magnitude (or 0)"``, ``"must be a
        finite number"`` for NaN and infinities; None within every limit, zero included.
    """
    kind = type(value)
    if kind is int:
        if -_INT_BOUND < value < _INT_BOUND:
            return None
        return MSG_TOO_MANY_DIGITS
    if kind is bool:
        return None
    if kind is float or isinstance(value, float):
        magnitude = abs(float(value))
        if not math.isfinite(magnitude):
            return MSG_NOT_FINITE
        if magnitude > _MAX_FLOAT:
            return MSG_TOO_LARGE
        if magnitude and magnitude < _MIN_FLOAT:
            return MSG_TOO_SMALL
        return None  # a float's shortest repr has at most 17 digits
    if isinstance(value, Decimal):
        return _decimal_problem(value)
    if isinstance(value, int):  # int subclasses (IntEnum)
        return number_problem(int(value))
    return None


def _decimal_problem(value: Decimal) -> str | None:
    if not value.is_finite():
        return MSG_NOT_FINITE
    if value.is_zero():
        return None
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    # Written digits count (boto3 refuses to drop even trailing zeros); leading zeros never appear.
    if len(digits) > MAX_SIGNIFICANT_DIGITS:
        return MSG_TOO_MANY_DIGITS
    # copy_abs, not abs(): abs() rounds to the context, which overflows past its exponent limit (1e999999999).
    magnitude = value.copy_abs()
    if magnitude > MAX_MAGNITUDE:
        return MSG_TOO_LARGE
    if magnitude < MIN_MAGNITUDE:
        return MSG_TOO_SMALL
    return None


def amount_problem(value: Decimal) -> str | None:
    """What keeps a parsed money amount within the bounds shared by every kind, or None.

    Returns
    -------
    str or None
        ``"at most 999,999,999,999.999"`` above ``MAX_AMOUNT``; otherwise the message of
        ``number_problem`` (precision, range), or None. Sign rules (``> 0``, ``>= 0``) belong to the caller.
    """
    if value > MAX_AMOUNT or value < -MAX_AMOUNT:
        return MSG_AMOUNT_TOO_LARGE
    return number_problem(value)


def find_value_problem(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """Walk a JSON-like value and find the first text, number, key or nesting level storage refuses.

    Parameters
    ----------
    value
        A value as sent: dicts, lists and tuples are walked; strings, numbers, booleans, None and other
        scalars are leaves.
    path
        The dotted path of ``value`` so far (``"externalMetadata"``); nested keys are appended with dots
        and list positions in brackets (``externalMetadata.scores[2]``).
    depth
        The nesting level of ``value`` (0 for a field's value).

    Returns
    -------
    (path, message) or None
        Where the first problem is and its message, or None when every part is within the limits.
    """
    kind = type(value)
    if kind is str:
        problem = text_problem(value)
        return (path, problem) if problem else None
    if kind is int:
        if -_INT_BOUND < value < _INT_BOUND:
            return None
        return path, MSG_TOO_MANY_DIGITS
    if value is None or kind is bool:
        return None
    if kind is float or kind is Decimal:
        problem = number_problem(value)
        return (path, problem) if problem else None
    if kind is dict or isinstance(value, Mapping):
        if depth >= MAX_NESTING:
            return path, MSG_TOO_DEEP
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            if not name:
                return path, MSG_KEY_EMPTY
            if len(name) > MAX_KEY_CHARS:
                return path, MSG_KEY_TOO_LONG
            problem = text_problem(name)
            if problem:
                return path, f"object keys {problem}"
            if _plain_leaf(item):
                continue
            found = find_value_problem(item, f"{path}.{name}" if path else name, depth + 1)
            if found:
                return found
        return None
    if kind is list or isinstance(value, (list, tuple)):
        if depth >= MAX_NESTING:
            return path, MSG_TOO_DEEP
        for position, item in enumerate(value):
            if _plain_leaf(item):
                continue
            found = find_value_problem(item, f"{path}[{position}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, str):
        problem = text_problem(str(value))
        return (path, problem) if problem else None
    if isinstance(value, (int, float, Decimal)):
        problem = number_problem(value)
        return (path, problem) if problem else None
    return None


def _plain_leaf(item: Any) -> bool:
    # The leaves find_value_problem finds nothing wrong with, told without a call or a path built for them.
    kind = type(item)
    if kind is str:
        return item.isprintable()
    if kind is int:
        return -_INT_BOUND < item < _INT_BOUND
    return item is None or kind is bool


def value_problem(value: Any) -> str | None:
    """The message of the first limit a JSON-like value breaks (``find_value_problem``), or None.

    Returns
    -------
    str or None
        The message, prefixed by where inside the value the problem is when it is nested
        (``"a.b: at most 38 significant digits"``).
    """
    found = find_value_problem(value)
    if found is None:
        return None
    path, message = found
    return f"{path}: {message}" if path else message


def estimated_size(value: Any) -> int:
    """An upper estimate of the bytes DynamoDB counts for a value as stored.

    Strings count their UTF-8 bytes, numbers about one byte per two digits plus one, booleans and nulls
    one byte, maps and lists three bytes plus one per element plus their content (map keys as UTF-8).
    Dates and other scalars count as their text.
    """
    kind = type(value)
    if kind is str:
        return len(value) if value.isascii() else _utf8_len(value)
    if kind is dict:
        # The usual nested value (a JSON object): its text keys and values measured in place.
        total = 3
        for key, item in value.items():
            if type(key) is str and type(item) is str:
                total += 1 + (len(key) if key.isascii() else _utf8_len(key))
                total += len(item) if item.isascii() else _utf8_len(item)
            else:
                total += 1 + estimated_size(str(key)) + estimated_size(item)
        return total
    if kind is int or kind is float or kind is bool or value is None:
        if kind is bool or value is None:
            return 1
        return (len(repr(value)) + 1) // 2 + 1
    if isinstance(value, Decimal):
        return (len(value.as_tuple().digits) + 1) // 2 + 1
    if isinstance(value, Mapping):
        total = 3
        for key, item in value.items():
            total += 1 + estimated_size(str(key)) + estimated_size(item)
        return total
    if isinstance(value, (list, tuple, set, frozenset)):
        return 3 + sum(1 + estimated_size(item) for item in value)
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return estimated_size(str(value))


def _utf8_len(text: str) -> int:
    # surrogatepass: a lone surrogate is refused elsewhere; here it only has to be counted.
    return len(text.encode("utf-8", "surrogatepass"))


def stored_size_problem(item: Mapping[str, Any]) -> str | None:
    """What keeps an item, as it would be stored, under the record size limit, or None.

    Parameters
    ----------
    item
        The attributes of the item to write (names to plain values, before serialization).

    Returns
    -------
    str or None
        ``"the stored record would be about N KB; at most 350 KB"`` when the estimate of
        ``estimated_size`` (attribute names included) exceeds ``MAX_RECORD_BYTES``, else None.
    """
    total = 0
    for name, value in item.items():
        if value is None:
            continue
        total += estimated_size(str(name)) + estimated_size(value)
    if total > MAX_RECORD_BYTES:
        return record_size_message(total)
    return None


def record_size_message(size: int) -> str:
    """The message of a record of ``size`` bytes over ``MAX_RECORD_BYTES``."""
    return f"the stored record would be about {math.ceil(size / 1000):,} KB; at most 350 KB"


def option_problems(options: Mapping[str, Any], path: str = "") -> list[str]:
    """What keeps a request's own options (``callConfig.agentId``, ``batch_name``…) from being stored
    with its import, one message per text, starting with its path; empty when every text fits.

    The options are kept on the import's item and carried by its messages and events: each text is a
    reference (at most ``MAX_REFERENCE_CHARS``, no control characters), so a mistake costs a 400, never
    an item storage refuses.
    """
    problems: list[str] = []
    for key, value in options.items():
        where = f"{path}.{key}" if path else str(key)
        if isinstance(value, str):
            problem = reference_problem(value)
            if problem is not None:
                problems.append(f"{where[:60]}: {problem}")
        elif isinstance(value, Mapping):
            problems.extend(option_problems(value, where))
    return problems
