"""Request bodies of the HTTP API routes that are not import kinds (kinds declare their own).

Apart from the answer models (``schemas``): a request validates its body with these, and never needs
the models that only document what the routes answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bulk_import.core.model import WEBHOOK_EVENTS
from bulk_import.kinds import REGISTRY
from bulk_import.kinds.envelope import Envelope, IdText, folded


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ImportAction(_Strict):
    """Body of ``POST /v1/imports/{importId}/cancel`` and ``/retry``: nothing to send (no body, or an
    empty object); a field is refused as on every route."""


class CampaignCreateRequest(Envelope):
    """Body of ``POST /api/v1/campaigns``."""

    # A name or an id written as a number (2026) is its text.
    name: IdText = Field(min_length=1)
    # "Collections" or " leads " name a service type as well as its own spelling does.
    serviceType: Annotated[Literal["collections", "leads"], folded("collections", "leads")]  # noqa: N815
    id: IdText | None = Field(default=None, description="Optional id; assigned when missing.")


class UploadRequest(Envelope):
    """Body of ``POST /v1/imports/uploads``."""

    # "Debts" or " debts " name a kind as well as its own spelling does.
    kind: Annotated[str, folded(*REGISTRY)] = Field(
        min_length=1,
        description="campaign-customers, debts, customers or payments.",
        examples=["debts"],
    )
    filename: str = Field(
        min_length=1,
        max_length=1000,
        description="The file's name; its extension gives the format (.csv, .xlsx, .json, .jsonl).",
        examples=["relances-juillet.csv"],
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="The import's options, as the kind's endpoint body names them (campaignId, "
        "initiateCall, callConfig; timeline_id, timeline_start_mode, accept_expensive_destination, "
        "batch_name) or as object metadata does (campaign-id, initiate-call, agent-id, disposition-id, "
        "timeline-id, timeline-start-mode, accept-expensive-destination).",
        examples=[{"timeline_id": "tl-standard"}],
    )
    dryRun: bool = Field(  # noqa: N815
        default=False,
        strict=True,
        description="true: the file is read and validated with the import's rules and tenant look-ups, "
        "nothing is stored and no call requested; the import ends DONE with dryRun true, its counts, "
        "summary.json and errors.csv.",
    )

    @model_validator(mode="after")
    def _dry_run_in_options(self) -> UploadRequest:
        # The use case reads the mark from the options too, so a route that passes only the options
        # still makes a dry run of a dry run's upload.
        if self.dryRun:
            self.options = {**self.options, "dryRun": True}
        return self


class WebhookRequest(_Strict):
    """``PUT /v1/webhooks``."""

    url: str = Field(
        description="Where deliveries are POSTed: https on a public address (the local stack also takes "
        "http on loopback).",
    )
    events: list[str] = Field(description=f"The events to deliver, among {', '.join(WEBHOOK_EVENTS)}.")
    secret: str | None = Field(
        default=None,
        description="A whsec_ signing secret (the base64 of 24 to 64 random bytes); generated when left out.",
    )
