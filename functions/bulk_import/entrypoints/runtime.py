"""Per-container state of the entry points: the ports, built lazily once, replaceable by tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:
    # Names for the annotations only: the ports' module and its value types are imported by the
    # adapters that build them, when a request first needs them.
    from bulk_import.adapters.aws import AwsClients
    from bulk_import.core.ports import Deps
    from bulk_import.usecases.idempotency import IdempotencyStore

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built on first use and kept for the life of the container.

    Tests (and the local stack) call ``set`` to hand in their own value; ``set`` also forgets the
    values of ``dependents`` (built from this one's environment), so they are built again too.
    """

    def __init__(self, factory: Callable[[], T], dependents: Sequence[Lazy[Any]] = ()) -> None:
        self._factory = factory
        self._value: T | None = None
        self._dependents = tuple(dependents)

    def get(self) -> T:
        """Return the value, building it the first time."""
        if self._value is None:
            self._value = self._factory()
        return self._value

    def set(self, value: T | None) -> None:
        """Replace the value (None: build again on next use)."""
        self._value = value
        for dependent in self._dependents:
            dependent.set(None)


def _build_clients() -> AwsClients:
    from bulk_import.adapters.aws import AwsClients  # deferred: pulls in botocore
    from bulk_import.settings import get_settings

    return AwsClients(get_settings())


#: The AWS clients of this container, one session for all (shared by the ports and the idempotency
#: store, so a request that uses both builds its DynamoDB client once).
CLIENTS: Lazy[AwsClients] = Lazy(_build_clients)


def _build_deps() -> Deps:
    from bulk_import.adapters.aws import build_deps  # deferred: pulls in botocore

    return build_deps(clients=CLIENTS.get())


#: The ports of this container (DynamoDB stores, clock…).
DEPS: Lazy[Deps] = Lazy(_build_deps, dependents=[CLIENTS])


def _build_idempotency() -> IdempotencyStore:
    from bulk_import.adapters.dynamo_idempotency import DynamoIdempotencyStore  # deferred: botocore
    from bulk_import.settings import get_settings

    return DynamoIdempotencyStore(CLIENTS.get().client("dynamodb"), get_settings().imports_table)


#: Where this container keeps idempotency keys (the imports table).
IDEMPOTENCY: Lazy[IdempotencyStore] = Lazy(_build_idempotency, dependents=[CLIENTS])
