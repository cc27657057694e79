"""S3 implementations of the payload store and the file store (the import bucket)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

from bulk_import.core.errors import FileChangedError
from bulk_import.core.ports import StoredFile

#: Bytes read from S3 at a time when a file is streamed.
READ_CHUNK = 1024 * 1024


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


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


class _Body:
    """A botocore ``StreamingBody`` as a closeable binary stream (``with`` and ``read(n)``)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def read(self, size: int = -1) -> bytes:
        return bytes(self._body.read(None if size is None or size < 0 else size))

    def close(self) -> None:
        self._body.close()

    def __enter__(self) -> _Body:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class S3FileStore:
    """Dropped files and result files in the import bucket; see ``FileStore``.

    Presigned URLs carry the rights of the credentials that sign them (the function's role) and expire
    with them at the latest.
    """

    client: Any
    bucket: str

    def describe(self, key: str) -> StoredFile | None:
        """See ``FileStore.describe`` (HeadObject)."""
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return StoredFile(
            key=key,
            size=int(head.get("ContentLength", 0)),
            metadata={str(k).lower(): str(v) for k, v in (head.get("Metadata") or {}).items()},
            etag=head.get("ETag"),
            version=head.get("VersionId") if head.get("VersionId") not in (None, "null") else None,
        )

    def open(self, key: str, *, version: str | None = None, etag: str | None = None) -> IO[bytes]:
        """See ``FileStore.open``: GetObject of that version (or with If-Match on the ETag), streamed."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if version:
            params["VersionId"] = version
        elif etag:
            params["IfMatch"] = etag
        try:
            resp = self.client.get_object(**params)
        except self.client.exceptions.ClientError as exc:
            if _code(exc) in ("PreconditionFailed", "NoSuchKey", "NoSuchVersion", "404", "412"):
                raise FileChangedError(f"{key} was replaced or deleted since it was dropped") from None
            raise
        return _Body(resp["Body"])  # type: ignore[return-value]

    def put(self, key: str, body: IO[bytes], content_type: str) -> None:
        """See ``FileStore.put`` (multipart above the transfer threshold)."""
        self.client.upload_fileobj(body, self.bucket, key, ExtraArgs={"ContentType": content_type})

    def upload_url(self, key: str, expires_in: int) -> str:
        """See ``FileStore.upload_url``."""
        return str(
            self.client.generate_presigned_url(
                "put_object", Params={"Bucket": self.bucket, "Key": key}, ExpiresIn=expires_in
            )
        )

    def download_url(self, key: str, expires_in: int, filename: str | None = None) -> str:
        """See ``FileStore.download_url``."""
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": key}
        if filename:
            params["ResponseContentDisposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
        return str(self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires_in))

    def tag(self, key: str, tags: Mapping[str, str], *, version: str | None = None) -> None:
        """See ``FileStore.tag``."""
        params: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": key,
            "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in tags.items()]},
        }
        if version:
            params["VersionId"] = version
        self.client.put_object_tagging(**params)
