"""``bulk-import validate``: a bar on large files when it runs in a terminal, its report where it is told."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from bulk_import.cli import main
from bulk_import.cli_output import Reporter
from bulk_import.cli_validate import PROGRESS_ABOVE, run

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "events" / "seed" / "demo-seed.json"


def loans(path: Path, rows: int) -> Path:
    lines = ["loan_id,first_name,last_name,phone_number,loan_amount,emi_amount,emi_due_date"]
    lines += [
        f"L-{i},Ada,Lovelace,06 10 {i // 100 % 100:02d} {i % 100:02d} 00,1500,62.50,2027-01-05"
        if i % 1000
        else f"L-{i},Ada,Lovelace,12,1500,62.50,2027-01-05"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def validated(path: Path, screen: io.StringIO, terminal: bool, errors_out: Path | None = None) -> int:
    args = argparse.Namespace(
        file=str(path),
        kind="campaign-customers",
        seed=str(SEED),
        tenant=None,
        option=["campaign-id=camp-loans"],
        errors_out=str(errors_out) if errors_out else None,
    )
    return run(args, None, Reporter(screen, terminal=terminal))


@pytest.mark.parametrize(("rows", "bar"), [(PROGRESS_ABOVE, False), (PROGRESS_ABOVE + 1, True)])
def test_a_terminal_gets_a_bar_on_files_over_ten_thousand_rows(tmp_path: Path, rows: int, bar: bool) -> None:
    screen = io.StringIO()
    assert validated(loans(tmp_path / "loans.csv", rows), screen, terminal=True) == 1
    shown = screen.getvalue()
    assert ("validating loans.csv" in shown) is bar
    assert f"total {rows:,}" in shown


def test_no_bar_when_the_output_is_not_a_terminal(tmp_path: Path) -> None:
    screen = io.StringIO()
    validated(loans(tmp_path / "loans.csv", PROGRESS_ABOVE + 1), screen, terminal=False)
    shown = screen.getvalue()
    assert "\x1b" not in shown and "validating" not in shown
    assert "… and 1 more (see loans.errors.csv)" in shown  # 11 bad rows, 10 shown


def test_the_report_goes_where_errors_out_says(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = loans(tmp_path / "loans.csv", 3)
    target = tmp_path / "reports" / "bad rows.csv"
    target.parent.mkdir()
    args = ["validate", str(source), "--kind", "campaign-customers", "--option", "campaign-id=camp-loans"]
    assert main([*args, "--seed", str(SEED), "--errors-out", str(target)]) == 1
    assert target.read_text(encoding="utf-8-sig").splitlines()[1].startswith("0,L-0,")
    assert not (tmp_path / "loans.errors.csv").exists()
    assert f"error report: {target} (1 row)" in capsys.readouterr().out


def test_a_report_that_cannot_be_written_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = loans(tmp_path / "loans.csv", 3)
    args = ["validate", str(source), "--kind", "campaign-customers", "--option", "campaign-id=camp-loans"]
    assert main([*args, "--errors-out", str(tmp_path / "no" / "such" / "dir.csv")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bulk-import validate: cannot write the error report") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--seed", "missing.json"], "seed file missing.json: no such file"),
        (["--tenant", "nobody"], "no tenant nobody"),
        (["--option", "campaign-id"], "write NAME=VALUE"),
    ],
)
def test_mistakes_in_validate_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], says: str
) -> None:
    source = loans(tmp_path / "loans.csv", 3)
    assert main(["validate", str(source), "--kind", "campaign-customers", *extra]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1


def test_the_command_on_a_real_terminal_draws_the_bar(tmp_path: Path) -> None:
    import os
    import pty
    import subprocess
    import sys

    source = loans(tmp_path / "big.csv", PROGRESS_ABOVE + 500)
    leader, follower = pty.openpty()
    command = [sys.executable, "-m", "bulk_import.cli", "validate", str(source)]
    process = subprocess.Popen(
        [*command, "--kind", "campaign-customers", "--option", "campaign-id=camp-loans", "--seed", str(SEED)],
        stdout=follower,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert process.wait(timeout=120) == 1
    text = shown.decode("utf-8", errors="replace")
    assert "validating big.csv" in text and "━" in text and "\x1b[" in text
