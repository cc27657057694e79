"""The DynamoDB store of idempotency keys, in the imports table.

One item per tenant's key: ``pk = IDEMP#{key hash}``, ``sk = IDEMP``. Every other item of the table
starts with ``T#``, so these cannot meet them, and the key itself is never stored (its hash is, with
the tenant in it). The table's TTL attribute ``expiresAt`` (epoch seconds) removes an item some time
after its 24 hours; until then the conditions below treat an expired item as absent, because TTL
deletes late (often hours late).

A request costs one conditional PutItem (``begin``) and one UpdateItem (``complete``) or DeleteItem
(``release``), whatever the number of rows it carries; a replay costs the PutItem alone, because a
refused write returns the item that holds the key.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulk_import.usecases.idempotency import IdempotencyRecord, RecordState

logger = logging.getLogger(__name__)

#: Sort key of every idempotency item.
IDEMPOTENCY_SK = "IDEMP"
#: Largest answer body kept as it is, and largest once compressed: DynamoDB items stop at 400 KB, and
#: the rest of the item (keys, hashes, headers) needs a few kilobytes.
MAX_STORED_BODY_BYTES = 350_000
#: An answer may carry a few headers worth replaying; more than this is not an answer of ours.
MAX_STORED_HEADERS_BYTES = 16_000

_HOLDS_NOTHING = (
    "attribute_not_exists(pk) OR expiresAt <= :now OR (#state = :running AND lockedUntil <= :now)"
)


def idempotency_pk(key_hash: str) -> str:
    """Partition key of one tenant's key (``key_hash`` already includes the tenant)."""
    return f"IDEMP#{key_hash}"


def _key(key_hash: str) -> dict[str, Any]:
    return {"pk": {"S": idempotency_pk(key_hash)}, "sk": {"S": IDEMPOTENCY_SK}}


def encode_body(body: str) -> dict[str, Any] | None:
    """The attribute that keeps ``body``: text when small, zlib-compressed bytes when large.

    Returns
    -------
    dict | None
        ``{"S": ...}`` or ``{"B": ...}`` (boto3 sends binary attributes base64-encoded), or None when
        even compressed the body is larger than ``MAX_STORED_BODY_BYTES``.
    """
    data = body.encode("utf-8")
    if len(data) <= MAX_STORED_BODY_BYTES:
        return {"S": body}
    packed = zlib.compress(data, level=6)
    if len(packed) <= MAX_STORED_BODY_BYTES:
        return {"B": packed}
    return None


def decode_body(attribute: Mapping[str, Any]) -> str:
    """The body kept by ``encode_body``."""
    if "B" in attribute:
        return zlib.decompress(bytes(attribute["B"])).decode("utf-8")
    return str(attribute["S"])


def record_from_item(item: Mapping[str, Any]) -> IdempotencyRecord:
    """An idempotency record from its DynamoDB item (low-level attribute values)."""
    body = item.get("answerBody")
    headers = item.get("answerHeaders")
    return IdempotencyRecord(
        key_hash=str(item["pk"]["S"]).removeprefix("IDEMP#"),
        fingerprint=str(item["fingerprint"]["S"]),
        state=RecordState(item["state"]["S"]),
        started_at=int(item["startedAt"]["N"]),
        expires_at=int(item["expiresAt"]["N"]),
        locked_until=int(item["lockedUntil"]["N"]),
        status=int(item["answerStatus"]["N"]) if "answerStatus" in item else None,
        body=decode_body(body) if body is not None else None,
        headers=json.loads(headers["S"]) if headers is not None else {},
    )


@dataclass
class DynamoIdempotencyStore:
    """``IdempotencyStore`` on a DynamoDB table with string ``pk``/``sk`` and TTL on ``expiresAt``."""

    client: Any
    table: str

    def begin(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """See ``IdempotencyStore.begin``: one conditional PutItem.

        A refused write returns the item that holds the key (``ReturnValuesOnConditionCheckFailure``);
        should it not (an older endpoint), one consistent read fetches it. If the holder is gone between
        the two, the write is tried once more.
        """
        item = {
            **_key(record.key_hash),
            "fingerprint": {"S": record.fingerprint},
            "state": {"S": RecordState.IN_PROGRESS.value},
            "startedAt": {"N": str(record.started_at)},
            "expiresAt": {"N": str(record.expires_at)},
            "lockedUntil": {"N": str(record.locked_until)},
        }
        for _ in range(2):
            try:
                self.client.put_item(
                    TableName=self.table,
                    Item=item,
                    ConditionExpression=_HOLDS_NOTHING,
                    ExpressionAttributeNames={"#state": "state"},
                    ExpressionAttributeValues={
                        ":now": {"N": str(record.started_at)},
                        ":running": {"S": RecordState.IN_PROGRESS.value},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except self.client.exceptions.ConditionalCheckFailedException as exc:
                held = exc.response.get("Item") or self._get(record.key_hash)
                if held is not None:
                    return record_from_item(held)
                continue
            return None
        # Freed twice between our write and our read: others are racing for the key; this one waits.
        return record

    def complete(self, key_hash: str, status: int, body: str, headers: Mapping[str, str]) -> bool:
        """See ``IdempotencyStore.complete``: one UpdateItem, on condition that the request still holds
        the key. An answer too large to keep frees the key instead (one DeleteItem), and says so."""
        kept_body = encode_body(body)
        kept_headers = json.dumps(dict(headers), separators=(",", ":"))
        if kept_body is None or len(kept_headers) > MAX_STORED_HEADERS_BYTES:
            logger.warning(
                "answer too large to keep for replay; the key is free again",
                extra={"idempotencyKeyHash": key_hash, "bodyBytes": len(body.encode("utf-8"))},
            )
            self.release(key_hash)
            return False
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(key_hash),
                UpdateExpression="SET #state = :done, answerStatus = :status, answerBody = :body, "
                "answerHeaders = :headers",
                ConditionExpression="#state = :running",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":done": {"S": RecordState.COMPLETED.value},
                    ":running": {"S": RecordState.IN_PROGRESS.value},
                    ":status": {"N": str(status)},
                    ":body": kept_body,
                    ":headers": {"S": kept_headers},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            # Released or taken over meanwhile: an update must not create an item without its expiry.
            return False
        return True

    def release(self, key_hash: str) -> None:
        """See ``IdempotencyStore.release``: one DeleteItem."""
        self.client.delete_item(TableName=self.table, Key=_key(key_hash))

    def _get(self, key_hash: str) -> dict[str, Any] | None:
        resp = self.client.get_item(TableName=self.table, Key=_key(key_hash), ConsistentRead=True)
        item: dict[str, Any] | None = resp.get("Item")
        return item
