"""SQS implementation of the chunk queue."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class QueueSendError(RuntimeError):
    """Some chunk messages could not be sent."""


@dataclass
class SqsChunkQueue:
    """Sends chunk messages with SendMessageBatch (10 per call), retrying entries that failed."""

    client: Any
    queue_url: str
    attempts: int = 3

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        """See ``ChunkQueue.send``."""
        for i in range(0, len(messages), 10):
            entries = [
                {"Id": str(n), "MessageBody": json.dumps(m, default=str, separators=(",", ":"))}
                for n, m in enumerate(messages[i : i + 10])
            ]
            for _ in range(self.attempts):
                resp = self.client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
                failed = {f["Id"] for f in resp.get("Failed", [])}
                entries = [e for e in entries if e["Id"] in failed]
                if not entries:
                    break
            if entries:
                raise QueueSendError(f"{len(entries)} chunk messages not sent to {self.queue_url}")
