"""Route modules' request models imported on first use: a module ``__getattr__`` (PEP 562) for them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def lazy_attributes(**targets: str) -> Callable[[str], Any]:
    """A module ``__getattr__`` (PEP 562) that imports each of ``targets`` on its first use.

    ``targets`` maps an attribute to a module (``"bulk_import.entrypoints.bodies"``) or to a name in
    one (``"bulk_import.kinds.customers:CustomerRow"``). Route modules name their request models in
    annotations, which the router resolves on a route's first request: the models, and pydantic with
    them, are then imported by the requests that validate a body, not with the handler.
    """

    def module_getattr(name: str) -> Any:
        target = targets.get(name)
        if target is None:
            raise AttributeError(name)
        import importlib

        module, _, attribute = target.partition(":")
        loaded = importlib.import_module(module)
        return getattr(loaded, attribute) if attribute else loaded

    return module_getattr
