"""Reading DynamoDB a page at a time: queries past 1 MB, batch reads past 100 keys, and the error cursor.

A Query stops at 1 MB of items and a BatchGetItem at 100 keys or 16 MB; both say what they left out
(``LastEvaluatedKey``, ``UnprocessedKeys``) and these helpers ask again until nothing is left.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from bulk_import.adapters.batch_writer import full_jitter
from bulk_import.core.errors import InvalidRequestError, TransientError
from bulk_import.engine.paging import open_cursor, seal_cursor

#: Most keys one BatchGetItem call may ask for.
BATCH_GET_KEYS = 100
#: BatchGetItem calls per 100 keys while DynamoDB leaves some unprocessed.
GET_ATTEMPTS = 8
#: The answer to an error cursor that is not one of this import's.
BAD_ERROR_CURSOR = "cursor: not a cursor of this import's errors (pass nextCursor from its previous page)"


def query_items(client: Any, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every item (DynamoDB JSON) a Query matches, reading page after page."""
    while True:
        resp = client.query(**kwargs)
        yield from resp.get("Items", [])
        if "LastEvaluatedKey" not in resp:
            return
        kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]


def batch_get_items(
    client: Any,
    table: str,
    keys: Sequence[dict[str, Any]],
    *,
    attempts: int = GET_ATTEMPTS,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> Iterator[dict[str, Any]]:
    """The items (DynamoDB JSON) of ``keys`` that exist, 100 keys a call, unprocessed keys asked again.

    ``options`` go with the keys of each call (``ProjectionExpression``, ``ExpressionAttributeNames``).
    Keys DynamoDB leaves unprocessed (throttling, or 16 MB read) are asked again after a jittered,
    growing pause, at most ``attempts`` calls per 100 keys.

    Raises
    ------
    TransientError
        Keys still unprocessed after ``attempts`` calls (the caller's retry, e.g. the chunk's, tries later).
    """
    for i in range(0, len(keys), BATCH_GET_KEYS):
        request: dict[str, Any] = {table: {"Keys": list(keys[i : i + BATCH_GET_KEYS]), **options}}
        for attempt in range(attempts):
            if attempt:
                sleep(full_jitter(attempt - 1))
            resp = client.batch_get_item(RequestItems=request)
            yield from resp.get("Responses", {}).get(table, [])
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                break
        if request:
            left = len(request.get(table, {}).get("Keys", []))
            raise TransientError(f"{left} keys of {table} still unprocessed after {attempts} reads")


def encode_error_cursor(tenant_id: str, import_id: str, index: int, entry: int) -> str:
    """The opaque cursor of the error page that starts after entry ``entry`` of row ``index`` of this
    tenant's import (sealed for that import, so it is refused for any other, or edited)."""
    return seal_cursor(("errors", tenant_id, import_id), [index, entry])


def decode_error_cursor(tenant_id: str, import_id: str, cursor: str) -> tuple[int, int]:
    """The row index and entry a cursor of ``encode_error_cursor`` continues after.

    Raises
    ------
    InvalidRequestError
        Not a cursor this API returned for this tenant's import.
    """
    try:
        index, entry = open_cursor(("errors", tenant_id, import_id), cursor)
    except (ValueError, TypeError):
        raise InvalidRequestError(BAD_ERROR_CURSOR) from None
    if not all(type(v) is int and v >= 0 for v in (index, entry)):
        raise InvalidRequestError(BAD_ERROR_CURSOR)
    return index, entry
