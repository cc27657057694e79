"""Chunk worker Lambdas: the SQS chunk queue and its dead-letter queue.

``handler`` processes chunks and reports partial batch failures (only the failed chunks come back). A
row the worker cannot handle fails alone, with the reason, inside its chunk's results; a chunk fails
only for failures of the stack (throttling left after the retries, timeouts, lost connections), and the
queue delivers it again: its records are rewritten under the same keys and its rows counted once.
``dlq_handler`` receives chunks that failed ``maxReceiveCount`` times and marks their rows failed
with the recorded reason, so the import still reaches DONE with every row accounted for.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from bulk_import.engine.jobs import ChunkMessage, fail_chunk, process_chunk
from bulk_import.entrypoints.metrics import CHUNKS_DEAD_LETTERED, METRICS, flushed
from bulk_import.entrypoints.runtime import DEPS

logger = Logger(service="bulk-import")
_processor = BatchProcessor(event_type=EventType.SQS)


def _process(record: SQSRecord) -> None:
    message = ChunkMessage.from_json(json.loads(record.body))
    logger.append_keys(tenant_id=message.tenant_id, import_id=message.import_id, chunk=message.chunk)
    done = process_chunk(message, DEPS.get())
    if done is not None:
        # Counted once, by whichever chunk completes the import (the repository's update is conditional).
        METRICS.rows(done)
        logger.info("import done", extra={"counts": done.counts.as_dict()})


def _fail(record: SQSRecord) -> None:
    message = ChunkMessage.from_json(json.loads(record.body))
    logger.append_keys(tenant_id=message.tenant_id, import_id=message.import_id, chunk=message.chunk)
    logger.warning("chunk dead-lettered; marking its rows failed")
    done = fail_chunk(message, DEPS.get())
    METRICS.add(message.kind, CHUNKS_DEAD_LETTERED, 1)
    if done is not None:
        METRICS.rows(done)


@logger.inject_lambda_context(clear_state=True)
@flushed
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS event source of the chunk queue (ReportBatchItemFailures)."""
    return dict(
        process_partial_response(event=event, record_handler=_process, processor=_processor, context=context)
    )


@logger.inject_lambda_context(clear_state=True)
@flushed
def dlq_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """SQS event source of the chunk dead-letter queue (ReportBatchItemFailures)."""
    return dict(
        process_partial_response(event=event, record_handler=_fail, processor=_processor, context=context)
    )
