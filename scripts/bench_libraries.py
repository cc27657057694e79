"""``make bench`` sections 6 and 7: the XLSX reader against openpyxl; what the libraries cost the bundle.

6. The same 100,000-row debts workbook read with python-calamine (the product's reader, through
   ``xlsx_rows``) and with openpyxl in read-only mode (the reader it replaced, cell for cell the same
   texts): seconds and peak resident memory of each, each in a fresh process, for 10,000 and 100,000 rows
   (resident memory the reader needs beyond the interpreter and its imports: calamine's Rust allocations
   are not seen by tracemalloc).
7. For each library the rules and readers depend on: its import time (median of 5 fresh processes), the
   time of its first use (a calendar, a ZIP lookup, opening a workbook), and its installed size, which is
   what it adds to the Lambda bundle.
"""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
from datetime import date, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: The readers, run in a child process: each prints its row count, seconds and peak RSS growth (KiB).
_READ = """
import sys, time
path, reader = sys.argv[1], sys.argv[2]
from bulk_import.engine.files.readers import cell_text, xlsx_rows
if reader == "openpyxl":
    from openpyxl import load_workbook
    def rows():
        workbook = load_workbook(path, read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        for values in sheet.iter_rows(values_only=True):
            yield [cell_text(v) for v in values]
        workbook.close()
else:
    import python_calamine
    def rows():
        return xlsx_rows(lambda: open(path, "rb"))
def status(field):
    with open("/proc/self/status") as lines:
        return next(int(line.split()[1]) for line in lines if line.startswith(field + ":"))
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # resets the peak (VmHWM) to the current resident size: the imports are done
before = status("VmRSS")
t = time.perf_counter()
count = sum(1 for _ in rows())
elapsed = time.perf_counter() - t
print(count, elapsed, status("VmHWM") - before)
"""

#: Module to import, and the first use that loads its data.
LIBRARIES = {
    "holidays": ("holidays", "holidays.France(years=2026)"),
    "zipcodes": ("zipcodes", "zipcodes.matching('94102')"),
    "python-calamine": ("python_calamine", "python_calamine.CalamineWorkbook"),
    "openpyxl": ("openpyxl", "openpyxl.Workbook()"),
}


def make_debts_xlsx(path: Path, n: int, seed: int = 13) -> None:
    """A debts workbook as a spreadsheet user fills it: text, amounts as numbers, dates, a boolean."""
    from openpyxl import Workbook

    rng = random.Random(seed)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Relances")
    sheet.append(["Prénom", "Nom", "Montant", "Devise", "Téléphone", "Échéance", "Temp ID", "Consentement"])
    names = ["Camille", "Léa", "Hugo", "Chloé", "Noël", "Zoé"]
    start = date(2026, 1, 1)
    for i in range(n):
        sheet.append(
            [
                rng.choice(names),
                f"Martin-{i}",
                round(rng.uniform(10, 5000), 2),
                "EUR",
                f"06 {rng.randrange(100):02d} {rng.randrange(100):02d} {rng.randrange(100):02d} 78",
                start + timedelta(days=rng.randrange(365)),
                i,
                rng.random() < 0.5,
            ]
        )
    workbook.save(path)


def _read(path: Path, reader: str) -> dict[str, Any]:
    out = subprocess.check_output([sys.executable, "-c", _READ, str(path), reader], text=True, cwd=ROOT)
    rows, seconds, kib = out.split()
    return {"rows": int(rows), "seconds": float(seconds), "peak_rss_mb": int(kib) / 1024}


def bench_xlsx(path: Path, rows: int) -> dict[str, Any]:
    """Section 6 for one workbook: both readers, best of two runs each."""
    make_debts_xlsx(path, rows)
    result: dict[str, Any] = {"rows": rows, "bytes": path.stat().st_size}
    for reader in ("calamine", "openpyxl"):
        runs = [_read(path, reader) for _ in range(2)]
        assert all(r["rows"] == rows + 1 for r in runs), runs
        result[reader] = min(runs, key=lambda r: r["seconds"])
    result["ratio"] = result["openpyxl"]["seconds"] / result["calamine"]["seconds"]
    return result


def _installed_bytes(distribution: str) -> int:
    files = metadata.distribution(distribution).files or []
    return sum(f.locate().stat().st_size for f in files if Path(f.locate()).is_file())


def bench_library(distribution: str) -> dict[str, Any]:
    """Section 7 for one library: import and first-use times, installed size."""
    module, first_use = LIBRARIES[distribution]
    code = (
        f"import time; t = time.perf_counter(); import {module}; u = time.perf_counter(); {first_use}; "
        "print(u - t, time.perf_counter() - u)"
    )
    runs = [
        tuple(map(float, subprocess.check_output([sys.executable, "-c", code], text=True).split()))
        for _ in range(5)
    ]
    return {
        "library": distribution,
        "version": metadata.version(distribution),
        "import_s": statistics.median(r[0] for r in runs),
        "first_use_s": statistics.median(r[1] for r in runs),
        "installed_mb": _installed_bytes(distribution) / 1e6,
    }


def report(tmp: Path, file_rows: int) -> None:
    """Print sections 6 and 7."""
    for n in sorted({10_000, file_rows}):
        x = bench_xlsx(tmp / f"debts-{n}.xlsx", n)
        c, o = x["calamine"], x["openpyxl"]
        print(
            f"6. {n:,}-row XLSX ({x['bytes'] / 1e6:.1f} MB): calamine {c['seconds']:.2f} s, "
            f"peak +{c['peak_rss_mb']:.0f} MB RSS; openpyxl {o['seconds']:.2f} s, "
            f"peak +{o['peak_rss_mb']:.0f} MB RSS; calamine is {x['ratio']:.1f}x faster"
        )
    for name in LIBRARIES:
        lib = bench_library(name)
        print(
            f"7. {lib['library']} {lib['version']}: import {lib['import_s'] * 1000:.0f} ms, first use "
            f"{lib['first_use_s'] * 1000:.0f} ms, installed {lib['installed_mb']:.1f} MB"
            + (" (dev only: tests and this bench)" if name == "openpyxl" else "")
        )


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        report(Path(tmp), int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
