"""What HTTP clients send besides the body, over HTTP against the local stack: methods on the public pages,
compressed bodies, parameters given twice.

The local stack answers as the deployed REST API would: its public pages (``/openapi.json``, ``/docs``,
``/console``) take ``GET`` without a key, and every other method on them goes through the key authorizer
to the API function, like any route.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
#: A campaign-customers body: what is sent compressed.
LOANS = {"campaignId": "camp-loans", "records": [dict.fromkeys(["loan_id", "first_name"], "L-gz-1")]}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/openapi.json"), ("DELETE", "/docs"), ("PUT", "/console"), ("POST", "/console/console.js")],
)
def test_another_method_on_a_public_page_is_an_api_call_answered_405_with_allow(
    stack: LocalStack, method: str, path: str
) -> None:
    answer = call(stack.url, method, path, headers=KEY, raw=b"{}" if method != "DELETE" else None)
    assert answer.status == 405, answer.text
    assert answer.headers.get("Allow") == "GET", answer.headers
    assert answer.body["message"].startswith(f"{method} is not allowed here"), answer.text


@pytest.mark.parametrize(("method", "path"), [("POST", "/openapi.json"), ("HEAD", "/docs")])
def test_another_method_on_a_public_page_without_a_key_is_401(
    stack: LocalStack, method: str, path: str
) -> None:
    answer = call(stack.url, method, path)
    assert answer.status == 401, answer.text


def test_the_public_pages_still_load_without_a_key(stack: LocalStack) -> None:
    for path in ("/openapi.json", "/docs", "/console", "/console/console.js"):
        assert call(stack.url, "GET", path).status == 200, path


def test_a_gzip_body_is_refused_naming_its_content_encoding(stack: LocalStack) -> None:
    headers = {**KEY, "Content-Type": "application/json", "Content-Encoding": "gzip"}
    raw = gzip.compress(json.dumps(LOANS).encode())
    answer = call(stack.url, "POST", "/api/v1/customers/add/bulk", raw=raw, headers=headers)
    assert answer.status == 415, answer.text
    assert "Content-Encoding" in answer.body["message"] and "gzip" in answer.body["message"], answer.text


@pytest.mark.parametrize("query", ["limit=2&limit=3", "dryRun=true&dryRun=false"])
def test_a_query_parameter_given_twice_is_refused_saying_so(stack: LocalStack, query: str) -> None:
    if query.startswith("limit"):
        answer = call(stack.url, "GET", f"/v1/imports?{query}", headers=KEY)
    else:
        answer = call(stack.url, "POST", f"/api/v1/customers/add/bulk?{query}", body=LOANS, headers=KEY)
    assert answer.status == 400, answer.text
    name = query.split("=")[0]
    assert name in answer.body["message"] and "once" in answer.body["message"], answer.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PUT", "/v1/imports", "GET"),
        ("PATCH", "/customers/batch/x", "GET"),
        ("PUT", "/api/v1/campaigns", "GET, POST"),
    ],
)
def test_a_method_a_route_does_not_have_is_405_even_without_a_body(
    stack: LocalStack, method: str, path: str, allowed: str
) -> None:
    answer = call(stack.url, method, path, headers=KEY)
    assert answer.status == 405, answer.text
    assert answer.headers.get("Allow") == allowed, answer.headers


@pytest.mark.parametrize(("path", "status"), [("/v1/imports?limit=1", 200), ("/v1/imports/imp_nope", 404)])
def test_head_answers_as_get_without_a_body(stack: LocalStack, path: str, status: int) -> None:
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=30)
    try:
        connection.request("HEAD", path, headers=KEY)
        answer = connection.getresponse()
        assert answer.status == status
        assert answer.getheader("Content-Type", "").startswith("application/json")
        assert answer.read() == b""
    finally:
        connection.close()


def test_a_body_over_the_gateway_s_limit_sent_whole_is_answered_413_not_a_reset_connection(
    stack: LocalStack,
) -> None:
    # As most clients do (no Expect: 100-continue): the whole body is sent before the answer is read.
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(stack.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    try:
        body = b'{"debts": [' + b" " * (26 * 1024 * 1024) + b"]}"
        connection.request(
            "POST",
            "/external-api/v1/debts/batch",
            body=body,
            headers={"X-API-Key": "acme-secret", "Content-Type": "application/json"},
        )
        answer = connection.getresponse()
        assert answer.status == 413
        assert json.loads(answer.read())["message"]
    finally:
        connection.close()
