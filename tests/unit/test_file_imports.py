"""File imports on fakes: drops, options from metadata, uploads, broken files, result files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from tests.fakes import ACME, FakeFiles, FakeQueue, FakeWorkflow, make_deps

from bulk_import.core.errors import ForbiddenError, InvalidRequestError, NotFoundError
from bulk_import.core.ports import Deps
from bulk_import.core.tenants import Principal
from bulk_import.engine import workflow
from bulk_import.engine.files.options import FileDrop, parse_key
from bulk_import.engine.files.results import ErrorReport, escape_cell, grouped_errors, write_report
from bulk_import.engine.files.rows import FileReader, FileRow
from bulk_import.engine.jobs import ChunkMessage, process_chunk
from bulk_import.kinds import get_kind
from bulk_import.usecases import files as importer
from bulk_import.usecases.files import handle_drop
from bulk_import.usecases.uploads import create_upload

EVENTS = Path(__file__).resolve().parents[2] / "events"
FRENCH = (EVENTS / "files" / "debts-relances-fr.csv").read_bytes()


def files_of(deps: Deps) -> FakeFiles:
    assert isinstance(deps.files, FakeFiles)
    return deps.files


def run_chunks(deps: Deps) -> None:
    """The chunk workers: every queued message, in order, once."""
    assert isinstance(deps.queue, FakeQueue)
    while deps.queue.messages:
        process_chunk(ChunkMessage.from_json(deps.queue.messages.pop(0)), deps)


def import_file(
    deps: Deps, key: str, body: bytes, metadata: dict[str, str] | None = None, *, finalize: bool = True
) -> Any:
    """Drop a file, run its chunks and its workflow's finalization; return the stored import."""
    job = handle_drop(deps, files_of(deps).add(key, body, metadata))
    assert job is not None
    if job.status != "FAILED":
        run_chunks(deps)
        stored = deps.imports.get(job.tenant_id, job.import_id)
        assert stored is not None and stored.inserted_at is not None, "every chunk is accounted for"
        if finalize:
            workflow.finalize(deps, job.tenant_id, job.import_id)
    return deps.imports.get(job.tenant_id, job.import_id)


def csv_text(rows: list[list[str]], delimiter: str = ",") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue().encode()


def report_rows(deps: Deps, job: Any, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(files_of(deps).text(job.files["errors"])), delimiter=delimiter))


def summary_of(deps: Deps, job: Any) -> dict[str, Any]:
    return dict(json.loads(files_of(deps).text(job.files["summary"])))


# -- keys ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "parts"),
    [
        ("incoming/acme/debts/july.csv", ("acme", "debts", "july.csv")),
        ("incoming/acme/debts/2026/july.csv", ("acme", "debts", "2026/july.csv")),
        ("incoming/acme/july.csv", ("acme", None, "july.csv")),
        ("incoming/july.csv", (None, None, "july.csv")),
        ("incoming//debts/july.csv", (None, "debts", "july.csv")),
    ],
)
def test_keys_name_tenant_kind_and_file(key: str, parts: tuple[Any, ...]) -> None:
    got = parse_key(key)
    assert (got.tenant_id, got.kind, got.name) == parts


# -- a drop, end to end on fakes -------------------------------------------------------------------------
def test_the_french_debts_file_is_imported_with_its_skipped_rows_and_result_files() -> None:
    deps = make_deps()
    job = import_file(
        deps, "incoming/acme/debts/relances juillet.csv", FRENCH, {"timeline-id": "tl-standard"}
    )
    assert job.status == "DONE" and job.source == "file"
    assert job.counts.as_dict() == {
        "total": 14,
        "valid": 7,
        "invalid": 5,
        "succeeded": 7,
        "failed": 5,
        "skipped": 2,
    }
    assert job.options == {"timeline_id": "tl-standard", "batch_name": "relances juillet.csv"}
    stored = deps.records.get_records("acme", "debt", [k for (_, _, k) in deps.records.items])  # type: ignore[attr-defined]
    assert {d["timeline_id"] for d in stored.values()} == {"tl-standard"}
    assert {d["batch_name"] for d in stored.values()} == {"relances juillet.csv"}
    assert sorted(d["lastname"] for d in stored.values())[:2] == ["Bernard", "Blanc"]

    report = report_rows(deps, job, ";")
    assert report[0] == [
        "index",
        "Prénom",
        "Nom",
        "Montant",
        "Devise",
        "Téléphone",
        "E-mail",
        "Temp ID",
        "Internal ID",
        "errors",
    ]
    by_index = {row[0]: row for row in report[1:]}
    assert set(by_index) == {"7", "8", "9", "10", "11"}
    assert by_index["8"][3] == "'-50"  # formula injection escaped
    assert by_index["10"][6] == "'@julie.garnier"
    assert by_index["10"][-1] == "email: not a valid email address | phone: too short to be a phone number"

    assert files_of(deps).objects[job.files["errors"]].startswith(b"\xef\xbb\xbf")  # Excel reads the accents
    assert files_of(deps).objects[job.files["summary"]].startswith(b"{")  # JSON: no BOM
    summary = summary_of(deps, job)
    assert summary["status"] == "DONE" and summary["errorRows"] == 5
    assert summary["file"]["encoding"] == "cp1252" and summary["file"]["delimiter"] == ";"
    assert summary["counts"] == job.counts.as_dict()
    assert files_of(deps).tags["incoming/acme/debts/relances juillet.csv"] == {"import-id": job.import_id}
    view = job.to_api()
    assert view["file"] == {
        "name": "relances juillet.csv",
        "key": "incoming/acme/debts/relances juillet.csv",
        "format": "csv",
    }


def test_a_file_import_is_done_only_when_its_workflow_finalizes_it() -> None:
    deps = make_deps()
    job = import_file(deps, "incoming/acme/debts/a.csv", FRENCH, finalize=False)
    assert job.status == "PROCESSING" and job.inserted_at is not None and not job.files
    assert isinstance(deps.workflow, FakeWorkflow) and deps.workflow.started == [(job.import_id, True)]


def test_campaign_customers_with_initiate_call_metadata_ask_for_calls() -> None:
    deps = make_deps()
    body = csv_text(
        [
            ["Lead ID", "First Name", "Phone Number", "Lead Date"],
            ["LD-1", "Ada", "06 12 34 56 78", "2026-11-01"],
            ["LD-2", "Bob", "06 12 34 56 79", "01/11/2026"],
        ]
    )
    metadata = {
        "campaign-id": "camp-leads",
        "initiate-call": "yes",
        "agent-id": "ag-1",
        "disposition-id": "d-1",
    }
    job = handle_drop(deps, files_of(deps).add("incoming/acme/campaign-customers/leads.csv", body, metadata))
    assert job is not None and job.status == "QUEUED" and job.calls is not None
    assert job.options == {
        "campaignId": "camp-leads",
        "initiateCall": True,
        "callConfig": {"agentId": "ag-1", "dispositionId": "d-1"},
    }
    assert job.execution_id and job.calls.execution_id == job.execution_id
    run_chunks(deps)
    prepared = workflow.prepare_calls(deps, "acme", job.import_id)
    assert prepared["eligible"] == 2


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        ({}, "campaignId: is required (object metadata campaign-id)"),
        ({"campaign-id": "camp-nope"}, "campaign camp-nope not found"),
        (
            {"campaign-id": "camp-loans", "initiate-call": "maybe"},
            "metadata initiate-call: must be true or false, not 'maybe'",
        ),
        (
            {"campaign-id": "camp-loans", "initiate-call": "true"},
            "callConfig: agentId and dispositionId are required when initiateCall is true "
            "(object metadata agent-id, disposition-id)",
        ),
    ],
)
def test_bad_options_fail_the_file_with_the_reason(metadata: dict[str, str], message: str) -> None:
    deps = make_deps()
    body = csv_text([["loan_id", "first_name"], ["L1", "Ada"]])
    job = handle_drop(deps, files_of(deps).add("incoming/acme/campaign-customers/x.csv", body, metadata))
    assert job is not None and job.status == "FAILED" and job.error == message
    assert summary_of(deps, job)["error"] == message
    assert not deps.queue.messages  # type: ignore[union-attr]


def test_options_of_another_kind_are_ignored_with_a_warning() -> None:
    deps = make_deps()
    body = csv_text(
        [["firstname", "lastname", "amount", "currency", "phone"], ["A", "B", "1", "EUR", "0612345678"]]
    )
    job = import_file(
        deps, "incoming/acme/debts/x.csv", body, {"campaign-id": "camp-loans", "x-tool": "sync"}
    )
    assert summary_of(deps, job)["warnings"] == [
        "metadata campaign-id does not apply to debts imports; ignored"
    ]


def _campaign_body(campaign: str) -> bytes:
    row = {"lead_id": "L1", "first_name": "A", "phone_number": "0612345678", "lead_date": "2026-11-01"}
    return json.dumps({"campaignId": campaign, "records": [row]}).encode()


def test_a_json_body_gives_its_options_and_metadata_may_say_the_same() -> None:
    deps = make_deps()
    job = import_file(deps, "incoming/acme/campaign-customers/x.json", _campaign_body("camp-leads"))
    assert job.status == "DONE" and job.options["campaignId"] == "camp-leads" and job.counts.succeeded == 1
    again = import_file(
        deps,
        "incoming/acme/campaign-customers/y.json",
        _campaign_body("camp-leads"),
        {"campaign-id": "camp-leads"},
    )
    assert again.status == "DONE" and again.options["campaignId"] == "camp-leads"


def test_a_json_body_and_its_metadata_naming_two_campaigns_fail_the_file_rather_than_pick_one() -> None:
    deps = make_deps()
    body = _campaign_body("camp-nope")
    job = import_file(deps, "incoming/acme/campaign-customers/x.json", body, {"campaign-id": "camp-leads"})
    assert job.status == "FAILED" and "campaignId" in (job.error or "") and job.counts.succeeded == 0


def test_a_json_body_with_an_unknown_top_level_field_fails() -> None:
    deps = make_deps()
    body = json.dumps({"campaignId": "camp-leads", "records": [{"lead_id": "L1"}], "priority": 1}).encode()
    job = import_file(deps, "incoming/acme/campaign-customers/x.json", body)
    assert job.status == "FAILED" and job.error.startswith("unknown top-level field 'priority'")


# -- broken files ----------------------------------------------------------------------------------------
GOOD = csv_text(
    [["firstname", "lastname", "amount", "currency", "phone"], ["A", "B", "1", "EUR", "0612345678"]]
)


@pytest.mark.parametrize(
    ("key", "body", "message"),
    [
        ("incoming/acme/invoices/a.csv", GOOD, "unknown import kind 'invoices'"),
        ("incoming/acme/a.csv", GOOD, "the key must be incoming/{tenantId}/{kind}/{name}"),
        ("incoming/acme/debts/a.txt", GOOD, "the file name has extension '.txt'"),
        ("incoming/acme/debts/a.csv", b"", "the file is empty"),
        ("incoming/acme/debts/a.csv", b"Nom complet;Ville\r\nJean;Lyon\r\n", "no header row"),
        ("incoming/acme/debts/a.csv", GOOD + b"Zo\x81;B;1;EUR;06\r\n", "neither UTF-8 nor Windows-1252"),
        (
            "incoming/acme/debts/a.csv",
            b"firstname,lastname\r\n",
            "the file has no data rows after its header",
        ),
        ("incoming/acme/debts/a.xlsx", GOOD, "not an XLSX workbook"),
        ("incoming/acme/debts/a.json", b"[{]", "not valid JSON"),
    ],
)
def test_broken_files_fail_their_import_with_a_clear_reason(key: str, body: bytes, message: str) -> None:
    deps = make_deps()
    job = handle_drop(deps, files_of(deps).add(key, body))
    assert job is not None and job.status == "FAILED" and message in (job.error or "")
    stored = deps.imports.get("acme", job.import_id)
    assert stored is not None and stored.status == "FAILED" and stored.completed_at is not None
    summary = summary_of(deps, stored)
    assert summary["status"] == "FAILED" and message in summary["error"]
    # Its errors.csv, as every finished import's: the header row alone, since no row was imported.
    (header,) = files_of(deps).text(stored.files["errors"]).strip().splitlines()
    assert header.startswith("index,") and header.endswith(",errors")
    assert not deps.queue.messages  # type: ignore[union-attr]
    # The next file is imported all the same.
    assert import_file(deps, "incoming/acme/debts/good.csv", GOOD).status == "DONE"


def test_a_file_of_an_unknown_tenant_has_no_import_but_a_summary() -> None:
    deps = make_deps()
    drop = files_of(deps).add("incoming/initech/debts/a.csv", GOOD)
    assert handle_drop(deps, drop) is None
    (key,) = [k for k in files_of(deps).objects if k.startswith("results/initech/")]
    summary = json.loads(files_of(deps).text(key))
    assert summary["status"] == "FAILED" and "tenant initech does not exist" in summary["error"]
    assert not deps.imports.jobs  # type: ignore[attr-defined]


def test_keys_without_a_tenant_and_folder_markers_are_ignored() -> None:
    deps = make_deps()
    assert handle_drop(deps, files_of(deps).add("incoming/a.csv", GOOD)) is None
    assert handle_drop(deps, files_of(deps).add("incoming/acme/debts/", b"")) is None
    assert handle_drop(deps, FileDrop(key="incoming/acme/debts/gone.csv")) is None
    assert not deps.imports.jobs  # type: ignore[attr-defined]


def test_fail_drop_records_an_unexpected_failure() -> None:
    deps = make_deps()
    drop = files_of(deps).add("incoming/acme/debts/a.csv", GOOD)
    job = importer.fail_drop(deps, drop, "the file could not be imported (RuntimeError: boom)")
    assert job is not None and job.status == "FAILED"
    assert summary_of(deps, job)["error"] == "the file could not be imported (RuntimeError: boom)"


# -- idempotence -----------------------------------------------------------------------------------------
def test_a_notification_delivered_twice_imports_the_file_once() -> None:
    deps = make_deps()
    drop = files_of(deps).add("incoming/acme/debts/a.csv", GOOD)
    first = handle_drop(deps, drop)
    assert first is not None
    queued = list(deps.queue.messages)  # type: ignore[union-attr]
    again = handle_drop(deps, drop)  # not processed yet: the same chunks are sent again
    assert again is not None and again.import_id == first.import_id
    assert deps.queue.messages == queued + queued  # type: ignore[union-attr]
    run_chunks(deps)
    workflow.finalize(deps, "acme", first.import_id)
    done = deps.imports.get("acme", first.import_id)
    assert done is not None and done.status == "DONE" and done.counts.succeeded == 1
    assert handle_drop(deps, drop) is None  # finished: left alone
    assert not deps.queue.messages  # type: ignore[union-attr]
    # The same key put again is another file, another import.
    second = handle_drop(deps, files_of(deps).add("incoming/acme/debts/a.csv", GOOD))
    assert second is not None and second.import_id != first.import_id


# -- duplicates across chunks -----------------------------------------------------------------------------
def test_duplicates_in_different_chunks_fail_the_later_row() -> None:
    deps = make_deps()
    header = ["temp_id", "internal_id", "firstname", "lastname", "amount", "currency", "phone"]
    rows = [[f"T-{i}", f"INV-{i}", "A", f"N{i}", "1", "EUR", "0612345678"] for i in range(600)]
    rows.append(["T-3", "INV-9999", "A", "X", "1", "EUR", "0612345678"])  # temp_id of row 3
    rows.append(["T-9999", "INV-5", "A", "Y", "1", "EUR", "0612345678"])  # internal_id of row 5
    job = import_file(deps, "incoming/acme/debts/big.csv", csv_text([header, *rows]))
    assert job.chunks_total == 3 and job.counts.succeeded == 600 and job.counts.failed == 2
    report = report_rows(deps, job)
    assert [(r[0], r[-1]) for r in report[1:]] == [
        ("600", "temp_id: duplicate of row 3"),
        ("601", "internal_id: duplicate of row 5"),
    ]


def test_campaign_customer_keys_repeated_across_chunks_fail_the_later_row() -> None:
    deps = make_deps()
    header = ["loan_id", "first_name", "phone_number", "loan_amount", "emi_amount", "emi_due_date"]
    rows = [[f"L-{i}", "A", "0612345678", "100", "10", "2026-12-01"] for i in range(300)]
    rows.append(["L-7", "B", "0612345679", "100", "10", "2026-12-01"])
    job = import_file(
        deps,
        "incoming/acme/campaign-customers/x.csv",
        csv_text([header, *rows]),
        {"campaign-id": "camp-loans"},
    )
    assert job.counts.succeeded == 300 and job.counts.failed == 1
    assert report_rows(deps, job)[1][-1] == "loan_id: duplicate of row 7"


# -- uploads ---------------------------------------------------------------------------------------------
def test_an_upload_is_an_import_waiting_for_its_file_with_its_options() -> None:
    deps = make_deps()
    answer = create_upload(deps, ACME, "debts", "../Relances Juillet.csv", {"timeline_id": "tl-standard"})
    import_id, key = answer["importId"], answer["key"]
    assert key == f"incoming/acme/debts/{import_id}-Relances Juillet.csv"
    assert answer["uploadUrl"].startswith("https://upload.example/incoming/acme/debts/")
    assert (answer["method"], answer["expiresIn"], answer["status"]) == ("PUT", 3600, "QUEUED")
    waiting = deps.imports.get("acme", import_id)
    assert waiting is not None and waiting.source == "upload"
    assert waiting.to_api()["file"]["awaitingUpload"] is True

    job = import_file(deps, key, FRENCH)  # no metadata: the upload's options apply
    assert job.import_id == import_id and job.status == "DONE" and job.source == "upload"
    assert job.options["timeline_id"] == "tl-standard" and job.counts.total == 14
    assert job.source_file["name"] == "Relances Juillet.csv" and "awaitingUpload" not in job.to_api()["file"]


@pytest.mark.parametrize(
    ("kind", "filename", "options", "error"),
    [
        ("invoices", "a.csv", {}, InvalidRequestError),
        ("debts", "a.pdf", {}, InvalidRequestError),
        ("debts", "  ", {}, InvalidRequestError),
        ("debts", "a.csv", {"priority": 1}, InvalidRequestError),
        ("debts", "a.csv", {"timeline_id": "tl-nope"}, InvalidRequestError),
        ("campaign-customers", "a.csv", {"campaign-id": "camp-nope"}, NotFoundError),
    ],
)
def test_uploads_check_kind_name_and_options_first(
    kind: str, filename: str, options: dict[str, Any], error: type
) -> None:
    deps = make_deps()
    with pytest.raises(error):
        create_upload(deps, ACME, kind, filename, options)
    assert not deps.imports.jobs  # type: ignore[attr-defined]


def test_uploads_need_the_kinds_scope() -> None:
    deps = make_deps()
    with pytest.raises(ForbiddenError):
        create_upload(deps, Principal("acme", frozenset({"imports:read"})), "debts", "a.csv", {})


def test_upload_options_by_metadata_name() -> None:
    deps = make_deps()
    answer = create_upload(
        deps,
        ACME,
        "campaign-customers",
        "x.xlsx",
        {"campaign-id": "camp-leads", "initiate-call": True, "agent-id": "a", "disposition-id": "d"},
    )
    job = deps.imports.get("acme", answer["importId"])
    assert job is not None and job.options == {
        "campaignId": "camp-leads",
        "initiateCall": True,
        "callConfig": {"agentId": "a", "dispositionId": "d"},
    }


# -- result files ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+2", "'=1+2"),
        ("+33612345678", "'+33612345678"),
        ("-50", "'-50"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("plain", "plain"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        ({"a": 1}, '{"a": 1}'),
    ],
)
def test_cells_that_would_run_as_formulas_are_escaped(value: Any, cell: str) -> None:
    assert escape_cell(value) == cell


def _report(kind_name: str, data: bytes, fmt: str, errors: list[dict[str, Any]]) -> list[list[str]]:
    kind = get_kind(kind_name)
    reader = FileReader(lambda: io.BytesIO(data), fmt, kind)
    survey = reader.survey()
    from bulk_import.engine.files.columns import FieldMap, Layout

    mapped = dict(Layout.of(survey.columns, FieldMap.of(kind)).mapped) if survey.columns else {}
    out = io.StringIO()
    report = ErrorReport(out, kind, survey.columns, mapped)
    write_report(report, FileReader(lambda: io.BytesIO(data), fmt, kind).rows(), grouped_errors(iter(errors)))
    return list(csv.reader(io.StringIO(out.getvalue())))


def test_error_reports_never_show_an_ssn() -> None:
    data = csv_text(
        [["id", "SSN Last Four", "ssn", "errors"], ["c1", "1234", "123-45-6789", "x"], ["c2", "", "", ""]]
    )
    rows = _report("customers", data, "csv", [{"index": 0, "message": "taskType: is required"}])
    assert rows == [
        ["index", "id", "SSN Last Four", "ssn", "errors", "errors (import)"],
        ["0", "c1", "***", "***", "x", "taskType: is required"],
    ]
    data = (json.dumps({"id": "c1", "ssnLastFour": "98765", "taxSSN": "1"}) + "\n").encode()
    rows = _report(
        "customers", data, "jsonl", [{"index": 0, "message": "ssnLastFour: must be exactly 4 digits"}]
    )
    assert rows[1] == [
        "0",
        '{"id":"c1","ssnLastFour":"***","taxSSN":"***"}',
        "ssnLastFour: must be exactly 4 digits",
    ]


def test_reports_merge_errors_and_rows_in_order() -> None:
    data = csv_text([["loan_id"], *[[f"L{i}"] for i in range(10)]])
    errors = [
        {"index": 2, "message": "a"},
        {"index": 2, "message": "b"},
        {"index": 7, "message": "c"},
        {"index": 42, "message": "no such row"},
    ]
    rows = _report("campaign-customers", data, "csv", errors)
    assert rows[1:] == [["2", "L2", "a | b"], ["7", "L7", "c"]]


def test_when_the_file_changed_before_finalization_the_summary_says_so() -> None:
    deps = make_deps()
    job = import_file(deps, "incoming/acme/debts/a.csv", FRENCH, finalize=False)
    files_of(deps).add("incoming/acme/debts/a.csv", b"replaced")
    workflow.finalize(deps, "acme", job.import_id)
    done = deps.imports.get("acme", job.import_id)
    assert done is not None and done.status == "DONE" and set(done.files) == {"summary", "results"}
    assert summary_of(deps, done)["warnings"][0].startswith("errors.csv was not written")


def test_a_failed_workflow_writes_the_summary_of_a_file_import() -> None:
    deps = make_deps()
    job = import_file(deps, "incoming/acme/debts/a.csv", FRENCH, finalize=False)
    workflow.mark_failed(deps, "acme", job.import_id, "States.Timeout", None)
    failed = deps.imports.get("acme", job.import_id)
    assert failed is not None and failed.status == "FAILED"
    assert summary_of(deps, failed)["error"] == "workflow: States.Timeout"


def test_a_workflow_that_cannot_start_fails_the_file_import() -> None:
    deps = make_deps()
    assert isinstance(deps.workflow, FakeWorkflow)
    deps.workflow.fail_start = True
    job = handle_drop(deps, files_of(deps).add("incoming/acme/debts/a.csv", GOOD))
    assert job is not None and job.status == "FAILED" and "workflow could not be started" in (job.error or "")
    stored = deps.imports.get("acme", job.import_id)
    assert stored is not None and stored.status == "FAILED" and "summary" in stored.files
    assert not deps.queue.messages  # type: ignore[union-attr]


def test_rows_in_a_report_keep_their_cells_as_sent() -> None:
    row = FileRow(3, ["a", "=cmd", "b"], {"loan_id": "a"})
    out = io.StringIO()
    ErrorReport(out, get_kind("campaign-customers"), ["Loan ID", "Formula", "Extra"]).add(row, ["m"])
    assert list(csv.reader(io.StringIO(out.getvalue())))[1] == ["3", "a", "'=cmd", "b", "m"]


def test_a_dry_run_upload_ends_done_with_the_counts_of_a_real_import_and_stores_nothing() -> None:
    deps = make_deps()
    answer = create_upload(deps, ACME, "debts", "relances.csv", {"timeline_id": "tl-standard"}, dry_run=True)
    assert answer["dryRun"] is True
    job = handle_drop(deps, files_of(deps).add(answer["key"], FRENCH))
    assert job is not None and job.status == "DONE" and job.options["dryRun"] is True
    assert not deps.queue.messages  # type: ignore[union-attr]
    assert not deps.records.get_records("acme", "debt", ["internal#FAC-2026-0001"])
    assert summary_of(deps, job)["dryRun"] is True and len(report_rows(deps, job, ";")) == 6

    real = create_upload(deps, ACME, "debts", "relances.csv", {"timeline_id": "tl-standard"})
    imported = import_file(deps, real["key"], FRENCH)
    assert imported.counts.as_dict() == job.counts.as_dict()
