"""DynamoDB keys: how every item's partition and sort key is spelled.

Every key of a tenant's data starts with the tenant (``T#{tenant}``), so no query can reach another
tenant's items. The pending-upload index is the exception: it is partitioned by due hour, and each item
names its tenant.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from bulk_import.core.ports import PendingUpload

#: Records of one import are spread over this many index partitions, so a 10,000-record import does
#: not write one hot partition of the ``by_import`` index.
IMPORT_INDEX_SHARDS = 8
#: The index of the records an import wrote, read by the call stage of imports that ask for calls.
IMPORT_INDEX = "by_import"
#: What ``by_import`` projects besides the keys: the record's key and the fields the call stage reads back
#: (``ImportKind.call_fields`` of the kinds that request calls, and the customer's timezone). An index item
#: is billed by its own size: these few attributes keep it under one write unit whatever the record holds.
#: A read asking for anything else gets it from the table (``DynamoRecordStore.iter_import_records``).
IMPORT_INDEX_ATTRIBUTES = (
    "recordKey",
    "phone_number",
    "doNotCall",
    "campaign_id",
    "loan_id",
    "lead_id",
    "timezone",
)
#: Sort key prefix, under the import's partition, of the calls each call batch requested.
CALL_BATCH_PREFIX = "CALL#BATCH#"


def index_projection(name: str) -> tuple[str, tuple[str, ...]]:
    """The projection type of global secondary index ``name`` and the non-key attributes it includes, as
    the CDK app and the local stack both create it."""
    if name == IMPORT_INDEX:
        return "INCLUDE", IMPORT_INDEX_ATTRIBUTES
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


def import_index_pk(tenant_id: str, import_id: str, entity: str, key: str) -> str:
    """``by_import`` partition of a record, sharded by a stable hash of its key."""
    shard = int(hashlib.blake2s(key.encode(), digest_size=2).hexdigest(), 16) % IMPORT_INDEX_SHARDS
    return import_shard_pk(tenant_id, import_id, entity, shard)


def import_shard_pk(tenant_id: str, import_id: str, entity: str, shard: int) -> str:
    """One of the ``IMPORT_INDEX_SHARDS`` ``by_import`` partitions of an import's records of ``entity``."""
    return f"T#{tenant_id}#I#{import_id}#{entity}#{shard}"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def upload_bucket(moment: datetime) -> str:
    """Partition of the pending uploads due within one hour (the sweep reads the hours that are due)."""
    return f"UPLOADS#{moment.astimezone(UTC):%Y-%m-%dT%H}"


def upload_key(upload: PendingUpload) -> dict[str, str]:
    sk = f"{stamp(upload.due)}#{upload.tenant_id}#{upload.import_id}"
    return {"pk": upload_bucket(upload.due), "sk": sk}


def call_batch_sk(batch: int, part: int) -> str:
    """Sort key of part ``part`` of the requested calls of one call batch of an import."""
    return f"{CALL_BATCH_PREFIX}{batch:06d}#{part:03d}"
