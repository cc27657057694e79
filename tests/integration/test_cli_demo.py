"""``make demo`` prints what happened so a person can read it: counts as words, cut lists say so."""

from __future__ import annotations

import re

import pytest

from bulk_import.local.demo import run_demo

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def test_the_demo_reads_as_sentences_not_python_values(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_demo() == 0
    out = capsys.readouterr().out
    assert "total 3 · valid 3 · invalid 0 · succeeded 3 · failed 0 · skipped 0" in out
    assert "Seed loaded: 2 tenants, 3 API keys" in out
    assert re.search(r"… and \d+ more", out)
    # Cancel and retry: an upload waiting for its file stops, a finished import's failed rows go again.
    assert "cancel) -> 200: CANCELLED" in out and "cancel again) -> 409" in out
    assert re.search(r"retry -> 202: imp_\w+, 2 rows sent again", out)
    mine = out.split("== The life of an import")[0]  # the lines of the other scenarios are checked with them
    assert not re.search(r"\{'|': |\w=\d", mine), re.findall(r".*(?:\{'|': |\w=\d).*", mine)[:3]
