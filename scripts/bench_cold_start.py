"""``make bench`` section 10: the API function's cold start, against ``import boto3``.

A cold start is what a fresh interpreter does before its first answer: import the API handler, then
serve one real request through it, which builds the ports and the first boto3 client and calls AWS.
The floor is a fresh interpreter doing ``import boto3`` alone (what any Python function that calls AWS
pays before its first request). Both run as fresh processes, interleaved, against the same embedded
AWS emulation (moto's server, seeded with the demo tenant); each process times itself from its first
import to its answer, so the interpreter's own start is outside both figures.

Requests measured (the API Gateway events of ``events/api``):

* ``GET /api/v1/campaigns``: one DynamoDB query;
* ``POST /api/v1/customers/add/bulk`` with 3 rows: the product's synchronous import (tenant look-ups,
  validation of phones and dates, the records written).

``--baseline DIR`` measures, interleaved with the others, the same requests served by the package found
in ``DIR`` (the ``functions`` directory of another checkout, e.g. ``git worktree add /tmp/before REF``):
the figures before and after a change, in the same run.

Usage: ``python scripts/bench_cold_start.py [--rounds 7] [--baseline DIR]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
EVENTS = ROOT / "events"
#: The goal: a cold start at most this many times ``import boto3``.
BUDGET = 1.3

#: Each child prints the seconds from its first import to its answer (and the answer's status).
_COLD_START = """
import sys, time
event_text = sys.stdin.read()
class Context:
    function_name = "bench-api"
    memory_limit_in_mb = 1769
    aws_request_id = "bench"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench-api"
    def get_remaining_time_in_millis(self):
        return 29_000
t = time.perf_counter()
import json
from bulk_import.entrypoints import api
response = api.handler(json.loads(event_text), Context())
print(time.perf_counter() - t, response["statusCode"])
"""
_IMPORT_ONLY = """
import time
t = time.perf_counter()
from bulk_import.entrypoints import api
print(time.perf_counter() - t, 0)
"""
_BOTO3 = """
import time
t = time.perf_counter()
import boto3
print(time.perf_counter() - t, 0)
"""
#: What any function that reads DynamoDB pays, with nothing of ours: import botocore, build its default
#: session's DynamoDB client, one GetItem of the demo tenant's configuration (what the first request reads).
_BOTOCORE_FLOOR = """
import time
t = time.perf_counter()
import os
import botocore.session
client = botocore.session.Session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"])
client.get_item(TableName=os.environ["CONFIG_TABLE"], Key={"pk": {"S": "T#acme"}, "sk": {"S": "CONFIG"}})
print(time.perf_counter() - t, 0)
"""

#: The requests: a name and the event file (its authorizer context is the demo tenant's, all scopes);
#: the first, no event, is the import of the handler alone (the figure this bench measured before).
IMPORT_ONLY = "(the import alone, no request)"
#: The library's own cost for a first DynamoDB request, none of the product's code (``_BOTOCORE_FLOOR``).
BOTOCORE_FLOOR = "(botocore alone: import, client, one GetItem)"
REQUESTS = {
    IMPORT_ONLY: "",
    BOTOCORE_FLOOR: "",
    "GET /api/v1/campaigns": "campaigns-list.json",
    "POST /api/v1/customers/add/bulk (3 rows)": "campaign-customers-clean.json",
}


def _run(code: str, stdin: str = "", env: dict[str, str] | None = None) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=env,
    ).stdout.split()
    return float(out[-2]), int(out[-1])


def _figures(runs: list[float]) -> dict[str, float]:
    return {"min_s": min(runs), "median_s": statistics.median(runs)}


def bench_cold_start(rounds: int = 7, baseline: str | None = None) -> dict[str, Any]:
    """Each request's cold start and ``import boto3``, ``rounds`` fresh processes each, interleaved.

    Returns the min and median seconds of each, and each request's ratios to ``import boto3``; with
    ``baseline`` (a directory holding another ``bulk_import``), also each request served by that one.
    """
    from bulk_import.local.stack import LocalStack

    events = {
        name: (EVENTS / "api" / path).read_text(encoding="utf-8") if path else ""
        for name, path in REQUESTS.items()
    }
    boto3_runs: list[float] = []
    names = [*REQUESTS, *(f"{name} [baseline]" for name in REQUESTS)] if baseline else list(REQUESTS)
    runs: dict[str, list[float]] = {name: [] for name in names}
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]), tempfile.TemporaryDirectory() as cache:
        # Both sides run from bytecode, as the installed libraries do: the package's is compiled once,
        # into a directory of its own, by the first run of each request.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        envs = {name: env for name in REQUESTS}
        if baseline:
            base_env = {**env, "PYTHONPATH": baseline}
            envs.update({f"{name} [baseline]": base_env for name in REQUESTS})
        bodies = {name: events[name.removesuffix(" [baseline]")] for name in names}
        codes = {name: _COLD_START if bodies[name] else _IMPORT_ONLY for name in names}
        codes.update({name: _BOTOCORE_FLOOR for name in names if BOTOCORE_FLOOR in name})
        for name in names:  # once each first: the bytecode, the emulation's first calls
            _run(codes[name], bodies[name], envs[name])
        for _ in range(rounds):
            boto3_runs.append(_run(_BOTO3, env=env)[0])
            for name in names:
                seconds, status = _run(codes[name], bodies[name], envs[name])
                assert status < 300, (name, status)
                runs[name].append(seconds)
    boto3 = _figures(boto3_runs)
    result: dict[str, Any] = {"rounds": rounds, "boto3": boto3, "budget": BUDGET, "requests": {}}
    for name, seconds in runs.items():
        figures = _figures(seconds)
        result["requests"][name] = {
            **figures,
            "ratio_min": figures["min_s"] / boto3["min_s"],
            "ratio_median": figures["median_s"] / boto3["median_s"],
        }
    return result


def report(rounds: int = 7, baseline: str | None = None) -> None:
    """Print section 10."""
    r = bench_cold_start(rounds, baseline)
    b = r["boto3"]
    print(
        f"10. cold start, {r['rounds']} fresh processes each, interleaved: import boto3 "
        f"min {b['min_s'] * 1000:.0f} ms, median {b['median_s'] * 1000:.0f} ms"
    )
    floor = r["requests"].get(BOTOCORE_FLOOR)
    for name, f in r["requests"].items():
        alone = IMPORT_ONLY in name or BOTOCORE_FLOOR in name
        what = (
            ""
            if BOTOCORE_FLOOR in name
            else "import API handler"
            if alone
            else "import API handler + first request"
        )
        verdict = "OK" if f["ratio_median"] <= r["budget"] else "OVER BUDGET"
        budget = "" if alone else f" (budget <= {r['budget']}) {verdict}"
        if floor is not None and not alone:
            budget += f"; {f['median_s'] / floor['median_s']:.2f} x botocore alone (median)"
        print(
            f"10. {what + ' ' if what else ''}{name}: "
            f"min {f['min_s'] * 1000:.0f} ms, median {f['median_s'] * 1000:.0f} ms; "
            f"ratio to import boto3 {f['ratio_min']:.2f} (min), {f['ratio_median']:.2f} (median){budget}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline", help="a functions/ directory of another checkout, measured alongside")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(bench_cold_start(args.rounds, args.baseline), indent=2))
    else:
        report(args.rounds, args.baseline)
