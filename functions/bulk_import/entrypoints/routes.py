"""Registers one bulk route per import kind on the resolver, from what the kind declares.

Kept apart from ``api.py`` and without ``from __future__ import annotations``: Powertools reads the
route's annotations at runtime to validate the body and document it in OpenAPI, so the annotation
must be the kind's real request model, not a string.
"""

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body

from bulk_import.domain.kinds.base import ImportKind


def register_kind_route(app: APIGatewayRestResolver, kind: ImportKind[Any], run: Any) -> None:
    """Add ``POST kind.route`` to ``app``; ``run(kind, body_model)`` returns the Response."""

    def route(body: Any) -> Response[Any]:
        return run(kind, body)

    route.__name__ = "import_" + kind.name.replace("-", "_")
    route.__doc__ = kind.__doc__
    route.__annotations__ = {"body": Annotated[kind.request_model, Body()], "return": Response[Any]}
    app.post(kind.route, tags=[kind.name], summary=kind.summary or kind.name)(route)


def register_job_route(app: APIGatewayRestResolver, kind: ImportKind[Any], run: Any) -> None:
    """Add ``GET kind.job_route`` (path parameter ``job_id``); ``run(kind, job_id)`` returns the Response."""

    def route(job_id: str) -> Response[Any]:
        return run(kind, job_id)

    route.__name__ = "job_" + kind.name.replace("-", "_")
    route.__doc__ = f"An asynchronous {kind.name} import and the result of every row."
    route.__annotations__ = {"job_id": str, "return": Response[Any]}
    app.get(kind.job_route or "", tags=[kind.name], summary=f"Read a {kind.name} import job")(route)
