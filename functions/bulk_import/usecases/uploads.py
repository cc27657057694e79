"""Uploads: an import waiting for its file, a presigned URL to PUT it to, and the sweep that fails uploads
whose file never came."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from bulk_import.core.errors import BulkImportError, InvalidRequestError, NotFoundError
from bulk_import.core.model import ImportJob
from bulk_import.core.ports import Deps, PendingUpload
from bulk_import.core.tenants import Principal
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.options import (
    INCOMING,
    safe_name,
    upload_options,
    with_option_names,
)
from bulk_import.engine.files.outputs import (
    write_failure_summary,
)
from bulk_import.engine.files.readers import file_format
from bulk_import.engine.pipeline import check_follow_up, load_tenant
from bulk_import.kinds import get_kind
from bulk_import.usecases.sync_imports import check_stored_options

#: How long presigned upload and download URLs stay valid.
UPLOAD_EXPIRES_SECONDS = 3600

log = logging.getLogger(__name__)

#: The option that marks an upload's import as a dry run (kept in the import's options).
DRY_RUN = "dryRun"

#: How long after its upload URL expired an upload without a file is failed ("no file was uploaded").
ABANDONED_UPLOAD_GRACE = timedelta(hours=24)


# -- uploads -------------------------------------------------------------------------------------------
def create_upload(
    deps: Deps,
    principal: Principal,
    kind_name: str,
    filename: str,
    options: Mapping[str, Any],
    dry_run: bool = False,
) -> dict[str, Any]:
    """``POST /v1/imports/uploads``: an import waiting for its file, and a presigned URL to PUT it to.

    The options are checked now (400/404 before any upload). The file, once uploaded, is imported with
    these options by the file-drop handler, like any dropped file; until then the import is ``QUEUED``
    with ``file.awaitingUpload``.

    ``dry_run`` (the body's ``"dryRun": true``; also read from ``options["dryRun"]``, where the request
    model puts it): the file is read and validated with the same rules and look-ups once it arrives, and
    nothing is stored, no chunk sent and no call requested; the import ends ``DONE`` with its counts and
    result files, and its view says ``dryRun: true``. The mark is kept in the import's options.

    Raises
    ------
    InvalidRequestError, NotFoundError, ForbiddenError, NotAvailableError
        Unknown kind (400), a name without a supported extension, options the kind rejects; the key
        lacks the kind's scope (403); no file store on this deployment (501).
    """
    try:
        kind = get_kind(kind_name)
    except NotFoundError as exc:
        raise InvalidRequestError(f"kind: {exc.message}") from None
    principal.require(kind.scope)
    if deps.files is None or deps.workflow is None:
        from bulk_import.core.errors import NotAvailableError

        raise NotAvailableError("file imports are not configured on this deployment")
    tenant = load_tenant(deps.tenants, principal)
    name = safe_name(filename)
    try:
        fmt = file_format(name)
    except FileFormatError as exc:
        raise InvalidRequestError(f"filename: {exc.message}") from None
    options = dict(options)
    flag = options.pop(DRY_RUN, False)
    if not isinstance(flag, bool):
        raise InvalidRequestError("dryRun: must be true or false")
    dry_run = dry_run or flag
    request = upload_options(kind, options)
    now = deps.clock.now()
    try:
        checked = kind.options(request, tenant, now)
    except BulkImportError as exc:
        if not (fmt == "json" and _may_come_from_the_body(exc)):
            # The kind names its request fields (campaignId); the caller may have used the option names.
            message = with_option_names(kind, exc.message, noun="option")
            raise type(exc)(message, {**exc.details, "errors": [message]}) from None
        # A JSON file may be the kind's request body, which names its own options: the file's import
        # checks them once it is read, and fails with the reason if the body does not have them either.
        checked = None
    check_stored_options(request)
    if checked is not None:
        check_follow_up(kind, checked, deps)
    if dry_run:
        request[DRY_RUN] = True
    import_id = deps.new_id()
    key = f"{INCOMING}/{tenant.tenant_id}/{kind.name}/{import_id}-{name}"
    job = ImportJob(
        import_id=import_id,
        tenant_id=tenant.tenant_id,
        kind=kind.name,
        source="upload",
        status="QUEUED",
        created_at=now,
        updated_at=now,
        options=request,
        source_file={"key": key, "name": name, "format": fmt, "awaitingUpload": True},
    )
    deps.imports.save(job)
    deps.imports.add_pending_upload(PendingUpload(tenant.tenant_id, import_id, upload_due(now)))
    answer: dict[str, Any] = {
        "importId": import_id,
        "status": job.status,
        "uploadUrl": deps.files.upload_url(key, UPLOAD_EXPIRES_SECONDS),
        "method": "PUT",
        "key": key,
        "expiresIn": UPLOAD_EXPIRES_SECONDS,
    }
    if dry_run:
        answer[DRY_RUN] = True
    return answer


def _may_come_from_the_body(exc: BulkImportError) -> bool:
    """Whether the options' problem is only one missing, which a JSON body may give."""
    return isinstance(exc, InvalidRequestError) and exc.message.endswith(": is required")


def is_dry_run(job: ImportJob) -> bool:
    """True for the import of an upload created with ``"dryRun": true``."""
    return job.source == "upload" and job.options.get(DRY_RUN) is True


def upload_due(created_at: datetime) -> datetime:
    """When an upload created at ``created_at`` fails if its file has not arrived."""
    return created_at + timedelta(seconds=UPLOAD_EXPIRES_SECONDS) + ABANDONED_UPLOAD_GRACE


def fail_abandoned_upload(deps: Deps, job: ImportJob) -> bool:
    """Fail an upload's import whose file never arrived; False when it is not waiting for a file.

    The import ends FAILED with "no file was uploaded" and a ``summary.json`` that says so.
    """
    source = job.source_file or {}
    if job.source != "upload" or job.status != "QUEUED" or not source.get("awaitingUpload"):
        return False
    expired = job.created_at + timedelta(seconds=UPLOAD_EXPIRES_SECONDS)
    reason = f"no file was uploaded (the upload URL expired at {expired.isoformat().replace('+00:00', 'Z')})"
    files = write_failure_summary(deps, job, reason)
    deps.imports.finish(job.tenant_id, job.import_id, "FAILED", deps.clock.now(), error=reason, files=files)
    log.info("upload %s of tenant %s failed: %s", job.import_id, job.tenant_id, reason)
    return True
