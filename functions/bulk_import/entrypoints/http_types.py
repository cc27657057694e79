"""What a route sees and answers: the markers of its parameters, the request event, the response.

Markers: ``Body()``, ``Query()``, ``Path()``, ``Header()`` in a parameter's ``Annotated`` annotation say
where its value comes from; their keyword arguments are pydantic ``Field``'s (constraints such as
``ge``/``le``, and ``description``, ``examples``, ``json_schema_extra``, which only document it).
Nothing here imports pydantic: a route module costs its own imports and no more.
"""

from __future__ import annotations

import base64
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Param:
    """Where a route parameter comes from, and its constraints (pydantic ``Field`` arguments).

    ``description``, ``examples``, ``title`` and ``json_schema_extra`` only document the parameter.
    """

    location = "query"
    _DOC_ONLY = frozenset({"description", "examples", "title", "json_schema_extra", "deprecated", "embed"})

    def __init__(self, default: Any = ..., **kwargs: Any) -> None:
        self.default = default
        self.kwargs = kwargs
        self.alias: str | None = kwargs.get("alias")
        #: The pydantic ``FieldInfo`` that validates the value, when the marker is one already.
        self.field_info: Any = None

    def constraints(self) -> dict[str, Any]:
        """The keyword arguments of the ``Field`` that validates the value."""
        return {k: v for k, v in self.kwargs.items() if k not in self._DOC_ONLY}


class Query(Param):
    """A query string parameter."""

    location = "query"


class Path(Param):
    """A path parameter (``<name>`` in the rule)."""

    location = "path"


class Header(Param):
    """A request header."""

    location = "header"


class Body(Param):
    """The JSON body (``embed=True``: one field of it, named as the parameter)."""

    location = "body"


class CheckedBody(Body):
    """A JSON body the route's use case checks itself, every rule at once (the model only documents it):
    the router requires a body and hands it over as sent, so that a bad field does not hide the rules
    only the use case knows (a tenant's task types, today's date)."""


class RequestValidationError(Exception):
    """The request's parameters or body do not validate; ``errors()`` lists every problem."""

    def __init__(self, errors: list[dict[str, Any]], body: Any = None) -> None:
        super().__init__(errors)
        self._errors = errors
        self.body = body

    def errors(self) -> list[dict[str, Any]]:
        """pydantic's errors, each ``loc`` starting with where the value came from."""
        return self._errors


class Response(Generic[T]):
    """An answer: status, body (serialized as JSON when the content type is JSON) and headers."""

    def __init__(
        self,
        status_code: int,
        content_type: str | None = None,
        body: T | None = None,
        headers: Mapping[str, str | list[str]] | None = None,
        cookies: list[Any] | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = body
        self.headers: dict[str, str | list[str]] = dict(headers) if headers else {}
        self.cookies = cookies or []
        self.content_type = content_type
        if content_type:
            self.headers.setdefault("Content-Type", content_type)

    def is_json(self) -> bool:
        """Whether the body is JSON, by its Content-Type."""
        content_type = self.headers.get("Content-Type", "")
        if isinstance(content_type, list):
            content_type = content_type[0] if content_type else ""
        return content_type.startswith("application/json")


class _Headers(dict[str, str]):
    """Request headers, looked up whatever their case."""

    def get(self, key: str, default: Any = None) -> Any:
        wanted = key.lower()
        for name, value in self.items():
            if name.lower() == wanted:
                return value
        return default


class RequestContext:
    """The ``requestContext`` of an API Gateway event."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    @property
    def authorizer(self) -> dict[str, Any]:
        """What the authorizer put in the context (tenant, scopes)."""
        return dict(self.raw.get("authorizer") or {})

    @property
    def stage(self) -> str | None:
        """The API Gateway stage."""
        return self.raw.get("stage")

    @property
    def request_id(self) -> str | None:
        """API Gateway's id of the request."""
        return self.raw.get("requestId")


class ProxyEvent(Mapping[str, Any]):
    """An API Gateway (REST, proxy integration) event, read as the routes need it."""

    def __init__(self, event: dict[str, Any], json_deserializer: Callable[[str], Any]) -> None:
        self.raw_event = event
        self._json_deserializer = json_deserializer
        self._json: tuple[Any] | None = None

    def __getitem__(self, key: str) -> Any:
        return self.raw_event[key]

    def __iter__(self) -> typing.Iterator[str]:
        return iter(self.raw_event)

    def __len__(self) -> int:
        return len(self.raw_event)

    @property
    def path(self) -> str:
        """The request path (no stage)."""
        return str(self.raw_event.get("path") or "/")

    @property
    def http_method(self) -> str:
        """The method, as sent."""
        return str(self.raw_event.get("httpMethod") or "")

    @property
    def headers(self) -> _Headers:
        """The headers (any case)."""
        return _Headers(self.raw_event.get("headers") or {})

    def get_header_value(self, name: str, default_value: str | None = None) -> str | None:
        """One header, whatever its case."""
        value = self.headers.get(name)
        return default_value if value is None else str(value)

    @property
    def query_string_parameters(self) -> dict[str, str]:
        """The query string, one value per name."""
        return dict(self.raw_event.get("queryStringParameters") or {})

    @property
    def multi_value_query_string_parameters(self) -> dict[str, list[str]]:
        """The query string, every value of each name."""
        return dict(self.raw_event.get("multiValueQueryStringParameters") or {})

    def get_query_string_value(self, name: str, default_value: str | None = None) -> str | None:
        """One query parameter."""
        return self.query_string_parameters.get(name, default_value)

    @property
    def path_parameters(self) -> dict[str, str]:
        """API Gateway's path parameters (``proxy``)."""
        return dict(self.raw_event.get("pathParameters") or {})

    @property
    def body(self) -> str | None:
        """The body as sent (the boundary hands it over as UTF-8 text)."""
        return self.raw_event.get("body")

    @property
    def is_base64_encoded(self) -> bool:
        """Whether ``body`` is base64."""
        return bool(self.raw_event.get("isBase64Encoded"))

    @property
    def decoded_body(self) -> str | None:
        """The body as text."""
        body = self.body
        if body and self.is_base64_encoded:
            return base64.b64decode(body).decode("utf-8")
        return body

    @property
    def json_body(self) -> Any:
        """The parsed JSON body (parsed once)."""
        if self._json is None:
            self._json = (self._json_deserializer(self.decoded_body),)  # type: ignore[arg-type]
        return self._json[0]

    @property
    def request_context(self) -> RequestContext:
        """The request context (authorizer, stage)."""
        return RequestContext(self.raw_event.get("requestContext") or {})


def json_ready(value: Any, convert: Callable[[Any], Any]) -> Any:
    """``value`` with what the serializer cannot write made JSON-ready by ``convert``.

    Dicts with text keys, lists, text, numbers (``Decimal`` included: the serializer writes it as a
    number, as the client sent it), booleans and None are kept; anything else (a dataclass, a date) is
    handed to ``convert``.
    """
    if value is None or isinstance(value, str | int | float | Decimal):
        return value
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: json_ready(v, convert) for k, v in value.items()}
    if isinstance(value, list):
        return [json_ready(v, convert) for v in value]
    return convert(value)


# -- headers of an API Gateway event (the authorizer's and the API's) ---------------------------------
def distinct_values(event: Mapping[str, Any], name: str) -> int:
    """How many different values a header came with, over all its lines (0 when absent)."""
    wanted = name.lower()
    values = {
        str(v).strip()
        for key, sent in (event.get("multiValueHeaders") or {}).items()
        if str(key).lower() == wanted and isinstance(sent, list)
        for v in sent
    }
    return len(values) or (1 if header(event, name) is not None else 0)


def header(event: Mapping[str, Any], name: str) -> str | None:
    """A request header, whatever its case (None when absent)."""
    wanted = name.lower()
    for key, value in (event.get("headers") or {}).items():
        if str(key).lower() == wanted and value is not None:
            return str(value)
    for key, values in (event.get("multiValueHeaders") or {}).items():
        if str(key).lower() == wanted and values:
            return str(values[0])
    return None
