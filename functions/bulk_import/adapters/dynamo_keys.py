"""DynamoDB keys: how every item's partition and sort key is spelled.

Every key of a tenant's data starts with the tenant (``T#{tenant}``), so no query can reach another
tenant's items. The pending-upload index is the exception: it is partitioned by due hour, and each item
names its tenant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bulk_import.core.values import PendingUpload

#: What the call lists of an import hold besides each record's key (``DynamoRecordStore``): the fields the
#: call stage reads back (``ImportKind.call_fields`` of the kinds that request calls, and the customer's
#: timezone). A read asking for anything else gets it from the records table by key.
CALL_LIST_FIELDS = ("phone_number", "doNotCall", "campaign_id", "loan_id", "lead_id", "timezone")
#: Sort key prefixes, under the import's partition, of its call lists and of its requested calls.
CALL_LIST_PREFIX = "CALL#LIST#"
CALL_BATCH_PREFIX = "CALL#BATCH#"


def index_projection(name: str) -> tuple[str, tuple[str, ...]]:
    """The projection type of global secondary index ``name`` and the non-key attributes it includes, as
    the CDK app and the local stack both create it: every index projects all attributes."""
    return "ALL", ()


def tenant_pk(tenant_id: str) -> str:
    """Partition key of a tenant's configuration items."""
    return f"T#{tenant_id}"


def lms_pk(tenant_id: str) -> str:
    """Partition key of a tenant's LMS customer records (the DynamoDB implementation of its LMS)."""
    return f"{tenant_pk(tenant_id)}#LMS"


def lms_sk(customer_id: str) -> str:
    """Sort key of one LMS customer record."""
    return f"CUSTOMER#{customer_id}"


def record_pk(tenant_id: str, entity: str, key: str) -> str:
    """Partition key of one stored record."""
    return f"T#{tenant_id}#{entity}#{key}"


def import_pk(tenant_id: str, import_id: str) -> str:
    """Partition key of an import and its rows."""
    return f"T#{tenant_id}#IMPORT#{import_id}"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def upload_bucket(moment: datetime) -> str:
    """Partition of the pending uploads due within one hour (the sweep reads the hours that are due)."""
    return f"UPLOADS#{moment.astimezone(UTC):%Y-%m-%dT%H}"


def upload_key(upload: PendingUpload) -> dict[str, str]:
    sk = f"{stamp(upload.due)}#{upload.tenant_id}#{upload.import_id}"
    return {"pk": upload_bucket(upload.due), "sk": sk}


def call_list_sk(entity: str, token: str, part: int) -> str:
    """Sort key of part ``part`` of one call list of an import (``token``: the digest of its write)."""
    return f"{CALL_LIST_PREFIX}{entity}#{token}#{part:03d}"


def call_batch_sk(batch: int, part: int) -> str:
    """Sort key of part ``part`` of the requested calls of one call batch of an import."""
    return f"{CALL_BATCH_PREFIX}{batch:06d}#{part:03d}"
