"""Registers one bulk route per import kind on the resolver, from what the kind declares, and says
which write routes honour ``Idempotency-Key`` and the scope each needs.

Kept apart from ``api.py`` and without ``from __future__ import annotations``: the router reads the
route's annotations at runtime to validate the body (and the build, to document it in OpenAPI), so the
annotation must be the kind's real request model, not a string. Answer models are named, not imported
(see ``apidoc``).
"""

import inspect
from typing import Annotated, Any

from bulk_import.entrypoints import apidoc, boundary
from bulk_import.entrypoints.router import Body, Path, Query, Response, Router
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.kinds.base import ImportKind
from bulk_import.usecases.idempotency import IDEMPOTENCY_KEY_HEADER

#: What each kind's bulk route answers besides the common statuses, and the model of its job view.
KIND_RESPONSES: dict[str, dict[int, Any]] = {
    "campaign-customers": {
        200: ("Dry run (dryRun=true): the results as if stored.", "CampaignCustomersDryRun"),
        201: ("Every row was added.", "CampaignCustomersResponse"),
        207: "CampaignCustomersResponse",
        **apidoc.errors(404, 503),
    },
    "debts": {
        200: ("Dry run (dryRun=true): the rows as they would be created.", "DebtsDryRun"),
        201: ("Created, failed and skipped rows.", "DebtsResponse"),
        **apidoc.errors(404, 503),
    },
    "customers": {
        200: ("Dry run (dryRun=true): the finished job, computed inline.", "CustomersJobDryRun"),
        202: "CustomersJobAccepted",
        **apidoc.errors(404, 502),
    },
    "payments": {
        200: ("Dry run (dryRun=true): the finished job, computed inline.", "PaymentsJobDryRun"),
        202: "PaymentsJob",
        **apidoc.errors(404),
    },
}
JOB_MODELS: dict[str, str] = {"customers": "CustomersJob", "payments": "PaymentsJob"}
#: The job route's path parameter, as each kind's documentation names it (default ``job_id``).
JOB_PARAMETERS: dict[str, str] = {"customers": "jobId"}
#: Most rows one page of a job view shows.
MAX_JOB_PAGE = 1000


def tag(kind: ImportKind[Any]) -> str:
    """The OpenAPI tag of a kind's routes (``Campaign customers``)."""
    return kind.name.replace("-", " ").capitalize()


def register_kind_route(app: Router, kind: ImportKind[Any], run: Any) -> None:
    """Add ``POST kind.route`` to ``app``; ``run(kind, body_model, dry_run)`` returns the Response
    (``dry_run``: the ``dryRun`` query parameter as sent, or None)."""

    def route(body: Any, dryRun: Any = None) -> Response[Any]:  # noqa: N803
        return run(kind, body, dryRun)

    route.__name__ = "import_" + kind.name.replace("-", "_")
    route.__doc__ = kind.__doc__
    route.__annotations__ = {
        "body": Annotated[kind.request_model, Body()],
        "dryRun": apidoc.DRY_RUN,
        "return": Response[Any],
    }
    own = KIND_RESPONSES.get(kind.name) or {200: "ErrorResponse"}
    app.post(kind.route, tags=[tag(kind)], summary=kind.summary or kind.name, **apidoc.route_doc(own))(route)


def register_job_route(app: Router, kind: ImportKind[Any], run: Any) -> None:
    """Add ``GET kind.job_route``; ``run(kind, job_id, limit, cursor)`` returns the Response.

    The path parameter is named as the kind's documentation names it (``JOB_PARAMETERS``), and
    ``limit``/``cursor`` page through the per-row part of the view.
    """
    name = JOB_PARAMETERS.get(kind.name, "job_id")
    path = (kind.job_route or "").replace("<job_id>", f"<{name}>")

    def route(**params: Any) -> Response[Any]:
        return run(kind, params[name], params.get("limit"), params.get("cursor"))

    annotations = {
        name: Annotated[str, Path(description="The job id (the import's importId).")],
        "limit": Annotated[
            int | None,
            Query(
                ge=1, le=MAX_JOB_PAGE, description=f"Rows per page, 1 to {MAX_JOB_PAGE} (default: every row)."
            ),
        ],
        "cursor": Annotated[str | None, Query(description="The nextCursor of the previous page.")],
    }
    parameters = [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotations[name]),
        inspect.Parameter(
            "limit", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotations["limit"]
        ),
        inspect.Parameter(
            "cursor", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotations["cursor"]
        ),
    ]
    route.__signature__ = inspect.Signature(parameters, return_annotation=Response[Any])  # type: ignore[attr-defined]
    route.__name__ = "job_" + kind.name.replace("-", "_")
    route.__doc__ = f"An asynchronous {kind.name} import and the result of every row."
    route.__annotations__ = {**annotations, "return": Response[Any]}
    own = {200: JOB_MODELS.get(kind.name, "ErrorResponse"), **apidoc.errors(404)}
    app.get(path, tags=[tag(kind)], summary=f"Read a {kind.name} import job", **apidoc.route_doc(own))(route)


#: The ``POST`` routes that write, and so honour ``Idempotency-Key``.
IDEMPOTENT_PATHS = frozenset(
    {"/api/v1/campaigns", "/customers", "/v1/imports/uploads", *(get_kind(name).route for name in REGISTRY)}
)


def idempotency_key(event: dict[str, Any]) -> str | None:
    """The request's key when its route honours one; a dry run stores nothing, so it uses no key."""
    if str(event.get("httpMethod") or "").upper() != "POST" or event.get("path") not in IDEMPOTENT_PATHS:
        return None
    if str((event.get("queryStringParameters") or {}).get("dryRun") or "").lower() == "true":
        return None
    if event.get("path") == "/v1/imports/uploads":
        document = boundary.current().document
        if isinstance(document, dict) and document.get("dryRun") is True:
            return None
    return boundary.header(event, IDEMPOTENCY_KEY_HEADER)


def write_scope(path: str, document: Any) -> str | None:
    """The scope a write route needs (an upload's comes from its kind; None when the body names none)."""
    if path == "/api/v1/campaigns":
        return "campaigns:write"
    if path == "/customers":
        return "customers:write"
    named = document.get("kind") if path == "/v1/imports/uploads" and isinstance(document, dict) else None
    for name in REGISTRY:
        kind = get_kind(name)
        if kind.route == path or name == named:
            return kind.scope
    return None
