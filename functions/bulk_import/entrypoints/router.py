"""The HTTP API's router: routes declared with decorators, their parameters validated by pydantic.

A route is a function registered with ``@app.get(rule, ...)`` / ``@app.post(rule, ...)``; ``<name>`` in
the rule is a path parameter. Its parameters say where each value comes from, in the annotation:
``Annotated[Model, Body()]`` (the JSON body), ``Annotated[int, Query(ge=1)]`` (the query string),
``Annotated[str, Path()]``, ``Annotated[str, Header()]``; a parameter without a marker is a path
parameter when the rule names it, a query parameter when its type is a scalar, the body otherwise.
Values are validated with pydantic (a ``TypeAdapter`` of the annotation and the marker's
constraints, built on a route's first request), and every problem found is raised at once as
``RequestValidationError``, each error located as ``("body", ...)``, ``("query", name)``,
``("path", name)`` or ``("header", name)``.

The same declarations (rule, markers, the keyword arguments of the decorator: ``tags``, ``summary``,
``responses``, ``security``…) are what ``bulk_import.entrypoints.openapi_build`` turns into the OpenAPI
document at build time; nothing here imports the machinery that writes it. Answers are Lambda proxy
responses in API Gateway's REST format: ``statusCode``, ``body``, ``isBase64Encoded`` and
``multiValueHeaders``.
"""

from __future__ import annotations

import base64
import functools
import inspect
import re
import sys
import types
import typing
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar, get_args, get_origin

from bulk_import.entrypoints.http_types import (
    Body,
    CheckedBody,
    Header,
    Param,
    Path,
    ProxyEvent,
    Query,
    RequestValidationError,
    Response,
    json_ready,
)

__all__ = [
    "Body",
    "CheckedBody",
    "Header",
    "Path",
    "Query",
    "RequestValidationError",
    "Response",
    "Route",
    "Router",
]

T = TypeVar("T")
_DYNAMIC = re.compile(r"<(\w+)>")
#: The methods that write: their routes refuse query parameters they do not take.
_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The characters a path parameter may hold: RFC 3986's unreserved and sub-delimiters, and those API
#: Gateway decodes before the route sees them.
_PARAMETER = r"(?P<\1>[-._~()'!*:@,;=+&$%<> \[\]{}|^\\w]+)"
_SCALARS = (str, int, float, bool, type(None))


def _unwrap(annotation: Any) -> tuple[Any, Param | None]:
    """The type and the marker of an annotation (``Annotated[int, Query(ge=1)]``)."""
    if get_origin(annotation) is not Annotated:
        return annotation, None
    base, *extras = get_args(annotation)
    for extra in extras:
        if isinstance(extra, Param):
            return base, extra
        foreign = _foreign(extra)
        if foreign is not None:
            return base, foreign
    return base, None


def _foreign(extra: Any) -> Param | None:
    """A Powertools marker (a pydantic ``FieldInfo`` named ``Query``, ``Body``…) read as one of ours:
    its constraints validate through the ``FieldInfo`` itself."""
    kind = {"Query": Query, "Path": Path, "Header": Header, "Body": Body}.get(type(extra).__name__)
    if kind is None or not hasattr(extra, "metadata"):
        return None
    default = extra.default if type(extra.default).__name__ != "PydanticUndefinedType" else ...
    marker = kind(default, alias=extra.alias)
    marker.field_info = extra
    return marker


def _is_scalar(annotation: Any) -> bool:
    if annotation in _SCALARS or annotation is Any:
        return True
    origin = get_origin(annotation)
    return origin in (typing.Union, types.UnionType) and all(a in _SCALARS for a in get_args(annotation))


class _Field:
    """One parameter of a route: its name, where it comes from, its validator (built on first use)."""

    def __init__(self, name: str, annotation: Any, marker: Param, default: Any) -> None:
        self.name = name
        self.annotation = annotation
        self.marker = marker
        self.alias = marker.alias or name
        self.default = marker.default if marker.default is not ... else default
        self.required = self.default is ... or self.default is inspect.Parameter.empty
        self._adapter: Any = None

    def validate(self, value: Any, loc: tuple[Any, ...], errors: list[dict[str, Any]]) -> Any:
        from pydantic import Field, TypeAdapter, ValidationError

        if self._adapter is None:
            info = self.marker.field_info
            if info is None:
                constraints = self.marker.constraints()
                constraints.pop("alias", None)
                info = Field(**constraints) if constraints else None
            annotated: Any = Annotated[self.annotation, info] if info is not None else self.annotation
            self._adapter = TypeAdapter(annotated)
        try:
            return self._adapter.validate_python(value, from_attributes=True)
        except ValidationError as exc:
            errors.extend({**e, "loc": loc + tuple(e.get("loc", ()))} for e in exc.errors())
            return None


def _repeated(loc: tuple[Any, ...], times: int) -> dict[str, Any]:
    """The error of a query parameter that takes one value, given ``times`` times."""
    return {"type": "value_error", "loc": loc, "msg": f"given {times} times; send it once", "input": None}


def _unknown(loc: tuple[Any, ...], known: list[str]) -> dict[str, Any]:
    """The error of a query parameter the route does not take."""
    takes = f"it takes {', '.join(known)}" if known else "it takes none"
    return {
        "type": "value_error",
        "loc": loc,
        "msg": f"is not a parameter of this route; {takes}",
        "input": None,
    }


def _missing(loc: tuple[Any, ...]) -> dict[str, Any]:
    from pydantic import ValidationError

    error = ValidationError.from_exception_data(
        "Field required", [{"type": "missing", "loc": loc, "input": {}}]
    )
    first: dict[str, Any] = dict(error.errors()[0])
    first["input"] = None
    return first


class _Attributes(Mapping[str, Any]):
    """The names a route's string annotations may use beyond its module's globals: the module's
    attributes, so a module can provide a model on first use (PEP 562 ``__getattr__``)."""

    def __init__(self, func: Any) -> None:
        self._module = sys.modules.get(getattr(func, "__module__", "") or "")

    def __getitem__(self, name: str) -> Any:
        try:
            return getattr(self._module, name)
        except AttributeError:
            raise KeyError(name) from None

    def __iter__(self) -> typing.Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


class Route:
    """A registered route: method, rule, function, and the documentation the decorator was given."""

    def __init__(self, method: str, rule: str, func: Callable[..., Any], doc: Mapping[str, Any]) -> None:
        self.method = method
        self.path = rule
        self.func = func
        self.doc = doc
        self.path_names = frozenset(_DYNAMIC.findall(rule))
        #: What a path must start with to match (the rule up to its first parameter).
        self.prefix = rule.split("<", 1)[0]
        self._fields: list[_Field] | None = None
        self._returns: Any = inspect.Parameter.empty
        self._return_adapter: Any = None

    @functools.cached_property
    def rule(self) -> re.Pattern[str]:
        """The rule as a regular expression, compiled when first needed: a request is matched against
        the few routes that share its path's start, not all twenty-odd."""
        return re.compile("^" + _DYNAMIC.sub(_PARAMETER, self.path) + "/*$")

    def fields(self) -> list[_Field]:
        """The route's parameters (resolved on first use: annotations may name later definitions)."""
        if self._fields is None:
            signature = inspect.signature(self.func)
            hints = typing.get_type_hints(self.func, localns=_Attributes(self.func), include_extras=True)
            fields = []
            for name, parameter in signature.parameters.items():
                annotation = hints.get(name, parameter.annotation)
                if isinstance(annotation, str):
                    annotation = eval(annotation, self.func.__globals__)
                base, marker = _unwrap(annotation)
                if marker is None:  # as Powertools reads an unmarked parameter
                    marker = Path() if name in self.path_names else Query() if _is_scalar(base) else Body()
                fields.append(_Field(name, base, marker, parameter.default))
            returns = hints.get("return", signature.return_annotation)
            self._returns = get_args(returns)[0] if get_args(returns) else returns
            self._fields = fields
        return self._fields

    def returns(self) -> Any:
        """The type of the route's answer body (``X`` of ``-> Response[X]``; empty when not annotated)."""
        self.fields()
        return self._returns

    def arguments(self, event: ProxyEvent, path_values: dict[str, str]) -> dict[str, Any]:
        """The validated arguments of the route for this request.

        Raises
        ------
        RequestValidationError
            With every problem found in the path, the query string, the headers and the body.
        """
        fields = self.fields()
        query = _query_values(event)
        sources = {"path": path_values, "query": query, "header": event.headers}
        sent: list[tuple[_Field, Any, tuple[str, ...]]] = [
            (f, sources[f.marker.location].get(f.alias), (f.marker.location, f.alias))
            for f in fields
            if f.marker.location != "body"
        ]
        body_fields = [f for f in fields if f.marker.location == "body"]
        if body_fields:
            received = event.json_body if event.body else None
            if len(body_fields) == 1 and not body_fields[0].marker.kwargs.get("embed"):
                sent.append((body_fields[0], received, ("body",)))
            else:  # each body parameter is a field of the body
                document = received if isinstance(received, dict) else {}
                sent += [(f, document.get(f.alias), ("body", f.alias)) for f in body_fields]
        values: dict[str, Any] = {}
        errors: list[dict[str, Any]] = []
        if self.method in _WRITES:
            # A write refuses what it does not know: a misspelt ``?dryRun`` would run the real import.
            known = sorted(f.alias for f in fields if f.marker.location == "query")
            errors += [_unknown(("query", name), known) for name in sorted(query) if name not in known]
        for field, value, loc in sent:
            if loc[0] == "query" and isinstance(value, list) and _is_scalar(field.annotation):
                # A name repeated in the URL: which value was meant is not ours to guess.
                errors.append(_repeated(loc, len(value)))
            elif value is not None and isinstance(field.marker, CheckedBody):
                values[field.name] = value
            elif value is not None:
                values[field.name] = field.validate(value, loc, errors)
            elif field.required:
                errors.append(_missing(loc))
            else:
                values[field.name] = field.default
        if errors:
            raise RequestValidationError(errors)
        return values

    def jsonable(self, body: Any) -> Any:
        """A route's JSON body as JSON-ready values, as its return annotation's type serializes them."""
        if self._returns is inspect.Parameter.empty or self._returns is Any:
            # pydantic-core (about 15 ms to import) only for what is not plain JSON already; decimals
            # stay numbers (pydantic-core would write them as text).
            return json_ready(body, _to_jsonable)
        if self._return_adapter is None:
            from pydantic import TypeAdapter

            # Built once per route: compiling the schema costs more than serializing an answer.
            self._return_adapter = TypeAdapter(self._returns)
        adapter = self._return_adapter
        return adapter.dump_python(
            adapter.validate_python(body, from_attributes=True), mode="json", by_alias=True
        )


def _query_values(event: ProxyEvent) -> dict[str, Any]:
    """The query string as API Gateway's REST events carry it: every value of a name repeated in the
    URL, and a value with commas as it was sent."""
    values: dict[str, Any] = {k: v for k, v in event.query_string_parameters.items() if v is not None}
    for name, sent in event.multi_value_query_string_parameters.items():
        if isinstance(sent, list):
            values[name] = sent[0] if len(sent) == 1 else list(sent)
    return values


class Router:
    """Routes, exception handlers and the request being handled (one at a time per container)."""

    def __init__(
        self, serializer: Callable[[Any], str], json_body_deserializer: Callable[[str], Any]
    ) -> None:
        self._serializer = serializer
        self._json_body_deserializer = json_body_deserializer
        self.routes: list[Route] = []
        self._static: dict[tuple[str, str], Route] = {}
        self._handlers: dict[type[BaseException], Callable[[Any], Any]] = {}
        self._not_found: Callable[[Any], Any] | None = None
        self.current_event: ProxyEvent = ProxyEvent({}, json_body_deserializer)
        self.lambda_context: Any = None
        self.context: dict[str, Any] = {}

    # -- declaring routes ----------------------------------------------------------------------------
    def route(
        self, rule: str, method: str | list[str], documentation: Mapping[str, Any] | None = None, **doc: Any
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Register the decorated function for ``method`` (one or several) on ``rule``.

        ``doc`` (or ``documentation``, a mapping read only when the document is built) holds what the
        OpenAPI document says of the route: ``tags``, ``summary``, ``responses``, ``security``,
        ``include_in_schema``…
        """

        def register(func: Callable[..., T]) -> Callable[..., T]:
            for each in [method] if isinstance(method, str) else method:
                route = Route(each.upper(), rule, func, documentation if documentation is not None else doc)
                self.routes.append(route)
                if not route.path_names:
                    self._static.setdefault((route.method, rule.rstrip("/") or "/"), route)
            return func

        return register

    def get(self, rule: str, **doc: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """``route(rule, "GET")``."""
        return self.route(rule, "GET", **doc)

    def post(self, rule: str, **doc: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """``route(rule, "POST")``."""
        return self.route(rule, "POST", **doc)

    def put(self, rule: str, **doc: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """``route(rule, "PUT")``."""
        return self.route(rule, "PUT", **doc)

    def patch(self, rule: str, **doc: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """``route(rule, "PATCH")``."""
        return self.route(rule, "PATCH", **doc)

    def delete(self, rule: str, **doc: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """``route(rule, "DELETE")``."""
        return self.route(rule, "DELETE", **doc)

    def exception_handler(
        self, exc_class: type[BaseException] | list[type[BaseException]]
    ) -> Callable[[Callable[[Any], Any]], Callable[[Any], Any]]:
        """Register the decorated function as the answer to ``exc_class`` (and its subclasses)."""

        def register(func: Callable[[Any], Any]) -> Callable[[Any], Any]:
            for cls in exc_class if isinstance(exc_class, list) else [exc_class]:
                self._handlers[cls] = func
            return func

        return register

    def not_found(self, func: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """Register the answer to a request no route matches."""
        self._not_found = func
        return func

    def append_context(self, **values: Any) -> None:
        """Keep values for the rest of the request."""
        self.context.update(values)

    # -- serving -------------------------------------------------------------------------------------
    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        """The route for ``method path`` and its path values (as sent), or None."""
        route = self._static.get((method, path.rstrip("/") or "/"))
        if route is not None:
            return route, {}
        for route in self.routes:
            if route.method == method and route.path_names and path.startswith(route.prefix):
                matched = route.rule.match(path)
                if matched:
                    return route, self.path_values(matched)
        return None

    def path_values(self, match: re.Match[str]) -> dict[str, str]:
        """The values of a matched rule's path parameters (overridden to decode them)."""
        return match.groupdict()

    def resolve(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        """Answer one API Gateway event."""
        self.current_event = ProxyEvent(event, self._json_body_deserializer)
        self.lambda_context = context
        self.context = {}
        try:
            response, from_route = self._answer(), True
        except Exception as exc:
            response, from_route = self._handled(exc), False
        try:
            return self._proxy(response, from_route)
        except Exception as exc:
            return self._proxy(self._handled(exc), False)
        finally:
            self.context = {}

    def _answer(self) -> tuple[Response[Any], Route | None]:
        event = self.current_event
        found = self.match(event.http_method.upper(), event.path)
        if found is None:
            if self._not_found is None:
                return Response(404, "application/json", {"statusCode": 404, "message": "Not found"}), None
            return _as_response(self._not_found(_RouteNotFoundError())), None
        route, path_values = found
        self.append_context(_route=route, _path=event.path)
        arguments = route.arguments(event, path_values)
        return _as_response(route.func(**arguments)), route

    def _handled(self, exc: Exception) -> tuple[Response[Any], Route | None]:
        for cls in type(exc).__mro__:
            handler = self._handlers.get(cls)
            if handler is not None:
                return _as_response(handler(exc)), None
        raise exc

    def _proxy(self, answer: tuple[Response[Any], Route | None], from_route: bool) -> dict[str, Any]:
        response, route = answer
        body = response.body
        if response.is_json() and not isinstance(body, str):
            if from_route and route is not None:
                body = route.jsonable(body)
            body = self._serializer(body)
        encoded = isinstance(body, bytes)
        if encoded:
            body = base64.b64encode(body).decode()  # type: ignore[arg-type]
        headers: dict[str, list[str]] = {}
        for name, values in response.headers.items():
            if values is not None:
                headers.setdefault(name, []).extend([values] if isinstance(values, str) else values)
        if response.cookies:
            headers.setdefault("Set-Cookie", []).extend(str(c) for c in response.cookies)
        return {
            "statusCode": response.status_code,
            "body": body,
            "isBase64Encoded": encoded,
            "multiValueHeaders": headers,
        }


def _to_jsonable(value: Any) -> Any:
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value)


class _RouteNotFoundError(Exception):
    """No route matches the request (handed to the ``not_found`` handler)."""


def _as_response(result: Any) -> Response[Any]:
    if hasattr(result, "status_code") and hasattr(result, "body") and hasattr(result, "headers"):
        return result
    if isinstance(result, tuple) and len(result) == 2:
        return Response(status_code=result[1], content_type="application/json", body=result[0])
    return Response(status_code=200, content_type="application/json", body=result)
