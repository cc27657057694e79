"""``make bench``: the performance budgets of the stack, measured (not asserted by timed tests).

1. Validating and normalizing a 10,000-record campaign-customers request, against naive pydantic with a
   phonenumbers validator (budget: at most 0.7x) and against the floor of parsing the body with the API's
   JSON parser plus phonenumbers parse, validity and E.164 of each distinct phone (budget: at most 1.15x),
   interleaved runs, minimum and median: see ``bench_validation.py``.
2. BatchWriteItem calls to write N valid records (budget: exactly ceil(N/25)).
3. Importing the API handler module, against ``import boto3`` (budget: at most 2x).
4. A large asynchronous payments import through the local stack's queue workers: throughput, and the
   worker's peak memory per chunk for a small and a large import (budget: it does not grow).
5. A 100,000-row debts CSV (semicolons, Windows-1252, generated on the fly) dropped into the local stack's
   bucket: time until its import is DONE with its result files; and the file-drop handler's own time and
   peak memory (tracemalloc) for 10,000 and 100,000 rows, on in-memory ports (budget: the reader's memory
   does not grow with the file; only the map of keys seen, for duplicates across chunks, does).
6-7. The XLSX reader (python-calamine) against openpyxl on the same workbook, and each library's import
   time and installed size: see ``bench_libraries.py``.
8. ``Idempotency-Key`` on a 10,000-record campaign-customers request over the local stack's HTTP API:
   the DynamoDB calls it adds per request (budget: one conditional PutItem and one conditional
   UpdateItem for a first request, one PutItem for a replay, whatever the number of rows) and its latency
   against the same request without a key: see ``bench_idempotency.py``.
9. The memory of writing an import's ``results.csv`` and ``errors.csv``, 1,000 against 100,000 rows
   (tracemalloc peaks, interleaved rounds, minimum and median; budget: the ratio at most 1.5): see
   ``bench_memory.py``.
10. The API function's cold start: a fresh interpreter importing the API handler and serving one real
   request (through moto's server), against a fresh interpreter doing ``import boto3``; interleaved
   rounds, minimum and median (budget: at most 1.3x), from this checkout and from the deployable bundle
   run by the runtime's Python, compiled and not (``--no-bundle`` leaves the bundle out): see
   ``bench_cold_start.py``.
11. An asynchronous import that updates payments already stored, against one that creates them: the chunk
   workers' time on the local stack's DynamoDB, interleaved rounds, minimum and median (budget: at most
   1.2x): see ``bench_storage.py``.

Usage: ``python scripts/bench.py [--records 10000] [--payments 100000] [--file-rows 100000] [--skip-async]
[--idempotency-rounds 5] [--validation-rounds 7] [--only-validation] [--only-file] [--only-libraries]
[--only-idempotency] [--cold-start-rounds 7] [--only-cold-start] [--no-bundle] [--storage-rounds 5]
[--only-storage]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench_measures import (  # next to this script
    bench_async_payments,
    bench_file_drop,
    bench_file_handler,
    bench_imports,
    bench_validation,
    bench_writes,
    make_debts_csv,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--file-rows", type=int, default=100_000)
    parser.add_argument("--skip-async", action="store_true")
    parser.add_argument("--only-file", action="store_true", help="only the file-drop measures (5)")
    parser.add_argument("--only-libraries", action="store_true", help="only XLSX and the libraries (6-7)")
    parser.add_argument("--idempotency-rounds", type=int, default=5, help="rounds of measure 8 (0: skip)")
    parser.add_argument("--only-idempotency", action="store_true", help="only Idempotency-Key's cost (8)")
    parser.add_argument("--memory-rounds", type=int, default=5, help="rounds of measure 9 (0: skip)")
    parser.add_argument("--only-memory", action="store_true", help="only the result files' memory (9)")
    parser.add_argument("--validation-rounds", type=int, default=7, help="interleaved runs of measure 1")
    parser.add_argument("--only-validation", action="store_true", help="only the validation measure (1)")
    parser.add_argument("--cold-start-rounds", type=int, default=7, help="rounds of measure 10 (0: skip)")
    parser.add_argument("--only-cold-start", action="store_true", help="only the API's cold start (10)")
    parser.add_argument("--no-bundle", action="store_true", help="measure 10 without the deployable bundle")
    parser.add_argument("--storage-rounds", type=int, default=5, help="rounds of measure 11 (0: skip)")
    parser.add_argument("--only-storage", action="store_true", help="only re-import against import (11)")
    args = parser.parse_args()
    if args.only_storage:
        return _storage_bench(args)
    if args.only_cold_start:
        return _cold_start_bench(args)
    if args.only_memory:
        return _memory_bench(args)
    if args.only_idempotency:
        return _idempotency_bench(args)
    if args.only_file or args.only_libraries:
        return _file_benches(args) if args.only_file else _library_benches(args)

    _validation_bench(args)
    if args.only_validation:
        return 0
    w = bench_writes([1, 25, 26, 1000, 10_000])
    for n, r in w.items():
        ok = "OK" if r["batch_write_calls"] == r["expected"] else "WRONG"
        print(
            f"2. write {n:>6,} records: {r['batch_write_calls']:>4} BatchWriteItem calls (ceil(N/25) = "
            f"{r['expected']}) {ok}; {r['seconds_on_moto']:.2f} s on moto"
        )
    i = bench_imports()
    print(
        f"3. import API handler: {i['api_handler_s'] * 1000:.0f} ms; "
        f"import boto3: {i['boto3_s'] * 1000:.0f} ms; ratio {i['ratio']:.2f} (budget <= {i['budget']}) "
        f"{'OK' if i['ratio'] <= i['budget'] else 'OVER BUDGET'}"
    )
    if not args.skip_async:
        p = bench_async_payments(args.payments)
        print(
            f"4. payments import of {p['items']:,} items on the local stack: accepted in "
            f"{p['accepted_after_s']:.1f} s, DONE in {p['done_after_s']:.1f} s "
            f"({p['items_per_s']:,.0f} items/s); counts {p['counts']}"
        )
    return (
        _file_benches(args)
        or _library_benches(args)
        or _idempotency_bench(args)
        or _memory_bench(args)
        or _cold_start_bench(args)
        or _storage_bench(args)
    )


def _cold_start_bench(args: argparse.Namespace) -> int:
    import bench_cold_start  # next to this script

    if args.cold_start_rounds > 0:
        bench_cold_start.report(args.cold_start_rounds, bundle=not args.no_bundle)
    return 0


def _validation_bench(args: argparse.Namespace) -> None:
    from bench_validation import report_lines as bench_validation_lines  # next to this script

    for line in bench_validation_lines(bench_validation(args.records, args.validation_rounds)):
        print(line)


def _file_benches(args: argparse.Namespace) -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted({10_000, args.file_rows}):
            path = Path(tmp) / f"debts-{n}.csv"
            make_debts_csv(path, n)
            h = bench_file_handler(path, n)
            print(
                f"5. file-drop handler, {n:,}-row CSV ({h['bytes'] / 1e6:.1f} MB): survey + split into "
                f"{h['chunks']} chunks in {h['seconds']:.1f} s; peak memory {h['peak_bytes'] / 1e6:.1f} MB"
            )
        path = Path(tmp) / f"debts-{args.file_rows}.csv"
        if args.skip_async:
            return 0
        f = bench_file_drop(path, args.file_rows)
        print(
            f"5. {f['rows']:,}-row CSV dropped in the local stack's bucket: import created after "
            f"{f['queued_after_s']:.1f} s, {f['status']} in {f['done_after_s']:.1f} s "
            f"({f['rows_per_s']:,.0f} rows/s, {f['chunks']} chunks); counts {f['counts']}; "
            f"{f['error_rows']:,} rows in errors.csv"
        )
    return 0


def _library_benches(args: argparse.Namespace) -> int:
    import tempfile

    import bench_libraries  # next to this script

    with tempfile.TemporaryDirectory() as tmp:
        bench_libraries.report(Path(tmp), args.file_rows)
    return 0


def _idempotency_bench(args: argparse.Namespace) -> int:
    import bench_idempotency  # next to this script

    if args.idempotency_rounds > 0:
        bench_idempotency.report(args.records, args.idempotency_rounds)
    return 0


def _memory_bench(args: argparse.Namespace) -> int:
    import bench_memory  # next to this script

    if args.memory_rounds > 0:
        bench_memory.report(args.memory_rounds)
    return 0


def _storage_bench(args: argparse.Namespace) -> int:
    import bench_storage  # next to this script

    if args.storage_rounds > 0:
        bench_storage.report(rounds=args.storage_rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
