"""The payment item: its fields, the rule of each, its nested models, and the body of the import route.

This module owns what one payment instruction must look like (``PaymentItem`` and its parts), the
messages of its rules, and ``PaymentsImportRequest``, the envelope of ``POST /payments/payments/import``.
The kind (``payments``) runs these rules, assigns ids and answers the job view.
"""

from __future__ import annotations

import re
from datetime import UTC
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonDict

from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.envelope import Envelope, Rows
from bulk_import.kinds.fields import Reference, Text, reference
from bulk_import.kinds.row_limits import shown_name
from bulk_import.rules.currencies import normalize_currency
from bulk_import.rules.dates import parse_iso_datetime
from bulk_import.rules.errors import RuleError
from bulk_import.rules.limits import number_problem
from bulk_import.rules.money import MSG_NEGATIVE, parse_amount
from bulk_import.rules.strings import clean, is_blank

#: Significant decimal places of ``amount.amount`` (seed: "up to 3 decimal points").
AMOUNT_PLACES = 3
#: Prefix and hex length of the ids assigned to items sent without one.
ASSIGNED_ID_PREFIX = "pay_"
ASSIGNED_ID_HEX = 20
#: The only status of a stored payment that an import may overwrite (seed: "will update the pending payment").
UPDATABLE_STATUS = "PENDING"

_PURPOSE = re.compile(r"[A-Z]{4}", re.ASCII)
MSG_PURPOSE = "must be 4 capital letters A-Z, e.g. SALA"
MSG_URL = "must be an http or https URL, e.g. https://files.example.com/invoice.pdf"
MSG_HOURS = "must be a whole number of hours, e.g. 24"


# -- field rules -----------------------------------------------------------------------------------
def _required_text(value: Any) -> str:
    if isinstance(value, (dict, list, bool)):
        raise RuleError("must be text")
    text = clean(value)
    if text is None:
        raise RuleError("is required")
    return text


def _choice(*allowed: str) -> Any:
    """A rule accepting one of ``allowed`` in any case and returning its canonical spelling."""
    by_upper = {a.upper(): a for a in allowed}
    listed = " or ".join(allowed)

    def run(value: Any) -> str | None:
        if isinstance(value, (dict, list, bool)):
            raise RuleError(f"must be {listed}")
        text = clean(value)
        if text is None:
            return None
        canonical = by_upper.get(text.upper())
        if canonical is None:
            raise RuleError(f"must be {listed}, not {text[:20]}")
        return canonical

    return run


def _required(rule: Any) -> Any:
    """Run ``rule``, refusing a blank value or one the rule turns into None ("is required")."""

    def run(value: Any) -> Any:
        if is_blank(value):
            raise RuleError("is required")
        result = rule(value)
        if result is None:
            raise RuleError("is required")
        return result

    return run


def _optional(rule: Any) -> Any:
    def run(value: Any) -> Any:
        return None if is_blank(value) else rule(value)

    return run


def _payment_amount(value: Any) -> Decimal:
    # The bounds of every kind's amounts (at most 999,999,999,999.999), plus the seed's 3 places.
    return parse_amount(value, allow_zero=False, max_places=AMOUNT_PLACES)


def _currency(value: Any) -> str:
    # The seed's contract spells codes in capitals (^[A-Z]{3}$): "usd" is refused, not corrected.
    return normalize_currency(value, strict=True)


def _required_reference(value: Any) -> str:
    text = reference(value)
    if text is None:
        raise RuleError("is required")
    return text


def _hours(value: Any) -> int:
    if isinstance(value, bool):
        raise RuleError(MSG_HOURS)
    try:
        hours = parse_amount(value)
    except RuleError as exc:
        if str(exc) == MSG_NEGATIVE:
            raise RuleError("must be 0 hours or more") from None
        raise RuleError(MSG_HOURS) from None
    if hours != hours.to_integral_value():
        raise RuleError(MSG_HOURS)
    return int(hours)


def _purpose(value: Any) -> str:
    text = _required_text(value)
    if not _PURPOSE.fullmatch(text):
        raise RuleError(MSG_PURPOSE)
    return text


def _url(value: Any) -> str:
    text = _required_text(value)
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:  # "http://[::1" and other unparsable netlocs
        raise RuleError(MSG_URL) from None
    if parts.scheme.lower() not in ("http", "https") or not host or any(c.isspace() for c in text):
        raise RuleError(MSG_URL)
    return text


def _utc_iso(value: Any, info: ValidationInfo) -> str:
    """An ISO 8601 date-time as a UTC string; a time without offset is read in the tenant's timezone."""
    moment = parse_iso_datetime(value)
    if moment.tzinfo is None:
        zone = (info.context or {}).get("zone") or UTC
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _tenant(info: ValidationInfo) -> TenantConfig | None:
    # ``PaymentsKind.validate`` always passes the tenant; without one (the model used on its own, for
    # its schema) the account-dependent checks cannot apply rather than guess.
    tenant = (info.context or {}).get("tenant")
    return tenant if isinstance(tenant, TenantConfig) else None


RequiredText = Annotated[str, BeforeValidator(_required_text)]
AmountType = Annotated[str, BeforeValidator(_required(_choice("LAND", "SEND")))]
ExecutionType = Annotated[str | None, BeforeValidator(_choice("SEND", "LAND"))]
PaymentAmount = Annotated[Decimal, BeforeValidator(_required(_payment_amount))]
Currency = Annotated[str | None, BeforeValidator(_optional(_currency))]
Hours = Annotated[int | None, BeforeValidator(_optional(_hours))]
Purpose = Annotated[str | None, BeforeValidator(_optional(_purpose))]
Url = Annotated[str, BeforeValidator(_url)]
PaymentId = Annotated[str | None, BeforeValidator(reference)]
ReferenceId = Annotated[str, BeforeValidator(_required_reference)]
_DATE_TIME_SCHEMA: JsonDict = {"format": "date-time", "examples": ["2026-12-01T09:00:00Z"]}


# -- row model -------------------------------------------------------------------------------------
class Source(BaseModel):
    """Where the money comes from: one of the tenant's payment source groups."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str | None, BeforeValidator(_choice("group"))] = Field(
        default="group", description="Type of source; must be group."
    )
    id: ReferenceId = Field(description="A payment source (group) of the account.")

    @field_validator("type", mode="after")
    @classmethod
    def _default_type(cls, value: str | None) -> str:
        return value or "group"

    @field_validator("id", mode="after")
    @classmethod
    def _known_source(cls, value: str, info: ValidationInfo) -> str:
        tenant = _tenant(info)
        if tenant is not None and value not in tenant.payment_sources:
            names = sorted(tenant.payment_sources)
            known = ", ".join(names[:5]) + (", …" if len(names) > 5 else "") if names else "none configured"
            raise RuleError(f"unknown payment source {shown_name(value)} (known: {known})")
        return value


class Target(BaseModel):
    """Who receives the money: one of the tenant's contacts, authorized to receive payments."""

    model_config = ConfigDict(extra="forbid")

    type: Annotated[str | None, BeforeValidator(_choice("contact"))] = Field(
        default="contact", description="Type of target; must be contact."
    )
    id: ReferenceId = Field(description="The beneficiary: a contact of the account that is authorized.")

    @field_validator("type", mode="after")
    @classmethod
    def _default_type(cls, value: str | None) -> str:
        return value or "contact"

    @field_validator("id", mode="after")
    @classmethod
    def _authorized_contact(cls, value: str, info: ValidationInfo) -> str:
        tenant = _tenant(info)
        if tenant is None:
            return value
        contact = tenant.contacts.get(value)
        if contact is None:
            raise RuleError(f"unknown contact {shown_name(value)}")
        # Only an explicit true authorizes: a contact whose flag is missing has not been approved.
        if contact.get("authorized") is not True:
            raise RuleError(f"contact {shown_name(value)} is not authorized to receive payments")
        return value


class PaymentAmountSpec(BaseModel):
    """How much, in which currency, and whether it is the amount sent or the amount landed."""

    model_config = ConfigDict(extra="forbid")

    type: AmountType = Field(description="LAND: the amount credited; SEND: the amount debited.")
    amount: PaymentAmount = Field(description="Greater than 0, at most 3 decimal places.")
    currency: Currency = Field(default=None, description="ISO 4217 code, when it differs from the default.")


class Execution(BaseModel):
    """When the payment is sent (SEND) or must arrive (LAND)."""

    model_config = ConfigDict(extra="forbid")

    type: ExecutionType = Field(default=None, description="SEND or LAND; defaults to amount.type.")
    date: str = Field(
        description="ISO 8601 date-time; without an offset it is read in the account's timezone.",
        json_schema_extra=_DATE_TIME_SCHEMA,
    )
    margin: Hours = Field(default=None, description="Hours before the date the payment may be sent early.")

    @field_validator("date", mode="before")
    @classmethod
    def _date(cls, value: Any, info: ValidationInfo) -> str:
        if is_blank(value):
            raise RuleError("is required")
        return _utc_iso(value, info)


class Final(BaseModel):
    """Whether the amount is final, and when the final amount is expected if not."""

    model_config = ConfigDict(extra="forbid")

    is_final: bool | None = None
    expected: str | None = Field(default=None, json_schema_extra=_DATE_TIME_SCHEMA)

    @field_validator("expected", mode="before")
    @classmethod
    def _expected(cls, value: Any, info: ValidationInfo) -> str | None:
        return None if is_blank(value) else _utc_iso(value, info)


def _tag_value(value: Any) -> Any:
    # Tags are text; a number storage could not hold either is told the limit it breaks, as numbers
    # are everywhere else, rather than only that it is not text.
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        problem = number_problem(value)
        if problem is not None:
            raise RuleError(problem)
    return value


TagValue = Annotated[StrictStr, BeforeValidator(_tag_value)]


class Attachment(BaseModel):
    """A file attached to the payment, by link."""

    model_config = ConfigDict(extra="forbid")

    id: Reference = None
    title: Text = None
    url: Url = Field(description="http or https link to the file.")


class PaymentItem(BaseModel):
    """One item of ``POST /payments/payments/import``.

    ``source``, ``target``, ``amount`` and ``execution`` are required (enforced by the kind, so a missing
    one reads "is required" whether it is absent, null or empty).
    """

    model_config = ConfigDict(extra="forbid")

    id: PaymentId = Field(
        default=None,
        description="Your id for the payment; assigned when missing. An existing id updates "
        "that payment while it is pending.",
    )
    description: Text = None
    signature: Text = None
    purpose: Purpose = Field(default=None, description="Four capital letters, e.g. SALA.")
    source: Source | None = None
    target: Target | None = None
    approved: bool | None = Field(default=None, description="True when the payment is ready to be executed.")
    amount: PaymentAmountSpec | None = None
    execution: Execution | None = None
    final: Final | None = None
    attachments: list[Attachment] | None = None
    user_tags: dict[str, TagValue] | None = Field(default=None, description="Key/value tags, text only.")

    @model_validator(mode="after")
    def _execution_type_defaults_to_amount_type(self) -> PaymentItem:
        if self.execution is not None and self.amount is not None and self.execution.type is None:
            self.execution.type = self.amount.type
        return self


REQUIRED_FIELDS = ("source", "target", "amount", "execution")


class PaymentsImportRequest(Envelope):
    """Body of ``POST /payments/payments/import``."""

    items: Rows = Field(
        min_length=1,
        max_length=10_000,
        description="Payment instructions (1 to 10,000). Row schema: PaymentItem; each item is checked "
        "on its own and reported in the job's progress.",
    )
