"""The whole stack in one process: embedded moto, the same resources, the same handlers.

``LocalStack.start()`` starts moto's server on a free loopback port, points every boto3 client of
the process at it (``AWS_ENDPOINT_URL``), creates the resources the CDK app declares and serves the
API through a local API Gateway stand-in. Background workers (SQS pollers, file drops, the workflow)
attach to the same stack.
"""

from __future__ import annotations

import json
import os
import socket
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bulk_import import resources
from bulk_import.local.resources import create_all, create_calls_queue, local_names

REGION = "us-east-1"
_FAKE_ENV = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_SESSION_TOKEN": "local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "bulk-import",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "POWERTOOLS_DEV": "false",
}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalStack:
    """The local stack. Use as a context manager, or call ``start`` and ``stop``.

    Parameters
    ----------
    port
        Port of the HTTP API on 127.0.0.1 (0: a free one).
    moto_port
        Port of the embedded AWS emulation (0: a free one).
    """

    port: int = 0
    moto_port: int = 0
    names: dict[str, str] = field(default_factory=dict)
    _moto: Any = None
    _http: ThreadingHTTPServer | None = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    pollers: list[Any] = field(default_factory=list)
    #: A queue fed by a rule on the calls bus, and what a poller read from it: every ``CallRequested``
    #: event the workflow published (locally, this stands in for the dialer that would consume them).
    calls_queue_url: str = ""
    calls_received: list[dict[str, Any]] = field(default_factory=list)
    _emulation: ExitStack | None = None

    @property
    def url(self) -> str:
        """Base URL of the local API."""
        assert self._http is not None, "stack not started"
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    @property
    def bucket_name(self) -> str:
        """The import bucket (put files under ``incoming/{tenantId}/{kind}/`` to import them)."""
        return self.names[resources.BUCKET_ENV]

    @property
    def endpoint_url(self) -> str:
        """Endpoint of the embedded AWS emulation (for the AWS CLI or boto3)."""
        return f"http://127.0.0.1:{self.moto_port}"

    def session(self) -> Any:
        """A boto3 session whose clients talk to the embedded emulation."""
        import boto3

        return boto3.session.Session(
            aws_access_key_id="local", aws_secret_access_key="local", region_name=REGION
        )

    def start(self) -> LocalStack:
        """Start moto, create the resources, wire the handlers and serve the API."""
        import logging

        from moto.server import ThreadedMotoServer

        # The emulation's per-request access log would drown what the stack itself prints.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.moto_port = self.moto_port or free_port()
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto.start()
        env = {**_FAKE_ENV, "AWS_ENDPOINT_URL": self.endpoint_url, "MOTO_PORT": str(self.moto_port)}
        self._set_env(env)
        # The workflow runs in moto's Step Functions interpreter, its task states on our handler.
        from bulk_import.local.emulation import fast_sqs
        from bulk_import.local.workflow import executing_workflows

        self._emulation = ExitStack()
        self._emulation.enter_context(executing_workflows())
        self._emulation.enter_context(fast_sqs())
        self.names = create_all(self.session(), local_names(), REGION)
        self._set_env(self.names)
        self.calls_queue_url = create_calls_queue(self.session(), self.names[resources.EVENT_BUS_ENV], REGION)
        self._reset_handlers()
        from bulk_import.entrypoints import api, authorizer
        from bulk_import.local.gateway import LocalGateway, serve

        gateway = LocalGateway(api=api.handler, authorizer=authorizer.handler, public_paths=api.PUBLIC_PATHS)
        self._http, _ = serve(gateway, "127.0.0.1", self.port)
        self._start_workers()
        return self

    def _start_workers(self) -> None:
        """Attach the queue consumers, as the event source mappings of the cloud stack do."""
        from bulk_import.entrypoints import file_drop, worker
        from bulk_import.local.poller import SqsPoller

        sqs = self.session().client("sqs")
        self.pollers = [
            SqsPoller(
                sqs,
                self.names[resources.CHUNK_QUEUE_ENV],
                worker.handler,
                batch_size=resources.CHUNK_BATCH_SIZE,
                name="chunk-worker",
            ).start(),
            SqsPoller(
                sqs,
                self.names[resources.CHUNK_DLQ_ENV],
                worker.dlq_handler,
                batch_size=resources.CHUNK_BATCH_SIZE,
                name="chunk-dlq",
            ).start(),
            SqsPoller(
                sqs,
                self.names[resources.FILE_DROP_QUEUE_ENV],
                file_drop.handler,
                batch_size=resources.FILE_DROP_BATCH_SIZE,
                name="file-drop",
            ).start(),
            SqsPoller(sqs, self.calls_queue_url, self._receive_calls, batch_size=10, name="calls").start(),
        ]

    def _receive_calls(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls_received.extend(json.loads(record["body"]) for record in event["Records"])
        return {"batchItemFailures": []}

    def stop(self) -> None:
        """Stop serving and the emulation, and restore the environment."""
        for poller in self.pollers:
            poller.stop()
        self.pollers = []
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
        if self._emulation is not None:
            self._emulation.close()
            self._emulation = None
        for k, v in self._saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self._saved_env.clear()
        self._reset_handlers()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def load_seed(self, path: str | Path) -> dict[str, int]:
        """Load a seed file into the local tables."""
        from bulk_import.adapters.aws import build_deps
        from bulk_import.adapters.dynamo import DynamoRecordStore, DynamoTenantDirectory
        from bulk_import.adapters.seed import load_seed
        from bulk_import.settings import Settings

        deps = build_deps(Settings.from_env(), self.session())
        assert isinstance(deps.tenants, DynamoTenantDirectory)
        assert isinstance(deps.records, DynamoRecordStore)
        document = json.loads(Path(path).read_text(encoding="utf-8"))
        return load_seed(document, deps.tenants, deps.records)

    def _set_env(self, values: dict[str, str]) -> None:
        for k, v in values.items():
            self._saved_env.setdefault(k, os.environ.get(k))
            os.environ[k] = v

    @staticmethod
    def _reset_handlers() -> None:
        # Handlers build their clients once per "container"; a new stack is a new container.
        from bulk_import.entrypoints import authorizer, runtime
        from bulk_import.settings import get_settings

        get_settings.cache_clear()
        runtime.DEPS.set(None)
        authorizer.DIRECTORY.set(None)
