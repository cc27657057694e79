"""What a file's reader decides about a row before the kind sees it: skipped (empty, a template
instruction row, a repeated header) or rejected, with what the rejected row carries to be judged."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bulk_import.engine.files.columns import fold_text, normalize_name
from bulk_import.rules.strings import is_blank

#: Text of template instruction rows, compared case- and accent-insensitively.
INSTRUCTION_MARKERS: tuple[str, ...] = ("champs obligatoires", "champ obligatoire", "required field")


def _has_marker(text: str) -> str | None:
    lowered = text.casefold()
    if "oblig" not in lowered and "required" not in lowered:
        return None  # the usual case, without folding accents and spacing
    folded = fold_text(text)
    return next((m for m in INSTRUCTION_MARKERS if m in folded), None)


def file_skip_reason(cells: list[Any], normalized_header: list[str] | None) -> str | None:
    """Why a row of a file is skipped whatever the kind (see the module notes), or None."""
    first: Any = None
    position = -1
    for position, cell in enumerate(cells):  # noqa: B007 - the position of the first non-blank cell
        if not is_blank(cell):
            first = cell
            break
    if first is None:
        return "empty row"
    if isinstance(first, str) and first.strip().startswith("*"):
        return "template instruction row (starts with *)"
    for cell in cells:
        if isinstance(cell, str):
            marker = _has_marker(cell)
            if marker is not None:
                return f'template instruction row (contains "{marker}")'
    if (
        normalized_header is not None
        and position < len(normalized_header)
        and normalize_name(first) == normalized_header[position]
    ):
        named = [
            (normalize_name(c), normalized_header[i])
            for i, c in enumerate(cells)
            if i < len(normalized_header) and not is_blank(c)
        ]
        if len(named) >= 2 and all(cell == header for cell, header in named):
            return "repeated header row"
    return None


def rejected_record(record: Any, sent: Any) -> Any:
    """What a rejected row carries to be judged: its record, or the row as sent when the record is empty.

    A record without a value would be skipped as an empty row by the kind, and the reader's reason for
    rejecting it lost (cells only past the header's columns, two keys for one field with blank values).
    """
    if isinstance(record, Mapping) and all(is_blank(v) for v in record.values()):
        return list(sent) if isinstance(sent, list) else sent
    return record
