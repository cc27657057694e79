"""The HTTP API Lambda: routes, auth scopes and error mapping; all logic lives in the use cases.

In the cloud, API Gateway's Lambda authorizer (``authorizer.py``) has already checked the key and put
the tenant and scopes in the request context; the local stack does exactly the same before calling
``handler``. Routes here only check the scope the route needs.

Every request goes through the boundary (``boundary.admit``: media type, size, encoding, JSON) before
the resolver routes it, and every error answer, whoever raises it, has the shape
``{"message": ..., "errors": [...]}`` (``boundary.error_body``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from bulk_import.core.errors import BulkImportError
from bulk_import.core.tenants import Principal
from bulk_import.entrypoints import apidoc, boundary
from bulk_import.entrypoints import console as console  # registers the import console (GET /console)
from bulk_import.entrypoints import import_routes as import_routes  # registers the routes of imports
from bulk_import.entrypoints import webhook_routes as webhook_routes  # registers the webhook routes
from bulk_import.entrypoints.lazy import lazy_attributes
from bulk_import.entrypoints.metrics import counted_imports, flushed
from bulk_import.entrypoints.resolver import (
    INTERNAL_ERROR,
    Body,
    CheckedBody,
    Response,
    app,
    caller,
    error_document,
    json_response,
    logger,
    principal,
    serialize,
)
from bulk_import.entrypoints.routes import (
    IDEMPOTENT_PATHS as IDEMPOTENT_PATHS,  # the writes that honour Idempotency-Key
)
from bulk_import.entrypoints.routes import (
    KIND_ROUTES,
    idempotency_key,
    kind_of_route,
    register_job_route,
    register_kind_route,
    route_scope,
)
from bulk_import.entrypoints.runtime import DEPS, IDEMPOTENCY

if TYPE_CHECKING:
    from pydantic import BaseModel

    from bulk_import.entrypoints import bodies
    from bulk_import.kinds.base import ImportKind
    from bulk_import.kinds.customers import CustomerRow
    from bulk_import.usecases.idempotency import Answer

#: The request models the routes' annotations name (``POST /customers``'s row model, the campaign body):
#: imported, with pydantic, by the first request of a route that validates one (the router resolves the
#: annotations then), not with the handler. The use cases, the kinds and the idempotency store are
#: imported by the routes that run them.
__getattr__ = lazy_attributes(
    bodies="bulk_import.entrypoints.bodies", CustomerRow="bulk_import.kinds.customers:CustomerRow"
)


#: Largest body accepted when a route has no limit of its own; the Lambda payload limit is 6 MB.
DEFAULT_BODY_LIMIT = 6_000_000
#: Routes open to everyone (API Gateway has no authorizer on them either).
PUBLIC_PATHS = frozenset({"/openapi.json", "/docs"})
#: Body limits of routes that are not a kind's bulk route: one customer is at most its 32 KB of
#: metadata and a few fields, so a multi-megabyte body is refused before it is parsed.
ROUTE_BODY_LIMITS = {"/customers": 100_000}


def run_inline_import(*args: Any, **kwargs: Any) -> Any:
    """A synchronous import (``sync_imports.run_inline_import``), its rows counted in the metrics."""
    from bulk_import.usecases import sync_imports  # with the routes that run one

    return counted_imports(sync_imports.run_inline_import)(*args, **kwargs)


def _document_server() -> str:
    return apidoc.server_url(app.current_event.raw_event)


@app.get("/openapi.json", include_in_schema=False)
def openapi_document() -> Response[Any]:
    """The OpenAPI document of this API, generated from the routes at build time."""
    return json_response(200, apidoc.document_text(_document_server()))


@app.get("/docs", include_in_schema=False)
def swagger_ui() -> Response[Any]:
    """A browsable UI of the document; its Authorize button takes either kind of key."""
    return Response(status_code=200, content_type="text/html", body=apidoc.swagger_html(_document_server()))


@app.post(
    "/api/v1/campaigns",
    tags=["Campaigns"],
    summary="Create a campaign",
    **apidoc.route_doc({201: "Campaign", **apidoc.errors(409)}),
)
def create_campaign(body: Annotated[bodies.CampaignCreateRequest, Body()]) -> Response[Any]:
    """Create a calling campaign; its service type decides the customer fields an import requires."""
    who = caller("campaigns:write")
    from bulk_import.usecases import campaigns

    campaign = campaigns.create_campaign(DEPS.get(), who, body.name, body.serviceType, body.id)
    return json_response(201, campaign.to_api())


@app.get(
    "/api/v1/campaigns",
    tags=["Campaigns"],
    summary="List campaigns",
    **apidoc.route_doc({200: "CampaignList"}),
)
def list_campaigns() -> Response[Any]:
    """The tenant's campaigns (scope ``campaigns:write`` or ``customers:write``)."""
    who = principal()
    if "customers:write" not in who.scopes:
        who.require("campaigns:write")
    from bulk_import.usecases.campaigns import list_campaigns as listed

    campaigns = listed(DEPS.get(), who)
    return json_response(200, {"campaigns": [c.to_api() for c in campaigns]})


def _split(kind: ImportKind[Any], body: BaseModel) -> tuple[dict[str, Any], list[Any]]:
    """The request's batch-level options and its rows."""
    return body.model_dump(exclude={kind.records_field}, exclude_none=True), getattr(body, kind.records_field)


def _kind_response(kind: ImportKind[Any], status: int, payload: dict[str, Any]) -> Response[Any]:
    # A kind answers in its own shape, its per-row lists cut to fit Lambda's response; when that is an
    # error (a campaign-customers request whose rows all failed) it still carries the ``errors`` every
    # error answer has: the rows' first errors, as many as any error answer lists.
    from bulk_import.engine.answers import fit_answer

    payload = fit_answer(payload, kind.answer_row_lists)
    if status >= 400 and "errors" not in payload:
        results = payload.get("results")
        rows = results.get("errors") if isinstance(results, dict) else None
        message = str(payload.get("message") or "the request was refused")
        payload = {**payload, "errors": boundary.capped(rows if isinstance(rows, list) else [], message)}
        payload.setdefault("message", message)
    return json_response(status, payload)


def _run_sync_import(kind: ImportKind[Any], body: BaseModel, dry_run: str | None = None) -> Response[Any]:
    """Validate, normalize and store a whole request inline, then answer in the kind's shape (a dry
    run: 200 and the same answer, storing nothing)."""
    who = caller(kind.scope)
    from bulk_import.usecases import dry_runs

    if dry_runs.dry_run_flag(dry_run):
        return _kind_response(kind, 200, dry_runs.dry_run_inline(kind, *_split(kind, body), who, DEPS.get()))
    result = run_inline_import(kind, *_split(kind, body), who, DEPS.get())
    return _kind_response(kind, *kind.respond(result))


def _run_async_import(kind: ImportKind[Any], body: BaseModel, dry_run: str | None = None) -> Response[Any]:
    """Store the request, queue its chunks and answer at once (202); a dry run answers 200 and the
    finished job, computed inline, storing nothing."""
    who = caller(kind.scope)
    from bulk_import.engine.jobs import start_async_import
    from bulk_import.usecases import dry_runs

    if dry_runs.dry_run_flag(dry_run):
        return json_response(200, dry_runs.dry_run_async(kind, *_split(kind, body), who, DEPS.get()))
    job = start_async_import(kind, *_split(kind, body), who, DEPS.get())
    return _kind_response(kind, *kind.accepted(job))


def _run_job_view(kind: ImportKind[Any], job_id: str, limit: int | None, cursor: str | None) -> Response[Any]:
    """An async import in the kind's own shape, one page of its rows when ``limit`` is given."""
    from bulk_import.engine.jobs import job_view

    who = caller("imports:read")
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
                "Customer",
            ),
            201: ("Created; the stored customer.", "Customer"),
            **apidoc.errors(404, 502),
        }
    ),
)
def upsert_customer(
    body: Annotated[CustomerRow, CheckedBody()],
    dryRun: apidoc.DRY_RUN = None,  # noqa: N803
) -> Response[Any]:
    """One customer, written at once; the answer is the stored customer.

    ``id`` and ``taskType`` are always required; without ``sync`` also the name, phone, timezone (or a
    US zip code it is resolved from) and address. With ``sync: true`` missing fields come from your
    LMS (404 when it does not know the id). ``dryRun=true``: 200 and the customer as it would be
    stored, storing nothing.
    """
    who = caller("customers:write")
    from bulk_import.usecases import dry_runs

    if dry_runs.dry_run_flag(dryRun):
        return json_response(200, dry_runs.dry_run_customer(DEPS.get(), who, app.current_event.json_body))
    # The model above documents the body; the use case validates it as sent, every rule at once (the
    # tenant's task types, today, the LMS), with the same rules as the batch.
    from bulk_import.usecases import customers

    created, customer = customers.upsert_customer(DEPS.get(), who, app.current_event.json_body)
    return json_response(201 if created else 200, customer)


for _name, (_, _job_route, _mode) in KIND_ROUTES.items():
    register_kind_route(app, _name, _run_async_import if _mode == "async" else _run_sync_import)
    if _job_route:
        register_job_route(app, _name, _run_job_view)


def _body_limit(rule: str) -> int:
    """The largest body the route ``rule`` (the matched route's) accepts."""
    if rule in ROUTE_BODY_LIMITS:
        return ROUTE_BODY_LIMITS[rule]
    name = kind_of_route(rule)
    if name is None:
        return DEFAULT_BODY_LIMIT
    from bulk_import.kinds import get_kind

    return get_kind(name).max_body_bytes


def _headers(response: dict[str, Any]) -> dict[str, str]:
    headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
    for name, values in (response.get("multiValueHeaders") or {}).items():
        headers[str(name)] = ", ".join(str(v) for v in values)
    return headers


def _resolve_idempotent(
    event: dict[str, Any], key: str, context: Any, import_id: str | None = None
) -> dict[str, Any]:
    """Resolve a write that carries a key: the first time it runs, later the first answer is replayed.

    The scope is checked before the key is looked at, so a key without the route's scope gets 403,
    never another key's stored answer; ``import_id`` names the import a cancel or retry acts on, whose
    kind gives its scope.
    """
    who = _authorized(event)
    if who is None:
        return app.resolve(event, context)  # the route answers 401
    tenant, path, document = who.tenant_id, str(event["path"]), boundary.current().document
    resolved: dict[str, Any] = {}

    def run() -> Answer:
        resolved.update(app.resolve(event, context))
        return int(resolved["statusCode"]), str(resolved.get("body") or ""), _headers(resolved)

    try:
        # The route's own scope was required before (``_require_route_scope``); a cancel's or retry's
        # depends on its import.
        scope = _import_scope(who, import_id)
        if scope:
            who.require(scope)
        from bulk_import.usecases.idempotency import run_idempotent

        answer = run_idempotent(
            IDEMPOTENCY.get(), tenant, key, f"POST {path}", document, DEPS.get().clock.now(), run
        )
    except BulkImportError as exc:
        return boundary.proxy_response(exc.status, error_document(exc), serialize)
    if not answer.replayed:
        return resolved
    return {
        "statusCode": answer.status,
        "headers": answer.headers,
        "multiValueHeaders": {name: [value] for name, value in answer.headers.items()},
        "body": answer.body,
        "isBase64Encoded": False,
    }


def _require_route_scope(event: dict[str, Any], rule: str) -> None:
    """403 before the route (``rule``, the one the request matched) validates anything, when the
    caller's key lacks the scope the request needs (the route checks it again; a request without a
    tenant is the route's 401)."""
    who = _authorized(event)
    if who is None:
        return
    scope = route_scope(str(event.get("httpMethod") or "").upper(), rule, boundary.current().document)
    if scope is not None:
        who.require(scope)


def _authorized(event: dict[str, Any]) -> Principal | None:
    """The caller the authorizer put in the request context, or None (the route answers 401)."""
    authorizer = dict((event.get("requestContext") or {}).get("authorizer") or {})
    tenant = str(authorizer.get("tenantId") or "")
    if not tenant:
        return None
    return Principal(tenant_id=tenant, scopes=frozenset(str(authorizer.get("scopes", "")).split()))


def _import_scope(who: Principal, import_id: str | None) -> str | None:
    """The scope a cancel or retry of ``import_id`` needs: the write scope of its import's kind (404
    when the tenant has no such import), so that a key never replays an answer to a caller the route
    would refuse. None for the other routes (``import_id`` None)."""
    if import_id is None:
        return None
    from bulk_import.kinds import get_kind
    from bulk_import.usecases import imports as usecases

    return get_kind(usecases.get_import(DEPS.get(), who, import_id).kind).scope


@logger.inject_lambda_context(clear_state=True)
@flushed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for API Gateway (REST, proxy integration).

    ``HEAD`` is answered as ``GET`` without its body (the same status and headers), as HTTP has it.
    """
    if str(event.get("httpMethod") or "").upper() == "HEAD":
        answer = _dispatch({**event, "httpMethod": "GET"}, context)
        return {**answer, "body": "", "isBase64Encoded": False}
    return _dispatch(event, context)


def _dispatch(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        found = app.match(str(event.get("httpMethod") or "").upper(), str(event.get("path") or ""))
        if found is None:
            # No route has this method and path: the router's own 404, or 405 with Allow, whatever the
            # body (an empty PUT is a 405, not a 400 about its body).
            boundary.remember(event)
            return app.resolve(event, context)
        route, path_values = found
        # The limit of the route matched (``/customers/`` is ``/customers``), not of the path as sent.
        admitted = boundary.admit(event, _body_limit(route.path))
        try:
            _require_route_scope(admitted, route.path)
            key = idempotency_key(admitted, route.path)
        except BulkImportError as exc:  # a key without the scope; a dry run's malformed key
            return boundary.proxy_response(exc.status, error_document(exc), serialize)
        if key is not None:
            return _resolve_idempotent(admitted, key, context, path_values.get("importId"))
        return app.resolve(admitted, context)
    except boundary.RequestRejectedError as exc:
        return boundary.proxy_response(exc.status, boundary.error_body(exc.message), serialize)
    except Exception:  # the resolver's handlers answer everything; this is the last resort
        logger.exception("unexpected error outside the routes")
        return boundary.proxy_response(500, boundary.error_body(INTERNAL_ERROR), serialize)
    finally:
        boundary.end()
