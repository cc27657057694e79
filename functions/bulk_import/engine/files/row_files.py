"""``results.csv`` and ``errors.csv`` of any import, written as a stream.

* ``results.csv``: ``index,reference,status,storedId``, every row in row order. A cancelled import's
  rows that no worker wrote are listed too, as ``cancelled`` (their reference is not known then).
* ``errors.csv`` of an import sent through the API: ``index,reference,errors,row``, each failed row with
  its messages and the row as sent, as JSON, passed through ``kind.redact`` (``ssnLastFour`` masked). A
  file import's ``errors.csv`` is the file's own (``engine.files.outputs.write_results``).

Neither file is ever held whole, nor are an import's rows: the stored results and errors are read page by
page through the imports repository, each CSV line is produced as the file store reads it
(``CsvStream``; the store uploads it in parts), and the failed rows as sent are read one chunk at a time
(``keep_failed_rows``, written by the chunk workers). Cells that a spreadsheet would run as a formula are
escaped (``results.escape_cell``).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, cast

from bulk_import.core.model import ImportJob, RowOutcome
from bulk_import.core.ports import Deps, payload_key
from bulk_import.engine.files.results import ERRORS, escape_cell, result_key
from bulk_import.engine.files.sent import error_entries, failed_indexes, failed_rows
from bulk_import.kinds import get_kind

log = logging.getLogger(__name__)

#: Object name of an import's per-row results.
RESULTS = "results.csv"
#: Rows read per page of the stored results and errors: what the writing holds at a time, whatever the
#: import's size (a page of 1,000 would weigh more than every other part of the writing together).
PAGE_ROWS = 250
#: Characters of CSV text gathered before they are encoded for the reader.
_TEXT_BYTES = 16 * 1024
_CSV_TYPE = "text/csv; charset=utf-8"


class CsvStream(io.RawIOBase):
    """A CSV file as a readable binary stream, produced from ``rows`` as it is read.

    UTF-8 with a byte-order mark (what a spreadsheet needs to read accents right), one header row, every
    cell escaped against formulas. A read of ``n`` bytes returns ``n`` bytes until the end (an upload in
    parts needs full parts), and holds at most about ``n`` bytes plus one row.
    """

    def __init__(self, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        super().__init__()
        self._rows = iter(rows)
        self._text = io.StringIO()
        self._writer = csv.writer(self._text)
        self._writer.writerow(header)
        self._pending = bytearray(codecs.BOM_UTF8)
        self._ended = False
        #: Data rows produced so far.
        self.rows = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._pending) < len(view) and not self._ended:
            self._fill()
        size = min(len(view), len(self._pending))
        view[:size] = self._pending[:size]
        del self._pending[:size]
        return size

    def _fill(self) -> None:
        for row in self._rows:
            self._writer.writerow([escape_cell(v) for v in row])
            self.rows += 1
            if self._text.tell() >= _TEXT_BYTES:
                break
        else:
            self._ended = True
        # A character JSON could carry but UTF-8 cannot (a lone surrogate) must not lose the file.
        self._pending += self._text.getvalue().encode("utf-8", "replace")
        self._text.seek(0)
        self._text.truncate()


def put_csv(
    deps: Deps, job: ImportJob, name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]
) -> str:
    """Stream one CSV result file of ``job`` to the file store; return its object key."""
    assert deps.files is not None
    key = result_key(job.tenant_id, job.import_id, name)
    with CsvStream(header, rows) as stream:
        deps.files.put(key, cast(IO[bytes], stream), _CSV_TYPE)
    return key


# -- what is read back, page by page ---------------------------------------------------------------------
def stored_results(deps: Deps, job: ImportJob) -> Iterator[tuple[int, dict[str, Any]]]:
    """An import's stored per-row results as ``(index, result)``, in row order, a page at a time."""
    after: int | None = None
    while True:
        page = deps.imports.list_results_page(job.tenant_id, job.import_id, PAGE_ROWS, after)
        yield from page.rows
        if not page.more or not page.rows:
            return
        after = page.rows[-1][0]


def _error_groups(deps: Deps, job: ImportJob) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    current: tuple[int, dict[str, Any], list[str]] | None = None
    for entry in error_entries(deps, job):
        index = int(entry["index"])
        if current is None or current[0] != index:
            if current is not None:
                yield current
            refs = {k: v for k, v in entry.items() if k not in ("index", "field", "message")}
            current = (index, refs, [])
        current[2].append(str(entry.get("message", "")))
    if current is not None:
        yield current


# -- the failed rows as sent, one chunk at a time --------------------------------------------------------
def failed_rows_key(job: ImportJob, first_index: int) -> str:
    """Payload key of one chunk's failed rows as sent, named by the first of them."""
    return payload_key(job.tenant_id, job.import_id, f"failed/{first_index:09d}.json")


def keep_failed_rows(deps: Deps, job: ImportJob, rows: Sequence[tuple[int, Any]]) -> None:
    """Keep one chunk's failed rows as sent (``(index, row)`` in row order), for ``errors.csv``.

    Chunks cover increasing, separate runs of indexes, so whoever reads the errors in row order and meets
    an index its chunk did not hold knows it is the first failed row of another chunk, and the key of
    that chunk's rows. Written again, a chunk writes the same object.
    """
    if rows and deps.payloads is not None:
        deps.payloads.put_json(failed_rows_key(job, rows[0][0]), [{"index": i, "row": r} for i, r in rows])


class _SentRows:
    """The failed rows of an import as sent, looked up in row order, one chunk's worth held at a time."""

    def __init__(self, deps: Deps, job: ImportJob) -> None:
        self._deps, self._job = deps, job
        self._held: dict[int, Any] = {}
        self._whole: dict[int, Any] | None = None

    def row(self, index: int) -> Any:
        if index in self._held:
            return self._held[index]
        if self._whole is None and self._deps.payloads is not None:
            try:
                kept = self._deps.payloads.get_json(failed_rows_key(self._job, index))
                self._held = {int(e["index"]): e["row"] for e in kept}
                return self._held.get(index)
            except Exception:  # not kept by chunk (an import of an earlier version): read as a whole
                log.info("import %s: row %d read from the whole request", self._job.import_id, index)
        if self._whole is None:
            self._whole = dict(failed_rows(self._deps, self._job, failed_indexes(self._deps, self._job)))
        return self._whole.get(index)


# -- the files --------------------------------------------------------------------------------------------
def _reference(kind: Any, refs: Mapping[str, Any]) -> str:
    """The row's first reference (the one a person looks a row up by): in the order its kind judged them
    (a campaign's key field first), then the kind's own order."""
    for name in (*refs, *kind.ref_fields):
        if refs.get(name) not in (None, ""):
            return str(refs[name])
    return ""


def _row_of_result(result: Mapping[str, Any]) -> tuple[int, str]:
    index = result.get("index", result.get("row"))
    status = str(result.get("status") or "")
    shown = {"SUCCESS": "created", "FAILED": "failed", "CANCELLED": "cancelled"}.get(status, status)
    return int(index if index is not None else -1), shown


def write_results_csv(deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome] | None = None) -> str:
    """``results.csv``: every row's index, reference, status and stored id, in row order.

    From ``outcomes`` (a synchronous import, whose rows are in hand) or else the import's stored
    per-row results, read page by page. A cancelled import (not a retry, whose indexes are the first
    import's) lists the rows no worker wrote as ``cancelled``.
    """
    kind = get_kind(job.kind)

    def from_outcomes() -> Iterator[list[Any]]:
        for o in outcomes or ():
            yield [o.index, _reference(kind, o.refs), o.status, kind.stored_id(o, job.tenant_id) or ""]

    def from_store() -> Iterator[list[Any]]:
        gaps = job.status == "CANCELLED" and not job.options.get("retryOf")
        expected = 0
        for _, result in stored_results(deps, job):
            index, status = _row_of_result(result)
            while gaps and expected < index:
                yield [expected, "", "cancelled", ""]
                expected += 1
            expected = max(expected, index + 1)
            refs = {k: v for k, v in result.items() if k in kind.ref_fields}
            stored = result.get("id") if status in ("created", "updated") else ""
            yield [index, _reference(kind, refs), status, stored or ""]
        while gaps and expected < job.counts.total:
            yield [expected, "", "cancelled", ""]
            expected += 1

    rows = from_outcomes() if outcomes is not None else from_store()
    return put_csv(deps, job, RESULTS, ["index", "reference", "status", "storedId"], rows)


def write_errors_csv(deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome] | None = None) -> str:
    """``errors.csv`` of an API import: each failed row's index, reference, errors and the row as sent
    (as JSON, passed through ``kind.redact``), in row order."""
    kind = get_kind(job.kind)

    def shown(raw: Any) -> str:
        return json.dumps(kind.redact(raw), default=str, ensure_ascii=False, separators=(",", ":"))

    def from_outcomes() -> Iterator[list[Any]]:
        for o in outcomes or ():
            if o.errors:
                messages = "; ".join(e.message for e in o.errors)
                yield [o.index, _reference(kind, o.refs), messages, shown(o.raw)]

    def from_store() -> Iterator[list[Any]]:
        sent = _SentRows(deps, job)
        for index, refs, messages in _error_groups(deps, job):
            yield [index, _reference(kind, refs), "; ".join(messages), shown(sent.row(index))]

    rows = from_outcomes() if outcomes is not None else from_store()
    return put_csv(deps, job, ERRORS, ["index", "reference", "errors", "row"], rows)


def write_api_results(
    deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome] | None = None
) -> dict[str, str]:
    """The result files of a finished import that came through the API, ``errors.csv`` (its header row
    alone when no row failed) and ``results.csv``; none on a deployment without a file store."""
    if deps.files is None:
        return {}
    if outcomes is None and not job.chunks_total and job.source_file is None and "results" in job.files:
        # A synchronous import wrote them from its rows in hand before it answered; its rows' results
        # are not stored one by one, so its workflow's finalization keeps them as they are.
        return {k: v for k, v in job.files.items() if k in ("results", "errors")}
    # errors.csv before results.csv: an import whose results.csv exists has its errors.csv too.
    errors = write_errors_csv(deps, job, outcomes)
    return {"errors": errors, "results": write_results_csv(deps, job, outcomes)}
