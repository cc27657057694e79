"""Row validation, written once for every kind: skip, validate, normalize and dedupe.

Whatever a row holds costs only that row: an unexpected failure while one row is judged fails that
row (``ROW_NOT_HANDLED``) and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from bulk_import.core.model import RowOutcome
from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.base import ImportKind

OptionsT = TypeVar("OptionsT")

log = logging.getLogger(__name__)


def validate_rows(
    kind: ImportKind[OptionsT],
    rows: Iterable[Any],
    options: OptionsT,
    tenant: TenantConfig,
    *,
    start_index: int = 0,
    seen: dict[str, int] | None = None,
    duplicates: Mapping[int, int] | None = None,
    duplicate_fields: Mapping[int, str] | None = None,
    skipped: Mapping[int, str] | None = None,
    rejected: Mapping[int, str] | None = None,
) -> list[RowOutcome]:
    """Skip, validate, normalize and dedupe rows.

    Parameters
    ----------
    kind, options, tenant
        The import kind, its options and the tenant's configuration.
    rows
        Raw rows in order; each outcome's ``index`` is ``start_index`` plus its position.
    seen
        Keys already used earlier in the same import (key -> first index); updated in place so pages
        of one request share one dedupe scope.
    duplicates
        Rows already known to repeat an earlier row's key (index -> first index), found when an async
        import was split: they fail whatever chunk they land in. ``duplicate_fields`` names the field
        reported for some of them (default: ``kind.duplicate_field``).
    skipped, rejected
        Rows a file reader already judged (index -> reason): skipped (empty or instruction rows of a
        file, whatever the kind) or failed with a message naming the problem (``"row: ..."``, e.g. a
        JSON Lines row that is not JSON).

    Returns
    -------
    list[RowOutcome]
        One outcome per row, valid ones with ``record`` and ``key`` set.
    """
    seen = {} if seen is None else seen
    if not isinstance(rows, Sequence):
        rows = list(rows)
    try:
        kind.warm(rows, options)
    except Exception:  # a cache of column results: rows are validated one by one all the same
        log.warning("%s: warming the column rules failed; validating row by row", kind.name, exc_info=True)
    outcomes: list[RowOutcome] = []
    for offset, raw in enumerate(rows):
        index = start_index + offset
        try:
            outcome = _judge(
                kind, raw, index, options, tenant, seen, duplicates, duplicate_fields, skipped, rejected
            )
        except Exception:
            # Whatever a row holds, it costs only itself: an unexpected failure of the rules is its own.
            log.exception("%s: row %d could not be validated", kind.name, index)
            outcome = RowOutcome(index=index, raw=raw, refs=safe_references(kind, raw))
            outcome.fail("row", ROW_NOT_HANDLED)
        outcomes.append(outcome)
    return outcomes


#: A row whose validation raised: something in it that the rules did not foresee.
ROW_NOT_HANDLED = "row: not processed: it holds a value this import cannot handle"


def safe_references(kind: ImportKind[Any], raw: Any) -> dict[str, str]:
    """The caller's references of a row, or none when the row is too odd to have them."""
    try:
        return kind.references(raw)
    except Exception:
        return {}


def _judge(
    kind: ImportKind[OptionsT],
    raw: Any,
    index: int,
    options: OptionsT,
    tenant: TenantConfig,
    seen: dict[str, int],
    duplicates: Mapping[int, int] | None,
    duplicate_fields: Mapping[int, str] | None,
    skipped: Mapping[int, str] | None,
    rejected: Mapping[int, str] | None,
) -> RowOutcome:
    """The outcome of one row (see ``validate_rows``)."""
    reason = skipped.get(index) if skipped else None
    if reason is None:
        reason = kind.skip_reason(raw)
    if reason is not None:
        return RowOutcome(index=index, raw=raw, skipped_reason=reason, status="skipped")
    problem = rejected.get(index) if rejected else None
    if problem is not None:
        outcome = RowOutcome(index=index, raw=raw, refs=kind.references(raw))
        outcome.fail("row", problem)
        return outcome
    outcome = kind.validate(raw, index, options, tenant)
    if not outcome.refs:
        outcome.refs = kind.references(raw)
    if duplicates and index in duplicates and outcome.record is not None and not outcome.errors:
        name = (duplicate_fields or {}).get(index) or kind.duplicate_field(outcome)
        outcome.fail(name, f"{name}: {kind.duplicate_message(duplicates[index])}")
    # The key as sent takes part whether its row is valid or not, as when an import is split into chunks:
    # a later row repeating a failed row's key is a duplicate too, in a request as in a file.
    sent = kind.dedupe_key(raw, options)
    sent_mark = None if sent is None else _ref_mark("", sent)
    if outcome.record is None or outcome.errors:
        outcome.status = "failed"
        if sent_mark is not None:
            seen.setdefault(sent_mark, index)
        for name in kind.unique_refs:
            if name in outcome.refs:
                seen.setdefault(_ref_mark(name, outcome.refs[name]), index)
        return outcome
    key = kind.key(outcome.record, options)
    first = seen.get(key)
    if first is None and sent_mark is not None:
        first = seen.get(sent_mark)
    repeated = _repeated_ref(kind, outcome, seen) if kind.unique_refs else None
    if first is not None and first != index:
        name = kind.duplicate_field(outcome)
        outcome.fail(name, f"{name}: {kind.duplicate_message(first)}")
    elif repeated is not None:
        name, first = repeated
        outcome.fail(name, f"{name}: {kind.duplicate_message(first)}")
    else:
        seen[key] = index
        if sent_mark is not None:
            seen.setdefault(sent_mark, index)
        for name in kind.unique_refs:
            if name in outcome.refs:
                seen[_ref_mark(name, outcome.refs[name])] = index
        outcome.key = key
    return outcome


def _ref_mark(name: str, value: str) -> str:
    # Lives in the same ``seen`` map as record keys (so chunks share it); the NUL prefix keeps it apart
    # from every record key.
    return f"\0{name}\0{value}"


def _repeated_ref(
    kind: ImportKind[Any], outcome: RowOutcome, seen: Mapping[str, int]
) -> tuple[str, int] | None:
    """The first of ``kind.unique_refs`` whose value an earlier row of the import already used."""
    for name in kind.unique_refs:
        value = outcome.refs.get(name)
        if value is None:
            continue
        first = seen.get(_ref_mark(name, value))
        if first is not None and first != outcome.index:
            return name, first
    return None
