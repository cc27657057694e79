"""Destination pricing of debt phone numbers: credits per call and expensive destinations.

Every phone of a debt is priced by its destination, the ISO 3166-1 region of the normalized number
(``bulk_import.rules.phones.normalize_french_phone``). A destination priced at
:data:`EXPENSIVE_MULTIPLIER` times mainland France or more is *expensive*: the debt is refused unless the
caller accepted expensive destinations. A destination that has no price is unsupported.

Tenant price table format
-------------------------
``TenantConfig.price_table`` (``priceTable`` in a seed file) maps a destination to its credits per call::

    {"FR": 25, "EU": 30, "DOM-TOM": 100, "MAGHREB": 125, "DE": 28, "CH": 40}

- A key is an ISO 3166-1 alpha-2 region code (``"FR"``, ``"GP"``, ``"MA"``…, any case) or one of the
  group names of :data:`GROUPS`: ``"EU"`` (the 26 EU member states other than France), ``"DOM-TOM"``
  (the French overseas departments and collectivities) and ``"MAGHREB"`` (Morocco, Algeria, Tunisia).
  A region's own entry beats the entry of its group (``"DE": 28`` above).
- A value is a whole number of credits greater than 0 (an int, a whole Decimal as DynamoDB returns it, or
  its text).
- ``"FR"`` is mainland France, the base of the expensive threshold. A table without ``"FR"`` makes mainland
  France unsupported and keeps the default mainland price (25) as the threshold base.
- A tenant's table replaces the default table as a whole: destinations it does not list are unsupported.
- Without a tenant table, :data:`DEFAULT_PRICE_TABLE` applies: mainland France 25, other EU countries 30,
  DOM-TOM 100, Maghreb 125.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from bulk_import.rules.errors import RuleError
from bulk_import.rules.phones import PhoneResult

#: Mainland France: the region every multiplier is relative to.
MAINLAND = "FR"
#: A destination costing this many times mainland France or more is expensive.
EXPENSIVE_MULTIPLIER = Decimal(4)

#: The EU member states other than France (EU-27 since 2020).
EU_OTHER_THAN_FRANCE: frozenset[str] = frozenset(
    "AT BE BG CY CZ DE DK EE ES FI GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK".split()  # noqa: SIM905
)
#: French overseas departments and collectivities: Guadeloupe, Martinique, French Guiana, Réunion,
#: Mayotte, Saint-Pierre-and-Miquelon, Saint-Barthélemy, Saint-Martin, New Caledonia, French Polynesia,
#: Wallis-and-Futuna.
DOM_TOM: frozenset[str] = frozenset("GP MQ GF RE YT PM BL MF NC PF WF".split())  # noqa: SIM905
#: Morocco, Algeria, Tunisia.
MAGHREB: frozenset[str] = frozenset({"MA", "DZ", "TN"})
#: Group names a price table may use instead of listing every region.
GROUPS: dict[str, frozenset[str]] = {"EU": EU_OTHER_THAN_FRANCE, "DOM-TOM": DOM_TOM, "MAGHREB": MAGHREB}

#: The table used when a tenant has none, in the tenant format.
DEFAULT_PRICE_TABLE: dict[str, int] = {MAINLAND: 25, "EU": 30, "DOM-TOM": 100, "MAGHREB": 125}


@dataclass(frozen=True, slots=True)
class PricedPhone:
    """A normalized phone number with its destination and what a call to it costs.

    Attributes
    ----------
    e164
        The number in E.164 (``"+590690123456"``).
    region
        ISO 3166-1 alpha-2 code of the destination (``"GP"``).
    credits
        Credits per call to that destination.
    expensive
        True when the destination is expensive (and was accepted, or the number would have been refused).
    """

    e164: str
    region: str
    credits: int
    expensive: bool = False


@dataclass(frozen=True)
class PriceTable:
    """Credits per call by destination region, with the expensive threshold.

    Build it with :meth:`from_config`; ``prices`` holds one entry per region, groups already expanded.
    """

    prices: Mapping[str, int]
    mainland: int = DEFAULT_PRICE_TABLE[MAINLAND]

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> PriceTable:
        """Expand a price table written in the tenant format (see the module notes).

        Parameters
        ----------
        config
            The tenant's table, or None for :data:`DEFAULT_PRICE_TABLE`.

        Returns
        -------
        PriceTable
            The table with one price per region.

        Raises
        ------
        ValueError
            A key that is neither a 2-letter region code nor a group name, or a price that is not a whole
            number greater than 0: a configuration error of the tenant, not of the request.
        """
        if config is None:
            return _default_table()
        parsed = {_table_key(k): _credits(k, v) for k, v in config.items()}
        prices: dict[str, int] = {}
        # Groups first, so that a region's own entry overrides its group's whatever the mapping order.
        for name, credits in parsed.items():
            for region in GROUPS.get(name, ()):
                prices[region] = credits
        for name, credits in parsed.items():
            if name not in GROUPS:
                prices[name] = credits
        mainland = prices.get(MAINLAND, DEFAULT_PRICE_TABLE[MAINLAND])
        return cls(prices=prices, mainland=mainland)

    def credits_for(self, region: str) -> int | None:
        """Credits per call to ``region``, or None when it is not in the table (unsupported)."""
        return self.prices.get(region)

    def multiplier(self, credits: int) -> Decimal:
        """The price relative to mainland France (``Decimal("4")`` for 100 credits against 25)."""
        return Decimal(credits) / Decimal(self.mainland)

    def is_expensive(self, credits: int) -> bool:
        """True when ``credits`` is at least :data:`EXPENSIVE_MULTIPLIER` times the mainland price."""
        return self.multiplier(credits) >= EXPENSIVE_MULTIPLIER


@lru_cache(maxsize=1)
def _default_table() -> PriceTable:
    return PriceTable.from_config(DEFAULT_PRICE_TABLE)


def _table_key(raw: object) -> str:
    name = str(raw).strip().upper()
    if name in GROUPS or (len(name) == 2 and name.isascii() and name.isalpha()):
        return name
    raise ValueError(
        f"price table: {raw!r} is neither a 2-letter region code nor one of the groups {', '.join(GROUPS)}"
    )


def _credits(key: object, raw: object) -> int:
    try:
        value = Decimal(str(raw).strip()) if not isinstance(raw, bool) else Decimal("NaN")
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or value != value.to_integral_value():
        raise ValueError(
            f"price table: the price of {key} must be a whole number of credits > 0, not {raw!r}"
        )
    return int(value)


def destination_name(region: str) -> str:
    """A readable name for a destination: ``"Morocco (MA)"``, or the bare code when no name is known."""
    if region == "001":
        # phonenumbers' pseudo-region of non-geographic numbers (+800, +882…).
        return "a non-geographic international number"
    # The locale data of phonenumbers names every region; loaded only when a message needs it.
    from phonenumbers.geodata.locale import LOCALE_DATA

    names = LOCALE_DATA.get(region, {})
    name = names.get("en")
    # Entries point to another language's spelling with "*xx" (English usually to "aa").
    for _ in range(3):
        if not name or not name.startswith("*"):
            break
        name = names.get(name[1:])
    return f"{name} ({region})" if name else region


def price_phone(phone: PhoneResult, table: PriceTable, *, accept_expensive: bool) -> PricedPhone:
    """Price a normalized phone number and apply the expensive-destination rule.

    Parameters
    ----------
    phone
        The E.164 number and its region.
    table
        The tenant's price table.
    accept_expensive
        Whether the caller accepted expensive destinations for this debt.

    Returns
    -------
    PricedPhone
        The number, its destination and its credits per call.

    Raises
    ------
    RuleError
        ``"calls to Country (XX) are not supported (not in your price table)"`` for a destination without a
        price, and ``"Country (XX) is an expensive destination: N credits per call, M.Mx mainland France; set
        accept_expensive_destination to true to accept it"`` when it is expensive and was not accepted.
    """
    credits = table.credits_for(phone.region)
    if credits is None:
        raise RuleError(
            f"calls to {destination_name(phone.region)} are not supported (not in your price table)"
        )
    expensive = table.is_expensive(credits)
    if expensive and not accept_expensive:
        ratio = table.multiplier(credits).quantize(Decimal("0.1"))
        raise RuleError(
            f"{destination_name(phone.region)} is an expensive destination: {credits} credits per call, "
            f"{ratio}x mainland France; set accept_expensive_destination to true to accept it"
        )
    return PricedPhone(e164=phone.e164, region=phone.region, credits=credits, expensive=expensive)
