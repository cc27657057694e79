"""Upload options as clients mix them: an option under both of its names must agree with itself.

``POST /v1/imports/uploads`` takes each option by its body name (``timeline_id``) or its metadata name
(``timeline-id``). A client that sends both with two values (a template's default left next to its own
value) used to get the metadata one, silently: the file was imported against another timeline.
"""

from __future__ import annotations

from typing import Any

import pytest

from bulk_import.core.errors import InvalidRequestError
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.options import merge_body_options, upload_options
from bulk_import.kinds import get_kind


@pytest.mark.parametrize(
    ("kind", "options", "named"),
    [
        ("debts", {"timeline_id": "tl-gentle", "timeline-id": "tl-standard"}, "timeline_id"),
        ("debts", {"batch_name": "juillet", "batch-name": "août"}, "batch_name"),
        (
            "campaign-customers",
            {"campaignId": "c", "initiateCall": False, "initiate-call": "yes"},
            "initiateCall",
        ),
        ("campaign-customers", {"callConfig": {"agentId": "ag-1"}, "agent-id": "ag-2"}, "callConfig.agentId"),
    ],
)
def test_an_option_sent_under_both_names_with_two_values_is_refused(
    kind: str, options: dict[str, Any], named: str
) -> None:
    with pytest.raises(InvalidRequestError) as refused:
        upload_options(get_kind(kind), options)
    assert refused.value.status == 400
    assert str(refused.value.message).startswith(f"options.{named}: given twice with different values")


def test_an_option_sent_under_both_names_with_one_value_is_that_value() -> None:
    options = {"timeline_id": "tl-gentle", "timeline-id": "tl-gentle", "accept-expensive-destination": "oui"}
    assert upload_options(get_kind("debts"), options) == {
        "timeline_id": "tl-gentle",
        "accept_expensive_destination": True,
    }


def test_call_options_complete_each_other_under_either_name() -> None:
    options = {"campaignId": "camp-loans", "callConfig": {"agentId": "ag-1"}, "disposition-id": "dp-1"}
    assert upload_options(get_kind("campaign-customers"), options)["callConfig"] == {
        "agentId": "ag-1",
        "dispositionId": "dp-1",
    }


def test_a_json_body_and_the_upload_naming_two_campaigns_fail_the_file() -> None:
    body = {"campaignId": "camp-leads"}
    with pytest.raises(FileFormatError) as failed:
        merge_body_options(get_kind("campaign-customers"), body, {"campaignId": "camp-loans"})
    assert failed.value.message.startswith("the file's campaignId ('camp-leads') and the import's option")


def test_a_json_body_and_the_upload_options_complete_each_other() -> None:
    body = {"campaignId": "camp-loans", "callConfig": {"agentId": "ag-1"}}
    given = {"campaignId": "camp-loans", "initiateCall": True, "callConfig": {"dispositionId": "dp-1"}}
    assert merge_body_options(get_kind("campaign-customers"), body, given) == {
        "campaignId": "camp-loans",
        "initiateCall": True,
        "callConfig": {"agentId": "ag-1", "dispositionId": "dp-1"},
    }
