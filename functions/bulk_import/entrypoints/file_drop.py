"""The file-drop Lambda: S3 notifications of ``incoming/``, delivered through SQS, one file per message.

Each record's key is URL-decoded (S3 sends ``incoming/acme/debts/relances+juillet.csv`` for a space) and
handed to ``usecases.files.handle_drop``, which starts the file's import or fails it with the reason. A
broken file never fails the message: its import is FAILED and the queue moves on. Only failures of the
stack itself are retried (a transient error, while receives remain); anything else, or the last receive,
fails the file's import with the reason instead of sending it to the dead-letter queue unrecorded.

``dlq_handler`` consumes the file-drop dead-letter queue: a message lands there when every receive
ended without an answer (the function timed out or ran out of memory), and the file's import is failed
with that reason, so it never stays ``QUEUED`` or ``PROCESSING``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bulk_import import resources
from bulk_import.entrypoints.runtime import DEPS

logger = Logger(service="bulk-import")
_processor = BatchProcessor(event_type=EventType.SQS)


def drop_of(record: dict[str, Any]) -> Any:
    """The ``FileDrop`` of one S3 event record, or None for events other than object creation."""
    from bulk_import.engine.files.options import FileDrop

    if not str(record.get("eventName", "")).startswith("ObjectCreated"):
        return None
    obj = (record.get("s3") or {}).get("object") or {}
    if not obj.get("key"):
        return None
    return FileDrop(
        key=unquote_plus(str(obj["key"])),
        size=int(obj["size"]) if obj.get("size") is not None else None,
        etag=obj.get("eTag"),
        version=obj.get("versionId"),
        sequencer=obj.get("sequencer"),
        event_time=record.get("eventTime"),
    )


def _retryable(exc: Exception) -> bool:
    from bulk_import.adapters.errors import is_transient
    from bulk_import.adapters.sqs import QueueSendError

    return is_transient(exc) or isinstance(exc, QueueSendError)


def _drops(record: SQSRecord) -> list[Any]:
    """The file drops an S3 notification message tells of (none for test events and other bodies)."""
    try:
        body = json.loads(record.body)
    except ValueError:
        logger.error("file-drop message is not JSON; dropped", extra={"body": record.body[:500]})
        return []
    if not isinstance(body, dict) or body.get("Event") == "s3:TestEvent":
        return []  # S3 sends a test event when the notification is configured
    return [d for d in (drop_of(entry) for entry in body.get("Records") or []) if d is not None]


def _process(record: SQSRecord) -> None:
    from bulk_import.engine.pipeline import failure_cause
    from bulk_import.usecases.files import fail_drop, handle_drop

    drops = _drops(record)
    if not drops:
        return
    deps = DEPS.get()
    receives = int(record.attributes.approximate_receive_count or 1)
    for drop in drops:
        logger.append_keys(key=drop.key)
        try:
            job = handle_drop(deps, drop)
        except Exception as exc:
            if _retryable(exc) and receives < resources.FILE_DROP_MAX_RECEIVE_COUNT:
                logger.warning("file drop failed; the queue retries it", exc_info=True)
                raise
            logger.exception("file drop failed; failing its import")
            # In words for the import's summary: never the exception's text (an error page, the data).
            fail_drop(deps, drop, f"the file could not be imported ({failure_cause(exc)})")
            continue
        if job is not None:
            logger.info(
                "file import started" if job.status != "FAILED" else "file import failed",
                extra={"import_id": job.import_id, "status": job.status, "error": job.error},
            )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS event source of the file-drop queue (batch size 1, ReportBatchItemFailures)."""
    return dict(
        process_partial_response(event=event, record_handler=_process, processor=_processor, context=context)
    )


#: Why the import of a file whose every attempt ended without an answer failed.
EXHAUSTED = (
    "the file could not be imported: its processing did not finish in any of its {n} attempts "
    "(it ran out of time or memory)"
)


def _fail_exhausted(record: SQSRecord) -> None:
    from bulk_import.usecases.files import fail_drop

    deps = DEPS.get()
    for drop in _drops(record):
        logger.append_keys(key=drop.key)
        job = fail_drop(deps, drop, EXHAUSTED.format(n=resources.FILE_DROP_MAX_RECEIVE_COUNT))
        logger.warning(
            "file drop dead-lettered; its import failed",
            extra={"import_id": job.import_id if job is not None else None},
        )


@logger.inject_lambda_context(clear_state=True)
def dlq_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS event source of the file-drop dead-letter queue: fail the import of each file in it."""
    return dict(
        process_partial_response(
            event=event, record_handler=_fail_exhausted, processor=_processor, context=context
        )
    )
