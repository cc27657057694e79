"""Webhook adapters: name resolution, the HTTP transport, the delivery queue, and their wiring.

The transport connects to the address the delivery checked, not to whatever the name resolves to a
moment later, so a name that changes between the check and the connection (DNS rebinding) cannot lead
a delivery inside the network. TLS still verifies the certificate against the URL's host.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# The settings are read where the ports are wired (``adapters.aws``), without this module; they stay
# importable from here with the other constants of the deployment's webhooks.
from bulk_import.adapters.webhook_settings import (  # noqa: F401
    WEBHOOK_DLQ_ENV,
    WEBHOOK_KEY_ENV,
    WEBHOOK_LOOPBACK_ENV,
    WEBHOOK_QUEUE_ENV,
    WebhookSettings,
)
from bulk_import.core.ports import WebhookPorts
from bulk_import.usecases.webhook_deliveries import MAX_ATTEMPTS

#: The delivery function and its queue, shared by the CDK app and the local stack: one delivery per
#: invocation (each has its own schedule), a timeout well above the endpoint's 10 seconds, and a receive
#: count that lets every attempt of the schedule run before the dead-letter queue.
WEBHOOK_BATCH_SIZE = 1
WEBHOOK_FUNCTION_TIMEOUT_SECONDS = 30
WEBHOOK_VISIBILITY_TIMEOUT_SECONDS = 6 * WEBHOOK_FUNCTION_TIMEOUT_SECONDS
WEBHOOK_MAX_RECEIVE_COUNT = MAX_ATTEMPTS
#: At most this much of an endpoint's answer is read: only its status matters.
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "bulk-import-webhooks/1"
#: The metric counting events that could not be announced (their import went on regardless).
METRICS_NAMESPACE = "BulkImport"
ANNOUNCE_FAILURES = "WebhookAnnounceFailures"


class SocketResolver:
    """``getaddrinfo``: every IPv4 and IPv6 address of a name, as a connection would find them."""

    def resolve(self, host: str, port: int) -> list[str]:
        """See ``AddressResolver.resolve``."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError, OSError):
            return []
        return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class HttpTransport:
    """POSTs deliveries (standard library), pinned to the checked address, never following redirects."""

    def post(self, url: str, address: str, body: bytes, headers: Mapping[str, str], timeout: float) -> int:
        """See ``WebhookTransport.post``."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        secure = parts.scheme.lower() == "https"
        port = parts.port or (443 if secure else 80)
        connection_type = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        connection = connection_type(host, port, address, timeout)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        # The socket's timeout bounds each read; an endpoint that trickles its answer a byte at a time
        # would hold the delivery far longer. At the deadline the socket is shut, which ends the read.
        late = threading.Event()
        deadline = threading.Timer(timeout, _shut, (connection, late))
        deadline.daemon = True
        deadline.start()
        try:
            connection.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
            )
            answer = connection.getresponse()
            answer.read(MAX_ANSWER_BYTES)
            deadline.cancel()  # the answer is in: a timer firing now would not make it late
            if late.is_set():
                raise TimeoutError(f"the endpoint did not answer within {timeout:g} s")
            return int(answer.status)
        except (http.client.HTTPException, OSError) as exc:
            if late.is_set():
                raise TimeoutError(f"the endpoint did not answer within {timeout:g} s") from exc
            if isinstance(exc, OSError):
                raise
            raise OSError(f"the endpoint's answer is not HTTP: {type(exc).__name__}") from exc
        finally:
            deadline.cancel()
            connection.close()


def _shut(connection: http.client.HTTPConnection, late: threading.Event) -> None:
    """End the exchange on ``connection`` now: its blocked read returns, and ``late`` says why."""
    late.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@dataclass
class SqsWebhookQueue:
    """One SQS message per delivery."""

    client: Any
    queue_url: str

    def send(self, message: dict[str, Any]) -> None:
        """See ``WebhookQueue.send``."""
        self.client.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(message))

    def retry_later(self, receipt: str, seconds: int) -> None:
        """See ``WebhookQueue.retry_later``: the message's visibility timeout is the backoff."""
        self.client.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=seconds
        )


def build_webhook_ports(
    clients: Any, config_table: str, imports_table: str, settings: WebhookSettings | None = None
) -> WebhookPorts | None:
    """The webhook ports of this deployment, or None when it has no key to seal secrets with.

    Parameters
    ----------
    clients
        Builds boto3 clients (``bulk_import.adapters.aws.AwsClients``).
    config_table, imports_table
        Where endpoints and the marks of announced events are stored.
    settings
        Default: read from the environment.
    """
    from bulk_import.adapters.dynamo_webhooks import DynamoWebhookStore
    from bulk_import.adapters.webhook_secrets import KmsSecretBox

    settings = settings or WebhookSettings.from_env()
    if not settings.key_id:
        return None
    return WebhookPorts(
        store=DynamoWebhookStore(clients.client("dynamodb"), config_table, imports_table),
        secrets=KmsSecretBox(clients.lazy("kms"), settings.key_id),
        resolver=SocketResolver(),
        queue=SqsWebhookQueue(clients.lazy("sqs"), settings.queue_url) if settings.queue_url else None,
        transport=HttpTransport(),
        allow_loopback_http=settings.allow_loopback_http,
    )


def count_announce_failure(event: str, exc: Exception) -> None:
    """Count an event that could not be announced: a metric in CloudWatch's embedded format, on stdout."""
    document = {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [["service"]],
                    "Metrics": [{"Name": ANNOUNCE_FAILURES, "Unit": "Count"}],
                }
            ],
        },
        "service": "bulk-import",
        "event": event,
        ANNOUNCE_FAILURES: 1,
    }
    print(json.dumps(document), flush=True)
