"""Result files of an import under ``results/{tenantId}/{importId}/``: a file import's ``summary.json``
and ``errors.csv`` (the file's own rows), an API import's ``errors.csv`` (rows as sent, as JSON), and
every import's ``results.csv``; presigned links to them for the import's view; and the failed rows of
an import as sent, for its retry. ``results.csv`` and an API import's ``errors.csv`` are written by
``row_files`` (re-exported here)."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any

from bulk_import.core.model import ImportJob
from bulk_import.core.ports import Deps
from bulk_import.engine.files.columns import FieldMap, Layout
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.results import (
    ERRORS,
    SUMMARY,
    ErrorReport,
    grouped_errors,
    new_spool,
    report_header,
    result_key,
    summary,
    write_report,
)
from bulk_import.engine.files.row_files import RESULTS as RESULTS
from bulk_import.engine.files.row_files import write_api_results as write_api_results
from bulk_import.engine.files.row_files import write_errors_csv as write_errors_csv
from bulk_import.engine.files.row_files import write_results_csv as write_results_csv
from bulk_import.engine.files.rows import FileReader

# The rows of an import as sent live in ``sent``; re-exported for the callers of this module.
from bulk_import.engine.files.sent import FAILED_ROWS as FAILED_ROWS
from bulk_import.engine.files.sent import INDEXES_FIELD as INDEXES_FIELD
from bulk_import.engine.files.sent import REQUEST as REQUEST
from bulk_import.engine.files.sent import error_entries
from bulk_import.engine.files.sent import failed_indexes as failed_indexes
from bulk_import.engine.files.sent import failed_rows as failed_rows
from bulk_import.engine.files.sent import source_opener as source_opener
from bulk_import.kinds import get_kind

log = logging.getLogger(__name__)

#: Lifetime of the presigned links to result files, in seconds.
DOWNLOAD_EXPIRES_SECONDS = 3600


# -- result files --------------------------------------------------------------------------------------
def _put_text(
    deps: Deps, job: ImportJob, name: str, content_type: str, write: Callable[[IO[str]], Any], encoding: str
) -> str:
    """Store one small text result file of ``job``, written by ``write``; return its object key."""
    assert deps.files is not None
    spool, text = new_spool(encoding)
    with spool:
        write(text)
        text.flush()
        text.detach()
        spool.seek(0)
        key = result_key(job.tenant_id, job.import_id, name)
        deps.files.put(key, spool, content_type)
    return key


def put_summary(deps: Deps, job: ImportJob, body: dict[str, Any]) -> dict[str, str]:
    def write(text: IO[str]) -> None:
        json.dump(body, text, default=str, ensure_ascii=False, indent=2)

    return {"summary": _put_text(deps, job, SUMMARY, "application/json", write, "utf-8")}


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
            write_report(report, reader.rows(), grouped_errors(error_entries(deps, job)))
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
    # A cancel that came while the files were written stands (the repository keeps the import
    # CANCELLED): the summary says so.
    status = "CANCELLED" if job.status == "CANCELLED" else "DONE"
    files.update(
        put_summary(deps, job, summary(job, status=status, error_rows=error_rows, warnings=warnings))
    )
    return files


def _put_unread_errors(deps: Deps, job: ImportJob) -> dict[str, str]:
    """``errors.csv`` of a file import that failed before any row was imported: its header row alone (the
    file's columns when they were read), as every finished import links one."""
    source = job.source_file or {}

    def write(text: IO[str]) -> None:
        csv.writer(text, delimiter=source.get("delimiter") or ",", lineterminator="\r\n").writerow(
            report_header(source.get("columns"))
        )

    # UTF-8 with a BOM, as every errors.csv (what Excel needs to read a CSV's accents right).
    return {"errors": _put_text(deps, job, ERRORS, "text/csv; charset=utf-8", write, "utf-8-sig")}


def put_failure_files(deps: Deps, job: ImportJob) -> dict[str, str]:
    """``errors.csv`` (its header row alone) and ``summary.json`` of a file import that failed before any of
    its rows was imported."""
    return {**_put_unread_errors(deps, job), **put_summary(deps, job, summary(job, status="FAILED"))}


def put_results_of_failure(deps: Deps, job: ImportJob) -> dict[str, str]:
    files = put_failure_files(deps, job)
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
