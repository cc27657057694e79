"""The routes of the tenant's webhook endpoint: configure, read, delete. Registered on the one resolver
when ``api`` imports this module."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from bulk_import.entrypoints import apidoc
from bulk_import.entrypoints.lazy import lazy_attributes
from bulk_import.entrypoints.resolver import Body, Response, app, caller, json_response, logger, principal
from bulk_import.entrypoints.runtime import DEPS

if TYPE_CHECKING:
    from bulk_import.entrypoints import bodies

#: The request model, which ``put_webhook``'s annotation names: imported, with pydantic, by its first
#: request (the router resolves annotations then), not with the handler.
__getattr__ = lazy_attributes(bodies="bulk_import.entrypoints.bodies")

#: The scope that configures webhooks; reading the endpoint also admits ``imports:read``.
WRITE_SCOPE = "webhooks:write"
READ_SCOPES = (WRITE_SCOPE, "imports:read")


def _delete_doc() -> dict[str, Any]:
    doc = apidoc.route_doc(apidoc.errors(501))
    doc["responses"] = dict(
        sorted({**doc["responses"], 204: {"description": "Deleted, or there was none."}}.items())
    )
    return doc


_DELETE_DOC = _delete_doc()


@app.put(
    "/v1/webhooks",
    tags=["Webhooks"],
    summary="Configure the webhook endpoint",
    **apidoc.route_doc({200: "WebhookConfigured", **apidoc.errors(501)}),
)
def put_webhook(body: Annotated[bodies.WebhookRequest, Body()]) -> Response[Any]:
    """Create or replace the tenant's endpoint (scope ``webhooks:write``). The answer holds the signing
    secret, generated unless given: it is shown this once. A URL that is not https, or whose host is or
    resolves to a private, loopback, link-local or metadata address, is refused (400)."""
    who = caller(WRITE_SCOPE)
    from bulk_import.usecases import webhooks as usecases

    return json_response(200, usecases.put_webhook(DEPS.get(), who, body.url, body.events, body.secret))


@app.get(
    "/v1/webhooks",
    tags=["Webhooks"],
    summary="Read the webhook endpoint",
    **apidoc.route_doc({200: "WebhookEndpointView", **apidoc.errors(404, 501)}),
)
def get_webhook() -> Response[Any]:
    """The tenant's endpoint without its secret (scope ``webhooks:write`` or ``imports:read``); 404 when
    none is configured."""
    who = principal()
    if not any(scope in who.scopes for scope in READ_SCOPES):
        who.require(WRITE_SCOPE)
    logger.append_keys(tenant_id=who.tenant_id)
    from bulk_import.usecases import webhooks as usecases

    return json_response(200, usecases.get_webhook(DEPS.get(), who))


@app.delete(
    "/v1/webhooks",
    tags=["Webhooks"],
    summary="Delete the webhook endpoint",
    **_DELETE_DOC,
)
def delete_webhook() -> Response[Any]:
    """Remove the tenant's endpoint (scope ``webhooks:write``): deliveries still queued are dropped."""
    who = caller(WRITE_SCOPE)
    from bulk_import.usecases import webhooks as usecases

    usecases.delete_webhook(DEPS.get(), who)
    return Response(status_code=204, body="")
