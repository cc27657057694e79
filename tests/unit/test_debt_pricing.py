"""Destination price tables: the default table, the tenant format, the expensive threshold."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bulk_import.kinds.debt_pricing import (
    DOM_TOM,
    EU_OTHER_THAN_FRANCE,
    PriceTable,
    destination_name,
    price_phone,
)
from bulk_import.rules.errors import RuleError
from bulk_import.rules.phones import PhoneResult

DEFAULT = PriceTable.from_config(None)


def test_the_eu_group_is_the_26_member_states_other_than_france() -> None:
    assert len(EU_OTHER_THAN_FRANCE) == 26
    assert "FR" not in EU_OTHER_THAN_FRANCE
    assert {"DE", "IE", "CY", "HR", "MT"} <= EU_OTHER_THAN_FRANCE
    assert not {"GB", "CH", "NO", "MC"} & EU_OTHER_THAN_FRANCE


@pytest.mark.parametrize(
    ("region", "credits", "expensive"),
    [
        ("FR", 25, False),
        ("DE", 30, False),
        ("ES", 30, False),
        ("BG", 30, False),
        *[(r, 100, True) for r in sorted(DOM_TOM)],
        ("MA", 125, True),
        ("DZ", 125, True),
        ("TN", 125, True),
        ("US", None, None),
        ("GB", None, None),
        ("CH", None, None),
    ],
)
def test_default_prices(region: str, credits: int | None, expensive: bool | None) -> None:
    assert DEFAULT.credits_for(region) == credits
    if credits is not None:
        assert DEFAULT.is_expensive(credits) is expensive


def test_a_regions_own_entry_beats_its_group_whatever_the_order() -> None:
    table = PriceTable.from_config({"de": 28, "EU": 30, "dom-tom": "90", "FR": Decimal(20)})
    assert table.credits_for("DE") == 28
    assert table.credits_for("IT") == 30
    assert table.credits_for("RE") == 90
    assert table.mainland == 20
    assert table.credits_for("MA") is None


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"FRANCE": 25}, "neither a 2-letter region code nor one of the groups"),
        ({"FR": 0}, "the price of FR must be a whole number of credits > 0"),
        ({"FR": "25.5"}, "the price of FR must be a whole number"),
        ({"FR": "cheap"}, "the price of FR must be a whole number"),
        ({"FR": True}, "the price of FR must be a whole number"),
    ],
)
def test_a_malformed_tenant_table_is_a_configuration_error(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        PriceTable.from_config(config)


def test_without_fr_mainland_is_unsupported_and_the_default_base_stays() -> None:
    table = PriceTable.from_config({"MA": 99, "GP": 100})
    assert table.credits_for("FR") is None
    assert table.is_expensive(100) and not table.is_expensive(99)


@pytest.mark.parametrize(
    ("region", "name"),
    [
        ("MA", "Morocco (MA)"),
        ("GP", "Guadeloupe (GP)"),
        ("RE", "Reunion (RE)"),
        ("001", "a non-geographic international number"),
    ],
)
def test_destinations_are_named_in_messages(region: str, name: str) -> None:
    assert destination_name(region) == name


def test_price_phone_accepts_an_expensive_destination_only_when_told() -> None:
    phone = PhoneResult("+212612345678", "MA")
    with pytest.raises(
        RuleError, match=r"Morocco \(MA\) is an expensive destination: 125 credits per call, 5.0x"
    ):
        price_phone(phone, DEFAULT, accept_expensive=False)
    priced = price_phone(phone, DEFAULT, accept_expensive=True)
    assert (priced.e164, priced.region, priced.credits, priced.expensive) == (
        "+212612345678",
        "MA",
        125,
        True,
    )
