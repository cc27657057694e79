"""BatchWriteItem with the fewest calls: 25 items a call, calls in parallel, unprocessed items retried.

Retries use capped exponential backoff with full jitter; an item still unprocessed after the last try
is returned as failed with the reason, never dropped silently.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

MAX_BATCH = 25
_RETRYABLE = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
    }
)


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

    def put(self, table: str, items: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        """Put ``items`` (DynamoDB-serialized) and return ``(item, reason)`` for those not written."""
        batches = [items[i : i + MAX_BATCH] for i in range(0, len(items), MAX_BATCH)]
        if not batches:
            return []
        if len(batches) == 1:
            return self._put_batch(table, batches[0])
        failed: list[tuple[dict[str, Any], str]] = []
        for result in self._executor().map(lambda b: self._put_batch(table, b), batches):
            failed.extend(result)
        return failed

    def backoff(self, attempt: int) -> float:
        """Delay before retry ``attempt`` (0-based): full jitter under a capped exponential."""
        return self.rand() * min(self.max_delay, self.base_delay * (2**attempt))

    def _put_batch(self, table: str, batch: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        pending = [{"PutRequest": {"Item": item}} for item in batch]
        reason = "unprocessed"
        for attempt in range(self.max_attempts):
            try:
                response = self.client.batch_write_item(RequestItems={table: pending})
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                if code not in _RETRYABLE:
                    msg = exc.response.get("Error", {}).get("Message", code)
                    return [(r["PutRequest"]["Item"], f"{code}: {msg}") for r in pending]
                reason = code
            else:
                pending = response.get("UnprocessedItems", {}).get(table, [])
                if not pending:
                    return []
                reason = "throttled"
            if attempt + 1 < self.max_attempts:
                self.sleep(self.backoff(attempt))
        why = f"{reason}, still unwritten after {self.max_attempts} attempts"
        return [(r["PutRequest"]["Item"], why) for r in pending]
