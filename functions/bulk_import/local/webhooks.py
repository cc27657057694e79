"""Webhooks on the laptop: the delivery queue and key, the poller that delivers, and a receiver to watch them.

``create_webhook_resources`` makes what the CDK app declares (the delivery queue with its dead-letter
queue after the same number of receives, a KMS key) and allows plain http to loopback endpoints, which
only the local stack does. ``WebhookPoller`` hands each queued delivery to the same Lambda handler as the
cloud, and, like Lambda's event source mapping, leaves a failed one as the handler held it back: the
retry schedule is the deployed one. ``bulk-import webhooks listen`` runs a receiver that verifies each
delivery with the Standard Webhooks library and prints it.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any

from bulk_import.adapters.webhook_sender import (
    WEBHOOK_BATCH_SIZE,
    WEBHOOK_DLQ_ENV,
    WEBHOOK_KEY_ENV,
    WEBHOOK_LOOPBACK_ENV,
    WEBHOOK_MAX_RECEIVE_COUNT,
    WEBHOOK_QUEUE_ENV,
    WEBHOOK_VISIBILITY_TIMEOUT_SECONDS,
)
from bulk_import.local.poller import SqsPoller

log = logging.getLogger(__name__)

QUEUE_NAME = "bulk-import-webhooks"
#: Longest body the receiver reads.
MAX_BODY = 6 * 1024 * 1024


def create_webhook_resources(session: Any, region: str) -> dict[str, str]:
    """Create the delivery queue, its dead-letter queue and the key that seals secrets; return the
    environment that names them (and allows http to loopback endpoints)."""
    from bulk_import import resources

    sqs = session.client("sqs", region_name=region)
    dlq_url = sqs.create_queue(
        QueueName=f"{QUEUE_NAME}-dlq",
        Attributes={"MessageRetentionPeriod": str(resources.DLQ_RETENTION_SECONDS)},
    )["QueueUrl"]
    attributes = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]
    dlq_arn = attributes["QueueArn"]
    queue_url = sqs.create_queue(
        QueueName=QUEUE_NAME,
        Attributes={
            "VisibilityTimeout": str(WEBHOOK_VISIBILITY_TIMEOUT_SECONDS),
            "MessageRetentionPeriod": str(resources.QUEUE_RETENTION_SECONDS),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(WEBHOOK_MAX_RECEIVE_COUNT)}
            ),
        },
    )["QueueUrl"]
    kms = session.client("kms", region_name=region)
    key_id = kms.create_key(Description="bulk-import webhook secrets")["KeyMetadata"]["KeyId"]
    return {
        WEBHOOK_QUEUE_ENV: queue_url,
        WEBHOOK_DLQ_ENV: dlq_url,
        WEBHOOK_KEY_ENV: key_id,
        WEBHOOK_LOOPBACK_ENV: "true",
    }


class WebhookPoller(SqsPoller):
    """Receives deliveries and invokes ``handler`` with the SQS event Lambda would send.

    Deletes what succeeded; unlike the other pollers, a reported failure is left alone, at the visibility
    the handler gave it (the next delay of the schedule), as Lambda's event source mapping does.
    """

    def _give_back(self, m: dict[str, Any]) -> None:
        """Left at the visibility the handler set: the next delay of the delivery schedule."""


#: Deliveries the local stack makes at once, as the delivery function's concurrent invocations do on AWS:
#: an endpoint that keeps each attempt its 10 seconds holds up one of them, not every tenant's events.
CONCURRENT_DELIVERIES = 4


def webhook_poller(session: Any, name: str = "webhooks") -> WebhookPoller:
    """A poller of the local stack's delivery queue (named by the environment), on the deployed
    delivery handler."""
    import os

    from bulk_import.entrypoints import webhook_delivery

    queue_url = os.environ[WEBHOOK_QUEUE_ENV]
    return WebhookPoller(
        session.client("sqs"),
        queue_url,
        webhook_delivery.handler,
        batch_size=WEBHOOK_BATCH_SIZE,
        name=name,
    )


def webhook_pollers(session: Any, count: int = CONCURRENT_DELIVERIES) -> list[WebhookPoller]:
    """``count`` pollers of the delivery queue, each making one delivery at a time (the queue hands a
    message to one of them only, as it hands it to one invocation of the function)."""
    return [webhook_poller(session, "webhooks" if n == 0 else f"webhooks-{n + 1}") for n in range(count)]


# -- bulk-import webhooks listen ----------------------------------------------------------------------------


def verify_delivery(secret: str, body: bytes, headers: dict[str, str]) -> Any:
    """The delivery's JSON document, once the Standard Webhooks library verified its signature.

    Raises
    ------
    standardwebhooks.webhooks.WebhookVerificationError
        The signature, or its timestamp, does not verify.
    """
    from standardwebhooks import Webhook

    return Webhook(secret).verify(body, headers)


def receiver(secret: str, out: IO[str], answer: int = 204) -> type[BaseHTTPRequestHandler]:
    """A request handler that verifies each POST, prints it to ``out`` and answers ``answer`` (401 when
    the signature does not verify)."""

    class _Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            try:
                document = verify_delivery(secret, body, headers)
            except Exception as exc:
                print(f"{_now()} REFUSED {self.path}: {exc}", file=out, flush=True)
                self._answer(401)
                return
            data = document.get("data") or {}
            counts = data.get("counts") or {}
            print(
                f"{_now()} verified {document.get('type')} {headers.get('webhook-id', '')} "
                f"import {data.get('importId')} status {data.get('status')} counts {json.dumps(counts)}",
                file=out,
                flush=True,
            )
            print(json.dumps(document, indent=2), file=out, flush=True)
            self._answer(answer)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the deliveries are printed instead."""

    return _Receiver


def _now() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def listen(port: int, secret: str, out: IO[str] | None = None) -> ThreadingHTTPServer:
    """A receiver on 127.0.0.1:``port`` (0: a free one), not yet serving (call ``serve_forever``).

    Raises
    ------
    ValueError
        ``secret`` is not a ``whsec_`` secret an endpoint can have.
    OSError
        The port cannot be bound.
    """
    from bulk_import.usecases.webhooks import secret_problem

    problem = secret_problem(secret)
    if problem:  # a secret that cannot be the endpoint's fails here, not at the first delivery
        raise ValueError(f"--secret {problem}")
    return ThreadingHTTPServer(("127.0.0.1", port), receiver(secret, out or sys.stdout))


def _listen(args: argparse.Namespace) -> int:
    try:
        server = listen(args.port, args.secret)
    except ValueError as exc:
        print(f"bulk-import webhooks listen: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"bulk-import webhooks listen: port {args.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    port = server.server_address[1]
    print(f"listening on http://127.0.0.1:{port}/ (configure it with PUT /v1/webhooks); Ctrl-C stops")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def add_parser(sub: Any) -> None:
    """Register ``bulk-import webhooks listen`` on the command line's subcommands."""
    webhooks = sub.add_parser(
        "webhooks",
        help="watch webhook deliveries arrive",
        description="Tools for the stack's webhooks.",
    )
    actions = webhooks.add_subparsers(dest="webhooks_command", required=True, metavar="ACTION")
    listen_parser = actions.add_parser(
        "listen",
        help="receive webhook deliveries on 127.0.0.1 and print the verified ones",
        description="Listen on 127.0.0.1:PORT, verify each delivery's signature with the Standard Webhooks "
        "library and print it (refused ones are printed as REFUSED and answered 401). Point the tenant's "
        'webhook at it: PUT /v1/webhooks {"url": "http://127.0.0.1:PORT/", ...}.',
    )
    from bulk_import.cli_text import port_number

    listen_parser.add_argument(
        "--port", type=port_number, default=8787, help="port on 127.0.0.1 (default: 8787)"
    )
    listen_parser.add_argument("--secret", required=True, help="the endpoint's whsec_ secret")
    listen_parser.set_defaults(func=_listen)
