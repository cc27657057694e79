"""Result files of a file import: ``summary.json`` and ``errors.csv``.

Both are written under ``results/{tenantId}/{importId}/``. ``errors.csv`` has one line per failed row:
``index`` (the row's data-row number), the row as sent (the file's own columns for CSV and XLSX, one
``row`` column of JSON for JSON files) and ``errors`` (every message of the row, joined by `` | ``).
It is UTF-8 with a byte-order mark (Excel reads the accents right) and uses the source file's delimiter
(a semicolon file gives a semicolon report).

* **Formula injection**: a cell starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return is
  written with a leading ``'`` so spreadsheets show it as text instead of running it (OWASP's advice).
* **Secrets**: rows pass through ``kind.redact`` (customers mask ``ssnLastFour``), and the values of any
  column whose name says SSN are masked whatever the kind: an SSN never appears in clear.

The report is written after the import, by reading the file again alongside the import's stored errors
(both in row order), so neither the file nor its errors are ever held in memory.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

from bulk_import.core.model import ImportJob
from bulk_import.engine.files.columns import MASK, FieldMap, FieldSpec, get, is_sensitive
from bulk_import.engine.files.rows import FileRow
from bulk_import.kinds.base import ImportKind

#: Characters that make a spreadsheet read a cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SUMMARY = "summary.json"
ERRORS = "errors.csv"
#: Joins a row's messages in the ``errors`` column.
MESSAGE_SEPARATOR = " | "
#: A report is kept in memory up to this size, then spooled to a temporary file.
SPOOL_BYTES = 4 * 1024 * 1024


def result_key(tenant_id: str, import_id: str, name: str) -> str:
    """Object key of one result file of an import."""
    return f"results/{tenant_id}/{import_id}/{name}"


def escape_cell(value: Any) -> str:
    """A value as a CSV cell that no spreadsheet runs as a formula."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return "'" + text if text.startswith(FORMULA_START) else text


def report_header(columns: list[str] | None) -> list[str]:
    """The header row of a file's ``errors.csv``: the row's index, the file's columns (one ``row`` column
    for JSON files) and the errors, named so as not to clash with the file's own columns."""
    own = set(columns or ())
    header = [_free("index", own), *(columns if columns is not None else ["row"]), _free("errors", own)]
    return [escape_cell(c) for c in header]


@dataclass
class ErrorReport:
    """Writes ``errors.csv`` to a text stream, one failed row at a time.

    Parameters
    ----------
    out
        Where the CSV text goes.
    kind
        The import kind (its ``redact`` masks secrets in the echoed rows).
    columns
        The file's header as sent (CSV, XLSX), or None for JSON files (the row goes in one ``row`` column).
    mapped
        Column position -> field, for columns that name one (to mask what ``redact`` masks).
    delimiter
        The report's delimiter (the source file's, for CSV).
    """

    out: IO[str]
    kind: ImportKind[Any]
    columns: list[str] | None
    mapped: dict[int, FieldSpec] = field(default_factory=dict)
    delimiter: str = ","
    rows: int = 0

    def __post_init__(self) -> None:
        self._writer = csv.writer(self.out, delimiter=self.delimiter, lineterminator="\r\n")
        own = set(self.columns or ())
        self._index_name = _free("index", own)
        self._errors_name = _free("errors", own)
        self._sensitive = {i for i, name in enumerate(self.columns or ()) if is_sensitive(name)}
        self._writer.writerow(report_header(self.columns))

    def add(self, row: FileRow, messages: list[str]) -> None:
        """Write one failed row with its messages."""
        cells = self._tabular(row) if self.columns is not None else [self._json(row)]
        line = [str(row.index), *cells, MESSAGE_SEPARATOR.join(messages)]
        self._writer.writerow([escape_cell(c) for c in line])
        self.rows += 1

    def _masked(self, row: FileRow) -> set[int]:
        """Positions whose value ``kind.redact`` replaces, plus the sensitive columns."""
        masked = set(self._sensitive)
        record = row.record
        if isinstance(record, Mapping) and self.mapped:
            redacted = self.kind.redact(record)
            if redacted is not record:
                for position, spec in self.mapped.items():
                    if get(redacted, spec) != get(record, spec):
                        masked.add(position)
        return masked

    def _tabular(self, row: FileRow) -> list[Any]:
        values = list(row.values or [])
        width = len(self.columns or ())
        cells = values[:width] + [""] * (width - len(values))
        for position in self._masked(row):
            if position < width and cells[position] not in ("", None):
                cells[position] = MASK
        return cells

    def _json(self, row: FileRow) -> str:
        value = row.values
        if not isinstance(value, Mapping):
            return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
        record = row.record
        changed: set[str] = set()
        if isinstance(record, Mapping):
            redacted = self.kind.redact(record)
            if redacted is not record:
                changed = {k for k in record if redacted.get(k) != record.get(k)}
        fields = FieldMap.of(self.kind)
        shown: dict[str, Any] = {}
        for key, item in value.items():
            spec = fields.lookup(key)
            secret = is_sensitive(str(key)) or (spec is not None and spec.path[0] in changed)
            shown[str(key)] = MASK if secret and item not in ("", None) else item
        return json.dumps(shown, default=str, ensure_ascii=False, separators=(",", ":"))


def _free(name: str, taken: set[str]) -> str:
    """``name``, or ``name (import)`` when the file has a column of that name already."""
    return name if name not in taken else f"{name} (import)"


def grouped_errors(pages: Iterator[dict[str, Any]]) -> Iterator[tuple[int, list[str]]]:
    """Per-row error entries (in row order) grouped as ``(index, [messages])``."""
    current: int | None = None
    messages: list[str] = []
    for entry in pages:
        index = int(entry["index"])
        if current is not None and index != current:
            yield current, messages
            messages = []
        current = index
        messages.append(str(entry.get("message", "")))
    if current is not None:
        yield current, messages


def write_report(
    report: ErrorReport, rows: Iterator[FileRow], errors: Iterator[tuple[int, list[str]]]
) -> None:
    """Write every row that has errors: the file's rows and the errors, both in row order, merged."""
    pending = next(errors, None)
    if pending is None:
        return
    for row in rows:
        while pending is not None and pending[0] < row.index:
            pending = next(errors, None)  # an error of a row the file no longer has: nothing to echo
        if pending is None:
            return
        if pending[0] == row.index:
            report.add(row, pending[1])
            pending = next(errors, None)


def new_spool(encoding: str = "utf-8-sig") -> tuple[Any, io.TextIOWrapper]:
    """A temporary binary file (in memory up to ``SPOOL_BYTES``) and a text view of it (UTF-8 with a BOM
    by default: what Excel needs to read a CSV's accents right)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - the caller closes it
    text = io.TextIOWrapper(spool, encoding=encoding, newline="")
    return spool, text


def summary(
    job: ImportJob,
    *,
    status: str | None = None,
    error: str | None = None,
    error_rows: int | None = None,
    warnings: list[str] | None = None,
) -> dict[str, Any]:
    """``summary.json`` of a file import: what was read, what happened, and why a failed file failed."""
    source = dict(job.source_file or {})
    file_info = {
        k: source[k]
        for k in (
            "key",
            "name",
            "format",
            "size",
            "encoding",
            "delimiter",
            "headerRow",
            "rows",
            "columns",
            "unknownColumns",
        )
        if source.get(k) is not None
    }
    body: dict[str, Any] = {
        "importId": job.import_id,
        "tenantId": job.tenant_id,
        "kind": job.kind,
        "source": job.source,
        "status": status or job.status,
        "file": file_info,
        "options": job.options,
        "counts": job.counts.as_dict(),
        "calls": job.calls.as_dict() if job.calls is not None else {"status": "NOT_REQUESTED"},
        "createdAt": _iso(job.created_at),
        "completedAt": _iso(job.completed_at) if job.completed_at else None,
    }
    if error_rows is not None:
        body["errorRows"] = error_rows
        body["errorsFile"] = ERRORS
    all_warnings = [*source.get("warnings", []), *(warnings or [])]
    if all_warnings:
        body["warnings"] = all_warnings
    reason = error or job.error
    if reason:
        body["error"] = reason
    return body


def _iso(value: Any) -> str:
    return value.isoformat().replace("+00:00", "Z")
