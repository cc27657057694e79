"""S3 implementations of the payload store and the file store (the import bucket)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any
from urllib.parse import quote

from bulk_import.core.errors import FileChangedError
from bulk_import.core.ports import StoredFile
from bulk_import.rules.exact_json import dumps_exact, loads_exact

#: Bytes read from S3 at a time when a file is streamed.
READ_CHUNK = 1024 * 1024


@dataclass
class S3PayloadStore:
    """JSON documents in the import bucket (server-side encryption is the bucket's default)."""

    client: Any
    bucket: str

    def put_json(self, key: str, value: Any) -> None:
        """See ``PayloadStore.put_json``."""
        # Decimals stay numbers, exactly: chunk rows, requests and failed rows are read back as sent.
        body = dumps_exact(value).encode("utf-8")
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/json")

    def get_json(self, key: str) -> Any:
        """See ``PayloadStore.get_json``."""
        return loads_exact(self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read())


#: Bodies up to this size are stored with one PutObject; larger ones stream as a multipart upload, so a
#: result file is never held whole in memory.
SINGLE_PUT_BYTES = 1024 * 1024


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    """Read ``size`` bytes, or up to the end: one ``read`` may return less (a pipe, a generator's stream)."""
    parts: list[bytes] = []
    left = size
    while left > 0:
        part = stream.read(left)
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class _Chained:
    """The bytes already read from a stream, then the rest of it: one stream whose reads are never short."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            data = bytes(self._head) + self._rest.read()
            self._head = memoryview(b"")
            return data
        data = bytes(self._head[:size])
        self._head = self._head[size:]
        # s3transfer takes a short read for the end of the stream, so fill it from the rest.
        return data + _read_up_to(self._rest, size - len(data))


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
        """See ``FileStore.put``: one PutObject for a small body, a multipart upload above that.

        ``upload_fileobj`` starts a transfer manager and its threads even for a few hundred bytes, which a
        synchronous request pays on its first call; only bodies that may be large need it. It is boto3's,
        called on the client it is given (a botocore client: the functions import boto3 and s3transfer
        only when a body is that large).
        """
        head = _read_up_to(body, SINGLE_PUT_BYTES + 1)
        if len(head) <= SINGLE_PUT_BYTES:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=head, ContentType=content_type)
            return
        from boto3.s3.inject import upload_fileobj  # deferred: boto3 and s3transfer, for large bodies

        upload_fileobj(
            getattr(self.client, "built", self.client),  # the client behind a lazy one
            _Chained(head, body),  # type: ignore[arg-type]  # read() is all the transfer uses
            self.bucket,
            key,
            ExtraArgs={"ContentType": content_type},
        )

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
