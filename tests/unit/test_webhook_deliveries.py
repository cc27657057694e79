"""Webhook deliveries: signed as Standard Webhooks, retried on the recommended schedule, 410 disables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook
from tests.fakes import (
    ACME,
    FakeResolver,
    FakeSecretBox,
    FakeTransport,
    FakeWebhookQueue,
    FakeWebhookStore,
    make_deps,
)

from bulk_import.core.model import Counts, ImportJob
from bulk_import.core.ports import Deps, WebhookPorts
from bulk_import.engine.announce import Delivery, new_delivery
from bulk_import.entrypoints import runtime, webhook_delivery
from bulk_import.local.gateway import LambdaContext
from bulk_import.usecases.webhook_deliveries import MAX_ATTEMPTS, RETRY_DELAYS, deliver
from bulk_import.usecases.webhooks import configure_endpoint, get_webhook

URL = "https://hooks.example.com/in"
CONTEXT = LambdaContext("webhook-delivery")


@dataclass
class ManualClock:
    """A clock that stands still until a test moves it."""

    current: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.current


def _deps(answers: list[Any] | None = None, addresses: list[str] | None = None) -> tuple[Deps, str]:
    deps = make_deps()
    deps.clock = ManualClock()
    deps.webhooks = WebhookPorts(
        store=FakeWebhookStore(),
        secrets=FakeSecretBox(),
        resolver=FakeResolver({"hooks.example.com": addresses or ["93.184.216.34"]}),
        queue=FakeWebhookQueue(),
        transport=FakeTransport(answers or [204]),
    )
    _, secret = configure_endpoint(
        deps.webhooks, "acme", URL, ["import.completed", "import.failed"], None, deps.clock.now()
    )
    now = deps.clock.now()
    job = ImportJob(
        "imp_1", "acme", "payments", "api", "DONE", now, now, Counts(total=3, valid=3, succeeded=3)
    )
    job.completed_at = now
    deps.imports.save(job)
    return deps, secret


def _transport(deps: Deps) -> FakeTransport:
    assert deps.webhooks is not None and isinstance(deps.webhooks.transport, FakeTransport)
    return deps.webhooks.transport


def test_a_delivery_verifies_with_the_standard_webhooks_library() -> None:
    deps, secret = _deps()
    delivery = new_delivery("acme", "imp_1", "import.completed", deps.clock.now())

    outcome = deliver(deps, delivery, attempt=1)

    assert outcome.done and outcome.status == 204
    ((url, address, body, headers),) = _transport(deps).requests
    assert (url, address) == (URL, "93.184.216.34")
    document = Webhook(secret).verify(body, headers)
    assert document["type"] == "import.completed" and document["timestamp"] == delivery.timestamp
    assert document["data"]["importId"] == "imp_1" and document["data"]["counts"]["succeeded"] == 3
    assert headers["webhook-id"] == delivery.webhook_id


def test_a_signature_made_with_another_secret_does_not_verify() -> None:
    deps, _ = _deps()
    deliver(deps, new_delivery("acme", "imp_1", "import.completed", deps.clock.now()), attempt=1)
    ((_, _, body, headers),) = _transport(deps).requests
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "C" * 40).verify(body, headers)


@dataclass
class SimulatedQueue:
    """An SQS queue on a fake clock: visibility as the backoff, receive counts, a redrive to a DLQ."""

    clock: ManualClock
    max_receive_count: int
    body: str
    visible_at: datetime | None = None
    receives: int = 0
    dead: list[str] = field(default_factory=list)
    attempts_at: list[datetime] = field(default_factory=list)

    def send(self, message: dict[str, Any]) -> None:
        raise AssertionError("deliveries are not sent again: they are held back")

    def retry_later(self, receipt: str, seconds: int) -> None:
        self.visible_at = self.clock.now() + timedelta(seconds=seconds)

    def run(self) -> None:
        start = self.clock.now()
        self.visible_at = start
        while self.visible_at is not None:
            self.clock.current = self.visible_at
            if self.receives >= self.max_receive_count:  # SQS's redrive, on the receive after the last
                self.dead.append(self.body)
                return
            self.receives += 1
            self.attempts_at.append(self.clock.now())
            record = {
                "messageId": "m-1",
                "receiptHandle": f"r-{self.receives}",
                "body": self.body,
                "attributes": {"ApproximateReceiveCount": str(self.receives)},
            }
            result = webhook_delivery.handler({"Records": [record]}, CONTEXT)
            if not result["batchItemFailures"]:
                self.visible_at = None


def _simulate(answers: list[Any]) -> tuple[Deps, SimulatedQueue]:
    deps, _ = _deps(answers)
    assert deps.webhooks is not None and isinstance(deps.clock, ManualClock)
    body = json.dumps(new_delivery("acme", "imp_1", "import.completed", deps.clock.now()).to_message())
    queue = SimulatedQueue(deps.clock, MAX_ATTEMPTS, body)
    deps.webhooks.queue = queue
    runtime.DEPS.set(deps)
    try:
        queue.run()
    finally:
        runtime.DEPS.set(None)
    return deps, queue


def test_a_failing_endpoint_is_retried_on_the_schedule_then_dead_lettered() -> None:
    deps, queue = _simulate([503])

    start = queue.attempts_at[0]
    offsets = [int((t - start).total_seconds()) for t in queue.attempts_at]
    expected = [0]
    for delay in RETRY_DELAYS:
        expected.append(expected[-1] + delay)
    assert offsets == expected == [0, 5, 305, 2105, 9305, 27305, 63305, 99305]
    assert len(queue.dead) == 1
    requests = _transport(deps).requests
    assert len(requests) == 8
    assert {r[3]["webhook-id"] for r in requests} == {requests[0][3]["webhook-id"]}
    assert len({r[3]["webhook-timestamp"] for r in requests}) == 8


def test_a_timeout_counts_as_a_failed_attempt_and_a_later_success_ends_the_retries() -> None:
    _, queue = _simulate([TimeoutError("timed out"), ConnectionResetError(), 500, 200])
    assert len(queue.attempts_at) == 4 and not queue.dead
    assert [int((t - queue.attempts_at[0]).total_seconds()) for t in queue.attempts_at] == [0, 5, 305, 2105]


def test_a_410_disables_the_endpoint_and_nothing_more_is_sent() -> None:
    deps, queue = _simulate([410])
    assert len(queue.attempts_at) == 1 and not queue.dead
    view = get_webhook(deps, ACME)
    assert view["enabled"] is False and "410" in view["disabledReason"]

    later = deliver(deps, new_delivery("acme", "imp_1", "import.failed", deps.clock.now()), attempt=1)
    assert later.done and len(_transport(deps).requests) == 1


def test_a_refused_connection_tries_the_next_address_of_the_name() -> None:
    deps, _ = _deps([ConnectionRefusedError(), 204], addresses=["2606:2800:220:1::1", "93.184.216.34"])
    assert deliver(deps, new_delivery("acme", "imp_1", "import.completed", deps.clock.now()), attempt=1).done
    assert [r[1] for r in _transport(deps).requests] == ["2606:2800:220:1::1", "93.184.216.34"]


def test_a_name_that_now_resolves_inside_the_network_gets_no_request() -> None:
    deps, _ = _deps()
    assert deps.webhooks is not None
    deps.webhooks.resolver = FakeResolver({"hooks.example.com": ["169.254.169.254"]})
    outcome = deliver(deps, new_delivery("acme", "imp_1", "import.completed", deps.clock.now()), attempt=2)
    assert not outcome.done and outcome.retry_in == RETRY_DELAYS[1] and "169.254.169.254" in outcome.reason
    assert _transport(deps).requests == []


@pytest.mark.parametrize("change", ["deleted", "unsubscribed"])
def test_a_delivery_for_an_endpoint_that_no_longer_wants_it_is_dropped(change: str) -> None:
    deps, _ = _deps()
    assert deps.webhooks is not None
    store = deps.webhooks.store
    assert isinstance(store, FakeWebhookStore)
    if change == "deleted":
        store.delete_webhook("acme")
    else:
        store.endpoints["acme"].events = ("import.failed",)
    outcome = deliver(deps, new_delivery("acme", "imp_1", "import.completed", deps.clock.now()), attempt=1)
    assert outcome.done and _transport(deps).requests == []


def test_an_unreadable_message_is_dropped_not_retried() -> None:
    deps, _ = _deps()
    runtime.DEPS.set(deps)
    try:
        record = {"messageId": "m", "receiptHandle": "r", "body": "{not json", "attributes": {}}
        assert webhook_delivery.handler({"Records": [record]}, CONTEXT) == {"batchItemFailures": []}
    finally:
        runtime.DEPS.set(None)


def test_the_webhook_id_is_the_same_however_often_an_event_is_announced() -> None:
    now = datetime.now(UTC)
    first = new_delivery("acme", "imp_1", "import.completed", now)
    again = new_delivery("acme", "imp_1", "import.completed", now + timedelta(hours=1))
    other = new_delivery("acme", "imp_1", "import.failed", now)
    assert first.webhook_id == again.webhook_id != other.webhook_id
    assert Delivery.from_message(first.to_message()) == first
