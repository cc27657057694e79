"""Messy requests over HTTP, as clients send them: an asynchronous import judges its rows as sent.

Rows of an asynchronous import travel to the workers through the queue and the payload store. What a
worker reads must be the row the API read: a dry run (judged inline) and the real import give the same
verdicts, and numbers stay numbers in the stored record.
"""

from __future__ import annotations

import csv
import io
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import import resources
from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
JSON = {**KEY, "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def finished(stack: LocalStack, import_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        view = call(stack.url, "GET", f"/v1/imports/{import_id}", headers=KEY).body
        if view["status"] in ("DONE", "FAILED") or time.monotonic() > deadline:
            return dict(view)
        time.sleep(0.3)


def row_errors(stack: LocalStack, import_id: str) -> list[str]:
    page = call(stack.url, "GET", f"/v1/imports/{import_id}/errors", headers=KEY).body
    return [e["message"] for e in page["errors"]]


CUSTOMER = (
    '{"id": "%s", "taskType": "collections", "firstName": "Ada", "lastName": "B",'
    ' "phoneNumber": "4155550100",'
    ' "timezone": "America/New_York", "streetAddress1": "1 Main St", "city": "Boston", "state": "MA",'
    ' "zipCode": %s, "externalMetadata": {"score": 712.5, "ratio": 0.1, "whole": 1.0, "list": [1.5, 2]}}'
)
PAYMENT = (
    '{"source": {"type": "group", "id": "grp-main"}, "target": {"type": "contact", "id": "ct-1"},'
    ' "amount": {"type": "SEND", "amount": %s, "currency": "EUR"},'
    ' "execution": {"type": "SEND", "date": "2026-12-10T10:00:00Z", "margin": 0}}'
)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers/batch", '{"customers": [%s]}' % (CUSTOMER % ("huge-zip", "1e5000"))),
        ("/payments/payments/import", '{"items": [%s]}' % (PAYMENT % "1e5000")),
    ],
    ids=["customers", "payments"],
)
def test_an_asynchronous_import_judges_a_number_as_its_dry_run_does(
    stack: LocalStack, path: str, body: str
) -> None:
    dry = call(stack.url, "POST", path + "?dryRun=true", raw=body.encode(), headers=JSON)
    assert dry.status == 200, dry.text
    real = call(stack.url, "POST", path, raw=body.encode(), headers=JSON)
    assert real.status == 202, real.text
    import_id = real.body.get("importId") or real.body["job_id"]
    view = finished(stack, import_id)
    assert view["counts"]["failed"] == 1, view
    (message,) = row_errors(stack, import_id)
    dry_text = dry.text
    assert message in dry_text, (message, dry_text[:500])
    assert "at most" in message, message


def test_numbers_of_external_metadata_are_stored_as_numbers_by_a_customers_batch(stack: LocalStack) -> None:
    body = '{"customers": [%s]}' % (CUSTOMER % ("meta-numbers", '"02134"'))
    sent = call(stack.url, "POST", "/customers/batch", raw=body.encode(), headers=JSON)
    assert sent.status == 202, sent.text
    assert finished(stack, sent.body["importId"])["counts"]["succeeded"] == 1
    client = stack.session().client("dynamodb", endpoint_url=stack.endpoint_url)
    table = stack.names[resources.RECORDS_TABLE.env_var]
    item = client.get_item(
        TableName=table, Key={"pk": {"S": "T#acme#customer-profile#meta-numbers"}, "sk": {"S": "R"}}
    )
    metadata = item["Item"]["externalMetadata"]["M"]
    assert metadata["score"] == {"N": "712.5"} and metadata["ratio"] == {"N": "0.1"}, metadata
    assert metadata["list"] == {"L": [{"N": "1.5"}, {"N": "2"}]}, metadata


def test_a_failed_debt_is_answered_with_its_amount_as_sent_a_number(stack: LocalStack) -> None:
    debt = b'{"firstname": "A", "lastname": "B", "amount": 12.5, "currency": "EUR", "phone": "0690123456"}'
    body = b'{"debts": [' + debt + b"]}"
    answer = call(stack.url, "POST", "/external-api/v1/debts/batch", raw=body, headers=JSON)
    assert answer.status == 201, answer.text
    (failed,) = answer.body["failed"]
    assert failed["data"]["amount"] == 12.5, failed


def test_one_customer_is_answered_with_the_numbers_of_its_external_metadata(stack: LocalStack) -> None:
    body = CUSTOMER % ("meta-answer", '"02134"')
    answer = call(stack.url, "POST", "/customers", raw=body.encode(), headers=JSON)
    assert answer.status == 201, answer.text
    assert answer.body["externalMetadata"] == {"score": 712.5, "ratio": 0.1, "whole": 1, "list": [1.5, 2]}


def test_a_misspelt_dry_run_parameter_does_not_run_the_real_import(stack: LocalStack) -> None:
    body = b'{"debts": [{"firstname": "A", "lastname": "B", "amount": 1, "currency": "EUR", "email": "a@b"}]}'
    answer = call(stack.url, "POST", "/external-api/v1/debts/batch?dryrun=true", raw=body, headers=JSON)
    assert answer.status == 400, answer.text
    assert "dryrun" in answer.body["message"], answer.body


def test_a_debt_naming_its_amount_twice_fails_instead_of_keeping_the_last_one(stack: LocalStack) -> None:
    debt = b'{"firstname": "A", "lastname": "B", "amount": 10, "amount": 1000, "currency": "EUR"}'
    answer = call(
        stack.url,
        "POST",
        "/external-api/v1/debts/batch?dryRun=true",
        raw=b'{"debts": [%s]}' % debt,
        headers=JSON,
    )
    assert answer.status in (200, 400), answer.text
    assert "amount" in answer.text and "twice" in answer.text, answer.text


def test_a_leads_row_that_also_carries_a_loan_id_is_known_by_its_lead_id_in_the_result_files(
    stack: LocalStack,
) -> None:
    record = {
        "lead_id": "LD-2",
        "loan_id": "LN-2",
        "first_name": "Ada",
        "phone_number": "x",
        "lead_date": "2026-02-01",
    }
    sent = call(
        stack.url,
        "POST",
        "/api/v1/customers/add/bulk",
        body={"campaignId": "camp-leads", "records": [record]},
        headers=KEY,
    )
    assert sent.status == 400, sent.text
    view = finished(stack, sent.body["importId"])
    for name in ("results", "errors"):
        with urllib.request.urlopen(view["files"][name], timeout=30) as answer:
            (row,) = csv.DictReader(io.StringIO(answer.read().decode("utf-8-sig")))
        assert row["reference"] == "LD-2", (name, row)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/external-api/v1/debts/batch", {"debts": []}),
        ("/payments/payments/import", {"items": []}),
        ("/api/v1/customers/add/bulk", {"campaignId": "camp-loans", "records": []}),
    ],
)
def test_a_key_without_the_scope_is_403_whatever_the_body(
    stack: LocalStack, path: str, body: dict[str, Any]
) -> None:
    answer = call(stack.url, "POST", path, body=body, headers={"X-API-Key": "acme-readonly"})
    assert answer.status == 403, answer.text


def uploaded(stack: LocalStack, kind: str, filename: str, data: bytes, **options: str) -> dict[str, Any]:
    """The finished view of an import of ``data``, uploaded as a client does: upload URL, then PUT."""
    created = call(
        stack.url,
        "POST",
        "/v1/imports/uploads",
        body={"kind": kind, "filename": filename, "options": options},
        headers=KEY,
    )
    assert created.status == 201, created.text
    put = urllib.request.Request(created.body["uploadUrl"], data=data, method="PUT")
    with urllib.request.urlopen(put, timeout=30) as answer:
        assert answer.status in (200, 204)
    return finished(stack, created.body["importId"])


def test_a_spreadsheet_export_with_units_marks_and_floats_imports_every_valid_row(stack: LocalStack) -> None:
    text = (
        "Loan ID;First Name;Phone Number;Loan Amount (€);EMI Amount (€);EMI Due Date\r\n"
        "X-1;Zoé;\u200e06 12 34 56 78;1 234,50;99,5;2026-12-05 00:00:00\r\n"
        "X-2;Hélène;612345679.0;10;1;05/12/2026\r\n"
        "X-3;Jérôme;06 12 34 56 7;10;1;05/12/2026\r\n"
    )
    view = uploaded(
        stack, "campaign-customers", "export.csv", text.encode("utf-8-sig"), **{"campaign-id": "camp-loans"}
    )
    assert view["counts"] == {**view["counts"], "total": 3, "succeeded": 2, "failed": 1}, view
    assert row_errors(stack, view["importId"]) == ["phone_number: not a valid number for region FR"]


def test_an_ssn_sent_under_a_misspelt_key_is_masked_in_answers_and_result_files(stack: LocalStack) -> None:
    debt = {
        "firstname": "A",
        "lastname": "B",
        "amount": 1,
        "currency": "EUR",
        "email": "a@b.fr",
        "SSN": "123-45-6789",
    }
    answer = call(stack.url, "POST", "/external-api/v1/debts/batch", body={"debts": [debt]}, headers=KEY)
    assert answer.status == 201 and "123-45-6789" not in answer.text, answer.text
    row = CUSTOMER.replace('"zipCode": %s', '"zipCode": "02134", "ssn_last_four": "4321"').replace(
        "%s", "ssn-typo"
    )
    body = '{"customers": [' + row + "]}"
    sent = call(stack.url, "POST", "/customers/batch", raw=body.encode(), headers=JSON)
    view = finished(stack, sent.body["importId"])
    with urllib.request.urlopen(view["files"]["errors"], timeout=30) as report:
        text = report.read().decode("utf-8-sig")
    assert "ssn_last_four" in text and "4321" not in text, text


def test_a_json_file_naming_another_campaign_than_its_upload_fails_instead_of_importing_into_either(
    stack: LocalStack,
) -> None:
    record = '{"loan_id": "J1", "first_name": "A", "phone_number": "0612345678", "lead_date": "2026-02-01"}'
    data = ('{"campaignId": "camp-leads", "records": [' + record + "]}").encode()
    view = uploaded(stack, "campaign-customers", "body.json", data, **{"campaign-id": "camp-loans"})
    assert view["status"] == "FAILED" and "campaignId" in view.get("error", ""), view
