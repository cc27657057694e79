"""The LMS port's implementations: an HTTP LMS served on 127.0.0.1 by the test, and DynamoDB under moto."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import boto3
import pytest
from tests.fakes import ACME, FakeLms, acme_config, make_deps

from bulk_import import resources
from bulk_import.adapters.lms import DynamoLmsClient, HttpLmsClient, TenantLmsClient
from bulk_import.core.errors import LmsUnavailableError, NotFoundError
from bulk_import.core.tenants import TenantConfig
from bulk_import.usecases.customers import upsert_customer

TOKEN = "s3cret-token"
GRACE = {
    "id": "g-1",
    "firstName": "Grace",
    "lastName": "Hopper",
    "phoneNumber": "+12125550142",
    "streetAddress1": "123 Main St",
    "city": "New York",
    "state": "NY",
    "zipCode": "10001",
    "loans": [{"id": 11}, {"id": 12}],
}


class FakeLmsServer(BaseHTTPRequestHandler):
    """A tiny LMS: known customers by path, plus paths that fail in each way an LMS can."""

    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        FakeLmsServer.hits[self.path] = FakeLmsServer.hits.get(self.path, 0) + 1
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"message": "bad token"})
        elif self.path == "/api/customers/g-1":
            self._answer(200, GRACE)
        elif self.path == "/api/customers/a%2Fb":  # ids are quoted into one path segment
            self._answer(200, {**GRACE, "id": "a/b"})
        elif self.path == "/api/customers/boom":
            self._answer(500, {"message": "internal error"})
        elif self.path == "/api/customers/slow":
            time.sleep(1.0)
            self._answer(200, GRACE)
        elif self.path == "/api/customers/html":
            self._answer(200, "<html>maintenance</html>", raw=True)
        else:
            self._answer(404, {"message": "no such customer"})

    def _answer(self, status: int, body: Any, raw: bool = False) -> None:
        data = body.encode() if raw else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass


@pytest.fixture(scope="module")
def lms_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLmsServer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api"
    finally:
        server.shutdown()
        server.server_close()


def tenant(url: str, **lms: Any) -> TenantConfig:
    return acme_config(lms={"url": url, "token": TOKEN, **lms})


CLIENT = HttpLmsClient(timeout=2.0, attempts=2, backoff=0.01)


def test_http_lms_returns_a_known_customer(lms_url: str) -> None:
    assert CLIENT.fetch_customer(tenant(lms_url), "g-1") == GRACE
    assert CLIENT.fetch_customer(tenant(lms_url + "/"), "a/b") == {**GRACE, "id": "a/b"}


def test_http_lms_404_is_none(lms_url: str) -> None:
    assert CLIENT.fetch_customer(tenant(lms_url), "nobody") is None


def test_http_lms_5xx_is_retried_then_a_clear_error(lms_url: str) -> None:
    FakeLmsServer.hits.pop("/api/customers/boom", None)
    with pytest.raises(LmsUnavailableError) as exc:
        CLIENT.fetch_customer(tenant(lms_url), "boom")
    assert exc.value.message == "the LMS at 127.0.0.1 answered HTTP 500 for customer boom; try again later"
    assert exc.value.status == 502
    assert FakeLmsServer.hits["/api/customers/boom"] == 2


def test_http_lms_refusing_the_credentials_is_not_retried_and_the_token_never_shows(lms_url: str) -> None:
    FakeLmsServer.hits.pop("/api/customers/g-1", None)
    with pytest.raises(LmsUnavailableError) as exc:
        CLIENT.fetch_customer(acme_config(lms={"url": lms_url, "token": "wrong-token"}), "g-1")
    assert exc.value.message == "the LMS at 127.0.0.1 answered HTTP 401 for customer g-1"
    assert "wrong-token" not in exc.value.message
    assert FakeLmsServer.hits["/api/customers/g-1"] == 1


def test_http_lms_timeout_is_a_clear_error(lms_url: str) -> None:
    fast = HttpLmsClient(attempts=1)
    with pytest.raises(LmsUnavailableError, match=r"did not answer within 0\.2 s for customer slow"):
        fast.fetch_customer(tenant(lms_url, timeoutSeconds=0.2), "slow")


def test_http_lms_answer_that_is_not_a_customer_is_an_error(lms_url: str) -> None:
    with pytest.raises(LmsUnavailableError, match="not a customer object for html"):
        CLIENT.fetch_customer(tenant(lms_url), "html")


def test_http_lms_unreachable_is_an_error() -> None:
    with pytest.raises(LmsUnavailableError, match="could not be reached for customer x"):
        HttpLmsClient(attempts=1, timeout=1).fetch_customer(tenant("http://127.0.0.1:9/api"), "x")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://lms.example/api", "lms.example/api"])
def test_http_lms_only_opens_http_urls(url: str) -> None:
    with pytest.raises(LmsUnavailableError, match="has no http\\(s\\) URL configured"):
        CLIENT.fetch_customer(tenant(url), "g-1")


def test_http_lms_fetches_many_customers_in_parallel(lms_url: str) -> None:
    found = CLIENT.fetch_customers(tenant(lms_url), ["g-1", "nobody", "g-1", "a/b"])
    assert set(found) == {"g-1", "a/b"}


def test_the_tenant_configuration_picks_the_implementation(lms_url: str) -> None:
    records = FakeLms()
    records.add("acme", {"id": "g-1", "firstName": "From DynamoDB"})
    lms = TenantLmsClient(records=records, http=CLIENT)
    assert lms.fetch_customer(tenant(lms_url), "g-1") == GRACE
    assert lms.fetch_customer(acme_config(), "g-1") == {"id": "g-1", "firstName": "From DynamoDB"}


def test_a_sync_customer_through_an_http_lms(lms_url: str) -> None:
    deps = make_deps(tenant(lms_url))
    deps.lms = TenantLmsClient(records=FakeLms(), http=CLIENT)
    created, body = upsert_customer(
        deps, ACME, {"id": "g-1", "taskType": "reminder", "sync": True, "loanIds": [12]}
    )
    assert created and body["lastName"] == "Hopper" and body["timezone"] == "America/New_York"
    assert body["loans"] == [{"id": 12}]
    with pytest.raises(NotFoundError):
        upsert_customer(deps, ACME, {"id": "nobody", "taskType": "reminder", "sync": True})
    with pytest.raises(LmsUnavailableError):
        upsert_customer(deps, ACME, {"id": "boom", "taskType": "reminder", "sync": True})


def test_dynamodb_lms_reads_the_seeded_records(aws: dict[str, str]) -> None:
    lms = DynamoLmsClient(boto3.client("dynamodb"), os.environ[resources.CONFIG_TABLE.env_var])
    found = lms.fetch_customers(acme_config(), ["12345", "nobody"])
    assert set(found) == {"12345"}
    assert found["12345"]["lastName"] == "Lovelace"
    assert [int(loan["id"]) for loan in found["12345"]["loans"]] == [67890, 67891]
    assert lms.fetch_customer(acme_config(), "nobody") is None
    # Another tenant's LMS is another partition.
    assert lms.fetch_customers(acme_config(tenant_id="globex"), ["12345"]) == {}
    many = lms.fetch_customers(acme_config(), [f"id-{i}" for i in range(250)] + ["12345"])
    assert set(many) == {"12345"}
