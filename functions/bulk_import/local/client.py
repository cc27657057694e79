"""A tiny HTTP client for the local API (standard library only), used by the demo and e2e tests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


@dataclass
class ApiResponse:
    """Status, headers and parsed JSON body (None when the body is not JSON)."""

    status: int
    headers: dict[str, str]
    body: Any
    text: str


def call(
    base_url: str,
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    timeout: float = 120,
) -> ApiResponse:
    """Send one request and return the response, whatever its status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base_url + path, data=data, method=method, headers=dict(headers or {}))
    if data is not None and "Content-Type" not in req.headers:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, hdrs, payload = resp.status, dict(resp.headers.items()), resp.read()
    except urllib.error.HTTPError as err:
        status, hdrs, payload = err.code, dict(err.headers.items()), err.read()
    text = payload.decode("utf-8", errors="replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return ApiResponse(status=status, headers=hdrs, body=parsed, text=text)
