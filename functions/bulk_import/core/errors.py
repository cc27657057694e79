"""Typed errors of the use cases; entry points map each to one HTTP status."""

from __future__ import annotations

from typing import Any


class BulkImportError(Exception):
    """Base of every error a use case raises on purpose.

    Parameters
    ----------
    message
        A sentence a person can act on.
    details
        Optional structured details returned to the client (for example the valid task types).
    """

    status: int = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidRequestError(BulkImportError):
    """The request itself is invalid (shape, limits, options): nothing was written."""

    status = 400


class AuthenticationError(BulkImportError):
    """No API key, or one that is not known."""

    status = 401


class ForbiddenError(BulkImportError):
    """A known API key without the scope the route needs."""

    status = 403


class NotFoundError(BulkImportError):
    """The thing does not exist for this tenant (foreign ids answer this too, never 403)."""

    status = 404


class PayloadTooLargeError(BulkImportError):
    """The body is larger than the endpoint accepts."""

    status = 413


class NotAvailableError(BulkImportError):
    """The request is valid but asks for something this deployment does not do yet."""

    status = 501


class ConflictError(BulkImportError):
    """The request conflicts with the stored state."""

    status = 409


class LmsUnavailableError(BulkImportError):
    """A tenant's loan management system could not be reached, or answered with an error (not a 404).

    Synchronous requests answer 502; in chunk workers the error fails the chunk so the queue retries it
    (and, if the LMS stays down, the dead-letter consumer marks its rows failed with this message).
    """

    status = 502


class WorkflowUnavailableError(BulkImportError):
    """The import was stored but its workflow could not be started; the import is FAILED with why."""

    status = 503


class ImportFailedError(BulkImportError):
    """A synchronous import stopped on an unexpected error after it was created: it is FAILED, with the
    reason and the counts of what was stored, and the client gets its id (``details["importId"]``)."""

    status = 500


class TransientError(Exception):
    """A failure worth retrying as is: throttling, a service error, an index that has not caught up.

    The workflow's task Lambda reports every transient failure under this name, and only this name (and
    Lambda's own service errors) is retried by the state machine; anything else fails the import.
    """


class FileChangedError(Exception):
    """A stored file was replaced or deleted since it was first read: its content is not the one imported."""
