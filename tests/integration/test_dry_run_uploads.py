"""Dry runs of uploaded files under moto: the real upload and file-drop handlers, with ``"dryRun": true``."""

from __future__ import annotations

import csv
import io
from typing import Any

import boto3
import pytest
import requests
from tests.integration.test_file_drops import FRENCH, Stack, api_call

from bulk_import import resources
from bulk_import.entrypoints import runtime
from bulk_import.local.workflow import LambdaRouter

pytestmark = pytest.mark.xdist_group("files")

#: What an import of the French debts file ends with (its good, bad and blank rows).
FRENCH_COUNTS = {"total": 14, "valid": 7, "invalid": 5, "succeeded": 7, "failed": 5, "skipped": 2}
OPTIONS = {"timeline_id": "tl-standard", "timeline_start_mode": "next_day"}


@pytest.fixture
def stack(aws_workflows: tuple[dict[str, str], LambdaRouter]) -> Stack:
    return Stack(aws_workflows[0])


def _records(stack: Stack) -> int:
    table = stack.names[resources.RECORDS_TABLE.env_var]
    return int(boto3.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"])


def _chunks_waiting(stack: Stack) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=stack.names[resources.CHUNK_QUEUE_ENV],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(v) for v in attributes.values())


def _handle_drops(stack: Stack) -> None:
    """Handle the dropped files only: a dry run must leave nothing for the chunk workers."""
    while stack.drops.poll_once() or stack.drops.poll_once():
        pass


def _upload(body: dict[str, Any], data: bytes) -> str:
    status, answer = api_call("POST", "/v1/imports/uploads", body)
    assert status == 201, answer
    assert requests.put(answer["uploadUrl"], data=data, timeout=10).status_code == 200
    return str(answer["importId"])


def test_a_dry_run_upload_reports_every_bad_row_and_stores_nothing(stack: Stack) -> None:
    before = _records(stack)
    status, answer = api_call(
        "POST",
        "/v1/imports/uploads",
        {"kind": "debts", "filename": "relances.csv", "options": OPTIONS, "dryRun": True},
    )
    assert status == 201 and answer["dryRun"] is True
    assert requests.put(answer["uploadUrl"], data=FRENCH, timeout=10).status_code == 200
    _handle_drops(stack)
    import_id = answer["importId"]

    job = stack.wait(import_id)
    assert job.status == "DONE", job.error
    assert job.counts.as_dict() == FRENCH_COUNTS
    assert _records(stack) == before
    assert _chunks_waiting(stack) == 0
    assert job.calls is None and job.chunks_total == 0

    status, view = api_call("GET", f"/v1/imports/{import_id}")
    assert status == 200 and view["status"] == "DONE" and view["dryRun"] is True
    assert view["counts"] == FRENCH_COUNTS and view["file"]["name"] == "relances.csv"
    summary = requests.get(view["files"]["summary"], timeout=10).json()
    assert summary["dryRun"] is True and summary["status"] == "DONE" and summary["errorRows"] == 5
    assert summary["counts"] == FRENCH_COUNTS
    errors = requests.get(view["files"]["errors"], timeout=10).content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(errors), delimiter=";"))
    assert lines[0][:3] == ["index", "Prénom", "Nom"] and len(lines) == 6
    assert lines[2][:4] == ["8", "Noël", "Lefèvre", "'-50"]

    status, page = api_call("GET", f"/v1/imports/{import_id}/errors")
    assert status == 200 and sorted({e["index"] for e in page["errors"]})[1] == 8


def test_a_real_upload_of_the_same_file_still_imports_it(stack: Stack) -> None:
    dry = _upload({"kind": "debts", "filename": "relances.csv", "options": OPTIONS, "dryRun": True}, FRENCH)
    real = _upload({"kind": "debts", "filename": "relances.csv", "options": OPTIONS}, FRENCH)
    stack.run()
    dry_job, real_job = stack.wait(dry), stack.wait(real)
    assert dry_job.counts.as_dict() == real_job.counts.as_dict() == FRENCH_COUNTS
    _, view = api_call("GET", f"/v1/imports/{real}")
    assert view["status"] == "DONE" and "dryRun" not in view
    stored = runtime.DEPS.get().records.get_records("acme", "debt", ["internal#FAC-2026-0001"])
    assert stored["internal#FAC-2026-0001"]["importId"] == real


def test_a_dry_run_of_an_unreadable_file_fails_with_its_reason(stack: Stack) -> None:
    body = {"kind": "debts", "filename": "a.csv", "options": OPTIONS, "dryRun": True}
    import_id = _upload(body, b"Name;City\r\nJean;Lyon\r\n")
    _handle_drops(stack)
    job = stack.wait(import_id)
    assert job.status == "FAILED" and "no header row" in (job.error or "")
    _, view = api_call("GET", f"/v1/imports/{import_id}")
    assert view["dryRun"] is True and "summary" in view["files"]


@pytest.mark.parametrize("flag", ["true", 1, "yes", None])
def test_dry_run_in_an_upload_body_must_be_true_or_false(stack: Stack, flag: Any) -> None:
    body = {"kind": "debts", "filename": "a.csv", "options": OPTIONS, "dryRun": flag}
    assert api_call("POST", "/v1/imports/uploads", body)[0] == 400
