"""Reading the first worksheet of an XLSX workbook into rows of cell texts, with python-calamine.

calamine needs a seekable file: the workbook is copied, in memory up to ``SPOOL_BYTES``, else to a
temporary file in ``/tmp``, which calamine reads through a buffer rather than whole. Its Rust reader decodes
the first worksheet's cells into a table of its own before handing over the first row (memory grows with
the sheet, so a sheet larger than ``MAX_XLSX_XML_BYTES`` uncompressed is refused); the rows then become
Python values one at a time. It reads a 100,000-row workbook close to 20 times faster than openpyxl did.
"""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from typing import IO, Any

from bulk_import.engine.files.errors import FileFormatError

Opener = Callable[[], IO[bytes]]

#: An XLSX workbook is kept in memory up to this size, then copied to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
#: Largest worksheet (plus the shared strings) an XLSX workbook may hold, uncompressed. calamine holds the
#: sheet's cells in memory, about twice the size of their XML: 512 MiB keeps the reader near 1 GB, within
#: the file-drop function's memory, and still reads a 1,000,000-row workbook of eight short columns
#: (about 400 MiB of XML).
MAX_XLSX_XML_BYTES = 512 * 1024 * 1024


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text, as a CSV export would give it (dates ISO 8601, no ``.0`` on whole
    numbers, booleans ``true``/``false``, empty cells empty)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN
            return ""
        if value.is_integer():
            return str(int(value))
        text = repr(value)
        # 1e-07 as a CSV export writes it (0.0000001): text in exponent notation is no number to the rules,
        # and the row would fail as "not a number" instead of on its value.
        return format(Decimal(text), "f") if "e" in text else text
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        if value.time() == time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


@contextmanager
def _seekable(raw: IO[bytes]) -> Iterator[IO[bytes] | str]:
    """The workbook's bytes in memory up to ``SPOOL_BYTES``, else the path of a temporary copy on disk.

    An XLSX workbook is a zip archive, read from its end: the stream is copied first. calamine reads a
    file-like object whole into memory but a path through a buffered file, so a large workbook goes to disk.
    """
    head = bytearray()
    while len(head) <= SPOOL_BYTES:
        chunk = raw.read(SPOOL_BYTES + 1 - len(head))
        if not chunk:
            yield io.BytesIO(head)
            return
        head += chunk
    with tempfile.NamedTemporaryFile(prefix="bulk-import-", suffix=".xlsx") as spool:
        spool.write(head)
        del head
        shutil.copyfileobj(raw, spool, 1024 * 1024)
        spool.flush()
        yield spool.name


def _open_workbook(source: IO[bytes] | str) -> Any:
    from python_calamine import CalamineWorkbook  # deferred: only XLSX files need it

    if not zipfile.is_zipfile(source):
        raise FileFormatError("this is not an XLSX workbook (an XLSX file is a zip archive)")
    _check_size(source)
    try:
        if isinstance(source, str):
            return CalamineWorkbook.from_path(source)
        source.seek(0)
        return CalamineWorkbook.from_filelike(source)
    except Exception as exc:  # calamine raises its own errors, and ValueError, for a damaged workbook
        raise FileFormatError(
            f"this is not a readable XLSX workbook ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


def _check_size(source: IO[bytes] | str) -> None:
    """Refuse a workbook whose sheets would not fit in memory once decoded (also a zip bomb's defence)."""
    try:
        with zipfile.ZipFile(source) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileFormatError(f"this is not a readable XLSX workbook ({exc})") from None
    sheets = [
        p.file_size for p in parts if p.filename.startswith("xl/worksheets/") and p.filename.endswith(".xml")
    ]
    strings = sum(p.file_size for p in parts if p.filename == "xl/sharedStrings.xml")
    size = max(sheets, default=0) + strings
    if size > MAX_XLSX_XML_BYTES:
        raise FileFormatError(
            f"the workbook is too large to read: {size / 2**20:,.0f} MiB of cells once uncompressed, at most "
            f"{MAX_XLSX_XML_BYTES / 2**20:,.0f} MiB; save it as CSV, which has no such limit"
        )


def _first_worksheet(workbook: Any) -> Any:
    from python_calamine import SheetTypeEnum

    # Hidden sheets count, as in Excel's own order; chart and macro sheets hold no cells.
    names = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    if not names:
        raise FileFormatError("the workbook has no sheet")
    try:
        return workbook.get_sheet_by_name(names[0])
    except Exception as exc:
        raise FileFormatError(
            f"the first sheet cannot be read ({type(exc).__name__}: {str(exc)[:200]})"
        ) from None


def xlsx_rows(opener: Opener) -> Iterator[list[str]]:
    """The rows of the first sheet of an XLSX workbook, each as a list of cell texts.

    The rows are numbered as in the spreadsheet (empty rows above the data are there, as empty rows) and
    each row starts at column A. calamine decodes the sheet's cells into a table of its own (about 90 bytes
    a cell, twice the sheet's XML) before the first row, so memory grows with the sheet, up to
    ``MAX_XLSX_XML_BYTES``; the rows become Python values one at a time. A formula whose result is an
    error (``#N/A``, ``#DIV/0!``) reads as an empty cell.

    Raises
    ------
    FileFormatError
        The bytes are not an XLSX workbook, it is damaged, too large, or it has no sheet.
    """
    with opener() as raw, _seekable(raw) as source:
        if isinstance(source, io.BytesIO) and not source.getbuffer().nbytes:
            raise FileFormatError("the file is empty")
        workbook = _open_workbook(source)
        try:
            sheet = _first_worksheet(workbook)
            start = sheet.start
            # Rows come from the first one; columns from the first that holds a value: put back the others.
            padding = [""] * start[1] if start else []
            for values in sheet.iter_rows():
                yield padding + [cell_text(v) for v in values]
        finally:
            workbook.close()
