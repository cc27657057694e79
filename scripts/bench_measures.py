"""The measurements ``make bench`` reports (1-5 of ``bench.py``), each returning its figures as a dict.

Validation against naive code and its parsing floor (``bench_validation.py``), BatchWriteItem calls on
moto, the API handler's import time, and the large asynchronous imports (payments through the queue
workers, a debts CSV dropped in the bucket) on the local stack. The runner, ``bench.py``, prints them
against their budgets.
"""

from __future__ import annotations

import gc
import json
import math
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The measures build on the tests' fakes and seed, imported from the repository root.
sys.path.insert(0, str(ROOT))


def make_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """Realistic, messy campaign-customer rows: French numbers in every format, a few bad rows."""
    import phonenumbers

    rng = random.Random(seed)
    formats = [
        "0{a} {b} {c} {d} {e}",
        "0{a}.{b}.{c}.{d}.{e}",
        "+33 {a} {b} {c} {d} {e}",
        "0033{a}{b}{c}{d}{e}",
    ]
    rows = []
    for i in range(n):
        while True:  # a real French mobile number (the 1 in 50 bad rows are made on purpose below)
            parts = {"a": rng.choice("67"), **{k: f"{rng.randrange(100):02d}" for k in "bcde"}}
            if phonenumbers.is_valid_number(phonenumbers.parse("0{a}{b}{c}{d}{e}".format(**parts), "FR")):
                break
        rows.append(
            {
                "loan_id": f"L-{i:06d}",
                "first_name": rng.choice(["Camille", "Hugo", " Léa ", "Nina", "Omar"]),
                "last_name": rng.choice(["Martin", "Bernard", "Dubois", "Petit"]),
                "phone_number": rng.choice(formats).format(**parts) if i % 50 else "12345",
                "loan_amount": rng.choice([12000, "8000.00", "1 500,75", 5000]),
                "emi_amount": rng.choice([450, "210.50", "99"]),
                "loan_period": rng.choice([12, 24, "36"]),
                "emi_due_date": rng.choice(["05/12/2026", "2026-12-10", "15-12-2026"]),
                "payment_status": "due",
                "language": "fr",
            }
        )
    return rows


def bench_validation(n: int, repeat: int = 7) -> dict[str, Any]:
    """Measure 1: ``n`` records validated by the product, by naive pydantic and by the floor (see
    ``bench_validation.py``); ``ratio`` and ``budget`` are those over the floor, by the minimums."""
    import bench_validation  # next to this script

    v = bench_validation.measure(make_records(n), repeat)
    return {**v, "ratio": v["over_floor"]["min"], "budget": v["budget_floor"]}


def bench_writes(counts: list[int]) -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from tests.fakes import ACME

    from bulk_import.adapters.aws import build_deps
    from bulk_import.kinds import get_kind
    from bulk_import.local.resources import create_all, local_names
    from bulk_import.settings import Settings
    from bulk_import.usecases.sync_imports import run_inline_import

    out = {}
    with mock_aws():
        names = create_all(boto3.session.Session(), local_names(), "us-east-1")
        deps = build_deps(Settings.from_env({**names, "AWS_REGION": "us-east-1"}), boto3.session.Session())
        deps.tenants.put_tenant("acme", {"defaultPhoneRegion": "FR", "timezone": "Europe/Paris"})  # type: ignore[attr-defined]
        deps.tenants.put_config_item(  # type: ignore[attr-defined]
            "acme", "CAMPAIGN#camp-loans", {"id": "camp-loans", "name": "Loans", "serviceType": "collections"}
        )
        ddb = deps.records.client  # type: ignore[attr-defined]
        calls: dict[str, int] = {}

        def count(params: dict[str, Any], **_: Any) -> None:
            (table,) = params["RequestItems"]
            calls[table] = calls.get(table, 0) + 1

        ddb.meta.events.register("provide-client-params.dynamodb.BatchWriteItem", count)
        for n in counts:
            calls.clear()
            rows = [r for r in make_records(n + n // 49 + 2) if r["phone_number"] != "12345"][:n]
            t = time.perf_counter()
            result = run_inline_import(
                get_kind("campaign-customers"), {"campaignId": "camp-loans"}, rows, ACME, deps
            )
            elapsed = time.perf_counter() - t
            assert result.job.counts.succeeded == n, result.job.counts
            record_calls = calls.get(names["RECORDS_TABLE"], 0)
            out[n] = {
                "batch_write_calls": record_calls,
                "expected": math.ceil(n / 25),
                "seconds_on_moto": elapsed,
            }
    return out


def bench_imports() -> dict[str, Any]:
    def import_time(module: str) -> float:
        code = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
        runs = [float(subprocess.check_output([sys.executable, "-c", code], text=True)) for _ in range(5)]
        return statistics.median(runs)

    boto = import_time("boto3")
    api = import_time("bulk_import.entrypoints.api")
    return {"boto3_s": boto, "api_handler_s": api, "ratio": api / boto, "budget": 2.0}


def bench_async_payments(n: int) -> dict[str, Any]:
    from tests.fakes import ALL_SCOPES

    from bulk_import.core.tenants import Principal
    from bulk_import.engine.jobs import start_async_import
    from bulk_import.entrypoints import runtime
    from bulk_import.kinds import get_kind
    from bulk_import.local.stack import LocalStack

    events = ROOT / "events"
    template = json.loads(json.loads((events / "api" / "payments-import-clean.json").read_text())["body"])[
        "items"
    ][0]
    items = [{**template, "id": f"bench-{i:07d}"} for i in range(n)]
    with LocalStack() as stack:
        stack.load_seed(events / "seed" / "demo-seed.json")
        deps = runtime.DEPS.get()
        t = time.perf_counter()
        job = start_async_import(
            get_kind("payments"),
            {},
            items,
            Principal("acme", ALL_SCOPES),
            deps,
            source="bench",
            max_records=n,
        )
        accepted = time.perf_counter() - t
        while True:
            current = deps.imports.get("acme", job.import_id)
            assert current is not None
            if current.status == "DONE":
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - t
    return {
        "items": n,
        "accepted_after_s": accepted,
        "done_after_s": elapsed,
        "items_per_s": n / elapsed,
        "counts": current.counts.as_dict(),
    }


def make_debts_csv(path: Path, n: int, seed: int = 11) -> None:
    """A French debts file as a template export gives it: semicolons, Windows-1252, an instruction row,
    French amounts, random mobile numbers in every format (about 1 in 10 falls in an unassigned or an
    overseas range and fails, as it should) and one in 50 too short."""
    rng = random.Random(seed)
    names = ["Camille", "Léa", "Hugo", "Chloé", "Noël", "Gaëlle", "Zoé", "Jérôme"]
    formats = ["06 {a} {b} {c} {d}", "06.{a}.{b}.{c}.{d}", "+33 6 {a} {b} {c} {d}", "00336{a}{b}{c}{d}"]
    with path.open("w", encoding="cp1252", newline="") as out:
        out.write("Prénom;Nom;Montant;Devise;Téléphone;E-mail;Temp ID;Internal ID\r\n")
        out.write("* Champs obligatoires : Prénom, Nom, Montant, Devise, Téléphone ou E-mail;;;;;;;\r\n")
        for i in range(n):
            digits = {k: f"{rng.randrange(100):02d}" for k in "abcd"}
            phone = rng.choice(formats).format(**digits) if i % 50 else "06 12"
            amount = f"{rng.randrange(10, 5000)},{rng.randrange(100):02d}"
            name = rng.choice(names)
            out.write(f"{name};Martin-{i};{amount};EUR;{phone};;T-{i};FAC-{i:07d}\r\n")


def bench_file_handler(path: Path, rows: int) -> dict[str, Any]:
    """The file-drop handler alone (survey, then split and send), on in-memory ports; time and peak memory."""
    import tracemalloc

    from tests.fakes import make_deps

    from bulk_import.core.ports import StoredFile
    from bulk_import.engine.files.options import FileDrop
    from bulk_import.usecases.files import handle_drop

    class DiskFiles:
        def describe(self, key: str) -> StoredFile:
            return StoredFile(key, path.stat().st_size, {"timeline-id": "tl-standard"}, version="1")

        def open(self, key: str, **_: Any) -> Any:
            return path.open("rb")

        def put(self, key: str, body: Any, content_type: str) -> None:
            body.read()

        def tag(self, *_: Any, **__: Any) -> None:
            pass

    class CountingQueue:
        sent = 0

        def send(self, messages: Any) -> None:
            self.sent += len(messages)

    class DiscardingPayloads:
        def put_json(self, key: str, value: Any) -> None:
            json.dumps(value, default=str)

        def get_json(self, key: str) -> Any:
            raise KeyError(key)

    def run(traced: bool) -> tuple[float, int, int]:
        deps = make_deps()
        deps.files, deps.queue, deps.payloads = DiskFiles(), CountingQueue(), DiscardingPayloads()  # type: ignore[assignment]
        gc.collect()
        if traced:
            tracemalloc.start()
        t = time.perf_counter()
        job = handle_drop(deps, FileDrop(key="incoming/acme/debts/bench.csv", version="1"))
        elapsed = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] if traced else 0
        if traced:
            tracemalloc.stop()
        assert job is not None and job.status == "QUEUED", job and job.error
        return elapsed, peak, deps.queue.sent  # type: ignore[union-attr]

    elapsed, _, chunks = run(traced=False)
    _, peak, _ = run(traced=True)
    return {
        "rows": rows,
        "bytes": path.stat().st_size,
        "seconds": elapsed,
        "peak_bytes": peak,
        "chunks": chunks,
    }


def bench_file_drop(path: Path, rows: int) -> dict[str, Any]:
    """A file dropped into the local stack's bucket: time until its import is DONE with result files."""
    from bulk_import.entrypoints import runtime
    from bulk_import.local.demo import wait_for_tag
    from bulk_import.local.stack import LocalStack

    events = ROOT / "events"
    key = "incoming/acme/debts/bench-100k.csv"
    with LocalStack() as stack:
        stack.load_seed(events / "seed" / "demo-seed.json")
        s3 = stack.session().client("s3", endpoint_url=stack.endpoint_url)
        t = time.perf_counter()
        s3.upload_file(
            str(path), stack.bucket_name, key, ExtraArgs={"Metadata": {"timeline-id": "tl-standard"}}
        )
        import_id = wait_for_tag(stack, key, timeout=600)
        assert import_id is not None, "the file was not picked up"
        queued = time.perf_counter() - t
        deps = runtime.DEPS.get()
        while True:
            job = deps.imports.get("acme", import_id)
            assert job is not None
            if job.status in ("DONE", "FAILED"):
                break
            time.sleep(0.5)
        elapsed = time.perf_counter() - t
        summary = json.loads(s3.get_object(Bucket=stack.bucket_name, Key=job.files["summary"])["Body"].read())
    return {
        "rows": rows,
        "status": job.status,
        "queued_after_s": queued,
        "done_after_s": elapsed,
        "rows_per_s": rows / elapsed,
        "counts": job.counts.as_dict(),
        "error_rows": summary.get("errorRows"),
        "chunks": job.chunks_total,
    }
