"""The task Lambda of the import workflow: one handler, dispatching on the state's ``action``.

Every task state of ``bulk_import/workflow/definition.asl.json`` invokes this function with a small
payload of ids (``tenantId``, ``importId``, a batch descriptor, a task token): never records.

Errors: a failure a retry may cure (throttling, a service error, the network, an index that has not
caught up) is raised as ``TransientError``, the one error name the state machine retries besides
Lambda's own service errors. Anything else propagates under its own name and fails the import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger

from bulk_import.adapters.errors import is_transient
from bulk_import.core.errors import TransientError
from bulk_import.core.ports import Deps
from bulk_import.engine import workflow
from bulk_import.entrypoints.metrics import METRICS, flushed
from bulk_import.entrypoints.runtime import DEPS

logger = Logger(service="bulk-import")


def _await_insertion(event: dict[str, Any], deps: Deps) -> Any:
    workflow.await_insertion(deps, event["tenantId"], event["importId"], event["taskToken"])
    return None


def _prepare_calls(event: dict[str, Any], deps: Deps) -> Any:
    # An execution started by an earlier definition may still send ``attempt``: the work is the same.
    result = workflow.prepare_calls(deps, event["tenantId"], event["importId"])
    if result.get("deferred"):  # calls that wait for their window, counted once, when planned
        _count_calls(event, deps, {"requested": 0, "deferred": result["deferred"]})
    return result


def _request_calls(event: dict[str, Any], deps: Deps) -> Any:
    batch = event["batch"]
    if isinstance(batch, dict):  # executions started before batches were numbers only
        result = workflow.request_calls(
            deps, event["tenantId"], event["importId"], int(batch["batch"]), batch.get("key")
        )
    else:
        result = workflow.request_calls(deps, event["tenantId"], event["importId"], int(batch))
    _count_calls(event, deps, result)
    return result


def _count_calls(event: dict[str, Any], deps: Deps, result: dict[str, Any]) -> None:
    """Count a published call batch under its import's kind (the task's payload carries ids only)."""
    try:
        job = deps.imports.get(event["tenantId"], event["importId"])
    except Exception:  # the batch is published: a metric never fails it
        logger.warning("the import of a call batch could not be read; calls not counted", exc_info=True)
        return
    if job is not None:
        METRICS.calls(job.kind, result)


def _finalize(event: dict[str, Any], deps: Deps) -> Any:
    calls = workflow.finalize(deps, event["tenantId"], event["importId"])
    # Always a boolean: a Choice on a missing path fails the execution.
    return {"calls": calls, "waiting": bool(calls.get("deferred"))}


def _finish_calls(event: dict[str, Any], deps: Deps) -> Any:
    return workflow.finish_calls(deps, event["tenantId"], event["importId"])


def _mark_failed(event: dict[str, Any], deps: Deps) -> Any:
    error = event.get("error") or {}
    workflow.mark_failed(
        deps, event["tenantId"], event["importId"], str(error.get("Error") or "Error"), error.get("Cause")
    )
    return None


#: action -> what it does; the state machine definition names these actions.
ACTIONS: dict[str, Callable[[dict[str, Any], Deps], Any]] = {
    "awaitInsertion": _await_insertion,
    "prepareCalls": _prepare_calls,
    "requestCalls": _request_calls,
    "finalize": _finalize,
    "finishCalls": _finish_calls,
    "markFailed": _mark_failed,
}


@logger.inject_lambda_context(clear_state=True)
@flushed
def handler(event: dict[str, Any], context: Any) -> Any:
    """Run one task of the import workflow."""
    action = ACTIONS.get(str(event.get("action")))
    if action is None:
        raise ValueError(f"unknown workflow action {event.get('action')!r}; known: {', '.join(ACTIONS)}")
    logger.append_keys(
        tenant_id=event.get("tenantId"), import_id=event.get("importId"), action=event["action"]
    )
    try:
        return action(event, DEPS.get())
    except Exception as exc:
        if not is_transient(exc):
            logger.exception("workflow task failed")
            raise
        logger.warning("transient failure; the state machine retries", exc_info=True)
        if type(exc) is TransientError:
            raise
        # Lambda reports the exception's class name, and the definition retries this one name only.
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
