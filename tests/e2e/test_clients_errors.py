"""Error answers as a client written from the API's contract reads them, over HTTP against the local stack.

Every 4xx answer says what is wrong in words the caller can act on, in the one error shape
``{"message": ..., "errors": [...]}``, and names the fields and options the caller sent, not the
product's internal ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.client import ApiResponse, call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
KEY = {"X-API-Key": "acme-secret"}
LOAN = {
    "loan_id": "L-err-1",
    "first_name": "Ada",
    "phone_number": "06 12 34 56 78",
    "loan_amount": "1200",
    "emi_amount": "99.50",
    "emi_due_date": "05/12/2026",
}
DEBT = {"firstname": "Marie", "lastname": "Curie", "amount": "10", "currency": "EUR", "phone": "0612345678"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def send(stack: LocalStack, method: str, path: str, body: Any = None, **headers: str) -> ApiResponse:
    return call(stack.url, method, path, body=body, headers={**KEY, **headers})


def says(answer: ApiResponse, *words: str) -> None:
    """The answer is in the error shape, and its message and its list both say ``words``."""
    body = answer.body
    assert isinstance(body, dict) and isinstance(body.get("message"), str), answer.text
    assert isinstance(body.get("errors"), list) and body["errors"], answer.text
    for word in words:
        assert word in body["message"], answer.text
        assert any(word in str(entry) for entry in body["errors"]), answer.text


# -- uploads: the options are named as the caller sent them ---------------------------------------------
@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({}, "campaign-id"),
        ({"campaign-id": "camp-loans", "initiate-call": "true"}, "agent-id"),
        ({"campaign-id": "camp-loans", "initiate-call": "maybe"}, "options.initiate-call"),
    ],
)
def test_an_upload_refused_for_its_options_names_the_option_the_caller_used(
    stack: LocalStack, options: dict[str, str], named: str
) -> None:
    body = {"kind": "campaign-customers", "filename": "loans.csv", "options": options}
    answer = send(stack, "POST", "/v1/imports/uploads", body)
    assert answer.status == 400, answer.text
    says(answer, named)
    assert "metadata" not in answer.body["message"], answer.text


def test_an_upload_with_an_option_of_another_kind_lists_it_in_errors(stack: LocalStack) -> None:
    body = {"kind": "debts", "filename": "debts.csv", "options": {"campaign-id": "camp-loans"}}
    answer = send(stack, "POST", "/v1/imports/uploads", body)
    assert answer.status == 400, answer.text
    says(answer, "options.campaign-id", "not an option of debts imports")


# -- every error answer lists its problem ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "word"),
    [
        ("GET", "/v1/imports/imp_nope", None, 404, "imp_nope"),
        ("GET", "/customers/batch/nope", None, 404, "nope"),
        ("POST", "/api/v1/customers/add/bulk", {"campaignId": "nope", "records": [LOAN]}, 404, "nope"),
        (
            "POST",
            "/api/v1/customers/add/bulk",
            {"campaignId": "camp-loans", "records": [LOAN], "initiateCall": True},
            400,
            "callConfig",
        ),
        (
            "POST",
            "/external-api/v1/debts/batch",
            {"debts": [DEBT], "timeline_id": "nope"},
            400,
            "timeline_id",
        ),
        ("GET", "/v1/imports?status=finished", None, 400, "status"),
        ("GET", "/v1/imports?kind=nope", None, 400, "kind"),
        ("GET", "/v1/imports?cursor=zzz", None, 400, "cursor"),
        (
            "POST",
            "/api/v1/customers/add/bulk?dryRun=yes",
            {"campaignId": "camp-loans", "records": [LOAN]},
            400,
            "dryRun",
        ),
        ("DELETE", "/api/v1/customers/add/bulk", None, 405, "POST"),
        ("GET", "/no/such/route", None, 404, "no route"),
    ],
)
def test_every_error_answer_lists_what_is_wrong(
    stack: LocalStack, method: str, path: str, body: Any, status: int, word: str
) -> None:
    answer = send(stack, method, path, body)
    assert answer.status == status, answer.text
    says(answer, word)


def test_an_idempotency_key_sent_again_with_another_body_lists_the_conflict(stack: LocalStack) -> None:
    first = {"campaignId": "camp-loans", "records": [{**LOAN, "loan_id": "L-err-idem"}]}
    assert (
        send(stack, "POST", "/api/v1/customers/add/bulk", first, **{"Idempotency-Key": "err-idem"}).status
        == 201
    )
    other = send(
        stack, "POST", "/external-api/v1/debts/batch", {"debts": [DEBT]}, **{"Idempotency-Key": "err-idem"}
    )
    assert other.status == 422, other.text
    says(other, "Idempotency-Key")
