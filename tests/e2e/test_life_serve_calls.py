"""``bulk-import serve`` as a person runs it: the CallRequested events land in the queue it prints."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from tests.serving import served

from bulk_import.local.client import call
from bulk_import.local.stack import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
KEY = {"X-API-Key": "hooli-secret"}
ALL_DAY = {"days": ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"], "start": "00:00", "end": "24:00"}
SEED = {
    "tenants": [
        {
            "id": "hooli",
            "timezone": "America/New_York",
            "defaultPhoneRegion": "US",
            "apiKeys": [{"key": "hooli-secret", "scopes": ["customers:write", "imports:read"]}],
            "campaigns": [{"id": "camp-h", "name": "H", "serviceType": "collections"}],
            "callPolicy": {"windows": [ALL_DAY]},
        }
    ]
}


def _received(queue_url: str, endpoint: str, wanted: int, timeout: float = 30) -> list[dict[str, Any]]:
    sqs = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < wanted and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        time.sleep(0.2)
    return events


def test_the_call_requested_events_of_serve_can_be_read_from_the_queue_it_prints(tmp_path: Path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(SEED))
    port = free_port()
    with served("--port", str(port), "--seed", str(seed)) as serve:
        endpoint = serve.printed("AWS emulation on ").split()[3]
        queue_url = serve.printed("CallRequested events also land in ").split()[-1]
        records = [
            {
                "loan_id": f"L-{i}",
                "first_name": "Dana",
                "phone_number": f"+1 212 555 01{i:02d}",
                "loan_amount": "100",
                "emi_amount": "10",
                "emi_due_date": "2026-12-20",
            }
            for i in range(2)
        ]
        body = {
            "campaignId": "camp-h",
            "records": records,
            "initiateCall": True,
            "callConfig": {"agentId": "ag-1", "dispositionId": "d-1"},
        }
        resp = call(f"http://127.0.0.1:{port}", "POST", "/api/v1/customers/add/bulk", body=body, headers=KEY)
        assert resp.status == 201, resp.body
        assert resp.body["callResults"]["queued"] == 2 and resp.body["callResults"]["deferred"] == 0
        events = _received(queue_url, endpoint, wanted=2)
    mine = [e["detail"] for e in events if e["detail"]["importId"] == resp.body["importId"]]
    assert sorted(d["phone"] for d in mine) == ["+12125550100", "+12125550101"]
    assert all(d["agentId"] == "ag-1" and d["dispositionId"] == "d-1" and d["callBy"] for d in mine)
