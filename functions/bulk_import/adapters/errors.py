"""Which AWS failures are transient: worth retrying as is (throttling, service errors, the network)."""

from __future__ import annotations

from bulk_import.core.errors import TransientError

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


class UnstorableValueError(ValueError):
    """A value DynamoDB cannot hold (a number beyond its precision or range, a lone surrogate…).

    ``message`` names the attribute and the limit in words a client can act on; it never repeats the
    value.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


#: What DynamoDB's ValidationException messages mean for one item, in the client's words. Matched by
#: substring; the service's own text (and a local emulator's error pages) never reaches a row error.
_REFUSALS = (
    ("item size has exceeded", "the record is larger than DynamoDB accepts (400 KB an item)"),
    ("size of hashkey", "a key is longer than DynamoDB accepts (2 KB a partition key)"),
    ("range key", "a key is longer than DynamoDB accepts (1 KB a sort key)"),
    ("number overflow", "a number is larger than DynamoDB stores (at most 9.99e125)"),
    ("number underflow", "a number is closer to zero than DynamoDB stores (at least 1e-130)"),
    ("significant digits", "a number has more than the 38 significant digits DynamoDB stores"),
    ("empty string", "a key is empty, which DynamoDB does not accept"),
)


def is_refusal(exc: BaseException) -> bool:
    """True when storage refused a request for the items it holds, not for a failure of its own.

    A ValidationException (an item too large, a key too long, a number out of range, duplicate keys in
    one batch), or a value the client could not even send (a lone surrogate in a text).
    """
    if isinstance(exc, (UnstorableValueError, UnicodeError)):
        return True
    from botocore.exceptions import ClientError, ParamValidationError

    if isinstance(exc, ParamValidationError):
        return True
    return isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code") == "ValidationException"


def refusal_reason(exc: BaseException) -> str:
    """Why storage refused one item, in words that name the limit (for a permanent failure)."""
    if isinstance(exc, UnstorableValueError):
        return exc.message
    if isinstance(exc, UnicodeError):
        return "a text holds a lone surrogate or other characters that are not Unicode text"
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        text = str(exc.response.get("Error", {}).get("Message", "")).lower()
        for needle, reason in _REFUSALS:
            if needle in text:
                return reason
    return "DynamoDB refused the record as invalid"


def transient_reason(exc: BaseException | None) -> str:
    """A short name of a transient failure (its error code or exception type), never its raw text."""
    if exc is None:
        return "throttled"
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code") or "")
        if code in TRANSIENT_CODES:
            return code
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return f"HTTP {status} from DynamoDB" if status else "a DynamoDB error"
    return type(exc).__name__
