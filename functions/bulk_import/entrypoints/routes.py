"""Registers one bulk route per import kind on the resolver, from what the kind declares, and says
which write routes honour ``Idempotency-Key`` and the scope each needs. A kind's module is imported
by the first request that needs it, not by the registration.

Kept apart from ``api.py`` and without ``from __future__ import annotations``: the router reads the
route's annotations at runtime to validate the body (and the build, to document it in OpenAPI), so the
annotation must be the kind's real request model, not a string. Answer models are named, not imported
(see ``apidoc``).
"""

import inspect
from collections.abc import Iterator, Mapping
from typing import Annotated, Any

from bulk_import.entrypoints import apidoc, boundary
from bulk_import.entrypoints.router import Body, Path, Query, Response, Router

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
#: Most rows one page of a job view shows (``engine.paging.MAX_PAGE_ROWS``, held equal by a test: the
#: routes are declared without importing the engine).
MAX_JOB_PAGE = 10_000


#: Each kind's HTTP face, as the kind declares it (``route``, ``job_route``, ``mode``): registering the
#: routes imports no kind, and a request imports only the kind it is for. A test holds this table equal
#: to the kinds' own declarations.
KIND_ROUTES: dict[str, tuple[str, str | None, str]] = {
    "campaign-customers": ("/api/v1/customers/add/bulk", None, "sync"),
    "customers": ("/customers/batch", "/customers/batch/<job_id>", "async"),
    "debts": ("/external-api/v1/debts/batch", None, "sync"),
    "payments": ("/payments/payments/import", "/payments/payments/import/<job_id>", "async"),
}


def kind_of_route(path: str) -> str | None:
    """The kind whose bulk route is ``path`` (None: no kind's); trailing slashes do not count, as the
    router answers ``/external-api/v1/debts/batch/`` as the route itself."""
    path = path.rstrip("/") or "/"
    return next((name for name, (route, _, _) in KIND_ROUTES.items() if route == path), None)


def tag(kind: str) -> str:
    """The OpenAPI tag of a kind's routes (``Campaign customers``)."""
    return kind.replace("-", " ").capitalize()


class _LazyDoc(Mapping[str, Any]):
    """The documentation of a route, computed when the document is built (it needs the kind)."""

    def __init__(self, build: Any) -> None:
        self._build = build
        self._doc: dict[str, Any] | None = None

    def _get(self) -> dict[str, Any]:
        if self._doc is None:
            self._doc = dict(self._build())
        return self._doc

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())


class _KindRoute:
    """``POST`` of a kind's bulk route; its signature names the kind's request model, which (with the
    kind's module) is imported when the router first reads it: on the route's first request."""

    def __init__(self, name: str, run: Any) -> None:
        self._name = name
        self._run = run
        self.__name__ = self.__qualname__ = "import_" + name.replace("-", "_")
        self.__module__ = __name__

    def __call__(self, body: Any, dryRun: Any = None) -> Response[Any]:  # noqa: N803
        response: Response[Any] = self._run(get_kind(self._name), body, dryRun)
        return response

    @property
    def __signature__(self) -> inspect.Signature:
        parameter = inspect.Parameter.POSITIONAL_OR_KEYWORD
        return inspect.Signature(
            [
                inspect.Parameter("body", parameter, annotation=self.__annotations__["body"]),
                inspect.Parameter("dryRun", parameter, default=None, annotation=apidoc.DRY_RUN),
            ],
            return_annotation=Response[Any],
        )

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]
        body: Any = Annotated[get_kind(self._name).request_model, Body()]
        return {"body": body, "dryRun": apidoc.DRY_RUN, "return": Response[Any]}

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return get_kind(self._name).__doc__


def get_kind(name: str) -> Any:
    """The kind ``name`` (``bulk_import.kinds.get_kind``): the kinds are imported by the first request
    that runs or documents one, not with the routes."""
    from bulk_import.kinds import get_kind as kind_named

    return kind_named(name)


def register_kind_route(app: Router, name: str, run: Any) -> None:
    """Add ``POST`` of the kind's route to ``app``; ``run(kind, body_model, dry_run)`` returns the
    Response (``dry_run``: the ``dryRun`` query parameter as sent, or None)."""

    def doc() -> dict[str, Any]:
        kind = get_kind(name)
        own = KIND_RESPONSES.get(name) or {200: "ErrorResponse"}
        return {"tags": [tag(name)], "summary": kind.summary or name, **apidoc.route_doc(own)}

    app.route(KIND_ROUTES[name][0], "POST", documentation=_LazyDoc(doc))(_KindRoute(name, run))


def register_job_route(app: Router, kind: str, run: Any) -> None:
    """Add ``GET`` of the kind's job route; ``run(kind, job_id, limit, cursor)`` returns the Response.

    The path parameter is named as the kind's documentation names it (``JOB_PARAMETERS``), and
    ``limit``/``cursor`` page through the per-row part of the view.
    """
    name = JOB_PARAMETERS.get(kind, "job_id")
    path = (KIND_ROUTES[kind][1] or "").replace("<job_id>", f"<{name}>")

    def route(**params: Any) -> Response[Any]:
        return run(get_kind(kind), params[name], params.get("limit"), params.get("cursor"))

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
    route.__name__ = "job_" + kind.replace("-", "_")
    route.__doc__ = f"An asynchronous {kind} import and the result of every row."
    route.__annotations__ = {**annotations, "return": Response[Any]}
    own = {200: JOB_MODELS.get(kind, "ErrorResponse"), **apidoc.errors(404)}
    app.get(path, tags=[tag(kind)], summary=f"Read a {kind} import job", **apidoc.route_doc(own))(route)


#: The ``POST`` routes that write, and so honour ``Idempotency-Key`` (as the API document names them).
IDEMPOTENT_PATHS = frozenset(
    {
        "/api/v1/campaigns",
        "/customers",
        "/v1/imports/uploads",
        "/v1/imports/{importId}/cancel",
        "/v1/imports/{importId}/retry",
        *(route for route, _, _ in KIND_ROUTES.values()),
    }
)


def document_path(rule: str) -> str:
    """A route's rule as the API document names its path (``/v1/imports/<importId>/retry`` is
    ``/v1/imports/{importId}/retry``)."""
    return rule.replace("<", "{").replace(">", "}")


def idempotency_key(event: dict[str, Any], rule: str) -> str | None:
    """The request's key when its route (``rule``, the matched route's) honours one; a dry run stores
    nothing, so it uses no key.

    Raises
    ------
    InvalidIdempotencyKeyError
        The header came twice with two values; a dry run's key is malformed: what the real request
        would be told, told now.
    """
    if str(event.get("httpMethod") or "").upper() != "POST" or document_path(rule) not in IDEMPOTENT_PATHS:
        return None
    from bulk_import.usecases.idempotency import (
        IDEMPOTENCY_KEY_HEADER,
        InvalidIdempotencyKeyError,
        validate_key,
    )

    sent = boundary.header(event, IDEMPOTENCY_KEY_HEADER)
    times = boundary.distinct_values(event, IDEMPOTENCY_KEY_HEADER)
    if times > 1:
        # Which of two keys was meant is not ours to guess (API Gateway would pass on the last one).
        raise InvalidIdempotencyKeyError(
            f"{IDEMPOTENCY_KEY_HEADER}: given {times} times with different values; send it once"
        )
    if _dry_run(event, rule):
        if sent is not None:
            validate_key(sent)
        return None
    return sent


def _dry_run(event: dict[str, Any], rule: str) -> bool:
    if str((event.get("queryStringParameters") or {}).get("dryRun") or "").lower() == "true":
        return True
    # The matched route, not the path as sent: ``/v1/imports/uploads/`` is the same route.
    if rule == "/v1/imports/uploads":
        document = boundary.current().document
        return isinstance(document, dict) and document.get("dryRun") is True
    return False


def route_scope(method: str, rule: str, document: Any) -> str | None:
    """The scope a request needs, known from its method, its route's ``rule`` and its body before the
    body is validated (so that a key without it gets 403 whatever the body): a write's (``write_scope``,
    and the webhook endpoint's), or ``imports:read`` for the reads of imports and jobs. None: the route
    checks it itself (cancel and retry: their import's kind decides), or needs none."""
    if method == "POST":
        return write_scope(rule, document)
    if method in ("PUT", "DELETE") and rule == "/v1/webhooks":
        return "webhooks:write"
    if method == "GET" and (rule.startswith("/v1/imports") or rule in _JOB_RULES):
        return "imports:read"
    return None


#: The job routes of the asynchronous kinds (``GET /customers/batch/<job_id>``…).
_JOB_RULES = frozenset(job for _, job, _ in KIND_ROUTES.values() if job)


def write_scope(path: str, document: Any) -> str | None:
    """The scope a write route needs (an upload's comes from its kind; None when the body names none)."""
    if path == "/api/v1/campaigns":
        return "campaigns:write"
    if path == "/customers":
        return "customers:write"
    named = document.get("kind") if path == "/v1/imports/uploads" and isinstance(document, dict) else None
    # Only text can name a kind (an object or a list as ``kind`` is the route's own 400 to give), in any
    # case, as the upload's body reads it.
    from bulk_import.rules.strings import spelled_as  # with the first write, not the handler's import

    name = kind_of_route(path) or (spelled_as(named, KIND_ROUTES) if isinstance(named, str) else None)
    return get_kind(name).scope if name is not None else None
