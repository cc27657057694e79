"""How a request body is read as JSON, and which JSON is refused before any route sees it.

Numbers with a fraction or an exponent are read as ``Decimal`` (never a float rounding the digits),
integers as ``int`` up to ``MAX_INTEGER_DIGITS`` digits. Refused, each with a message naming the
problem: text that is not JSON, nesting deeper than ``MAX_DEPTH``, ``NaN`` and ``Infinity``, a lone
surrogate escape, and an object naming a key twice (decoders keep the last value, silently).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from bulk_import.rules.exact_json import RepeatedKeys, mark_repeated_keys, repeated_key_path

#: Deepest nesting of arrays and objects accepted in a body (the parser recurses once per level).
MAX_DEPTH = 64
#: Longest integer literal accepted, in digits (Python refuses to convert past 4,300).
MAX_INTEGER_DIGITS = 400
#: Most characters of what was sent that an error message may repeat.
MAX_ECHO = 100
ELLIPSIS = "…"


class JsonBodyError(ValueError):
    """The body is not JSON the API reads; the message names the problem (a 400)."""


def clip(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _integer(literal: str) -> int:
    digits = len(literal) - literal.startswith("-")
    if digits > MAX_INTEGER_DIGITS:
        raise JsonBodyError(
            f"body: an integer has {digits:,} digits; at most {MAX_INTEGER_DIGITS} are accepted"
        )
    return int(literal)


def _constant(literal: str) -> Any:
    raise JsonBodyError(f"body: {literal} is not a JSON number; send a number or null")


def _object(pairs: list[tuple[str, Any]], repeated: list[bool]) -> dict[str, Any]:
    value = mark_repeated_keys(pairs)
    if isinstance(value, RepeatedKeys):
        repeated.append(True)  # looked for once the whole body is read, to name where
    return value


def _check_depth(text: str) -> None:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth = 0
    for char in _NOT_BRACKET.sub("", _STRING.sub("", text)):
        if char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise JsonBodyError(f"body: nested deeper than {MAX_DEPTH} levels of arrays and objects")
        else:
            depth -= 1


def read_json(text: str) -> Any:
    """Parse a request body with the boundary's rules.

    Numbers with a fraction or exponent become ``Decimal``; integers stay ``int``.

    Raises
    ------
    JsonBodyError
        Not JSON, nested deeper than ``MAX_DEPTH``, an integer longer than
        ``MAX_INTEGER_DIGITS`` digits, ``NaN``/``Infinity``, a lone surrogate escape, or an object
        naming a key twice.
    """
    text = text.removeprefix("\ufeff")
    _check_depth(text)
    repeated: list[bool] = []
    decoder = json.JSONDecoder(
        parse_float=Decimal,
        parse_int=_integer,
        parse_constant=_constant,
        object_pairs_hook=lambda pairs: _object(pairs, repeated),
    )
    try:
        document = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise JsonBodyError(
            f"body: is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:  # unreachable after the depth check; never let it surface
        raise JsonBodyError(f"body: nested deeper than {MAX_DEPTH} levels") from None
    if repeated:
        # Which value was meant is not ours to guess (decoders keep the last one, silently).
        raise JsonBodyError(
            f"{clip(repeated_key_path(document) or 'body')}: is given twice (a JSON object names each key "
            "once); send one value",
        )
    if _SURROGATE_ESCAPE.search(text):
        where = _lone_surrogate(document, "")
        if where is not None:
            raise JsonBodyError(
                f"{where}: contains a lone surrogate escape such as \\ud800; send valid Unicode text"
            )
    return document


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _lone_surrogate(value: Any, path: str) -> str | None:
    """The path of the first string (key or value) holding a lone surrogate, or None."""
    if isinstance(value, str):
        return (path or "body") if _has_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _has_surrogate(key):
                return f"{path or 'body'} (a field name)"
            found = _lone_surrogate(item, f"{path}.{clip(key)}" if path else clip(key))
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}.{i}" if path else str(i))
            if found is not None:
                return found
    return None
