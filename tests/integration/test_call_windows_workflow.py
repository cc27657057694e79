"""Calling windows in the workflow under moto: a group outside its window waits in the state machine (a
``Wait`` until its opening, no task running), then publishes; the do-not-call list, the import's status and
the weekly cap are read again just before publishing."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
from tests.integration.conftest import EVENTS
from tests.integration.test_workflow import (  # noqa: F401 - fixtures
    CallsQueue,
    SteadyClock,
    calls_queue,
    clock,
    customers,
    post_customers,
    task_actions,
    wait_for_execution,
)

from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
from bulk_import.adapters.seed import load_seed
from bulk_import.engine import workflow
from bulk_import.entrypoints import runtime
from bulk_import.local.workflow import LambdaRouter

pytestmark = pytest.mark.xdist_group("workflow")
EVERY_DAY = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
#: 13:59:55 in New York, 19:59:55 in Paris: New York's window opens 5 seconds later, Paris's is open.
BEFORE_NEW_YORK_OPENS = datetime(2026, 12, 1, 18, 59, 55, tzinfo=UTC)
NEW_YORK_OPENS = "2026-12-01T19:00:00Z"
NEW_YORK = ["+12125550100", "+12125550101"]


def set_call_policy(**policy: Any) -> None:
    """Load the demo seed again with a calling policy for acme (as an operator would)."""
    document = json.loads((EVENTS / "seed" / "demo-seed.json").read_text())
    for tenant in document["tenants"]:
        if tenant["id"] == "acme":
            tenant["callPolicy"] = policy
    deps = runtime.DEPS.get()
    assert isinstance(deps.tenants, DynamoTenantDirectory) and isinstance(deps.records, DynamoRecordStore)
    load_seed(document, deps.tenants, deps.records)


def two_in_new_york_one_in_paris() -> list[dict[str, Any]]:
    rows = customers(3, set())
    for row, phone in zip(rows, NEW_YORK, strict=False):
        row["phone_number"] = phone
    return rows


def calls_view(import_id: str) -> dict[str, Any]:
    job = runtime.DEPS.get().imports.get("acme", import_id)
    assert job is not None
    return job.to_api()["calls"]


def wait_until_scheduled(import_id: str, timeout: float = 4) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        calls = calls_view(import_id)
        if (calls["status"] == "SCHEDULED" and calls["requested"]) or time.monotonic() > deadline:
            return calls
        time.sleep(0.05)


def wait_until_done(import_id: str, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = runtime.DEPS.get().imports.get("acme", import_id)
        assert job is not None
        if job.status == "DONE" or time.monotonic() > deadline:
            assert job.status == "DONE", job.status
            return job
        time.sleep(0.05)


@pytest.fixture
def new_york_closed(
    aws_workflows: tuple[dict[str, str], LambdaRouter],
    clock: SteadyClock,  # noqa: F811
) -> LambdaRouter:
    clock.set(BEFORE_NEW_YORK_OPENS)
    set_call_policy(windows=[{"days": EVERY_DAY, "start": "14:00", "end": "22:00"}])
    return aws_workflows[1]


def test_customers_outside_their_window_wait_in_the_workflow_until_it_opens(
    new_york_closed: LambdaRouter,
    calls_queue: CallsQueue,  # noqa: F811
    clock: SteadyClock,  # noqa: F811
    context: Any,
) -> None:
    status, body = post_customers(context, two_in_new_york_one_in_paris())
    assert status == 201
    # The answer says already which calls will wait for their window.
    assert (body["callResults"]["queued"], body["callResults"]["deferred"]) == (3, 2)
    calls = wait_until_scheduled(body["importId"])
    assert calls["status"] == "SCHEDULED"
    assert (calls["deferred"], calls["nextWindowAt"], calls["requested"]) == (2, NEW_YORK_OPENS, 1)
    # The records are imported: the import is DONE (its files written) while its calls wait.
    waiting = wait_until_done(body["importId"])
    assert waiting.completed_at is not None and waiting.files
    assert waiting.to_api()["calls"]["status"] == "SCHEDULED"
    # Paris is called at once; New York waits, no task running meanwhile.
    (paris,) = calls_queue.wait_for(1, timeout=3)
    assert paris["detail"]["phone"] == "+33612000200"
    assert paris["detail"]["callBy"] == "2026-12-01T21:00:00Z"  # 22:00 in Paris
    waiting_tasks = len(task_actions(new_york_closed))
    time.sleep(1)
    assert len(task_actions(new_york_closed)) == waiting_tasks

    execution = wait_for_execution(body["callResults"]["executionId"], timeout=30)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert clock.now() >= datetime(2026, 12, 1, 19, tzinfo=UTC)
    events = calls_queue.wait_for(3)
    new_york = sorted((e["detail"]["phone"], e["detail"]["callBy"]) for e in events[1:])
    assert new_york == [(p, "2026-12-02T03:00:00Z") for p in NEW_YORK]  # 22:00 in New York
    calls = calls_view(body["importId"])
    assert calls["status"] == "DONE"
    assert (calls["requested"], calls["deferred"], calls["nextWindowAt"]) == (3, 0, None)


def test_a_number_put_on_the_do_not_call_list_while_its_batch_waits_is_not_called(
    new_york_closed: LambdaRouter,
    calls_queue: CallsQueue,  # noqa: F811
    context: Any,
) -> None:
    _, body = post_customers(context, two_in_new_york_one_in_paris())
    assert wait_until_scheduled(body["importId"])["deferred"] == 2
    set_call_policy(
        windows=[{"days": EVERY_DAY, "start": "14:00", "end": "22:00"}], doNotCallNumbers=[NEW_YORK[0]]
    )
    execution = wait_for_execution(body["callResults"]["executionId"], timeout=30)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    phones = {e["detail"]["phone"] for e in calls_queue.wait_for(2)}
    assert phones == {"+33612000200", NEW_YORK[1]}
    calls = calls_view(body["importId"])
    assert (calls["requested"], calls["skipped"]) == (2, 1)
    assert calls["skippedBy"] == {"doNotCall": 0, "doNotCallList": 1, "frequency": 0}


def test_an_import_whose_calls_wait_is_finished_so_a_cancel_cannot_stop_them_but_the_list_can(
    new_york_closed: LambdaRouter,
    calls_queue: CallsQueue,  # noqa: F811
    clock: SteadyClock,  # noqa: F811
    context: Any,
) -> None:
    _, body = post_customers(context, two_in_new_york_one_in_paris())
    assert wait_until_scheduled(body["importId"])["deferred"] == 2
    wait_until_done(body["importId"])
    # DONE imports are not cancelled (the API answers 409); the do-not-call list is what stops a call.
    assert runtime.DEPS.get().imports.cancel("acme", body["importId"], clock.now()) is None
    set_call_policy(
        windows=[{"days": EVERY_DAY, "start": "14:00", "end": "22:00"}], doNotCallNumbers=list(NEW_YORK)
    )
    execution = wait_for_execution(body["callResults"]["executionId"], timeout=30)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert [e["detail"]["phone"] for e in calls_queue.wait_for(3, timeout=2)] == ["+33612000200"]
    calls = calls_view(body["importId"])
    assert (calls["status"], calls["deferred"], calls["nextWindowAt"]) == ("DONE", 0, None)
    assert calls["skippedBy"]["doNotCallList"] == 2


def test_a_number_past_its_weekly_cap_is_skipped_even_by_another_import(
    aws: dict[str, str], context: Any
) -> None:
    set_call_policy(maxCallsPer7Days=1)
    deps = runtime.DEPS.get()
    answers = []
    for _ in range(2):
        _, body = post_customers(context, customers(2, set()))
        for batch in workflow.prepare_calls(deps, "acme", body["importId"])["batches"]:
            answers.append(workflow.request_calls(deps, "acme", body["importId"], batch))
    assert [(a["requested"], a["skipped"]) for a in answers] == [(2, 0), (0, 2)]
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.calls is not None
    assert job.to_api()["calls"]["skippedBy"] == {"doNotCall": 0, "doNotCallList": 0, "frequency": 2}
