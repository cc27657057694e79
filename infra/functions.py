"""The Lambda functions of the stack: entrypoint, size and timeout of each.

Timeouts of the functions that consume a queue come from ``bulk_import.resources``, next to the visibility
timeout of their queue (six times as long), so the local stack and the template agree on both.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration

from bulk_import import resources

HANDLER_PREFIX = "bulk_import.entrypoints"


@dataclass(frozen=True)
class FunctionSpec:
    """How one Lambda function of the stack is configured.

    Parameters
    ----------
    construct_id
        The construct id, also the name of the function in the console (with a stack prefix).
    module
        The entrypoint module under ``bulk_import.entrypoints``; the handler is its ``handler`` function.
    memory_mb
        Memory, which also sets the CPU share (1769 MB is one full vCPU).
    timeout
        Function timeout.
    description
        What the function does, shown in the console.
    function
        The handler function's name in the module.
    """

    construct_id: str
    module: str
    memory_mb: int
    timeout: Duration
    description: str
    function: str = "handler"

    @property
    def handler(self) -> str:
        """The handler string, ``bulk_import.entrypoints.<module>.<function>``."""
        return f"{HANDLER_PREFIX}.{self.module}.{self.function}"


API_FUNCTION = FunctionSpec("Api", "api", 1769, Duration.seconds(29), "REST API of the bulk-import stack")
AUTHORIZER_FUNCTION = FunctionSpec(
    "Authorizer", "authorizer", 512, Duration.seconds(10), "API key authorizer (reads the config table only)"
)
CHUNK_WORKER_FUNCTION = FunctionSpec(
    "ChunkWorker",
    "worker",
    1024,
    Duration.seconds(resources.CHUNK_WORKER_TIMEOUT_SECONDS),
    "Writes the records of queued import chunks",
)
CHUNK_DLQ_FUNCTION = FunctionSpec(
    "ChunkDlqWorker",
    "worker",
    512,
    Duration.seconds(resources.CHUNK_DLQ_WORKER_TIMEOUT_SECONDS),
    "Marks the rows of dead-lettered chunks failed so their import still completes",
    function="dlq_handler",
)
FILE_DROP_FUNCTION = FunctionSpec(
    "FileDrop",
    "file_drop",
    1769,
    Duration.seconds(resources.FILE_DROP_TIMEOUT_SECONDS),
    "Starts an import for each file dropped under incoming/",
)
FILE_DROP_DLQ_FUNCTION = FunctionSpec(
    "FileDropDlqWorker",
    "file_drop",
    512,
    Duration.seconds(resources.FILE_DROP_DLQ_TIMEOUT_SECONDS),
    "Fails the import of a dropped file whose processing ran out of retries",
    function="dlq_handler",
)
SWEEP_FUNCTION = FunctionSpec(
    "Sweep",
    "sweep",
    512,
    Duration.minutes(5),
    "Fails the imports of uploads whose file never arrived (hourly)",
)
WORKFLOW_TASKS_FUNCTION = FunctionSpec(
    "WorkflowTasks", "workflow", 1024, Duration.minutes(5), "Task states of the import workflow"
)
