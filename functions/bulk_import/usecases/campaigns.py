"""The tenant's calling campaigns: create one, list them.

Apart from the imports' use cases so that reading campaigns loads no import machinery (the job model,
the pipeline, the kinds): it is often a client's first request.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING

from bulk_import.core.errors import ConflictError, InvalidRequestError
from bulk_import.core.ports import load_tenant
from bulk_import.core.tenants import Campaign, Principal
from bulk_import.rules.limits import reference_problem
from bulk_import.rules.strings import clean

if TYPE_CHECKING:
    from bulk_import.core.ports import Deps

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$")


def create_campaign(
    deps: Deps, principal: Principal, name: str, service_type: str, campaign_id: str | None
) -> Campaign:
    """Create a campaign of the caller's tenant.

    Raises
    ------
    InvalidRequestError
        The id has characters outside ``[A-Za-z0-9_.:-]``; the name is over 200 characters or holds
        control characters.
    ConflictError
        A campaign with that id exists already.
    """
    tenant = load_tenant(deps.tenants, principal)
    cid = (campaign_id or "").strip() or f"camp-{uuid.uuid4().hex[:12]}"
    if not _ID.match(cid):
        raise InvalidRequestError("id: letters, digits and _ . : - only, at most 128 characters")
    shown = clean(name)
    if shown is None:
        # Blank (or only invisible characters) is missing, as everywhere: a list of unnamed campaigns helps
        # no one choose.
        raise InvalidRequestError("name: is required (the campaign's name, e.g. Loans)")
    problem = reference_problem(shown)
    if problem is not None:
        # The name is stored on the tenant's configuration item and shown in every list of campaigns.
        raise InvalidRequestError(f"name: {problem}")
    if cid in tenant.campaigns:
        raise ConflictError(f"campaign {cid} exists already")
    campaign = Campaign(id=cid, name=shown, service_type=service_type)
    deps.tenants.save_campaign(tenant.tenant_id, campaign)
    return campaign


def list_campaigns(deps: Deps, principal: Principal) -> list[Campaign]:
    """The caller's campaigns, by id."""
    tenant = load_tenant(deps.tenants, principal)
    return [tenant.campaigns[k] for k in sorted(tenant.campaigns)]
