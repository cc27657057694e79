"""A fresh API function imports, for its first request, only what that request uses.

Each case runs the handler in a new interpreter, as a cold Lambda container would, against the local
stack's AWS emulation, and lists the libraries the request loaded: reading campaigns validates no body
and writes plain JSON (neither pydantic nor pydantic-core) and no phone number; neither request imports
boto3 or s3transfer (the clients are botocore's own, the DynamoDB codec the project's), which cost about
as much as botocore itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
EVENTS = Path(__file__).resolve().parents[2] / "events"
WATCHED = ("pydantic", "pydantic_core", "phonenumbers", "boto3", "s3transfer")

_CHILD = """
import json, sys
from bulk_import.entrypoints import api
from bulk_import.local.gateway import LambdaContext
response = api.handler(json.loads(sys.stdin.read()), LambdaContext("api"))
loaded = ({m.split(".")[0] for m in sys.modules} | set(sys.modules)) & set(sys.argv[1:])
print(json.dumps([response["statusCode"], sorted(loaded)]))
"""


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def first_request(event: str, watched: tuple[str, ...] = WATCHED) -> tuple[int, list[str]]:
    """The status of ``event`` served by a fresh interpreter, and the watched libraries (or modules) it
    imported."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, *watched],
        input=(EVENTS / "api" / event).read_text(encoding="utf-8"),
        capture_output=True,
        text=True,
        check=True,
        env=dict(os.environ),
    )
    status, loaded = json.loads(out.stdout.strip().splitlines()[-1])
    return status, loaded


def test_a_first_read_of_campaigns_loads_no_validation_library_and_no_boto3(stack: LocalStack) -> None:
    assert first_request("campaigns-list.json") == (200, [])


def test_a_first_bulk_import_loads_pydantic_and_phone_data_but_not_boto3(stack: LocalStack) -> None:
    expected = ["phonenumbers", "pydantic", "pydantic_core"]
    assert first_request("campaign-customers-clean.json") == (201, expected)


#: The adapters of ports a read of campaigns never uses: each is imported when its port is first used.
UNUSED_BY_A_READ = tuple(
    f"bulk_import.adapters.{name}"
    for name in (
        "s3",
        "sqs",
        "stepfunctions",
        "events",
        "lms",
        "dynamo_call_caps",
        # The webhooks' (the local stack has them, as a deployment does): a tenant's endpoint is read
        # when an import ends, not before.
        "webhook_sender",
        "webhook_secrets",
        "dynamo_webhooks",
    )
)


def test_a_first_read_of_campaigns_imports_no_adapter_of_a_port_it_does_not_use(stack: LocalStack) -> None:
    assert first_request("campaigns-list.json", UNUSED_BY_A_READ) == (200, [])


def test_a_first_bulk_import_imports_the_file_store_it_writes_its_results_to_and_the_webhooks_it_announces_to(
    stack: LocalStack,
) -> None:
    assert first_request("campaign-customers-clean.json", UNUSED_BY_A_READ) == (
        201,
        [
            "bulk_import.adapters.dynamo_webhooks",
            "bulk_import.adapters.s3",
            "bulk_import.adapters.webhook_secrets",
            "bulk_import.adapters.webhook_sender",
        ],
    )


#: What importing, validating and storing rows needs; a read of campaigns needs none of it.
IMPORT_MACHINERY = (
    "bulk_import.core.model",
    "bulk_import.engine.pipeline",
    "bulk_import.kinds.base",
    "bulk_import.usecases.imports",
    "bulk_import.adapters.dynamo_imports",
    "bulk_import.adapters.dynamo_records",
)


def test_a_first_read_of_campaigns_loads_none_of_the_import_machinery(stack: LocalStack) -> None:
    assert first_request("campaigns-list.json", IMPORT_MACHINERY) == (200, [])
