"""Files as people export them by mistake: every row the reader refuses fails with its reason.

Run through ``bulk-import validate``, which reads and judges a file exactly as a dropped file is.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bulk_import.cli import main

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "events" / "seed" / "demo-seed.json"
DEBT = (
    '{"temp_id": "%s", "firstname": "Ada", "lastname": "Lovelace", "amount": "10", "currency": "EUR", '
    '"phone": "06 12 34 56 7%s"}'
)


def report(tmp_path: Path, name: str, data: bytes, delimiter: str = ",") -> tuple[int, list[dict[str, str]]]:
    """The exit status of ``bulk-import validate`` on the file, and its error report's rows."""
    source = tmp_path / name
    source.write_bytes(data)
    out = tmp_path / "errors.csv"
    code = main(["validate", str(source), "--kind", "debts", "--seed", str(SEED), "--errors-out", str(out)])
    text = out.read_text(encoding="utf-8-sig") if out.exists() else ""
    return code, list(csv.DictReader(text.splitlines(), delimiter=delimiter))


@pytest.mark.parametrize("broken", ["not json", "{'temp_id': 'x'}", '{"temp_id": "x",', "NaN"])
def test_a_json_lines_row_that_is_not_json_fails_with_the_reason_rather_than_being_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], broken: str
) -> None:
    data = "\n".join([DEBT % ("a", 0), broken, DEBT % ("b", 1)]) + "\n"
    code, rows = report(tmp_path, "debts.jsonl", data.encode())
    shown = capsys.readouterr().out
    assert code == 1, shown
    assert "skipped 0" in shown and "invalid 1" in shown, shown
    (row,) = rows
    assert row["index"] == "1" and "row: not valid JSON" in row["errors"], row


def test_a_csv_row_with_values_only_past_the_header_fails_rather_than_being_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    header = "temp_id;firstname;lastname;amount;currency;phone\r\n"
    data = header + ";;;;;;06 12 34 56 78\r\nt-2;Ada;B;10;EUR;0612345679\r\n"
    code, rows = report(tmp_path, "debts.csv", data.encode("cp1252"), ";")
    shown = capsys.readouterr().out
    assert code == 1, shown
    (row,) = rows
    assert row["index"] == "0" and "header has 6 columns" in row["errors"], row


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_json_lines_row_with_a_nan_literal_fails_naming_it_not_as_a_missing_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], literal: str
) -> None:
    row_text = (DEBT % ("a", 0)).replace('"10"', literal)
    code, rows = report(tmp_path, "debts.jsonl", (row_text + "\n").encode())
    capsys.readouterr()
    assert code == 1
    (row,) = rows
    assert f"{literal} is not a JSON number" in row["errors"] and "is required" not in row["errors"], row


def test_json_lines_sent_as_a_json_file_says_to_name_it_jsonl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = "\n".join([DEBT % ("a", 0), DEBT % ("b", 1)]) + "\n"
    code, _ = report(tmp_path, "debts.json", data.encode())
    assert code == 2
    assert "name it .jsonl" in capsys.readouterr().out


def test_a_json_array_sent_as_json_lines_says_to_name_it_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = "[" + ", ".join([DEBT % ("a", 0), DEBT % ("b", 1)]) + "]\n"
    code, rows = report(tmp_path, "debts.jsonl", data.encode())
    capsys.readouterr()
    assert code == 1
    (row,) = rows
    assert "named .json" in row["errors"], row
