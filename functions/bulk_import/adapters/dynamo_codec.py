"""Conversion between Python values and DynamoDB attribute values.

Dates become ISO 8601 strings and floats become Decimals on the way in (DynamoDB has no date type and
money must never pass through binary floats).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Serialize a plain mapping into a DynamoDB item (``None`` values are left out)."""
    return {k: _serializer.serialize(_plain(v)) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Deserialize a DynamoDB item into plain Python (numbers come back as Decimal)."""
    return {k: _deserializer.deserialize(v) for k, v in item.items()}
