"""The stack's CloudWatch metrics: their names, and the buffer the entry points flush after each event.

Metrics are written in CloudWatch's embedded metric format (one JSON document per kind on stdout, which
Lambda sends to the function's log group and CloudWatch turns into metrics), through Powertools. The
use cases know nothing of them: the entry points count what the use cases return (a synchronous
import's result, the import a chunk completed, the call batch a workflow task published).

Every metric has the dimensions ``service`` and ``kind`` only. The tenant is never a dimension: each
tenant would be a metric of its own (cost, and CloudWatch's limits on distinct series); the tenant is in
the logs, next to the import id.

Loading ``aws_lambda_powertools.metrics`` costs nothing at cold start: Powertools' logger, which every
entry point has, imports it already.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

if TYPE_CHECKING:
    from bulk_import.core.model import ImportJob

#: The namespace of every metric of the stack (the dashboard reads it).
NAMESPACE = "BulkImport"
#: The ``service`` dimension, Powertools' name for the application.
SERVICE = "bulk-import"
#: The dimension naming the import kind (``debts``, ``payments``…).
KIND = "kind"
#: The dimension every metric of the stack carries, besides ``kind``.
DIMENSIONS = ("service", KIND)

#: Rows stored by an import (its ``succeeded`` count), when the import completes.
ROWS_IMPORTED = "RowsImported"
#: Rows an import failed, for their content or because their chunk was dead-lettered.
ROWS_FAILED = "RowsFailed"
#: Rows an import skipped (duplicates, rows left unchanged).
ROWS_SKIPPED = "RowsSkipped"
#: Chunks that reached the chunk dead-letter queue (their rows are then failed).
CHUNKS_DEAD_LETTERED = "ChunksDeadLettered"
#: Calls requested on the bus by the workflow's call stage.
CALLS_REQUESTED = "CallsRequested"
#: Calls held back for a later time; 0 until the call stage has calling windows.
CALLS_DEFERRED = "CallsDeferred"
#: Every metric name, in the order the dashboard shows them.
NAMES = (ROWS_IMPORTED, ROWS_FAILED, ROWS_SKIPPED, CHUNKS_DEAD_LETTERED, CALLS_REQUESTED, CALLS_DEFERRED)

logger = Logger(service=SERVICE)

P = ParamSpec("P")
R = TypeVar("R")


class KindMetrics:
    """Counts by kind and metric name, kept until ``flush`` writes them (one document per kind).

    One buffer serves a container: Lambda runs one event at a time in it, and the lock keeps the counts
    right where several threads share it (the local stack).
    """

    def __init__(self) -> None:
        self._counts: dict[str, dict[str, float]] = {}
        self._lock = threading.Lock()

    def add(self, kind: str, name: str, value: float) -> None:
        """Add ``value`` to the metric ``name`` of ``kind`` (a 0 is kept: the metric has a data point)."""
        with self._lock:
            by_name = self._counts.setdefault(kind, {})
            by_name[name] = by_name.get(name, 0) + value

    def rows(self, job: ImportJob) -> None:
        """Count the rows of an import that completed: imported, failed and skipped."""
        counts = job.counts
        self.add(job.kind, ROWS_IMPORTED, counts.succeeded)
        self.add(job.kind, ROWS_FAILED, counts.failed)
        self.add(job.kind, ROWS_SKIPPED, counts.skipped)

    def calls(self, kind: str, batch: dict[str, Any]) -> None:
        """Count the calls of one published call batch (``requested``, and ``deferred`` when given)."""
        self.add(kind, CALLS_REQUESTED, int(batch.get("requested") or 0))
        self.add(kind, CALLS_DEFERRED, int(batch.get("deferred") or 0))

    def pending(self) -> dict[str, dict[str, float]]:
        """The counts not flushed yet, by kind then name (a copy)."""
        with self._lock:
            return {kind: dict(names) for kind, names in self._counts.items()}

    def flush(self) -> None:
        """Write the counts, one embedded-metric document per kind, and forget them.

        A metric is never worth a failed event: anything going wrong here is logged and dropped.
        """
        with self._lock:
            counts, self._counts = self._counts, {}
        for kind, names in counts.items():
            try:
                emf = EphemeralMetrics(namespace=NAMESPACE, service=SERVICE)
                emf.add_dimension(name=KIND, value=kind)
                for name, value in names.items():
                    emf.add_metric(name=name, unit=MetricUnit.Count, value=value)
                emf.flush_metrics()
            except Exception:
                logger.warning("metrics could not be written; dropped", exc_info=True, extra={KIND: kind})


#: The metrics of this container.
METRICS = KindMetrics()


def flushed(handler: Callable[P, R]) -> Callable[P, R]:
    """Decorate a Lambda handler so the metrics it counted are written when it returns or raises."""

    @functools.wraps(handler)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return handler(*args, **kwargs)
        finally:
            METRICS.flush()

    return wrapper


def counted_imports(run: Callable[P, R]) -> Callable[P, R]:
    """Wrap a use case returning an import result (``result.job``) so its rows are counted."""

    @functools.wraps(run)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from bulk_import.core.model import ImportJob  # loaded by the import it counts

        result = run(*args, **kwargs)
        job = getattr(result, "job", None)
        if isinstance(job, ImportJob):
            METRICS.rows(job)
        return result

    return wrapper
