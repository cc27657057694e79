"""Step Functions implementation of the workflow port."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from bulk_import.core.model import ImportJob

log = logging.getLogger(__name__)

#: Errors of SendTaskSuccess meaning nobody waits on the token any more (resumed or timed out already).
_STALE_TOKEN = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def execution_input(job: ImportJob, *, chunked: bool) -> dict[str, Any]:
    """The input of an import's execution: ids only, never records."""
    return {
        "tenantId": job.tenant_id,
        "importId": job.import_id,
        "insertion": "chunked" if chunked else "inline",
        "calls": job.calls is not None,
    }


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN of the execution ``name`` of a state machine."""
    head, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{head}:execution:{machine}:{name}"


@dataclass
class StepFunctionsWorkflow:
    """Starts the import workflow and answers its task tokens.

    ``state_machine_arn`` may be empty where only tokens are answered: the workflow's own task function
    cannot know the ARN of the state machine that names it.
    """

    client: Any
    state_machine_arn: str

    def start(self, job: ImportJob, *, chunked: bool) -> str:
        """See ``Workflow.start``: the execution is named after the import (starting it twice is one run)."""
        if not self.state_machine_arn:
            raise RuntimeError("no state machine is configured (STATE_MACHINE_ARN)")
        try:
            resp = self.client.start_execution(
                stateMachineArn=self.state_machine_arn,
                name=job.import_id,
                input=json.dumps(execution_input(job, chunked=chunked), separators=(",", ":")),
            )
        except self.client.exceptions.ExecutionAlreadyExists:
            # Started by an earlier attempt (a file whose notification came again): the same execution.
            return execution_arn(self.state_machine_arn, job.import_id)
        return str(resp["executionArn"])

    def resume(self, token: str, output: dict[str, Any]) -> None:
        """See ``Workflow.resume``."""
        try:
            self.client.send_task_success(taskToken=token, output=json.dumps(output, default=str))
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in _STALE_TOKEN:
                raise
            log.info("task token no longer waited on: %s", exc.response["Error"]["Code"])
