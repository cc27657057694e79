"""The local API Gateway stand-in and ``bulk-import serve`` over real sockets, as a client meets them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bulk_import.local.client import call
from bulk_import.local.demo import wait_for_job
from bulk_import.local.gateway import LocalGateway
from bulk_import.local.http_server import LocalHttpServer
from bulk_import.local.schedule import Schedule, optional_handler
from bulk_import.local.stack import LocalStack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "events" / "seed" / "demo-seed.json"
KEY = {"X-API-Key": "acme-secret"}
READ_TIMEOUT = 1.0


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[SEED], read_timeout=READ_TIMEOUT) as s:
        yield s


def exchange(url: str, request: bytes, timeout: float = 10) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes on a fresh connection and read one response; a hang fails on ``timeout``."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(request)
        reader = sock.makefile("rb")
        status = int(reader.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        return status, headers, reader.read(int(headers.get("content-length", 0)))


def error_body(payload: bytes) -> dict[str, Any]:
    body = json.loads(payload)
    assert set(body) == {"message", "errors"} and isinstance(body["message"], str)
    assert body["errors"] == [body["message"]]
    return dict(body)


# -- malformed HTTP ---------------------------------------------------------------------------------------


def test_a_body_shorter_than_its_content_length_is_refused_after_a_read_timeout(stack: LocalStack) -> None:
    started = time.monotonic()
    status, headers, payload = exchange(
        stack.url,
        b"POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nX-API-Key: acme-secret\r\n"
        b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": ',
    )
    assert status == 400 and "incomplete" in error_body(payload)["message"]
    assert READ_TIMEOUT <= time.monotonic() - started < READ_TIMEOUT + 5
    assert headers["connection"] == "close"


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "+5", "0x10", "5, 6", ""])
def test_a_content_length_that_is_not_a_byte_count_is_refused(stack: LocalStack, length: str) -> None:
    status, _, payload = exchange(
        stack.url,
        f"POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}".encode(),
    )
    assert status == 400
    error_body(payload)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"), max_size=30))
def test_no_content_length_but_a_byte_count_is_read_as_one(stack: LocalStack, length: str) -> None:
    assume(not any(part.strip().isdigit() for part in length.split(",")))
    request = b"POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\n{}" % length.encode(
        "latin-1"
    )
    status, _, payload = exchange(stack.url, request)
    assert status == 400
    error_body(payload)


def test_a_body_over_the_payload_limit_is_refused_without_being_read(stack: LocalStack) -> None:
    status, _, payload = exchange(
        stack.url,
        b"POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n",
    )
    assert status == 413 and error_body(payload)["message"] == "Request Too Long"


def test_a_body_that_would_be_refused_is_refused_before_the_client_sends_it(stack: LocalStack) -> None:
    status, _, payload = exchange(
        stack.url,
        b"POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
        b"Content-Length: 20000000\r\n\r\n",
    )
    assert status == 413 and error_body(payload)["message"] == "Request Too Long"


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GARBAGE\r\n\r\n",
        b"GET /docs HTTP/9.9\r\n\r\n",
        b"GET /docs\r\n\r\n",
        b"GET / HTTP/1.1\r\nBad\x00: x\r\n" * 200,
    ],
)
def test_requests_http_cannot_parse_are_answered_in_the_error_shape(
    stack: LocalStack, request_bytes: bytes
) -> None:
    status, _, payload = exchange(stack.url, request_bytes)
    assert 400 <= status < 600
    error_body(payload)


def test_a_chunked_body_is_read_and_the_connection_kept_alive(stack: LocalStack) -> None:
    body = json.dumps({"name": "Chunked", "serviceType": "leads"}).encode()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:7], body[7:])) + b"0\r\n\r\n"
    head = b"POST /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nX-API-Key: acme-secret\r\n"
    head += b"Content-Type: application/json\r\n"
    host, port = stack.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n" + chunks)
        sock.sendall(b"HEAD /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nX-API-Key: acme-secret\r\n\r\n")
        sock.sendall(b"GET /api/v1/campaigns HTTP/1.1\r\nHost: x\r\nX-API-Key: acme-secret\r\n\r\n")
        reader = sock.makefile("rb")
        statuses = []
        for method in ("POST", "HEAD", "GET"):
            statuses.append(int(reader.readline().split()[1]))
            length = 0
            while (line := reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            payload = reader.read(length) if method != "HEAD" else b""
    assert statuses[0] == 201 and statuses[2] == 200
    assert "Chunked" in {c["name"] for c in json.loads(payload)["campaigns"]}


# -- routing and authorization as the REST API declares them ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("TRACE", "/api/v1/campaigns"),
        ("TRACE", "/openapi.json"),
        ("BREW", "/v1/imports/x"),
    ],
)
def test_a_method_the_api_does_not_declare_is_refused_before_the_authorizer(
    stack: LocalStack, method: str, path: str
) -> None:
    status, headers, payload = exchange(stack.url, f"{method} {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert status == 403 and error_body(payload)["message"] == "Missing Authentication Token"
    assert headers["x-amzn-requestid"]


def test_the_authorizers_refusal_has_the_error_shape(stack: LocalStack) -> None:
    resp = call(stack.url, "GET", "/api/v1/campaigns", headers={"X-API-Key": "not-a-key"})
    assert resp.status == 401 and resp.body == {"message": "Unauthorized", "errors": ["Unauthorized"]}


def test_the_openapi_document_names_the_root_of_the_local_url_as_its_server(stack: LocalStack) -> None:
    document = call(stack.url, "GET", "/openapi.json").body
    assert document["servers"] == [{"url": "/"}]
    assert not any(path.startswith("/local") for path in document["paths"])


def _gateway(api: Any) -> Iterator[str]:
    def authorizer(event: dict[str, Any], context: Any) -> dict[str, Any]:
        if not event["headers"] or "x-api-key" not in {k.lower() for k in event["headers"]}:
            raise Exception("Unauthorized")  # the exact message API Gateway turns into a 401
        arn = event["methodArn"].split("/", 1)[0] + "/*"
        statement = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": arn}
        return {
            "principalId": "t",
            "policyDocument": {"Statement": [statement]},
            "context": {"tenantId": "t"},
        }

    server = LocalHttpServer("127.0.0.1", 0, read_timeout=READ_TIMEOUT)
    server.listen(LocalGateway(api=api, authorizer=authorizer, public_paths=frozenset({"/openapi.json"})))
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.close()


@pytest.fixture
def events() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []

    def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}

    for url in _gateway(api):
        yield url, seen


def test_path_parameters_are_decoded_and_the_path_kept_as_sent(
    events: tuple[str, list[dict[str, Any]]],
) -> None:
    url, seen = events
    resp = call(url, "GET", "/v1/imports/imp%23%C3%A9%2Fx?cursor=a%2Bb&limit=&limit=5", headers=KEY)
    assert resp.status == 200
    (event,) = seen
    assert event["path"] == event["requestContext"]["path"] == "/v1/imports/imp%23%C3%A9%2Fx"
    assert event["resource"] == "/{proxy+}" and event["pathParameters"] == {"proxy": "v1/imports/imp#é/x"}
    assert event["queryStringParameters"] == {"cursor": "a+b", "limit": "5"}
    assert event["multiValueQueryStringParameters"]["limit"] == ["", "5"]
    assert event["requestContext"]["authorizer"]["tenantId"] == "t"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40))
def test_any_path_parameter_arrives_decoded(events: tuple[str, list[dict[str, Any]]], value: str) -> None:
    url, seen = events
    seen.clear()
    assert call(url, "GET", f"/v1/imports/{quote(value, safe='')}", headers=KEY).status == 200
    assert seen[0]["pathParameters"] == {"proxy": f"v1/imports/{value}"}


def test_a_handler_crash_or_a_malformed_answer_is_a_502_in_the_error_shape() -> None:
    answers: list[Any] = [
        RuntimeError("boom"),
        {"statusCode": "abc"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "headers": {"X-Next": "a\r\nSet-Cookie: b"}, "body": ""},
    ]

    def api(event: dict[str, Any], context: Any) -> Any:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    for url in _gateway(api):
        for _ in range(4):
            resp = call(url, "GET", "/anything", headers=KEY)
            failed = "Internal server error"
            assert resp.status == 502 and resp.body == {"message": failed, "errors": [failed]}


# -- presigned uploads -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_a_file_put_with_urllib_to_its_upload_url_is_imported(stack: LocalStack, encoding: str) -> None:
    text = (ROOT / "events" / "files" / "debts-relances-fr.csv").read_bytes().decode("cp1252")
    created = call(
        stack.url,
        "POST",
        "/v1/imports/uploads",
        body={
            "kind": "debts",
            "filename": f"relances-{encoding}.csv",
            "options": {"timeline_id": "tl-standard"},
        },
        headers=KEY,
    )
    assert created.status == 201
    # As a user would: no Content-Type, so urllib sends application/x-www-form-urlencoded.
    put = urllib.request.Request(created.body["uploadUrl"], data=text.encode(encoding), method="PUT")
    with urllib.request.urlopen(put, timeout=15) as resp:
        assert resp.status == 200
    job = wait_for_job(stack, f"/v1/imports/{created.body['importId']}", KEY, timeout=60)
    assert job["status"] == "DONE"
    assert {k: job["counts"][k] for k in ("total", "succeeded", "failed", "skipped")} == {
        "total": 14,
        "succeeded": 7,
        "failed": 5,
        "skipped": 2,
    }


# -- background jobs -------------------------------------------------------------------------------------


def test_a_schedule_invokes_its_handler_with_scheduled_events_until_stopped() -> None:
    seen: list[dict[str, Any]] = []
    schedule = Schedule(lambda event, context: seen.append(event), interval=0.05, name="sweep").start()
    time.sleep(0.4)
    schedule.stop()
    count = len(seen)
    time.sleep(0.2)
    assert count >= 2 and len(seen) == count
    assert {e["detail-type"] for e in seen} == {"Scheduled Event"} and seen[0]["source"] == "aws.events"


def test_the_stack_runs_the_background_jobs_the_package_has(stack: LocalStack) -> None:
    assert optional_handler("bulk_import.entrypoints.no_such_module", "handler") is None
    assert optional_handler("bulk_import.entrypoints.worker", "no_such_handler") is None
    has_sweep = optional_handler("bulk_import.entrypoints.sweep", "handler") is not None
    assert [s.name for s in stack.schedules] == (["sweep"] if has_sweep else [])
    has_dlq = optional_handler("bulk_import.entrypoints.file_drop", "dlq_handler") is not None
    assert ("file-drop-dlq" in {p.name for p in stack.pollers}) is has_dlq


# -- bulk-import serve -----------------------------------------------------------------------------------


def serve(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k != "AWS_ENDPOINT_URL"}
    return subprocess.Popen(
        [sys.executable, "-m", "bulk_import.cli", "serve", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serve_on_a_port_in_use_says_so_in_one_line() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = serve("--port", str(port), "--demo")
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert err.strip().splitlines() == [
        f"bulk-import serve: port {port} (API) is already in use (choose another with --port)"
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "no such file"),
        ("{not json", "not JSON"),
        ('{"tenants": [{"apiKeys": 3}]}', "not a seed file"),
        (b"\xff\xfe{}", "not UTF-8"),
        (
            '{"tenants": [{"id": "x", "apiKeys": [{"key": "kkkkkkkkkk", "scopes": ["admin"]}]}]}',
            "unknown scopes",
        ),
    ],
)
def test_serve_with_a_seed_it_cannot_load_says_so_in_one_line(
    tmp_path: Path, content: Any, problem: str
) -> None:
    seed = tmp_path / "seed.json"
    if isinstance(content, bytes):
        seed.write_bytes(content)
    elif content is not None:
        seed.write_text(content)
    proc = serve("--port", str(free_port()), "--seed", str(seed))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"bulk-import serve: seed file {seed}: ") and problem in line


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Bulk import API on"):
            return
    pytest.fail("serve exited before it was ready")


def test_serve_without_a_seed_warns_that_no_tenant_is_loaded() -> None:
    port = free_port()
    proc = serve("--port", str(port))
    try:
        _wait_ready(proc)
        assert call(f"http://127.0.0.1:{port}", "GET", "/api/v1/campaigns", headers=KEY).status == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0
    assert "warning: no tenant is loaded" in err and "Traceback" not in err


def test_serve_accepts_connections_only_once_the_seed_is_loaded() -> None:
    port = free_port()
    proc = serve("--port", str(port), "--demo")
    statuses: list[int] = []
    try:
        deadline = time.monotonic() + 180
        while True:  # connect from the very first moment the port accepts
            assert proc.poll() is None and time.monotonic() < deadline, "serve never listened"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.002)

        def hammer() -> None:
            for _ in range(5):
                statuses.append(
                    call(f"http://127.0.0.1:{port}", "GET", "/api/v1/campaigns", headers=KEY).status
                )

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
    assert statuses == [200] * 20
