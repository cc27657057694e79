"""``make bench`` measure 11: an asynchronous import that updates rows already stored, against one that
creates them (budget: at most 1.2x, min and median), on the local stack.

Each round stores ``rows`` payments (an import, not timed), then runs two imports of payments alike but
for their ids: one of new ids (every row created) and the stored payments again (every row updated:
pending payments may be sent again). Their chunks are processed by ``process_chunk``, in this process,
against the local stack's DynamoDB (moto's server, with the local stack's emulation), one chunk of each
import in turn, the first of each pair alternating from chunk to chunk and round to round. So both
imports meet the same load of the machine at once, the same table (it grows by the rows created, for
both), and neither always runs after the other. Before each round the objects already alive (moto's
stored items above all) are frozen out of the garbage collector: a full collection walking the
emulated table is a cost of running DynamoDB in this process, not of a chunk worker, and it falls on
whichever chunk happens to trigger it. The ratio of each round, and the min and median of the times
and ratios, are printed.

Usage: ``python scripts/bench_storage.py [--rows 2000] [--rounds 5]``
"""

from __future__ import annotations

import argparse
import gc
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
#: Fewer rounds than this give no median worth the name.
MIN_ROUNDS = 5


def _payments(n: int, prefix: str) -> list[dict[str, Any]]:
    event = json.loads((ROOT / "events" / "api" / "payments-import-clean.json").read_text())
    template = json.loads(event["body"])["items"][0]
    return [{**template, "id": f"{prefix}-{i:07d}"} for i in range(n)]


def _start(deps: Any, rows: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """Start an asynchronous import of ``rows``: its id and its chunk messages (not sent to the queue)."""
    from tests.fakes import ALL_SCOPES

    from bulk_import.core.tenants import Principal
    from bulk_import.engine import jobs
    from bulk_import.kinds import get_kind

    sent: list[dict[str, Any]] = []
    deps.queue.send = sent.extend  # the chunks are processed here, not by the stack's pollers
    principal = Principal("acme", ALL_SCOPES)
    job = jobs.start_async_import(
        get_kind("payments"), {}, rows, principal, deps, source="bench", max_records=len(rows)
    )
    return job.import_id, [jobs.ChunkMessage.from_json(m) for m in sent]


def _succeeded(deps: Any, import_id: str, rows: list[dict[str, Any]]) -> None:
    """Check that an import is DONE with every row stored by it."""
    done = deps.imports.get("acme", import_id)
    assert done is not None and done.status == "DONE", done
    assert done.counts.as_dict()["succeeded"] == len(rows), done.counts
    stored = deps.records.get_records("acme", "payment", [r["id"] for r in rows], ("importId",))
    assert {r["importId"] for r in stored.values()} == {import_id} and len(stored) == len(rows)


def _store(deps: Any, rows: list[dict[str, Any]]) -> None:
    """Import ``rows`` (not timed), so that a later import of them updates them."""
    from bulk_import.engine import jobs

    import_id, messages = _start(deps, rows)
    for message in messages:
        jobs.process_chunk(message, deps)
    _succeeded(deps, import_id, rows)


def _round(deps: Any, number: int, rows: int) -> dict[str, tuple[float, float]]:
    """Seconds (wall clock, and CPU of this process: the chunk worker and the emulated AWS) the chunk
    workers take over an import creating ``rows`` payments and over one updating as many, their chunks
    processed in turn: ``{"create": (wall, cpu), "update": (wall, cpu)}``."""
    from bulk_import.engine import jobs

    stored, new = _payments(rows, f"stored{number}"), _payments(rows, f"new{number}")
    _store(deps, stored)
    create_id, creates = _start(deps, new)
    update_id, updates = _start(deps, stored)
    assert len(creates) == len(updates)
    wall = {create_id: 0.0, update_id: 0.0}
    cpu = dict(wall)
    gc.collect()
    gc.freeze()
    for i, pair in enumerate(zip(creates, updates, strict=True)):
        for message in pair if (i + number) % 2 == 0 else pair[::-1]:
            start, start_cpu = time.perf_counter(), time.process_time()
            jobs.process_chunk(message, deps)
            wall[message.import_id] += time.perf_counter() - start
            cpu[message.import_id] += time.process_time() - start_cpu
    _succeeded(deps, create_id, new)
    _succeeded(deps, update_id, stored)
    return {
        "create": (wall[create_id], cpu[create_id]),
        "update": (wall[update_id], cpu[update_id]),
    }


def _summary(creates: list[float], updates: list[float]) -> dict[str, Any]:
    ratios = [u / c for u, c in zip(updates, creates, strict=True)]
    return {
        "create_s": creates,
        "update_s": updates,
        "ratios": ratios,
        "ratio_min": min(ratios),
        "ratio_median": statistics.median(ratios),
        "best_ratio": min(updates) / min(creates),
    }


def measure(rows: int = 2000, rounds: int = MIN_ROUNDS) -> dict[str, Any]:
    """Create and update times of ``rounds`` rounds of ``rows`` payments each (at least ``MIN_ROUNDS``):
    the wall-clock figures at the top level, the CPU ones under ``cpu``."""
    from bulk_import.adapters.aws import build_deps
    from bulk_import.local.stack import LocalStack
    from bulk_import.settings import Settings

    rounds = max(rounds, MIN_ROUNDS)
    times: dict[str, list[tuple[float, float]]] = {"create": [], "update": []}
    with LocalStack(seeds=[ROOT / "events" / "seed" / "demo-seed.json"]) as stack:
        deps = build_deps(Settings.from_env(), stack.session())
        _round(deps, -1, rows)  # clients, connections and caches made once, not timed
        try:
            for number in range(rounds):
                for side, seconds in _round(deps, number, rows).items():
                    times[side].append(seconds)
        finally:
            gc.unfreeze()
    wall = _summary([w for w, _ in times["create"]], [w for w, _ in times["update"]])
    cpu = _summary([c for _, c in times["create"]], [c for _, c in times["update"]])
    return {"rows": rows, "budget": BUDGET, **wall, "cpu": cpu}


def _line(name: str, m: dict[str, Any]) -> str:
    create, update = m["create_s"], m["update_s"]
    return (
        f"    {name}: create min {min(create):.2f} s / median {statistics.median(create):.2f} s; "
        f"update min {min(update):.2f} s / median {statistics.median(update):.2f} s; ratio of the min "
        f"times {m['best_ratio']:.2f}, of each round min {m['ratio_min']:.2f} / median "
        f"{m['ratio_median']:.2f} ({', '.join(f'{r:.2f}' for r in m['ratios'])})"
    )


def report(rows: int = 2000, rounds: int = MIN_ROUNDS) -> dict[str, Any]:
    """Measure and print the figure as ``make bench`` shows it."""
    m = measure(rows, rounds)
    worst = max(m["best_ratio"], m["ratio_median"], m["cpu"]["best_ratio"], m["cpu"]["ratio_median"])
    verdict = "OK" if worst <= BUDGET else "OVER BUDGET"
    print(
        f"11. async payments import of {rows:,} rows updating stored rows, over one creating them, on "
        f"the local stack's DynamoDB, chunk workers' time over {len(m['ratios'])} rounds, chunks "
        f"interleaved: at most {worst:.2f}x (budget <= {BUDGET}) {verdict}"
    )
    print(_line("wall clock", m))
    print(_line("CPU of the process", m["cpu"]))
    return m


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS, help=f"at least {MIN_ROUNDS}")
    args = parser.parse_args(argv)
    report(args.rows, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
