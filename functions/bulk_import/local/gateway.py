"""A local stand-in for API Gateway: route -> authorizer -> REST proxy event -> API handler -> response.

It declares the same resources and methods as the REST API of the CDK app (``infra/stack.py``): ``ANY`` on
``/`` and ``/{proxy+}`` behind the key authorizer, ``GET`` on the public ``/openapi.json`` and ``/docs``, and
on the import console's page and files (``/console`` and ``/console/{proxy+}``).
What API Gateway answers itself, it answers the same way, with the API's error shape
(``{"message": ..., "errors": [...]}``, the message listed):

* a method a resource does not declare: 403 ``Missing Authentication Token`` (API Gateway's answer to a
  request that matches no method, before any authorizer runs); every resource has ``ANY``, so that is a
  method outside ``ANY_METHODS`` (``TRACE``, ``BREW``), and another method than ``GET`` on a public page
  goes through the authorizer like any route;
* the authorizer raising ``Unauthorized``: 401; a policy that does not allow the method: 403; an authorizer
  that fails or returns no valid policy: 500;
* a handler that raises, or answers something that is not a proxy response, or more than Lambda's 6 MB
  response payload: 502 ``Internal server error``.

The event is the one Lambda receives behind a custom domain mapped to the stage with no base path, which is
how the local URL looks: ``path`` and ``requestContext.path`` carry no stage prefix (so the OpenAPI document's
``servers`` is ``/``), ``path`` keeps the percent-encoding the client sent, and ``pathParameters`` and the
query string parameters are decoded, as API Gateway hands them over.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
Response = tuple[int, dict[str, str], bytes]

REGION = "us-east-1"
ACCOUNT = "123456789012"
API_ID = "local"
STAGE = "local"
#: The methods ``ANY`` stands for in API Gateway.
ANY_METHODS = frozenset({"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"})
#: The public resources with files under them, as the REST API declares them: the import console.
PUBLIC_TREES = frozenset({"/console"})
#: Lambda's limit on a synchronous invocation's response (the serialized proxy response).
LAMBDA_RESPONSE_LIMIT = 6_291_556


@dataclass
class LambdaContext:
    """The parts of Lambda's context object our handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 1769
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Lambda's remaining time (the local stack does not cut handlers short)."""
        return 29_000


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An answer of the gateway itself, in the API's error shape."""
    body = json.dumps({"message": message, "errors": [message]}).encode()
    return status, {"Content-Type": "application/json", **(headers or {})}, body


@dataclass(frozen=True)
class Request:
    """One HTTP request as the gateway receives it.

    ``path`` is the path as sent (percent-encoded), ``query`` the decoded query string pairs in order and
    ``headers`` the header pairs in order (repeated names repeat).
    """

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class Route:
    """A resource of the REST API and the method it was matched with."""

    resource: str
    authorized: bool
    path_parameters: dict[str, str] | None


def _multi(pairs: list[tuple[str, str]]) -> tuple[dict[str, str] | None, dict[str, list[str]] | None]:
    # API Gateway's single-value maps keep the last value of a repeated name; the multi-value maps keep all.
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return single or None, multi or None


def _request_context(request: Request, route: Route, request_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "resourceId": "local",
        "resourcePath": route.resource,
        "httpMethod": request.method,
        "path": request.path,
        "stage": STAGE,
        "domainName": "127.0.0.1",
        "protocol": "HTTP/1.1",
        "requestId": request_id,
        "extendedRequestId": request_id,
        "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "accountId": ACCOUNT,
        "apiId": API_ID,
        "identity": {
            "sourceIp": request.source_ip,
            "userAgent": _header(request, "user-agent"),
        },
    }


def _header(request: Request, name: str) -> str | None:
    return next((v for k, v in reversed(request.headers) if k.lower() == name), None)


def rest_event(request: Request, route: Route, request_id: str | None = None) -> dict[str, Any]:
    """An API Gateway REST proxy event, as Lambda receives it."""
    try:
        text, is_b64 = request.body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(request.body).decode(), True
    headers, multi_headers = _multi(request.headers)
    query, multi_query = _multi(request.query)
    return {
        "resource": route.resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query,
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": route.path_parameters,
        "stageVariables": None,
        "requestContext": _request_context(request, route, request_id or str(uuid.uuid4())),
        "body": text or None,
        "isBase64Encoded": is_b64,
    }


def _allows(policy: Any, method_arn: str) -> bool | None:
    """Whether an IAM policy document allows ``method_arn``: True, False (denied) or None (not valid)."""
    if not isinstance(policy, dict) or not isinstance(policy.get("Statement"), list):
        return None
    allowed = False
    for statement in policy["Statement"]:
        if not isinstance(statement, dict) or statement.get("Effect") not in ("Allow", "Deny"):
            return None
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        if any(fnmatch.fnmatchcase(method_arn, str(pattern)) for pattern in resources):
            if statement["Effect"] == "Deny":
                return False
            allowed = True
    return allowed


def _is_header(name: str, value: str) -> bool:
    try:
        name.encode("ascii"), value.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return bool(name) and not any(c in name for c in " :\r\n") and "\r" not in value and "\n" not in value


@dataclass
class LocalGateway:
    """Routes requests as the REST API does: public paths straight in, everything else through the authorizer.

    Parameters
    ----------
    api
        The API function's handler.
    authorizer
        The REQUEST authorizer's handler.
    public_paths
        Resources with a ``GET`` method and no authorizer (the other paths fall to ``/{proxy+}``).
    """

    api: Handler
    authorizer: Handler
    public_paths: frozenset[str]
    #: Public resources with a ``{proxy+}`` child: the page and every file under it load without a key.
    public_trees: frozenset[str] = PUBLIC_TREES

    def route(self, method: str, path: str) -> Route | None:
        """The resource ``method path`` reaches, or None when no method of the API matches.

        A public resource has ``GET`` without the authorizer and ``ANY`` behind it, as every other
        resource: another method on a public page is an API call (the function answers 405).
        """
        if method not in ANY_METHODS:
            return None
        if path in self.public_paths or path in self.public_trees:
            return Route(path, method != "GET", None)
        tree = next(
            (t for t in self.public_trees if path.startswith(f"{t}/") and len(path) > len(t) + 1), None
        )
        if tree is not None:
            return Route(f"{tree}/{{proxy+}}", method != "GET", {"proxy": unquote(path[len(tree) + 1 :])})
        if path == "/":
            return Route("/", True, None)
        return Route("/{proxy+}", True, {"proxy": unquote(path[1:])})

    def invoke(self, request: Request) -> Response:
        """Handle one request and return status, headers and body."""
        request_id = str(uuid.uuid4())
        ids = {"x-amzn-RequestId": request_id}
        route = self.route(request.method, request.path)
        if route is None:
            return error_response(403, "Missing Authentication Token", ids)
        event = rest_event(request, route, request_id)
        if route.authorized:
            denied = self._authorize(event)
            if denied is not None:
                status, headers, body = denied
                return status, {**headers, **ids}, body
        try:
            response = self.api(event, LambdaContext("api"))
            status, headers, body = self._proxy_response(response)
        except Exception:  # a function error: API Gateway answers 502 and the details go to the logs
            log.exception("API handler failed on %s %s", request.method, request.path)
            return error_response(502, "Internal server error", ids)
        return status, {**headers, **ids}, body

    def _authorize(self, event: dict[str, Any]) -> Response | None:
        """Run the authorizer and put its context in ``event``; return the refusal, if any."""
        context = event["requestContext"]
        method_arn = (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{API_ID}/{STAGE}/{event['httpMethod']}{event['path']}"
        )
        auth_event = {
            "type": "REQUEST",
            "methodArn": method_arn,
            **{k: event[k] for k in ("resource", "path", "httpMethod", "headers", "multiValueHeaders")},
            **{k: event[k] for k in ("queryStringParameters", "multiValueQueryStringParameters")},
            "pathParameters": event["pathParameters"],
            "stageVariables": None,
            "requestContext": context,
        }
        try:
            result = self.authorizer(auth_event, LambdaContext("authorizer"))
        except Exception as exc:
            if str(exc) == "Unauthorized":
                return error_response(401, "Unauthorized")
            log.exception("authorizer failed")
            return error_response(500, "Internal server error")
        allowed = _allows(result.get("policyDocument"), method_arn) if isinstance(result, dict) else None
        if allowed is None or not result.get("principalId"):
            log.error("authorizer returned no valid policy: %r", result)
            return error_response(500, "Internal server error")
        if not allowed:
            return error_response(403, "User is not authorized to access this resource")
        context["authorizer"] = {"principalId": result["principalId"], **(result.get("context") or {})}
        return None

    @staticmethod
    def _proxy_response(response: Any) -> Response:
        """Status, headers and body of a Lambda proxy response; ValueError when it is not one."""
        if not isinstance(response, dict):
            raise ValueError("the handler's answer is not a proxy response")
        if len(json.dumps(response, separators=(",", ":"))) > LAMBDA_RESPONSE_LIMIT:
            raise ValueError(f"the handler's answer is over Lambda's {LAMBDA_RESPONSE_LIMIT:,}-byte limit")
        status = int(response.get("statusCode", 0))
        if not 100 <= status <= 599:
            raise ValueError(f"the handler's answer has no valid statusCode ({status})")
        payload = response.get("body") or ""
        if not isinstance(payload, str):
            raise ValueError("the handler's answer has a body that is not a string")
        raw = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
        headers = {str(k): str(v) for k, v in (response.get("headers") or {}).items()}
        for k, values in (response.get("multiValueHeaders") or {}).items():
            headers[str(k)] = ", ".join(str(v) for v in values)
        for k, v in headers.items():
            if not _is_header(k, v):
                raise ValueError(f"the handler's answer has a header that HTTP cannot carry: {k[:50]!r}")
        if not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "application/json"
        return status, headers, raw
