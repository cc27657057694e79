"""Reading DynamoDB a page at a time: queries past 1 MB, batch reads past 100 keys, and the error cursor.

A Query stops at 1 MB of items and a BatchGetItem at 100 keys or 16 MB; both say what they left out
(``LastEvaluatedKey``, ``UnprocessedKeys``) and these helpers ask again until nothing is left.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Sequence
from typing import Any

from bulk_import.core.errors import InvalidRequestError

#: Most keys one BatchGetItem call may ask for.
BATCH_GET_KEYS = 100


def query_items(client: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item (DynamoDB JSON) a Query matches, reading page after page."""
    while True:
        resp = client.query(**kwargs)
        yield from resp.get("Items", [])
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def batch_get_items(
    client: Any, table: str, keys: Sequence[dict[str, Any]], **options: Any
) -> Iterator[dict[str, Any]]:
    """The items (DynamoDB JSON) of ``keys`` that exist, 100 keys a call, unprocessed keys asked again.

    ``options`` go with the keys of each call (``ProjectionExpression``, ``ExpressionAttributeNames``).
    """
    for i in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": list(keys[i : i + BATCH_GET_KEYS]), **options}}
        while request:
            resp = client.batch_get_item(RequestItems=request)
            yield from resp.get("Responses", {}).get(table, [])
            request = resp.get("UnprocessedKeys") or {}


def encode_cursor(sk: str) -> str:
    """The opaque cursor of the error page that starts after sort key ``sk``."""
    return base64.urlsafe_b64encode(json.dumps({"sk": sk}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The sort key of a cursor ``encode_cursor`` made; anything else is the caller's error."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sk = json.loads(raw)["sk"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidRequestError("cursor: not a cursor this API returned") from exc
    if not isinstance(sk, str) or not sk.startswith("ERR#"):
        raise InvalidRequestError("cursor: not a cursor this API returned")
    return sk
