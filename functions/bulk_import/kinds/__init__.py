"""The registry of import kinds. Adding a kind: one module in this package and one line below."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from typing import Any

from bulk_import.core.errors import NotFoundError
from bulk_import.kinds.base import ImportKind

#: kind name -> "module:ClassName". Modules are imported on first use, keeping cold starts short.
REGISTRY: dict[str, str] = {
    "campaign-customers": "bulk_import.kinds.campaign_customers:CampaignCustomersKind",
    "customers": "bulk_import.kinds.customers:CustomersKind",
    "debts": "bulk_import.kinds.debts:DebtsKind",
    "payments": "bulk_import.kinds.payments:PaymentsKind",
}


@cache
def get_kind(name: str) -> ImportKind[Any]:
    """Return the (stateless, shared) kind registered under ``name``.

    Raises
    ------
    NotFoundError
        No kind has that name.
    """
    target = REGISTRY.get(name)
    if target is None:
        raise NotFoundError(f"unknown import kind {name!r}; known kinds: {', '.join(sorted(REGISTRY))}")
    module, _, cls = target.partition(":")
    kind: ImportKind[Any] = getattr(import_module(module), cls)()
    return kind
