"""Which AWS failures are transient: worth retrying as is (throttling, service errors, the network)."""

from __future__ import annotations

from bulk_import.domain.errors import TransientError

#: Error codes of AWS APIs that say "try again", whatever the service.
TRANSIENT_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
    }
)


def is_transient(exc: BaseException) -> bool:
    """True for failures a retry may cure: ``TransientError``, throttling, 5xx, timeouts, lost connections."""
    if isinstance(exc, TransientError):
        return True
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError  # deferred: cold start

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return error.get("Code") in TRANSIENT_CODES or status >= 500
    return isinstance(exc, (ConnectionError, HTTPClientError, TimeoutError))
