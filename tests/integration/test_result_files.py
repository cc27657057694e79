"""errors.csv and results.csv of imports sent through the API, downloaded through their view's links."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import unquote, urlparse

import boto3
import pytest
from tests.integration.conftest import load_event, with_body, with_scopes
from tests.integration.test_import_lifecycle import SCOPES, call, get, run_worker

pytestmark = pytest.mark.usefixtures("aws")


def download(url: str) -> list[list[str]]:
    """The CSV a presigned link serves (read from the bucket it names: moto serves no HTTP here)."""
    parsed = urlparse(url)
    host_bucket = parsed.netloc.split(".s3")[0] if ".s3" in parsed.netloc else None
    path = unquote(parsed.path).lstrip("/")
    bucket, key = (host_bucket, path) if host_bucket else path.split("/", 1)
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


def files_of(context: Any, import_id: str) -> dict[str, str]:
    status, view = call(get(f"/v1/imports/{import_id}"), context)
    assert status == 200 and view["status"] in ("DONE", "FAILED", "CANCELLED"), view
    return dict(view["files"])


def test_a_synchronous_import_links_to_every_row_and_to_its_failed_row_as_sent(context) -> None:
    event = with_scopes(load_event("api/campaign-customers-clean.json"), SCOPES)
    body = json.loads(event["body"])
    rows = [dict(body["records"][0], loan_id=f"L-{i}", phone_number=f"06 12 34 5{i} 78") for i in range(3)]
    rows[1] = dict(rows[1], phone_number="not a phone", first_name='=HYPERLINK("http://x")')
    status, answer = call(with_body(event, {**body, "records": rows}), context)
    assert status in (200, 201, 207), answer
    files = files_of(context, answer["importId"])

    results = download(files["results"])
    assert results[0] == ["index", "reference", "status", "storedId"]
    assert [r[0] for r in results[1:]] == ["0", "1", "2"]
    assert [r[1] for r in results[1:]] == ["L-0", "L-1", "L-2"]
    assert [r[2] for r in results[1:]] == ["created", "failed", "created"]
    assert results[1][3] and results[3][3] and results[2][3] == ""

    errors = download(files["errors"])
    assert errors[0] == ["index", "reference", "errors", "row"] and len(errors) == 2
    index, reference, messages, row = errors[1]
    assert (index, reference) == ("1", "L-1") and "phone" in messages
    # The row as sent, as JSON: a spreadsheet shows it as text, never runs it.
    assert not row.startswith(("=", "+", "-", "@"))
    assert json.loads(row)["first_name"] == rows[1]["first_name"]


def test_a_formula_in_a_reference_is_escaped_in_both_files(context) -> None:
    event = with_scopes(load_event("api/campaign-customers-clean.json"), SCOPES)
    body = json.loads(event["body"])
    row = dict(body["records"][0], loan_id="=1+1", phone_number="not a phone")
    _, answer = call(with_body(event, {**body, "records": [row, body["records"][1]]}), context)
    files = files_of(context, answer["importId"])
    assert download(files["errors"])[1][1] == "'=1+1"
    assert download(files["results"])[1][1] == "'=1+1"


def test_an_asynchronous_import_links_to_its_files_once_its_chunks_are_done(aws, context) -> None:
    event = load_event("api/payments-import-clean.json")
    item = json.loads(event["body"])["items"][0]
    contacts = ["ct-1", "ct-2", "ct-1", "ct-1"]
    items = [
        {**item, "id": f"pay-f{i}", "target": {"type": "contact", "id": c}} for i, c in enumerate(contacts)
    ]
    status, body = call(with_body(event, {"items": items}), context)
    assert status == 202, body
    _, queued = call(get(f"/v1/imports/{body['import_id']}"), context)
    assert "files" not in queued
    run_worker(aws)
    files = files_of(context, body["import_id"])

    results = download(files["results"])
    assert results[0] == ["index", "reference", "status", "storedId"] and len(results) == 5
    assert [r[0] for r in results[1:]] == ["0", "1", "2", "3"]
    assert [r[2] for r in results[1:]] == ["created", "failed", "created", "created"]
    assert results[1][3] == "pay-f0" and results[2][3] == ""
    errors = download(files["errors"])
    assert len(errors) == 2 and errors[1][0] == "1" and errors[1][1] == "pay-f1"
    assert "ct-2" in errors[1][2] and json.loads(errors[1][3])["target"]["id"] == "ct-2"


def test_a_clean_import_has_a_results_file_and_an_errors_file_of_its_header_alone(context) -> None:
    event = with_scopes(load_event("api/campaign-customers-clean.json"), SCOPES)
    sent = len(json.loads(event["body"])["records"])
    _, answer = call(event, context)
    files = files_of(context, answer["importId"])
    assert download(files["errors"]) == [["index", "reference", "errors", "row"]]
    results = download(files["results"])
    assert len(results) == 1 + sent and {r[2] for r in results[1:]} <= {"created", "updated"}


def test_an_ssn_in_a_failed_row_is_masked_in_errors_csv(aws, context) -> None:
    event = with_scopes(load_event("api/customers-batch.json"), SCOPES)
    row = {"id": "cust-ssn", "taskType": "no-such-task", "firstName": "Ada", "ssnLastFour": "9876"}
    status, body = call(with_body(event, {"customers": [row]}), context)
    assert status == 202, body
    run_worker(aws)
    errors = download(files_of(context, body["importId"])["errors"])
    assert len(errors) == 2 and "9876" not in "".join(errors[1])
    assert json.loads(errors[1][3])["firstName"] == "Ada"
