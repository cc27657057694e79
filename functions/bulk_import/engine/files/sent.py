"""The rows of an import as they were sent, read back: the failed rows a retry imports again, the
stored errors in row order, and a file import's file opened again at the version imported."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import IO, Any

from bulk_import.core.model import ImportJob
from bulk_import.core.ports import Deps, payload_key
from bulk_import.engine.files.results import grouped_errors
from bulk_import.engine.files.rows import FileReader
from bulk_import.kinds import get_kind

log = logging.getLogger(__name__)

#: Per-row errors read per page.
ERROR_PAGE_ROWS = 250


def source_opener(deps: Deps, source: Mapping[str, Any]) -> Any:
    """A function that opens the imported file again, pinned to the version (or ETag) imported."""
    files = deps.files
    assert files is not None

    def open_file() -> IO[bytes]:
        return files.open(str(source["key"]), version=source.get("version"), etag=source.get("etag"))

    return open_file


def error_entries(deps: Deps, job: ImportJob) -> Iterator[dict[str, Any]]:
    """An import's stored per-row errors, in row order, a page at a time."""
    cursor: str | None = None
    while True:
        page = deps.imports.list_errors(job.tenant_id, job.import_id, ERROR_PAGE_ROWS, cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


# -- the failed rows of an import, as sent (retries) ---------------------------------------------------
#: The payload of a synchronous import's failed rows as sent: ``[{"index", "row"}]``, kept for retries.
FAILED_ROWS = "failed-rows.json"
#: The payload of an asynchronous import's request (``jobs.start_async_import``).
REQUEST = "request.json"
#: Key of a retry's request payload holding each row's index in the import it retries.
INDEXES_FIELD = "_indexes"


def failed_indexes(deps: Deps, job: ImportJob) -> list[int]:
    """The indexes of an import's failed rows, in row order, read page by page from its stored errors."""
    return [index for index, _ in grouped_errors(error_entries(deps, job))]


def failed_rows(deps: Deps, job: ImportJob, indexes: list[int]) -> list[tuple[int, Any]]:
    """The rows at ``indexes`` as they were sent, as ``(index, row)`` in row order.

    A file import's rows are read again from its file (as its import read them); an asynchronous API
    import's from its stored request; a synchronous one's from the failed rows it kept. Rows no longer
    kept are left out.
    """
    wanted = set(indexes)
    if job.source_file is not None:
        if deps.files is None:
            return []
        source = job.source_file
        reader = FileReader(
            source_opener(deps, source),
            str(source.get("format")),
            get_kind(job.kind),
            encoding=source.get("encoding"),
            delimiter=source.get("delimiter"),
        )
        return [(r.index, r.record) for r in reader.rows() if r.index in wanted]
    if deps.payloads is None:
        return []
    if job.chunks_total:
        try:
            request = deps.payloads.get_json(payload_key(job.tenant_id, job.import_id, REQUEST))
        except Exception:
            log.exception("import %s: its request could not be read", job.import_id)
            return []
        rows = request.get(get_kind(job.kind).records_field) or []
        positions = request.get(INDEXES_FIELD) or range(len(rows))
        return [(i, row) for i, row in zip(positions, rows, strict=False) if i in wanted]
    try:
        kept = deps.payloads.get_json(payload_key(job.tenant_id, job.import_id, FAILED_ROWS))
    except Exception:
        log.warning("import %s: no failed rows kept", job.import_id)
        return []
    return [(int(e["index"]), e["row"]) for e in kept if int(e["index"]) in wanted]
