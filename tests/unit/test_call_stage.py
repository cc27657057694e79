"""The import workflow's use cases on fakes: call batches of 500, doNotCall, idempotent batches, retries.

The state machine itself runs in moto in ``tests/integration/test_workflow.py``; here its task states are
called in the order it calls them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.fakes import ACME, FakeBus, FakePayloads, FakeQueue, FakeWorkflow, make_deps

from bulk_import.core.errors import NotFoundError, WorkflowUnavailableError
from bulk_import.core.ports import Deps
from bulk_import.engine import jobs, workflow
from bulk_import.kinds import get_kind
from bulk_import.usecases.sync_imports import run_inline_import

KIND = get_kind("campaign-customers")
CALL_CONFIG = {"agentId": "agent-7", "dispositionId": "disp-2"}


def customers(n: int, do_not_call: set[int] = frozenset()) -> list[dict[str, Any]]:  # type: ignore[assignment]
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "loan_id": f"L-{i:05d}",
            "first_name": "Camille",
            "phone_number": f"06 12 {i // 100 % 100:02d} {i % 100:02d} 00",
            "loan_amount": 1000,
            "emi_amount": "45.50",
            "emi_due_date": "05/12/2026",
        }
        if i in do_not_call:
            row["doNotCall"] = True
        rows.append(row)
    return rows


def start_inline(deps: Deps, rows: list[dict[str, Any]], **request: Any) -> tuple[int, dict[str, Any]]:
    body = {"campaignId": "camp-loans", "initiateCall": True, "callConfig": CALL_CONFIG, **request}
    return KIND.respond(run_inline_import(KIND, body, rows, ACME, deps))


def run_call_stage(deps: Deps, import_id: str) -> dict[str, Any]:
    """What the state machine does after the insertion stage, without retries."""
    prepared = workflow.prepare_calls(deps, "acme", import_id)
    for batch in prepared["batches"]:
        workflow.request_calls(deps, "acme", import_id, batch, pause=lambda s: None)
    workflow.finalize(deps, "acme", import_id)
    return prepared


def bus(deps: Deps) -> FakeBus:
    assert isinstance(deps.events, FakeBus)
    return deps.events


def test_an_inline_import_with_calls_answers_what_it_handed_to_the_workflow() -> None:
    deps = make_deps()
    status, body = start_inline(deps, customers(1_200, do_not_call=set(range(0, 1_200, 24))))
    assert status == 201
    assert body["callResults"] == {
        "status": "STARTED",
        "batches": 3,
        "queued": 1_150,
        "skipped": 50,
        "deferred": 0,
        "executionId": f"arn:aws:states:us-east-1:123456789012:execution:wf:{body['importId']}",
    }
    assert isinstance(deps.workflow, FakeWorkflow)
    assert deps.workflow.started == [(body["importId"], False)]
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.status == "PROCESSING" and job.inserted_at is not None
    assert job.to_api()["calls"]["status"] == "PENDING"
    assert job.completed_at is None


def test_the_call_stage_requests_one_call_per_customer_in_batches_of_500_minus_do_not_call() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(1_200, do_not_call={3, 700, 1_199}))
    import_id = body["importId"]
    prepared = run_call_stage(deps, import_id)
    assert prepared["batches"] == [0, 1, 2]
    assert (prepared["eligible"], prepared["skipped"]) == (1_197, 3)
    assert isinstance(deps.payloads, FakePayloads)
    sizes = [
        len(deps.payloads.objects[workflow.batch_key("acme", import_id, b)]["keys"])
        for b in prepared["batches"]
    ]
    assert sizes == [500, 500, 197]
    # The batch files hold keys, not customers.
    assert all(
        k.startswith("camp-loans#L-")
        for b in prepared["batches"]
        for k in deps.payloads.objects[workflow.batch_key("acme", import_id, b)]["keys"]
    )
    events = bus(deps).events
    assert len(events) == 1_197
    assert len({e.detail["customerKey"] for e in events}) == 1_197
    assert "camp-loans#L-00003" not in {e.detail["customerKey"] for e in events}
    assert bus(deps).calls == sum(-(-s // 10) for s in sizes)  # 10 entries a call
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.status == "DONE" and job.completed_at is not None
    assert job.to_api()["calls"] == {
        "status": "DONE",
        "batches": 3,
        "batchesDone": 3,
        "requested": 1_197,
        "skipped": 3,
        "failed": 0,
        "deferred": 0,
        "nextWindowAt": None,
        "skippedBy": {"doNotCall": 3, "doNotCallList": 0, "frequency": 0},
        "executionId": body["callResults"]["executionId"],
    }


def test_a_call_event_carries_who_to_call_and_how() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(1))
    run_call_stage(deps, body["importId"])
    (event,) = bus(deps).events
    assert event.detail_type == "CallRequested"
    assert event.detail == {
        "callId": workflow.call_id(body["importId"], "camp-loans#L-00000"),
        "tenantId": "acme",
        "importId": body["importId"],
        "campaignId": "camp-loans",
        "customerKey": "camp-loans#L-00000",
        "customerRef": {"loan_id": "L-00000"},
        "phone": "+33612000000",
        "agentId": "agent-7",
        "dispositionId": "disp-2",
        # 10:00 on a Friday in Paris: the window open until 13:00 local time.
        "callBy": "2026-11-20T12:00:00Z",
    }


def test_leads_are_called_by_lead_id() -> None:
    deps = make_deps()
    rows = [
        {"lead_id": "lead-1", "first_name": "Ada", "phone_number": "+14155550100", "lead_date": "2026-01-02"}
    ]
    _, body = start_inline(deps, rows, campaignId="camp-leads")
    run_call_stage(deps, body["importId"])
    (event,) = bus(deps).events
    assert event.detail["customerRef"] == {"lead_id": "lead-1"}
    assert event.detail["campaignId"] == "camp-leads" and event.detail["phone"] == "+14155550100"


def test_running_a_batch_again_requests_no_call_twice_and_counts_it_once() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(600))
    import_id = body["importId"]
    prepared = workflow.prepare_calls(deps, "acme", import_id)
    first = prepared["batches"][0]
    for _ in range(3):
        result = workflow.request_calls(deps, "acme", import_id, first)
        assert result == {"batch": 0, "requested": 500, "skipped": 0, "failed": 0}
    assert len(bus(deps).events) == 500
    job = deps.imports.get("acme", import_id)
    assert job is not None and job.calls is not None
    assert (job.calls.requested, job.calls.batches_done) == (500, 1)


def test_a_batch_that_died_after_publishing_part_of_it_sends_only_the_rest() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(500))
    import_id = body["importId"]
    (batch,) = workflow.prepare_calls(deps, "acme", import_id)["batches"]
    assert isinstance(deps.payloads, FakePayloads)
    keys = deps.payloads.objects[workflow.batch_key("acme", import_id, batch)]["keys"]
    deps.imports.record_requested_calls("acme", import_id, keys[:200], batch=batch)
    result = workflow.request_calls(deps, "acme", import_id, 0)
    assert result["requested"] == 500
    assert {e.detail["customerKey"] for e in bus(deps).events} == set(keys[200:])


def test_refused_entries_are_sent_again_then_counted_failed() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(25))
    flaky = {"camp-loans#L-00001", "camp-loans#L-00012"}  # refused once, accepted on the retry
    dead = {"camp-loans#L-00020"}  # refused every time
    bus(deps).refuse = lambda e, attempt: (
        e.detail["customerKey"] in dead or (e.detail["customerKey"] in flaky and attempt == 1)
    )
    pauses: list[float] = []
    import_id = body["importId"]
    (batch,) = workflow.prepare_calls(deps, "acme", import_id)["batches"]
    result = workflow.request_calls(deps, "acme", import_id, batch, pause=pauses.append)
    assert result == {"batch": 0, "requested": 24, "skipped": 0, "failed": 1}
    assert bus(deps).attempts["camp-loans#L-00020"] == workflow.PUBLISH_ATTEMPTS
    assert bus(deps).attempts["camp-loans#L-00001"] == 2
    assert pauses and pauses == sorted(pauses)  # backoff grows
    workflow.finalize(deps, "acme", import_id)
    job = deps.imports.get("acme", import_id)
    assert job is not None and job.calls is not None
    assert (job.calls.status, job.calls.requested, job.calls.failed) == ("DONE", 24, 1)
    # A later run of the batch sends only the one that failed.
    bus(deps).refuse = None
    workflow.request_calls(deps, "acme", import_id, 0)
    assert [e.detail["customerKey"] for e in bus(deps).events].count("camp-loans#L-00020") == 1


def test_a_customer_who_became_do_not_call_after_the_batch_was_prepared_is_skipped() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(3))
    import_id = body["importId"]
    (batch,) = workflow.prepare_calls(deps, "acme", import_id)["batches"]
    start_inline(deps, [customers(3, do_not_call={1})[1]], initiateCall=False, callConfig=None)
    result = workflow.request_calls(deps, "acme", import_id, batch)
    assert result == {"batch": 0, "requested": 2, "skipped": 1, "failed": 0}


def test_a_customer_another_import_wrote_after_the_batch_was_prepared_is_not_called() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(3))
    import_id = body["importId"]
    (batch,) = workflow.prepare_calls(deps, "acme", import_id)["batches"]
    # The same loan sent again by a later import, with calls of its own: it is that import's to call.
    _, later = start_inline(deps, [customers(3)[1]])
    result = workflow.request_calls(deps, "acme", import_id, batch)
    assert result == {"batch": 0, "requested": 2, "skipped": 1, "failed": 0}
    assert [e.detail["customerKey"] for e in bus(deps).events] == ["camp-loans#L-00000", "camp-loans#L-00002"]
    run_call_stage(deps, later["importId"])
    assert bus(deps).events[-1].detail["importId"] == later["importId"]
    assert bus(deps).events[-1].detail["customerKey"] == "camp-loans#L-00001"


def test_preparing_lists_every_stored_customer_at_once_without_waiting_for_an_index() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(1_200))
    prepared = workflow.prepare_calls(deps, "acme", body["importId"])
    assert prepared["eligible"] == 1_200 and len(prepared["batches"]) == 3


def test_calls_recorded_for_one_batch_do_not_count_for_another() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(600))
    import_id = body["importId"]
    first, second = workflow.prepare_calls(deps, "acme", import_id)["batches"]
    assert isinstance(deps.payloads, FakePayloads)
    keys = deps.payloads.objects[workflow.batch_key("acme", import_id, first)]["keys"]
    deps.imports.record_requested_calls("acme", import_id, keys, batch=second)
    assert workflow.request_calls(deps, "acme", import_id, first)["requested"] == 500
    assert len(bus(deps).events) == 500


def test_nothing_stored_starts_no_workflow() -> None:
    deps = make_deps()
    status, body = start_inline(deps, [{"loan_id": "L-1"}])
    assert status == 400
    assert body["callResults"] == {
        "status": "NOT_STARTED",
        "batches": 0,
        "queued": 0,
        "skipped": 0,
        "deferred": 0,
        "executionId": None,
    }
    assert isinstance(deps.workflow, FakeWorkflow) and deps.workflow.started == []


def test_a_workflow_that_cannot_start_fails_the_import_but_keeps_the_records() -> None:
    deps = make_deps()
    assert isinstance(deps.workflow, FakeWorkflow)
    deps.workflow.fail_start = True
    status, body = start_inline(deps, customers(2))
    assert status == 201 and body["results"]["successful"] == 2
    assert body["callResults"]["status"] == "FAILED" and body["callResults"]["executionId"] is None
    assert "could not be started" in body["callResults"]["message"]
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.status == "FAILED" and "unreachable" in (job.error or "")
    assert job.to_api()["calls"]["status"] == "FAILED"


def test_mark_failed_keeps_the_reason_from_a_lambda_error() -> None:
    deps = make_deps()
    _, body = start_inline(deps, customers(1))
    cause = json.dumps(
        {"errorMessage": "bus bulk-import-calls does not exist", "errorType": "ResourceNotFound"}
    )
    workflow.mark_failed(deps, "acme", body["importId"], "ResourceNotFound", cause)
    job = deps.imports.get("acme", body["importId"])
    assert job is not None and job.status == "FAILED"
    assert job.error == "workflow: ResourceNotFound: bus bulk-import-calls does not exist"
    assert job.to_api()["calls"]["status"] == "FAILED"
    assert workflow.failure_reason("States.Timeout", None) == "workflow: States.Timeout"


def test_tasks_for_an_unknown_import_are_not_found() -> None:
    deps = make_deps()
    with pytest.raises(NotFoundError):
        workflow.prepare_calls(deps, "acme", "imp_nope")
    with pytest.raises(NotFoundError):
        workflow.await_insertion(deps, "acme", "imp_nope", "token")
    workflow.mark_failed(deps, "acme", "imp_nope", "Error", None)  # nothing to mark


# -- chunked imports: the insertion stage waits on a task token ------------------------------------------
def start_chunked(deps: Deps, n: int) -> str:
    request = {"campaignId": "camp-loans", "initiateCall": True, "callConfig": CALL_CONFIG}
    return jobs.start_async_import(KIND, request, customers(n), ACME, deps, max_records=100_000).import_id


def drain(deps: Deps) -> None:
    assert isinstance(deps.queue, FakeQueue)
    while deps.queue.messages:
        jobs.process_chunk(jobs.ChunkMessage.from_json(deps.queue.messages.pop(0)), deps)


def test_a_chunked_import_starts_its_workflow_and_the_last_chunk_resumes_it() -> None:
    deps = make_deps()
    completed: list[Any] = []
    deps.on_complete = completed.append
    import_id = start_chunked(deps, 600)
    assert isinstance(deps.workflow, FakeWorkflow)
    assert deps.workflow.started == [(import_id, True)]
    workflow.await_insertion(deps, "acme", import_id, "token-1")  # the execution waits
    assert deps.workflow.resumed == []
    drain(deps)
    assert deps.workflow.resumed == ["token-1"]
    assert len(completed) == 1
    job = deps.imports.get("acme", import_id)
    assert job is not None and job.status == "PROCESSING" and job.inserted_at is not None
    assert job.counts.succeeded == 600 and job.chunks_done == job.chunks_total == 3
    run_call_stage(deps, import_id)
    assert len(bus(deps).events) == 600
    done = deps.imports.get("acme", import_id)
    assert done is not None and done.status == "DONE"


def test_a_token_stored_after_the_last_chunk_resumes_at_once() -> None:
    deps = make_deps()
    import_id = start_chunked(deps, 10)
    drain(deps)
    assert isinstance(deps.workflow, FakeWorkflow)
    assert deps.workflow.resumed == []
    workflow.await_insertion(deps, "acme", import_id, "token-late")
    assert deps.workflow.resumed == ["token-late"]


def test_a_chunk_delivered_again_after_insertion_resumes_again_and_counts_nothing() -> None:
    deps = make_deps()
    import_id = start_chunked(deps, 10)
    assert isinstance(deps.queue, FakeQueue)
    (message,) = deps.queue.messages
    workflow.await_insertion(deps, "acme", import_id, "token-1")
    drain(deps)
    jobs.process_chunk(jobs.ChunkMessage.from_json(message), deps)
    assert isinstance(deps.workflow, FakeWorkflow)
    assert deps.workflow.resumed == ["token-1", "token-1"]  # a resume that failed the first time heals
    job = deps.imports.get("acme", import_id)
    assert job is not None and job.counts.succeeded == 10


def test_a_chunked_import_whose_workflow_cannot_start_is_failed_and_queues_nothing() -> None:
    deps = make_deps()
    assert isinstance(deps.workflow, FakeWorkflow)
    deps.workflow.fail_start = True
    with pytest.raises(WorkflowUnavailableError) as err:
        start_chunked(deps, 10)
    assert isinstance(deps.queue, FakeQueue) and deps.queue.messages == []
    job = deps.imports.get("acme", err.value.details["importId"])
    assert job is not None and job.status == "FAILED"


def test_a_call_stage_that_finds_fewer_customers_than_were_stored_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deps = make_deps()
    status, body = start_inline(deps, customers(3))
    assert status == 201
    records = deps.records
    records.by_import.clear()  # type: ignore[attr-defined]  # records stored before their lists existed
    with caplog.at_level("WARNING", logger="bulk_import.engine.calls"):
        prepared = workflow.prepare_calls(deps, "acme", body["importId"])
    assert prepared["eligible"] == 0
    assert "call lists name 0 of the 3 customers it stored" in caplog.text
