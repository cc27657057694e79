"""Validating one row against a kind's row model, and turning pydantic's errors into readable ones.

This module owns the row plan: a flat row model (every field one annotated rule of ``fields.py``)
compiled to ``field -> rule``, validated first by pydantic-core (``row_fast.FastRow``) and, for the
rows it does not accept, by the rules themselves in Python, which write every error message; the
column-wise warm-up of expensive rules (``ColumnRule``, ``warm_rows``); and the messages of
``describe_error`` that request envelopes and nested models share.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ValidationError

from bulk_import.core.model import FieldError
from bulk_import.kinds.row_fast import FastPath, FastRow, Memo, storable
from bulk_import.kinds.row_limits import limit_errors, shown_name
from bulk_import.rules.strings import is_blank


def row_errors(
    model: type[BaseModel],
    raw: Any,
    *,
    context: Mapping[str, Any] | None = None,
    required: Sequence[str] = (),
) -> tuple[dict[str, Any] | None, list[FieldError]]:
    """Validate ``raw`` with a row model and turn every problem into a readable ``FieldError``.

    Flat models whose every field is one of the annotated types of ``fields.py`` run as a plan of
    those same rules (see ``_RowPlan``): pydantic-core first, which accepts the rows it can vouch
    for, then, for any other row, the rules one by one in Python, which say what is wrong. Other
    models (nested objects, plain types) are validated by pydantic.

    Parameters
    ----------
    model
        A row model whose fields are all optional; ``required`` names those this import needs.
    raw
        The row as sent.
    context
        Passed to the model's validators (tenant default region, timezone…).
    required
        Field names that must be present and non-empty after cleaning.

    Returns
    -------
    (record, errors)
        ``record`` holds the non-empty normalized fields when there are no errors, else None.
    """
    if type(raw) is not dict and not isinstance(raw, Mapping):
        return None, [FieldError("row", "row: must be an object with named fields")]
    warmed = context.get(FAST) if context is not None else None
    if warmed is not None and warmed[0] is model:
        plan, fast = warmed[1], warmed[2]
    else:
        plan = _RowPlan.of(model)
        fast = plan.fast_row() if plan is not None else None
    if fast is not None:
        accepted = fast.record(raw, context, _names(tuple(required)))
        if accepted is not None:
            return accepted, []
    if plan is not None:
        record, errors = plan.run(raw, context)
        present: Mapping[str, Any] = record
    else:
        errors = []
        try:
            parsed = model.model_validate(raw, context=context)
            record = {k: v for k, v in parsed.__dict__.items() if v is not None}
            present = record
        except ValidationError as exc:
            errors.extend(_field_errors(exc))
            present = raw
    for name in required:
        missing = name not in present or (plan is None and is_blank(present.get(name)))
        if missing and not any(e.field == name for e in errors):
            errors.append(FieldError(name, f"{name}: is required"))
    # Storage limits of every value as sent, for the fields whose own rule found nothing wrong.
    failed = {e.field.partition(".")[0].partition("[")[0] for e in errors} if errors else ()
    errors.extend(limit_errors(raw, failed))
    if errors:
        return None, errors
    return record, errors


@lru_cache(maxsize=64)
def _names(required: tuple[str, ...]) -> frozenset[str]:
    return frozenset(required)


class ColumnRule:
    """Marks a field rule as expensive and pure in (value, context): ``warm_rows`` runs it column-wise.

    Used as extra ``Annotated`` metadata next to the field's ``BeforeValidator`` (see ``fields.Phone``).
    """


#: Key of the per-request memo of column rule results inside a validation context: for each rule, the
#: value as sent -> (accepted, value stored or error message).
MEMO = "_column_memo"
_NOTHING: Mapping[str, tuple[bool, Any]] = {}
#: Key of ``(model, plan, compiled validator)`` of a warmed batch (its column memos built in) in a context.
FAST = "_fast_row"


def warm_rows(model: type[BaseModel], rows: Sequence[Any], context: dict[str, Any]) -> None:
    """Evaluate the model's column rules (``ColumnRule`` fields) once for every distinct value of ``rows``.

    Phone parsing is most of a row's cost, and it runs markedly faster in one tight loop than interleaved
    with the other fields' rules (the phone library's tables stay in the CPU caches). A value is worked
    out once per batch and rule, whichever column holds it: the key is the text and the rule's other
    input, the region, is the batch's context. The results, values or error messages, go into
    ``context[MEMO]``, which the Python plan consults, and the values into the memos of a validator
    compiled for this batch (``context[FAST]``), which pydantic-core looks them up in.
    """
    plan = _RowPlan.of(model)
    if plan is None or not plan.columns:
        return
    results: dict[Any, dict[str, tuple[bool, Any]]] = context.setdefault(MEMO, {})
    info = _Info(context)
    memos: dict[str, Memo] = {}
    for name in plan.columns:
        func = plan.rules[name][0]
        known = results.setdefault(func, {})
        for raw in rows:
            if type(raw) is not dict:
                continue
            value = raw.get(name)
            if type(value) is not str or value in known:
                continue
            try:
                known[value] = (True, func(value, info))
            except ValueError as exc:
                known[value] = (False, str(exc))
    for name in plan.columns:
        # What pydantic-core may take as it is: values the rule accepted, and that row_limits lets through.
        known = results[plan.rules[name][0]]
        memos[name] = Memo({value: r[1] for value, r in known.items() if r[0] and storable(value)})
    fast_row = FastRow(plan.rules, plan.fast, memos)
    context[FAST] = (model, plan, fast_row if fast_row.usable else None)


class _Info:
    """The part of pydantic's ``ValidationInfo`` our field rules read."""

    __slots__ = ("context",)

    def __init__(self, context: Mapping[str, Any] | None) -> None:
        self.context = context


class _RowPlan:
    """A flat row model compiled to ``field -> rule``: the rules are the model's own BeforeValidators."""

    _cache: ClassVar[dict[type[BaseModel], _RowPlan | None]] = {}

    def __init__(
        self,
        rules: dict[str, tuple[Any, bool]],
        forbid_extra: bool,
        columns: tuple[str, ...],
        fast: dict[str, FastPath] | None = None,
    ) -> None:
        self.rules = rules
        self.forbid_extra = forbid_extra
        self.columns = columns
        self.fast = fast or {}
        self._fast_row: FastRow | None = None

    def fast_row(self) -> FastRow | None:
        """The compiled validator without column memos (a warmed batch has its own), if it can be used."""
        if self._fast_row is None:
            self._fast_row = FastRow(self.rules, self.fast)
        return self._fast_row if self._fast_row.usable else None

    @classmethod
    def of(cls, model: type[BaseModel]) -> _RowPlan | None:
        """The plan of ``model``, or None when a field is not a single-rule annotated type."""
        if model not in cls._cache:
            cls._cache[model] = cls._compile(model)
        return cls._cache[model]

    @classmethod
    def _compile(cls, model: type[BaseModel]) -> _RowPlan | None:
        decorators = model.__pydantic_decorators__
        if decorators.field_validators or decorators.model_validators or decorators.validators:
            return None
        rules: dict[str, tuple[Any, bool]] = {}
        columns: list[str] = []
        fast: dict[str, FastPath] = {}
        for name, info in model.model_fields.items():
            if info.alias or info.validation_alias or info.default is not None:
                return None
            validators = [m for m in info.metadata if isinstance(m, BeforeValidator)]
            column = any(isinstance(m, ColumnRule) for m in info.metadata)
            paths = [m for m in info.metadata if isinstance(m, FastPath)]
            if len(validators) != 1 or len(paths) > 1 or len(info.metadata) != 1 + column + len(paths):
                return None
            if paths:
                fast[name] = paths[0]
            func = validators[0].func
            takes_info = len(inspect.signature(func).parameters) == 2
            if column and not takes_info:
                return None
            rules[name] = (func, takes_info)
            if column:
                columns.append(name)
        return cls(rules, model.model_config.get("extra") == "forbid", tuple(columns), fast)

    def run(
        self, raw: Mapping[str, Any], context: Mapping[str, Any] | None
    ) -> tuple[dict[str, Any], list[FieldError]]:
        """Apply every rule; return the non-empty normalized values and the field errors."""
        record: dict[str, Any] = {}
        errors: list[FieldError] = []
        info = _Info(context)
        rules = self.rules
        results = context.get(MEMO) if context is not None and self.columns else None
        for name, value in raw.items():
            rule = rules.get(name)
            if rule is None:
                if self.forbid_extra:
                    shown = shown_name(name)
                    errors.append(FieldError(shown, f"{shown}: is not a known field"))
                continue
            func, takes_info = rule
            if results is not None and type(value) is str:
                hit = results.get(func, _NOTHING).get(value)
                if hit is not None:
                    if hit[0]:
                        if hit[1] is not None:
                            record[name] = hit[1]
                    else:
                        errors.append(FieldError(name, f"{name}: {hit[1]}"))
                    continue
            try:
                result = func(value, info) if takes_info else func(value)
            except ValueError as exc:
                errors.append(FieldError(name, f"{name}: {exc}"))
                continue
            if result is not None:
                record[name] = result
        return record, errors


_TYPE_MESSAGES = {
    "missing": "is required",
    "extra_forbidden": "is not a known field",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "decimal_parsing": "must be a number",
    "decimal_type": "must be a number",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "list_type": "must be a list",
    "json_invalid": "is not valid JSON",
    "json_type": "is not valid JSON",
}


#: Type errors that, given ``null``, mean the value is missing (a flag given null is told "must be true or
#: false": the flags that refuse null are optional ones that take nothing but a boolean).
_NULL_IS_MISSING = frozenset(
    {
        "string_type",
        "int_type",
        "float_type",
        "decimal_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "list_type",
        "literal_error",
        "enum",
    }
)


#: Bounds of a number (``limit=0``): the words before the bound, and the bound's key in the error.
_BOUNDS = {
    "greater_than_equal": ("at least", "ge"),
    "greater_than": ("more than", "gt"),
    "less_than_equal": ("at most", "le"),
    "less_than": ("less than", "lt"),
}


def describe_error(err: Mapping[str, Any], strip_prefix: str | None = None) -> tuple[str, str]:
    """Turn one pydantic error into ``(field, "field: message")`` a person can act on."""
    parts = [shown_name(p) for p in err.get("loc", ())]
    if strip_prefix and parts and parts[0] == strip_prefix and len(parts) > 1:
        parts = parts[1:]
    loc = ".".join(parts) or "row"
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    sent_loc = tuple(err.get("loc", ()))
    named = bool(sent_loc) and not isinstance(sent_loc[-1], int)
    if err.get("input", "") is None and kind in _NULL_IS_MISSING and named:
        # ``null`` where a field's value is needed is a missing value, as an empty string is: "is
        # required" says what to do, "must be text" would not (a null list item is told its type).
        return loc, f"{loc}: is required"
    if kind == "string_too_short" and int(ctx.get("min_length", 0)) <= 1:
        return loc, f"{loc}: is required"
    if kind == "string_too_long":
        return loc, f"{loc}: at most {int(ctx.get('max_length', 0)):,} characters"
    if kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        return loc, f"{loc}: {words} {ctx.get(key)}"
    if kind == "value_error":
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
    elif kind in _TYPE_MESSAGES:
        msg = _TYPE_MESSAGES[kind]
    elif kind == "too_long":
        msg = f"at most {int(ctx.get('max_length', 0)):,} items"
    elif kind == "too_short":
        msg = f"at least {int(ctx.get('min_length', 0)):,} item(s)" if parts[-1:] != [] else "too short"
        if "string" in str(err.get("msg", "")).lower():
            msg = "must not be empty"
    elif kind == "literal_error":
        msg = f"must be {ctx.get('expected', 'one of the allowed values')}"
    else:
        msg = str(err.get("msg", ""))
        msg = msg[:1].lower() + msg[1:]
    if kind in ("json_invalid", "json_type"):
        loc = "body"
    return loc, f"{loc}: {msg}"


def describe_validation_errors(
    errors: Sequence[Mapping[str, Any]], strip_prefix: str | None = None
) -> list[str]:
    """Readable messages for a list of pydantic errors (request envelopes)."""
    return [describe_error(e, strip_prefix)[1] for e in errors]


def _field_errors(exc: ValidationError) -> list[FieldError]:
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc, message = describe_error(err)
        out.append(FieldError(loc, message))
    return out
