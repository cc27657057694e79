"""JSON and JSON Lines text as rows, read piece by piece: a JSON array is cut into its elements as it is
read, so memory holds one row (at most ``MAX_VALUE_CHARS``), never the file.

``NaN``, ``Infinity`` and ``-Infinity`` are not JSON: Python's decoder reads them, these readers refuse
them as the API does (``refuse_constant``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import IO, Any

from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.readers import CHUNK_CHARS, MAX_VALUE_CHARS
from bulk_import.rules.exact_json import mark_repeated_keys, parse_integer, repeated_key_path

_WHITESPACE = re.compile(r"[ \t\n\r]*")


class NotJsonNumberError(ValueError):
    """``NaN``, ``Infinity`` or ``-Infinity`` in a file: Python reads them, JSON has no such numbers."""


def refuse_constant(name: str) -> Any:
    """``parse_constant`` of every JSON decoder of files: the same literals the API refuses fail here.

    Read as floats they would pass for a missing value (NaN) or a number too large to be one.
    """
    raise NotJsonNumberError(f"{name} is not a JSON number; send a number or null")


def repeated_key_problem(value: Any) -> str | None:
    """The message of the first key a row's JSON gives twice (``"row: amount is given twice; …"``)."""
    name = repeated_key_path(value)
    if name is None:
        return None
    return f"row: {name[:60]!r} is given twice (a JSON object names each key once); send one value"


# Numbers as the API reads them: a fraction or an exponent makes a Decimal (never a float rounding the
# digits, or 1e400 turned into infinity), and an integer of any length is read (see ``parse_integer``).
_DECODER = json.JSONDecoder(
    parse_float=Decimal,
    parse_int=parse_integer,
    parse_constant=refuse_constant,
    object_pairs_hook=mark_repeated_keys,
)


def loads_row(text: str) -> Any:
    """One JSON value of a file (a JSON Lines line), numbers as ``_DECODER`` reads them."""
    return _DECODER.decode(text)


class JsonScanner:
    """Reads JSON text piece by piece: whole values (rows) one at a time, and the brackets around them.

    ``value`` decodes the next value with the standard decoder on a window of the text, reading more
    when the value is cut off, so memory holds one row (at most ``MAX_VALUE_CHARS``), never the file.
    """

    def __init__(self, text: IO[str]) -> None:
        self._text = text
        self._buffer = ""
        self._pos = 0
        self._eof = False

    def _fill(self) -> bool:
        if self._eof:
            return False
        chunk = self._text.read(CHUNK_CHARS)
        if not chunk:
            self._eof = True
            return False
        self._buffer = self._buffer[self._pos :] + chunk
        self._pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ("" at the end)."""
        while True:
            match = _WHITESPACE.match(self._buffer, self._pos)
            assert match is not None
            self._pos = match.end()
            if self._pos < len(self._buffer):
                return self._buffer[self._pos]
            if not self._fill():
                return ""

    def take(self, char: str, what: str) -> None:
        """Consume ``char`` (after white space), or fail saying ``what`` was expected."""
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "the end of the file"
            raise FileFormatError(f"not valid JSON: expected {what}, found {shown}")
        self._pos += 1

    def value(self, where: str) -> Any:
        """Decode the next JSON value; ``where`` says which (``row 12``) in messages."""
        self.peek()
        while True:
            try:
                value, end = _DECODER.raw_decode(self._buffer, self._pos)
            except NotJsonNumberError as exc:
                raise FileFormatError(f"{where}: not valid JSON ({exc})") from None
            except json.JSONDecodeError as exc:
                if len(self._buffer) - self._pos > MAX_VALUE_CHARS:
                    raise FileFormatError(
                        f"{where}: not valid JSON, or longer than {MAX_VALUE_CHARS:,} characters"
                    ) from None
                if self._fill():
                    continue
                raise FileFormatError(f"{where}: not valid JSON ({exc.msg})") from None
            if end == len(self._buffer) and not isinstance(value, (dict, list, str)) and self._fill():
                continue  # a number (or literal) at the end of the window may go on in the next one
            self._pos = end
            return value


def json_rows(text: IO[str], records_field: str, options: dict[str, Any]) -> Iterator[Any]:
    """The rows of a JSON file: an array of rows, or an object (the endpoint's body) whose
    ``records_field`` holds them; the body's other fields go into ``options``.

    Raises
    ------
    FileFormatError
        Not JSON, not an array or an object, an object without ``records_field``, or text after the end.
    """
    scanner = JsonScanner(text)
    first = scanner.peek()
    if first == "":
        raise FileFormatError("the file is empty")
    if first == "[":
        yield from _array(scanner, 0)
    elif first == "{":
        yield from _body(scanner, records_field, options)
    else:
        raise FileFormatError(
            f'a JSON file must hold an array of rows, or an object with the rows in "{records_field}"'
        )
    if scanner.peek() != "":
        raise FileFormatError("not valid JSON: text after the end of the document")


def _array(scanner: JsonScanner, start: int) -> Iterator[Any]:
    scanner.take("[", "[")
    if scanner.peek() == "]":
        scanner.take("]", "]")
        return
    index = start
    while True:
        yield scanner.value(f"row {index}")
        index += 1
        if scanner.peek() == ",":
            scanner.take(",", ",")
            continue
        scanner.take("]", f"a comma or ] after row {index - 1}")
        return


def _body(scanner: JsonScanner, records_field: str, options: dict[str, Any]) -> Iterator[Any]:
    scanner.take("{", "{")
    found = False
    if scanner.peek() == "}":
        scanner.take("}", "}")
    else:
        while True:
            if scanner.peek() != '"':
                scanner.take('"', "a field name")
            key = scanner.value("a field name")
            scanner.take(":", f"a colon after {key!r}")
            if key == records_field:
                if scanner.peek() != "[":
                    raise FileFormatError(f"{records_field}: must be a list of rows")
                found = True
                yield from _array(scanner, 0)
            else:
                options[str(key)] = scanner.value(str(key))
            if scanner.peek() == ",":
                scanner.take(",", ",")
                continue
            scanner.take("}", "a comma or }")
            break
    if not found:
        if scanner.peek() == "{":
            raise FileFormatError(
                "the file holds one JSON object after another (JSON Lines): name it .jsonl, or put "
                "the rows in a list [...]"
            )
        raise FileFormatError(
            f'a JSON object must be the endpoint\'s body, with the rows in "{records_field}"'
        )


# -- JSON Lines ------------------------------------------------------------------------------------------
def jsonl_lines(text: IO[str]) -> Iterator[str]:
    """The lines of JSON Lines text, each at most ``MAX_VALUE_CHARS`` characters."""
    number = 0
    while True:
        line = text.readline(MAX_VALUE_CHARS + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_VALUE_CHARS and not line.endswith(("\n", "\r")):
            raise FileFormatError(f"line {number:,} is longer than {MAX_VALUE_CHARS:,} characters")
        yield line
