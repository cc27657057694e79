"""The routes of imports as such, whatever their kind: uploads, one import, its errors, the list, cancel and
retry. Registered on the one resolver when ``api`` imports this module."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from bulk_import.entrypoints import apidoc
from bulk_import.entrypoints.lazy import lazy_attributes
from bulk_import.entrypoints.resolver import (
    Body,
    Path,
    Query,
    Response,
    app,
    caller,
    json_response,
    logger,
    principal,
)
from bulk_import.entrypoints.runtime import DEPS

if TYPE_CHECKING:
    from bulk_import.entrypoints import bodies

#: The request models the routes' annotations name: imported, with pydantic, by their first request.
__getattr__ = lazy_attributes(bodies="bulk_import.entrypoints.bodies")


@app.post(
    "/v1/imports/uploads",
    tags=["Imports"],
    summary="Start a file import: get a URL to upload the file to",
    **apidoc.route_doc({201: "UploadCreated", **apidoc.errors(404, 501)}),
)
def create_upload(
    body: Annotated[bodies.UploadRequest, Body()],
    dryRun: apidoc.UPLOAD_DRY_RUN = None,  # noqa: N803
) -> Response[Any]:
    """An import waiting for its file, and a presigned URL to PUT the file to (valid ``expiresIn`` seconds).

    Needs the kind's scope. Send the file's bytes with ``PUT uploadUrl`` (no other header needed): it is
    imported like a file dropped in the bucket, with the options given here, and
    ``GET /v1/imports/{importId}`` follows it (``file.awaitingUpload`` until the file arrives).
    ``dryRun=true`` (in the query, as on the import routes, or ``"dryRun": true`` in the body): the file
    is validated when it arrives and nothing is stored.
    """
    from bulk_import.usecases.dry_runs import dry_run_flag
    from bulk_import.usecases.uploads import create_upload as create

    who = principal()
    logger.append_keys(tenant_id=who.tenant_id)
    dry = dry_run_flag(dryRun) or body.dryRun
    return json_response(201, create(DEPS.get(), who, body.kind, body.filename, body.options, dry))


_IMPORT_ID = Annotated[str, Path(description="The importId an import request answered with.")]


@app.get(
    "/v1/imports/<importId>",
    tags=["Imports"],
    summary="Read an import",
    **apidoc.route_doc({200: "ImportView", **apidoc.errors(404)}),
)
def get_import(importId: _IMPORT_ID) -> Response[Any]:  # noqa: N803
    """Kind, status, counts, timestamps and call state of an import; for file imports, the file and
    presigned links to its result files (``files.summary``, ``files.errors``, valid ``filesExpiresIn`` s)."""
    who = caller("imports:read")
    from bulk_import.usecases import imports as usecases

    return json_response(200, usecases.import_view(DEPS.get(), who, importId))


@app.get(
    "/v1/imports/<importId>/errors",
    tags=["Imports"],
    summary="Page through an import's row errors",
    **apidoc.route_doc({200: "ImportErrorsPage", **apidoc.errors(404)}),
)
def get_import_errors(
    importId: _IMPORT_ID,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=1000, description="Errors per page, 1 to 1000.")] = 100,
    cursor: Annotated[str | None, Query(description="The nextCursor of the previous page.")] = None,
) -> Response[Any]:
    """Per-row errors in row order; pass ``nextCursor`` back as ``cursor`` for the next page."""
    who = caller("imports:read")
    from bulk_import.usecases import imports as usecases

    page = usecases.list_import_errors(DEPS.get(), who, importId, limit, cursor)
    return json_response(200, {"importId": importId, "errors": page.items, "nextCursor": page.next_cursor})


@app.get(
    "/v1/imports",
    tags=["Imports"],
    summary="List the tenant's imports",
    **apidoc.route_doc({200: "ImportsPage"}),
)
def list_imports(
    kind: Annotated[str | None, Query(description="Only imports of this kind.")] = None,
    status: Annotated[
        str | None,
        Query(description="Only imports in this status: QUEUED, PROCESSING, DONE, FAILED, CANCELLED."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Imports per page, 1 to 100.")] = 20,
    cursor: Annotated[str | None, Query(description="The nextCursor of the previous page.")] = None,
) -> Response[Any]:
    """The tenant's imports, newest first, each as ``GET /v1/imports/{importId}`` shows it; pass
    ``nextCursor`` back as ``cursor`` for the next page (a cursor is good for its tenant only).
    Imports created before this listing existed are not listed."""
    from bulk_import.usecases import lifecycle  # the list's use case, with the routes that need it

    who = caller("imports:read")
    page = lifecycle.list_imports(DEPS.get(), who, kind=kind, status=status, limit=limit, cursor=cursor)
    return json_response(200, {"imports": page.imports, "nextCursor": page.next_cursor})


@app.post(
    "/v1/imports/<importId>/cancel",
    tags=["Imports"],
    summary="Cancel an import",
    **apidoc.route_doc({200: "ImportView", **apidoc.errors(404, 409)}),
)
def cancel_import(
    importId: _IMPORT_ID,  # noqa: N803
    body: Annotated[bodies.ImportAction | None, Body()] = None,
) -> Response[Any]:
    """Stop a QUEUED or PROCESSING import (the key needs the write scope of the import's kind): it
    becomes CANCELLED, chunks not yet written are not written and count as ``cancelled``, no call is
    requested after the cancel. 409 once the import is DONE, FAILED or CANCELLED."""
    from bulk_import.usecases import lifecycle

    who = principal()  # the scope depends on the import's kind: the use case checks it
    logger.append_keys(tenant_id=who.tenant_id)
    return json_response(200, lifecycle.cancel_import(DEPS.get(), who, importId))


@app.post(
    "/v1/imports/<importId>/retry",
    tags=["Imports"],
    summary="Retry the failed rows of an import",
    **apidoc.route_doc({202: "ImportRetry", **apidoc.errors(404, 409)}),
)
def retry_import(
    importId: _IMPORT_ID,  # noqa: N803
    body: Annotated[bodies.ImportAction | None, Body()] = None,
) -> Response[Any]:
    """Import again the failed rows of a finished import, as they were sent, with its options and the
    tenant's configuration of today (the key needs the write scope of the import's kind). Each row keeps
    its index in the original import; the new import's view names it in ``retryOf``. 409 while the
    import is QUEUED or PROCESSING, or when it has no failed row."""
    from bulk_import.usecases import lifecycle

    who = principal()  # the scope depends on the import's kind: the use case checks it
    logger.append_keys(tenant_id=who.tenant_id)
    return json_response(202, lifecycle.retry_import(DEPS.get(), who, importId))
