"""The OpenAPI document of the HTTP API: what each route answers, and how to authenticate.

Every route declares its statuses through ``route_doc``: the ones every route can answer (400, 401,
403, 413, 415, 500, all with the one error model) plus its own. ``openapi_build`` writes the document
from these declarations at build time, into ``DOCUMENT_PATH``; the API serves that file, with the
server the caller actually reached, and never loads what generates it. Models are named here, not
imported: the answer models of ``schemas`` document the routes, and a request never needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from bulk_import.entrypoints.router import Query

#: The generated document (``python -m bulk_import.entrypoints.openapi_build`` writes it).
DOCUMENT_PATH = Path(__file__).resolve().parents[1] / "data" / "openapi.json"
#: The name of the model of every error answer (``schemas.ErrorResponse``).
ERROR_MODEL = "ErrorResponse"


def _dry_run_flag(what: str) -> Any:
    """A ``dryRun`` query parameter: ``what`` it does when true; true or false, anything else is a 400."""
    return Annotated[
        str | None,
        Query(
            description=f"true: {what} true or false in any case; any other value answers 400.",
            json_schema_extra={"enum": ["true", "false"]},
        ),
    ]


#: The ``dryRun`` query parameter of every bulk ``POST``.
DRY_RUN = _dry_run_flag(
    "apply every rule and look-up and answer 200 with the finished result, storing nothing (no record, "
    "import, job, message, event or idempotency record)."
)
#: The ``dryRun`` query parameter of ``POST /v1/imports/uploads`` (the body's ``dryRun`` does the same).
UPLOAD_DRY_RUN = _dry_run_flag(
    "the import of the file uploaded is a dry run: the file is read and validated with every rule and "
    "look-up when it arrives, nothing is stored, and the import ends DONE with dryRun true (as the body's "
    "dryRun)."
)

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


def _content(model: str | type[Any]) -> dict[str, Any]:
    # A model is named by the name it has in ``schemas`` (or given as a class): the build resolves it.
    return {"application/json": {"model": model}}


def route_doc(own: Mapping[int, Any]) -> dict[str, Any]:
    """The ``responses`` and ``security`` keyword arguments of one route.

    Parameters
    ----------
    own
        The route's own statuses: a model (its name in ``schemas``, or the class), or
        ``(description, model)``; errors without a model of their own use ``ErrorResponse``.
    """
    responses: dict[int, dict[str, Any]] = {
        status: {"description": text, "content": _content(ERROR_MODEL)}
        for status, text in COMMON_STATUSES.items()
    }
    for status, spec in own.items():
        text, model = spec if isinstance(spec, tuple) else (STATUS_TEXT.get(status, "OK."), spec)
        responses[status] = {"description": text, "content": _content(model)}
    return {"responses": dict(sorted(responses.items())), "security": SECURITY}


def errors(*statuses: int) -> dict[int, tuple[str, str]]:
    """Route-specific error statuses, each with the shared error model."""
    return {status: (STATUS_TEXT[status], ERROR_MODEL) for status in statuses}


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


@lru_cache(maxsize=1)
def _stored() -> str:
    return DOCUMENT_PATH.read_text(encoding="utf-8")


@lru_cache(maxsize=8)
def document_text(server: str = "/") -> str:
    """The OpenAPI document as JSON text, its ``servers`` naming ``server``."""
    import json

    doc = json.loads(_stored())
    doc["servers"] = [{"url": server}]
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def document(server: str = "/") -> dict[str, Any]:
    """The OpenAPI document as a JSON-ready dict, its ``servers`` naming ``server``."""
    import json

    return dict(json.loads(document_text(server)))


def swagger_html(server: str = "/") -> str:
    """The Swagger UI page, with the document and the UI's assets inlined (no CDN needed)."""
    # Powertools' page and assets, loaded with the page: no other request needs them.
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    assets = Path(generate_swagger_html.__code__.co_filename).parent
    spec = document_text(server).replace("</", "<\\/")
    return generate_swagger_html(
        spec,
        (assets / "swagger-ui-bundle.min.js").read_text(encoding="utf-8"),
        (assets / "swagger-ui.min.css").read_text(encoding="utf-8"),
        "",
        None,
        persist_authorization=True,
    )
