"""Request bodies of the HTTP API routes that are not import kinds (kinds declare their own)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CampaignCreateRequest(_Strict):
    """Body of ``POST /api/v1/campaigns``."""

    name: str = Field(min_length=1)
    serviceType: Literal["collections", "leads"]  # noqa: N815
    id: str | None = Field(default=None, description="Optional id; assigned when missing.")
