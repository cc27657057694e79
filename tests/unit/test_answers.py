"""Synchronous answers cut to fit Lambda's response, saying what was cut and where the rest is."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bulk_import.engine.answers import fit_answer


def size(payload: Any) -> int:
    return len(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode())


def test_an_answer_that_fits_is_returned_as_it_is() -> None:
    payload = {"importId": "imp_1", "results": {"errors": [{"index": 0, "message": "x"}]}}
    assert fit_answer(payload, ["results.errors"], limit=10_000) is payload


def test_an_answer_too_large_keeps_the_first_rows_and_says_where_the_rest_is() -> None:
    errors = [{"index": i, "field": "phone_number", "message": "é" * 100} for i in range(1000)]
    payload = {"importId": "imp_1", "message": "Added 0 of 1000 records", "results": {"errors": errors}}
    fitted = fit_answer(payload, ["results.errors"], limit=50_000)
    kept = fitted["results"]["errors"]
    assert size(fitted) <= 50_000 and kept == errors[: len(kept)] and len(kept) > 100
    assert fitted["truncated"] is True
    assert fitted["cut"] == {"results.errors": {"shown": len(kept), "total": 1000}}
    assert fitted["moreAt"] == "/v1/imports/imp_1/errors"
    assert len(payload["results"]["errors"]) == 1000  # the kind's own answer is left whole


def test_lists_after_a_cut_one_are_emptied_and_said_so() -> None:
    big = [{"index": i, "data": "x" * 200} for i in range(100)]
    payload = {"import_id": "imp_2", "failed": big, "skipped": big[:3], "created": big[:3]}
    fitted = fit_answer(payload, ["failed", "skipped", "created", "missing"], limit=5_000)
    assert fitted["skipped"] == [] and fitted["created"] == []
    assert set(fitted["cut"]) == {"failed", "skipped", "created"}
    assert fitted["moreAt"] == "/v1/imports/imp_2/errors"


@given(
    st.lists(st.text(max_size=300), max_size=60),
    st.lists(st.text(max_size=300), max_size=60),
    st.integers(min_value=2_000, max_value=40_000),
)
def test_a_cut_answer_fits_and_keeps_a_prefix_of_each_list(
    first: list[str], second: list[str], limit: int
) -> None:
    payload = {"importId": "imp_3", "a": {"rows": first}, "b": second}
    fitted = fit_answer(payload, ["a.rows", "b"], limit=limit)
    assert size(fitted) <= limit
    assert fitted["a"]["rows"] == first[: len(fitted["a"]["rows"])]
    assert fitted["b"] == second[: len(fitted["b"])]


def test_a_cut_answer_keeps_its_values_as_they_were_and_cuts_two_lists_of_one_object() -> None:
    from decimal import Decimal

    rows = [{"index": i, "credits": Decimal("25"), "text": "x" * 100} for i in range(200)]
    payload = {"summary": {"credits": Decimal("5000")}, "r": {"a": rows, "b": rows}}
    fitted = fit_answer(payload, ["r.a", "r.b"], limit=15_000)
    assert fitted["summary"]["credits"] == Decimal("5000") and isinstance(
        fitted["r"]["a"][0]["credits"], Decimal
    )
    assert 0 < len(fitted["r"]["a"]) < 200 and fitted["r"]["b"] == []
    assert set(fitted["cut"]) == {"r.a", "r.b"} and len(payload["r"]["a"]) == 200


def test_an_answer_full_of_quotes_and_backslashes_fits_once_escaped_in_the_response() -> None:
    # Lambda's response carries the body as a JSON string: every quote and backslash is escaped again.
    errors = [{"index": i, "message": 'a \\ "b" \\\\ c' * 20} for i in range(2000)]
    payload = {"importId": "imp_4", "results": {"errors": errors}}
    fitted = fit_answer(payload, ["results.errors"], limit=300_000)
    body = json.dumps(fitted, ensure_ascii=False, separators=(",", ":"))
    assert len(json.dumps({"body": body}, ensure_ascii=False).encode()) <= 300_000
    assert fitted["cut"]["results.errors"]["shown"] > 100
