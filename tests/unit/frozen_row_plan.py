"""A frozen copy of the row validator as it was before pydantic-core validated rows: the test oracle.

``test_validation_equivalence.py`` holds the product's validator (``row_plan.row_errors`` after
``warm_rows``) equal to this one on generated rows. It is the pure-Python plan (``field -> rule``,
one rule after the other, in the row's order) with the column warm-up, and phones parsed by
``phonenumbers.parse`` itself; the field rules (``fields.py``, ``bulk_import.rules``) are the
product's, which the fast path must agree with. Do not "fix" or speed up this file: it is what the
product is compared against; a deliberate change of behaviour changes both, with its reason.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException
from pydantic import BaseModel, BeforeValidator, ValidationError

from bulk_import.core.model import FieldError
from bulk_import.kinds import fields
from bulk_import.kinds.row_limits import limit_errors, shown_name
from bulk_import.kinds.row_plan import ColumnRule, describe_error
from bulk_import.rules import phones
from bulk_import.rules.errors import RuleError
from bulk_import.rules.limits import (
    _INT_BOUND,
    MAX_KEY_CHARS,
    MAX_NESTING,
    MSG_KEY_EMPTY,
    MSG_KEY_TOO_LONG,
    MSG_TOO_DEEP,
    MSG_TOO_MANY_DIGITS,
    _utf8_len,
    number_problem,
    text_problem,
)
from bulk_import.rules.strings import is_blank


def _parse(compact: str, region: str | None) -> phonenumbers.PhoneNumber:
    try:
        return phonenumbers.parse(compact, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise RuleError(phones.MSG_UNKNOWN_COUNTRY_CODE) from None
        if exc.error_type == NumberParseException.TOO_LONG:
            raise RuleError(phones.MSG_TOO_LONG) from None
        raise RuleError(phones.MSG_TOO_SHORT) from None


def normalize_phone(raw: object, default_region: str) -> str:
    """``phones.normalize_phone`` as it was, on ``phonenumbers.parse``."""
    region = default_region.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"unsupported default phone region: {default_region!r}")
    number = _parse(phones._compact(raw), region)
    if phones.is_valid(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    raise phones._invalid(number, phones._region_for_message(number, region))


def _phone(value: Any, info: Any) -> str | None:
    if value is None or is_blank(value):
        return None
    return normalize_phone(value, (info.context or {}).get("region", "US"))


#: Product rules replaced by their frozen versions.
_FROZEN = {fields._phone: _phone}
MEMO = "_frozen_column_memo"


class _Info:
    __slots__ = ("context",)

    def __init__(self, context: Mapping[str, Any] | None) -> None:
        self.context = context


def _plan(model: type[BaseModel]) -> tuple[dict[str, tuple[Any, bool]], bool, tuple[str, ...]] | None:
    decorators = model.__pydantic_decorators__
    if decorators.field_validators or decorators.model_validators or decorators.validators:
        return None
    rules: dict[str, tuple[Any, bool]] = {}
    columns: list[str] = []
    for name, info in model.model_fields.items():
        if info.alias or info.validation_alias or info.default is not None:
            return None
        validators = [m for m in info.metadata if isinstance(m, BeforeValidator)]
        if len(validators) != 1:
            return None
        func = validators[0].func
        takes_info = len(inspect.signature(func).parameters) == 2
        rules[name] = (_FROZEN.get(func, func), takes_info)
        if any(isinstance(m, ColumnRule) for m in info.metadata):
            columns.append(name)
    return rules, model.model_config.get("extra") == "forbid", tuple(columns)


def warm_rows(model: type[BaseModel], rows: Sequence[Any], context: dict[str, Any]) -> None:
    """The column rules of every distinct value, into ``context[MEMO]``."""
    plan = _plan(model)
    if plan is None or not plan[2]:
        return
    rules, _, columns = plan
    memo: dict[tuple[str, Any], tuple[bool, Any]] = context.setdefault(MEMO, {})
    info = _Info(context)
    for name in columns:
        func = rules[name][0]
        for raw in rows:
            if type(raw) is not dict:
                continue
            value = raw.get(name)
            if type(value) is not str or (name, value) in memo:
                continue
            try:
                memo[(name, value)] = (True, func(value, info))
            except ValueError as exc:
                memo[(name, value)] = (False, str(exc))


def _run(
    rules: dict[str, tuple[Any, bool]],
    forbid_extra: bool,
    raw: Mapping[str, Any],
    context: Mapping[str, Any] | None,
) -> tuple[dict[str, Any], list[FieldError]]:
    record: dict[str, Any] = {}
    errors: list[FieldError] = []
    info = _Info(context)
    memo = context.get(MEMO) if context is not None else None
    for name, value in raw.items():
        rule = rules.get(name)
        if rule is None:
            if forbid_extra:
                shown = shown_name(name)
                errors.append(FieldError(shown, f"{shown}: is not a known field"))
            continue
        if memo is not None and type(value) is str:
            hit = memo.get((name, value))
            if hit is not None:
                if hit[0]:
                    if hit[1] is not None:
                        record[name] = hit[1]
                else:
                    errors.append(FieldError(name, f"{name}: {hit[1]}"))
                continue
        func, takes_info = rule
        try:
            result = func(value, info) if takes_info else func(value)
        except ValueError as exc:
            errors.append(FieldError(name, f"{name}: {exc}"))
            continue
        if result is not None:
            record[name] = result
    return record, errors


def row_errors(
    model: type[BaseModel],
    raw: Any,
    *,
    context: Mapping[str, Any] | None = None,
    required: Sequence[str] = (),
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """``row_plan.row_errors`` as it was."""
    if type(raw) is not dict and not isinstance(raw, Mapping):
        return None, [FieldError("row", "row: must be an object with named fields")]
    plan = _plan(model)
    if plan is not None:
        record, errors = _run(plan[0], plan[1], raw, context)
        present: Mapping[str, Any] = record
    else:
        errors = []
        try:
            parsed = model.model_validate(raw, context=context)
            record = {k: v for k, v in parsed.__dict__.items() if v is not None}
            present = record
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc, message = describe_error(err)
                errors.append(FieldError(loc, message))
            present = raw
    for name in required:
        missing = name not in present or (plan is None and is_blank(present.get(name)))
        if missing and not any(e.field == name for e in errors):
            errors.append(FieldError(name, f"{name}: is required"))
    failed = {e.field.partition(".")[0].partition("[")[0] for e in errors} if errors else ()
    errors.extend(limit_errors(raw, failed))
    if errors:
        return None, errors
    return record, errors


# -- the storage-limit walks as they were (rules/limits.py) -------------------------------------
def old_find_value_problem(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """Walk a JSON-like value and find the first text, number, key or nesting level storage refuses.

    Parameters
    ----------
    value
        A value as sent: dicts, lists and tuples are walked; strings, numbers, booleans, None and other
        scalars are leaves.
    path
        The dotted path of ``value`` so far (``"externalMetadata"``); nested keys are appended with dots
        and list positions in brackets (``externalMetadata.scores[2]``).
    depth
        The nesting level of ``value`` (0 for a field's value).

    Returns
    -------
    (path, message) or None
        Where the first problem is and its message, or None when every part is within the limits.
    """
    kind = type(value)
    if kind is str:
        problem = text_problem(value)
        return (path, problem) if problem else None
    if kind is int:
        if -_INT_BOUND < value < _INT_BOUND:
            return None
        return path, MSG_TOO_MANY_DIGITS
    if value is None or kind is bool:
        return None
    if kind is float or kind is Decimal:
        problem = number_problem(value)
        return (path, problem) if problem else None
    if kind is dict or isinstance(value, Mapping):
        if depth >= MAX_NESTING:
            return path, MSG_TOO_DEEP
        for key, item in value.items():
            name = key if type(key) is str else str(key)
            where = f"{path}.{name}" if path else name
            if not name:
                return path, MSG_KEY_EMPTY
            if len(name) > MAX_KEY_CHARS:
                return path, MSG_KEY_TOO_LONG
            problem = text_problem(name)
            if problem:
                return path, f"object keys {problem}"
            found = old_find_value_problem(item, where, depth + 1)
            if found:
                return found
        return None
    if kind is list or isinstance(value, (list, tuple)):
        if depth >= MAX_NESTING:
            return path, MSG_TOO_DEEP
        for position, item in enumerate(value):
            found = old_find_value_problem(item, f"{path}[{position}]", depth + 1)
            if found:
                return found
        return None
    if isinstance(value, str):
        problem = text_problem(str(value))
        return (path, problem) if problem else None
    if isinstance(value, (int, float, Decimal)):
        problem = number_problem(value)
        return (path, problem) if problem else None
    return None


def old_estimated_size(value: Any) -> int:
    """An upper estimate of the bytes DynamoDB counts for a value as stored.

    Strings count their UTF-8 bytes, numbers about one byte per two digits plus one, booleans and nulls
    one byte, maps and lists three bytes plus one per element plus their content (map keys as UTF-8).
    Dates and other scalars count as their text.
    """
    kind = type(value)
    if kind is str:
        return len(value) if value.isascii() else _utf8_len(value)
    if kind is int or kind is float or kind is bool or value is None:
        if kind is bool or value is None:
            return 1
        return (len(repr(value)) + 1) // 2 + 1
    if isinstance(value, Decimal):
        return (len(value.as_tuple().digits) + 1) // 2 + 1
    if isinstance(value, Mapping):
        total = 3
        for key, item in value.items():
            total += 1 + old_estimated_size(str(key)) + old_estimated_size(item)
        return total
    if isinstance(value, (list, tuple, set, frozenset)):
        return 3 + sum(1 + old_estimated_size(item) for item in value)
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return old_estimated_size(str(value))
