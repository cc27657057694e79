"""``make cost``: what one million rows of each kind cost on AWS, from the calls a real import makes.

Runs an import of ``--rows`` rows (10,000 by default) of each kind through the HTTP API of the local stack,
as a client would (key ``acme-secret`` of the demo seed), waits until it is done, workflow included, and
prices every AWS call the stack's handlers made (``cost_meter``) at the list prices of ``prices.py``.
Prints, per kind, the cost of one million rows and its ratio to the DynamoDB write floor (one write unit
per row).

Usage: ``python scripts/cost.py [--rows N] [--kinds k1,k2] [--detail]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from cost_meter import Meter, Usage  # noqa: E402
from prices import FLOOR_PER_ROW, PRICES, PRICES_AS_OF, REGION  # noqa: E402

EVENTS = ROOT / "events"
KEY = "acme-secret"
MILLION = 1_000_000


def _template(name: str) -> dict[str, Any]:
    event = json.loads((EVENTS / "api" / f"{name}.json").read_text(encoding="utf-8"))
    return {"path": event["path"], "body": json.loads(event["body"])}


def campaign_customers(n: int) -> list[tuple[str, dict[str, Any]]]:
    """One request of ``n`` messy rows (1 in 50 with a bad number) that asks for a call per customer."""
    from bench_measures import make_records

    calls = _template("campaign-customers-calls")
    # The loans campaign (whose rows these are), with the calls of the demo's calls request.
    body = {**{k: v for k, v in calls["body"].items() if k != "records"}, "campaignId": "camp-loans"}
    return [(calls["path"], {**body, "records": make_records(n)})]


def debts(n: int) -> list[tuple[str, dict[str, Any]]]:
    """Requests of at most 1,000 debts (the kind's limit), each with its own valid French mobile."""
    from bench_measures import make_records

    t = _template("debts-french-batch")
    body, row = {k: v for k, v in t["body"].items() if k != "debts"}, t["body"]["debts"][0]
    phones = [
        r["phone_number"] for r in make_records(n + n // 49 + 2, seed=3) if r["phone_number"] != "12345"
    ]
    rows = [
        {
            **row,
            "temp_id": f"T-{i}",
            "internal_id": f"INV-{i:07d}",
            "phone": phones[i],
            "amount": f"{10 + i % 900}.50",
        }
        for i in range(n)
    ]
    return [
        (t["path"], {**body, "batch_name": f"cost {i // 1000}", "debts": rows[i : i + 1000]})
        for i in range(0, n, 1000)
    ]


def customers(n: int) -> list[tuple[str, dict[str, Any]]]:
    """One batch of ``n`` complete customers (profile fields given, no LMS sync), each with its own id."""
    t = _template("customers-batch")
    row = {
        "taskType": "collections",
        "firstName": "Grace",
        "lastName": "Hopper",
        "phoneNumber": "(212) 555-0142",
        "timezone": "America/New_York",
        "streetAddress1": "123 Main St",
        "city": "New York",
        "state": "NY",
        "zipCode": "10001",
    }
    rows = [{**row, "id": f"c-{i:07d}", "loanId": f"LN-{i}"} for i in range(n)]
    return [(t["path"], {**t["body"], "customers": rows})]


def payments(n: int) -> list[tuple[str, dict[str, Any]]]:
    """One import of ``n`` payments."""
    t = _template("payments-import-clean")
    row = t["body"]["items"][0]
    return [(t["path"], {**t["body"], "items": [{**row, "id": f"pay-{i:07d}"} for i in range(n)]})]


KINDS: dict[str, Callable[[int], list[tuple[str, dict[str, Any]]]]] = {
    "campaign-customers": campaign_customers,
    "debts": debts,
    "customers": customers,
    "payments": payments,
}


def _post(url: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "X-API-Key": KEY},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _import_ids(answer: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(answer, dict):
        for k, v in answer.items():
            if k in ("importId", "import_id") and isinstance(v, str):
                found.add(v)
            else:
                found |= _import_ids(v)
    elif isinstance(answer, list):
        for v in answer:
            found |= _import_ids(v)
    return found


def _wait(meter: Meter, stack: Any, import_ids: set[str], timeout: float = 1800) -> int:
    """Wait until every import is settled and no workflow execution runs; return the rows stored."""
    from bulk_import import resources
    from bulk_import.entrypoints import runtime

    sfn = stack.session().client("stepfunctions")
    deadline = time.monotonic() + timeout
    while True:
        with meter.uncounted():
            deps = runtime.DEPS.get() or _deps()
            jobs = {i: deps.imports.get("acme", i) for i in import_ids}
            status = {i: (j.status if j is not None else "MISSING") for i, j in jobs.items()}
            running = sfn.list_executions(
                stateMachineArn=stack.names[resources.STATE_MACHINE_ENV], statusFilter="RUNNING"
            )["executions"]
        settled = all(s in ("DONE", "FAILED", "CANCELLED", "MISSING") for s in status.values())
        if settled and not running:
            return sum(j.counts.succeeded for j in jobs.values() if j is not None)
        if time.monotonic() > deadline:
            raise TimeoutError(f"imports not settled: {status}, {len(running)} executions running")
        time.sleep(0.5)


def _deps() -> Any:
    from bulk_import.adapters.aws import build_deps

    return build_deps()


def _transitions(meter: Meter, stack: Any, seen: set[str]) -> int:
    """State transitions of the executions that ended since the last call, from their histories."""
    from bulk_import import resources

    sfn = stack.session().client("stepfunctions")
    total = 0
    with meter.uncounted():
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=stack.names[resources.STATE_MACHINE_ENV]
        )
        for page in pages:
            for execution in page["executions"]:
                arn = execution["executionArn"]
                if arn in seen:
                    continue
                seen.add(arn)
                for history in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
                    total += sum(1 for e in history["events"] if e["type"].endswith("StateEntered"))
    return total


def _memory() -> dict[str, int]:
    """Configured memory of each handler, from the functions the CDK app declares."""
    import os

    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra import functions

    specs = [v for v in vars(functions).values() if isinstance(v, functions.FunctionSpec)]
    return {f"{s.module}.{s.function}": s.memory_mb for s in specs}


def cost(usage: Usage) -> dict[str, float]:
    """Dollars per service of the counted units."""
    u = usage.units
    lambda_usd = sum(usage.gb_s.values()) * PRICES["lambda_gb_s"]
    lambda_usd += sum(usage.invocations.values()) * PRICES["lambda_request"]
    return {
        "dynamodb_w": u["dynamodb_wru"] * PRICES["dynamodb_wru"],
        "dynamodb_r": u["dynamodb_rru"] * PRICES["dynamodb_rru"],
        "sqs": u["sqs_request"] * PRICES["sqs_request"],
        "s3": u["s3_put"] * PRICES["s3_put"] + u["s3_get"] * PRICES["s3_get"],
        "sfn": u["sfn_transition"] * PRICES["sfn_transition"],
        "events": u["events_put"] * PRICES["events_put"],
        "lambda": lambda_usd,
    }


def measure(kinds: list[str], rows: int) -> dict[str, tuple[int, int, Usage]]:
    """Run each kind's import on a fresh local stack with the meter installed; the usage of each."""
    from bulk_import.local.stack import LocalStack

    meter = Meter(_memory())
    out: dict[str, tuple[int, int, Usage]] = {}
    meter.install()
    try:
        for kind in kinds:
            with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as stack:
                meter.describe_tables(stack.session().client("dynamodb"))
                meter.skip_queues = {stack.calls_queue_url}
                seen: set[str] = set()
                _transitions(meter, stack, seen)
                requests = KINDS[kind](rows)
                meter.reset()
                ids: set[str] = set()
                for path, body in requests:
                    status, answer = _post(stack.url + path, body)
                    if status >= 300:
                        raise RuntimeError(f"{kind}: {path} answered {status}: {str(answer)[:300]}")
                    ids |= _import_ids(answer)
                succeeded = _wait(meter, stack, ids)
                time.sleep(2)  # the last chunk's messages deleted, the last calls sent
                usage = meter.reset()
                usage.units["sfn_transition"] += _transitions(meter, stack, seen)
                out[kind] = (rows, succeeded, usage)
    finally:
        meter.uninstall()
    return out


def report(results: dict[str, tuple[int, int, Usage]], detail: bool) -> str:
    """The plain-text table of the cost of one million rows per kind."""
    columns = ["dynamodb_w", "dynamodb_r", "sqs", "s3", "sfn", "events", "lambda"]
    head = f"{'kind':<20}{'stored':>8}{'WRU/row':>9}{'RRU/row':>9}" + "".join(f"{c:>12}" for c in columns)
    head += f"{'total $':>11}{'x floor':>9}"
    lines = [
        f"Cost of 1,000,000 rows per kind, {REGION} on-demand list prices of {PRICES_AS_OF}, "
        f"scaled from one measured import; floor = 1 WRU per row = ${FLOOR_PER_ROW * MILLION:.3f}",
        "(stored: share of the rows sent that the import stored; units per row sent; "
        "Step Functions transitions counted from the executions' histories)",
        head,
        "-" * len(head),
    ]
    for kind, (rows, succeeded, usage) in results.items():
        scale = MILLION / rows
        dollars = cost(usage)
        total = sum(dollars.values()) * scale
        wru, rru = usage.units["dynamodb_wru"] / rows, usage.units["dynamodb_rru"] / rows
        line = f"{kind:<20}{succeeded / rows:>8.0%}{wru:>9.2f}{rru:>9.2f}"
        line += "".join(f"{dollars[c] * scale:>12.4f}" for c in columns)
        line += f"{total:>11.3f}{total / (FLOOR_PER_ROW * MILLION):>8.2f}x"
        lines.append(line)
    if detail:
        for kind, (rows, _, usage) in results.items():
            lines.append(f"\n{kind} ({rows:,} rows): calls")
            lines += [f"  {n:>8,}  {name}" for name, n in sorted(usage.calls.items())]
            lines.append("  units: " + ", ".join(f"{k}={v:,.1f}" for k, v in sorted(usage.units.items())))
            lines.append(
                "  item bytes written: " + ", ".join(f"{k}={v:,}" for k, v in usage.written_bytes.items())
            )
            for h in sorted(usage.invocations):
                calls, cpu, gb_s = usage.invocations[h], usage.cpu_s[h], usage.gb_s[h]
                lines.append(f"  lambda {h}: {calls} calls, {cpu:.2f} CPU s, {gb_s:.2f} GB-s")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=10_000, help="rows per kind (default 10,000)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds to run")
    parser.add_argument("--detail", action="store_true", help="print the calls and units of each kind")
    args = parser.parse_args(argv)
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or args.rows < 1:
        parser.error(f"unknown kinds {unknown}" if unknown else "--rows must be at least 1")
    print(report(measure(kinds, args.rows), args.detail))
    return 0


if __name__ == "__main__":
    sys.exit(main())
