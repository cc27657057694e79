"""JSON text whose numbers keep their exact decimal value, for rows that travel between functions.

The API reads numbers with a fraction or an exponent as ``Decimal``. ``json.dumps(..., default=str)``
would write such a number as text (``712.5`` becomes ``"712.5"``), and ``json.loads`` would read it
back as a float: a row queued for a worker, or kept for a retry, would no longer be the row as sent
(numbers of ``externalMetadata`` stored as text, ``1e999999999`` judged as text instead of a number).
Here a finite ``Decimal`` is written as the JSON number it is, and read back as that same ``Decimal``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any

__all__ = [
    "MAX_INT_DIGITS",
    "RepeatedKeys",
    "dumps_exact",
    "dumps_with_numbers",
    "loads_exact",
    "mark_repeated_keys",
    "parse_integer",
    "repeated_key_path",
    "tag_decimals",
    "untag_decimals",
]

#: Digits of an integer literal read as an int; a longer one is read as a Decimal (Python refuses to
#: turn more than 4,300 digits into an int, and a row's rules then refuse it for its digits).
MAX_INT_DIGITS = 400


def parse_integer(literal: str) -> int | Decimal:
    """``parse_int`` of a JSON decoder: an int, or for more than ``MAX_INT_DIGITS`` digits the Decimal."""
    if len(literal) - literal.startswith("-") > MAX_INT_DIGITS:
        return Decimal(literal)
    return int(literal)


def dumps_with_numbers(
    value: Any,
    number: Callable[[Decimal], str | None],
    other: Callable[[Any], Any],
    *,
    ensure_ascii: bool = True,
) -> str:
    """Compact JSON text of ``value`` with each ``Decimal`` written as the JSON number ``number`` gives.

    A float would round a decimal of more than 17 digits: each is written as a placeholder first, then
    replaced by its digits. ``other`` gives what JSON has no type for (and a decimal ``number`` gives
    None for) as ``json.dumps``'s ``default`` would.
    """
    numbers: list[str] = []
    # A random tag per call: no text of the value can be mistaken for a placeholder.
    tag = secrets.token_hex(12)

    def default(obj: Any) -> Any:
        text = number(obj) if isinstance(obj, Decimal) else None
        if text is None:
            return other(obj)
        numbers.append(text)
        return f"{tag}:{len(numbers) - 1}"

    text = json.dumps(value, default=default, separators=(",", ":"), ensure_ascii=ensure_ascii)
    if not numbers:
        return text
    return re.sub(f'"{tag}:([0-9]+)"', lambda m: numbers[int(m.group(1))], text)


def _rereadable(value: Decimal) -> str | None:
    if not value.is_finite():
        return None
    text = str(value)
    # "5" or "-0" would read back as an int: the exponent keeps it a Decimal (-0 included).
    return text if any(c in text for c in ".eE") else text + "E0"


def dumps_exact(value: Any) -> str:
    """Compact JSON text of ``value``, non-ASCII escaped, with every finite ``Decimal`` as a JSON number
    that ``loads_exact`` reads back as that same ``Decimal``.

    Values JSON has no type for are written as their text (dates, a ``Decimal`` NaN), as
    ``default=str`` would.
    """
    return dumps_with_numbers(value, _rereadable, str)


def loads_exact(text: str | bytes) -> Any:
    """Read JSON text, numbers with a fraction or an exponent as ``Decimal`` (see ``dumps_exact``)."""
    return json.loads(text, parse_float=Decimal, parse_int=parse_integer)


def tag_decimals(value: Any) -> tuple[Any, str | None]:
    """``value`` with every finite ``Decimal`` as text behind a random tag, and the tag (None: no decimal).

    For JSON that another encoder writes (a queue message): the value keeps its shape and size, and
    ``untag_decimals`` with the same tag gives the decimals back. No text of the value can start with a
    tag drawn after it was read.
    """
    tag = secrets.token_hex(12)
    found = False

    def walk(obj: Any) -> Any:
        nonlocal found
        if isinstance(obj, Decimal) and obj.is_finite():
            found = True
            return f"{tag}{obj}"
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [walk(v) for v in obj]
        return obj

    walked = walk(value)
    return (walked, tag) if found else (value, None)


def untag_decimals(value: Any, tag: str | None) -> Any:
    """The decimals of a value that ``tag_decimals`` tagged with ``tag``, back as ``Decimal``."""
    if not tag:
        return value

    def walk(obj: Any) -> Any:
        if isinstance(obj, str):
            return Decimal(obj[len(tag) :]) if obj.startswith(tag) else obj
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, list):
            return [walk(v) for v in obj]
        return obj

    return walk(value)


class RepeatedKeys(dict[str, Any]):
    """A JSON object that names a key more than once: the value is the last one, as JSON decoders keep
    it, and ``repeated`` lists the keys given again, so that the reader can refuse it."""

    repeated: list[str]


def mark_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` of a decoder: a dict, or a ``RepeatedKeys`` when a key comes twice."""
    value = dict(pairs)
    if len(value) == len(pairs):
        return value
    marked = RepeatedKeys(value)
    seen: set[str] = set()
    marked.repeated = []
    for key, _ in pairs:  # one pass: an object of many keys must not take quadratic time
        if key in seen:
            marked.repeated.append(key)
        seen.add(key)
    return marked


def repeated_key_path(value: Any, path: str = "") -> str | None:
    """The path (``debts.0.amount``) of the first key a value read with ``mark_repeated_keys`` gives
    twice in one object, or None."""
    if isinstance(value, RepeatedKeys):
        return f"{path}.{value.repeated[0]}" if path else value.repeated[0]
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        if isinstance(child, dict | list):
            found = repeated_key_path(child, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    return None
