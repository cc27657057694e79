"""The end of an import is announced once per event, whatever runs twice, and never fails the import."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.fakes import (
    FakeImports,
    FakeResolver,
    FakeSecretBox,
    FakeWebhookQueue,
    FakeWebhookStore,
    FixedClock,
)

from bulk_import.core.model import CallStage, Counts, ImportJob
from bulk_import.core.ports import WebhookPorts
from bulk_import.engine.announce import AnnouncingImports, events_of
from bulk_import.usecases.webhooks import configure_endpoint

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
EVERY_EVENT = ["import.completed", "import.failed", "import.cancelled", "calls.completed"]


def _announcing(events: list[str] | None = None) -> tuple[AnnouncingImports, FakeWebhookQueue, list[Any]]:
    queue = FakeWebhookQueue()
    ports = WebhookPorts(
        store=FakeWebhookStore(),
        secrets=FakeSecretBox(),
        resolver=FakeResolver({"hooks.example.com": ["93.184.216.34"]}),
        queue=queue,
    )
    configure_endpoint(ports, "acme", "https://hooks.example.com/", events or EVERY_EVENT, None, NOW)
    failures: list[Any] = []
    repo = AnnouncingImports(
        FakeImports(), ports, FixedClock(), on_error=lambda e, x: failures.append((e, x))
    )
    return repo, queue, failures


def _job(status: Any = "PROCESSING", **kw: Any) -> ImportJob:
    job = ImportJob("imp_1", "acme", "customers", "api", status, NOW, NOW, Counts(total=2), **kw)
    job.chunks_total = 1
    return job


def _types(queue: FakeWebhookQueue) -> list[str]:
    return [m["type"] for m in queue.messages]


def test_the_last_chunk_completing_twice_announces_once() -> None:
    repo, queue, _ = _announcing()
    repo.save(_job())
    repo.apply_chunk("acme", "imp_1", 0, Counts(total=2, valid=2, succeeded=2), NOW)
    repo.complete_if_done("acme", "imp_1", NOW)
    repo.complete_if_done("acme", "imp_1", NOW)
    assert _types(queue) == ["import.completed"]
    assert queue.messages[0]["importId"] == "imp_1" and queue.messages[0]["webhookId"].startswith("msg_")


def test_a_finalization_that_runs_twice_announces_each_event_once() -> None:
    repo, queue, _ = _announcing()
    repo.save(_job(calls=CallStage(status="RUNNING")))
    for _ in range(2):
        repo.finish("acme", "imp_1", "DONE", NOW, calls_status="DONE")
    assert sorted(_types(queue)) == ["calls.completed", "import.completed"]


def test_an_insertion_that_is_not_final_announces_nothing() -> None:
    repo, queue, _ = _announcing()
    repo.save(_job(calls=CallStage()))
    repo.apply_chunk("acme", "imp_1", 0, Counts(total=2, valid=2, succeeded=2), NOW)
    repo.complete_if_done("acme", "imp_1", NOW, final=False)
    assert queue.messages == []


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (lambda r: r.cancel("acme", "imp_1", NOW), ["import.cancelled"]),
        (lambda r: r.finish("acme", "imp_1", "FAILED", NOW, error="file unreadable"), ["import.failed"]),
        (lambda r: r.save(_job("FAILED")), ["import.failed"]),
        (lambda r: r.save(_job("DONE")), ["import.completed"]),
    ],
)
def test_each_way_an_import_ends_is_announced(step: Any, expected: list[str]) -> None:
    repo, queue, _ = _announcing()
    repo.save(_job())
    step(repo)
    step(repo)
    assert _types(queue) == expected


def test_only_the_events_the_endpoint_asks_for_are_queued() -> None:
    repo, queue, _ = _announcing(["import.failed"])
    repo.save(_job("DONE"))
    assert queue.messages == []


def test_a_cancel_refused_for_a_finished_import_announces_nothing_more() -> None:
    repo, queue, _ = _announcing()
    repo.save(_job("DONE"))
    assert repo.cancel("acme", "imp_1", NOW) is None
    assert _types(queue) == ["import.completed"]


def test_a_store_that_is_down_never_fails_the_import_and_is_counted() -> None:
    repo, queue, failures = _announcing()
    assert isinstance(repo.webhooks.store, FakeWebhookStore)
    repo.webhooks.store.down = True
    repo.save(_job("DONE"))
    assert repo.get("acme", "imp_1") is not None and repo.get("acme", "imp_1").status == "DONE"  # type: ignore[union-attr]
    assert queue.messages == [] and [e for e, _ in failures] == ["import.completed"]


def test_a_delivery_that_could_not_be_queued_is_announced_when_the_step_runs_again() -> None:
    repo, queue, failures = _announcing()
    repo.save(_job())
    queue.fail_send = True
    repo.finish("acme", "imp_1", "DONE", NOW)
    assert queue.messages == [] and len(failures) == 1
    queue.fail_send = False
    repo.finish("acme", "imp_1", "DONE", NOW)
    assert _types(queue) == ["import.completed"]


def test_other_repository_methods_pass_through() -> None:
    repo, _, _ = _announcing()
    repo.save(_job())
    assert repo.get("acme", "imp_1") is not None
    assert repo.jobs[("acme", "imp_1")].import_id == "imp_1"  # an attribute of the inner repository


@pytest.mark.parametrize(
    ("status", "calls", "events"),
    [
        ("DONE", None, ["import.completed"]),
        ("DONE", "DONE", ["import.completed", "calls.completed"]),
        ("FAILED", "FAILED", ["import.failed", "calls.completed"]),
        ("CANCELLED", "CANCELLED", ["import.cancelled"]),
        ("PROCESSING", "RUNNING", []),
    ],
)
def test_events_follow_the_final_statuses(status: str, calls: str | None, events: list[str]) -> None:
    assert events_of(status, calls) == events


def test_an_import_that_ended_before_the_endpoint_existed_is_not_announced_when_read_again() -> None:
    repo, queue, _ = _announcing(["import.failed"])
    repo.save(_job("DONE"))
    assert isinstance(repo.webhooks.store, FakeWebhookStore)
    repo.webhooks.store.endpoints["acme"].events = ("import.completed",)
    finished = repo.get("acme", "imp_1")
    assert finished is not None
    finished.files = {"results": "results/acme/imp_1/results.csv"}
    repo.save(finished)  # the view's first read writes its result files
    assert queue.messages == []
