"""The index of uploads waiting for their file, in the imports table: one item per upload, partitioned by
the hour it is due, so the sweep reads only the hours that are due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bulk_import.adapters.dynamo_codec import from_item, to_item
from bulk_import.adapters.dynamo_import_items import parse_time
from bulk_import.adapters.dynamo_keys import stamp, upload_bucket, upload_key
from bulk_import.adapters.dynamo_paging import query_items
from bulk_import.core.ports import PendingUpload


class PendingUploadIndex:
    """The pending-upload methods of ``ImportRepository``, on the table of the class that includes them."""

    client: Any
    table: str

    def add_pending_upload(self, upload: PendingUpload) -> None:
        """See ``ImportRepository.add_pending_upload``: one index item in the partition of its due hour."""
        self.client.put_item(
            TableName=self.table,
            Item=to_item(
                {
                    **upload_key(upload),
                    "tenantId": upload.tenant_id,
                    "importId": upload.import_id,
                    "due": stamp(upload.due),
                }
            ),
        )

    def due_uploads(self, now: datetime, since: datetime) -> list[PendingUpload]:
        """See ``ImportRepository.due_uploads``: one query per hour partition from ``since`` to ``now``."""
        found: list[PendingUpload] = []
        hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        # Sort keys start with the due time in a fixed-width form, and "$" sorts after its "#".
        cut = f"{stamp(now)}$"
        while hour <= now:
            items = query_items(
                self.client,
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND sk < :cut",
                ExpressionAttributeValues={":pk": {"S": upload_bucket(hour)}, ":cut": {"S": cut}},
            )
            for item in items:
                data = from_item(item)
                due = parse_time(data["due"]) or now
                found.append(PendingUpload(data["tenantId"], data["importId"], due))
            hour += timedelta(hours=1)
        return found

    def remove_pending_upload(self, upload: PendingUpload) -> None:
        """See ``ImportRepository.remove_pending_upload``."""
        self.client.delete_item(TableName=self.table, Key=to_item(upload_key(upload)))
