"""S3 implementation of the payload store."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass
class S3PayloadStore:
    """JSON documents in the import bucket (server-side encryption is the bucket's default)."""

    client: Any
    bucket: str

    def put_json(self, key: str, value: Any) -> None:
        """See ``PayloadStore.put_json``."""
        body = json.dumps(value, default=str, separators=(",", ":")).encode("utf-8")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def get_json(self, key: str) -> Any:
        """See ``PayloadStore.get_json``."""
        return json.loads(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())
