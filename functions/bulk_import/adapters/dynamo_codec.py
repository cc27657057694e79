"""Conversion between Python values and DynamoDB attribute values.

Dates become ISO 8601 strings and floats become Decimals on the way in (DynamoDB has no date type and
money must never pass through binary floats). A value DynamoDB cannot hold (more than 38 significant
digits, out of its range, NaN, a lone surrogate) raises ``UnstorableValueError`` naming the attribute,
so the one record that holds it fails alone instead of its whole batch.
"""

from __future__ import annotations

import decimal
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bulk_import.adapters.errors import UnstorableValueError

#: DynamoDB's numbers: 38 significant digits, exponents from -130 to 125; a number it would round or
#: cannot hold raises instead of being stored changed (the context boto3's serializer uses, too).
DYNAMODB_CONTEXT = decimal.Context(
    Emin=-128,
    Emax=126,
    prec=38,
    traps=[decimal.Clamped, decimal.Overflow, decimal.Inexact, decimal.Rounded, decimal.Underflow],
)
_BINARY = (bytes, bytearray)


def _number(value: int | Decimal) -> str:
    text = str(DYNAMODB_CONTEXT.create_decimal(value))
    if text in ("Infinity", "-Infinity", "NaN", "-NaN", "sNaN"):
        raise TypeError("Infinity and NaN not supported")
    return text


def serialize(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value, as boto3's ``TypeSerializer`` writes it.

    The conversion is boto3's, written here because importing ``boto3.dynamodb.types`` imports all of
    boto3 and s3transfer first, which doubled the cost of the API's first request (docs/performance.md);
    ``tests/unit/test_dynamo_codec.py`` holds the two equal on generated values.

    Raises
    ------
    TypeError
        A float (use Decimal), NaN or Infinity, or a type DynamoDB has no attribute for.
    decimal.DecimalException
        A number DynamoDB cannot hold exactly.
    """
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, Decimal)):
        return {"N": _number(value)}
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, _BINARY):
        return {"B": value}
    if isinstance(value, AbstractSet):
        return _serialize_set(value)
    if isinstance(value, Mapping):
        return {"M": {k: serialize(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def _serialize_set(value: AbstractSet[Any]) -> dict[str, Any]:
    def numeric(v: Any) -> bool:
        if isinstance(v, float):
            raise TypeError("Float types are not supported. Use Decimal types instead.")
        return isinstance(v, (int, Decimal))  # booleans too, as in boto3

    if all(numeric(v) for v in value):
        return {"NS": [_number(v) for v in value]}
    if all(isinstance(v, str) for v in value):
        return {"SS": list(value)}
    if all(isinstance(v, _BINARY) for v in value):
        return {"BS": list(value)}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def deserialize(value: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value as plain Python: numbers as Decimal, binary as bytes.

    Raises
    ------
    TypeError
        An empty value or an attribute type DynamoDB does not have.
    """
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind, inner = next(iter(value.items()))
    if kind == "S" or kind == "BOOL":
        return inner
    if kind == "N":
        return DYNAMODB_CONTEXT.create_decimal(inner)
    if kind == "M":
        return {k: deserialize(v) for k, v in inner.items()}
    if kind == "L":
        return [deserialize(v) for v in inner]
    if kind == "NULL":
        return None
    if kind == "B":
        return bytes(inner)
    if kind == "SS":
        return set(inner)
    if kind == "NS":
        return {DYNAMODB_CONTEXT.create_decimal(n) for n in inner}
    if kind == "BS":
        return {bytes(b) for b in inner}
    raise TypeError(f"Dynamodb type {kind} is not supported")


def _text(value: str) -> str:
    # ASCII (nearly every value) is always valid; other text must encode, which a lone surrogate cannot.
    if not value.isascii():
        value.encode("utf-8")
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {_text(str(k)): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _why(name: str, exc: Exception) -> str:
    """The limit a value of attribute ``name`` broke (checked most specific first: Overflow is Inexact)."""
    if isinstance(exc, decimal.Overflow):
        return f"{name} holds a number larger than DynamoDB stores (at most 9.99e125)"
    if isinstance(exc, (decimal.Underflow, decimal.Subnormal, decimal.Clamped)):
        return f"{name} holds a number closer to zero than DynamoDB stores (at least 1e-130)"
    if isinstance(exc, (decimal.Inexact, decimal.Rounded)):
        return f"{name} holds a number with more than the 38 significant digits DynamoDB stores"
    if isinstance(exc, UnicodeError):
        return f"{name} holds a lone surrogate or other characters that are not Unicode text"
    if "NaN" in str(exc):
        return f"{name} holds NaN or Infinity, which DynamoDB cannot store"
    return f"{name} holds a value of a type DynamoDB cannot store"


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Serialize a plain mapping into a DynamoDB item (``None`` values are left out).

    Raises
    ------
    UnstorableValueError
        A value DynamoDB cannot hold; the message names its top-level attribute and the limit.
    """
    item: dict[str, Any] = {}
    for k, v in data.items():
        if v is None:
            continue
        try:
            item[k] = serialize(_plain(v))
        except (ArithmeticError, TypeError, ValueError) as exc:  # UnicodeError is a ValueError
            raise UnstorableValueError(_why(_safe_name(k), exc)) from None
    return item


def _safe_name(name: Any) -> str:
    return str(clipped(str(name), 100))


def clipped(value: Any, limit: int = 1000) -> Any:
    """``value`` with every text cut to ``limit`` characters and made valid Unicode (a lone surrogate
    becomes "?"): for what the service writes about a row, whose own values may be what failed it."""
    if isinstance(value, str):
        if len(value) > limit:
            value = value[: limit - 1] + "…"
        return value if value.isascii() else value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {clipped(str(k), limit): clipped(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clipped(v, limit) for v in value]
    return value


def as_text_numbers(value: Any) -> Any:
    """``value`` with every number as its text (for numbers DynamoDB cannot hold as numbers)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, dict):
        return {k: as_text_numbers(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [as_text_numbers(v) for v in value]
    return str(value)


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Deserialize a DynamoDB item into plain Python (numbers come back as Decimal)."""
    return {k: deserialize(v) for k, v in item.items()}


def plain_numbers(value: Any) -> Any:
    """DynamoDB numbers (Decimal) back to ints where whole, in nested data."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_numbers(v) for v in value]
    return value
