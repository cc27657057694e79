"""The import bucket's lifecycle rules: what it keeps of an import, and for how long."""

from __future__ import annotations

from typing import Any

import pytest
from tests.infra.conftest import Synth

from bulk_import.core.tenants import DEFAULT_RETENTION_DAYS

pytestmark = [pytest.mark.infra, pytest.mark.xdist_group("infra")]


def bucket_rules(synth: Synth) -> list[dict[str, Any]]:
    props = synth.resources[synth.logical_id(synth.stack.bucket)]["Properties"]
    return list(props["LifecycleConfiguration"]["Rules"])


def rule_for(synth: Synth, prefix: str) -> dict[str, Any]:
    matching = [r for r in bucket_rules(synth) if r.get("Prefix") == prefix and r["Status"] == "Enabled"]
    assert len(matching) == 1, f"{len(matching)} enabled lifecycle rules for {prefix}"
    return matching[0]


def test_lifecycle_result_files_expire_with_the_default_retention_of_rows(synth: Synth) -> None:
    assert rule_for(synth, "results/")["ExpirationInDays"] == DEFAULT_RETENTION_DAYS == 30


@pytest.mark.parametrize("prefix", ["payloads/", "chunks/"])
def test_lifecycle_payloads_and_chunks_expire_before_the_rows_they_produced(
    synth: Synth, prefix: str
) -> None:
    assert rule_for(synth, prefix)["ExpirationInDays"] < DEFAULT_RETENTION_DAYS


@pytest.mark.parametrize("prefix", ["payloads/", "chunks/", "results/"])
def test_lifecycle_expired_versions_are_removed_the_next_day(synth: Synth, prefix: str) -> None:
    # The bucket is versioned: an expiry alone would only hide the data behind a delete marker.
    assert rule_for(synth, prefix)["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}
