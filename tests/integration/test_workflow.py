"""The import workflow under moto: the deployed definition in moto's Step Functions interpreter, its task
states on our handler, EventBridge delivering ``CallRequested`` events to an SQS queue through a rule.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
from tests.fakes import ALL_SCOPES
from tests.integration.conftest import load_event, with_body

from bulk_import import resources
from bulk_import.adapters.aws import SystemClock
from bulk_import.adapters.errors import is_transient
from bulk_import.adapters.events import EventBridgeBus
from bulk_import.adapters.stepfunctions import StepFunctionsWorkflow
from bulk_import.core.errors import TransientError
from bulk_import.core.ports import BusEvent
from bulk_import.core.tenants import Principal
from bulk_import.engine import jobs, workflow
from bulk_import.entrypoints import api, runtime, worker
from bulk_import.entrypoints import workflow as workflow_entry
from bulk_import.kinds import get_kind
from bulk_import.local import workflow as local_workflow
from bulk_import.local.poller import SqsPoller
from bulk_import.local.resources import create_calls_queue
from bulk_import.local.workflow import TASKS_FUNCTION, LambdaRouter

pytestmark = pytest.mark.xdist_group("workflow")
ACME = Principal("acme", ALL_SCOPES)
CALL_CONFIG = {"agentId": "agent-7", "dispositionId": "disp-2"}
#: A Tuesday at 10:30 in Paris: the French customers' calling window is open for another 90 minutes.
OPEN_IN_PARIS = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


class SteadyClock:
    """The time from an instant on, going as fast as the real one (the workflow's waits are real)."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, start: datetime) -> None:
        self._start, self._t0 = start, time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._t0)


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> SteadyClock:
    """Every handler's clock and the state machine's waits read this one (set before the stack starts)."""
    steady = SteadyClock(OPEN_IN_PARIS)
    monkeypatch.setattr(SystemClock, "now", lambda self: steady.now())
    monkeypatch.setattr(local_workflow, "_utc_now", steady.now)
    return steady


def customers(n: int, do_not_call: set[int]) -> list[dict[str, Any]]:
    return [
        {
            "loan_id": f"L-{i:05d}",
            "first_name": "Camille",
            "phone_number": f"06 12 {i // 100 % 100:02d} {i % 100:02d} 00",
            "loan_amount": 1000,
            "emi_amount": "45.50",
            "emi_due_date": "05/12/2026",
            **({"doNotCall": True} if i in do_not_call else {}),
        }
        for i in range(n)
    ]


def post_customers(context: Any, rows: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    event = with_body(
        load_event("api/campaign-customers-clean.json"),
        {"campaignId": "camp-loans", "records": rows, "initiateCall": True, "callConfig": CALL_CONFIG},
    )
    resp = api.handler(event, context)
    return resp["statusCode"], json.loads(resp["body"])


def wait_for_execution(execution_arn: str, timeout: float = 60) -> dict[str, Any]:
    sfn = boto3.client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        described = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return dict(described)
        time.sleep(0.1)


class CallsQueue:
    """An SQS queue fed by a rule on the calls bus, drained as events arrive (as a dialer would)."""

    def __init__(self, bus: str) -> None:
        self.url = create_calls_queue(boto3.session.Session(), bus, "us-east-1")
        self.received: list[dict[str, Any]] = []
        self._poller = SqsPoller(boto3.client("sqs"), self.url, self._receive, batch_size=10, name="calls")

    def _receive(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.received.extend(json.loads(r["body"]) for r in event["Records"])
        return {"batchItemFailures": []}

    def wait_for(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The events received once ``count`` arrived (or the timeout passed), and a moment more."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.2)  # anything beyond ``count`` would show up now
        return list(self.received)


@pytest.fixture
def calls_queue(aws_workflows: tuple[dict[str, str], LambdaRouter]) -> Iterator[CallsQueue]:
    queue = CallsQueue(aws_workflows[0][resources.EVENT_BUS_ENV])
    queue._poller.start()
    yield queue
    queue._poller.stop()


def task_actions(router: LambdaRouter) -> list[str]:
    return [json.loads(payload)["action"] for _, payload in router.invocations]


def test_1200_customers_with_calls_run_through_the_state_machine(
    aws_workflows: tuple[dict[str, str], LambdaRouter], calls_queue: CallsQueue, context: Any
) -> None:
    _, router = aws_workflows
    do_not_call = set(range(0, 1_200, 25))  # 48 customers
    status, body = post_customers(context, customers(1_200, do_not_call))
    assert status == 201 and body["results"]["successful"] == 1_200
    results = body["callResults"]
    assert results["status"] == "STARTED"
    assert (results["batches"], results["queued"], results["skipped"]) == (3, 1_152, 48)
    assert results["executionId"].endswith(f":{body['importId']}")

    execution = wait_for_execution(results["executionId"])
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    actions = task_actions(router)
    assert actions.count("prepareCalls") == 1 and actions.count("requestCalls") == 3
    assert actions[-1] == "finalize" and "awaitInsertion" not in actions

    events = calls_queue.wait_for(1_200 - 48)
    assert len(events) == 1_200 - 48
    assert {e["detail-type"] for e in events} == {"CallRequested"}
    assert {e["source"] for e in events} == {"bulk-import"}
    keys = {e["detail"]["customerKey"] for e in events}
    assert len(keys) == 1_152
    assert not keys & {f"camp-loans#L-{i:05d}" for i in do_not_call}
    sample = next(e["detail"] for e in events if e["detail"]["customerKey"] == "camp-loans#L-00001")
    assert sample["phone"] == "+33612000100"
    assert (sample["agentId"], sample["dispositionId"], sample["importId"]) == (
        "agent-7",
        "disp-2",
        body["importId"],
    )

    imp = runtime.DEPS.get().imports.get("acme", body["importId"])
    assert imp is not None
    api_view = imp.to_api()
    assert api_view["status"] == "DONE" and api_view["completedAt"]
    assert api_view["calls"] == {
        "status": "DONE",
        "batches": 3,
        "batchesDone": 3,
        "requested": 1_152,
        "skipped": 48,
        "failed": 0,
        "deferred": 0,
        "nextWindowAt": None,
        "skippedBy": {"doNotCall": 48, "doNotCallList": 0, "frequency": 0},
        "executionId": results["executionId"],
    }


def test_a_chunked_import_waits_for_its_last_chunk_on_a_task_token(
    aws_workflows: tuple[dict[str, str], LambdaRouter], calls_queue: CallsQueue, context: Any
) -> None:
    names, router = aws_workflows
    request = {"campaignId": "camp-loans", "initiateCall": True, "callConfig": CALL_CONFIG}
    kind = get_kind("campaign-customers")
    job = jobs.start_async_import(
        kind,
        request,
        customers(260, {5}),
        ACME,
        runtime.DEPS.get(),
        max_records=5_000,  # two chunks
    )
    assert job.calls is not None and job.calls.execution_id
    # The execution parks on its task token; no chunk has been processed yet.
    deadline = time.monotonic() + 10
    while "awaitInsertion" not in task_actions(router) and time.monotonic() < deadline:
        time.sleep(0.05)
    stored = runtime.DEPS.get().imports.get("acme", job.import_id)
    assert stored is not None and stored.task_token and stored.status == "QUEUED"
    assert wait_for_execution(job.calls.execution_id, timeout=0.5)["status"] == "RUNNING"

    sqs = boto3.client("sqs")
    while True:  # the chunk workers, driven by hand
        messages = sqs.receive_message(QueueUrl=names[resources.CHUNK_QUEUE_ENV], MaxNumberOfMessages=5)
        if not messages.get("Messages"):
            break
        event = {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {},
                    "messageAttributes": {},
                    "md5OfBody": "",
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:chunks",
                    "awsRegion": "us-east-1",
                }
                for m in messages["Messages"]
            ]
        }
        assert worker.handler(event, context) == {"batchItemFailures": []}
        for m in messages["Messages"]:
            sqs.delete_message(QueueUrl=names[resources.CHUNK_QUEUE_ENV], ReceiptHandle=m["ReceiptHandle"])

    execution = wait_for_execution(job.calls.execution_id)
    assert execution["status"] == "SUCCEEDED", execution.get("cause")
    assert len(calls_queue.wait_for(259)) == 259
    final = runtime.DEPS.get().imports.get("acme", job.import_id)
    assert final is not None and final.status == "DONE"
    assert final.calls is not None and (final.calls.requested, final.calls.skipped) == (259, 1)


def test_a_failure_that_is_not_transient_fails_the_import_with_the_reason(
    aws_workflows: tuple[dict[str, str], LambdaRouter], context: Any
) -> None:
    names, _ = aws_workflows
    boto3.client("events").delete_event_bus(Name=names[resources.EVENT_BUS_ENV])
    _, body = post_customers(context, customers(3, set()))
    execution = wait_for_execution(body["callResults"]["executionId"])
    assert execution["status"] == "FAILED"
    imp = runtime.DEPS.get().imports.get("acme", body["importId"])
    assert imp is not None and imp.status == "FAILED"
    assert imp.error is not None and imp.error.startswith("workflow: ResourceNotFoundException")
    assert imp.to_api()["calls"]["status"] == "FAILED"


def test_a_transient_failure_is_retried(
    aws_workflows: tuple[dict[str, str], LambdaRouter], calls_queue: CallsQueue, context: Any
) -> None:
    _, router = aws_workflows
    throttled = ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "PutEvents")
    failures = iter([throttled])

    def flaky(event: dict[str, Any], ctx: Any) -> Any:
        if event["action"] == "requestCalls":
            error = next(failures, None)
            if error is not None:
                try:
                    raise error
                except ClientError as exc:  # what the handler does with it
                    raise TransientError(str(exc)) from exc
        return workflow_entry.handler(event, ctx)

    router.handlers[TASKS_FUNCTION] = flaky
    _, body = post_customers(context, customers(3, set()))
    execution = wait_for_execution(body["callResults"]["executionId"])
    assert execution["status"] == "SUCCEEDED"
    assert task_actions(router).count("requestCalls") == 2
    assert len(calls_queue.wait_for(3)) == 3


def test_a_batch_run_twice_on_dynamodb_requests_each_call_once(aws: dict[str, str], context: Any) -> None:
    queue = create_calls_queue(boto3.session.Session(), aws[resources.EVENT_BUS_ENV], "us-east-1")
    _, body = post_customers(context, customers(12, {3}))
    deps = runtime.DEPS.get()
    prepared = workflow.prepare_calls(deps, "acme", body["importId"])
    assert (prepared["eligible"], prepared["skipped"]) == (11, 1)
    (batch,) = prepared["batches"]
    for _ in range(2):
        workflow.request_calls(deps, "acme", body["importId"], batch)
    sqs = boto3.client("sqs")
    received = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        received += [json.loads(m["Body"])["detail"]["customerKey"] for m in messages]
    assert len(received) == len(set(received)) == 11
    imp = deps.imports.get("acme", body["importId"])
    assert imp is not None and imp.calls is not None
    assert (imp.calls.status, imp.calls.batches_done, imp.calls.requested, imp.calls.skipped) == (
        "RUNNING",
        1,
        11,
        1,
    )


def test_a_customer_another_import_took_over_is_not_called_by_the_first_on_dynamodb(
    aws: dict[str, str], context: Any
) -> None:
    queue = create_calls_queue(boto3.session.Session(), aws[resources.EVENT_BUS_ENV], "us-east-1")
    _, first = post_customers(context, customers(3, set()))
    _, later = post_customers(context, customers(3, set())[1:2])
    deps = runtime.DEPS.get()
    prepared = workflow.prepare_calls(deps, "acme", first["importId"])
    (batch,) = prepared["batches"]
    result = workflow.request_calls(deps, "acme", first["importId"], batch)
    assert (result["requested"], result["skipped"]) == (2, 1)
    (again,) = workflow.prepare_calls(deps, "acme", later["importId"])["batches"]
    assert workflow.request_calls(deps, "acme", later["importId"], again)["requested"] == 1
    sqs = boto3.client("sqs")
    received = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        received += [json.loads(m["Body"])["detail"] for m in messages]
    by_import = sorted((d["importId"] == later["importId"], d["customerKey"]) for d in received)
    assert by_import == [
        (False, "camp-loans#L-00000"),
        (False, "camp-loans#L-00002"),
        (True, "camp-loans#L-00001"),
    ]


# -- adapters --------------------------------------------------------------------------------------------
def test_eventbridge_bus_publishes_through_a_rule_to_sqs(aws: dict[str, str]) -> None:
    queue = create_calls_queue(boto3.session.Session(), aws[resources.EVENT_BUS_ENV], "us-east-1")
    bus = EventBridgeBus(boto3.client("events"), aws[resources.EVENT_BUS_ENV])
    events = [BusEvent("CallRequested", {"customerKey": f"k{i}", "phone": "+33612345678"}) for i in range(10)]
    assert bus.put_events(events) == [None] * 10
    assert bus.put_events([BusEvent("SomethingElse", {})]) == [None]  # published, but the rule ignores it
    sqs = boto3.client("sqs")
    received = []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
        received += [json.loads(m["Body"]) for m in messages]
    assert sorted(e["detail"]["customerKey"] for e in received) == [f"k{i}" for i in range(10)]
    with pytest.raises(ValueError, match="at most 10"):
        bus.put_events(events + events[:1])


def test_eventbridge_bus_reports_refused_entries() -> None:
    class Client:
        def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
            return {
                "FailedEntryCount": 1,
                "Entries": [{"EventId": "1"}, {"ErrorCode": "ThrottlingException", "ErrorMessage": "rate"}],
            }

    bus = EventBridgeBus(Client(), "calls")
    assert bus.put_events([BusEvent("A", {}), BusEvent("A", {})]) == [None, "ThrottlingException: rate"]


def test_resuming_a_token_nobody_waits_on_is_ignored(aws: dict[str, str]) -> None:
    states = StepFunctionsWorkflow(boto3.client("stepfunctions"), aws[resources.STATE_MACHINE_ENV])
    states.resume("not-a-token", {"inserted": 1})


def test_transient_failures_are_told_apart() -> None:
    def client_error(code: str, status: int = 400) -> ClientError:
        return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")

    assert is_transient(client_error("ThrottlingException"))
    assert is_transient(client_error("ProvisionedThroughputExceededException"))
    assert is_transient(client_error("Whatever", 503))
    assert is_transient(EndpointConnectionError(endpoint_url="https://events"))
    assert is_transient(ConnectTimeoutError(endpoint_url="https://events"))
    assert is_transient(TransientError("index lag"))
    assert not is_transient(client_error("ResourceNotFoundException"))
    assert not is_transient(client_error("AccessDeniedException", 403))
    assert not is_transient(KeyError("importId"))


def test_the_task_handler_reports_transient_failures_under_one_name(
    monkeypatch: pytest.MonkeyPatch, context: Any
) -> None:
    def throttled(event: dict[str, Any], deps: Any) -> Any:
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "Query")

    monkeypatch.setitem(workflow_entry.ACTIONS, "prepareCalls", throttled)
    monkeypatch.setattr(runtime.DEPS, "get", lambda: None)
    with pytest.raises(TransientError, match="ThrottlingException"):
        workflow_entry.handler({"action": "prepareCalls", "tenantId": "acme", "importId": "i"}, context)
    with pytest.raises(ValueError, match="unknown workflow action"):
        workflow_entry.handler({"action": "dance"}, context)
