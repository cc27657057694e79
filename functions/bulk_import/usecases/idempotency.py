"""Idempotency keys: a retried write answers what its first attempt answered, and writes nothing.

A client sends ``Idempotency-Key`` on a ``POST`` that writes. The key is scoped to the tenant and kept
for 24 hours, as a hash only. The first request with a key runs; a later one with the same route and
the same body (compared by a hash of the parsed JSON, so key order, whitespace and ``1.0`` against
``1`` do not matter) gets the first answer again, status and body, with ``Idempotent-Replayed: true``.
The same key with another route or body is refused (422), and so is a key whose first request is still
running (409). Only answers below 400 are remembered: an error, or a crash, frees the key so the
request can be sent again as is.

Exactly one of two concurrent requests with one key runs: ``IdempotencyStore.begin`` is a single
conditional write, and the store (not this module) decides who wins.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, NamedTuple, Protocol

from bulk_import.core.errors import BulkImportError

logger = logging.getLogger(__name__)

#: The request header that carries the key, and the answer header that marks a replay.
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
#: Keys are 1 to 255 printable ASCII characters (space to tilde).
MAX_KEY_LENGTH = 255
#: How long a key's first answer is replayed.
RETENTION_SECONDS = 24 * 3600
#: A request still marked running after this long was cut short (Lambda's longest timeout is
#: 15 minutes), so its key may be taken over by the next request that sends it.
ABANDONED_AFTER_SECONDS = 15 * 60


class InvalidIdempotencyKeyError(BulkImportError):
    """The ``Idempotency-Key`` header is empty, longer than 255 characters or not printable ASCII."""

    status = 400


class IdempotencyKeyReusedError(BulkImportError):
    """The key was first sent with another route or another body."""

    status = 422


class RequestInProgressError(BulkImportError):
    """The first request with this key is still running."""

    status = 409


class RecordState(StrEnum):
    """Where the request that owns a key is."""

    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


@dataclass(frozen=True)
class IdempotencyRecord:
    """What is kept of one key: its hash, the request's fingerprint and, once finished, the answer.

    Times are epoch seconds. ``expires_at`` ends the replay window (and is the table's TTL);
    ``locked_until`` ends the time an unfinished request may hold the key.
    """

    key_hash: str
    fingerprint: str
    state: RecordState
    started_at: int
    expires_at: int
    locked_until: int
    status: int | None = None
    body: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def holds_key(self, now: int) -> bool:
        """True while this record still decides what the key answers at ``now``."""
        if now >= self.expires_at:
            return False
        return self.state is RecordState.COMPLETED or now < self.locked_until


class IdempotencyStore(Protocol):
    """Where the records of keys live (the imports table in the cloud)."""

    def begin(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Create ``record`` (IN_PROGRESS) in one conditional write, unless the key is held.

        The write succeeds when no record exists for ``record.key_hash`` or when the existing one no
        longer holds the key at ``record.started_at`` (expired, or abandoned while in progress).

        Returns
        -------
        IdempotencyRecord | None
            None when ``record`` was written (the caller runs the request); otherwise the record that
            holds the key.
        """
        ...

    def complete(self, key_hash: str, status: int, body: str, headers: Mapping[str, str]) -> bool:
        """Keep the answer of the request that holds the key, in one update.

        Returns
        -------
        bool
            False when the answer was not kept (too large to store, or the record is gone); the key is
            then free again.
        """
        ...

    def release(self, key_hash: str) -> None:
        """Forget the key (its request failed or answered an error)."""
        ...


class IdempotentAnswer(NamedTuple):
    """An answer as the entry point sends it; ``replayed`` is True when it is a kept first answer."""

    status: int
    body: str
    headers: dict[str, str]
    replayed: bool


#: What the request's own handler answers: status, body text and headers.
Answer = tuple[int, str, Mapping[str, str]]


# -- keys and fingerprints ---------------------------------------------------------------------------
def validate_key(key: str) -> str:
    """Return ``key`` if it is 1 to 255 printable ASCII characters.

    Raises
    ------
    InvalidIdempotencyKeyError
        400, with a message that does not repeat the key.
    """
    if not key:
        raise InvalidIdempotencyKeyError(
            f"{IDEMPOTENCY_KEY_HEADER}: is empty; send 1 to {MAX_KEY_LENGTH} characters"
        )
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKeyError(
            f"{IDEMPOTENCY_KEY_HEADER}: has {len(key):,} characters; at most {MAX_KEY_LENGTH} are accepted"
        )
    if not all(" " <= char <= "~" for char in key):
        raise InvalidIdempotencyKeyError(
            f"{IDEMPOTENCY_KEY_HEADER}: only printable ASCII characters (space to ~) are accepted"
        )
    return key


def key_hash(tenant_id: str, key: str) -> str:
    """The stored name of a tenant's key: SHA-256 of the tenant and the key, never the key itself.

    The tenant's length comes first so that no other (tenant, key) pair can produce the same text.
    """
    text = f"{len(tenant_id)}:{tenant_id}:{key}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _number(value: int | float | Decimal) -> str:
    # One spelling per value, exactly (no rounding to a context's precision): 1, 1.0, 1.00 and 1e0 are
    # all "1e0", 10 and 1E+1 are "1e1"; NaN and the infinities keep their names.
    number = (
        value if isinstance(value, Decimal) else Decimal(repr(value) if isinstance(value, float) else value)
    )
    if not number.is_finite():
        return str(number)
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite numbers have an integer exponent
    kept = list(digits)
    while len(kept) > 1 and kept[-1] == 0:
        kept.pop()
        exponent += 1
    if kept == [0]:
        return "0"
    return f"{'-' if sign else ''}{''.join(map(str, kept))}e{exponent}"


def canonical_json(value: Any) -> str:
    """One text per parsed JSON value: keys sorted, no whitespace, numbers compared by value.

    Raises
    ------
    TypeError
        For a value that JSON parsing cannot produce.
    """
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int | float | Decimal):
        return _number(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(item) for item in value) + "]"
    if isinstance(value, Mapping):
        members = sorted((str(k), v) for k, v in value.items())
        return "{" + ",".join(f"{json.dumps(k)}:{canonical_json(v)}" for k, v in members) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def fingerprint(route: str, body: Any) -> str:
    """SHA-256 of the route and the canonical text of the parsed body.

    The route's path is taken without trailing slashes: the router answers ``/customers/`` as
    ``/customers``, so a retry spelt either way is the same request.
    """
    method, _, path = route.partition(" ")
    digest = hashlib.sha256()
    digest.update(f"{method} {path.rstrip('/') or '/'}".encode())
    digest.update(b"\n")
    digest.update(canonical_json(body).encode("utf-8"))
    return digest.hexdigest()


# -- the use case ------------------------------------------------------------------------------------
def _replay(record: IdempotencyRecord) -> IdempotentAnswer:
    assert record.status is not None and record.body is not None  # a COMPLETED record has its answer
    return IdempotentAnswer(record.status, record.body, {**record.headers, REPLAYED_HEADER: "true"}, True)


def _answer_for_held_key(existing: IdempotencyRecord, wanted: str, hashed: str) -> IdempotentAnswer:
    if existing.fingerprint != wanted:
        logger.info("idempotency key reused with another request", extra={"idempotencyKeyHash": hashed})
        raise IdempotencyKeyReusedError(
            f"this {IDEMPOTENCY_KEY_HEADER} was first sent with another route or body; "
            "send a new key for a different request",
        )
    if existing.state is RecordState.IN_PROGRESS:
        raise RequestInProgressError(
            f"the first request with this {IDEMPOTENCY_KEY_HEADER} is still being processed; "
            "retry after it finishes",
        )
    logger.info("idempotent replay", extra={"idempotencyKeyHash": hashed})
    return _replay(existing)


def run_idempotent(
    store: IdempotencyStore,
    tenant_id: str,
    key: str | None,
    route: str,
    body: Any,
    now: datetime,
    handler: Callable[[], Answer],
) -> IdempotentAnswer:
    """Run ``handler`` once per tenant and key; replay its answer to the same request for 24 hours.

    Parameters
    ----------
    store
        Where keys are kept.
    tenant_id
        The authenticated tenant; keys of different tenants never meet.
    key
        The ``Idempotency-Key`` header, or None when the request has none (it then simply runs).
    route
        What the request asks for, such as ``"POST /customers"`` (method and path with its values).
    body
        The parsed JSON body (None for none).
    now
        The current time, timezone-aware.
    handler
        Runs the request and returns its status, body text and headers.

    Returns
    -------
    IdempotentAnswer
        The handler's answer, or the first answer again with ``Idempotent-Replayed: true``.

    Raises
    ------
    InvalidIdempotencyKeyError
        400: the key is not 1 to 255 printable ASCII characters.
    IdempotencyKeyReusedError
        422: the key was first sent with another route or body.
    RequestInProgressError
        409: the first request with the key is still running.
    """
    if key is None:
        status, text, headers = handler()
        return IdempotentAnswer(status, text, dict(headers), False)
    hashed = key_hash(tenant_id, validate_key(key))
    wanted = fingerprint(route, body)
    started = int(now.timestamp())
    record = IdempotencyRecord(
        key_hash=hashed,
        fingerprint=wanted,
        state=RecordState.IN_PROGRESS,
        started_at=started,
        expires_at=started + RETENTION_SECONDS,
        locked_until=started + ABANDONED_AFTER_SECONDS,
    )
    existing = store.begin(record)
    if existing is not None:
        return _answer_for_held_key(existing, wanted, hashed)
    try:
        status, text, headers = handler()
    except BaseException:
        _release_quietly(store, hashed)
        raise
    if status >= 400:
        _release_quietly(store, hashed)
    else:
        _complete_quietly(store, hashed, status, text, headers)
    return IdempotentAnswer(status, text, dict(headers), False)


def _release_quietly(store: IdempotencyStore, hashed: str) -> None:
    # The request's own outcome is what the client must see; a key left held frees itself once its
    # request counts as abandoned.
    try:
        store.release(hashed)
    except Exception:
        logger.exception("could not free an idempotency key", extra={"idempotencyKeyHash": hashed})


def _complete_quietly(
    store: IdempotencyStore, hashed: str, status: int, text: str, headers: Mapping[str, str]
) -> None:
    # The write is done: failing to keep its answer must not turn a success into an error.
    try:
        kept = store.complete(hashed, status, text, headers)
    except Exception:
        logger.exception("could not keep an idempotent answer", extra={"idempotencyKeyHash": hashed})
        return
    if not kept:
        logger.warning(
            "idempotent answer not kept; the key is free again", extra={"idempotencyKeyHash": hashed}
        )
