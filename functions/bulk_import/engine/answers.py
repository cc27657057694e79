"""Synchronous answers that fit Lambda's response: per-row lists cut at a byte budget, saying so.

A synchronous import answers with an entry per row in some lists (``answer_row_lists`` of its kind:
the row errors of campaign customers, the created, failed and skipped debts). 10,000 rows that each
fail with a few long messages make more than Lambda's 6 MB response, which API Gateway turns into a
502 without the import's id. Above ``ANSWER_BYTES`` (counted as the response carries the body: escaped
once more) the lists are cut from their end, in the order the
kind gives (the first list keeps its entries longest), and the answer says what was cut and where every
row's result is: ``truncated`` is true (as in a dry run's job view holding its first page), ``cut`` maps
each cut list to ``{"shown", "total"}``, and ``moreAt`` names the
import's pages of errors (its ``results.csv`` and ``errors.csv`` have every row too).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

#: Bytes an answer may take in Lambda's response, above which its per-row lists are cut: 6 MB for the
#: whole response, less the proxy envelope and its headers.
ANSWER_BYTES = 5_500_000


def _size(value: Any) -> int:
    """Bytes of ``value`` as Lambda's response carries it: its JSON, escaped again as the body string of
    the proxy envelope (every quote and backslash doubles: a value full of them counts twice)."""
    text = json.dumps(value, default=str, ensure_ascii=False, separators=(",", ":"))
    return len(text.encode()) + text.count('"') + text.count("\\")


def fit_answer(
    payload: dict[str, Any], row_lists: Sequence[str], *, limit: int = ANSWER_BYTES
) -> dict[str, Any]:
    """``payload`` as it is when it fits ``limit`` bytes; else a copy with ``row_lists`` cut to fit.

    ``row_lists`` are dotted paths (``"results.errors"``) to lists of ``payload``; a path that is not a
    list there is left alone.
    """
    total = _size(payload)
    if total <= limit or not row_lists:
        return payload
    # The objects on the way to each list are copied, once (the kind's answer stays as it was); the
    # entries and every other value are the answer's own, numbers included.
    out = dict(payload)
    copies = {id(out)}
    found: list[tuple[str, dict[str, Any], str, list[Any]]] = []
    for path in row_lists:
        *parents, name = path.split(".")
        holder: dict[str, Any] | None = out
        for part in parents:
            child = holder.get(part) if holder is not None else None
            if not isinstance(child, dict):
                holder = None
                break
            if id(child) not in copies:
                child = dict(child)
                copies.add(id(child))
                holder[part] = child  # type: ignore[index]
            holder = child
        if holder is not None and isinstance(holder.get(name), list):
            found.append((path, holder, name, holder[name]))
    sizes = {path: [_size(entry) + 1 for entry in entries] for path, _, _, entries in found}
    # What the answer weighs without its lists, plus the note of what was cut (a generous estimate).
    room = limit - (total - sum(sum(s) for s in sizes.values())) - 200 * (len(found) + 1)
    truncated: dict[str, dict[str, int]] = {}
    for path, holder, name, entries in found:
        kept = 0
        for size in sizes[path]:
            if size > room:
                break
            room -= size
            kept += 1
        if kept < len(entries):
            holder[name] = entries[:kept]
            truncated[path] = {"shown": kept, "total": len(entries)}
            room = -1  # the lists after a cut one keep nothing: a list is never shown with a gap before it
    if truncated:
        out["truncated"] = True
        out["cut"] = truncated
        import_id = out.get("importId") or out.get("import_id")
        if import_id:
            out["moreAt"] = f"/v1/imports/{import_id}/errors"
    return out
