"""The OpenAPI document of the HTTP API: what each route answers, and how to authenticate.

Every route declares its statuses through ``route_doc``: the ones every route can answer (400, 401,
403, 413, 415, 500, all with the one error model) plus its own. The document is generated from the
routes by Powertools, then freed of what the API never does (Powertools adds a 422 to every route; this
API answers 400 for a malformed request) and given the server the caller actually reached. The writes
that honour ``Idempotency-Key`` get the header, their 409 and 422 (a key reused with another request)
and the ``Idempotent-Replayed`` answer header.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel

from bulk_import.entrypoints.schemas import ErrorResponse

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver

#: The ``dryRun`` query parameter of every bulk ``POST``.
DRY_RUN = Annotated[
    str | None,
    Query(
        description="true: apply every rule and look-up and answer 200 with the finished result, "
        "storing nothing (no record, import, job, message, event or idempotency record). true or false "
        "in any case; any other value answers 400.",
        json_schema_extra={"enum": ["true", "false"]},
    ),
]

TITLE = "Bulk import API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Bulk imports of customers, debts and payment instructions. Authenticate with "
    "`Authorization: Bearer <key>` or `X-API-Key: <key>`. Every error answer is "
    '`{"message": ..., "errors": [...]}`.'
)
#: Both ways of sending a key; every route but the document and its UI requires one of them.
SECURITY_SCHEMES: dict[str, Any] = {
    "Bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer <key>"},
    "X-API-Key": {"type": "apiKey", "in": "header", "name": "X-API-Key", "description": "X-API-Key: <key>"},
}
SECURITY: list[dict[str, list[str]]] = [{"Bearer": []}, {"X-API-Key": []}]

COMMON_STATUSES: dict[int, str] = {
    400: "Malformed: not UTF-8 JSON, or not the expected shape (the message names the problem).",
    401: "No API key, or one that is not known.",
    403: "The API key lacks the scope this route needs.",
    413: "The body is larger than this route accepts.",
    415: "The body is not application/json.",
    500: "An unexpected failure; nothing in the message repeats the request.",
}
#: Statuses a route may add, with their usual meaning.
STATUS_TEXT: dict[int, str] = {
    200: "OK.",
    201: "Created.",
    202: "Accepted: processed in the background; follow it with the job or import route.",
    207: "Some rows were stored, the others are listed with their errors.",
    404: "Not found for this tenant (another tenant's ids answer this too).",
    409: "Conflicts with what is stored.",
    501: "Not available on this deployment.",
    502: "A system this request depends on failed.",
    503: "Stored, but the follow-up work could not be started.",
}


def _content(model: type[BaseModel]) -> dict[str, Any]:
    return {"application/json": {"model": model}}


def route_doc(own: Mapping[int, Any]) -> dict[str, Any]:
    """The ``responses`` and ``security`` keyword arguments of one route.

    Parameters
    ----------
    own
        The route's own statuses: a model, or ``(description, model)``; errors without a model of
        their own use ``ErrorResponse``.
    """
    responses: dict[int, dict[str, Any]] = {
        status: {"description": text, "content": _content(ErrorResponse)}
        for status, text in COMMON_STATUSES.items()
    }
    for status, spec in own.items():
        text, model = spec if isinstance(spec, tuple) else (STATUS_TEXT.get(status, "OK."), spec)
        responses[status] = {"description": text, "content": _content(model)}
    return {"responses": dict(sorted(responses.items())), "security": SECURITY}


def errors(*statuses: int) -> dict[int, tuple[str, type[BaseModel]]]:
    """Route-specific error statuses, each with the shared error model."""
    return {status: (STATUS_TEXT[status], ErrorResponse) for status in statuses}


def configure(app: APIGatewayRestResolver) -> None:
    """Give the resolver the document's title, description and security schemes."""
    app.configure_openapi(
        title=TITLE,
        version=VERSION,
        description=DESCRIPTION,
        security_schemes=SECURITY_SCHEMES,
    )


def server_url(event: Any) -> str:
    """The base path the caller reached the API under.

    API Gateway's own endpoint puts the stage in the path (``/prod``); a custom domain or the local
    stack serves the API at the root, whatever stage name their events carry.
    """
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    stage = str((event.get("requestContext") or {}).get("stage") or "")
    if stage and stage != "$default" and ".execute-api." in headers.get("host", ""):
        return f"/{stage}"
    return "/"


#: The optional request header of every write that honours idempotency keys.
IDEMPOTENCY_KEY_PARAMETER: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "1 to 255 printable ASCII characters, scoped to the tenant. Within 24 hours the same key with the "
        "same route and body answers the first answer again (only answers below 400 are kept); with "
        "another route or body it answers 422, and while the first request still runs, 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}
REPLAYED_HEADER_DOC: dict[str, Any] = {
    "description": "`true` when this is the stored first answer to a request with the same Idempotency-Key.",
    "schema": {"type": "string", "enum": ["true"]},
}
IDEMPOTENCY_STATUSES: dict[int, str] = {
    409: "Conflicts with what is stored, or the first request with this Idempotency-Key is still running.",
    422: "This Idempotency-Key was first sent with another route or body.",
}


def document(
    app: APIGatewayRestResolver, server: str = "/", idempotent: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The OpenAPI document as a JSON-ready dict (built once per server).

    ``idempotent`` names the paths whose ``POST`` accepts an ``Idempotency-Key``.
    """
    return _document(app, server, idempotent)


def _document_idempotency(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY_PARAMETER))
    responses = operation.setdefault("responses", {})
    for status, text in IDEMPOTENCY_STATUSES.items():
        responses[str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }
    for status, response in responses.items():
        if str(status).startswith(("2", "3")) and isinstance(response, dict):
            response.setdefault("headers", {})["Idempotent-Replayed"] = dict(REPLAYED_HEADER_DOC)
    operation["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))


@lru_cache(maxsize=8)
def _document(app: APIGatewayRestResolver, server: str, idempotent: frozenset[str]) -> dict[str, Any]:
    from aws_lambda_powertools.event_handler.openapi.models import Server

    schema = app.get_openapi_schema(servers=[Server(url=server)])
    doc: dict[str, Any] = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                responses = operation.get("responses", {})
                responses.pop("422", None)
                responses.pop(422, None)
    for path in idempotent:
        operation = doc.get("paths", {}).get(path, {}).get("post")
        if isinstance(operation, dict):
            _document_idempotency(operation)
    components = doc.get("components", {}).get("schemas", {})
    text = str(doc.get("paths"))
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f"#/components/schemas/{name}" not in text:
            components.pop(name, None)
    return doc


def swagger_html(
    app: APIGatewayRestResolver, server: str = "/", idempotent: frozenset[str] = frozenset()
) -> str:
    """The Swagger UI page, with the document and the UI's assets inlined (no CDN needed)."""
    import json
    from pathlib import Path

    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    spec = json.dumps(document(app, server, idempotent), ensure_ascii=False).replace("</", "<\\/")
    return generate_swagger_html(
        spec,
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
        persist_authorization=True,
    )
