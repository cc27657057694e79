"""The storage limits applied to every row of every kind, whatever its fields.

``row_errors`` (``row_plan.py``) runs ``limit_errors`` after a row's own field rules: every text, number, key
and nested value of the row as sent is checked against ``bulk_import.rules.limits``, so a kind
gets the checks without declaring anything, and a value storage cannot hold fails its row alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Collection, Mapping
from typing import Any

from bulk_import.core.model import FieldError
from bulk_import.rules.limits import (
    MAX_RECORD_BYTES,
    MAX_REFERENCE_CHARS,
    estimated_size,
    find_value_problem,
    record_size_message,
    reference_problem,
    text_problem,
)
from bulk_import.rules.strings import clean, is_blank, nfc

# Integers strictly inside this bound have at most 38 digits (the usual case: two comparisons).
_INT_BOUND = 10**38
# Floats within these magnitudes (or zero) are storable numbers: their shortest repr has 17 digits.
_MIN_FLOAT = 1e-130
_MAX_FLOAT = 9.99e125
#: Longest field name repeated in a message (a message never echoes much of what was sent).
MAX_NAME_ECHO = 60


def shown_name(name: object) -> str:
    """A field name as it may appear in a message: printable, without lone surrogates, at most 60 chars.

    Names sent by the caller (an unknown field) are echoed in messages that must encode as UTF-8 JSON.
    """
    text = name if type(name) is str else str(name)
    if len(text) <= MAX_NAME_ECHO and text.isprintable():
        return text
    escaped = text[: MAX_NAME_ECHO * 2].encode("ascii", "backslashreplace").decode("ascii")
    if len(escaped) > MAX_NAME_ECHO or len(text) > MAX_NAME_ECHO * 2:
        return escaped[:MAX_NAME_ECHO] + "…"
    return escaped


def limit_errors(raw: Mapping[str, Any], failed: Collection[str] = ()) -> list[FieldError]:
    """The storage limits a raw row breaks, one error per field at most.

    Parameters
    ----------
    raw
        The row as sent (or as merged, for customers filled from an LMS).
    failed
        Top-level fields that already have an error from their own rule: not reported twice.

    Returns
    -------
    list[FieldError]
        ``"<field>: <message>"`` for the first text, number, key or nesting level of a field that breaks a
        limit (``"externalMetadata.score: at most 38 significant digits"``), and ``"row: the stored record
        would be about N KB; at most 350 KB"`` when the row as sent is already over the record limit.
    """
    errors: list[FieldError] = []
    # Characters, not bytes: UTF-8 needs at most 4 bytes a character, so only a row past a quarter of
    # the limit is measured exactly.
    chars = 0
    for name, value in raw.items():
        kind = type(value)
        # Fast paths: printable text, small integers and ordinary floats are most of every row.
        if kind is str:
            chars += len(value)
            if value.isprintable():
                continue
            problem = text_problem(value)
            found = (str(name), problem) if problem else None
        elif kind is int:
            if -_INT_BOUND < value < _INT_BOUND:
                continue
            found = find_value_problem(value, str(name))
        elif kind is float:
            if _MIN_FLOAT <= abs(value) <= _MAX_FLOAT or value == 0.0:
                continue
            found = find_value_problem(value, str(name))
        elif value is None or kind is bool:
            continue
        else:
            found = find_value_problem(value, str(name))
            if found is None:
                # Measured only once known to be shallow (the walk stops at the nesting limit).
                chars += estimated_size(value)
        if found is None:
            continue
        # An empty key is reported on the row: an empty name cannot key the stored errors.
        field = shown_name(name) or "row"
        if field in failed or name in failed:
            continue
        path, message = found
        errors.append(FieldError(field, f"{_shown_path(path)}: {message}"))
    if chars + len(raw) * MAX_NAME_ECHO > MAX_RECORD_BYTES // 4 and not errors:
        size = estimated_size(raw)
        if size > MAX_RECORD_BYTES:
            errors.append(FieldError("row", f"row: {record_size_message(size)}"))
    return errors


def _shown_path(path: str) -> str:
    if len(path) <= MAX_NAME_ECHO * 2 and path.isprintable():
        return path
    return shown_name(path)


def reference_text(value: Any) -> str | None:
    """A caller reference as trimmed text, or None when it is missing or could not be a reference.

    Used wherever a reference is echoed or compared before its row is validated (per-row errors,
    duplicate detection): a value over ``MAX_REFERENCE_CHARS``, with control characters or lone
    surrogates, or that is not text or a number, is no usable reference (its row fails on it).
    """
    if type(value) is str:
        text = value.strip()
        if not text:
            return None
        if len(text) <= MAX_REFERENCE_CHARS and text.isprintable():
            return nfc(text)
    elif value is None or isinstance(value, (dict, list, tuple, bool)):
        return None
    try:
        cleaned = clean(value)
    except ValueError:
        return None
    if cleaned is None:
        return None
    cleaned = nfc(cleaned)
    return None if reference_problem(cleaned) is not None else cleaned


#: What replaces a sensitive value wherever rows are echoed.
MASK = "***"
# Words of a key name: "ssnLastFour" -> ssn, last, four; "SSN_last4" -> ssn, last, 4.
_KEY_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def is_sensitive_key(name: object) -> bool:
    """Whether a key names a social security number (``ssnLastFour``, ``SSN``, ``social_security``), by
    its words: ``businessName`` holds the letters ``ssn`` but names no such thing."""
    words = [w.lower() for w in _KEY_WORDS.findall(str(name))]
    return "ssn" in words or ("social", "security") in itertools.pairwise(words)


def mask_sensitive(value: Any) -> Any:
    """``value`` with the value of every key naming a social security number masked, at any depth.

    For rows echoed as sent (``errors.csv``, a failed debt's ``data``): a misspelt ``ssn_last_four``
    fails its row as an unknown field, and its value must not be written out in clear either. The value
    is copied only where something is masked; blank values stay as they are.
    """
    if isinstance(value, Mapping):
        masked: dict[Any, Any] | None = None
        for key, item in value.items():
            new = MASK if is_sensitive_key(key) and not is_blank(item) else mask_sensitive(item)
            if new is not item:
                masked = masked if masked is not None else dict(value)
                masked[key] = new
        return value if masked is None else masked
    if isinstance(value, list):
        items = [mask_sensitive(item) for item in value]
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    return value
