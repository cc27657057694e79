"""Readers that stream a file's bytes into rows: cells for CSV and XLSX, JSON values for JSON and JSON Lines.

Nothing here holds a whole file: CSV and JSON Lines are decoded and parsed as they are read, a JSON array
is cut into its elements as it is read (``JsonScanner``, in ``bulk_import.engine.files.json_text``). XLSX
workbooks are read by ``bulk_import.engine.files.xlsx`` (``xlsx_rows``, re-exported here), the one format
whose reader holds a sheet in memory.

Text encodings (CSV, JSON, JSON Lines): UTF-8 with or without a byte-order mark, Windows-1252, and UTF-16
with a byte-order mark (Excel's "Unicode text"). The encoding is guessed from the first ``PREFIX_BYTES``:
a BOM decides; else UTF-8 if they decode as UTF-8; else Windows-1252. A file whose beginning is plain ASCII
but which turns out not to be UTF-8 further on is read again as Windows-1252 (``EncodingRetry``), unless it
had valid UTF-8 before: then it mixes encodings and fails.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from bulk_import.engine.files.errors import FileFormatError

# Re-exported: callers read every format from this module.
from bulk_import.engine.files.xlsx import (  # noqa: F401
    MAX_XLSX_XML_BYTES,
    SPOOL_BYTES,
    Opener,
    cell_text,
    xlsx_rows,
)

#: Bytes read to guess the encoding and the delimiter.
PREFIX_BYTES = 64 * 1024
#: Characters read from a text stream at a time.
CHUNK_CHARS = 64 * 1024
#: Longest value or row accepted (a CSV field, a JSON row, a JSON Lines line), in characters: an
#: unbalanced quote or a missing bracket would otherwise swallow the rest of the file.
MAX_VALUE_CHARS = 1_000_000
#: Delimiters a CSV file may use, in the order ties are broken.
DELIMITERS = (",", ";", "\t")

#: File name extension -> format.
FORMATS = {".csv": "csv", ".xlsx": "xlsx", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 (with BOM)",
    "utf-16": "UTF-16",
    "cp1252": "Windows-1252",
}


def file_format(name: str) -> str:
    """The format of a file from its name's extension (``csv``, ``xlsx``, ``json``, ``jsonl``).

    Raises
    ------
    FileFormatError
        The extension is not one of ``.csv``, ``.xlsx``, ``.json``, ``.jsonl`` (or ``.ndjson``).
    """
    dot = name.rfind(".")
    extension = name[dot:].lower() if dot > 0 else ""
    if extension in FORMATS:
        return FORMATS[extension]
    shown = f"extension {extension!r}" if extension else "no extension"
    raise FileFormatError(f"the file name has {shown}: name it .csv, .xlsx, .json or .jsonl")


# -- text ------------------------------------------------------------------------------------------------
class EncodingRetry(Exception):  # noqa: N818 - a signal, not an error
    """The file read as UTF-8 was plain ASCII up to bytes that are not UTF-8: read it as Windows-1252."""


def _read_prefix(stream: IO[bytes]) -> tuple[bytes, bool]:
    parts: list[bytes] = []
    size = 0
    while size < PREFIX_BYTES:
        chunk = stream.read(PREFIX_BYTES - size)
        if not chunk:
            return b"".join(parts), True
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts), False


def guess_encoding(prefix: bytes, at_eof: bool) -> str:
    """The encoding of a text file from its first bytes (see the module notes).

    Raises
    ------
    FileFormatError
        The bytes are not text: a zip file (an XLSX workbook named .csv), NUL bytes, or bytes that are
        neither UTF-8 nor Windows-1252.
    """
    if prefix.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if prefix.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if prefix.startswith(b"PK\x03\x04"):
        raise FileFormatError("this is an XLSX workbook (or another zip file), not text: name it .xlsx")
    if b"\x00" in prefix:
        raise FileFormatError("the file holds binary data (NUL bytes), not text")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(prefix, final=at_eof)
        return "utf-8"
    except UnicodeDecodeError as exc:
        if _utf8_letters_before(prefix, exc.start):
            # UTF-8 letters before the bad byte: read as Windows-1252, they would be stored garbled
            # ("Zoé" as "ZoÃ©"), so the file fails as one that mixes encodings, like a later bad byte.
            line = prefix.count(b"\n", 0, exc.start) + 1
            raise FileFormatError(
                f"bytes that are not valid UTF-8 text on line {line:,}, after UTF-8 text on the lines"
                " before (the file mixes encodings: save it again as UTF-8)"
            ) from None
    try:
        prefix.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise FileFormatError(
            f"byte 0x{prefix[exc.start]:02X} at offset {exc.start:,} is neither UTF-8 nor Windows-1252 text"
        ) from None
    return "cp1252"


def _utf8_letters_before(prefix: bytes, end: int) -> bool:
    """Whether the text before ``end`` holds UTF-8 that reads as Western letters and punctuation.

    Windows-1252 text can hold byte pairs that happen to be valid UTF-8 (``É£`` is ``ɣ``), but then they
    decode to characters no Western text has; the letters of a UTF-8 export (``é`` is ``Ã©`` read as
    Windows-1252) are all Latin-1, Latin Extended-A or typographic punctuation.
    """
    if prefix[:end].isascii():
        return False
    return all(
        c.isascii() or "\u00a0" <= c <= "\u017f" or "\u2010" <= c <= "\u2027" or c in "\u20ac\u2122"
        for c in prefix[:end].decode("utf-8")
    )


class _Prefixed(io.RawIOBase):
    """A byte stream whose first bytes were read already: serves them first, then the rest.

    It also notes whether non-ASCII bytes came before the latest read, which tells a file that is
    plain ASCII up to its first non-UTF-8 byte (Windows-1252, read again) from one that mixes encodings.
    """

    def __init__(self, stream: IO[bytes], prefix: bytes) -> None:
        self._stream = stream
        self._prefix = memoryview(prefix)
        self.non_ascii_before = False
        self._last_non_ascii = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        target = memoryview(buffer).cast("B")
        if len(self._prefix):
            n = min(len(target), len(self._prefix))
            data = bytes(self._prefix[:n])
            self._prefix = self._prefix[n:]
        else:
            data = self._stream.read(len(target))
        n = len(data)
        target[:n] = data
        self.non_ascii_before = self.non_ascii_before or self._last_non_ascii
        self._last_non_ascii = not data.isascii()
        return n


class TextSource:
    """An open text file: the text stream, its encoding, and its first characters (for sniffing)."""

    def __init__(self, text: IO[str], encoding: str, sample: str, guessed: bool, stream: _Prefixed) -> None:
        self.text = text
        self.encoding = encoding
        self.sample = sample
        self.guessed = guessed
        self._stream = stream

    def retry_as_cp1252(self) -> bool:
        """After a decoding error: True when the encoding was guessed UTF-8 from a beginning that is
        plain ASCII and nothing but ASCII came before the bad bytes (then it is Windows-1252)."""
        return self.guessed and self.encoding == "utf-8" and not self._stream.non_ascii_before


@contextmanager
def open_text(opener: Opener, encoding: str | None = None) -> Iterator[TextSource]:
    """Open a text file with ``encoding``, or the one guessed from its first bytes."""
    with opener() as raw:
        prefix, at_eof = _read_prefix(raw)
        chosen = encoding or guess_encoding(prefix, at_eof)
        stream = _Prefixed(raw, prefix)
        text = io.TextIOWrapper(io.BufferedReader(stream, CHUNK_CHARS), encoding=chosen, newline="")
        sample = prefix.decode(chosen, errors="replace")
        yield TextSource(text, chosen, sample, encoding is None, stream)


def decode_error(encoding: str, where: str) -> FileFormatError:
    """The failure of a file with bytes its encoding cannot decode."""
    name = ENCODING_NAMES.get(encoding, encoding)
    if encoding == "cp1252":
        return FileFormatError(f"bytes that are neither UTF-8 nor Windows-1252 text {where}")
    return FileFormatError(f"bytes that are not valid {name} text {where} (the file mixes encodings?)")


# -- CSV -------------------------------------------------------------------------------------------------
def guess_delimiter(sample: str) -> str:
    """The delimiter of CSV text among comma, semicolon and tab, from its first lines.

    Each candidate parses the sample; the one giving its first row more than one column and the most
    rows of that same width wins (ties: the order of ``DELIMITERS``). A one-column file gets a comma.
    """
    lines = list(io.StringIO(sample, newline=""))  # line breaks as csv sees them (not U+2028 and the like)
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the prefix may end mid-line
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            rows = [r for r in csv.reader(lines[:50], delimiter=delimiter) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        score = (sum(1 for r in rows if len(r) == width), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def csv_rows(text: IO[str], delimiter: str) -> Iterator[list[str]]:
    """The records of CSV text (quoted fields may hold delimiters, quotes and line breaks).

    Raises
    ------
    FileFormatError
        A field longer than ``MAX_VALUE_CHARS`` (typically an unbalanced quote) or a malformed line.
    """
    # The last line read, and whether the text is exhausted: what tells a quote left open at the end.
    last_line, at_end = [""], [False]

    def lines() -> Iterator[str]:
        for line in text:
            last_line[0] = line
            yield line
        at_end[0] = True

    reader = csv.reader(lines(), delimiter=delimiter)
    while True:
        started = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            reason = str(exc)
            if "field larger than field limit" in reason:
                reason = f"a value longer than {MAX_VALUE_CHARS:,} characters (a quote that is never closed?)"
            raise FileFormatError(f"line {reader.line_num:,}: {reason}") from None
        except UnicodeDecodeError:
            raise
        if row and at_end[0] and reader.line_num > started and _unclosed_at_end(row[-1], last_line[0]):
            raise FileFormatError(
                f"line {started:,}: a quote opened on this line is never closed, so every line after it"
                " was read as one value; close the quote (or double a quote inside a quoted value)"
            )
        yield row


def _unclosed_at_end(value: str, line: str) -> bool:
    """Whether the last record's last value ran to the end of the file inside a quote that never closed:
    it holds line breaks and ends as the file's last line ends, without a closing quote."""
    if "\n" not in value and "\r" not in value:
        return False
    end = line.rstrip("\r\n")
    return not end.endswith('"') and value.rstrip("\r\n").endswith(end)


def _set_field_limit() -> None:
    if csv.field_size_limit() < MAX_VALUE_CHARS:
        csv.field_size_limit(MAX_VALUE_CHARS)


_set_field_limit()


# -- XLSX: see bulk_import.engine.files.xlsx (re-exported here) ------------------------------------
