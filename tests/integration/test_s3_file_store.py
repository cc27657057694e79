"""The file store keeps every byte of a body, whether it is sent in one request or as a multipart upload."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from bulk_import.adapters.aws import AwsClients
from bulk_import.adapters.s3 import SINGLE_PUT_BYTES, S3FileStore
from bulk_import.settings import Settings


class _Trickle(io.RawIOBase):
    """A stream that hands out at most a few bytes per read, like a generator of CSV lines."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size is None or size < 0 else min(size, self._step)
        out, self._data = bytes(self._data[:n]), self._data[n:]
        return out


@pytest.fixture(params=["boto3", "functions"])
def s3(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A boto3 client (the local stack's), or the functions' own: botocore's client, built lazily."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="files")
        if request.param == "boto3":
            yield boto3.client("s3", region_name="us-east-1")
        else:
            yield AwsClients(Settings.from_env({"AWS_REGION": "us-east-1"})).lazy("s3")


@pytest.mark.parametrize(
    "size", [0, 1, SINGLE_PUT_BYTES - 1, SINGLE_PUT_BYTES, SINGLE_PUT_BYTES + 1, 6 * 1024 * 1024 + 17]
)
def test_a_stored_file_reads_back_byte_for_byte_with_its_content_type(s3: Any, size: int) -> None:
    data = bytes(i % 251 for i in range(size))
    store = S3FileStore(client=s3, bucket="files")

    store.put("results/x.csv", _Trickle(data, 65_536), "text/csv; charset=utf-8")

    got = s3.get_object(Bucket="files", Key="results/x.csv")
    assert got["Body"].read() == data
    assert got["ContentType"] == "text/csv; charset=utf-8"
