"""Campaign customers: customers added in bulk to a calling campaign.

Required fields depend on the campaign's service type; a customer's key is (campaign, loan_id or
lead_id), so adding it again updates it (the row as sent replaces the stored customer).

With ``initiateCall`` (and its ``callConfig``) the import's workflow requests a call for every stored
customer of the import once all are stored, except those sent with ``doNotCall: true``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from bulk_import.core.errors import InvalidRequestError, NotFoundError
from bulk_import.core.model import CallRequest, RowOutcome, StoredRecord
from bulk_import.core.tenants import Campaign, TenantConfig
from bulk_import.kinds.base import ImportKind, ImportResult
from bulk_import.kinds.envelope import Envelope, IdText, Rows
from bulk_import.kinds.fields import Amount, Flag, FlexDate, Phone, PositiveInt, Reference, Text
from bulk_import.kinds.row_limits import reference_text
from bulk_import.kinds.row_plan import row_errors, warm_rows
from bulk_import.rules.strings import clean, is_blank

#: Required record fields per campaign service type.
REQUIRED_BY_SERVICE_TYPE: dict[str, tuple[str, ...]] = {
    "collections": ("loan_id", "first_name", "phone_number", "loan_amount", "emi_amount", "emi_due_date"),
    "leads": ("lead_id", "first_name", "phone_number", "lead_date"),
}
SERVICE_TYPES = tuple(REQUIRED_BY_SERVICE_TYPE)


class CampaignCustomerRow(BaseModel):
    """One record of ``POST /api/v1/customers/add/bulk``; required fields depend on the campaign."""

    model_config = ConfigDict(extra="forbid")

    loan_id: Reference = None
    first_name: Text = None
    last_name: Text = None
    phone_number: Phone = None
    loan_amount: Amount = None
    emi_amount: Amount = None
    loan_period: PositiveInt = None
    current_emi: Amount = None
    emi_due_date: FlexDate = None
    payment_status: Text = None
    language: Text = None
    lead_id: Reference = None
    lead_date: FlexDate = None
    #: Never request a call for this customer (``initiateCall`` skips it).
    doNotCall: Flag = None  # noqa: N815 - the API's own field name


class CallConfig(Envelope):
    """Who places the calls and how they are dispositioned."""

    agentId: IdText = Field(min_length=1)  # noqa: N815 - the seed API's field names
    dispositionId: IdText = Field(min_length=1)  # noqa: N815


class CampaignCustomersRequest(Envelope):
    """Body of ``POST /api/v1/customers/add/bulk``."""

    campaignId: IdText = Field(min_length=1, description="Target campaign; it must exist.")  # noqa: N815
    records: Rows = Field(
        min_length=1,
        max_length=10_000,
        description="Customers; required fields depend on the campaign's service type "
        "(collections: loan_id, first_name, phone_number, loan_amount, emi_amount, emi_due_date; "
        "leads: lead_id, first_name, phone_number, lead_date). Row schema: CampaignCustomerRow.",
    )
    initiateCall: bool = Field(  # noqa: N815
        default=False,
        description="Request a call for every added customer once all are stored, in batches of 500 "
        "(customers sent with doNotCall are skipped). The answer's callResults says what was started; "
        "GET /v1/imports/{importId} shows the calls as they are requested.",
    )
    callConfig: CallConfig | None = Field(  # noqa: N815
        default=None, description="Required when initiateCall is true."
    )


@dataclass(frozen=True)
class CampaignCustomersOptions:
    """Batch-level options of a campaign-customers import."""

    campaign: Campaign
    initiate_call: bool = False
    call_config: dict[str, str] | None = None
    #: Worked out once per request rather than once per row.
    key_field: str = "loan_id"
    required: tuple[str, ...] = ()
    context: dict[str, Any] = field(default_factory=dict)


class CampaignCustomersKind(ImportKind[CampaignCustomersOptions]):
    """The campaign-customers import kind."""

    name: ClassVar[str] = "campaign-customers"
    entity: ClassVar[str] = "customer"
    records_field: ClassVar[str] = "records"
    ref_fields: ClassVar[tuple[str, ...]] = ("loan_id", "lead_id")
    answer_row_lists: ClassVar[tuple[str, ...]] = ("results.errors",)
    max_records: ClassVar[int] = 10_000
    write_batch_size: ClassVar[int] = 1000
    route: ClassVar[str] = "/api/v1/customers/add/bulk"
    scope: ClassVar[str] = "customers:write"
    request_model: ClassVar[type[BaseModel]] = CampaignCustomersRequest
    row_model: ClassVar[type[BaseModel] | None] = CampaignCustomerRow
    file_options: ClassVar[dict[str, tuple[str, str]]] = {
        "campaign-id": ("campaignId", "text"),
        "initiate-call": ("initiateCall", "flag"),
        "agent-id": ("callConfig.agentId", "text"),
        "disposition-id": ("callConfig.dispositionId", "text"),
    }
    summary: ClassVar[str] = "Bulk add customers to a campaign (201 all added, 207 some, 400 none)"
    call_fields: ClassVar[tuple[str, ...] | None] = (
        "phone_number",
        "doNotCall",
        "campaign_id",
        "loan_id",
        "lead_id",
    )

    def options(
        self, request: Mapping[str, Any], tenant: TenantConfig, now: datetime
    ) -> CampaignCustomersOptions:
        """Check the campaign and the call options; see ``ImportKind.options``."""
        campaign_id = request.get("campaignId")
        if is_blank(campaign_id) or not isinstance(campaign_id, str):
            raise InvalidRequestError("campaignId: is required")
        campaign = tenant.campaigns.get(clean(campaign_id) or "")
        if campaign is None:
            raise NotFoundError(f"campaign {campaign_id} not found")
        initiate = bool(request.get("initiateCall") or False)
        call_config = request.get("callConfig")
        if initiate:
            if not isinstance(call_config, Mapping) or any(
                is_blank(call_config.get(k)) for k in ("agentId", "dispositionId")
            ):
                raise InvalidRequestError(
                    "callConfig: agentId and dispositionId are required when initiateCall is true"
                )
            call_config = {k: clean(call_config[k]) or "" for k in ("agentId", "dispositionId")}
        return CampaignCustomersOptions(
            campaign=campaign,
            initiate_call=initiate,
            call_config=call_config if initiate else None,
            key_field="lead_id" if campaign.service_type == "leads" else "loan_id",
            required=REQUIRED_BY_SERVICE_TYPE.get(campaign.service_type, ()),
            context={"region": tenant.default_phone_region},
        )

    def warm(self, rows: Sequence[Any], options: CampaignCustomersOptions) -> None:
        """Normalize the request's phone numbers in one pass first (see ``warm_rows``)."""
        warm_rows(CampaignCustomerRow, rows, options.context)

    def validate(
        self, raw: Any, index: int, options: CampaignCustomersOptions, tenant: TenantConfig
    ) -> RowOutcome:
        """Validate one customer against its campaign's required fields; see ``ImportKind.validate``."""
        record, errors = row_errors(
            CampaignCustomerRow, raw, context=options.context, required=options.required
        )
        refs = self.references(raw)
        if options.key_field in refs:
            # The campaign's key first: a leads row that also carries a loan_id is known by its lead_id.
            refs = {options.key_field: refs[options.key_field], **refs}
        return RowOutcome(index=index, raw=raw, record=record, errors=errors, refs=refs)

    def dedupe_key(self, raw: Any, options: CampaignCustomersOptions | None = None) -> str | None:
        """``loan_id`` or ``lead_id`` (the campaign's key field) as sent, trimmed: the record key to be."""
        if options is None or not (type(raw) is dict or isinstance(raw, Mapping)):
            return None
        return reference_text(raw.get(options.key_field))

    def key(self, record: Mapping[str, Any], options: CampaignCustomersOptions) -> str:
        """(campaign, loan_id or lead_id)."""
        return f"{options.campaign.id}#{record[options.key_field]}"

    def to_stored(
        self, record: Mapping[str, Any], key: str, options: CampaignCustomersOptions
    ) -> StoredRecord:
        """The customer with its campaign."""
        return StoredRecord(entity=self.entity, key=key, data={**record, "campaign_id": options.campaign.id})

    def call_config(self, options: CampaignCustomersOptions) -> dict[str, str] | None:
        """``callConfig`` when ``initiateCall`` is true; see ``ImportKind.call_config``."""
        return dict(options.call_config) if options.initiate_call and options.call_config else None

    def call_request(self, data: Mapping[str, Any], key: str) -> CallRequest | None:
        """A call to the customer's E.164 phone, unless ``doNotCall``; see ``ImportKind.call_request``."""
        phone = data.get("phone_number")
        if data.get("doNotCall") is True or not isinstance(phone, str) or not phone:
            return None
        campaign_id, _, _ = key.partition("#")
        reference = {name: str(data[name]) for name in self.ref_fields if data.get(name) is not None}
        return CallRequest(
            campaign_id=str(data.get("campaign_id") or campaign_id),
            customer_key=key,
            phone=phone,
            reference=reference,
        )

    def respond(self, result: ImportResult[CampaignCustomersOptions]) -> tuple[int, dict[str, Any]]:
        """The seed's response: 201 all added, 207 some, 400 none; plus ``importId``."""
        counts = result.job.counts
        errors = [entry for o in result.outcomes for entry in o.error_entries()]
        # The seed's shape counts every row not added as failed, a skipped (empty) one too: each has its
        # entry, so that ``failed`` is the number of rows ``errors`` names.
        errors += [
            {"index": o.index, "field": "row", "message": f"row: {o.skipped_reason}, nothing to add"}
            for o in result.outcomes
            if o.status == "skipped"
        ]
        errors.sort(key=lambda entry: entry["index"])
        body: dict[str, Any] = {
            "success": counts.succeeded == counts.total,
            "message": f"Added {counts.succeeded} of {counts.total} records",
            "results": {
                "total": counts.total,
                "valid": counts.valid,
                "invalid": counts.invalid,
                "successful": counts.succeeded,
                "failed": counts.total - counts.succeeded,
                "batchesProcessed": result.batches,
                "errors": errors,
            },
            "importId": result.job.import_id,
        }
        if result.call_results is not None:
            body["callResults"] = result.call_results
        if counts.succeeded == counts.total:
            status = 201
        elif counts.succeeded > 0:
            status = 207
        else:
            status = 400
        return status, body
