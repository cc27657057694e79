"""The scheduled sweep (hourly): uploads whose file never arrived end FAILED ("no file was uploaded").

An import created by ``POST /v1/imports/uploads`` waits for its file; 24 hours after its upload URL
expired, no file can come any more, and the sweep fails it so that it is never left ``QUEUED``.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from bulk_import.entrypoints.runtime import DEPS
from bulk_import.usecases.imports import sweep_abandoned_uploads

logger = Logger(service="bulk-import")


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """EventBridge schedule: fail the abandoned uploads and say which."""
    failed = sweep_abandoned_uploads(DEPS.get())
    if failed:
        logger.info("abandoned uploads failed", extra={"import_ids": failed})
    return {"failedUploads": len(failed), "importIds": failed}
