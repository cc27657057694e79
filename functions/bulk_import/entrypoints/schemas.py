"""Request envelopes of the HTTP API: they define the OpenAPI document and reject malformed requests.

Rows are kept as plain objects here and validated one by one by their kind, so one bad row fails
that row only; the envelope itself (unknown fields, wrong types, counts) fails the whole request.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CallConfig(_Strict):
    """Who places the calls and how they are dispositioned."""

    agentId: str = Field(min_length=1)  # noqa: N815 - the seed API's field names
    dispositionId: str = Field(min_length=1)  # noqa: N815


class CampaignCustomersRequest(_Strict):
    """Body of ``POST /api/v1/customers/add/bulk``."""

    campaignId: str = Field(min_length=1, description="Target campaign; it must exist.")  # noqa: N815
    records: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=10_000,
        description="Customers; required fields depend on the campaign's service type "
        "(collections: loan_id, first_name, phone_number, loan_amount, emi_amount, emi_due_date; "
        "leads: lead_id, first_name, phone_number, lead_date).",
    )
    initiateCall: bool = False  # noqa: N815
    callConfig: CallConfig | None = None  # noqa: N815


class CampaignCreateRequest(_Strict):
    """Body of ``POST /api/v1/campaigns``."""

    name: str = Field(min_length=1)
    serviceType: Literal["collections", "leads"]  # noqa: N815
    id: str | None = Field(default=None, description="Optional id; assigned when missing.")
