"""What a deployment says about its webhooks, read without loading their machinery.

The API function learns from these settings whether the deployment sends webhooks (it has a key to seal
their secrets with) when it wires its ports; the adapters that configure and deliver them
(``webhook_sender``, ``webhook_secrets``, ``dynamo_webhooks``) are imported only when a request first
uses them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

#: Environment variables of the deployment's webhooks: the delivery queue, the KMS key that seals the
#: secrets, and (the local stack only) whether plain http to loopback addresses is allowed.
WEBHOOK_QUEUE_ENV = "WEBHOOK_QUEUE_URL"
WEBHOOK_DLQ_ENV = "WEBHOOK_DLQ_URL"
WEBHOOK_KEY_ENV = "WEBHOOK_KEY_ID"
WEBHOOK_LOOPBACK_ENV = "WEBHOOK_ALLOW_LOOPBACK_HTTP"


@dataclass(frozen=True)
class WebhookSettings:
    """The webhook settings of a deployment, read from the environment when first needed."""

    queue_url: str = ""
    key_id: str = ""
    allow_loopback_http: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        """Read the settings (default: ``os.environ``)."""
        e = os.environ if env is None else env
        return cls(
            queue_url=e.get(WEBHOOK_QUEUE_ENV, ""),
            key_id=e.get(WEBHOOK_KEY_ENV, ""),
            allow_loopback_http=e.get(WEBHOOK_LOOPBACK_ENV, "").lower() == "true",
        )
