"""Webhooks on moto: sealed secrets in DynamoDB, seed files, one delivery per event when a chunk runs
twice, and the delivery queue's visibility as the retry schedule, down to its dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from standardwebhooks import Webhook
from tests.fakes import ALL_SCOPES, FakeResolver, FakeTransport

from bulk_import.adapters.dynamo_webhooks import DynamoWebhookStore
from bulk_import.adapters.seed import load_seed
from bulk_import.adapters.webhook_sender import WEBHOOK_DLQ_ENV, WEBHOOK_QUEUE_ENV
from bulk_import.core.ports import Deps
from bulk_import.core.tenants import Principal
from bulk_import.engine import jobs
from bulk_import.engine.announce import AnnouncingImports
from bulk_import.entrypoints import runtime, webhook_delivery, worker
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.local.gateway import LambdaContext
from bulk_import.local.webhooks import create_webhook_resources
from bulk_import.usecases import webhooks
from bulk_import.usecases.webhook_deliveries import MAX_ATTEMPTS, RETRY_DELAYS

ACME = Principal("acme", ALL_SCOPES)
URL = "https://hooks.example.com/in"
CONTEXT = LambdaContext("test")


@pytest.fixture
def hooks(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    names = create_webhook_resources(boto3.session.Session(), "us-east-1")
    for k, v in names.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setitem(REGISTRY, "numbers", "tests.unit.test_jobs:NumbersKind")
    get_kind.cache_clear()
    runtime.DEPS.set(None)
    deps = runtime.DEPS.get()
    assert deps.webhooks is not None
    deps.webhooks.resolver = FakeResolver({"hooks.example.com": ["93.184.216.34"]})
    deps.webhooks.transport = FakeTransport([204])
    yield {**aws, **names}
    runtime.DEPS.set(None)
    get_kind.cache_clear()


def _deps() -> Deps:
    return runtime.DEPS.get()


def _messages(queue_url: str) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    out: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, AttributeNames=["All"])
        if not got.get("Messages"):
            return out
        out.extend(dict(m) for m in got["Messages"])


def _record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message["Attributes"],
    }


def test_secrets_are_stored_sealed_and_open_for_their_tenant_only(hooks: dict[str, str]) -> None:
    answer = webhooks.put_webhook(_deps(), ACME, URL, ["import.completed"], None)
    item = boto3.client("dynamodb").get_item(
        TableName=hooks["CONFIG_TABLE"], Key={"pk": {"S": "T#acme"}, "sk": {"S": "WEBHOOK"}}
    )["Item"]
    assert answer["secret"] not in json.dumps(item)
    ports = _deps().webhooks
    assert ports is not None
    sealed = item["sealedSecret"]["S"]
    assert ports.secrets.open("acme", sealed) == answer["secret"]
    with pytest.raises(Exception, match="InvalidCiphertext"):
        ports.secrets.open("globex", sealed)
    assert "secret" not in webhooks.get_webhook(_deps(), ACME)


def test_a_seed_file_configures_the_tenants_webhook(hooks: dict[str, str]) -> None:
    deps = _deps()
    secret = "whsec_" + "QUJD" * 10
    seed = {
        "tenants": [{"id": "acme", "webhooks": {"url": URL, "events": ["import.failed"], "secret": secret}}]
    }
    load_seed(seed, deps.tenants, deps.records, webhooks=deps.webhooks)  # type: ignore[arg-type]
    endpoint = webhooks.get_webhook(deps, ACME)
    assert endpoint["url"] == URL and endpoint["events"] == ["import.failed"]
    store = DynamoWebhookStore(boto3.client("dynamodb"), hooks["CONFIG_TABLE"], hooks["IMPORTS_TABLE"])
    stored = store.get_webhook("acme")
    assert stored is not None and deps.webhooks is not None
    assert deps.webhooks.secrets.open("acme", stored.sealed_secret) == secret


def test_a_refused_seed_webhook_names_its_tenant(hooks: dict[str, str]) -> None:
    deps = _deps()
    seed = {
        "tenants": [
            {"id": "acme", "webhooks": {"url": "https://169.254.169.254/", "events": ["import.failed"]}}
        ]
    }
    with pytest.raises(Exception, match="tenant acme: webhooks: url: not allowed"):
        load_seed(seed, deps.tenants, deps.records, webhooks=deps.webhooks)  # type: ignore[arg-type]


def test_chunks_delivered_twice_queue_one_delivery_of_the_import(hooks: dict[str, str]) -> None:
    deps = _deps()
    assert isinstance(deps.imports, AnnouncingImports)
    webhooks.put_webhook(deps, ACME, URL, ["import.completed"], None)
    data = [{"id": f"r{i}", "n": i + 1} for i in range(7)]
    job = jobs.start_async_import(get_kind("numbers"), {}, data, ACME, deps)
    chunks = _messages(hooks["CHUNK_QUEUE_URL"])
    event = {"Records": [_record(m) for m in chunks]}
    worker.handler(event, CONTEXT)
    worker.handler(event, CONTEXT)  # the queue delivered every chunk again

    (delivery,) = _messages(hooks[WEBHOOK_QUEUE_ENV])
    body = json.loads(delivery["Body"])
    assert body["type"] == "import.completed" and body["importId"] == job.import_id


def test_a_failing_endpoint_is_held_back_on_the_schedule_then_dead_lettered(hooks: dict[str, str]) -> None:
    deps = _deps()
    assert deps.webhooks is not None
    answer = webhooks.put_webhook(deps, ACME, URL, ["import.completed"], None)
    transport = FakeTransport([503])
    deps.webhooks.transport = transport
    jobs.start_async_import(get_kind("numbers"), {}, [{"id": "r1", "n": 1}], ACME, deps)
    worker.handler({"Records": [_record(m) for m in _messages(hooks["CHUNK_QUEUE_URL"])]}, CONTEXT)
    sqs = boto3.client("sqs")
    queue = hooks[WEBHOOK_QUEUE_ENV]
    for attempt in range(1, MAX_ATTEMPTS + 1):
        (message,) = _messages(queue)
        assert message["Attributes"]["ApproximateReceiveCount"] == str(attempt)
        result = webhook_delivery.handler({"Records": [_record(message)]}, CONTEXT)
        assert len(result["batchItemFailures"]) == 1
        if attempt < MAX_ATTEMPTS:
            assert _messages(queue) == [], f"held back {RETRY_DELAYS[attempt - 1]} s after attempt {attempt}"
            # Time passes: the message becomes visible again.
            sqs.change_message_visibility(
                QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
    assert _messages(queue) == []
    (dead,) = _messages(hooks[WEBHOOK_DLQ_ENV])
    assert json.loads(dead["Body"])["type"] == "import.completed"
    assert len(transport.requests) == MAX_ATTEMPTS
    (_, _, body, headers), *_ = transport.requests
    assert Webhook(answer["secret"]).verify(body, headers)["type"] == "import.completed"
