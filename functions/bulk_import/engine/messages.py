"""Queue messages measured in bytes: SQS takes at most 1 MiB per message and per SendMessageBatch.

Chunk messages are JSON with ASCII escapes (``encode_body``), so their length in characters is their
size in bytes whatever the rows' alphabet, and the sizes measured here are the sizes SQS counts. A chunk
message keeps its rows inline only while its whole body stays under ``jobs.INLINE_CHUNK_BYTES``
(256 KiB); otherwise the rows go to the payload store and the message carries their key. What else a
message carries (duplicate marks, a file reader's reasons, ``MAX_REASON_CHARS`` each) is bounded by the
chunk's row count, so every chunk message fits well under the 1 MiB of one SQS message, and ``batches``
groups messages into sends of at most 10 entries and ``BATCH_BYTES`` in total.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

#: SQS's limits: bytes of one message, bytes of one SendMessageBatch (all its bodies), entries of one.
SQS_MESSAGE_BYTES = 1_048_576
SQS_BATCH_BYTES = 1_048_576
SQS_BATCH_ENTRIES = 10
#: Bytes of bodies per send: SQS's batch limit less room for anything it counts besides the bodies.
BATCH_BYTES = 1_000_000
#: Characters of a file reader's reason kept per row in a chunk message.
MAX_REASON_CHARS = 500


class MessageTooLargeError(ValueError):
    """A single message body is larger than SQS accepts."""


def encode_body(body: Any) -> str:
    """A message body as sent: compact JSON, non-ASCII escaped (so characters and bytes are equal)."""
    return json.dumps(body, default=str, separators=(",", ":"))


def body_bytes(body: Any) -> int:
    """Bytes of a message body as sent."""
    return len(encode_body(body))


def batches(
    bodies: Iterable[dict[str, Any]], *, max_entries: int = SQS_BATCH_ENTRIES, max_bytes: int = BATCH_BYTES
) -> Iterator[list[dict[str, Any]]]:
    """Group message bodies, in order, into sends of at most ``max_entries`` and ``max_bytes`` in total.

    Raises
    ------
    MessageTooLargeError
        One body alone is larger than SQS accepts for a message.
    """
    batch: list[dict[str, Any]] = []
    size = 0
    for body in bodies:
        n = body_bytes(body)
        if n > min(SQS_MESSAGE_BYTES, max_bytes):
            raise MessageTooLargeError(f"a queue message of {n:,} bytes; SQS accepts {SQS_MESSAGE_BYTES:,}")
        if batch and (len(batch) == max_entries or size + n > max_bytes):
            yield batch
            batch, size = [], 0
        batch.append(body)
        size += n
    if batch:
        yield batch
