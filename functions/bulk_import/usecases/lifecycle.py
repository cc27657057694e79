"""The life of an import after it was sent: the tenant's list of its imports, cancelling one, and
retrying the failed rows of a finished one.

The list reads a per-tenant listing (one small item per import, written when the import is first
saved), newest first; its cursors carry the position sealed with a digest of it and of the tenant they
were made for, so a cursor handed to another tenant's key, or edited, is refused rather than read.
Imports saved before the listing existed have no listing item and are not listed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any, cast

from bulk_import.core.errors import ConflictError, FileChangedError, ForbiddenError, InvalidRequestError
from bulk_import.core.model import ImportJob
from bulk_import.core.ports import Deps, ImportRepository
from bulk_import.core.tenants import Principal
from bulk_import.engine.files.outputs import failed_indexes, failed_rows
from bulk_import.engine.jobs import finish_import, start_async_import
from bulk_import.engine.paging import open_cursor, seal_cursor
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.rules.strings import spelled_as
from bulk_import.usecases.imports import get_import, import_view
from bulk_import.usecases.uploads import is_dry_run

log = logging.getLogger(__name__)

#: Imports per page of ``GET /v1/imports``: the default and the most.
DEFAULT_LIST_LIMIT = 20
MAX_LIST_LIMIT = 100
#: The statuses an import can have, the ones a list may be filtered on.
STATUSES = ("QUEUED", "PROCESSING", "DONE", "FAILED", "CANCELLED")
#: Statuses a cancel stops; any other answers 409.
CANCELLABLE = ("QUEUED", "PROCESSING")
_BAD_CURSOR = "cursor: not a cursor this API returned for this tenant"


@dataclass(frozen=True)
class ImportsPage:
    """One page of the tenant's imports (each in the shape of the import's own view) and the next cursor."""

    imports: list[dict[str, Any]]
    next_cursor: str | None


def list_imports(
    deps: Deps,
    principal: Principal,
    *,
    kind: str | None = None,
    status: str | None = None,
    limit: int = DEFAULT_LIST_LIMIT,
    cursor: str | None = None,
) -> ImportsPage:
    """``GET /v1/imports``: the caller's imports, newest first, filtered on ``kind`` and ``status``
    (empty or blank: no filter).

    Raises
    ------
    InvalidRequestError
        ``limit`` outside 1..100, an unknown kind or status, or a cursor that is not this tenant's.
    """
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise InvalidRequestError(f"limit: must be between 1 and {MAX_LIST_LIMIT}")
    # An empty filter is no filter: forms and generated clients send every parameter (``?kind=&status=``).
    kind = _spelled(kind, REGISTRY)
    status = _spelled(status, STATUSES)
    if kind is not None and kind not in REGISTRY:
        raise InvalidRequestError(f"kind: must be one of {', '.join(sorted(REGISTRY))}")
    if status is not None and status not in STATUSES:
        raise InvalidRequestError(f"status: must be one of {', '.join(STATUSES)}")
    after = decode_cursor(cursor, principal.tenant_id) if cursor else None
    jobs, position = deps.imports.list_page(principal.tenant_id, limit, after, kind, status)
    # The view of each import is the one its own route answers, built from the import just read.
    read = _Read(deps.imports, {j.import_id: j for j in jobs})
    views = replace(deps, imports=cast(ImportRepository, read))
    imports = [import_view(views, principal, j.import_id) for j in jobs]
    next_cursor = encode_cursor(position, principal.tenant_id) if position else None
    return ImportsPage(imports=imports, next_cursor=next_cursor)


def cancel_import(deps: Deps, principal: Principal, import_id: str) -> dict[str, Any]:
    """``POST /v1/imports/{importId}/cancel``: stop a QUEUED or PROCESSING import; return its view.

    The import becomes CANCELLED at once. Chunks a worker has not reached are not written and their rows
    count as cancelled; a chunk being written completes. A workflow waiting on the import's insertion
    is let go, and requests no call after the cancel.

    Raises
    ------
    NotFoundError
        No such import of the caller's tenant.
    AuthorizationError
        The key lacks the write scope of the import's kind.
    ConflictError
        The import is DONE, FAILED or CANCELLED already.
    """
    job = get_import(deps, principal, import_id)
    _require_write_scope(principal, job)
    cancelled = deps.imports.cancel(principal.tenant_id, import_id, deps.clock.now())
    if cancelled is None:
        now = get_import(deps, principal, import_id)
        raise ConflictError(
            f"import {import_id} is {now.status}: only a QUEUED or PROCESSING import can be cancelled"
        )
    _release_workflow(deps, cancelled)
    if cancelled.chunks_total == 0 and cancelled.execution_id is None:
        # Nothing of it will ever reach a worker or a workflow (an upload still waiting for its file):
        # its result files are written now, as any import's are when it finishes.
        finish_import(deps, cancelled)
    return import_view(deps, principal, import_id)


def retry_import(deps: Deps, principal: Principal, import_id: str) -> dict[str, Any]:
    """``POST /v1/imports/{importId}/retry``: a new import of a finished import's failed rows.

    The rows are imported as they were sent, with the original's options, against the tenant's
    configuration of today; each keeps its index in the original import. A synchronous kind's retry
    runs inline (finished when this answers), an asynchronous kind's or a file's through the chunk
    queue. Answers ``{importId, retryOf, total}``.

    Raises
    ------
    NotFoundError, AuthorizationError
        As ``cancel_import``: another tenant's import, or a key without the kind's scope.
    ConflictError
        The import is QUEUED or PROCESSING, is a dry run (it stored nothing), or has no failed row.
    """
    job = get_import(deps, principal, import_id)
    _require_write_scope(principal, job)
    if job.status in CANCELLABLE:
        raise ConflictError(f"import {import_id} is {job.status}: only a finished import can be retried")
    if job.status == "CANCELLED" and job.chunks_done < job.chunks_total:
        # Cancelled with chunks queued: the workers are still counting them (the chunk being written
        # when the cancel came may add failed rows), so its failed rows are not all known yet.
        raise ConflictError(
            f"import {import_id} was cancelled and its queued chunks are still being counted "
            f"({job.chunks_done} of {job.chunks_total}); retry it in a moment"
        )
    if is_dry_run(job):
        # Its rows, failed or not, were never stored: retrying the failed ones alone for real would
        # store part of a file its sender only meant to check.
        raise ConflictError(
            f"import {import_id} is a dry run: nothing of it was stored, so it has no failed row to retry; "
            "upload the file again (with dryRun to check it once more)"
        )
    indexes = failed_indexes(deps, job) if job.counts.failed else []
    if not indexes:
        raise ConflictError(f"import {import_id} has no failed row to retry")
    kind = get_kind(job.kind)
    try:
        rows = failed_rows(deps, job, indexes)
    except FileChangedError as exc:
        # A file import's rows are read again from its file, pinned to the version imported.
        raise ConflictError(
            f"import {import_id}: its failed rows cannot be read again, {exc}; upload the file again"
        ) from None
    if not rows:
        raise ConflictError(f"import {import_id}: its failed rows as sent are no longer kept")
    request = {**{k: v for k, v in (job.options or {}).items() if k != "retryOf"}, "retryOf": import_id}
    if kind.mode == "async" or job.source_file is not None:
        retry = start_async_import(
            kind,
            request,
            [raw for _, raw in rows],
            principal,
            deps,
            max_records=len(rows),
            indexes=[index for index, _ in rows],
        )
    else:
        from bulk_import.usecases.sync_imports import run_inline_import

        indexes = [index for index, _ in rows]
        retry = run_inline_import(
            kind, request, [raw for _, raw in rows], principal, deps, indexes=indexes
        ).job
    return {"importId": retry.import_id, "retryOf": import_id, "total": retry.counts.total}


def _require_write_scope(principal: Principal, job: ImportJob) -> None:
    """The key may cancel or retry the import: it has the write scope of the import's kind.

    A file dropped in a folder that names no kind (``incoming/acme/dettes/``) made an import of that name,
    FAILED when it was read, with no row: any kind's write scope may ask for it (and is told it is over).
    """
    if job.kind in REGISTRY:
        principal.require(get_kind(job.kind).scope)
        return
    scopes = sorted({get_kind(name).scope for name in REGISTRY})
    if not principal.scopes.intersection(scopes):
        raise ForbiddenError(
            f"this API key lacks a write scope ({', '.join(scopes)}) for import {job.import_id}"
        )


def _release_workflow(deps: Deps, job: ImportJob) -> None:
    # The insertion stage waits for every chunk, and a cancelled import's chunks never complete it:
    # resumed now, the workflow finds the import cancelled and ends without a call. Without a token
    # yet, the insertion stage resumes itself when it stores one (``workflow.await_insertion``).
    if not job.has_follow_up or not job.task_token or job.inserted_at is not None or deps.workflow is None:
        return
    try:
        deps.workflow.resume(job.task_token, {"inserted": job.counts.succeeded})
    except Exception:
        log.exception("import %s: its workflow could not be resumed after the cancel", job.import_id)


def encode_cursor(position: str, tenant_id: str) -> str:
    """The opaque cursor of the list page after ``position``, for ``tenant_id`` only."""
    return seal_cursor(("imports-list", tenant_id), position)


def decode_cursor(cursor: str, tenant_id: str) -> str:
    """The position of a cursor ``encode_cursor`` made for this tenant; anything else is refused."""
    try:
        position = open_cursor(("imports-list", tenant_id), cursor)
    except ValueError:
        raise InvalidRequestError(_BAD_CURSOR) from None
    if not isinstance(position, str) or not 0 < len(position) <= 500:
        raise InvalidRequestError(_BAD_CURSOR)
    return position


class _Read:
    """The import repository, with the imports a list page read already served without reading again."""

    def __init__(self, imports: ImportRepository, read: dict[str, ImportJob]) -> None:
        self._imports = imports
        self._read = read

    def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
        job = self._read.get(import_id)
        return job if job is not None else self._imports.get(tenant_id, import_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._imports, name)


def _spelled(value: str | None, allowed: Iterable[str]) -> str | None:
    """A filter as the list spells it (``DEBTS`` is ``debts``, ``done`` is ``DONE``, as the bodies read a
    kind), None when empty; a value naming nothing is left for the caller's check to refuse."""
    text = (value or "").strip()
    if not text:
        return None
    return spelled_as(text, allowed) or text
