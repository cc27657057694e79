"""A local stack that stops loses everything: the next one started in the same process (``serve`` run
again, the next test module) starts empty and delivers nothing of the one before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}


def seed() -> dict[str, object]:
    return dict(json.loads((EVENTS / "seed" / "demo-seed.json").read_text(encoding="utf-8")))


def test_a_stack_started_after_another_in_one_process_holds_nothing_of_the_first() -> None:
    debts = [
        {"firstname": "Ada", "lastname": "Lovelace", "amount": 10, "currency": "EUR", "phone": "0612345678"}
    ]
    with LocalStack(seeds=[seed()]) as first:
        hook = {"url": "http://127.0.0.1:9/", "events": ["import.completed"]}  # nobody listens: retried
        assert call(first.url, "PUT", "/v1/webhooks", body=hook, headers=KEY).status == 200
        answer = call(first.url, "POST", "/external-api/v1/debts/batch", body={"debts": debts}, headers=KEY)
        assert answer.status == 201, answer.text
        upload = call(
            first.url, "POST", "/v1/imports/uploads", body={"kind": "debts", "filename": "a.csv"}, headers=KEY
        )
        assert upload.status == 201, upload.text

    with LocalStack(seeds=[seed()]) as second:
        listed = call(second.url, "GET", "/v1/imports", headers=KEY)
        assert listed.status == 200 and listed.body["imports"] == []
        assert call(second.url, "GET", "/v1/webhooks", headers=KEY).status == 404
        assert call(second.url, "GET", f"/v1/imports/{answer.body['import_id']}", headers=KEY).status == 404
