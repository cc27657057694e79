"""SQS implementation of the chunk queue."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bulk_import.engine.messages import batches, encode_body


class QueueSendError(RuntimeError):
    """Some chunk messages could not be sent."""


@dataclass
class SqsChunkQueue:
    """Sends chunk messages with SendMessageBatch, retrying entries that failed.

    A batch holds at most 10 entries and ``messages.BATCH_BYTES`` of bodies (SQS refuses a batch over
    1 MiB in total), whatever the caller hands over in one call.
    """

    client: Any
    queue_url: str
    attempts: int = 3

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """See ``ChunkQueue.send``."""
        for batch in batches(messages):
            entries = [{"Id": str(n), "MessageBody": encode_body(m)} for n, m in enumerate(batch)]
            for _ in range(self.attempts):
                resp = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
                failed = {f["Id"] for f in resp.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise QueueSendError(f"{len(entries)} chunk messages not sent to {self.queue_url}")
