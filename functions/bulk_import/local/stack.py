"""The whole stack in one process: embedded moto, the same resources, the same handlers.

``LocalStack.start()`` starts moto's server on a free loopback port, points every boto3 client of
the process at it (``AWS_ENDPOINT_URL``), creates the resources the CDK app declares, loads the seeds and
serves the API through a local API Gateway stand-in. Background workers (SQS pollers, file drops, the
workflow, scheduled functions) attach to the same stack.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import socket
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bulk_import import resources
from bulk_import.local.resources import create_all, create_calls_queue, local_names

log = logging.getLogger(__name__)

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
    # On AWS, metrics go to CloudWatch through the function's log; locally they would only fill stdout.
    "POWERTOOLS_METRICS_DISABLED": "true",
}


class PortUnavailableError(OSError):
    """A port of the local stack cannot be bound: ``what`` ("API" or "AWS emulation") on ``port``."""

    def __init__(self, what: str, port: int, cause: OSError) -> None:
        self.what = what
        self.port = port
        self.in_use = cause.errno == errno.EADDRINUSE
        reason = "is already in use" if self.in_use else f"cannot be bound ({cause.strerror})"
        super().__init__(cause.errno, f"port {port} ({what}) {reason}")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LocalStack:
    """The local stack. Use as a context manager, or call ``start`` and ``stop``.

    ``start`` returns once everything is ready, and the API port accepts connections only from then on:
    tables, queues, the workflow, the seeds, the workers and the schedules come first.

    Parameters
    ----------
    port
        Port of the HTTP API on 127.0.0.1 (0: a free one).
    moto_port
        Port of the embedded AWS emulation (0: a free one).
    seeds
        Seed files (paths) or seed documents loaded before the API listens.
    sweep_interval
        Seconds between two runs of the sweep of stale imports (a scheduled rule in the cloud); None: as
        often as the deployed rule runs.
    cors_origins
        Browser origins, besides the local API's own, whose pages may PUT files to presigned upload URLs.
    read_timeout
        Seconds a request body may stall before the API refuses the request.
    keep_call_events
        Leave the ``CallRequested`` events in the calls queue for a reader of its own (a dialer's stand-in,
        ``aws sqs receive-message``), as ``serve`` does; by default the stack reads them itself, into
        ``calls_received``.
    """

    port: int = 0
    moto_port: int = 0
    seeds: Sequence[str | Path | dict[str, Any]] = ()
    sweep_interval: float | None = None
    cors_origins: Sequence[str] = ()
    read_timeout: float = 5.0
    keep_call_events: bool = False
    names: dict[str, str] = field(default_factory=dict)
    #: What each seed of ``seeds`` stored, in order.
    seed_counts: list[dict[str, int]] = field(default_factory=list)
    _moto: Any = None
    _http: Any = None
    _saved_env: dict[str, str | None] = field(default_factory=dict)
    pollers: list[Any] = field(default_factory=list)
    schedules: list[Any] = field(default_factory=list)
    #: A queue fed by a rule on the calls bus, and what a poller read from it: every ``CallRequested``
    #: event the workflow published (locally, this stands in for the dialer that would consume them).
    calls_queue_url: str = ""
    calls_received: list[dict[str, Any]] = field(default_factory=list)
    _emulation: ExitStack | None = None

    @property
    def url(self) -> str:
        """Base URL of the local API."""
        assert self._http is not None, "stack not started"
        return f"http://127.0.0.1:{self._http.port}"

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
        """Start moto, create the resources, load the seeds, wire the handlers, then serve the API.

        Raises
        ------
        PortUnavailableError
            When the API's or the emulation's port cannot be bound (in use, or not allowed).
        """
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        from bulk_import.local import webhooks
        from bulk_import.local.emulation import fast_sqs, raw_object_puts, start_emulation
        from bulk_import.local.http_server import LocalHttpServer
        from bulk_import.local.workflow import executing_workflows

        # The API's port is taken first, without listening: a port in use fails at once, and a client
        # that waits for the port finds everything below ready.
        try:
            self._http = LocalHttpServer("127.0.0.1", self.port, read_timeout=self.read_timeout)
        except OSError as exc:
            raise PortUnavailableError("API", self.port, exc) from exc
        # The emulation's per-request access log would drown what the stack itself prints.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._emulation = ExitStack()
        # The workflow runs in moto's Step Functions interpreter, its task states on our handler.
        self._emulation.enter_context(executing_workflows())
        self._emulation.enter_context(fast_sqs())
        self._emulation.enter_context(raw_object_puts())
        try:
            self._moto = start_emulation(self.moto_port)
        except OSError as exc:
            raise PortUnavailableError("AWS emulation", self.moto_port, exc) from exc
        self.moto_port = int(self._moto.server_address[1])
        self._set_env({**_FAKE_ENV, "AWS_ENDPOINT_URL": self.endpoint_url, "MOTO_PORT": str(self.moto_port)})
        # The console is served by the API, so its page uploads from the API's origin (as deployed).
        origins = [f"http://127.0.0.1:{self._http.port}", f"http://localhost:{self._http.port}"]
        self.names = create_all(self.session(), local_names(), REGION, [*origins, *self.cors_origins])
        self._set_env(self.names)
        self.calls_queue_url = create_calls_queue(self.session(), self.names[resources.EVENT_BUS_ENV], REGION)
        self._set_env(webhooks.create_webhook_resources(self.session(), REGION))
        self._reset_handlers()
        self.seed_counts = [self.load_seed(seed) for seed in self.seeds]
        self._start_workers()
        self._start_schedules()
        from bulk_import.entrypoints import api, authorizer
        from bulk_import.local.gateway import LocalGateway

        self._http.listen(
            LocalGateway(api=api.handler, authorizer=authorizer.handler, public_paths=api.PUBLIC_PATHS)
        )

    def _start_workers(self) -> None:
        """Attach the queue consumers, as the event source mappings of the cloud stack do."""
        from bulk_import.entrypoints import file_drop, worker
        from bulk_import.local import webhooks
        from bulk_import.local.poller import SqsPoller
        from bulk_import.local.schedule import optional_handler

        sqs = self.session().client("sqs")
        chunks = resources.CHUNK_BATCH_SIZE
        consumers: list[tuple[str, Any, int, str]] = [
            (self.names[resources.CHUNK_QUEUE_ENV], worker.handler, chunks, "chunk-worker"),
            (self.names[resources.CHUNK_DLQ_ENV], worker.dlq_handler, chunks, "chunk-dlq"),
            (
                self.names[resources.FILE_DROP_QUEUE_ENV],
                file_drop.handler,
                resources.FILE_DROP_BATCH_SIZE,
                "file-drop",
            ),
        ]
        if not self.keep_call_events:
            consumers.append((self.calls_queue_url, self._receive_calls, 10, "calls"))
        # The consumer of dead-lettered file drops, in versions of the package that have one.
        file_drop_dlq = optional_handler("bulk_import.entrypoints.file_drop", "dlq_handler")
        if file_drop_dlq is not None:
            consumers.append(
                (
                    self.names[resources.FILE_DROP_DLQ_ENV],
                    file_drop_dlq,
                    resources.FILE_DROP_DLQ_BATCH_SIZE,
                    "file-drop-dlq",
                )
            )
        self.pollers = [
            SqsPoller(sqs, url, handler, batch_size=size, name=name).start()
            for url, handler, size, name in consumers
        ]
        self.pollers += [poller.start() for poller in webhooks.webhook_pollers(self.session())]

    def _start_schedules(self) -> None:
        """Run the scheduled functions of the cloud stack that this version of the package has."""
        from bulk_import.local.schedule import Schedule, optional_handler

        sweep = optional_handler("bulk_import.entrypoints.sweep", "handler")
        if sweep is not None:
            interval = self.sweep_interval
            if interval is None:
                interval = resources.SWEEP_INTERVAL_MINUTES * 60.0
            self.schedules = [Schedule(sweep, interval, name="sweep").start()]

    def _receive_calls(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.calls_received.extend(json.loads(record["body"]) for record in event["Records"])
        return {"batchItemFailures": []}

    def stop(self) -> None:
        """Stop serving, the workers and the emulation, and restore the environment."""
        if self._http is not None:
            self._http.close()
            self._http = None
        jobs = [*self.schedules, *self.pollers]
        for job in jobs:  # all are asked first, so they wind down together
            job.stop(wait=False)
        for job in jobs:
            job.stop()
        self.pollers, self.schedules = [], []
        if self._moto is not None:
            _reset_emulation(self.endpoint_url)
            self._moto.shutdown()
            self._moto.server_close()
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

    def load_seed(self, seed: str | Path | dict[str, Any]) -> dict[str, int]:
        """Load a seed file (a path) or a seed document into the local tables."""
        from bulk_import.adapters.aws import build_deps
        from bulk_import.adapters.dynamo_records import DynamoRecordStore
        from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
        from bulk_import.adapters.seed import load_seed
        from bulk_import.settings import Settings

        deps = build_deps(Settings.from_env(), self.session())
        assert isinstance(deps.tenants, DynamoTenantDirectory)
        assert isinstance(deps.records, DynamoRecordStore)
        document = seed if isinstance(seed, dict) else json.loads(Path(seed).read_text(encoding="utf-8"))
        return load_seed(document, deps.tenants, deps.records, webhooks=deps.webhooks)

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
        runtime.IDEMPOTENCY.set(None)
        authorizer.DIRECTORY.set(None)


def _reset_emulation(endpoint_url: str) -> None:
    """Forget everything the emulation holds: moto keeps its resources in the process, not in its server,
    so a stack started next in the same process (a test module after another) would find this one's
    tables, queued messages and waiting executions, and its pollers deliver them (a webhook retried
    after this stack stopped reached the next stack's endpoint). A stack that stops loses everything,
    as the laptop stack's docs say."""
    import urllib.request

    try:
        request = urllib.request.Request(f"{endpoint_url}/moto-api/reset", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10):
            pass
    except Exception:  # a stack that could not start has no emulation to reset
        log.warning("the AWS emulation could not be reset", exc_info=True)
