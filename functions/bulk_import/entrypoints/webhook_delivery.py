"""The webhook delivery Lambda: one attempt per queued delivery, the queue's visibility as the backoff.

Each SQS record is one delivery; its receive count is the attempt number. A delivery answered 2xx (or
with nothing left to deliver) is deleted; another is held back for the next delay of the schedule
(``ChangeMessageVisibility``) and reported failed, so the queue hands it over again then. After the last
attempt it is made visible at once: the queue's redrive policy moves it to the dead-letter queue, whose
alarm tells the operators.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from bulk_import.entrypoints.runtime import DEPS
from bulk_import.usecases.webhook_deliveries import Delivery, Outcome, deliver, retry_after

logger = Logger(service="bulk-import")


def _attempt(record: dict[str, Any]) -> int:
    try:
        return max(1, int((record.get("attributes") or {}).get("ApproximateReceiveCount", 1)))
    except (TypeError, ValueError):
        return 1


def _deliver(record: dict[str, Any]) -> Outcome:
    attempt = _attempt(record)
    try:
        delivery = Delivery.from_message(json.loads(record["body"]))
    except (KeyError, TypeError, ValueError):
        logger.error(
            "webhook delivery message unreadable; dropped", extra={"messageId": record.get("messageId")}
        )
        return Outcome(done=True, reason="unreadable message")
    keys = {"tenant_id": delivery.tenant_id, "import_id": delivery.import_id, "event": delivery.event}
    try:
        outcome = deliver(DEPS.get(), delivery, attempt)
    except Exception:  # storage or KMS unavailable: this attempt counts, the schedule goes on
        logger.exception("webhook delivery attempt failed", extra={**keys, "attempt": attempt})
        outcome = Outcome(done=False, reason="internal error", retry_in=retry_after(attempt))
    logger.info(
        "webhook delivery " + ("done" if outcome.done else "to retry"),
        extra={
            **keys,
            "webhook_id": delivery.webhook_id,
            "attempt": attempt,
            "status": outcome.status,
            "reason": outcome.reason,
            "retry_in": outcome.retry_in,
        },
    )
    return outcome


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for the webhook queue (SQS, batch item failures reported)."""
    failures = []
    for record in event.get("Records", []):
        outcome = _deliver(record)
        if outcome.done:
            continue
        ports = DEPS.get().webhooks
        if ports is not None and ports.queue is not None:
            try:
                # None: the attempts ran out; visible at once, so the redrive moves it to the DLQ.
                ports.queue.retry_later(record["receiptHandle"], outcome.retry_in or 0)
            except Exception:  # the queue's own visibility timeout applies instead
                logger.exception("webhook delivery could not be held back")
        failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
