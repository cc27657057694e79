"""Writes the API's OpenAPI document, at build time, from the routes as the API registers them.

``python -m bulk_import.entrypoints.openapi_build`` imports the API handler (so every route module
registers its routes, webhooks and console included), declares each route again on a Powertools
resolver, with the same rule, parameters, markers and documentation, and writes the document
Powertools generates to ``apidoc.DOCUMENT_PATH``. ``--check`` only says whether the stored file is
that document. The API serves the file; none of this is imported when it runs.

The document is freed of what the API never does (Powertools adds a 422 to every route; this API
answers 400 for a malformed request), and the writes that honour ``Idempotency-Key`` get the header,
their 409 and 422 (a key reused with another request) and the ``Idempotent-Replayed`` answer header.
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import sys
from collections.abc import Mapping
from typing import Annotated, Any

from bulk_import.entrypoints import apidoc
from bulk_import.entrypoints.router import Param, Route, Router

#: The command that regenerates the document (the stale-document test names it).
COMMAND = "make openapi (python -m bulk_import.entrypoints.openapi_build)"


def _powertools_marker(marker: Param) -> Any:
    from aws_lambda_powertools.event_handler.openapi import params

    if marker.field_info is not None:
        return marker.field_info
    kind = {"query": params.Query, "path": params.Path, "header": params.Header, "body": params.Body}
    return kind[marker.location](marker.default, **marker.kwargs)


def _content_models(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The route's documentation with each model named in ``schemas`` replaced by the model."""
    from bulk_import.entrypoints import schemas

    responses = {}
    for status, response in (doc.get("responses") or {}).items():
        content = {}
        for media, spec in (response.get("content") or {}).items():
            model = spec.get("model")
            content[media] = {**spec, "model": getattr(schemas, model)} if isinstance(model, str) else spec
        responses[status] = {**response, "content": content} if content else response
    return {**doc, "responses": responses} if responses else dict(doc)


def _declare(resolver: Any, route: Route) -> None:
    """Declare ``route`` on a Powertools resolver: same rule, signature and documentation."""
    from aws_lambda_powertools.event_handler import Response as PowertoolsResponse

    signature = inspect.signature(route.func)
    parameters = []
    for field, parameter in zip(route.fields(), signature.parameters.values(), strict=True):
        annotation: Any = Annotated[field.annotation, _powertools_marker(field.marker)]
        parameters.append(parameter.replace(annotation=annotation))
    returns = route.returns()
    if returns is not inspect.Parameter.empty:
        returns = PowertoolsResponse[returns]  # type: ignore[valid-type]

    @functools.wraps(route.func)
    def declared(**kwargs: Any) -> Any:
        return route.func(**kwargs)

    declared.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=returns
    )
    declared.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": returns}
    del declared.__wrapped__
    resolver.route(route.path, route.method, **_content_models(route.doc))(declared)


def _document_idempotency(operation: dict[str, Any]) -> None:
    operation.setdefault("parameters", []).append(dict(apidoc.IDEMPOTENCY_KEY_PARAMETER))
    responses = operation.setdefault("responses", {})
    for status, text in apidoc.IDEMPOTENCY_STATUSES.items():
        responses[str(status)] = {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}},
        }
    for status, response in responses.items():
        if str(status).startswith(("2", "3")) and isinstance(response, dict):
            response.setdefault("headers", {})["Idempotent-Replayed"] = dict(apidoc.REPLAYED_HEADER_DOC)
    operation["responses"] = dict(sorted(responses.items(), key=lambda item: str(item[0])))


def build_document(app: Router, idempotent: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The OpenAPI document of the routes of ``app``, as a JSON-ready dict (server ``/``).

    ``idempotent`` names the paths whose ``POST`` accepts an ``Idempotency-Key``.
    """
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.models import Server

    resolver = APIGatewayRestResolver(enable_validation=True)
    resolver.configure_openapi(
        title=apidoc.TITLE,
        version=apidoc.VERSION,
        description=apidoc.DESCRIPTION,
        security_schemes=apidoc.SECURITY_SCHEMES,
    )
    for route in app.routes:
        if route.doc.get("include_in_schema", True):
            _declare(resolver, route)
    schema = resolver.get_openapi_schema(servers=[Server(url="/")])
    doc: dict[str, Any] = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    for operations in doc.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict):
                operation.get("responses", {}).pop("422", None)
                # A 204 has no body: Powertools gives it the route's return type as content.
                operation.get("responses", {}).get("204", {}).pop("content", None)
    for path in sorted(idempotent):
        operation = doc.get("paths", {}).get(path, {}).get("post")
        if isinstance(operation, dict):
            _document_idempotency(operation)
    components = doc.get("components", {}).get("schemas", {})
    text = str(doc.get("paths"))
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        if f"#/components/schemas/{name}" not in text:
            components.pop(name, None)
    return doc


def document_text(doc: dict[str, Any]) -> str:
    """The text of the stored document (stable: a diff shows what changed in the API)."""
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def api_document() -> dict[str, Any]:
    """The document of the API handler's routes (importing the handler registers all of them)."""
    from bulk_import.entrypoints import api, routes

    return build_document(api.app, routes.IDEMPOTENT_PATHS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail when the stored document is stale")
    args = parser.parse_args(argv)
    text = document_text(api_document())
    stored = apidoc.DOCUMENT_PATH.read_text(encoding="utf-8") if apidoc.DOCUMENT_PATH.exists() else ""
    if args.check:
        if stored != text:
            print(f"{apidoc.DOCUMENT_PATH} is stale: run {COMMAND} to regenerate it", file=sys.stderr)
            return 1
        return 0
    if stored != text:
        apidoc.DOCUMENT_PATH.parent.mkdir(parents=True, exist_ok=True)
        apidoc.DOCUMENT_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {apidoc.DOCUMENT_PATH} ({len(doc_paths(text))} paths)")
    return 0


def doc_paths(text: str) -> list[str]:
    """The paths of a stored document."""
    return list(json.loads(text).get("paths", {}))


if __name__ == "__main__":
    sys.exit(main())
