"""A file of one import kind as numbered rows: the header found and mapped, file-level skips applied.

``FileReader(opener, format, kind)`` reads a file the way every part of the stack does (the file-drop
handler's survey and split, the workflow's error report, ``bulk-import validate``):

* **Header** (CSV, XLSX): the first of the first ``HEADER_SEARCH_ROWS`` non-blank rows with a cell
  naming a field of the kind; rows above it (a title, instructions) are not data. No such row: the
  file has no header and fails.
* **Index**: each data row's ``index`` is its 0-based position among the rows after the header (JSON:
  in the array; JSON Lines: among the lines), empty rows included; empty rows at the very end are not
  rows (spreadsheets keep formatted empty rows).
* **Skipped** whatever the kind (the debts rule, applied to every file): empty rows;
  template instruction rows, whose first non-blank cell starts with ``*`` or which contain "champs
  obligatoires", "champ obligatoire" or "required field"; and repeated header rows.
* **Rejected**: a row with non-blank cells beyond the header's columns, a JSON Lines line that is not
  JSON (``NaN`` and ``Infinity`` included, as the API refuses them). The row fails with that message,
  never skipped as empty; the others go on.
* **Unknown columns** (and JSON keys) are ignored and listed (``FileSurvey.unknown_columns``): files come
  from exports with columns of their own. A required field missing that way fails every row anyway.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from bulk_import.engine.files.columns import FieldMap, FieldSpec, Layout, put
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.json_text import json_rows, jsonl_lines, loads_row, repeated_key_problem
from bulk_import.engine.files.readers import (
    ENCODING_NAMES,
    EncodingRetry,
    Opener,
    csv_rows,
    decode_error,
    guess_delimiter,
    open_text,
    xlsx_rows,
)
from bulk_import.engine.files.verdicts import file_skip_reason, rejected_record
from bulk_import.kinds.base import ImportKind
from bulk_import.rules.strings import is_blank

#: How many non-blank rows at the top of a CSV or XLSX file are searched for the header.
HEADER_SEARCH_ROWS = 10
#: At most this many unknown column names (JSON keys) are listed.
MAX_LISTED = 50
#: A header may name at most this many columns, of this many characters in all (it is kept on the import).
MAX_COLUMNS = 1000
MAX_HEADER_CHARS = 64 * 1024
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


@dataclass(slots=True)
class FileRow:
    """One data row of a file.

    ``values`` is the row as sent: the cells of a CSV or XLSX row (aligned with the header), the value of
    a JSON row. ``record`` is what the kind validates: named fields only, blank cells left out. ``skip``
    or ``reject`` is the reader's verdict, when it has one.
    """

    index: int
    values: Any
    record: Any
    skip: str | None = None
    reject: str | None = None


@dataclass
class FileSurvey:
    """What reading a whole file found: its shape, how many data rows, and what was ignored."""

    format: str
    rows: int = 0
    encoding: str | None = None
    delimiter: str | None = None
    #: 1-based row of the header in the file (CSV: the record number, which is the line number unless a
    #: quoted value above spans lines).
    header_row: int | None = None
    columns: list[str] | None = None
    unknown_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Top-level fields of a JSON file that is the endpoint's body (``campaignId``…).
    options: dict[str, Any] = field(default_factory=dict)

    def details(self) -> dict[str, Any]:
        """How the file was read, as stored on the import and shown in ``summary.json``."""
        out: dict[str, Any] = {"format": self.format, "rows": self.rows}
        if self.encoding is not None:
            out["encoding"] = self.encoding
        if self.delimiter is not None:
            out["delimiter"] = self.delimiter
        if self.header_row is not None:
            out["headerRow"] = self.header_row
        if self.columns is not None:
            out["columns"] = self.columns
        out["unknownColumns"] = self.unknown_columns
        out["warnings"] = self.warnings
        return out

    def describe(self) -> str:
        """One line for people: ``CSV, Windows-1252, semicolon-separated, 12 data rows``."""
        parts = [self.format.upper()]
        if self.encoding:
            parts.append(ENCODING_NAMES.get(self.encoding, self.encoding))
        if self.delimiter:
            parts.append(f"{DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))}-separated")
        parts.append(f"{self.rows:,} data row{'s' if self.rows != 1 else ''}")
        return ", ".join(parts)


class FileReader:
    """Reads one file as rows of one kind (see the module notes).

    Parameters
    ----------
    opener
        Opens the file's bytes afresh (each pass reads the file again, never holding it).
    format
        ``csv``, ``xlsx``, ``json`` or ``jsonl`` (``readers.file_format``).
    kind
        The import kind the rows are for.
    encoding, delimiter
        As a previous survey found them (read again the same way); None: guessed.
    """

    def __init__(
        self,
        opener: Opener,
        format: str,
        kind: ImportKind[Any],
        *,
        encoding: str | None = None,
        delimiter: str | None = None,
    ) -> None:
        self.opener = opener
        self.format = format
        self.kind = kind
        self.fields = FieldMap.of(kind)
        self.encoding = encoding
        self.delimiter = delimiter
        self.layout: Layout | None = None
        self.header_row: int | None = None
        self.options: dict[str, Any] = {}
        self._unknown: dict[str, None] = {}
        self._unnamed_with_values: set[int] = set()
        self._key_specs: dict[str, FieldSpec | None] = {}
        self._header_width = 0

    # -- the whole file --------------------------------------------------------------------------------
    def survey(self) -> FileSurvey:
        """Read the whole file once: check it can be read, count its data rows, note what is ignored.

        Raises
        ------
        FileFormatError
            The file cannot be read (see ``rows``).
        """
        try:
            return self._survey()
        except EncodingRetry:
            # Plain ASCII up to bytes that are not UTF-8: Windows-1252 (see ``readers``).
            self.encoding = "cp1252"
            self._unknown.clear()
            self._unnamed_with_values.clear()
            return self._survey()

    def _survey(self) -> FileSurvey:
        count = 0
        for _ in self.rows(surveying=True):
            count += 1
        survey = FileSurvey(
            format=self.format,
            rows=count,
            encoding=self.encoding,
            delimiter=self.delimiter,
            header_row=self.header_row,
            columns=list(self.layout.columns) if self.layout is not None else None,
            unknown_columns=list(self._unknown)[:MAX_LISTED],
            options=dict(self.options),
        )
        if self._unknown:
            shown = ", ".join(survey.unknown_columns)
            noun = "keys" if self.format in ("json", "jsonl") else "columns"
            survey.warnings.append(f"{noun} that name no field of {self.kind.name} were ignored: {shown}")
        for position in sorted(self._unnamed_with_values)[:MAX_LISTED]:
            survey.warnings.append(
                f"column {position + 1} has no name in the header; its values were ignored"
            )
        return survey

    def rows(self, *, surveying: bool = False) -> Iterator[FileRow]:
        """The data rows, numbered from 0 (see the module notes).

        Raises
        ------
        FileFormatError
            The file is empty, has no header (CSV, XLSX), is not valid JSON as a whole (JSON), or holds
            bytes its encoding cannot decode.
        """
        if self.format == "xlsx":
            yield from self._tabular(xlsx_rows(self.opener), surveying)
            return
        with open_text(self.opener, self.encoding) as source:
            self.encoding = source.encoding
            try:
                if self.format == "csv":
                    if self.delimiter is None:
                        self.delimiter = guess_delimiter(source.sample)
                    yield from self._tabular(csv_rows(source.text, self.delimiter), surveying)
                elif self.format == "json":
                    yield from self._json(json_rows(source.text, self.kind.records_field, self.options))
                elif self.format == "jsonl":
                    yield from self._jsonl(jsonl_lines(source.text))
                else:
                    raise FileFormatError(f"unknown file format {self.format!r}")
            except UnicodeDecodeError:
                if source.retry_as_cp1252():
                    raise EncodingRetry() from None
                raise decode_error(source.encoding, self._where) from None

    _where = "in the file"

    # -- CSV and XLSX ----------------------------------------------------------------------------------
    def _tabular(self, records: Iterator[list[str]], surveying: bool) -> Iterator[FileRow]:
        seen = 0
        number = 0
        for cells in records:
            number += 1
            self._where = f"after line {number:,}"
            if all(is_blank(c) for c in cells):
                continue
            seen += 1
            header_width = len(cells)
            while is_blank(cells[-1]):
                cells = cells[:-1]  # spreadsheets pad rows with empty cells: those are not columns
            layout = Layout.of(cells, self.fields)
            if layout.mapped:
                self.layout, self.header_row, self._header_width = layout, number, header_width
                break
            if seen >= HEADER_SEARCH_ROWS:
                break
        else:
            if seen == 0:
                raise FileFormatError("the file is empty" if number == 0 else "the file has only empty rows")
        if self.layout is None:
            raise FileFormatError(
                f"no header row: none of the first rows names a field of {self.kind.name} "
                f"({', '.join(self.fields.fields)}); the first row must name the columns"
            )
        layout = self.layout
        width = len(layout.columns)
        header_width = self._header_width
        if width > MAX_COLUMNS or sum(len(c) for c in layout.columns) > MAX_HEADER_CHARS:
            raise FileFormatError(
                f"the header has {width:,} columns ({sum(len(c) for c in layout.columns):,} characters); "
                f"at most {MAX_COLUMNS:,} columns of {MAX_HEADER_CHARS:,} characters in all"
            )
        for name in layout.unknown:
            self._unknown.setdefault(name, None)
        index = 0
        blanks = 0
        for cells in records:
            number += 1
            self._where = f"after line {number:,}"
            if all(is_blank(c) for c in cells):
                blanks += 1  # only rows if a non-empty row follows
                continue
            while blanks:
                yield FileRow(index, [], {}, skip="empty row")
                index, blanks = index + 1, blanks - 1
            row = FileRow(index, cells, layout.record(cells))
            extra = [c for c in cells[header_width:] if not is_blank(c)]
            if extra:
                row.reject = (
                    f"row: has {header_width + len(extra)} values but the header has {header_width} "
                    f"columns (a delimiter inside a value that is not quoted?)"
                )
                row.record = rejected_record(row.record, cells)
            else:
                row.skip = file_skip_reason(cells, layout.normalized)
            if surveying:
                for position in layout.unnamed:
                    if position < len(cells) and not is_blank(cells[position]):
                        self._unnamed_with_values.add(position)
                for offset, cell in enumerate(cells[width:header_width]):
                    if not is_blank(cell):
                        self._unnamed_with_values.add(width + offset)
            yield row
            index += 1

    # -- JSON and JSON Lines ---------------------------------------------------------------------------
    def _record(self, value: Any) -> tuple[Any, str | None]:
        """A JSON row with its keys mapped to the kind's fields (unknown keys left out and listed), and
        the problem of a row where two keys give the same field."""
        if not isinstance(value, Mapping):
            return value, None
        record: dict[str, Any] = {}
        given: dict[tuple[str, ...], str] = {}
        for key, item in value.items():
            name = str(key)
            if name not in self._key_specs:
                self._key_specs[name] = self.fields.lookup(name)
            spec = self._key_specs[name]
            if spec is None:
                if len(self._unknown) < MAX_LISTED:
                    self._unknown.setdefault(name, None)
                continue
            if spec.path in given:
                return record, f"row: keys {given[spec.path]!r} and {name!r} both give the field {spec.name}"
            given[spec.path] = name
            put(record, spec, item)
        return record, None

    def _json_row(self, index: int, value: Any) -> FileRow:
        record, problem = self._record(value)
        problem = repeated_key_problem(value) or problem
        if problem is not None:
            record = rejected_record(record, value)
        row = FileRow(index, value, record, reject=problem)
        if isinstance(value, Mapping) and problem is None:
            row.skip = file_skip_reason(list(value.values()), None)
        return row

    def _json(self, values: Iterator[Any]) -> Iterator[FileRow]:
        self._where = "in the file"
        for index, value in enumerate(values):
            self._where = f"after row {index:,}"
            yield self._json_row(index, value)

    def _jsonl(self, lines: Iterator[str]) -> Iterator[FileRow]:
        index = 0
        blanks = 0
        any_line = False
        for number, line in enumerate(lines, start=1):
            any_line = True
            self._where = f"after line {number:,}"
            text = line.strip()
            if not text:
                blanks += 1
                continue
            while blanks:
                yield FileRow(index, None, {}, skip="empty row")
                index, blanks = index + 1, blanks - 1
            try:
                value = loads_row(text)
            except ValueError as exc:
                msg = getattr(exc, "msg", str(exc))
                # The line itself travels as the row: an empty record would read as an empty row and be
                # skipped, its reason lost.
                yield FileRow(index, text, text, reject=f"row: not valid JSON ({msg})")
            else:
                if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
                    reason = "row: a list of rows on one line; a file of one JSON array is named .json"
                    yield FileRow(index, value, value, reject=reason)
                else:
                    yield self._json_row(index, value)
            index += 1
        if not any_line:
            raise FileFormatError("the file is empty")
