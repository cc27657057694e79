"""Runtime settings, read from the environment when first asked for, never at import time."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

from bulk_import import resources


@dataclass(frozen=True)
class Settings:
    """Names of the stack's resources, as the CDK app or the local stack set them."""

    config_table: str
    imports_table: str
    records_table: str
    bucket: str
    chunk_queue_url: str
    chunk_dlq_url: str
    event_bus_name: str
    state_machine_arn: str
    region: str

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``); missing names become empty strings."""
        e = os.environ if env is None else env
        return cls(
            config_table=e.get(resources.CONFIG_TABLE.env_var, ""),
            imports_table=e.get(resources.IMPORTS_TABLE.env_var, ""),
            records_table=e.get(resources.RECORDS_TABLE.env_var, ""),
            bucket=e.get(resources.BUCKET_ENV, ""),
            chunk_queue_url=e.get(resources.CHUNK_QUEUE_ENV, ""),
            chunk_dlq_url=e.get(resources.CHUNK_DLQ_ENV, ""),
            event_bus_name=e.get(resources.EVENT_BUS_ENV, ""),
            state_machine_arn=e.get(resources.STATE_MACHINE_ENV, ""),
            region=e.get("AWS_REGION") or e.get("AWS_DEFAULT_REGION") or "us-east-1",
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings of this container, read once on first use."""
    return Settings.from_env()
