"""Builds the ports on real AWS clients, once per container, on first use."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
from bulk_import.adapters.row_expiry import RowExpiry
from bulk_import.core.ports import Deps, ImportRepository, RecordStore, WebhookPorts
from bulk_import.settings import Settings, get_settings


class SystemClock:
    """The real clock, in UTC."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


def new_import_id() -> str:
    """A new import id: random, URL-safe, sortable enough for humans (``imp_`` + 32 hex)."""
    return "imp_" + uuid.uuid4().hex


class _ServiceNames:
    """The services under a loader's search paths, each looked up when asked for."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = paths

    def __contains__(self, name: object) -> bool:
        import os

        return isinstance(name, str) and any(os.path.isdir(os.path.join(p, name)) for p in self._paths)

    def __iter__(self) -> Any:
        import os

        return iter(sorted({n for p in self._paths if os.path.isdir(p) for n in os.listdir(p)}))


def _core_session() -> Any:
    """A botocore session whose data loader does less work for the same models.

    * botocore's loader lists every service it ships (over 400 directories, each listed again for every
      model type) before it loads the one asked for, only to check that it exists; this one checks that
      service's own directory.
    * It parses its JSON files into ``OrderedDict`` objects, which takes three times as long as plain
      dicts (ordered too) for the 1.2 MB of endpoint data every client reads; this one builds dicts.

    The models loaded, and so the clients, are the same.
    """
    import json
    import os

    import botocore.session
    from botocore.loaders import JSONFileLoader, Loader

    class PlainJSONFileLoader(JSONFileLoader):
        def _load_file(self, full_path: str, open_method: Any) -> Any:
            if not os.path.isfile(full_path):
                return None
            with open_method(full_path, "rb") as fp:
                return json.loads(fp.read())

    class DirectLoader(Loader):
        def list_available_services(self, type_name: str) -> Any:
            return _ServiceNames(self.search_paths)

    session = botocore.session.Session()
    session.register_component("data_loader", DirectLoader(file_loader=PlainJSONFileLoader()))
    return session


@dataclass
class AwsClients:
    """The AWS clients of one container, built on first use, all from one session.

    Parameters
    ----------
    settings
        The region comes from here.
    session
        A boto3 session to build the clients with (the local stack's); default: one botocore session,
        with only the services asked for loaded. Its clients are botocore's own, which is all boto3
        returns; boto3 itself is imported only by an upload large enough for a multipart transfer.
    """

    settings: Settings
    session: Any = None

    def client(self, service: str) -> Any:
        """A client for ``service`` (cached on this object)."""
        cache = self.__dict__.setdefault("_clients", {})
        if service not in cache:
            cache[service] = self._create(service)
        return cache[service]

    def _create(self, service: str) -> Any:
        from botocore.config import Config

        config = Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32)
        if service == "s3":
            # Presigned URLs signed with SigV4 (SigV2 is deprecated and refused in newer regions).
            config = config.merge(Config(signature_version="s3v4"))
        if self.session is not None:
            return self.session.client(service, region_name=self.settings.region, config=config)
        core = self.__dict__.get("_core")
        if core is None:
            core = self.__dict__["_core"] = _core_session()
        return core.create_client(service, region_name=self.settings.region, config=config)

    def lazy(self, service: str) -> OnFirstUse:
        """A stand-in for ``client(service)`` that builds it on first use (a function that never calls
        the service never pays for its client)."""
        return OnFirstUse(lambda: self.client(service))


class OnFirstUse:
    """A client or a port built on first use, then forwarded to: a request that never uses a port does
    not import its adapter, nor build its client.

    Parameters
    ----------
    build
        Builds it (imports its adapter module, or builds the client).
    """

    _OWN = frozenset({"_build", "_built", "_lock"})

    def __init__(self, build: Callable[[], Any]) -> None:
        object.__setattr__(self, "_build", build)
        object.__setattr__(self, "_built", None)
        # Built once, whichever thread asks first: the stores keep state (the jobs they saw), and two
        # record stores would each know half of them.
        object.__setattr__(self, "_lock", threading.Lock())

    @property
    def built(self) -> Any:
        """What it stands for, built now if it was not."""
        if self._build is not None:
            with self._lock:
                build = self._build
                if build is not None:
                    object.__setattr__(self, "_built", build())
                    object.__setattr__(self, "_build", None)
        return self._built

    def __getattr__(self, name: str) -> Any:
        return getattr(self.built, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # Set on what it stands for, whose methods read it (a test's fake transport, say).
        if name in self._OWN:
            object.__setattr__(self, name, value)
        else:
            setattr(self.built, name, value)

    def __delattr__(self, name: str) -> None:
        if name in self._OWN:
            object.__delattr__(self, name)
        else:
            delattr(self.built, name)

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        # ``isinstance`` sees the class of what it stands for (building it), as it would without it.
        return type(self.built)


def _s3_payloads(clients: AwsClients, bucket: str) -> Any:
    from bulk_import.adapters.s3 import S3PayloadStore

    return S3PayloadStore(clients.lazy("s3"), bucket)


def _s3_files(clients: AwsClients, bucket: str) -> Any:
    from bulk_import.adapters.s3 import S3FileStore

    return S3FileStore(clients.lazy("s3"), bucket)


def _sqs_queue(clients: AwsClients, url: str) -> Any:
    from bulk_import.adapters.sqs import SqsChunkQueue

    return SqsChunkQueue(clients.lazy("sqs"), url)


def _lms(ddb: Any, config_table: str) -> Any:
    from bulk_import.adapters.lms import DynamoLmsClient, HttpLmsClient, TenantLmsClient

    return TenantLmsClient(records=DynamoLmsClient(ddb, config_table), http=HttpLmsClient())


def _workflow(clients: AwsClients, arn: str) -> Any:
    from bulk_import.adapters.stepfunctions import StepFunctionsWorkflow

    return StepFunctionsWorkflow(clients.lazy("stepfunctions"), arn)


def _bus(clients: AwsClients, name: str) -> Any:
    from bulk_import.adapters.events import EventBridgeBus

    return EventBridgeBus(clients.lazy("events"), name)


def _call_caps(ddb: Any, imports_table: str) -> Any:
    from bulk_import.adapters.dynamo_call_caps import DynamoCallCaps

    return DynamoCallCaps(ddb, imports_table)


def build_deps(
    settings: Settings | None = None, session: Any = None, clients: AwsClients | None = None
) -> Deps:
    """Wire the ports on AWS: DynamoDB stores, S3, SQS, tenants' LMSs, the system clock, random import ids,
    the import workflow (Step Functions), the calls bus (EventBridge) and the file store (S3).

    Parameters
    ----------
    settings
        Resource names (default: read from the environment once).
    session
        A boto3 session (default: one botocore session, see ``AwsClients``).
    clients
        The clients to wire the ports on (default: new ones, from ``session``).

    Only the DynamoDB client is built here: the others are built when a port first calls its service, so
    a request that only reads a table pays for one client.
    """
    settings = settings or get_settings()
    clients = clients or AwsClients(settings, session)
    ddb = clients.client("dynamodb")
    clock = SystemClock()
    # One expiry for every per-row writer, told the tenant's retention by the configuration the request
    # loads: the first write of a request reads nothing more.
    expiry = RowExpiry(ddb, settings.imports_table, settings.config_table)
    # The record store and the import repository are built together, when a request first uses either:
    # they share one batch writer, and the jobs the repository saves tell the store which imports have a
    # call stage, without a read. A request that only reads its tenant's configuration builds neither.
    stores = OnFirstUse(lambda: _stores(ddb, settings, clock, expiry))
    # Webhooks, where the deployment has their key: endpoints, sealed secrets, and imports that announce
    # their end.
    webhooks = _webhook_ports(clients, settings)
    return Deps(
        tenants=DynamoTenantDirectory(ddb, settings.config_table, expiry=expiry),
        records=cast(RecordStore, OnFirstUse(lambda: stores.built[0])),
        imports=cast(ImportRepository, OnFirstUse(lambda: _announcing(stores.built[1], webhooks, clock))),
        clock=clock,
        new_id=new_import_id,
        # The ports below are built when first used; whether a deployment has one is known now.
        payloads=OnFirstUse(lambda: _s3_payloads(clients, settings.bucket)) if settings.bucket else None,
        queue=OnFirstUse(lambda: _sqs_queue(clients, settings.chunk_queue_url))
        if settings.chunk_queue_url
        else None,
        lms=OnFirstUse(lambda: _lms(ddb, settings.config_table)),
        # Built everywhere: the workflow's task function answers task tokens without knowing the ARN.
        workflow=OnFirstUse(lambda: _workflow(clients, settings.state_machine_arn)),
        events=OnFirstUse(lambda: _bus(clients, settings.event_bus_name))
        if settings.event_bus_name
        else None,
        files=OnFirstUse(lambda: _s3_files(clients, settings.bucket)) if settings.bucket else None,
        # The weekly cap of calls per phone number, in the imports table.
        call_caps=OnFirstUse(lambda: _call_caps(ddb, settings.imports_table)),
        webhooks=webhooks,
    )


def _stores(ddb: Any, settings: Settings, clock: SystemClock, expiry: RowExpiry) -> tuple[Any, Any]:
    """The record store and the import repository, wired to each other."""
    from bulk_import.adapters.batch_writer import BatchWriter
    from bulk_import.adapters.dynamo_imports import DynamoImportRepository
    from bulk_import.adapters.dynamo_records import DynamoRecordStore

    writer = BatchWriter(ddb)
    records = DynamoRecordStore(
        ddb,
        settings.records_table,
        writer,
        clock,
        settings.imports_table,
        config_table=settings.config_table,
        row_expiry=expiry,
    )
    imports = DynamoImportRepository(
        ddb,
        settings.imports_table,
        writer,
        config_table=settings.config_table,
        row_expiry=expiry,
        on_save=records.note_job,
    )
    return records, imports


def _announcing(imports: Any, webhooks: WebhookPorts | None, clock: SystemClock) -> Any:
    """``imports``, announcing the imports that end when the deployment has webhooks."""
    if webhooks is None:
        return imports
    from bulk_import.engine.announce import AnnouncingImports

    return AnnouncingImports(imports, webhooks, clock, on_error=_announce_failed)


def _webhook_ports(clients: AwsClients, settings: Settings) -> WebhookPorts | None:
    """The deployment's webhook ports, built when first used (an announcement, a webhook route, a
    delivery); None when it has no key to seal their secrets with (``WEBHOOK_KEY_ID``).

    A request that neither configures nor announces one does not import the HTTP transport, the
    secrets' box or the endpoints' store.
    """
    from bulk_import.adapters.webhook_settings import WebhookSettings

    webhooks = WebhookSettings.from_env()
    if not webhooks.key_id:
        return None
    return cast(WebhookPorts, OnFirstUse(lambda: _built_webhook_ports(clients, settings, webhooks)))


def _built_webhook_ports(clients: AwsClients, settings: Settings, webhooks: Any) -> WebhookPorts:
    from bulk_import.adapters.webhook_sender import build_webhook_ports

    ports = build_webhook_ports(clients, settings.config_table, settings.imports_table, webhooks)
    assert ports is not None  # the key was there when the stand-in was made
    return ports


def _announce_failed(event: str, exc: Exception) -> None:
    from bulk_import.adapters.webhook_sender import count_announce_failure

    count_announce_failure(event, exc)
