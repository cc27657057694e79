"""Local stand-ins for EventBridge schedules, and the lookup of handlers that a checkout may not have yet.

``Schedule`` invokes a handler every ``interval`` seconds with the event a scheduled EventBridge rule sends,
the first time one interval after it starts (as a ``rate(...)`` rule does). ``optional_handler`` finds a
handler by module and name, or None when this version of the package has no such handler, so the local
stack attaches the background jobs that exist and skips the others.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from bulk_import.local.gateway import ACCOUNT, REGION, LambdaContext

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], Any], Any]


def optional_handler(module: str, name: str) -> Handler | None:
    """``module.name`` when that module exists and defines it, else None."""
    try:
        if importlib.util.find_spec(module) is None:
            return None
    except ModuleNotFoundError:  # a parent package is missing
        return None
    handler = getattr(importlib.import_module(module), name, None)
    return handler if callable(handler) else None


def scheduled_event(rule: str) -> dict[str, Any]:
    """The event an EventBridge scheduled rule sends to its target."""
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{rule}"],
        "detail": {},
    }


@dataclass
class BackgroundJob:
    """A loop on a daemon thread (``_run``, until ``_stop`` is set), for the managed services' stand-ins."""

    name: str = field(default="job", kw_only=True)
    _stop: threading.Event = field(default_factory=threading.Event, kw_only=True)
    _thread: threading.Thread | None = field(default=None, kw_only=True)

    def start(self) -> Self:
        """Start the loop."""
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, wait: bool = True) -> None:
        """Stop after the current iteration; ``wait=False`` asks without waiting (call again to wait)."""
        self._stop.set()
        if wait and self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        raise NotImplementedError


@dataclass
class Schedule(BackgroundJob):
    """Invokes ``handler`` every ``interval`` seconds on a daemon thread, as a scheduled rule would."""

    handler: Handler
    interval: float
    invocations: int = 0

    def run_once(self) -> Any:
        """Invoke the handler once; a failure is logged, as Lambda would, and the schedule goes on."""
        self.invocations += 1
        try:
            return self.handler(scheduled_event(self.name), LambdaContext(self.name))
        except Exception:
            log.exception("%s: handler raised", self.name)
            return None

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.run_once()
