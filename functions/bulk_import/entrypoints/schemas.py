"""The models of the OpenAPI document: the request bodies (``bodies``) and what the routes answer.

Only the build of the document (``openapi_build``) imports this module; the routes name these models by
their names here (``apidoc.route_doc({201: "Campaign"})``), so a request never builds them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bulk_import.entrypoints.bodies import CampaignCreateRequest as CampaignCreateRequest
from bulk_import.entrypoints.bodies import UploadRequest as UploadRequest
from bulk_import.entrypoints.bodies import WebhookRequest as WebhookRequest

# -- answers -------------------------------------------------------------------------------------------
# The models below describe what the routes answer, for the OpenAPI document (and the clients and
# contract tests that read it). They name the fields every answer has and allow the others: a kind
# may add fields to its answers without breaking a client that validates against the document.


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ErrorResponse(_Open):
    """Every 4xx and 5xx answer; some routes add fields (``importId``, ``validTaskTypes``…)."""

    message: str = Field(description="What went wrong, in a sentence a person can act on.")
    errors: list[Any] = Field(
        description="Every problem found: messages naming the field, or per-row errors with their index."
    )


class Campaign(_Open):
    """A calling campaign."""

    id: str
    name: str
    serviceType: str  # noqa: N815


class CampaignList(_Open):
    """``GET /api/v1/campaigns``."""

    campaigns: list[Campaign]


class CampaignCustomersResults(_Open):
    """The counts and row errors of a campaign-customers import."""

    total: int
    valid: int
    invalid: int
    successful: int
    failed: int
    batchesProcessed: int  # noqa: N815
    errors: list[dict[str, Any]] = Field(description="One entry per rejected row: index, references, field.")


class CampaignCustomersResponse(_Open):
    """201 (every row added) or 207 (some) of ``POST /api/v1/customers/add/bulk``."""

    success: bool
    message: str
    results: CampaignCustomersResults
    importId: str  # noqa: N815
    callResults: dict[str, Any] | None = None  # noqa: N815


class DebtsSummary(_Open):
    """Counts of a debts import."""

    total: int
    created: int
    failed: int
    skipped: int
    credits: float | int


class DebtsResponse(_Open):
    """201 of ``POST /external-api/v1/debts/batch``: created, failed and skipped rows."""

    error: bool
    import_id: str
    batch_name: str | None = None
    summary: DebtsSummary
    created: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


class Customer(_Open):
    """A stored customer, in the fields it was sent with (``id``, names, phone, address…)."""

    id: str


class CustomersJobAccepted(_Open):
    """202 of ``POST /customers/batch``."""

    jobId: str  # noqa: N815
    status: str
    total: int
    importId: str  # noqa: N815


class CustomersJob(_Open):
    """``GET /customers/batch/{jobId}``: the job and the result of every customer processed so far."""

    jobId: str  # noqa: N815
    importId: str  # noqa: N815
    status: str
    total: int
    counts: dict[str, int]
    createdAt: str  # noqa: N815
    completedAt: str | None = None  # noqa: N815
    results: list[dict[str, Any]]
    retryOf: str | None = Field(  # noqa: N815
        default=None, description="For a retry: the job whose failed customers this job sends again."
    )


class _PaymentsJobCounts(_Open):
    started_at: str
    total: int
    processing: int
    processed: int
    failed: int
    status: str
    progress: list[dict[str, Any]]


class PaymentsJob(_PaymentsJobCounts):
    """202 of ``POST /payments/payments/import`` and ``GET /payments/payments/import/{job_id}``."""

    job_id: str
    import_id: str
    cancelled: int | None = Field(
        default=None,
        description="Only for a cancelled job: payments a cancel kept from being written; "
        "processed + failed + cancelled + processing = total.",
    )
    retryOf: str | None = Field(  # noqa: N815
        default=None, description="For a retry: the job whose failed payments this job sends again."
    )


class ImportCounts(_Open):
    """Row counts of an import."""

    total: int
    valid: int
    invalid: int
    succeeded: int
    failed: int
    skipped: int
    cancelled: int = Field(
        default=0,
        description="Rows a cancel kept from being written; succeeded + failed + skipped + cancelled = total "
        "once the import is CANCELLED.",
    )


class ImportView(_Open):
    """``GET /v1/imports/{importId}``."""

    importId: str  # noqa: N815
    kind: str
    source: str
    status: str = Field(description="QUEUED, PROCESSING, DONE, FAILED or CANCELLED.")
    counts: ImportCounts
    createdAt: str  # noqa: N815
    updatedAt: str  # noqa: N815
    completedAt: str | None = None  # noqa: N815
    calls: dict[str, Any]
    retryOf: str | None = Field(  # noqa: N815
        default=None, description="The import whose failed rows this import retries."
    )
    files: dict[str, str] | None = Field(
        default=None,
        description="Presigned links to the result files of a finished import: results (every row), "
        "errors (failed rows), and a file import's summary.",
    )


class ImportRetry(_Open):
    """``POST /v1/imports/{importId}/retry``: the new import of the failed rows."""

    importId: str = Field(description="The new import.")  # noqa: N815
    retryOf: str = Field(description="The import retried.")  # noqa: N815
    total: int = Field(description="How many rows the new import has: the failed rows of the other.")


class ImportsPage(_Open):
    """``GET /v1/imports``: one page of the tenant's imports, newest first."""

    imports: list[ImportView] = Field(description="Each in the shape of GET /v1/imports/{importId}.")
    nextCursor: str | None = Field(  # noqa: N815
        default=None, description="Pass back as cursor for the next page; null on the last page."
    )


class ImportErrorsPage(_Open):
    """``GET /v1/imports/{importId}/errors``: one page of per-row errors."""

    importId: str  # noqa: N815
    errors: list[dict[str, Any]]
    nextCursor: str | None = None  # noqa: N815


class UploadCreated(_Open):
    """201 of ``POST /v1/imports/uploads``: where to PUT the file."""

    importId: str  # noqa: N815
    status: str
    uploadUrl: str  # noqa: N815
    method: str
    key: str
    expiresIn: int  # noqa: N815


# -- dry runs (``?dryRun=true``): the finished answer, without an import id ------------------------------
class _DryRun(_Open):
    dryRun: bool = Field(description="Always true: nothing was stored.")  # noqa: N815
    dryRunStatus: int = Field(  # noqa: N815
        description="The HTTP status the same request would answer without dryRun."
    )


class CampaignCustomersDryRun(_DryRun):
    """200 of ``POST /api/v1/customers/add/bulk?dryRun=true``: the results as if stored."""

    success: bool
    message: str
    results: CampaignCustomersResults
    callResults: dict[str, Any] | None = Field(  # noqa: N815
        default=None, description="The calls that would be requested; status DRY_RUN, no executionId."
    )


class DebtsDryRun(_DryRun):
    """200 of ``POST /external-api/v1/debts/batch?dryRun=true``: created (would be), failed, skipped."""

    error: bool
    batch_name: str | None = None
    summary: DebtsSummary
    created: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    skipped: list[dict[str, Any]]


class CustomerDryRun(_DryRun):
    """200 of ``POST /customers?dryRun=true``: the customer as it would be stored (dryRunStatus 201
    new, 200 update)."""

    id: str


class _DryRunJob(_DryRun):
    nextCursor: None = Field(default=None, description="Always null: a dry run keeps no pages.")  # noqa: N815
    truncated: bool = Field(
        description="true when rows beyond the first page (1,000 rows or 1 MB) were judged: they are "
        "in the counts only; send them in a dry run of their own to see their results."
    )


class CustomersJobDryRun(_DryRunJob):
    """200 of ``POST /customers/batch?dryRun=true``: the finished job, computed inline."""

    status: str = Field(description="DONE.")
    total: int
    counts: dict[str, int]
    createdAt: str  # noqa: N815
    completedAt: str | None = None  # noqa: N815
    results: list[dict[str, Any]]


class PaymentsJobDryRun(_DryRunJob, _PaymentsJobCounts):
    """200 of ``POST /payments/payments/import?dryRun=true``: the finished job (status DONE),
    computed inline."""


class WebhookEndpointView(_Open):
    """The tenant's endpoint (``secret`` only in the answer of ``PUT``)."""

    url: str
    events: list[str]
    enabled: bool = Field(description="False once the endpoint answered 410 Gone; configure it again.")
    disabledAt: str | None = None  # noqa: N815
    disabledReason: str | None = None  # noqa: N815
    createdAt: str  # noqa: N815
    updatedAt: str  # noqa: N815


class WebhookConfigured(WebhookEndpointView):
    """The endpoint just configured, with its signing secret (shown this once)."""

    secret: str = Field(
        description="The whsec_ secret deliveries are signed with; keep it, it is not shown again."
    )
