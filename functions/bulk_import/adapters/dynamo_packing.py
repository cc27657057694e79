"""Lists of small JSON values stored as zlib-compressed items: the call stage's per-chunk and per-batch items.

The row blocks of ``dynamo_results`` set the format: JSON written as they write it (``_dumps``: decimals,
dates, NaN kept as text), compressed with zlib, read back with decimals (``_loads``), each item under
``MAX_PART_BYTES`` compressed and ``MAX_PLAIN_BYTES`` inflated. A list too large for one item is halved
until every part fits.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

from bulk_import.adapters.dynamo_paging import query_items
from bulk_import.adapters.dynamo_results import MAX_PART_BYTES, MAX_PLAIN_BYTES, _dumps, _loads

#: The call stage's items live at least this long after they are written, whatever the tenant's retention
#: (1 day at the least, from the import's creation): an insertion stage may wait a day for its last chunk
#: before ``PrepareCalls`` reads the call lists, and a batch whose window opens after the retention is
#: over must still find what it requested when its task is retried.
CALL_ITEMS_MIN_SECONDS = 2 * 86_400


def pack(values: Sequence[Any]) -> list[bytes]:
    """``values`` as one compressed JSON list per part, in order; none for an empty list.

    A single value too large for a part alone is a ``ValueError``: the callers store keys and a few
    short fields, never that much.
    """
    if not values:
        return []
    fragments = [_dumps(v) for v in values]
    return _parts(fragments)


def _parts(fragments: list[str]) -> list[bytes]:
    plain = f"[{','.join(fragments)}]"
    blob = zlib.compress(plain.encode())
    if len(blob) <= MAX_PART_BYTES and len(plain) <= MAX_PLAIN_BYTES:
        return [blob]
    if len(fragments) == 1:
        raise ValueError(f"a value of {len(plain)} bytes does not fit in one item")
    half = len(fragments) // 2
    return _parts(fragments[:half]) + _parts(fragments[half:])


def unpack(blob: bytes) -> list[Any]:
    """The values of one part (numbers as ``Decimal`` or ``int``, as every number read from DynamoDB)."""
    values = _loads(blob)
    assert isinstance(values, list)
    return values


def packed_items(
    client: Any, table: str, pk: str, prefix: str, attributes: Sequence[str]
) -> Iterator[dict[str, Any]]:
    """The items of partition ``pk`` whose sort key starts with ``prefix``, in key order, read
    consistently (what was just written is there), with their sort key and ``attributes`` only."""
    names = {f"#a{n}": name for n, name in enumerate(("sk", *attributes))}
    return query_items(
        client,
        TableName=table,
        KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
        ExpressionAttributeValues={":pk": {"S": pk}, ":prefix": {"S": prefix}},
        ProjectionExpression=", ".join(names),
        ExpressionAttributeNames=names,
        ConsistentRead=True,
    )


def call_item_expiry(retention: int, now: float | None = None) -> int:
    """``expiresAt`` of a call-stage item: the import's retention (``RowExpiry``), or
    ``CALL_ITEMS_MIN_SECONDS`` from ``now`` (epoch seconds, default the current time) when later."""
    return max(retention, int(time.time() if now is None else now) + CALL_ITEMS_MIN_SECONDS)
