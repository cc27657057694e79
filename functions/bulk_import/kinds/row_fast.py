"""The compiled side of a row plan: a pydantic-core validator that accepts the rows it can vouch for.

A row of a flat row model is first given to one ``SchemaValidator`` (Rust) built from the fields'
annotated types. Each field tries, in order:

1. the shapes pydantic-core reads itself with a result equal to the field's own rule (``FastPath``:
   printable text without surrounding blanks, plain decimal text and small whole numbers for
   amounts, ``YYYY-MM-DD`` dates, JSON booleans, …);
2. for a column rule (phones), the batch's memo of already normalized values (``Memo``), looked up
   from Rust;
3. the field's own rule, called from Rust, provided the value as sent is one ``row_limits`` lets
   through (``storable``).

A row it accepts is the record the plan would give. A row it refuses, for whatever reason, is
validated again by the Python plan (``row_plan._RowPlan``), which alone writes error messages: the
order and wording of the errors come from one place, and the compiled validator never has to
agree with it on anything but accepted rows (a property test holds the two equal).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import SchemaValidator, core_schema

from bulk_import.kinds.row_limits import MAX_NAME_ECHO
from bulk_import.rules.limits import MAX_RECORD_BYTES, estimated_size, find_value_problem

#: Longest text or largest nested value taken on the compiled path. With at most ``_MAX_FIELDS`` fields
#: a row of such values stays under a quarter of ``MAX_RECORD_BYTES`` in characters, the point where
#: ``row_limits`` starts measuring the row, so an accepted row never needs that check.
MAX_FAST_CHARS = 2000
_MAX_FIELDS = (MAX_RECORD_BYTES // 4) // (MAX_FAST_CHARS + MAX_NAME_ECHO)

# Text that is its own trimmed, storable form: no control, format (zero-width, byte-order mark),
# unassigned or private-use character and no separator but the plain space, and neither end a space.
# Every character Python's str.strip() or rules.strings.clean() removes is in \p{C} or \p{Z}.
_TRIMMED_TEXT = r"^[^\p{C}\p{Z}](?:(?:[^\p{C}\p{Z}]| )*[^\p{C}\p{Z}])?$"
_TRIMMED_REFERENCE = r"^[^\p{C}\p{Z}\p{M}](?:(?:[^\p{C}\p{Z}\p{M}]| )*[^\p{C}\p{Z}\p{M}])?$"
_INT_BOUND = 10**38
_MIN_FLOAT = 1e-130
_MAX_FLOAT = 9.99e125


def text_branch(max_length: int = MAX_FAST_CHARS, *, composed: bool = False) -> core_schema.CoreSchema:
    """Text accepted as it is: already trimmed and printable, at most ``max_length`` characters.

    ``composed``: also without combining marks (Unicode category M), which references take through their rule
    to be composed (NFC) first: a reference written with ``e`` and a combining accent is the one with ``é``.
    """
    pattern = _TRIMMED_REFERENCE if composed else _TRIMMED_TEXT
    return core_schema.str_schema(strict=True, pattern=pattern, max_length=max_length)


def decimal_branches(*, allow_zero: bool = True) -> list[core_schema.CoreSchema]:
    """Amounts whose value is ``Decimal(text)`` or ``Decimal(int)`` and within every amount bound.

    At most 12 integer digits and 3 decimals: under ``MAX_AMOUNT``, and a non-zero one at least
    ``MIN_AMOUNT``.
    """
    bound = {"ge": 0} if allow_zero else {"gt": 0}
    return [
        core_schema.chain_schema(
            [
                core_schema.str_schema(strict=True, pattern=r"^[0-9]{1,12}(?:\.[0-9]{1,3})?$"),
                core_schema.decimal_schema(**bound),  # type: ignore[arg-type]
            ]
        ),
        core_schema.chain_schema(
            [
                core_schema.int_schema(strict=True, lt=10**12, **bound),  # type: ignore[arg-type]
                core_schema.decimal_schema(),
            ]
        ),
    ]


def positive_int_branches() -> list[core_schema.CoreSchema]:
    """Whole numbers above 0 as JSON integers or plain digits (no sign, no leading zero)."""
    return [
        core_schema.int_schema(strict=True, gt=0, lt=_INT_BOUND),
        core_schema.chain_schema(
            [core_schema.str_schema(strict=True, pattern=r"^[1-9][0-9]{0,17}$"), core_schema.int_schema()]
        ),
    ]


def iso_date_branch() -> core_schema.CoreSchema:
    """``YYYY-MM-DD`` read by pydantic-core (an impossible date is refused, as the rule refuses it)."""
    return core_schema.chain_schema(
        [
            core_schema.str_schema(strict=True, pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"),
            core_schema.date_schema(),
        ]
    )


def bool_branch() -> core_schema.CoreSchema:
    """A JSON boolean, as it is."""
    return core_schema.bool_schema(strict=True)


class FastPath:
    """``Annotated`` metadata of a field type: the shapes pydantic-core validates for its rule.

    Parameters
    ----------
    branches
        Schemas tried in order before the rule; each must give, for every value it accepts, what the
        rule returns for it.
    """

    __slots__ = ("branches",)

    def __init__(self, *branches: core_schema.CoreSchema) -> None:
        self.branches = branches


class Memo(dict[Any, Any]):
    """Normalized values of one column rule for one batch: value as sent -> value stored.

    Looked up from Rust; a value it does not hold is refused like an invalid one (the rule runs next).
    """

    def __missing__(self, key: Any) -> Any:
        raise ValueError("not in the batch's memo")


class _NotStorableError(ValueError):
    """The value as sent breaks (or may break) a storage limit: the row takes the Python plan."""


def storable(value: Any) -> bool:
    """Whether ``value`` as sent passes the checks ``row_limits`` makes of it, and is at most
    ``MAX_FAST_CHARS`` long (or large, nested)."""
    kind = type(value)
    if kind is str:
        return len(value) <= MAX_FAST_CHARS and value.isprintable()
    if kind is int:
        return -_INT_BOUND < value < _INT_BOUND
    if kind is float:
        return _MIN_FLOAT <= abs(value) <= _MAX_FLOAT or value == 0.0
    if value is None or kind is bool:
        return True
    return find_value_problem(value) is None and estimated_size(value) <= MAX_FAST_CHARS


def _guarded(func: Callable[..., Any], takes_info: bool) -> Callable[..., Any]:
    if takes_info:

        def run_with_info(value: Any, info: Any) -> Any:
            if not storable(value):
                raise _NotStorableError
            return func(value, info)

        return run_with_info

    def run(value: Any) -> Any:
        if not storable(value):
            raise _NotStorableError
        return func(value)

    return run


def _field_schema(
    func: Callable[..., Any], takes_info: bool, fast: FastPath | None, memo: Memo | None
) -> core_schema.CoreSchema:
    choices: list[core_schema.CoreSchema] = list(fast.branches) if fast is not None else []
    if memo is not None:
        choices.append(
            core_schema.chain_schema(
                [
                    core_schema.str_schema(strict=True),
                    core_schema.no_info_plain_validator_function(memo.__getitem__),
                ]
            )
        )
    rule = _guarded(func, takes_info)
    choices.append(
        core_schema.with_info_plain_validator_function(rule)
        if takes_info
        else core_schema.no_info_plain_validator_function(rule)
    )
    if len(choices) == 1:
        return choices[0]
    return core_schema.union_schema(list[Any](choices), mode="left_to_right")


class FastRow:
    """A compiled validator of a row plan's rules (see the module's docstring).

    Parameters
    ----------
    rules
        ``field -> (rule, takes_info)`` of the plan.
    fast
        ``field -> FastPath`` for the fields that have one.
    memos
        ``field -> Memo`` of the column rules, for one batch.
    """

    def __init__(
        self,
        rules: Mapping[str, tuple[Callable[..., Any], bool]],
        fast: Mapping[str, FastPath],
        memos: Mapping[str, Memo] | None = None,
    ) -> None:
        fields = {
            name: core_schema.typed_dict_field(
                _field_schema(func, takes_info, fast.get(name), (memos or {}).get(name)), required=False
            )
            for name, (func, takes_info) in rules.items()
        }
        self.usable = len(fields) <= _MAX_FIELDS
        self._validate = SchemaValidator(
            core_schema.typed_dict_schema(fields, extra_behavior="forbid")
        ).validate_python

    def record(
        self, raw: Mapping[str, Any], context: Mapping[str, Any] | None, required: frozenset[str]
    ) -> dict[str, Any] | None:
        """The record of ``raw`` when the compiled rules accept it with every required field; else None."""
        try:
            out: dict[str, Any] = self._validate(raw, context=context)
        except Exception:  # whatever the reason, the Python plan says it (or raises it) properly
            return None
        if None in out.values():
            out = {k: v for k, v in out.items() if v is not None}
        if required and not out.keys() >= required:
            return None
        return out
