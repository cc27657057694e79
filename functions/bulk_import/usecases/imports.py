"""Use cases that are not the import pipeline itself: reading imports, the sweep of uploads (the
campaigns' are in ``campaigns``)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from bulk_import.core.errors import InvalidRequestError, NotFoundError
from bulk_import.core.model import ImportJob
from bulk_import.core.ports import Deps, ErrorPage
from bulk_import.core.tenants import Principal

log = logging.getLogger(__name__)

#: How far back the sweep looks for pending uploads it may have missed (a sweep that could not run).
SWEEP_LOOKBACK = timedelta(days=7)


def get_import(deps: Deps, principal: Principal, import_id: str) -> ImportJob:
    """One import of the caller's tenant; another tenant's id is simply not found."""
    job = deps.imports.get(principal.tenant_id, import_id)
    if job is None:
        raise NotFoundError(f"import {import_id} not found")
    return job


def import_view(deps: Deps, principal: Principal, import_id: str) -> dict[str, Any]:
    """``GET /v1/imports/{importId}``: the import, with presigned links to a file import's result files;
    ``dryRun: true`` for the import of a dry run's upload (nothing of it was stored)."""
    from bulk_import.usecases.uploads import is_dry_run

    job = get_import(deps, principal, import_id)
    if not is_dry_run(job):
        job = _with_result_files(deps, job)
    body = job.to_api()
    if job.options.get("retryOf"):
        body["retryOf"] = job.options["retryOf"]
    if is_dry_run(job):
        body["dryRun"] = True
    if job.files:
        from bulk_import.engine.files.outputs import DOWNLOAD_EXPIRES_SECONDS, download_links

        links = download_links(deps, job)
        if links:
            body["files"] = links
            body["filesExpiresIn"] = DOWNLOAD_EXPIRES_SECONDS
        else:
            body.pop("files", None)
    return body


#: Statuses an import does not leave: its result files can be written.
_FINISHED = ("DONE", "FAILED", "CANCELLED")


def _with_result_files(deps: Deps, job: ImportJob) -> ImportJob:
    """The import, with the result files of a finished import written if it has none yet.

    A synchronous import writes them before it answers, a workflow's finalization before it ends, and
    an asynchronous import without a workflow when its last chunk is accounted for: an import read here
    has them already. This heals the others (files that could not be written then, an import finished
    before every import had them); once written, reading writes nothing. Best effort: an import whose
    files cannot be written is shown without them.
    """
    if job.status not in _FINISHED or "results" in (job.files or {}) or deps.files is None:
        return job
    if job.chunks_total and job.chunks_done < job.chunks_total:
        return job  # cancelled, with chunks still to be counted as such
    from bulk_import.engine.files.outputs import write_api_results, write_results_csv

    try:
        if job.source_file is not None:
            files = {**(job.files or {}), "results": write_results_csv(deps, job)}
        else:
            files = {**(job.files or {}), **write_api_results(deps, job)}
        # Its status and when it finished stay as they were (so nothing is announced): only the links.
        deps.imports.finish(
            job.tenant_id, job.import_id, None, job.completed_at or job.updated_at, files=files
        )
        job.files = files
    except Exception:
        log.exception("import %s: its result files could not be written", job.import_id)
        return job
    return job


def list_import_errors(
    deps: Deps, principal: Principal, import_id: str, limit: int = 100, cursor: str | None = None
) -> ErrorPage:
    """A page of an import's per-row errors (``limit`` 1 to 1,000)."""
    if not 1 <= limit <= 1000:
        raise InvalidRequestError("limit: must be between 1 and 1000")
    get_import(deps, principal, import_id)
    return deps.imports.list_errors(principal.tenant_id, import_id, limit, cursor)


def sweep_abandoned_uploads(deps: Deps) -> list[str]:
    """Fail the uploads whose file never arrived, 24 hours after their URL expired; return their ids.

    Pending uploads are read by their due hour (one query per hour since ``SWEEP_LOOKBACK``), never by
    scanning the imports. An upload whose file arrived meanwhile is left alone; either way its entry is
    forgotten once handled. One upload that cannot be failed (storage refused, say) is logged and left
    for the next sweep; it never stops the others.
    """
    from bulk_import.usecases.uploads import fail_abandoned_upload

    now = deps.clock.now()
    failed: list[str] = []
    for upload in deps.imports.due_uploads(now, now - SWEEP_LOOKBACK):
        try:
            job = deps.imports.get(upload.tenant_id, upload.import_id)
            if job is not None and fail_abandoned_upload(deps, job):
                failed.append(job.import_id)
            deps.imports.remove_pending_upload(upload)
        except Exception:
            log.exception("upload %s of tenant %s: not swept", upload.import_id, upload.tenant_id)
    return failed
