"""Per-container state of the entry points: the ports, built lazily once, replaceable by tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from bulk_import.core.ports import Deps
from bulk_import.usecases.idempotency import IdempotencyStore

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built on first use and kept for the life of the container.

    Tests (and the local stack) call ``set`` to hand in their own value.
    """

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._value: T | None = None

    def get(self) -> T:
        """Return the value, building it the first time."""
        if self._value is None:
            self._value = self._factory()
        return self._value

    def set(self, value: T | None) -> None:
        """Replace the value (None: build again on next use)."""
        self._value = value


def _build_deps() -> Deps:
    from bulk_import.adapters.aws import build_deps  # deferred: pulls in boto3

    return build_deps()


#: The ports of this container (DynamoDB stores, clock…).
DEPS: Lazy[Deps] = Lazy(_build_deps)


def _build_idempotency() -> IdempotencyStore:
    # deferred: pulls in boto3
    from bulk_import.adapters.aws import AwsClients
    from bulk_import.adapters.dynamo_idempotency import DynamoIdempotencyStore
    from bulk_import.settings import get_settings

    settings = get_settings()
    return DynamoIdempotencyStore(AwsClients(settings).client("dynamodb"), settings.imports_table)


#: Where this container keeps idempotency keys (the imports table).
IDEMPOTENCY: Lazy[IdempotencyStore] = Lazy(_build_idempotency)
