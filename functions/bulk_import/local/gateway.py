"""A local stand-in for API Gateway: HTTP request -> authorizer -> REST proxy event -> API handler."""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


@dataclass
class LambdaContext:
    """The parts of Lambda's context object our handlers and Powertools read."""

    function_name: str
    memory_limit_in_mb: int = 1769
    aws_request_id: str = ""
    invoked_function_arn: str = ""

    def __post_init__(self) -> None:
        self.aws_request_id = self.aws_request_id or str(uuid.uuid4())
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        """Lambda's remaining time (the local stack does not cut handlers short)."""
        return 29_000


def rest_event(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
) -> dict[str, Any]:
    """An API Gateway REST proxy event, as Lambda receives it."""
    try:
        text, is_b64 = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, is_b64 = base64.b64encode(body).decode(), True
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "accountId": "123456789012",
            "apiId": "local",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text or None,
        "isBase64Encoded": is_b64,
    }


@dataclass
class LocalGateway:
    """Routes requests as API Gateway does: public paths straight in, others through the authorizer."""

    api: Handler
    authorizer: Handler
    public_paths: frozenset[str]

    def invoke(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Handle one HTTP request and return status, headers and body."""
        event = rest_event(method, path, query, headers, body)
        if path not in self.public_paths:
            method_arn = f"arn:aws:execute-api:us-east-1:123456789012:local/local/{method}{path}"
            auth_event = {
                "type": "REQUEST",
                "methodArn": method_arn,
                "headers": headers,
                "path": path,
                "httpMethod": method,
                "queryStringParameters": query or None,
            }
            try:
                policy = self.authorizer(auth_event, LambdaContext("authorizer"))
            except Exception as exc:
                if str(exc) == "Unauthorized":
                    return 401, {"Content-Type": "application/json"}, b'{"message":"Unauthorized"}'
                return 500, {"Content-Type": "application/json"}, b'{"message":"authorizer failed"}'
            event["requestContext"]["authorizer"] = {
                "principalId": policy["principalId"],
                **policy["context"],
            }
        response = self.api(event, LambdaContext("api"))
        payload = response.get("body") or ""
        raw = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode("utf-8")
        out_headers = {k: str(v) for k, v in (response.get("headers") or {}).items()}
        for k, values in (response.get("multiValueHeaders") or {}).items():
            out_headers[k] = ", ".join(str(v) for v in values)
        return int(response.get("statusCode", 500)), out_headers, raw


class _RequestHandler(BaseHTTPRequestHandler):
    gateway: LocalGateway
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        query = dict(parse_qsl(parts.query))
        try:
            status, out_headers, payload = self.gateway.invoke(self.command, parts.path, query, headers, body)
        except Exception as exc:  # the local gateway must answer like API Gateway, never hang
            status, out_headers = 502, {"Content-Type": "application/json"}
            payload = json.dumps({"message": f"handler error: {exc}"}).encode()
        self.send_response(status)
        for k, v in out_headers.items():
            if k.lower() not in ("content-length", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo prints its own summary."""


def serve(gateway: LocalGateway, host: str, port: int) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Start an HTTP server for ``gateway`` on a daemon thread; port 0 picks a free port."""
    handler = type("Handler", (_RequestHandler,), {"gateway": gateway})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="local-api", daemon=True)
    thread.start()
    return server, thread
