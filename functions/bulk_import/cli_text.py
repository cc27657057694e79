"""Text a person reads on the command line: counts on one line, cut lists, plural nouns; and the port
numbers a person types."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import Any

#: The order counts are shown in; names the import does not have are left out.
COUNT_ORDER = ("total", "valid", "invalid", "succeeded", "failed", "skipped", "cancelled")
#: Fields of a per-row error that are not the row's own reference.
ERROR_FIELDS = frozenset({"index", "field", "message"})


def counts_line(counts: Mapping[str, Any] | None, names: Iterable[str] | None = None) -> str:
    """Counts as ``total 3 · valid 3 · failed 0``, in the usual order, then any others.

    Parameters
    ----------
    counts
        The counts of an import (or of a dry run, a seed load...).
    names
        Only these names, in this order (None: every count, the usual ones first).
    """
    if not counts:
        return "no counts yet"
    if names is None:
        known = [n for n in COUNT_ORDER if n in counts]
        names = [*known, *sorted(n for n in counts if n not in COUNT_ORDER)]
    return " · ".join(f"{name} {_number(counts.get(name))}" for name in names if name in counts)


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def plural(count: int, noun: str) -> str:
    """``1 row``, ``2 rows``."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def more_line(shown: int, total: int, where: str = "") -> str | None:
    """``… and N more`` when a list of ``total`` was cut to ``shown`` (None when nothing was cut)."""
    if total <= shown:
        return None
    return f"… and {total - shown:,} more{f' ({where})' if where else ''}"


def row_reference(error: Mapping[str, Any]) -> str:
    """The caller's own reference of a row's error (``loan_id=L-1``), empty when it has none."""
    return " ".join(f"{k}={v}" for k, v in error.items() if k not in ERROR_FIELDS)


def failed_rows(errors: Iterable[Mapping[str, Any]]) -> list[tuple[int, str, list[str]]]:
    """Per-row errors grouped by row, in row order: ``(index, reference, [messages])``."""
    rows: dict[int, tuple[str, list[str]]] = {}
    for error in errors:
        index = int(error.get("index", -1))
        rows.setdefault(index, (row_reference(error), []))[1].append(str(error.get("message", "")))
    return [(index, reference, messages) for index, (reference, messages) in rows.items()]


def seed_counts_line(counts: Mapping[str, int]) -> str:
    """What a seed load stored: ``1 tenant, 2 API keys, 9 configuration entries``."""
    entries = counts.get("entries", 0)
    return ", ".join(
        [
            plural(counts.get("tenants", 0), "tenant"),
            plural(counts.get("apiKeys", 0), "API key"),
            f"{entries:,} configuration {'entry' if entries == 1 else 'entries'}",
        ]
    )


def port_number(text: str) -> int:
    """A TCP port number for argparse (0: a free one)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def seed_key_lines(seed: Mapping[str, Any]) -> list[str]:
    """The API keys a seed document gives, one line each (``API key acme-secret: tenant acme, scopes …``):
    what a person needs to call the stack it was loaded into."""
    lines = []
    for tenant in seed.get("tenants") or ():
        for key in tenant.get("apiKeys") or ():
            scopes = " ".join(str(s) for s in key.get("scopes") or ()) or "none"
            lines.append(f"API key {key.get('key')}: tenant {tenant.get('id')}, scopes {scopes}")
    return lines
