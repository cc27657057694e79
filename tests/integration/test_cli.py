"""The ``bulk-import`` command: seeding real (here: moto) DynamoDB, and serving the local stack."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.serving import served

from bulk_import.cli import main
from bulk_import.core.tenants import hash_api_key
from bulk_import.entrypoints import runtime
from bulk_import.local.client import call
from bulk_import.local.stack import free_port

ROOT = Path(__file__).resolve().parents[2]


def test_seed_loads_tenants_keys_and_configuration(aws: dict[str, str], tmp_path: Path, capsys) -> None:
    seed = {
        "tenants": [
            {
                "id": "initech",
                "defaultPhoneRegion": "us",
                "apiKeys": [{"key": "initech-key-1", "scopes": ["imports:read"]}],
                "campaigns": [{"id": "c1", "name": "One", "serviceType": "leads"}],
            }
        ]
    }
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(seed))
    args = ["seed", str(path), "--config-table", aws["CONFIG_TABLE"], "--records-table", aws["RECORDS_TABLE"]]
    assert main(args) == 0
    assert capsys.readouterr().out == f"seed {path}: 1 tenant, 1 API key, 1 configuration entry\n"
    deps = runtime.DEPS.get()
    principal = deps.tenants.principal_for_key_hash(hash_api_key("initech-key-1"))
    assert principal is not None and principal.tenant_id == "initech"
    assert principal.scopes == frozenset({"imports:read"})
    config = deps.tenants.load_config("initech")
    assert config is not None and config.default_phone_region == "US" and "c1" in config.campaigns


def test_seed_refuses_unknown_scopes_in_one_line(aws: dict[str, str], tmp_path: Path, capsys) -> None:
    path = tmp_path / "seed.json"
    path.write_text(
        json.dumps({"tenants": [{"id": "x", "apiKeys": [{"key": "k" * 10, "scopes": ["admin"]}]}]})
    )
    tables = ["--config-table", aws["CONFIG_TABLE"], "--records-table", aws["RECORDS_TABLE"]]
    assert main(["seed", str(path), *tables]) == 2
    err = capsys.readouterr().err
    assert "unknown scopes" in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.e2e
def test_serve_answers_on_its_port_until_interrupted_with_a_key_it_printed() -> None:
    port = free_port()
    with served("--port", str(port), "--demo") as serve:
        serve.printed("Bulk import API on")  # once the seed is loaded
        # The demo's keys are printed, each with its tenant and scopes: a person can call it at once.
        keys = [line.split()[2].rstrip(":") for line in serve.lines if line.strip().startswith("API key ")]
        assert "acme-secret" in keys, serve.lines
        assert any("acme-secret: tenant acme, scopes customers:write" in line for line in serve.lines)
        resp = call(f"http://127.0.0.1:{port}", "GET", "/api/v1/campaigns", headers={"X-API-Key": keys[0]})
        assert resp.status == 200 and resp.body["campaigns"]


@pytest.mark.e2e
def test_serve_started_as_a_script_s_background_job_still_stops_on_ctrl_c() -> None:
    # A script's ``bulk-import serve &`` starts it with SIGINT ignored; Ctrl-C must stop it all the same
    # (``served`` fails when it has not exited 0 within a minute).
    port = free_port()
    with served("--port", str(port), "--demo", background_job=True) as serve:
        serve.printed("Bulk import API on")


def test_validate_is_a_dry_run_with_a_summary_and_an_error_report(tmp_path: Path, capsys) -> None:
    source = tmp_path / "relances.csv"
    source.write_bytes((ROOT / "events" / "files" / "debts-relances-fr.csv").read_bytes())
    seed = ROOT / "events" / "seed" / "demo-seed.json"
    code = main(
        [
            "validate",
            str(source),
            "--kind",
            "debts",
            "--seed",
            str(seed),
            "--option",
            "timeline-id=tl-standard",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1  # some rows would fail
    assert "CSV, Windows-1252, semicolon-separated, 14 data rows" in out
    assert "Prénom -> firstname" in out
    assert "rows: total 14 · valid 7 · invalid 5 · skipped 2" in out
    assert "row 8: amount: must not be negative" in out
    report = (tmp_path / "relances.errors.csv").read_text(encoding="utf-8-sig").splitlines()
    assert report[0].startswith("index;Prénom;Nom") and len(report) == 6
    assert "'-50" in report[2]
    assert runtime.DEPS._value is None  # nothing was built: no AWS client, nothing stored


def test_validate_fails_a_file_that_cannot_be_imported(tmp_path: Path, capsys) -> None:
    source = tmp_path / "loans.csv"
    source.write_text("loan_id,first_name\nL1,Ada\n")
    code = main(["validate", str(source), "--kind", "campaign-customers"])
    assert code == 2
    assert "FAILED: campaignId: is required (object metadata campaign-id)" in capsys.readouterr().out
    assert (
        main(
            [
                "validate",
                str(source),
                "--kind",
                "campaign-customers",
                "--option",
                "campaign-id=camp-loans",
                "--out",
                str(tmp_path / "out.csv"),
            ]
        )
        == 1
    )
    assert main(["validate", str(tmp_path / "missing.csv"), "--kind", "debts"]) == 2
    assert main(["validate", str(source), "--kind", "invoices"]) == 2
