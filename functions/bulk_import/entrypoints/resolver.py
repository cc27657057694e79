"""The API's resolver and the answers every route shares: the caller, JSON and error responses, and
the handlers that give every error, whoever raises it, the shape ``{"message": ..., "errors": [...]}``."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from re import Match
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFoundError
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from bulk_import.core.errors import AuthenticationError, BulkImportError
from bulk_import.core.tenants import Principal
from bulk_import.entrypoints import apidoc, boundary
from bulk_import.kinds.base import describe_validation_errors

logger = Logger(service="bulk-import")

#: The answer to a failure nobody foresaw: it names nothing of the request (the log has the rest).
INTERNAL_ERROR = "internal error; the request was not completed"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(type(value).__name__)


def serialize(obj: Any) -> str:
    """JSON text of an answer: compact, UTF-8, decimals as numbers."""
    # The standard library, not orjson: Powertools loads ``json`` anyway, and orjson would add ~20 ms to
    # every cold start for responses that are small.
    return json.dumps(obj, default=_default, separators=(",", ":"), ensure_ascii=False)


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
    enable_validation=True, serializer=serialize, json_body_deserializer=boundary.json_body
)
apidoc.configure(app)


def principal() -> Principal:
    """The caller, as the authorizer described it in the request context."""
    ctx: dict[str, Any] = dict(app.current_event.request_context.authorizer or {})
    tenant = ctx.get("tenantId")
    if not tenant:
        raise AuthenticationError("missing or unknown API key")
    return Principal(tenant_id=tenant, scopes=frozenset(str(ctx.get("scopes", "")).split()))


def caller(scope: str) -> Principal:
    """The caller, once it is known to hold ``scope`` (403 otherwise); its tenant goes into the logs."""
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


def error_document(exc: BulkImportError) -> dict[str, Any]:
    """The common error shape of a domain error, its details as fields of their own."""
    details = dict(exc.details)
    return boundary.error_body(exc.message, details.pop("errors", ()), **details)


@app.exception_handler(BulkImportError)
def _bulk_import_error(exc: BulkImportError) -> Response[Any]:
    return json_response(exc.status, error_document(exc))


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
