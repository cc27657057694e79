"""The memory of an import's result files, ``results.csv`` and ``errors.csv`` (a measure of ``bench.py``).

Both files of an asynchronous payments import are written by the code that writes them when an import
finishes (``write_api_results``), for 1,000 and for 100,000 rows, a tenth of them failed, under
``tracemalloc``. The ports are synthetic so that only the writing is measured: the imports repository
makes each page of stored results and errors when it is asked for it, the payload store makes each
chunk's failed rows as sent, and the file store reads the stream it is given in 16 KiB parts and keeps
nothing (S3's multipart upload holds its own parts on top: 8 MiB each, a bounded number of them,
whatever the rows). The sizes are interleaved over several repetitions; the peaks are compared as a
ratio measured in the same run (min and median), never against a fixed figure.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench_measures import ROOT  # next to this script

sys.path.insert(0, str(ROOT / "functions"))

#: Every this many rows, one fails (two messages, on two fields).
FAILED_EVERY = 10
#: Rows per chunk of the import (the payments kind's).
CHUNK_ROWS = 250
#: Bytes the file store reads at a time.
PART_BYTES = 16 * 1024
#: The peak for 100,000 rows may be at most this many times the peak for 1,000 rows.
BUDGET = 1.5


def _row(index: int) -> dict[str, Any]:
    return {
        "id": f"pay-{index:07d}",
        "description": f"Invoice {index} settlement, March",
        "source": {"type": "group", "id": "grp-main"},
        "target": {"type": "contact", "id": "ct-2" if index % FAILED_EVERY == 1 else "ct-1"},
        "amount": {"type": "SEND", "amount": "1200.00", "currency": "EUR"},
        "execution": {"date": "2026-12-01T09:00:00Z"},
        "user_tags": {"team": "support", "batch": str(index // CHUNK_ROWS)},
    }


def _failed(index: int) -> bool:
    return index % FAILED_EVERY == 1


@dataclass
class SyntheticImports:
    """The stored results and errors of one import of ``rows`` rows, made a page at a time."""

    rows: int
    finished: list[str] = field(default_factory=list)

    def list_results_page(self, tenant_id: str, import_id: str, limit: int, after: int | None = None) -> Any:
        from bulk_import.core.ports import ResultPage

        first = 0 if after is None else after + 1
        last = min(self.rows, first + limit)
        page = []
        for i in range(first, last):
            ok = not _failed(i)
            error = None if ok else {"message": "target.id: contact ct-2 is not authorized"}
            page.append(
                (
                    i,
                    {
                        "id": f"pay-{i:07d}",
                        "status": "SUCCESS" if ok else "FAILED",
                        "row": str(i),
                        "error": error,
                    },
                )
            )
        return ResultPage(page, last < self.rows)

    def list_errors(self, tenant_id: str, import_id: str, limit: int, cursor: str | None) -> Any:
        from bulk_import.core.ports import ErrorPage

        start = int(cursor or 0)  # a position among the failed rows
        failed = range(1, self.rows, FAILED_EVERY)
        entries = []
        for index in failed[start : start + limit // 2]:
            ref = {"id": f"pay-{index:07d}"}
            entries.append(
                {"index": index, **ref, "field": "target.id", "message": "target.id: not authorized"}
            )
            entries.append({"index": index, **ref, "field": "amount", "message": "amount: over the limit"})
        nxt = start + limit // 2
        return ErrorPage(entries, str(nxt) if nxt < len(failed) else None)

    def finish(self, *_: Any, **__: Any) -> None:
        self.finished.append("finish")


class SyntheticPayloads:
    """Each chunk's failed rows as sent, made when asked for (keyed by the chunk's first failed row)."""

    def get_json(self, key: str) -> Any:
        first = int(key.rsplit("/", 1)[-1].split(".")[0])
        end = (first // CHUNK_ROWS + 1) * CHUNK_ROWS
        return [{"index": i, "row": _row(i)} for i in range(first, end) if _failed(i)]

    def put_json(self, key: str, value: Any) -> None:
        raise AssertionError("writing the result files stores no payload")


@dataclass
class DiscardingFiles:
    """A file store that reads what it is given in parts, as a multipart upload does, and keeps none."""

    written: dict[str, int] = field(default_factory=dict)

    def put(self, key: str, body: Any, content_type: str) -> None:
        size = 0
        while part := body.read(PART_BYTES):
            size += len(part)
        self.written[key] = size


def write_files(rows: int, traced: bool) -> tuple[int, float, dict[str, int]]:
    """Write both files of a ``rows``-row import; its peak traced memory, seconds and bytes per file."""
    from tests.fakes import make_deps

    from bulk_import.core.model import Counts, ImportJob
    from bulk_import.engine.files.row_files import write_api_results

    now = datetime(2026, 12, 1, tzinfo=UTC)
    failed = len(range(1, rows, FAILED_EVERY))
    job = ImportJob("bench-import", "acme", "payments", "api", "DONE", now, now, options={})
    job.counts = Counts(
        total=rows, valid=rows - failed, invalid=failed, succeeded=rows - failed, failed=failed
    )
    job.chunks_total = job.chunks_done = -(-rows // CHUNK_ROWS)
    deps = make_deps()
    files = DiscardingFiles()
    deps.imports, deps.payloads, deps.files = SyntheticImports(rows), SyntheticPayloads(), files  # type: ignore[assignment]
    gc.collect()
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    write_api_results(deps, job)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] if traced else 0
    if traced:
        tracemalloc.stop()
    return peak, seconds, {k.rsplit("/", 1)[-1]: v for k, v in files.written.items()}


def bench_memory(small: int = 1_000, large: int = 100_000, repeat: int = 5) -> dict[str, Any]:
    """Peaks (bytes) of writing both files for ``small`` and ``large`` rows, ``repeat`` times interleaved."""
    write_files(small, traced=False)  # imports and first-use caches, outside every measure
    peaks: dict[int, list[int]] = {small: [], large: []}
    sizes: dict[int, dict[str, int]] = {}
    seconds: dict[int, float] = {}
    for _ in range(repeat):
        for rows in (small, large):
            peak, _, sizes[rows] = write_files(rows, traced=True)
            peaks[rows].append(peak)
    for rows in (small, large):
        seconds[rows] = write_files(rows, traced=False)[1]
    return {
        "small": small,
        "large": large,
        "repeat": repeat,
        "peaks": peaks,
        "sizes": sizes,
        "seconds": seconds,
        "min_ratio": min(peaks[large]) / min(peaks[small]),
        "median_ratio": statistics.median(peaks[large]) / statistics.median(peaks[small]),
    }


def report(repeat: int = 5) -> None:
    """Print the measure: each size's peak (min and median), file sizes, and the ratio of the peaks."""
    m = bench_memory(repeat=repeat)
    for rows in (m["small"], m["large"]):
        p = m["peaks"][rows]
        files = ", ".join(f"{name} {size / 1e3:,.0f} kB" for name, size in sorted(m["sizes"][rows].items()))
        print(
            f"9. result files of a {rows:,}-row import ({files}; {m['seconds'][rows]:.1f} s untraced): "
            f"peak memory min {min(p) / 1e6:.2f} MB / median {statistics.median(p) / 1e6:.2f} MB"
        )
    ok = "OK" if m["min_ratio"] <= BUDGET else "OVER BUDGET"
    print(
        f"9. result files, peak for {m['large']:,} rows / for {m['small']:,} rows, {m['repeat']} interleaved "
        f"rounds: min {m['min_ratio']:.2f}, median {m['median_ratio']:.2f} (budget <= {BUDGET}) {ok}"
    )


if __name__ == "__main__":
    report(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
