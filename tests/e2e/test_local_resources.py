"""The local stack's queues, bucket and public pages are set up as the deployed stack declares them."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from bulk_import import resources
from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
CONSOLE_ORIGIN = "https://console.example.com"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(cors_origins=[CONSOLE_ORIGIN]) as s:
        yield s


def attributes(stack: LocalStack, env: str) -> dict[str, str]:
    sqs = stack.session().client("sqs")
    return dict(sqs.get_queue_attributes(QueueUrl=stack.names[env], AttributeNames=["All"])["Attributes"])


@pytest.mark.parametrize(
    ("env", "visibility", "retention"),
    [
        (
            resources.CHUNK_QUEUE_ENV,
            resources.CHUNK_VISIBILITY_TIMEOUT_SECONDS,
            resources.QUEUE_RETENTION_SECONDS,
        ),
        (
            resources.CHUNK_DLQ_ENV,
            resources.CHUNK_DLQ_VISIBILITY_TIMEOUT_SECONDS,
            resources.DLQ_RETENTION_SECONDS,
        ),
        (
            resources.FILE_DROP_QUEUE_ENV,
            resources.FILE_DROP_VISIBILITY_TIMEOUT_SECONDS,
            resources.QUEUE_RETENTION_SECONDS,
        ),
        (
            resources.FILE_DROP_DLQ_ENV,
            resources.FILE_DROP_DLQ_VISIBILITY_TIMEOUT_SECONDS,
            resources.DLQ_RETENTION_SECONDS,
        ),
    ],
)
def test_each_queue_has_the_deployed_timeout_and_retention(
    stack: LocalStack, env: str, visibility: int, retention: int
) -> None:
    attrs = attributes(stack, env)
    assert int(attrs["VisibilityTimeout"]) == visibility
    assert int(attrs["MessageRetentionPeriod"]) == retention


def test_the_file_drop_dlq_is_polled_as_deployed_and_the_sweep_runs_on_its_schedule(
    stack: LocalStack,
) -> None:
    by_name = {p.name: p for p in stack.pollers}
    if "file-drop-dlq" in by_name:
        assert by_name["file-drop-dlq"].batch_size == resources.FILE_DROP_DLQ_BATCH_SIZE
    for schedule in stack.schedules:
        assert schedule.interval == resources.SWEEP_INTERVAL_MINUTES * 60


def preflight(url: str, origin: str, method: str = "PUT") -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(
        url,
        method="OPTIONS",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "content-type",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}


def presigned_put(stack: LocalStack) -> str:
    s3 = stack.session().client("s3", endpoint_url=stack.endpoint_url)
    return str(
        s3.generate_presigned_url(
            "put_object", Params={"Bucket": stack.bucket_name, "Key": "uploads/acme/file.csv"}, ExpiresIn=600
        )
    )


@pytest.mark.parametrize("origin", ["api", CONSOLE_ORIGIN])
def test_a_page_of_an_allowed_origin_may_put_to_a_presigned_url(stack: LocalStack, origin: str) -> None:
    origin = stack.url if origin == "api" else origin
    status, headers = preflight(presigned_put(stack), origin)
    assert status == 200, headers
    assert headers.get("access-control-allow-origin") in (origin, "*")
    assert "PUT" in headers.get("access-control-allow-methods", "")


def test_a_page_of_another_origin_may_not_put(stack: LocalStack) -> None:
    status, headers = preflight(presigned_put(stack), "https://evil.example.net")
    assert status == 403 or "access-control-allow-origin" not in headers, (status, headers)


@pytest.mark.parametrize("method", ["DELETE", "GET", "POST"])
def test_a_page_may_only_put(stack: LocalStack, method: str) -> None:
    # A browser sends the request only when the preflight's allowed methods name it.
    status, headers = preflight(presigned_put(stack), CONSOLE_ORIGIN, method)
    allowed = {m.strip() for m in headers.get("access-control-allow-methods", "").split(",")}
    assert status == 403 or method not in allowed, (status, headers)


@pytest.mark.parametrize("path", ["/console", "/console/app.js", "/console/assets/style.css"])
def test_the_console_and_its_files_need_no_key(stack: LocalStack, path: str) -> None:
    resp = call(stack.url, "GET", path)
    assert resp.status not in (401, 403), (resp.status, resp.text[:200])
    # Another method is an API call like any other, as the REST API declares (ANY behind the authorizer).
    assert call(stack.url, "POST", path, body={}).status == 401
