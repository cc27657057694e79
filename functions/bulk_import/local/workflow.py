"""The import workflow on the local stack: the deployed definition, run by moto's Step Functions interpreter.

moto executes a state machine's definition when its ``stepfunctions.execute_state_machine`` option is on,
including ``arn:aws:states:::lambda:invoke`` (and ``.waitForTaskToken``) task states, but it never runs
Lambda code: its interpreter sends every Lambda invocation of a task state through one function,
``lambda_eval_utils._invoke_lambda_function``. ``LambdaRouter`` replaces that function while the stack
runs, so invocations of the local task function's ARN run our handler in-process, the way Lambda would:
the payload as JSON in, the return value as JSON out, an exception reported as a function error whose
``errorType`` is the exception's class name (what Retry and Catch match on). Invocations of any other
function go to moto as before.

The definition is ``bulk_import/workflow/definition.asl.json`` itself, with the ARN of the local task
function substituted for ``${WorkflowTasksArn}``, exactly as CloudFormation substitutes the deployed one.

``Wait`` states with a ``Timestamp`` or ``TimestampPath`` (the call stage waiting for a calling window)
really wait in moto's interpreter, on the execution's thread, no task running. moto compares the
timestamp, a UTC instant, with the machine's local wall time, so on a laptop outside UTC it would wait
hours too long or too short: ``UtcTimestampWaits`` makes it compare with the UTC time (or a given clock,
for tests whose clock is not the machine's), with the same semantics as Step Functions: a timestamp in
the past does not wait.
"""

from __future__ import annotations

import importlib
import json
import math
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bulk_import.workflow import render

#: moto's default account: ARNs of the local stack live there.
LOCAL_ACCOUNT = "123456789012"
#: Name of the local stand-in of the WorkflowTasks function, and the handler it runs.
TASKS_FUNCTION = "bulk-import-workflow-tasks"
TASKS_HANDLER = "bulk_import.entrypoints.workflow.handler"
STATE_MACHINE_NAME = "bulk-import-import-workflow"

Handler = Callable[[dict[str, Any], Any], Any]


def tasks_arn(region: str) -> str:
    """The ARN the local definition names its task function by."""
    return f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{TASKS_FUNCTION}"


def local_definition(region: str) -> str:
    """The deployed definition with the local task function substituted."""
    return render(WorkflowTasksArn=tasks_arn(region))


def create_state_machine(session: Any, region: str) -> str:
    """Create (or update to the current definition) the workflow state machine; return its ARN."""
    sfn = session.client("stepfunctions", region_name=region)
    definition = local_definition(region)
    for machine in sfn.list_state_machines().get("stateMachines", []):
        if machine["name"] == STATE_MACHINE_NAME:
            sfn.update_state_machine(stateMachineArn=machine["stateMachineArn"], definition=definition)
            return str(machine["stateMachineArn"])
    return str(
        sfn.create_state_machine(
            name=STATE_MACHINE_NAME,
            definition=definition,
            roleArn=f"arn:aws:iam::{LOCAL_ACCOUNT}:role/{STATE_MACHINE_NAME}",
            type="STANDARD",
        )["stateMachineArn"]
    )


class _Context:
    """The part of Lambda's context object the handlers read."""

    def __init__(self, function_name: str) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = function_name
        self.memory_limit_in_mb = 1024
        self.aws_request_id = "local"
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 300_000


def invoke_like_lambda(handler: Handler, function_name: str, payload: Any) -> dict[str, Any]:
    """Call ``handler`` the way Lambda does and answer what Lambda's Invoke API answers."""
    if isinstance(payload, (bytes, bytearray)):
        payload = payload.decode("utf-8")
    event = json.loads(payload) if isinstance(payload, str) and payload else payload or {}
    try:
        result = handler(event, _Context(function_name))
        body = json.loads(json.dumps(result, default=str))
        return {"StatusCode": 200, "Payload": body, "ExecutedVersion": "$LATEST"}
    except Exception as exc:
        error = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "stackTrace": traceback.format_exception(exc)[-3:],
        }
        return {
            "StatusCode": 200,
            "FunctionError": "Unhandled",
            "Payload": error,
            "ExecutedVersion": "$LATEST",
        }


class LambdaRouter:
    """Routes moto's Step Functions Lambda invocations of known function names to in-process handlers.

    Parameters
    ----------
    handlers
        Function name -> handler, or the handler's ``module.function`` path (imported on first call).
    """

    _lock = threading.Lock()

    def __init__(self, handlers: dict[str, Handler | str]) -> None:
        self.handlers = dict(handlers)
        self.invocations: list[tuple[str, Any]] = []
        self._original: Any = None

    def _handler(self, name: str) -> Handler:
        target = self.handlers[name]
        if isinstance(target, str):
            module, _, function = target.rpartition(".")
            target = getattr(importlib.import_module(module), function)
            self.handlers[name] = target
        return target

    def install(self) -> LambdaRouter:
        """Start routing (moto's module function is replaced until ``uninstall``)."""
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        with self._lock:
            self._original = lambda_eval_utils._invoke_lambda_function
            original = self._original

            def invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> Any:
                name = str(parameters.get("FunctionName", "")).rsplit(":", 1)[-1]
                if name not in self.handlers:
                    return original(parameters=parameters, region=region, state_credentials=state_credentials)
                self.invocations.append((name, parameters.get("Payload")))
                return invoke_like_lambda(self._handler(name), name, parameters.get("Payload"))

            lambda_eval_utils._invoke_lambda_function = invoke
        return self

    def uninstall(self) -> None:
        """Give moto its own function back."""
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        with self._lock:
            if self._original is not None:
                lambda_eval_utils._invoke_lambda_function = self._original
                self._original = None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class UtcTimestampWaits:
    """Makes moto's ``Wait`` states with a timestamp wait until that UTC instant by ``now``'s clock."""

    def __init__(self, now: Callable[[], datetime] = _utc_now) -> None:
        self.now = now
        self._original: Any = None

    def install(self) -> UtcTimestampWaits:
        """Replace moto's wait computation until ``uninstall``."""
        from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
            FailureEventException,
        )
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

        now = self.now

        def wait_seconds(timestamp: Any, env: Any) -> int:
            timestamp.string.eval(env=env)
            text = env.stack.pop()
            instant = timestamp._from_timestamp_string(timestamp=text)
            if instant is None:
                raise FailureEventException(timestamp._create_failure_event(env, text))
            return max(0, math.ceil((instant.replace(tzinfo=UTC) - now()).total_seconds()))

        self._original = Timestamp._get_wait_seconds
        Timestamp._get_wait_seconds = wait_seconds  # type: ignore[method-assign,assignment]
        return self

    def uninstall(self) -> None:
        """Give moto its own computation back."""
        from moto.stepfunctions.parser.asl.component.state.wait.wait_function.timestamp import Timestamp

        if self._original is not None:
            Timestamp._get_wait_seconds = self._original  # type: ignore[method-assign]
            self._original = None


@contextmanager
def executing_workflows(
    handlers: dict[str, Handler | str] | None = None, now: Callable[[], datetime] | None = None
) -> Iterator[LambdaRouter]:
    """Within the block, moto executes state machines and the workflow's tasks run our handler.

    Works for moto's server (in this process) and for ``mock_aws`` alike: both read the same
    configuration and interpreter. ``now`` is the clock timestamp waits compare with (the UTC time).
    """
    from unittest import mock

    from moto.core.config import default_user_config

    router = LambdaRouter(handlers or {TASKS_FUNCTION: TASKS_HANDLER})
    waits = UtcTimestampWaits(now or _utc_now)
    with mock.patch.dict(default_user_config, {"stepfunctions": {"execute_state_machine": True}}):
        router.install()
        waits.install()
        try:
            yield router
        finally:
            waits.uninstall()
            router.uninstall()
