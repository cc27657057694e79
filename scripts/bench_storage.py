"""``make bench`` measure 11: an asynchronous import that updates rows already stored, against one that
creates them (budget: at most 1.2x), on the local stack.

Each round imports ``rows`` payments with new ids (every row created), then the same payments again (every
row updated: pending payments may be sent again), and times the chunk workers' part of each: every chunk
of the import processed by ``process_chunk``, in this process, against the local stack's DynamoDB (moto's
server, with the local stack's emulation). Rounds alternate the two imports, so both meet the same load of
the machine; the ratio of each round is printed with the min and median of the times.

Usage: ``python scripts/bench_storage.py [--rows 2000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The budget of the re-import path, over the create path.
BUDGET = 1.2


def _payments(n: int, prefix: str) -> list[dict[str, Any]]:
    event = json.loads((ROOT / "events" / "api" / "payments-import-clean.json").read_text())
    template = json.loads(event["body"])["items"][0]
    return [{**template, "id": f"{prefix}-{i:07d}"} for i in range(n)]


def _timed_import(deps: Any, rows: list[dict[str, Any]]) -> tuple[float, dict[str, int]]:
    """Seconds the chunk workers take over every chunk of one import of ``rows``, and its counts."""
    from tests.fakes import ALL_SCOPES

    from bulk_import.core.tenants import Principal
    from bulk_import.engine import jobs
    from bulk_import.kinds import get_kind

    sent: list[dict[str, Any]] = []
    deps.queue.send = sent.extend  # the chunks are processed here, not by the stack's pollers
    kind = get_kind("payments")
    principal = Principal("acme", ALL_SCOPES)
    job = jobs.start_async_import(kind, {}, rows, principal, deps, source="bench", max_records=len(rows))
    messages = [jobs.ChunkMessage.from_json(m) for m in sent]
    start = time.perf_counter()
    for message in messages:
        jobs.process_chunk(message, deps)
    elapsed = time.perf_counter() - start
    done = deps.imports.get("acme", job.import_id)
    assert done is not None and done.status == "DONE", done
    return elapsed, done.counts.as_dict()


def measure(rows: int = 2000, rounds: int = 5) -> dict[str, Any]:
    """Create and update times of ``rounds`` interleaved rounds of ``rows`` payments each."""
    from bulk_import.adapters.aws import build_deps
    from bulk_import.local.stack import LocalStack
    from bulk_import.settings import Settings

    creates: list[float] = []
    updates: list[float] = []
    with LocalStack(seeds=[ROOT / "events" / "seed" / "demo-seed.json"]) as stack:
        deps = build_deps(Settings.from_env(), stack.session())
        _timed_import(deps, _payments(rows, "warm"))  # clients, connections and caches made once
        for r in range(rounds):
            payments = _payments(rows, f"round{r}")
            created, counts = _timed_import(deps, payments)
            assert counts["succeeded"] == rows, counts
            updated, counts = _timed_import(deps, payments)
            assert counts["succeeded"] == rows, counts
            creates.append(created)
            updates.append(updated)
    ratios = [u / c for u, c in zip(updates, creates, strict=True)]
    return {
        "rows": rows,
        "create_s": creates,
        "update_s": updates,
        "ratios": ratios,
        "ratio_median": statistics.median(ratios),
        "ratio_min": min(ratios),
        "budget": BUDGET,
    }


def report(rows: int = 2000, rounds: int = 5) -> dict[str, Any]:
    """Measure and print the figure as ``make bench`` shows it."""
    m = measure(rows, rounds)
    create, update = m["create_s"], m["update_s"]
    verdict = "OK" if m["ratio_median"] <= BUDGET else "OVER BUDGET"
    print(
        f"11. async payments import of {rows:,} rows on the local stack's DynamoDB, chunk workers' time "
        f"over {rounds} interleaved rounds: create min {min(create):.2f} s / median "
        f"{statistics.median(create):.2f} s; update of the same rows min {min(update):.2f} s / median "
        f"{statistics.median(update):.2f} s; ratio min {m['ratio_min']:.2f} / median "
        f"{m['ratio_median']:.2f} (budget <= {BUDGET}) {verdict}"
    )
    return m


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    report(args.rows, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
