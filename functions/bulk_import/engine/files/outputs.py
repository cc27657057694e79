"""Result files of an import under ``results/{tenantId}/{importId}/``: a file import's ``summary.json``
and ``errors.csv`` (the file's own rows), an API import's ``errors.csv`` (rows as sent, as JSON), and
every import's ``results.csv``; presigned links to them for the import's view; and the failed rows of
an import as sent, for its retry."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import IO, Any

from bulk_import.core.model import ImportJob, RowOutcome
from bulk_import.core.ports import Deps
from bulk_import.engine.files.columns import FieldMap, Layout
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.results import (
    ERRORS,
    SUMMARY,
    ErrorReport,
    escape_cell,
    grouped_errors,
    new_spool,
    result_key,
    summary,
    write_report,
)
from bulk_import.engine.files.rows import FileReader
from bulk_import.kinds import get_kind

log = logging.getLogger(__name__)

#: Lifetime of the presigned links to result files, in seconds.
DOWNLOAD_EXPIRES_SECONDS = 3600


# -- result files --------------------------------------------------------------------------------------
def source_opener(deps: Deps, source: Mapping[str, Any]) -> Any:
    """A function that opens the imported file again, pinned to the version (or ETag) imported."""
    files = deps.files
    assert files is not None

    def open_file() -> IO[bytes]:
        return files.open(str(source["key"]), version=source.get("version"), etag=source.get("etag"))

    return open_file


def put_summary(deps: Deps, job: ImportJob, body: dict[str, Any]) -> dict[str, str]:
    assert deps.files is not None
    spool, text = new_spool("utf-8")
    with spool:
        json.dump(body, text, default=str, ensure_ascii=False, indent=2)
        text.flush()
        text.detach()
        spool.seek(0)
        key = result_key(job.tenant_id, job.import_id, SUMMARY)
        deps.files.put(key, spool, "application/json")
    return {"summary": key}


def _error_entries(deps: Deps, job: ImportJob) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        page = deps.imports.list_errors(job.tenant_id, job.import_id, 1000, cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def write_results(deps: Deps, job: ImportJob, now: datetime) -> dict[str, str]:
    """Write ``errors.csv`` and ``summary.json`` of a file import whose rows are all accounted for.

    The file is read again (pinned to the version imported) alongside the import's stored errors. If it
    was replaced or deleted meanwhile, the summary says ``errors.csv`` could not be written.

    Returns
    -------
    dict[str, str]
        ``{"summary": key, "errors": key}``: the object keys of the result files.
    """
    from bulk_import.core.errors import FileChangedError

    assert deps.files is not None
    source = job.source_file or {}
    kind = get_kind(job.kind)
    files: dict[str, str] = {}
    warnings: list[str] = []
    error_rows: int | None = None
    columns = source.get("columns")
    mapped = dict(Layout.of(columns, FieldMap.of(kind)).mapped) if columns else {}
    reader = FileReader(
        source_opener(deps, source),
        str(source.get("format")),
        kind,
        encoding=source.get("encoding"),
        delimiter=source.get("delimiter"),
    )
    spool, text = new_spool()
    with spool:
        report = ErrorReport(text, kind, columns, mapped, delimiter=source.get("delimiter") or ",")
        try:
            write_report(report, reader.rows(), grouped_errors(_error_entries(deps, job)))
        except (FileChangedError, FileFormatError) as exc:
            warnings.append(f"errors.csv was not written: the file could not be read again ({exc})")
        else:
            text.flush()
            text.detach()
            spool.seek(0)
            key = result_key(job.tenant_id, job.import_id, ERRORS)
            deps.files.put(key, spool, "text/csv; charset=utf-8")
            files["errors"] = key
            error_rows = report.rows
    job.completed_at = now
    files.update(
        put_summary(deps, job, summary(job, status="DONE", error_rows=error_rows, warnings=warnings))
    )
    return files


def put_results_of_failure(deps: Deps, job: ImportJob) -> dict[str, str]:
    files = put_summary(deps, job, summary(job, status="FAILED"))
    try:
        deps.imports.finish(
            job.tenant_id, job.import_id, "FAILED", deps.clock.now(), error=job.error, files=files
        )
    except Exception:
        log.exception("import %s: could not record its summary", job.import_id)
    return files


def write_failure_summary(deps: Deps, job: ImportJob, reason: str) -> dict[str, str]:
    """``summary.json`` of a file import that failed after it started (a workflow step failed for good)."""
    job.status, job.error = "FAILED", reason
    job.completed_at = deps.clock.now()
    return put_summary(deps, job, summary(job, status="FAILED"))


def download_links(deps: Deps, job: ImportJob) -> dict[str, str]:
    """Presigned GET URLs of an import's result files (``GET /v1/imports/{id}``)."""
    if deps.files is None or not job.files:
        return {}
    stem = str((job.source_file or {}).get("name") or job.import_id).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    names = {
        "summary": f"{stem}.summary.json",
        "errors": f"{stem}.errors.csv",
        "results": f"{stem}.results.csv",
    }
    return {
        name: deps.files.download_url(key, DOWNLOAD_EXPIRES_SECONDS, names.get(name))
        for name, key in sorted(job.files.items())
    }


# -- the failed rows of an import, as sent (retries) ---------------------------------------------------
#: The payload of a synchronous import's failed rows as sent: ``[{"index", "row"}]``, kept for retries.
FAILED_ROWS = "failed-rows.json"
#: The payload of an asynchronous import's request (``jobs.start_async_import``).
REQUEST = "request.json"
#: Key of a retry's request payload holding each row's index in the import it retries.
INDEXES_FIELD = "_indexes"


def failed_indexes(deps: Deps, job: ImportJob) -> list[int]:
    """The indexes of an import's failed rows, in row order, read page by page from its stored errors."""
    return [index for index, _ in grouped_errors(_error_entries(deps, job))]


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
    from bulk_import.core.ports import payload_key

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


# -- result files of every import: errors.csv (API imports) and results.csv ----------------------------
#: Object name of an import's per-row results.
RESULTS = "results.csv"
_RESULT_PAGE = 1000


def _reference(kind: Any, refs: Mapping[str, Any]) -> str:
    """The row's first reference in the kind's order (the one a person looks a row up by)."""
    for name in (*kind.ref_fields, *refs):
        if refs.get(name) not in (None, ""):
            return str(refs[name])
    return ""


def _row_of_result(result: Mapping[str, Any]) -> tuple[int, str]:
    index = result.get("index", result.get("row"))
    status = str(result.get("status") or "")
    return int(index if index is not None else -1), {"SUCCESS": "created", "FAILED": "failed"}.get(
        status, status
    )


def _stored_results(deps: Deps, job: ImportJob) -> Iterator[tuple[int, dict[str, Any]]]:
    after: int | None = None
    while True:
        page = deps.imports.list_results_page(job.tenant_id, job.import_id, _RESULT_PAGE, after)
        yield from page.rows
        if not page.more or not page.rows:
            return
        after = page.rows[-1][0]


def _put_csv(deps: Deps, job: ImportJob, name: str, header: list[str], rows: Iterator[list[Any]]) -> str:
    import csv

    assert deps.files is not None
    spool, text = new_spool()
    with spool:
        writer = csv.writer(text)
        writer.writerow(header)
        for row in rows:
            writer.writerow([escape_cell(v) for v in row])
        text.flush()
        text.detach()
        spool.seek(0)
        key = result_key(job.tenant_id, job.import_id, name)
        deps.files.put(key, spool, "text/csv; charset=utf-8")
    return key


def write_results_csv(deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome] | None = None) -> str:
    """``results.csv``: every row's index, reference, status and stored id, in row order.

    From ``outcomes`` (a synchronous import, whose rows are in hand) or else the import's stored
    per-row results, read page by page.
    """
    kind = get_kind(job.kind)

    def from_outcomes() -> Iterator[list[Any]]:
        for o in outcomes or ():
            yield [o.index, _reference(kind, o.refs), o.status, o.key if o.record is not None else ""]

    def from_store() -> Iterator[list[Any]]:
        for _, result in _stored_results(deps, job):
            index, status = _row_of_result(result)
            refs = {k: v for k, v in result.items() if k in kind.ref_fields or k == "id"}
            stored = result.get("id") if status in ("created", "updated") else ""
            yield [index, _reference(kind, refs), status, stored or ""]

    rows = from_outcomes() if outcomes is not None else from_store()
    return _put_csv(deps, job, RESULTS, ["index", "reference", "status", "storedId"], rows)


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
        # The stored errors, grouped by row, beside the failed rows as sent (read in one go: an API
        # request's rows, within its body limit).
        groups = list(_error_groups(deps, job))
        raws = dict(failed_rows(deps, job, [g[0] for g in groups]))
        for index, refs, messages in groups:
            yield [index, _reference(kind, refs), "; ".join(messages), shown(raws.get(index))]

    rows = from_outcomes() if outcomes is not None else from_store()
    return _put_csv(deps, job, ERRORS, ["index", "reference", "errors", "row"], rows)


def _error_groups(deps: Deps, job: ImportJob) -> Iterator[tuple[int, dict[str, Any], list[str]]]:
    current: tuple[int, dict[str, Any], list[str]] | None = None
    for entry in _error_entries(deps, job):
        index = int(entry["index"])
        if current is None or current[0] != index:
            if current is not None:
                yield current
            refs = {k: v for k, v in entry.items() if k not in ("index", "field", "message")}
            current = (index, refs, [])
        current[2].append(str(entry.get("message", "")))
    if current is not None:
        yield current


def write_api_results(
    deps: Deps, job: ImportJob, outcomes: Sequence[RowOutcome] | None = None
) -> dict[str, str]:
    """The result files of a finished import that came through the API (``errors.csv``, when a row
    failed, and ``results.csv``); none on a deployment without a file store."""
    if deps.files is None:
        return {}
    files = {"results": write_results_csv(deps, job, outcomes)}
    if job.counts.failed:
        files["errors"] = write_errors_csv(deps, job, outcomes)
    return files
