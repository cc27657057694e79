"""The API's resolver and the answers every route shares: the caller, JSON and error responses, and
the handlers that give every error, whoever raises it, the shape ``{"message": ..., "errors": [...]}``.

A route module registers its routes on ``app`` and imports what it declares them with from here:
``Response``, and the markers ``Body``, ``Query``, ``Path``, ``Header`` (see ``router``).
"""

from __future__ import annotations

from decimal import Decimal
from re import Match
from typing import Any
from urllib.parse import unquote

from aws_lambda_powertools import Logger

from bulk_import.core.errors import AuthenticationError, BulkImportError
from bulk_import.core.tenants import Principal
from bulk_import.entrypoints import boundary
from bulk_import.entrypoints.router import (
    Body,
    CheckedBody,
    Header,
    Path,
    Query,
    RequestValidationError,
    Response,
    Router,
)
from bulk_import.rules.exact_json import dumps_with_numbers

__all__ = [
    "Body",
    "CheckedBody",
    "Header",
    "Path",
    "Query",
    "Response",
    "app",
    "caller",
    "json_response",
    "principal",
]

logger = Logger(service="bulk-import")

#: The answer to a failure nobody foresaw: it names nothing of the request (the log has the rest).
INTERNAL_ERROR = "internal error; the request was not completed"


def _number(value: Decimal) -> str | None:
    """The JSON number of a decimal, as exact as it was sent: ``12.50``, ``0.1``, ``12000`` for
    ``1.2E+4`` (a whole number as digits, unless it would take more than 40 of them); None for a NaN or
    an infinity, which JSON has no number for."""
    if not value.is_finite():
        return None
    if value == value.to_integral_value() and value.adjusted() < 40:
        return str(int(value))
    return str(value)


def _other(value: Any) -> Any:
    if isinstance(value, Decimal):
        return None  # a NaN or an infinity: null
    raise TypeError(type(value).__name__)


def serialize(obj: Any) -> str:
    """JSON text of an answer: compact, UTF-8, decimals as the exact numbers they are (money is decimal
    here, never float), a decimal NaN or infinity as null."""
    # The standard library, not orjson: Powertools loads ``json`` anyway, and orjson would add ~20 ms to
    # every cold start for responses that are small.
    return dumps_with_numbers(obj, _number, _other, ensure_ascii=False)


class DecodingRouter(Router):
    """The router, with each path parameter URL-decoded once its route has matched.

    API Gateway's REST ``path`` keeps the client's percent-encoding: ``/v1/imports/abc%23`` would look up
    ``abc%23``. Decoding after the match, not before, keeps an encoded ``/`` (``%2F``) inside its
    parameter. ``+`` stays a ``+``: only query strings and forms write a space that way.
    """

    def path_values(self, match: Match[str]) -> dict[str, str]:
        return {name: unquote(value) for name, value in super().path_values(match).items()}


app = DecodingRouter(serializer=serialize, json_body_deserializer=boundary.json_body)


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
    from bulk_import.kinds.row_plan import describe_validation_errors

    problems = boundary.scrub(describe_validation_errors(exc.errors(), strip_prefix="body"))
    shown = problems[: boundary.MAX_ERRORS]
    return error_response(400, "; ".join(shown[:5]) or "invalid request", problems)


@app.exception_handler(boundary.RequestRejectedError)
def _rejected(exc: boundary.RequestRejectedError) -> Response[Any]:
    return error_response(exc.status, exc.message)


@app.not_found
def _no_route(exc: Exception) -> Response[Any]:
    event = app.current_event
    path, method = event.path, event.http_method.upper()
    allowed = sorted({route.method for route in app.routes if route.rule.match(path)} - {method})
    if allowed:
        response = error_response(405, f"{method} is not allowed here; use {', '.join(allowed)}")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return error_response(404, f"no route {method} {boundary.clip(path)}")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[Any]:
    status, message = getattr(exc, "status_code", None), getattr(exc, "msg", None)
    if isinstance(status, int) and isinstance(message, str):  # Powertools' HTTP errors (NotFoundError…)
        return error_response(status, message)
    logger.exception("unexpected error", exc_info=exc)
    return error_response(500, INTERNAL_ERROR)
