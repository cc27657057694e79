"""Hostile requests at the HTTP boundary: every POST route answers 4xx in the one error shape."""

from __future__ import annotations

import base64
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.integration.conftest import load_event

from bulk_import.core.errors import ImportFailedError
from bulk_import.entrypoints import api, boundary
from bulk_import.local.gateway import LambdaContext

POST_ROUTES = [
    "/api/v1/customers/add/bulk",
    "/external-api/v1/debts/batch",
    "/customers/batch",
    "/payments/payments/import",
    "/customers",
    "/api/v1/campaigns",
    "/v1/imports/uploads",
]
SSN = "4321"
#: Far more than an error answer needs: answers stay small whatever was sent.
MAX_ANSWER = 4_000


def event(
    path: str,
    body: str | None,
    *,
    content_type: str | None = "application/json",
    method: str = "POST",
    base64_body: bytes | None = None,
) -> dict[str, Any]:
    base = load_event("api/campaign-customers-clean.json")
    headers = {"X-API-Key": "acme-secret"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    out = {**base, "path": path, "httpMethod": method, "headers": headers, "body": body}
    out["multiValueHeaders"] = {k: [v] for k, v in headers.items()}
    if base64_body is not None:
        out["body"], out["isBase64Encoded"] = base64.b64encode(base64_body).decode(), True
    return out


def answer(evt: dict[str, Any]) -> tuple[int, dict[str, Any], str]:
    resp = api.handler(evt, LambdaContext("test"))
    text = resp["body"]
    return resp["statusCode"], json.loads(text), text


def assert_error_shape(status: int, body: dict[str, Any], text: str, expected: int) -> None:
    assert status == expected, body
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], list)
    assert len(text) < MAX_ANSWER
    assert SSN not in text


JSON_WITH_SSN = json.dumps({"records": [{"id": "c-1", "ssnLastFour": SSN, "firstName": "Ada"}]})
HOSTILE_BODIES = {
    "not UTF-8": (None, b'{"records": [{"firstName": "Ren\xe9", "ssnLastFour": "4321"}]}', "UTF-8"),
    "nested 10,000 deep": ("[" * 10_000 + "]" * 10_000, None, "nested deeper than 64"),
    "nested 65 deep in an object": ('{"a":' * 65 + "1" + "}" * 65, None, "nested deeper than 64"),
    "a 5,001-digit integer": ('{"records": [{"loan_amount": ' + "9" * 5001 + "}]}", None, "5,001 digits"),
    "a 401-digit integer": ('{"x": -' + "1" * 401 + "}", None, "401 digits"),
    "NaN": ('{"records": [{"loan_amount": NaN, "ssnLastFour": "4321"}]}', None, "NaN"),
    "Infinity": ('{"records": [{"loan_amount": -Infinity}]}', None, "-Infinity"),
    "a lone surrogate in a value": (
        '{"records": [{"firstName": "\\ud800", "ssnLastFour": "4321"}]}',
        None,
        "surrogate",
    ),
    "a lone surrogate in a key": ('{"records": [{"\\udfff": 1}]}', None, "surrogate"),
    "not JSON": ('{"records": [', None, "not valid JSON"),
    "empty": ("", None, "empty"),
}


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("case", sorted(HOSTILE_BODIES))
def test_a_hostile_body_is_refused_with_400_naming_the_problem(path: str, case: str) -> None:
    text, raw, expected = HOSTILE_BODIES[case]
    status, body, out = answer(event(path, text, base64_body=raw))
    assert_error_shape(status, body, out, 400)
    assert expected in body["message"]


UNSUPPORTED_TYPES = [
    "application/x-www-form-urlencoded",
    "text/plain",
    "text/plain; charset=utf-8",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/xml",
    "application/json; charset=latin-1",
    "application/jsonp",
]


@pytest.mark.parametrize("path", POST_ROUTES)
@pytest.mark.parametrize("content_type", UNSUPPORTED_TYPES)
def test_any_other_media_type_is_415_without_echoing_the_body(path: str, content_type: str) -> None:
    status, body, text = answer(event(path, JSON_WITH_SSN, content_type=content_type))
    assert_error_shape(status, body, text, 415)
    assert "application/json" in body["message"] or "UTF-8" in body["message"]


@pytest.mark.parametrize("path", POST_ROUTES)
def test_a_2_mb_form_body_gets_a_small_answer(path: str) -> None:
    form = "payload=" + json.dumps({"ssnLastFour": SSN, "name": "x" * 2_000_000})
    status, body, text = answer(event(path, form, content_type="application/x-www-form-urlencoded"))
    assert_error_shape(status, body, text, 415)


@pytest.mark.parametrize("content_type", [None, "", "application/json", "Application/JSON; Charset=UTF-8"])
def test_json_is_read_with_or_without_its_content_type(content_type: str | None) -> None:
    # An unknown field shows the body reached the route's own validation as JSON.
    body = json.dumps({"name": "Winter", "serviceType": "leads", "bogus": 1})
    status, resp, text = answer(event("/api/v1/campaigns", body, content_type=content_type))
    assert_error_shape(status, resp, text, 400)
    assert "bogus: is not a known field" in resp["message"]


def test_a_huge_unknown_field_is_named_in_at_most_100_characters() -> None:
    key = "k" * 2_000_000
    body = json.dumps({"campaignId": "camp-loans", "records": [{}], key: SSN})
    status, resp, text = answer(event("/payments/payments/import", body))
    assert_error_shape(status, resp, text, 400)
    assert "k" * 101 not in text


def test_an_oversized_body_is_413_in_the_error_shape() -> None:
    status, body, text = answer(event("/customers", json.dumps({"id": "x" * 200_000})))
    assert_error_shape(status, body, text, 413)
    assert "at most 100,000" in body["message"]


def test_unknown_routes_and_methods_answer_404_and_405_in_the_error_shape() -> None:
    status, body, text = answer(event("/nowhere/" + "z" * 500, None, method="GET"))
    assert_error_shape(status, body, text, 404)
    assert "z" * 101 not in text
    resp = api.handler(event("/customers", None, method="GET"), LambdaContext("test"))
    assert resp["statusCode"] == 405
    headers = resp.get("multiValueHeaders") or {k: [v] for k, v in resp.get("headers", {}).items()}
    assert headers["Allow"] == ["POST"]
    body = json.loads(resp["body"])
    assert set(body) == {"message", "errors"}


@pytest.mark.parametrize(("encoding", "status"), [("gzip", 415), ("br", 415), ("identity", 400), ("", 400)])
def test_a_compressed_body_is_415_naming_its_encoding(encoding: str, status: int) -> None:
    evt = event("/api/v1/campaigns", json.dumps({"name": "Winter", "serviceType": "leads", "bogus": 1}))
    evt["headers"]["Content-Encoding"] = encoding
    code, body, text = answer(evt)
    assert_error_shape(code, body, text, status)  # 400: read as sent, the route's own validation answered
    assert (f"Content-Encoding '{encoding}'" in body["message"]) == (status == 415)


@pytest.mark.parametrize("values", [["2", "3"], ["2", "2"]])
def test_a_query_parameter_given_twice_is_400_saying_so(values: list[str]) -> None:
    evt = event("/v1/imports", None, method="GET")
    evt["queryStringParameters"] = {"limit": values[-1]}
    evt["multiValueQueryStringParameters"] = {"limit": values}
    status, body, text = answer(evt)
    assert_error_shape(status, body, text, 400)
    assert body["errors"] == ["query.limit: given 2 times; send it once"]


def test_a_query_out_of_range_is_400_not_422() -> None:
    evt = event("/v1/imports/imp-1/errors", None, method="GET")
    evt["queryStringParameters"] = {"limit": "0"}
    status, body, text = answer(evt)
    assert_error_shape(status, body, text, 400)
    assert "limit" in body["message"]


def test_an_unexpected_failure_is_a_generic_500(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any) -> Any:
        raise RuntimeError(f"boom with ssn {SSN} and the body")

    from bulk_import.usecases import campaigns

    monkeypatch.setattr(campaigns, "list_campaigns", explode)
    status, body, text = answer(event("/api/v1/campaigns", None, method="GET"))
    assert_error_shape(status, body, text, 500)
    assert body["message"] == api.INTERNAL_ERROR
    assert "boom" not in text


def test_a_failed_import_answers_500_with_its_import_id(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: Any) -> Any:
        raise ImportFailedError("the import failed after storing 3 of 5 rows", {"importId": "imp-42"})

    monkeypatch.setattr(api, "run_inline_import", fail)
    clean = load_event("api/campaign-customers-clean.json")
    status, body, text = answer(event("/api/v1/customers/add/bulk", clean["body"]))
    assert_error_shape(status, body, text, 500)
    assert body == {
        "message": "the import failed after storing 3 of 5 rows",
        "importId": "imp-42",
        "errors": ["the import failed after storing 3 of 5 rows"],
    }


def test_numbers_with_a_fraction_or_exponent_are_read_exactly() -> None:
    doc = boundary.parse_json('{"a": 1e-400, "b": 1234567890123456789012345678901234567890.5, "c": 7}')
    assert doc == {
        "a": Decimal("1e-400"),
        "b": Decimal("1234567890123456789012345678901234567890.5"),
        "c": 7,
    }
    assert type(doc["c"]) is int


def test_a_valid_surrogate_pair_and_a_byte_order_mark_are_fine() -> None:
    assert boundary.parse_json('\ufeff{"emoji": "\\ud83d\\ude00", "k": "\\\\ud800"}') == {
        "emoji": "😀",
        "k": "\\ud800",
    }


@settings(max_examples=200, deadline=None)
@given(
    sent=st.text(
        alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=101, max_size=400
    ),
    prefix=st.text(max_size=30),
    suffix=st.text(max_size=30),
)
def test_no_answer_repeats_more_than_100_characters_of_what_was_sent(
    sent: str, prefix: str, suffix: str
) -> None:
    scrubbed = boundary.scrub({"message": prefix + sent + suffix}, boundary.Sent(texts=[sent]))["message"]
    assert not any(scrubbed[i : i + 101] in sent for i in range(max(0, len(scrubbed) - 100)))


@given(ssn=st.from_regex(r"\A[0-9]{4}\Z"))
def test_a_sensitive_value_sent_is_never_in_an_error_answer(ssn: str) -> None:
    sent = boundary.Sent(texts=[], document={"records": [{"ssn_last_four": ssn}]})
    scrubbed = boundary.scrub({"message": f"ssnLastFour: {ssn} is not allowed", "errors": [ssn]}, sent)
    assert ssn not in json.dumps(scrubbed)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('{"debts": [{"amount": 10, "amount": 1000}]}', "debts.0.amount"),
        ('{"debts": [], "debts": [{"amount": 1}]}', "debts"),
        ('{"a": {"b": [{"c": 1, "c": 1}]}}', "a.b.0.c"),
    ],
)
def test_a_key_given_twice_in_one_object_is_refused_naming_where(text: str, where: str) -> None:
    with pytest.raises(boundary.RequestRejectedError) as refused:
        boundary.parse_json(text)
    assert refused.value.status == 400
    assert refused.value.message.startswith(f"{where}: is given twice")


def test_the_same_key_in_two_objects_is_not_a_repeat() -> None:
    assert boundary.parse_json('{"debts": [{"amount": 1}, {"amount": 2}]}') == {
        "debts": [{"amount": 1}, {"amount": 2}]
    }


def test_a_large_object_with_a_repeated_key_is_refused_as_fast_as_any_other_body() -> None:
    # 30,000 keys: a check comparing each key with those before it would take minutes here.
    names = [f'"k{i}": {i}' for i in range(30_000)]
    with pytest.raises(boundary.RequestRejectedError) as refused:
        boundary.parse_json("{" + ", ".join([*names, '"k7": 0']) + "}")
    assert refused.value.message.startswith("k7: is given twice")
