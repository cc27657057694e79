"""A local stand-in for Lambda's SQS event source mapping.

It long-polls a queue, hands batches to a handler as the SQS event Lambda would send, deletes the
messages that succeeded and returns the ones reported in ``batchItemFailures`` to the queue. The queue's
own redrive policy moves a message to its dead-letter queue after ``maxReceiveCount`` receives.

One difference from AWS, on purpose: a failed message becomes visible again after ``retry_delay``
seconds instead of the queue's visibility timeout, so local retries take seconds, not minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

from bulk_import.local.gateway import LambdaContext
from bulk_import.local.schedule import BackgroundJob

log = logging.getLogger(__name__)


@dataclass
class SqsPoller(BackgroundJob):
    """Polls ``queue_url`` and invokes ``handler`` with batches of up to ``batch_size`` messages."""

    sqs: Any
    queue_url: str
    handler: Callable[[dict[str, Any], Any], dict[str, Any] | None]
    batch_size: int = 10
    retry_delay: int = 1
    invocations: int = 0
    _arn: str = ""

    def start(self) -> Self:
        """Start polling on a daemon thread."""
        attrs = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])
        self._arn = attrs["Attributes"]["QueueArn"]
        return super().start()

    def poll_once(self, wait_seconds: int = 0) -> int:
        """Receive one batch and invoke the handler; return how many messages it held."""
        resp = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = resp.get("Messages", [])
        if not messages:
            return 0
        event = {"Records": [self._record(m) for m in messages]}
        self.invocations += 1
        try:
            result = self.handler(event, LambdaContext(self.name)) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except Exception:
            log.exception("%s: handler raised; the whole batch returns to the queue", self.name)
            failed = {m["MessageId"] for m in messages}
        for m in messages:
            if m["MessageId"] in failed:
                self._give_back(m)
            else:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"])
        return len(messages)

    def _give_back(self, m: dict[str, Any]) -> None:
        """A message that failed returns to the queue after ``retry_delay``."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=self.retry_delay
        )

    def _record(self, m: dict[str, Any]) -> dict[str, Any]:
        return {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": m.get("Attributes", {}),
            "messageAttributes": m.get("MessageAttributes", {}),
            "md5OfBody": m.get("MD5OfBody", ""),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._arn,
            "awsRegion": "us-east-1",
        }

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.poll_once(wait_seconds=1) == 0:
                    time.sleep(0.05)
            except Exception:  # keep polling like the managed service does; log what went wrong
                log.exception("%s: polling failed", self.name)
                time.sleep(1)
