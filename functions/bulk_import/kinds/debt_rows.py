"""The debt row: its fields, the rule of each, its model, and the body of the batch route.

This module owns what one debt must look like (``DebtRow``: names, amount, currency, a phone priced
by destination or an email, the per-row options) and ``DebtsRequest``, the envelope of
``POST /external-api/v1/debts/batch``. The kind (``debts``) resolves the batch options, keys the
debts and answers the batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from bulk_import.kinds.debt_pricing import PricedPhone, PriceTable, price_phone
from bulk_import.kinds.envelope import Envelope, Rows
from bulk_import.kinds.fields import Email, Flag, PositiveAmount, Reference, Text
from bulk_import.kinds.row_limits import shown_name
from bulk_import.rules.currencies import normalize_currency
from bulk_import.rules.errors import RuleError
from bulk_import.rules.phones import PhoneResult, normalize_french_phone
from bulk_import.rules.strings import clean, is_blank

#: Fields every debt needs (phone or email is checked on its own).
REQUIRED_FIELDS: tuple[str, ...] = ("firstname", "lastname", "amount", "currency")
#: ``immediate`` starts the timeline today, ``next_day`` on the next French business day.
START_MODES: tuple[str, ...] = ("immediate", "next_day")
DEFAULT_START_MODE = "immediate"
MAX_DEBTS = 1000


def parse_start_mode(value: Any) -> str | None:
    text = clean(value)
    if text is None:
        return None
    mode = text.lower()
    if mode not in START_MODES:
        raise RuleError(f"must be immediate or next_day, not {text[:30]}")
    return mode


def _currency(value: Any) -> str | None:
    return None if is_blank(value) else normalize_currency(value)


#: ``immediate`` or ``next_day`` (any case).
StartMode = Annotated[Literal["immediate", "next_day"] | None, BeforeValidator(parse_start_mode)]
#: An ISO 4217 currency code, stored upper-case.
Currency = Annotated[str | None, BeforeValidator(_currency)]


class DebtRow(BaseModel):
    """One debt of ``POST /external-api/v1/debts/batch``.

    Fields are validated in the order declared: ``accept_expensive_destination`` comes before ``phone``,
    whose pricing needs it. The validation context gives the tenant, its price table and the batch-level
    ``accept_expensive_destination``.
    """

    model_config = ConfigDict(extra="forbid")

    temp_id: Reference = None
    internal_id: Reference = None
    firstname: Text = None
    lastname: Text = None
    amount: PositiveAmount = None
    currency: Currency = None
    email: Email = None
    accept_expensive_destination: Flag = None
    timeline_id: Reference = None
    timeline_start_mode: StartMode = None
    phone: PricedPhone | None = None

    @field_validator("timeline_id", mode="after")
    @classmethod
    def _known_timeline(cls, value: str | None, info: ValidationInfo) -> str | None:
        tenant = (info.context or {}).get("tenant")
        if value is not None and tenant is not None and value not in tenant.timelines:
            raise RuleError(unknown_timeline(value, tenant.timelines))
        return value

    @field_validator("phone", mode="before")
    @classmethod
    def _priced_phone(cls, value: Any, info: ValidationInfo) -> PricedPhone | None:
        if is_blank(value):
            return None
        ctx = info.context or {}
        accept = info.data.get("accept_expensive_destination")
        if accept is None:
            # The debt did not say (or said something invalid, which fails the debt anyway): batch level.
            accept = bool(ctx.get("accept_expensive", False))
        table = ctx.get("prices") or PriceTable.from_config(None)
        return price_phone(_french_phone(value, ctx.get("phones")), table, accept_expensive=accept)


def _french_phone(value: Any, memo: dict[str, PhoneResult | str] | None) -> PhoneResult:
    """``normalize_french_phone``, worked out once per batch for each distinct text (``memo``)."""
    if memo is None or type(value) is not str:
        return normalize_french_phone(value)
    known = memo.get(value)
    if known is None:
        try:
            known = normalize_french_phone(value)
        except RuleError as exc:
            known = str(exc)
        memo[value] = known
    if type(known) is str:
        raise RuleError(known)
    return known  # type: ignore[return-value]


class DebtsRequest(Envelope):
    """Body of ``POST /external-api/v1/debts/batch``."""

    debts: Rows = Field(
        min_length=1,
        max_length=MAX_DEBTS,
        description="Debts: firstname, lastname, amount (> 0), currency (ISO 4217) and a phone or an email "
        "are required; temp_id, internal_id, accept_expensive_destination, timeline_id and "
        "timeline_start_mode are optional and beat the batch's. Row schema: DebtRow.",
    )
    batch_name: str | None = Field(default=None, max_length=200, description="A name for this batch.")
    accept_expensive_destination: bool = Field(
        default=False,
        description="Accept phones whose destination costs 4x mainland France or more (DOM-TOM, Maghreb).",
    )
    timeline_id: str | None = Field(default=None, description="Timeline of every debt; it must exist.")
    timeline_start_mode: Literal["immediate", "next_day"] | None = Field(
        default=None,
        description="immediate: today in your timezone (default); next_day: the next French business day.",
    )


def unknown_timeline(timeline_id: str, timelines: Mapping[str, Any]) -> str:
    """Message for a timeline the tenant does not have, listing the ones it has."""
    known = sorted(timelines)
    sent = shown_name(timeline_id)
    if not known:
        return f"unknown timeline {sent} (your account has no timelines)"
    shown = ", ".join(known[:20]) + (", …" if len(known) > 20 else "")
    return f"unknown timeline {sent} (known timelines: {shown})"
