"""``bulk-import import`` over HTTP against the local stack, with files as people send them."""

from __future__ import annotations

import csv
import io
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.cli import main
from bulk_import.cli_import import run
from bulk_import.cli_output import Reporter
from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
FILES = ROOT / "events" / "files"
KEY = "acme-secret"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[ROOT / "events" / "seed" / "demo-seed.json"]) as s:
        yield s


def sample(tmp_path: Path, name: str, as_name: str | None = None) -> Path:
    target = tmp_path / (as_name or name)
    shutil.copy(FILES / name, target)
    return target


def exit_status(argv: list[str]) -> int:
    """The command's exit status, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as end:
        return int(end.code or 0)


def imported(stack: LocalStack, path: Path, kind: str, *extra: str) -> int:
    return main(["import", str(path), "--kind", kind, "--api", stack.url, "--key", KEY, *extra])


def test_a_french_windows_1252_file_is_imported_and_its_failed_rows_saved_beside_it(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample(tmp_path, "debts-relances-fr.csv", "relances juillet é.csv")
    code = imported(stack, path, "debts", "--option", "timeline-id=tl-standard", "--wait")
    out = capsys.readouterr().out
    assert code == 1  # some rows failed
    assert "total 14 · valid 7 · invalid 5 · succeeded 7 · failed 5 · skipped 2" in out
    assert "row 8 (temp_id=T-007): amount: must not be negative" in out
    assert "\x1b" not in out  # not a terminal: no bar, no colour, no escape code
    report = tmp_path / "errors.csv"
    assert f"errors.csv saved as {report} (5 failed rows)" in out
    rows = list(csv.reader(io.StringIO(report.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) == 6 and "'-50" in rows[2]


def test_a_file_whose_rows_all_succeed_exits_0(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "good.csv"
    path.write_text(
        "\ufeffLoan ID;First name;Last name;Phone Number;Loan amount;EMI amount;EMI due date\r\n"
        "G-1;Zoé;Ñúñez;06 12 34 56 78;1500;62,50;2027-01-05\r\n"
        "G-2;Åsa;O'Brien;+33 6 12 34 56 79;900;30;2027-01-06\r\n",
        encoding="utf-8",
    )
    code = imported(stack, path, "campaign-customers", "--option", "Campaign-ID = camp-loans", "--wait")
    out = capsys.readouterr().out
    assert code == 0, out
    assert "total 2 · valid 2 · invalid 0 · succeeded 2 · failed 0" in out


def test_options_may_be_named_like_the_request_fields(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample(tmp_path, "campaign-customers-loans.csv")
    assert imported(stack, path, "campaign-customers", "--option", "campaignId=camp-loans", "--wait") == 1
    assert "total 5 · valid 3 · invalid 2" in capsys.readouterr().out


def test_without_wait_the_command_ends_once_the_file_is_uploaded(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BULK_IMPORT_API_KEY", KEY)
    path = sample(tmp_path, "customers.jsonl")
    code = main(["import", str(path), "--kind", "customers", "--api", stack.url + "/"])
    out = capsys.readouterr().out
    assert code == 0
    import_id = out.split("import ")[-1].split()[0]
    view = call(stack.url, "GET", f"/v1/imports/{import_id}", headers={"X-API-Key": KEY})
    assert view.status == 200 and view.body["source"] == "upload"
    assert not (tmp_path / "errors.csv").exists()


def test_a_dry_run_stores_nothing_and_says_so(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample(tmp_path, "campaign-customers-loans.csv")
    code = imported(
        stack, path, "campaign-customers", "--option", "campaign-id=camp-loans", "--dry-run", "--wait"
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "dry run: nothing was stored" in out
    assert "succeeded" in out


def test_a_file_that_cannot_be_read_fails_its_import_with_the_reason(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("loan_id,first_name\n", encoding="utf-8")
    code = imported(stack, path, "campaign-customers", "--option", "campaign-id=camp-loans", "--wait")
    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED" in out and "no data rows" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["missing.csv", "--kind", "debts"], "missing.csv: no such file"),
        (["{dir}", "--kind", "debts"], "is a directory"),
        (["{file}", "--kind", "invoices"], "--kind 'invoices': not an import kind"),
        (["{file}", "--kind", "debts", "--option", "timeline-id"], "write NAME=VALUE"),
        (["{file}", "--kind", "debts", "--option", "colour=blue"], "options.colour: not an option of debts"),
        (["{file}", "--kind", "debts", "--key", "wrong"], "does not know this key (401)"),
        (["{file}", "--kind", "debts", "--key", "acme-readonly"], "not allowed to do this (403)"),
        (["{file}", "--kind", "debts", "--api", "http://127.0.0.1:{port}"], "cannot reach the API"),
        (["{file}", "--kind", "debts", "--api", "ftp://example.com"], "not an http:// or https:// URL"),
        (["{file}", "--kind", "debts", "--api", "{url}/v1"], "no such route"),
        (["{file}"], "the following arguments are required: --kind"),
        (["{file}", "--kind", "debts", "--wiat"], "unrecognized arguments: --wiat"),
    ],
)
def test_every_mistake_ends_in_one_line_and_exit_2(
    stack: LocalStack,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    says: str,
) -> None:
    monkeypatch.setenv("BULK_IMPORT_API_KEY", KEY)
    monkeypatch.chdir(tmp_path)
    file = sample(tmp_path, "debts-relances-fr.csv")
    values = {"dir": str(tmp_path), "file": str(file), "port": str(free_port()), "url": stack.url}
    argv = [a.format(**values) for a in args]
    if "--api" not in argv:
        argv += ["--api", stack.url]
    assert exit_status(["import", *argv]) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_no_key_at_all_is_a_mistake_in_the_command(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BULK_IMPORT_API_KEY", raising=False)
    path = sample(tmp_path, "payments.csv")
    assert main(["import", str(path), "--kind", "payments", "--api", stack.url]) == 2
    assert (
        capsys.readouterr().err
        == "bulk-import import: no API key: pass --key KEY or set BULK_IMPORT_API_KEY\n"
    )


def test_a_terminal_gets_bars_and_tables(stack: LocalStack, tmp_path: Path) -> None:
    import argparse

    path = sample(tmp_path, "debts-relances-fr.csv")
    screen = io.StringIO()
    args = argparse.Namespace(
        file=str(path),
        kind="debts",
        api=stack.url,
        key=KEY,
        option=["timeline-id=tl-standard"],
        wait=True,
        dry_run=False,
        errors_out=str(tmp_path / "out.csv"),
    )
    assert run(args, Reporter(screen, terminal=True)) == 1
    shown = screen.getvalue()
    assert "\x1b[" in shown and "━" in shown  # a rich progress bar
    assert "┃" in shown and "temp_id=T-007" in shown  # the summary and failed rows as tables
    assert (tmp_path / "out.csv").read_text(encoding="utf-8-sig").startswith("index;")


def test_wait_gives_up_after_its_timeout_and_says_the_import_goes_on(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bulk_import.cli_import as command

    # An upload URL that accepts the file and drops it: the import waits for a file that never comes.
    monkeypatch.setattr(command, "upload", lambda url, path, media_type, on_progress: None)
    path = sample(tmp_path, "payments.csv")
    assert imported(stack, path, "payments", "--wait", "--timeout", "0.5") == 2
    err = capsys.readouterr().err
    assert re.search(r"import imp_\w+ is still QUEUED after 0.5 s; it goes on \(GET http", err)


def test_a_key_with_characters_no_key_has_is_refused_before_any_call(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sample(tmp_path, "payments.csv")
    argv = ["import", str(path), "--kind", "payments", "--key", "clé€", "--api", "http://127.0.0.1:1"]
    assert main(argv) == 2
    assert "the API key holds characters no key has" in capsys.readouterr().err


def test_the_installed_command_in_a_pipe_prints_plain_lines_and_its_exit_status(
    stack: LocalStack, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    path = sample(tmp_path, "debts-relances-fr.csv")
    # Not a terminal, whatever the environment says about colours.
    env = {**os.environ, "BULK_IMPORT_API_KEY": KEY, "TERM": "xterm-256color", "FORCE_COLOR": "1"}
    command = [sys.executable, "-m", "bulk_import.cli", "import", str(path), "--kind", "debts"]
    done = subprocess.run(
        [*command, "--api", stack.url, "--option", "timeline-id=tl-standard", "--wait"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stdout and "━" not in done.stdout
    assert "counts  total 14 · valid 7 · invalid 5 · succeeded 7 · failed 5 · skipped 2" in done.stdout
    assert (tmp_path / "errors.csv").is_file()
