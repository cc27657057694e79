"""``make bench`` section 10: the API function's cold start, against ``import boto3``.

A cold start is what a fresh interpreter does before its first answer: import the API handler, then
serve one real request through it, which builds the ports and the first boto3 client and calls AWS.
The reference is a fresh interpreter doing ``import boto3`` alone (what any Python function that calls
AWS pays before its first request). The budget (at most 1.3 times that) is set on the handler's import
plus what its first request builds before calling AWS: the ports and the DynamoDB client; it is judged
on the deployable bundle (below), what Lambda runs, when this machine can build one. The first
requests in full are measured too, each beside its libraries alone (below). All run as fresh
processes, interleaved, against the same embedded AWS emulation (moto's server, seeded with the demo
tenant); each process times itself from its first import to its answer, so the interpreter's own start
is outside every figure. It times both the wall clock and its own CPU time: on a shared machine the wall
clock also counts the time other processes ran, the CPU time only the program's own work (the emulation
answers in another process, so its calls count in the wall clock only). The budget holds when both
medians are within it.

Requests measured (the API Gateway events of ``events/api``):

* ``GET /api/v1/campaigns``: one DynamoDB query;
* ``POST /api/v1/customers/add/bulk`` with 3 rows: the product's synchronous import (tenant look-ups,
  validation of phones and dates, the records written).

Each is also set against its libraries alone, the same work with none of the product's code: botocore
building a DynamoDB client and reading one item for the ``GET``; that, an S3 client writing one object, a
pydantic model validating one row and phonenumbers parsing one number for the ``POST``. What a request
costs over its libraries is the product's own share.

Each is measured in variants, each against its own ``import boto3``:

* ``local``: this checkout's package and the virtualenv's libraries, from bytecode;
* ``bundle``: the code asset the CDK app deploys (``infra/bundling.py``: the package and the wheels pip
  picks for Lambda, compiled by the runtime's Python), run by an interpreter of the runtime's version,
  when this machine has one: the closest to a Lambda cold start this machine can get;
* ``bundle, no bytecode``: the same asset run from its sources only (no bytecode found, none written),
  which is what a bundle without bytecode costs on Lambda's read-only file system.

The bundle is built once into ``.bench-cache/`` (about 25 s: pip downloads the wheels) and reused while
its asset hash holds; ``--no-bundle`` leaves it out.

``--baseline DIR`` measures, interleaved with the others, the same requests served by the package found
in ``DIR`` (the ``functions`` directory of another checkout, e.g. ``git worktree add /tmp/before REF``):
the figures before and after a change, in the same run.

Usage: ``python scripts/bench_cold_start.py [--rounds 7] [--baseline DIR] [--no-bundle]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
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
t, c = time.perf_counter(), time.process_time()
import json
from bulk_import.entrypoints import api
response = api.handler(json.loads(event_text), Context())
print(time.perf_counter() - t, time.process_time() - c, response["statusCode"])
"""
_IMPORT_ONLY = """
import time
t, c = time.perf_counter(), time.process_time()
from bulk_import.entrypoints import api
print(time.perf_counter() - t, time.process_time() - c, 0)
"""
#: The issue's figure: the handler imported, then the ports and the DynamoDB client the first request
#: builds (``runtime.DEPS``), before any call.
_IMPORT_AND_CLIENT = """
import time
t, c = time.perf_counter(), time.process_time()
from bulk_import.entrypoints import api
from bulk_import.entrypoints.runtime import DEPS
DEPS.get()
print(time.perf_counter() - t, time.process_time() - c, 0)
"""
_BOTO3 = """
import time
t, c = time.perf_counter(), time.process_time()
import boto3
print(time.perf_counter() - t, time.process_time() - c, 0)
"""
#: What any function that reads DynamoDB pays, with nothing of ours: import botocore, build its default
#: session's DynamoDB client, one GetItem of the demo tenant's configuration (what the first request reads).
_BOTOCORE_FLOOR = """
import time
t, c = time.perf_counter(), time.process_time()
import os
import botocore.session
client = botocore.session.Session().create_client("dynamodb", region_name=os.environ["AWS_DEFAULT_REGION"])
client.get_item(TableName=os.environ["CONFIG_TABLE"], Key={"pk": {"S": "T#acme"}, "sk": {"S": "CONFIG"}})
print(time.perf_counter() - t, time.process_time() - c, 0)
"""

#: What the bulk import's libraries cost with none of the product's code: ``_BOTOCORE_FLOOR``, then the
#: S3 client and one PutObject (the import's result files), a pydantic model validating one row, and one
#: phone number parsed, checked and formatted by phonenumbers.
_LIBRARIES_FLOOR = (
    _BOTOCORE_FLOOR.rsplit("print(", 1)[0]
    + """
s3 = botocore.session.Session().create_client("s3", region_name=os.environ["AWS_DEFAULT_REGION"])
s3.put_object(Bucket=os.environ["IMPORT_BUCKET"], Key="bench/floor.txt", Body=b"x")
import pydantic
class Row(pydantic.BaseModel):
    loan_id: str
    loan_amount: pydantic.condecimal(max_digits=12, decimal_places=2)
    emi_due_date: str
Row.model_validate({"loan_id": "L-1", "loan_amount": "12000", "emi_due_date": "2026-12-05"})
import phonenumbers
number = phonenumbers.parse("06 12 34 56 78", "FR")
phonenumbers.is_valid_number(number)
phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
print(time.perf_counter() - t, time.process_time() - c, 0)
"""
)

#: The requests: a name and the event file (its authorizer context is the demo tenant's, all scopes);
#: the first, no event, is the import of the handler alone (the figure this bench measured before).
IMPORT_ONLY = "(the import alone, no request)"
#: The library's own cost for a first DynamoDB request, none of the product's code (``_BOTOCORE_FLOOR``).
BOTOCORE_FLOOR = "(botocore alone: import, client, one GetItem)"
#: What the budget is set on: the handler's import and the first request's client (``_IMPORT_AND_CLIENT``).
IMPORT_AND_CLIENT = "(import API handler + the first request's ports and DynamoDB client)"
#: The libraries a bulk import needs, alone (``_LIBRARIES_FLOOR``).
LIBRARIES_FLOOR = "(a bulk import's libraries alone: botocore, S3, pydantic, phonenumbers)"
REQUESTS = {
    IMPORT_ONLY: "",
    IMPORT_AND_CLIENT: "",
    BOTOCORE_FLOOR: "",
    LIBRARIES_FLOOR: "",
    "GET /api/v1/campaigns": "campaigns-list.json",
    "POST /api/v1/customers/add/bulk (3 rows)": "campaign-customers-clean.json",
}

#: Each request's libraries alone: what it would cost if the product's own code cost nothing.
FLOOR_OF = {
    "GET /api/v1/campaigns": BOTOCORE_FLOOR,
    "POST /api/v1/customers/add/bulk (3 rows)": LIBRARIES_FLOOR,
}


CACHE = ROOT / ".bench-cache"


@dataclass(frozen=True)
class Variant:
    """How a child runs: its interpreter, its environment, extra interpreter flags."""

    name: str
    python: str
    env: dict[str, str]
    flags: tuple[str, ...] = ()


def _run(variant: Variant, code: str, stdin: str = "") -> tuple[float, float, int]:
    """A child's seconds of wall clock and of CPU from its first import to its answer, and its status."""
    out = subprocess.run(
        [variant.python, *variant.flags, "-c", code],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=variant.env,
    ).stdout.split()
    return float(out[-3]), float(out[-2]), int(out[-1])


def _figures(runs: list[tuple[float, float]]) -> dict[str, float]:
    wall, cpu = [w for w, _ in runs], [c for _, c in runs]
    return {
        "min_s": min(wall),
        "median_s": statistics.median(wall),
        "cpu_min_s": min(cpu),
        "cpu_median_s": statistics.median(cpu),
    }


def deployable_bundle() -> tuple[str, Path] | None:
    """The runtime's interpreter and the deployable code asset (built on first use), or None when this
    machine has no interpreter of the runtime's version."""
    sys.path.insert(0, str(ROOT))
    from infra import bundling

    python = bundling.runtime_python()
    if python is None:
        return None
    requirements = bundling.runtime_dependencies()
    target = CACHE / f"bundle-{bundling.asset_hash(requirements)[:16]}"
    if not target.is_dir():
        CACHE.mkdir(exist_ok=True)
        building = Path(tempfile.mkdtemp(dir=CACHE))
        bundling.PipLocalBundling(requirements).try_bundle(str(building))
        building.rename(target)
    return python, target


def variants(env: dict[str, str], baseline: str | None, bundle: bool, empty: str) -> list[Variant]:
    """The ways each request is served (see the module's notes)."""
    out = [Variant("local", sys.executable, env)]
    if baseline:
        out.append(Variant("baseline", sys.executable, {**env, "PYTHONPATH": baseline}))
    built = deployable_bundle() if bundle else None
    if built is not None:
        python, path = built
        # Only the bundle on the path: the interpreter's own site-packages hold nothing of ours.
        bundled = {**env, "PYTHONPATH": str(path), "PYTHONNOUSERSITE": "1"}
        bundled.pop("PYTHONPYCACHEPREFIX", None)
        out.append(Variant("bundle", python, bundled, ("-B",)))
        # Bytecode looked for under an empty directory: every module compiled at each start, as on Lambda.
        out.append(Variant("bundle, no bytecode", python, {**bundled, "PYTHONPYCACHEPREFIX": empty}, ("-B",)))
    return out


def bench_cold_start(rounds: int = 7, baseline: str | None = None, bundle: bool = True) -> dict[str, Any]:
    """Each request's cold start and ``import boto3``, ``rounds`` fresh processes each, interleaved, in
    every variant.

    Returns, per variant, the min and median seconds of ``import boto3`` and of each request, and each
    request's ratios to that variant's ``import boto3``.
    """
    from bulk_import.local.stack import LocalStack

    events = {
        name: (EVENTS / "api" / path).read_text(encoding="utf-8") if path else ""
        for name, path in REQUESTS.items()
    }
    codes = {name: _COLD_START if events[name] else _IMPORT_ONLY for name in REQUESTS}
    codes[BOTOCORE_FLOOR] = _BOTOCORE_FLOOR
    codes[IMPORT_AND_CLIENT] = _IMPORT_AND_CLIENT
    codes[LIBRARIES_FLOOR] = _LIBRARIES_FLOOR
    with (
        LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]),
        tempfile.TemporaryDirectory() as cache,
        tempfile.TemporaryDirectory() as empty,
    ):
        # The local variants run from bytecode, as the installed libraries do: the package's is compiled
        # once, into a directory of its own, by the first run of each request.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = cache
        chosen = variants(env, baseline, bundle, empty)
        runs: dict[str, dict[str, list[tuple[float, float]]]] = {
            v.name: {n: [] for n in ["boto3", *REQUESTS]} for v in chosen
        }
        for variant in chosen:  # once each first: the bytecode, the emulation's first calls
            for name in REQUESTS:
                _run(variant, codes[name], events[name])
        for _ in range(rounds):
            for variant in chosen:
                runs[variant.name]["boto3"].append(_run(variant, _BOTO3)[:2])
                for name in REQUESTS:
                    wall, cpu, status = _run(variant, codes[name], events[name])
                    assert status < 300, (variant.name, name, status)
                    runs[variant.name][name].append((wall, cpu))
    result: dict[str, Any] = {"rounds": rounds, "budget": BUDGET, "variants": {}}
    for variant_name, named in runs.items():
        boto3 = _figures(named.pop("boto3"))
        requests = {}
        for name, timings in named.items():
            figures = _figures(timings)
            requests[name] = {
                **figures,
                "ratio_min": figures["min_s"] / boto3["min_s"],
                "ratio_median": figures["median_s"] / boto3["median_s"],
                "cpu_ratio_min": figures["cpu_min_s"] / boto3["cpu_min_s"],
                "cpu_ratio_median": figures["cpu_median_s"] / boto3["cpu_median_s"],
            }
        result["variants"][variant_name] = {"boto3": boto3, "requests": requests}
    return result


def report(rounds: int = 7, baseline: str | None = None, bundle: bool = True) -> None:
    """Print section 10."""
    r = bench_cold_start(rounds, baseline, bundle)
    if "bundle" not in r["variants"] and bundle:
        print(
            "10. (no interpreter of the Lambda runtime's Python here: the deployable bundle is not measured)"
        )
    # The budget is the deployed function's: judged on the deployable bundle when there is one. The local
    # variant runs the virtualenv's whole botocore (every service's models and endpoints), which alone
    # costs over the budget (its "botocore alone" line).
    judged = "bundle" if "bundle" in r["variants"] else "local"
    for variant, v in r["variants"].items():
        b = v["boto3"]
        print(
            f"10. [{variant}] cold start, {r['rounds']} fresh processes each, interleaved: import boto3 "
            f"min {b['min_s'] * 1000:.0f} ms, median {b['median_s'] * 1000:.0f} ms "
            f"(CPU {b['cpu_min_s'] * 1000:.0f}, {b['cpu_median_s'] * 1000:.0f})"
        )
        for name, f in v["requests"].items():
            alone = (IMPORT_ONLY, IMPORT_AND_CLIENT, BOTOCORE_FLOOR, LIBRARIES_FLOOR)
            what = "import API handler" if name == IMPORT_ONLY else "" if name in alone else "first request"
            budget = f"; CPU time {f['cpu_ratio_min']:.2f} (min), {f['cpu_ratio_median']:.2f} (median)"
            if name == IMPORT_AND_CLIENT and variant == judged:
                verdict = "OK" if max(f["ratio_median"], f["cpu_ratio_median"]) <= r["budget"] else "OVER"
                budget += f" (budget <= {r['budget']}, both medians) {verdict}"
            elif name == IMPORT_AND_CLIENT:
                budget += f" (the budget is judged on [{judged}])"
            floor = v["requests"].get(FLOOR_OF.get(name, ""))
            if floor is not None:
                budget += f"; {f['median_s'] / floor['median_s']:.2f} x its libraries alone (median)"
            print(
                f"10. [{variant}] {what + ' ' if what else ''}{name}: "
                f"min {f['min_s'] * 1000:.0f} ms, median {f['median_s'] * 1000:.0f} ms; "
                f"ratio to import boto3: wall clock {f['ratio_min']:.2f} (min), "
                f"{f['ratio_median']:.2f} (median){budget}"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--baseline", help="a functions/ directory of another checkout, measured alongside")
    parser.add_argument("--no-bundle", action="store_true", help="leave the deployable bundle out")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(bench_cold_start(args.rounds, args.baseline, not args.no_bundle), indent=2))
    else:
        report(args.rounds, args.baseline, not args.no_bundle)
