"""Campaign names as people type them: blank, or only invisible characters, is no name.

``{"name": " "}`` passed the body's ``min_length`` and became a campaign named ``""``: strings are
trimmed and an empty string counts as missing everywhere else, so the name is required here too. A
campaign id or call option copied with a zero-width space around it names what it shows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tests.fakes import ACME, acme_config, make_deps

from bulk_import.core.errors import InvalidRequestError
from bulk_import.kinds import get_kind
from bulk_import.usecases.campaigns import create_campaign, list_campaigns


@pytest.mark.parametrize("name", [" ", "\t\n", "\u200b", "\ufeff \u200b"])
def test_a_blank_campaign_name_is_refused_and_nothing_is_created(name: str) -> None:
    deps = make_deps()
    before = list_campaigns(deps, ACME)
    with pytest.raises(InvalidRequestError) as refused:
        create_campaign(deps, ACME, name, "leads", None)
    assert refused.value.message.startswith("name: is required")
    assert list_campaigns(deps, ACME) == before


def test_a_campaign_name_is_stored_trimmed_of_invisible_characters() -> None:
    deps = make_deps()
    campaign = create_campaign(deps, ACME, "\ufeff Relances été \u200b", "leads", "camp-ete")
    assert campaign.name == "Relances été"


def test_a_campaign_id_and_call_options_pasted_with_invisible_characters_name_the_same_campaign() -> None:
    kind = get_kind("campaign-customers")
    request = {
        "campaignId": "\ufeff camp-loans\u200b",
        "initiateCall": True,
        "callConfig": {"agentId": " ag-1\u200b", "dispositionId": "\u200bdp-1"},
    }
    options = kind.options(request, acme_config(), datetime(2026, 12, 1, tzinfo=UTC))
    assert options.campaign.id == "camp-loans"
    assert options.call_config == {"agentId": "ag-1", "dispositionId": "dp-1"}
