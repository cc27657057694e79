"""File drops under moto: S3 notifications to the file-drop queue, the handler, chunks, workers,
and the workflow (moto's Step Functions interpreter) writing the result files; uploads; presigned links."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.exceptions import ClientError
from tests.integration.conftest import load_event, with_scopes

from bulk_import import resources
from bulk_import.entrypoints import api, file_drop, runtime, worker
from bulk_import.local.gateway import LambdaContext
from bulk_import.local.poller import SqsPoller
from bulk_import.local.workflow import LambdaRouter

pytestmark = pytest.mark.xdist_group("files")
EVENTS = Path(__file__).resolve().parents[2] / "events"
FRENCH = (EVENTS / "files" / "debts-relances-fr.csv").read_bytes()
CONTEXT = LambdaContext("test")


class Stack:
    """The stack's queues driven by hand: file drops, then chunks, as the event source mappings would."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.s3 = boto3.client("s3")
        self.bucket = names[resources.BUCKET_ENV]
        sqs = boto3.client("sqs")
        self.drops = self._poller(sqs, names[resources.FILE_DROP_QUEUE_ENV], file_drop.handler, 1)
        self.chunks = self._poller(sqs, names[resources.CHUNK_QUEUE_ENV], worker.handler, 5)

    @staticmethod
    def _poller(sqs: Any, url: str, handler: Any, batch: int) -> SqsPoller:
        poller = SqsPoller(sqs, url, handler, batch_size=batch, retry_delay=0)
        poller._arn = "arn:aws:sqs:us-east-1:123456789012:" + url.rsplit("/", 1)[-1]
        return poller

    def put(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, Metadata=metadata or {})

    def run(self) -> None:
        """Handle every dropped file, then every chunk."""
        for poller in (self.drops, self.chunks):
            while poller.poll_once() or poller.poll_once():
                pass

    def import_of(self, key: str) -> str:
        tags = self.s3.get_object_tagging(Bucket=self.bucket, Key=key)["TagSet"]
        return str({t["Key"]: t["Value"] for t in tags}["import-id"])

    def wait(self, import_id: str, tenant: str = "acme", timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            job = runtime.DEPS.get().imports.get(tenant, import_id)
            if (job is not None and job.status in ("DONE", "FAILED")) or time.monotonic() > deadline:
                return job
            time.sleep(0.05)


@pytest.fixture
def stack(aws_workflows: tuple[dict[str, str], LambdaRouter]) -> Stack:
    return Stack(aws_workflows[0])


def api_call(method: str, path: str, body: Any = None, scopes: str | None = None) -> tuple[int, Any]:
    base = load_event("api/campaigns-list.json")
    event = {
        **base,
        "path": path,
        "httpMethod": method,
        "body": json.dumps(body) if body is not None else None,
    }
    if scopes is not None:
        event = with_scopes(event, scopes)
    resp = api.handler(event, CONTEXT)
    return resp["statusCode"], json.loads(resp["body"]) if resp.get("body") else None


def test_a_dropped_file_is_imported_and_get_links_to_its_result_files(stack: Stack) -> None:
    key = "incoming/acme/debts/relances juillet été.csv"  # S3 sends it URL-encoded
    stack.put(key, FRENCH, {"timeline-id": "tl-standard", "timeline-start-mode": "next_day"})
    stack.run()
    import_id = stack.import_of(key)
    job = stack.wait(import_id)
    assert job.status == "DONE", job.error
    assert job.counts.as_dict() == {
        "total": 14,
        "valid": 7,
        "invalid": 5,
        "succeeded": 7,
        "failed": 5,
        "skipped": 2,
    }
    assert job.source_file["name"] == "relances juillet été.csv" and job.source_file["encoding"] == "cp1252"

    status, view = api_call("GET", f"/v1/imports/{import_id}")
    assert status == 200 and view["status"] == "DONE" and view["filesExpiresIn"] == 3600
    assert view["file"]["name"] == "relances juillet été.csv"
    summary = requests.get(view["files"]["summary"], timeout=10)
    assert summary.status_code == 200
    assert summary.json()["counts"]["failed"] == 5 and summary.json()["file"]["delimiter"] == ";"
    errors = requests.get(view["files"]["errors"], timeout=10)
    assert errors.status_code == 200
    lines = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig")), delimiter=";"))
    assert lines[0][:3] == ["index", "Prénom", "Nom"] and len(lines) == 6
    assert lines[2][:4] == ["8", "Noël", "Lefèvre", "'-50"]

    stored = runtime.DEPS.get().records.get_records("acme", "debt", ["internal#FAC-2026-0001"])
    assert stored["internal#FAC-2026-0001"]["timeline_start_mode"] == "next_day"


def test_broken_files_fail_with_their_reason_and_never_block_the_others(stack: Stack) -> None:
    good = b"firstname,lastname,amount,currency,phone\r\nAda,Lovelace,10,EUR,06 12 34 56 78\r\n"
    broken = {
        "incoming/acme/invoices/a.csv": (good, "unknown import kind 'invoices'"),
        "incoming/acme/debts/b.txt": (good, "the file name has extension '.txt'"),
        "incoming/acme/debts/c.csv": (b"", "the file is empty"),
        "incoming/acme/debts/d.csv": (b"Name;City\r\nJean;Lyon\r\n", "no header row"),
        "incoming/acme/debts/e.csv": (good + b"Zo\x81;x;1;EUR;06\r\n", "neither UTF-8 nor Windows-1252"),
    }
    for key, (body, _) in broken.items():
        stack.put(key, body)
    stack.put("incoming/acme/debts/good.csv", good)
    stack.put("incoming/initech/debts/f.csv", good)  # no such tenant
    stack.run()
    for key, (_, reason) in broken.items():
        job = runtime.DEPS.get().imports.get("acme", stack.import_of(key))
        assert job is not None and job.status == "FAILED" and reason in job.error, key
        summary = stack.s3.get_object(Bucket=stack.bucket, Key=job.files["summary"])["Body"].read()
        assert reason in json.loads(summary)["error"]
    good_job = stack.wait(stack.import_of("incoming/acme/debts/good.csv"))
    assert good_job.status == "DONE" and good_job.counts.succeeded == 1
    orphan = stack.import_of("incoming/initech/debts/f.csv")
    assert runtime.DEPS.get().imports.get("initech", orphan) is None
    summary = stack.s3.get_object(Bucket=stack.bucket, Key=f"results/initech/{orphan}/summary.json")
    assert "tenant initech does not exist" in json.loads(summary["Body"].read())["error"]


def test_an_upload_url_takes_a_file_that_is_then_imported(stack: Stack) -> None:
    refused = {"kind": "debts", "filename": "a.csv"}
    assert api_call("POST", "/v1/imports/uploads", refused, scopes="imports:read")[0] == 403
    assert api_call("POST", "/v1/imports/uploads", {**refused, "filename": "a.pdf"})[0] == 400
    assert api_call("POST", "/v1/imports/uploads", {**refused, "kind": "nope"})[0] == 400
    assert api_call("POST", "/v1/imports/uploads", {**refused, "options": {"timeline_id": "x"}})[0] == 400
    assert api_call("POST", "/v1/imports/uploads", {**refused, "extra": 1})[0] == 400

    status, answer = api_call(
        "POST",
        "/v1/imports/uploads",
        {"kind": "campaign-customers", "filename": "prêts.xlsx", "options": {"campaignId": "camp-loans"}},
    )
    assert status == 201, answer
    status, waiting = api_call("GET", f"/v1/imports/{answer['importId']}")
    assert waiting["status"] == "QUEUED" and waiting["file"]["awaitingUpload"] is True

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Loan ID", "First Name", "Phone Number", "Loan Amount", "EMI Amount", "EMI Due Date"])
    sheet.append(["L-1", "Ada", "06 12 34 56 78", 1200, 99.5, "05/12/2026"])
    sheet.append(["L-2", "Bob", "12345", 1200, 99.5, "05/12/2026"])
    body = io.BytesIO()
    workbook.save(body)
    put = requests.put(answer["uploadUrl"], data=body.getvalue(), timeout=10)
    assert put.status_code == 200
    stack.run()
    job = stack.wait(answer["importId"])
    assert job.status == "DONE" and job.source == "upload"
    assert (job.counts.succeeded, job.counts.failed) == (1, 1)
    _, view = api_call("GET", f"/v1/imports/{answer['importId']}")
    report = requests.get(view["files"]["errors"], timeout=10).content.decode("utf-8-sig").splitlines()
    assert report[1].startswith("1,L-2,Bob,12345,") and "phone_number:" in report[1]


def _sqs_event(body: dict[str, Any], receives: int) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "h1",
                "body": json.dumps(body),
                "attributes": {"ApproximateReceiveCount": str(receives)},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:file-drops",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_transient_failures_are_retried_then_fail_the_file(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = "incoming/acme/debts/throttled.csv"
    stack.put(key, FRENCH)
    notification = {
        "Records": [
            {
                "eventName": "ObjectCreated:Put",
                "eventTime": "2026-11-20T09:00:00.000Z",
                "s3": {
                    "object": {"key": "incoming/acme/debts/throttled.csv", "size": len(FRENCH), "eTag": "x"}
                },
            }
        ]
    }
    from bulk_import.usecases import files as importer

    def throttled(*_: Any, **__: Any) -> Any:
        raise ClientError({"Error": {"Code": "SlowDown", "Message": "slow down"}}, "GetObject")

    monkeypatch.setattr(importer, "handle_drop", throttled)
    with pytest.raises(BatchProcessingError):  # the whole batch (one file) goes back to the queue
        file_drop.handler(_sqs_event(notification, 1), CONTEXT)
    last = file_drop.handler(_sqs_event(notification, resources.FILE_DROP_MAX_RECEIVE_COUNT), CONTEXT)
    assert last == {"batchItemFailures": []}
    job = runtime.DEPS.get().imports.get("acme", stack.import_of(key))
    assert job is not None and job.status == "FAILED" and "ClientError" in job.error


def test_test_events_and_other_events_are_ignored() -> None:
    # No stack: nothing here may reach one.
    assert file_drop.handler(_sqs_event({"Event": "s3:TestEvent", "Bucket": "b"}, 1), CONTEXT) == {
        "batchItemFailures": []
    }
    removed = {
        "Records": [{"eventName": "ObjectRemoved:Delete", "s3": {"object": {"key": "incoming/a/b/c.csv"}}}]
    }
    assert file_drop.handler(_sqs_event(removed, 1), CONTEXT) == {"batchItemFailures": []}
