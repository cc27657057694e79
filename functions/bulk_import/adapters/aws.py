"""Builds the ports on real AWS clients, once per container, on first use."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_call_caps import DynamoCallCaps
from bulk_import.adapters.dynamo_imports import DynamoImportRepository
from bulk_import.adapters.dynamo_records import DynamoRecordStore
from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
from bulk_import.adapters.events import EventBridgeBus
from bulk_import.adapters.lms import DynamoLmsClient, HttpLmsClient, TenantLmsClient
from bulk_import.adapters.s3 import S3FileStore, S3PayloadStore
from bulk_import.adapters.sqs import SqsChunkQueue
from bulk_import.adapters.stepfunctions import StepFunctionsWorkflow
from bulk_import.adapters.webhook_sender import with_webhooks
from bulk_import.core.ports import Deps
from bulk_import.settings import Settings, get_settings


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


def new_import_id() -> str:
    """A new import id: random, URL-safe, sortable enough for humans (``imp_`` + 32 hex)."""
    return "imp_" + uuid.uuid4().hex


@dataclass
class AwsClients:
    """boto3 clients of one container; boto3 itself is imported only when the first one is built."""

    settings: Settings
    session: Any = None

    def client(self, service: str) -> Any:
        """A client for ``service`` (cached on this object)."""
        cache = self.__dict__.setdefault("_clients", {})
        if service not in cache:
            import boto3  # deferred: importing boto3 costs ~150 ms of cold start
            from botocore.config import Config

            session = self.session or boto3.session.Session()
            config = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32)
            if service == "s3":
                # Presigned URLs signed with SigV4 (SigV2 is deprecated and refused in newer regions).
                config = config.merge(Config(signature_version="s3v4"))
            cache[service] = session.client(  # type: ignore[call-overload]
                service, region_name=self.settings.region, config=config
            )
        return cache[service]

    def lazy(self, service: str) -> LazyClient:
        """A stand-in for ``client(service)`` that builds it on first use (a function that never calls
        the service never pays for its client)."""
        return LazyClient(self, service)


class LazyClient:
    """Builds its client on first attribute access, then forwards to it."""

    def __init__(self, clients: AwsClients, service: str) -> None:
        self._clients = clients
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._clients.client(self._service), name)


def build_deps(settings: Settings | None = None, session: Any = None) -> Deps:
    """Wire the ports on AWS: DynamoDB stores, S3, SQS, tenants' LMSs, the system clock, random import ids,
    the import workflow (Step Functions), the calls bus (EventBridge) and the file store (S3).

    Parameters
    ----------
    settings
        Resource names (default: read from the environment once).
    session
        A boto3 session (default: a new one).
    """
    settings = settings or get_settings()
    clients = AwsClients(settings, session)
    ddb = clients.client("dynamodb")
    writer = BatchWriter(ddb)
    clock = SystemClock()
    deps = Deps(
        tenants=DynamoTenantDirectory(ddb, settings.config_table),
        records=DynamoRecordStore(ddb, settings.records_table, writer, clock, settings.imports_table),
        imports=DynamoImportRepository(
            ddb, settings.imports_table, writer, config_table=settings.config_table
        ),
        clock=clock,
        new_id=new_import_id,
        payloads=S3PayloadStore(clients.client("s3"), settings.bucket) if settings.bucket else None,
        queue=SqsChunkQueue(clients.client("sqs"), settings.chunk_queue_url)
        if settings.chunk_queue_url
        else None,
        lms=TenantLmsClient(records=DynamoLmsClient(ddb, settings.config_table), http=HttpLmsClient()),
        # Built everywhere: the workflow's task function answers task tokens without knowing the ARN.
        workflow=StepFunctionsWorkflow(clients.lazy("stepfunctions"), settings.state_machine_arn),
        events=EventBridgeBus(clients.lazy("events"), settings.event_bus_name)
        if settings.event_bus_name
        else None,
        files=S3FileStore(clients.client("s3"), settings.bucket) if settings.bucket else None,
        # The weekly cap of calls per phone number, in the imports table.
        call_caps=DynamoCallCaps(ddb, settings.imports_table),
    )
    # Webhooks, where the deployment has their key: endpoints, sealed secrets, and imports that announce
    # their end.
    return with_webhooks(deps, clients, settings)
