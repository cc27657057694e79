"""The state machine definition file: what every state must guarantee, read from the file itself."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bulk_import import workflow as definition
from bulk_import.entrypoints.workflow import ACTIONS
from bulk_import.local.workflow import local_definition, tasks_arn

TRANSIENT = {
    "TransientError",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def states(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every state, those inside Map item processors included."""
    for name, state in machine["States"].items():
        yield name, state
        if state["Type"] == "Map":
            yield from states(state["ItemProcessor"])


@pytest.fixture(scope="module")
def machine() -> dict[str, Any]:
    return dict(json.loads(definition.DEFINITION.read_text(encoding="utf-8")))


def test_the_only_placeholder_is_the_task_function(machine: dict[str, Any]) -> None:
    assert definition.placeholders() == {"WorkflowTasksArn"}
    rendered = json.loads(local_definition("us-east-1"))
    assert "${" not in json.dumps(rendered)
    with pytest.raises(KeyError):
        definition.render()


def test_every_task_invokes_the_task_function_with_a_known_action_and_ids_only(
    machine: dict[str, Any],
) -> None:
    tasks = {name: s for name, s in states(machine) if s["Type"] == "Task"}
    assert tasks
    used = set()
    for name, state in tasks.items():
        assert state["Resource"].startswith("arn:aws:states:::lambda:invoke"), name
        params = state["Parameters"]
        assert params["FunctionName"] == "${WorkflowTasksArn}", name
        payload = params["Payload"]
        used.add(payload["action"])
        assert {"tenantId.$", "importId.$"} <= set(payload), name
        # Ids, object keys and tokens: nothing that could be a record.
        assert set(payload) <= {
            "action",
            "tenantId.$",
            "importId.$",
            "taskToken.$",
            "attempt.$",
            "batch.$",
            "error.$",
        }
    assert used == set(ACTIONS)
    rendered = json.loads(local_definition("us-east-1"))
    assert {s["Parameters"]["FunctionName"] for _, s in states(rendered) if s["Type"] == "Task"} == {
        tasks_arn("us-east-1")
    }


def test_only_transient_errors_are_retried(machine: dict[str, Any]) -> None:
    for name, state in states(machine):
        for retrier in state.get("Retry", []):
            errors = set(retrier["ErrorEquals"])
            if name == "AwaitInsertion" and errors == {"States.Timeout"}:
                continue  # re-arms the wait on a new token; see the state's comment
            assert errors <= TRANSIENT, name
            assert "States.ALL" not in errors


def test_every_stage_fails_the_import_through_mark_failed(machine: dict[str, Any]) -> None:
    top = machine["States"]
    for name, state in top.items():
        if state["Type"] in ("Task", "Map") and name != "MarkFailed":
            assert state["Catch"] == [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "MarkFailed"}
            ]
    assert top["MarkFailed"]["Next"] == "ImportFailed" and top["ImportFailed"]["Type"] == "Fail"


def test_the_stages_run_in_order(machine: dict[str, Any]) -> None:
    top = machine["States"]
    assert machine["StartAt"] == "Insertion"
    assert top["Insertion"]["Choices"][0]["Next"] == "AwaitInsertion"
    assert top["Insertion"]["Default"] == top["AwaitInsertion"]["Next"] == "CallsRequested"
    assert top["AwaitInsertion"]["Resource"].endswith(".waitForTaskToken")
    assert top["CallsRequested"]["Choices"][0]["Next"] == "PrepareCalls"
    assert top["PrepareCalls"]["Next"] == "CallsNow"
    assert top["CallsRequested"]["Default"] == top["CallsNow"]["Next"] == "Finalize"
    # The import is DONE before calls deferred to a later window wait, and their stage ends after them.
    assert top["Finalize"]["Next"] == "CallsWaiting"
    assert top["CallsWaiting"]["Choices"] == [
        {"Variable": "$.result.waiting", "BooleanEquals": True, "Next": "CallsLater"}
    ]
    assert top["Finalize"]["ResultSelector"] == {
        "calls.$": "$.Payload.calls",
        "waiting.$": "$.Payload.waiting",
    }
    assert top["CallsWaiting"]["Default"] == "Done" and top["Done"]["Type"] == "Succeed"
    assert top["CallsLater"]["Next"] == "FinishCalls" and top["FinishCalls"]["End"] is True
    assert top["FinishCalls"]["Parameters"]["Payload"]["action"] == "finishCalls"


@pytest.mark.parametrize("name, items", [("CallsNow", "$.prepared.now"), ("CallsLater", "$.prepared.later")])
def test_call_batches_are_an_inline_map_over_each_group_of_prepared_batches(
    machine: dict[str, Any], name: str, items: str
) -> None:
    groups = machine["States"][name]
    assert groups["Type"] == "Map" and groups["ItemsPath"] == items
    assert groups["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert groups["ResultPath"] is None
    inner = groups["ItemProcessor"]["States"]
    assert inner["Deferred"]["Choices"][0] == {
        "Variable": "$.group.wait",
        "BooleanEquals": True,
        "Next": "WaitForWindow",
    }
    assert inner["WaitForWindow"] == {**inner["WaitForWindow"], "Type": "Wait", "TimestampPath": "$.group.at"}
    batches = inner["CallBatches"]
    assert batches["Type"] == "Map" and "ItemBatcher" not in batches
    assert batches["ItemProcessor"]["ProcessorConfig"] == {"Mode": "INLINE"}
    assert batches["ItemsPath"] == "$.group.batches"
    assert batches["ResultPath"] is None  # batch results stay out of the state; counts are on the import
    assert batches["OutputPath"] is None  # and a group's iteration outputs nothing either
