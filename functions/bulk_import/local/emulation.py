"""Adjustments to moto, the embedded AWS emulation, that keep the local stack fast. Behaviour is unchanged.

moto's SQS costs O(n) per message sent or received on a queue of n messages, with a large constant:

* it reads the clock through ``moto.core.utils.unix_time``, datetime arithmetic costing microseconds a
  read, several times for every message of the queue whenever it counts the visible, in-flight and delayed
  messages it reports as queue attributes, which it does once per message sent;
* to check one received message against the queue's retention period it computes every attribute of the
  queue, those counts included.

A queue holding a thousand messages, as the calls queue does after an import with calls, then costs tens of
milliseconds per message and the calls of one import take minutes to send and read. ``fast_sqs`` gives
moto's SQS the same clock read from ``time.time()`` and a retention check that reads the retention period
alone: the same results, one to two orders of magnitude faster.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def fast_sqs() -> Iterator[None]:
    """Within the block, moto's SQS reads the clock from ``time.time()`` and checks retention at O(1)."""
    from moto.sqs import models

    unix_time: Callable[..., float] = models.unix_time
    unix_time_millis: Callable[..., float] = models.unix_time_millis
    retention_check = models.SQSBackend.is_message_valid_based_on_retention_period

    def fast_unix_time(dt: Any = None) -> float:
        # moto's unix_time() is the seconds since the epoch of utcnow(), which is time.time().
        return time.time() if dt is None else unix_time(dt)

    def fast_unix_time_millis(dt: Any = None) -> float:
        return time.time() * 1000.0 if dt is None else unix_time_millis(dt)

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention = int(self.get_queue(queue_name).message_retention_period)
        return bool(retention + message.sent_timestamp / 1000 > fast_unix_time())

    models.unix_time = fast_unix_time
    models.unix_time_millis = fast_unix_time_millis
    models.SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]
    try:
        yield
    finally:
        models.unix_time = unix_time
        models.unix_time_millis = unix_time_millis
        models.SQSBackend.is_message_valid_based_on_retention_period = retention_check  # type: ignore[method-assign]
