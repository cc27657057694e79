"""The HTTP API Lambda: routes, auth scopes and error mapping; all logic lives in the use cases.

In the cloud, API Gateway's Lambda authorizer (``authorizer.py``) has already checked the key and put
the tenant and scopes in the request context; the local stack does exactly the same before calling
``handler``. Routes here only check the scope the route needs.

Every request goes through the boundary (``boundary.admit``: media type, size, encoding, JSON) before
the resolver routes it, and every error answer, whoever raises it, has the shape
``{"message": ..., "errors": [...]}`` (``boundary.error_body``).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from re import Match
from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from pydantic import BaseModel

from bulk_import.core.errors import AuthenticationError, BulkImportError
from bulk_import.core.tenants import Principal
from bulk_import.engine.jobs import job_view, start_async_import
from bulk_import.entrypoints import apidoc, boundary, schemas
from bulk_import.entrypoints.metrics import counted_imports, flushed
from bulk_import.entrypoints.routes import (
    IDEMPOTENT_PATHS,
    idempotency_key,
    register_job_route,
    register_kind_route,
    write_scope,
)
from bulk_import.entrypoints.runtime import DEPS, IDEMPOTENCY
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.kinds.base import ImportKind, describe_validation_errors
from bulk_import.kinds.customers import CustomerRow
from bulk_import.usecases import customers, sync_imports
from bulk_import.usecases import imports as usecases
from bulk_import.usecases.idempotency import Answer, run_idempotent

logger = Logger(service="bulk-import")

#: Largest body accepted when a route has no limit of its own; the Lambda payload limit is 6 MB.
DEFAULT_BODY_LIMIT = 6_000_000
#: Routes open to everyone (API Gateway has no authorizer on them either).
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs"})
#: Body limits of routes that are not a kind's bulk route: one customer is at most its 32 KB of
#: metadata and a few fields, so a multi-megabyte body is refused before it is parsed.
ROUTE_BODY_LIMITS = {"/customers": 100_000}
#: The answer to a failure nobody foresaw: it names nothing of the request (the log has the rest).
INTERNAL_ERROR = "internal error; the request was not completed"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def _serialize(obj: Any) -> str:
    # The standard library, not orjson: Powertools loads ``json`` anyway, and orjson would add ~20 ms to
    # every cold start for responses that are small.
    return json.dumps(obj, default=_default, separators=(",", ":"), ensure_ascii=False)


#: A synchronous import, its rows counted in the metrics once it returns.
run_inline_import = counted_imports(sync_imports.run_inline_import)


class DecodingResolver(APIGatewayRestResolver):
    """The REST resolver, with each path parameter URL-decoded once its route has matched.

    API Gateway's REST ``path`` keeps the client's percent-encoding, and Powertools hands the routes the
    matched text as it is: ``/v1/imports/abc%23`` would look up ``abc%23``. Decoding after the match,
    not before, keeps an encoded ``/`` (``%2F``) inside its parameter. ``+`` stays a ``+``: only query
    strings and forms write a space that way.
    """

    def _convert_matches_into_route_keys(self, match: Match[str]) -> dict[str, str]:
        matched = super()._convert_matches_into_route_keys(match)
        return {name: unquote(value) for name, value in matched.items()}


app = DecodingResolver(
    enable_validation=True, serializer=_serialize, json_body_deserializer=boundary.json_body
)
apidoc.configure(app)


def principal() -> Principal:
    """The caller, as the authorizer described it in the request context."""
    ctx: dict[str, Any] = dict(app.current_event.request_context.authorizer or {})
    tenant = ctx.get("tenantId")
    if not tenant:
        raise AuthenticationError("missing or unknown API key")
    return Principal(tenant_id=tenant, scopes=frozenset(str(ctx.get("scopes", "")).split()))


def _caller(scope: str) -> Principal:
    who = principal()
    who.require(scope)
    logger.append_keys(tenant_id=who.tenant_id)
    return who


def json_response(status: int, body: Any) -> Response[Any]:
    """A JSON response with ``status``."""
    return Response(status_code=status, content_type="application/json", body=body)


def error_response(status: int, message: str, errors: Any = (), **extra: Any) -> Response[Any]:
    """An error answer in the one shape every 4xx and 5xx has."""
    return json_response(status, boundary.error_body(message, errors, **extra))


def _error_document(exc: BulkImportError) -> dict[str, Any]:
    details = dict(exc.details)
    return boundary.error_body(exc.message, details.pop("errors", ()), **details)


@app.exception_handler(BulkImportError)
def _bulk_import_error(exc: BulkImportError) -> Response[Any]:
    return json_response(exc.status, _error_document(exc))


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[Any]:
    problems = boundary.scrub(describe_validation_errors(exc.errors(), strip_prefix="body"))
    shown = problems[: boundary.MAX_ERRORS]
    return error_response(400, "; ".join(shown[:5]) or "invalid request", problems)


@app.exception_handler(boundary.RequestRejectedError)
def _rejected(exc: boundary.RequestRejectedError) -> Response[Any]:
    return error_response(exc.status, exc.message, [exc.message])


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported(exc: RequestUnsupportedContentType) -> Response[Any]:
    return error_response(415, "this media type is not supported; send application/json")


@app.exception_handler(ServiceError)
def _service_error(exc: ServiceError) -> Response[Any]:
    return error_response(exc.status_code, str(exc.msg))


@app.not_found
def _no_route(exc: RouteNotFoundError) -> Response[Any]:
    event = app.current_event
    path, method = event.path, event.http_method.upper()
    allowed = sorted(
        {route.method for route in app._static_routes + app._dynamic_routes if re.match(route.rule, path)}
        - {method}
    )
    if allowed:
        response = error_response(405, f"{method} is not allowed here; use {', '.join(allowed)}")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return error_response(404, f"no route {method} {boundary.clip(path)}")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[Any]:
    logger.exception("unexpected error", exc_info=exc)
    return error_response(500, INTERNAL_ERROR)


def _document_server() -> str:
    return apidoc.server_url(app.current_event.raw_event)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[Any]:
    """The OpenAPI document of this API, generated from the routes."""
    return json_response(200, apidoc.document(app, _document_server(), IDEMPOTENT_PATHS))


@app.get("/docs", include_in_schema=False)
def swagger_ui() -> Response[Any]:
    """A browsable UI of the document; its Authorize button takes either kind of key."""
    return Response(
        status_code=200,
        content_type="text/html",
        body=apidoc.swagger_html(app, _document_server(), IDEMPOTENT_PATHS),
    )


@app.post(
    "/api/v1/campaigns",
    tags=["Campaigns"],
    summary="Create a campaign",
    **apidoc.route_doc({201: schemas.Campaign, **apidoc.errors(409)}),
)
def create_campaign(body: Annotated[schemas.CampaignCreateRequest, Body()]) -> Response[Any]:
    """Create a calling campaign; its service type decides the customer fields an import requires."""
    who = _caller("campaigns:write")
    campaign = usecases.create_campaign(DEPS.get(), who, body.name, body.serviceType, body.id)
    return json_response(201, campaign.to_api())


@app.get(
    "/api/v1/campaigns",
    tags=["Campaigns"],
    summary="List campaigns",
    **apidoc.route_doc({200: schemas.CampaignList}),
)
def list_campaigns() -> Response[Any]:
    """The tenant's campaigns (scope ``campaigns:write`` or ``customers:write``)."""
    who = principal()
    if "customers:write" not in who.scopes:
        who.require("campaigns:write")
    campaigns = usecases.list_campaigns(DEPS.get(), who)
    return json_response(200, {"campaigns": [c.to_api() for c in campaigns]})


def _split(kind: ImportKind[Any], body: BaseModel) -> tuple[dict[str, Any], list[Any]]:
    """The request's batch-level options and its rows."""
    return body.model_dump(exclude={kind.records_field}, exclude_none=True), getattr(body, kind.records_field)


def _kind_response(status: int, payload: dict[str, Any]) -> Response[Any]:
    # A kind answers in its own shape; when that is an error (a campaign-customers request whose rows
    # all failed) it still carries the ``errors`` every error answer has: the rows' errors.
    if status >= 400 and "errors" not in payload:
        results = payload.get("results")
        rows = results.get("errors") if isinstance(results, dict) else None
        payload = {**payload, "errors": rows if isinstance(rows, list) else []}
        payload.setdefault("message", "the request was refused")
    return json_response(status, payload)


def _run_sync_import(kind: ImportKind[Any], body: BaseModel, dry_run: str | None = None) -> Response[Any]:
    """Validate, normalize and store a whole request inline, then answer in the kind's shape (a dry
    run: 200 and the same answer, storing nothing)."""
    who = _caller(kind.scope)
    from bulk_import.usecases import dry_runs

    if dry_runs.dry_run_flag(dry_run):
        return json_response(200, dry_runs.dry_run_inline(kind, *_split(kind, body), who, DEPS.get()))
    result = run_inline_import(kind, *_split(kind, body), who, DEPS.get())
    return _kind_response(*kind.respond(result))


def _run_async_import(kind: ImportKind[Any], body: BaseModel, dry_run: str | None = None) -> Response[Any]:
    """Store the request, queue its chunks and answer at once (202); a dry run answers 200 and the
    finished job, computed inline, storing nothing."""
    who = _caller(kind.scope)
    from bulk_import.usecases import dry_runs

    if dry_runs.dry_run_flag(dry_run):
        return json_response(200, dry_runs.dry_run_async(kind, *_split(kind, body), who, DEPS.get()))
    job = start_async_import(kind, *_split(kind, body), who, DEPS.get())
    return _kind_response(*kind.accepted(job))


def _run_job_view(kind: ImportKind[Any], job_id: str, limit: int | None, cursor: str | None) -> Response[Any]:
    """An async import in the kind's own shape, one page of its rows when ``limit`` is given."""
    who = _caller("imports:read")
    return json_response(200, job_view(DEPS.get(), who, kind.name, job_id, limit=limit, cursor=cursor))


@app.post(
    "/customers",
    tags=["Customers"],
    summary="Create or update one customer (201 created, 200 updated; 400 lists valid task types)",
    **apidoc.route_doc(
        {
            200: (
                "Updated; the stored customer. A dry run: the customer as it would be stored, with "
                "dryRun true and dryRunStatus (201 new, 200 update).",
                schemas.Customer,
            ),
            201: ("Created; the stored customer.", schemas.Customer),
            **apidoc.errors(404, 502),
        }
    ),
)
def upsert_customer(
    body: Annotated[CustomerRow, Body()],
    dryRun: apidoc.DRY_RUN = None,  # noqa: N803
) -> Response[Any]:
    """One customer, written at once; the answer is the stored customer.

    ``id`` and ``taskType`` are always required; without ``sync`` also the name, phone, timezone (or a
    US zip code it is resolved from) and address. With ``sync: true`` missing fields come from your
    LMS (404 when it does not know the id). ``dryRun=true``: 200 and the customer as it would be
    stored, storing nothing.
    """
    who = _caller("customers:write")
    from bulk_import.usecases import dry_runs

    if dry_runs.dry_run_flag(dryRun):
        return json_response(200, dry_runs.dry_run_customer(DEPS.get(), who, app.current_event.json_body))
    # The model above checked the shape (and documents it); the use case validates the body as sent,
    # against the tenant (task types, today, LMS), with the same rules as the batch.
    created, customer = customers.upsert_customer(DEPS.get(), who, app.current_event.json_body)
    return json_response(201 if created else 200, customer)


for _name in REGISTRY:
    _kind = get_kind(_name)
    register_kind_route(app, _kind, _run_async_import if _kind.mode == "async" else _run_sync_import)
    if _kind.job_route:
        register_job_route(app, _kind, _run_job_view)


@app.post(
    "/v1/imports/uploads",
    tags=["Imports"],
    summary="Start a file import: get a URL to upload the file to",
    **apidoc.route_doc({201: schemas.UploadCreated, **apidoc.errors(404, 501)}),
)
def create_upload(body: Annotated[schemas.UploadRequest, Body()]) -> Response[Any]:
    """An import waiting for its file, and a presigned URL to PUT the file to (valid ``expiresIn`` seconds).

    Needs the kind's scope. Send the file's bytes with ``PUT uploadUrl`` (no other header needed): it is
    imported like a file dropped in the bucket, with the options given here, and
    ``GET /v1/imports/{importId}`` follows it (``file.awaitingUpload`` until the file arrives).
    """
    from bulk_import.usecases.uploads import create_upload as create

    who = principal()
    logger.append_keys(tenant_id=who.tenant_id)
    return json_response(201, create(DEPS.get(), who, body.kind, body.filename, body.options))


_IMPORT_ID = Annotated[str, Path(description="The importId an import request answered with.")]


@app.get(
    "/v1/imports/<importId>",
    tags=["Imports"],
    summary="Read an import",
    **apidoc.route_doc({200: schemas.ImportView, **apidoc.errors(404)}),
)
def get_import(importId: _IMPORT_ID) -> Response[Any]:  # noqa: N803
    """Kind, status, counts, timestamps and call state of an import; for file imports, the file and
    presigned links to its result files (``files.summary``, ``files.errors``, valid ``filesExpiresIn`` s)."""
    who = _caller("imports:read")
    return json_response(200, usecases.import_view(DEPS.get(), who, importId))


@app.get(
    "/v1/imports/<importId>/errors",
    tags=["Imports"],
    summary="Page through an import's row errors",
    **apidoc.route_doc({200: schemas.ImportErrorsPage, **apidoc.errors(404)}),
)
def get_import_errors(
    importId: _IMPORT_ID,  # noqa: N803
    limit: Annotated[int, Query(ge=1, le=1000, description="Errors per page, 1 to 1000.")] = 100,
    cursor: Annotated[str | None, Query(description="The nextCursor of the previous page.")] = None,
) -> Response[Any]:
    """Per-row errors in row order; pass ``nextCursor`` back as ``cursor`` for the next page."""
    who = _caller("imports:read")
    page = usecases.list_import_errors(DEPS.get(), who, importId, limit, cursor)
    return json_response(200, {"importId": importId, "errors": page.items, "nextCursor": page.next_cursor})


@app.get(
    "/v1/imports",
    tags=["Imports"],
    summary="List the tenant's imports",
    **apidoc.route_doc({200: schemas.ImportsPage}),
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

    who = _caller("imports:read")
    page = lifecycle.list_imports(DEPS.get(), who, kind=kind, status=status, limit=limit, cursor=cursor)
    return json_response(200, {"imports": page.imports, "nextCursor": page.next_cursor})


@app.post(
    "/v1/imports/<importId>/cancel",
    tags=["Imports"],
    summary="Cancel an import",
    **apidoc.route_doc({200: schemas.ImportView, **apidoc.errors(404, 409)}),
)
def cancel_import(importId: _IMPORT_ID) -> Response[Any]:  # noqa: N803
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
    **apidoc.route_doc({202: schemas.ImportRetry, **apidoc.errors(404, 409)}),
)
def retry_import(importId: _IMPORT_ID) -> Response[Any]:  # noqa: N803
    """Import again the failed rows of a finished import, as they were sent, with its options and the
    tenant's configuration of today (the key needs the write scope of the import's kind). Each row keeps
    its index in the original import; the new import's view names it in ``retryOf``. 409 while the
    import is QUEUED or PROCESSING, or when it has no failed row."""
    from bulk_import.usecases import lifecycle

    who = principal()  # the scope depends on the import's kind: the use case checks it
    logger.append_keys(tenant_id=who.tenant_id)
    return json_response(202, lifecycle.retry_import(DEPS.get(), who, importId))


def _body_limit(path: str) -> int:
    if path in ROUTE_BODY_LIMITS:
        return ROUTE_BODY_LIMITS[path]
    for name in REGISTRY:
        kind = get_kind(name)
        if kind.route == path:
            return kind.max_body_bytes
    return DEFAULT_BODY_LIMIT


def _headers(response: dict[str, Any]) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    return headers


def _resolve_idempotent(event: dict[str, Any], key: str, context: Any) -> dict[str, Any]:
    """Resolve a write that carries a key: the first time it runs, later the first answer is replayed.

    The scope is checked before the key is looked at, so a key without the route's scope gets 403,
    never another key's stored answer.
    """
    authorizer = dict((event.get("requestContext") or {}).get("authorizer") or {})
    tenant = str(authorizer.get("tenantId") or "")
    if not tenant:
        return app.resolve(event, context)  # the route answers 401
    path, document = str(event["path"]), boundary.current().document
    who = Principal(tenant_id=tenant, scopes=frozenset(str(authorizer.get("scopes", "")).split()))
    resolved: dict[str, Any] = {}

    def run() -> Answer:
        resolved.update(app.resolve(event, context))
        return int(resolved["statusCode"]), str(resolved.get("body") or ""), _headers(resolved)

    try:
        scope = write_scope(path, document)
        if scope:
            who.require(scope)
        answer = run_idempotent(
            IDEMPOTENCY.get(), tenant, key, f"POST {path}", document, DEPS.get().clock.now(), run
        )
    except BulkImportError as exc:
        return boundary.proxy_response(exc.status, _error_document(exc), _serialize)
    if not answer.replayed:
        return resolved
    return {
        "statusCode": answer.status,
        "headers": answer.headers,
        "multiValueHeaders": {name: [value] for name, value in answer.headers.items()},
        "body": answer.body,
        "isBase64Encoded": False,
    }


@logger.inject_lambda_context(clear_state=True)
@flushed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for API Gateway (REST, proxy integration)."""
    try:
        admitted = boundary.admit(event, _body_limit(str(event.get("path") or "")))
        key = idempotency_key(admitted)
        if key is not None:
            return _resolve_idempotent(admitted, key, context)
        return app.resolve(admitted, context)
    except boundary.RequestRejectedError as exc:
        return boundary.proxy_response(
            exc.status, boundary.error_body(exc.message, [exc.message]), _serialize
        )
    except Exception:  # the resolver's handlers answer everything; this is the last resort
        logger.exception("unexpected error outside the routes")
        return boundary.proxy_response(500, boundary.error_body(INTERNAL_ERROR), _serialize)
    finally:
        boundary.end()
