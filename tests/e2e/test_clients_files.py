"""Files as people export them, sent with ``bulk-import import`` over HTTP: every row has its outcome.

The result files are read the way a client reads them: through the links of the import's view.
"""

from __future__ import annotations

import csv
import io
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.cli import main
from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = "acme-secret"
DEBT = (
    '{"temp_id": "%s", "firstname": "Ada", "lastname": "B", "amount": "10", "currency": "EUR", "phone": "%s"}'
)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def imported(stack: LocalStack, path: Path, kind: str, *options: str) -> dict[str, Any]:
    """The view of the import of ``path``, sent and followed to its end by the command line."""
    extra = [part for option in options for part in ("--option", option)]
    argv = ["import", str(path), "--kind", kind, "--api", stack.url, "--key", KEY, "--wait", *extra]
    main(argv)
    listing = call(stack.url, "GET", "/v1/imports?limit=1", headers={"X-API-Key": KEY}).body
    (view,) = listing["imports"]
    assert view["file"]["name"] == path.name, view
    return dict(view)


def csv_file(view: dict[str, Any], name: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(view["files"][name], timeout=30) as answer:
        text = answer.read().decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


def test_a_json_lines_file_with_a_broken_line_reports_it_failed_not_skipped(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "relances.jsonl"
    lines = [
        DEBT % ("j-1", "06 12 34 56 78"),
        "",
        "{oops",
        (DEBT % ("j-2", "06 12 34 56 79")).replace('"10"', "NaN"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    view = imported(stack, path, "debts")
    capsys.readouterr()
    assert view["counts"] == {**view["counts"], "total": 4, "succeeded": 1, "failed": 2, "skipped": 1}, view
    results = {row["index"]: row["status"] for row in csv_file(view, "results")}
    assert results == {"0": "created", "1": "skipped", "2": "failed", "3": "failed"}


def test_every_created_row_of_a_file_has_its_stored_id_in_results_csv(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "loans.csv"
    path.write_text(
        "Loan ID;First Name;Phone Number;Loan Amount;EMI Amount;EMI Due Date\r\n"
        "F-1;Zoé;06 12 34 56 78;1 234,50;99,5;05/12/2026\r\n",
        encoding="cp1252",
    )
    view = imported(stack, path, "campaign-customers", "campaign-id=camp-loans")
    capsys.readouterr()
    (row,) = csv_file(view, "results")
    assert row["status"] == "created" and row["storedId"], row


def test_a_debt_s_stored_id_in_results_csv_is_the_debt_id_its_answer_gave(stack: LocalStack) -> None:
    headers = {"X-API-Key": KEY}
    debt = {"firstname": "Marie", "lastname": "Curie", "amount": "10", "currency": "EUR"}
    debt["phone"] = "0612345678"
    answer = call(stack.url, "POST", "/external-api/v1/debts/batch", body={"debts": [debt]}, headers=headers)
    assert answer.status == 201, answer.text
    view = call(stack.url, "GET", f"/v1/imports/{answer.body['import_id']}", headers=headers).body
    (row,) = csv_file(view, "results")
    assert row["storedId"] == answer.body["created"][0]["debt_id"], row


def test_an_upload_asked_with_dry_run_in_the_query_is_a_dry_run(stack: LocalStack) -> None:
    body = {"kind": "debts", "filename": "relances.csv"}
    headers = {"X-API-Key": KEY, "Idempotency-Key": "upload-dry-query"}
    first = call(stack.url, "POST", "/v1/imports/uploads?dryRun=true", body=body, headers=headers)
    assert first.status == 201 and first.body.get("dryRun") is True, first.text
    typo = call(stack.url, "POST", "/v1/imports/uploads?dryRun=yes", body=body, headers={"X-API-Key": KEY})
    assert typo.status == 400, typo.text


def test_a_file_debt_without_references_has_its_debt_id_as_stored_id_and_no_reference(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "relances.csv"
    path.write_text(
        "firstname,lastname,amount,currency,phone\nAda,Byron,10,EUR,06 12 34 56 99\n", encoding="utf-8"
    )
    view = imported(stack, path, "debts")
    capsys.readouterr()
    (row,) = csv_file(view, "results")
    assert row["status"] == "created" and row["storedId"].startswith("debt_"), row
    assert row["reference"] == "", row
