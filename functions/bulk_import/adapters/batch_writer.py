"""BatchWriteItem with the fewest calls: 25 items a call, calls in parallel, unprocessed items retried.

Retries use capped exponential backoff with full jitter; an item still unprocessed after the last try
is returned as failed with the reason, never dropped silently.

DynamoDB refuses a whole BatchWriteItem when one of its items is invalid (too large, a key too long, a
number out of range, duplicate keys). Such a batch is split in halves, and the halves written, until the
refused items stand alone: they fail (``permanent``: sending them again cannot help) and every other
item of the batch is written. A batch of 25 with one refused item costs about ten calls.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from bulk_import.adapters.errors import is_refusal, is_transient, refusal_reason, transient_reason

MAX_BATCH = 25


@dataclass(frozen=True, slots=True)
class Unwritten:
    """An item not written: why, and whether storage refused it for good (``permanent``) or the
    retries ran out on a transient failure (throttling, a service error, the network)."""

    item: dict[str, Any]
    reason: str
    permanent: bool = False


def full_jitter(
    attempt: int, base: float = 0.05, cap: float = 2.0, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry ``attempt`` (0-based): uniform under ``min(cap, base * 2**attempt)``
    (the "full jitter" of AWS's guidance, so that throttled writers do not retry in step)."""
    return rand() * min(cap, base * (2**attempt))


@dataclass
class BatchWriter:
    """Writes serialized items to one table.

    Parameters
    ----------
    client
        A boto3 DynamoDB client (thread-safe, shared).
    max_attempts
        Calls per 25-item batch before its remaining items are reported failed.
    base_delay, max_delay
        Backoff bounds in seconds: try ``n`` sleeps uniform(0, min(max_delay, base_delay * 2**n)).
    max_workers
        Batches in flight at once.
    sleep, rand
        Injected so tests run without waiting.
    """

    client: Any
    max_attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 2.0
    max_workers: int = 16
    sleep: Callable[[float], None] = time.sleep
    rand: Callable[[], float] = random.random
    _pool: ThreadPoolExecutor | None = field(default=None, init=False, repr=False)

    def _executor(self) -> ThreadPoolExecutor:
        # Created on first use, once per container, so importing this module costs nothing.
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.max_workers, thread_name_prefix="ddb-write")
        return self._pool

    def put(self, table: str, items: Sequence[dict[str, Any]]) -> list[Unwritten]:
        """Put ``items`` (DynamoDB-serialized) and return those not written, with the reason."""
        batches = [items[i : i + MAX_BATCH] for i in range(0, len(items), MAX_BATCH)]
        if not batches:
            return []
        if len(batches) == 1:
            return self._put_batch(table, batches[0])
        failed: list[Unwritten] = []
        for result in self._executor().map(lambda b: self._put_batch(table, b), batches):
            failed.extend(result)
        return failed

    def backoff(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (0-based): full jitter under a capped exponential."""
        return full_jitter(attempt, self.base_delay, self.max_delay, self.rand)

    def _put_batch(self, table: str, batch: Sequence[dict[str, Any]]) -> list[Unwritten]:
        """Write one batch; a batch storage refuses as a whole is bisected down to the refused items."""
        pending = [{"PutRequest": {"Item": item}} for item in batch]
        last: BaseException | None = None
        for attempt in range(self.max_attempts):
            try:
                response = self.client.batch_write_item(RequestItems={table: pending})
            except Exception as exc:
                if is_refusal(exc):
                    return self._refused(table, [r["PutRequest"]["Item"] for r in pending], exc)
                if not is_transient(exc):
                    raise  # a failure of the stack (a missing table, no permission): not the items'
                last = exc
            else:
                pending = response.get("UnprocessedItems", {}).get(table, [])
                if not pending:
                    return []
                last = None
            if attempt + 1 < self.max_attempts:
                self.sleep(self.backoff(attempt))
        why = f"{transient_reason(last)}, still unwritten after {self.max_attempts} attempts"
        return [Unwritten(r["PutRequest"]["Item"], why) for r in pending]

    def _refused(self, table: str, items: list[dict[str, Any]], exc: BaseException) -> list[Unwritten]:
        if len(items) == 1:
            return [Unwritten(items[0], refusal_reason(exc), permanent=True)]
        half = len(items) // 2
        return self._put_batch(table, items[:half]) + self._put_batch(table, items[half:])
