"""What ``Idempotency-Key`` costs a bulk request (measure 8 of ``bench.py``).

A 10,000-row campaign-customers request is sent over HTTP to the local stack without a key, with a fresh
key, and again with that key (a replay), interleaved, several times. Every DynamoDB call the idempotency
store makes is counted by operation with a ``before-call`` hook on its client's event system; the store
has a client of its own, so a request without a key must make none. Latencies are compared as ratios
measured in the same run (min and median), never against a fixed time.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import statistics
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from bench_measures import ROOT, make_records  # next to this script

PATH = "/api/v1/customers/add/bulk"
HEADERS = {"X-API-Key": "acme-secret", "Content-Type": "application/json"}


def _body(records: list[dict[str, Any]], run: str) -> bytes:
    """The request body, with loan ids of its own so every first request writes new customers."""
    rows = [{**r, "loan_id": f"{run}-{r['loan_id']}"} for r in records]
    return json.dumps({"campaignId": "camp-loans", "records": rows}).encode()


def _calls(log: list[tuple[str, bool]]) -> dict[str, int]:
    """Calls by operation; one sent with a condition is counted as ``PutItem (conditional)``."""
    return dict(Counter(f"{op} (conditional)" if conditional else op for op, conditional in log))


def bench_idempotency(rows: int = 10_000, repeat: int = 5) -> dict[str, Any]:
    """Send ``repeat`` rounds of (no key, first request with a key, replay) and measure each.

    Returns
    -------
    dict
        ``rows``, ``repeat``; per variant (``plain``, ``first``, ``replay``): ``seconds`` (one per round),
        ``calls`` (the store's DynamoDB calls per request, by operation, identical in every round or
        listed per round) and ``statuses``; and the latency ratios against ``plain``.
    """
    from bulk_import.entrypoints import runtime
    from bulk_import.local.client import call
    from bulk_import.local.stack import LocalStack

    records = make_records(rows)
    seed = Path(ROOT) / "events" / "seed" / "demo-seed.json"
    # The handler's metrics go to stdout, as Lambda wants them; here they would drown the report.
    with contextlib.redirect_stdout(io.StringIO()), LocalStack(seeds=[seed]) as stack:
        store: Any = runtime.IDEMPOTENCY.get()
        log: list[tuple[str, bool]] = []

        def count(model: Any, params: dict[str, Any], **_: Any) -> None:
            sent = json.loads(params.get("body") or b"{}")
            log.append((model.name, "ConditionExpression" in sent))

        # The store builds its own client, so every call on it is the idempotency layer's.
        store.client.meta.events.register("before-call.dynamodb", count)

        def send(body: bytes, key: str | None) -> tuple[float, int, dict[str, int], str | None]:
            log.clear()
            headers = {**HEADERS, **({"Idempotency-Key": key} if key else {})}
            gc.collect()
            t = time.perf_counter()
            answer = call(stack.url, "POST", PATH, raw=body, headers=headers, timeout=600)
            elapsed = time.perf_counter() - t
            return elapsed, answer.status, _calls(log), answer.headers.get("Idempotent-Replayed")

        # Warm both paths (clients, connections, caches) before measuring.
        send(_body(records[:100], "warm"), None)
        send(_body(records[:100], "warm-key"), f"warm-{uuid.uuid4().hex}")
        results: dict[str, list[tuple[float, int, dict[str, int], str | None]]] = {
            "plain": [],
            "first": [],
            "replay": [],
        }
        for i in range(repeat):
            results["plain"].append(send(_body(records, f"P{i}"), None))
            key, body = f"bench-{uuid.uuid4().hex}", _body(records, f"K{i}")
            results["first"].append(send(body, key))
            results["replay"].append(send(body, key))
    out: dict[str, Any] = {"rows": rows, "repeat": repeat}
    for name, runs in results.items():
        calls = [r[2] for r in runs]
        out[name] = {
            "seconds": [r[0] for r in runs],
            "statuses": sorted({r[1] for r in runs}),
            "replayed": sorted({r[3] or "-" for r in runs}),
            "calls": calls[0] if all(c == calls[0] for c in calls) else calls,
        }
    plain = out["plain"]["seconds"]
    for name in ("first", "replay"):
        seconds = out[name]["seconds"]
        out[name]["min_ratio"] = min(seconds) / min(plain)
        out[name]["median_ratio"] = statistics.median(seconds) / statistics.median(plain)
    return out


def report(rows: int, repeat: int) -> None:
    """Print measure 8: the calls the key adds per request, and what it does to latency."""
    m = bench_idempotency(rows, repeat)
    plain = m["plain"]
    print(
        f"8. idempotency, {m['rows']:,}-row campaign-customers request, {m['repeat']} interleaved rounds: "
        f"without a key {min(plain['seconds']):.2f} s min / {statistics.median(plain['seconds']):.2f} s "
        f"median, status {plain['statuses']}, idempotency calls {plain['calls'] or 'none'}"
    )
    # The update is conditional too: it lands only while the request still holds the key.
    expected = {
        "first": {"PutItem (conditional)": 1, "UpdateItem (conditional)": 1},
        "replay": {"PutItem (conditional)": 1},
    }
    for name, label in (("first", "first request with a key"), ("replay", "replay of it")):
        v = m[name]
        ok = "OK" if v["calls"] == expected[name] else f"WRONG (expected {expected[name]})"
        print(
            f"8. {label}: idempotency calls {v['calls']} {ok}; status {v['statuses']}, "
            f"Idempotent-Replayed {v['replayed']}; latency / without a key: "
            f"min {v['min_ratio']:.2f}, median {v['median_ratio']:.2f}"
        )
