"""``POST /customers``: one customer, written synchronously with the batch's own rules and pipeline.

The customers kind (``kinds/customers.py``) holds every rule; this use case only runs the pipeline's
steps on a single row (prepare, validate, read the stored version, persist) and turns a failure into
the status the seed documents: 400 (listing the valid task types when the task type is unknown, or
when storage refuses the customer for what it holds), 404 when the LMS does not know a ``sync``
customer, 502 when the LMS cannot be reached, 500 when storage could not take it for now.

A single customer is not an import: nothing is recorded under ``/v1/imports`` and an invalid customer
writes nothing. Its record still carries a write id of its own as ``importId``, which is what tells a
later write "updated" from "created".
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from bulk_import.core.errors import BulkImportError, InvalidRequestError
from bulk_import.core.model import StoredRecord
from bulk_import.core.ports import Deps, RecordStore, RefusedWrite, WriteFailure
from bulk_import.core.tenants import Principal
from bulk_import.engine.pipeline import load_tenant, persist, read_existing
from bulk_import.kinds import get_kind
from bulk_import.kinds.customers import CustomersKind
from bulk_import.kinds.validation import validate_rows


@dataclass
class _WatchedStore:
    """The records store, keeping what a write left unwritten: a refusal for good tells 400 from 500."""

    store: RecordStore
    failures: list[WriteFailure] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        """Whether storage refused a record for what it holds (sending it again cannot help)."""
        return any(isinstance(f, RefusedWrite) for f in self.failures)

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        """Write as the store does, keeping the failures."""
        failures = self.store.put_records(tenant_id, import_id, records)
        self.failures.extend(failures)
        return failures

    def get_records(
        self, tenant_id: str, entity: str, keys: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Read as the store does."""
        return self.store.get_records(tenant_id, entity, keys, fields)

    def iter_import_records(
        self, tenant_id: str, import_id: str, entity: str, fields: Sequence[str] | None = None
    ) -> Iterator[StoredRecord]:
        """List as the store does."""
        return self.store.iter_import_records(tenant_id, import_id, entity, fields)


def customers_kind() -> CustomersKind:
    """The registered customers kind."""
    return cast(CustomersKind, get_kind("customers"))


def upsert_customer(deps: Deps, principal: Principal, body: Any) -> tuple[bool, dict[str, Any]]:
    """Create or update one customer of the caller's tenant.

    Parameters
    ----------
    deps
        The ports (records, tenants, clock, LMS).
    principal
        The caller; the tenant comes from its key.
    body
        The customer as sent (a JSON object in the seed's field names).

    Returns
    -------
    (created, customer)
        ``created`` is False when the id existed already (an update); ``customer`` is the stored
        customer in the seed's response shape.

    Raises
    ------
    InvalidRequestError
        The customer breaks a rule (400, every message in ``errors``; ``validTaskTypes`` when the task
        type is unknown), or storage refuses it for good (400 with the refusal, a value or a size it
        cannot hold).
    NotFoundError
        ``sync`` and the LMS does not know the id (404), or the tenant is not configured.
    LmsUnavailableError
        ``sync`` and the LMS could not be reached (502).
    BulkImportError
        Storage could not take it for now, after its retries (500: send it again).
    """
    if not isinstance(body, Mapping):
        raise InvalidRequestError("body: must be a JSON object with the customer's fields")
    kind = customers_kind()
    tenant = load_tenant(deps.tenants, principal)
    rows = [body]
    options = kind.prepare(rows, kind.options({}, tenant, deps.clock.now()), tenant, deps)
    (outcome,) = validate_rows(kind, rows, options, tenant)
    if outcome.record is None or outcome.errors or outcome.key is None:
        raise kind.single_error(outcome, tenant)
    existing = read_existing(kind, [outcome], deps.records, tenant.tenant_id)
    store = _WatchedStore(deps.records)
    persist(kind, [outcome], options, store, tenant.tenant_id, deps.new_id(), existing=existing)
    if outcome.status not in ("created", "updated") or outcome.record is None:
        if store.refused or not store.failures:
            # Refused for what it holds (a value or a size storage cannot take): the client's to fix.
            raise kind.single_error(outcome, tenant)
        reason = "; ".join(e.message for e in outcome.errors) or "not stored"
        raise BulkImportError(f"customer {outcome.key}: {reason}")
    stored = kind.to_stored(outcome.record, outcome.key, options)
    return outcome.status == "created", kind.present(stored.data)
