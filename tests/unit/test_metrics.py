"""The metrics buffer: one embedded-metric document per kind, the tenant never a dimension."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.entrypoints.metrics import CALLS_DEFERRED, CALLS_REQUESTED, ROWS_IMPORTED, KindMetrics


def documents(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"_aws"')]


def test_call_batches_count_requested_and_deferred_calls(capsys: pytest.CaptureFixture[str]) -> None:
    buffer = KindMetrics()
    buffer.calls("campaign-customers", {"batch": 0, "requested": 40, "skipped": 2, "failed": 1})
    buffer.calls("campaign-customers", {"batch": 1, "requested": 2})
    buffer.flush()
    (doc,) = documents(capsys.readouterr().out)
    assert doc[CALLS_REQUESTED] == [42.0] and doc[CALLS_DEFERRED] == [0.0]
    assert doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["kind", "service"]]


KINDS = st.sampled_from(["debts", "payments", "customers"])


@given(st.dictionaries(KINDS, st.integers(0, 10**6), min_size=1))
def test_each_kind_gets_its_own_document_and_a_flush_forgets(counts: dict[str, int]) -> None:
    buffer = KindMetrics()
    for kind, n in counts.items():
        buffer.add(kind, ROWS_IMPORTED, n)
    assert buffer.pending() == {kind: {ROWS_IMPORTED: n} for kind, n in counts.items()}
    buffer.flush()
    assert buffer.pending() == {}
