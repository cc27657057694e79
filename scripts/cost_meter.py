"""Counts every AWS call of the process and the units AWS would bill for it, and the handlers' CPU time.

``Meter.install`` replaces ``botocore.client.BaseClient._make_api_call`` (every boto3 client of the process
goes through it, whichever session built it) and wraps the Lambda handlers of ``bulk_import.entrypoints``.
Billed units come from the request and the response of each call:

* DynamoDB writes: 1 WRU per started KB of each item written, once for the table and once for every global
  secondary index the item is projected into (it carries the index's keys), sized as the index projects it;
  an ``UpdateItem`` is sized by the whole item after the update (read back, uncounted); transactions twice.
* DynamoDB reads: a ``GetItem`` 1 RRU per started 4 KB (half when eventually consistent), a ``Query`` or
  ``Scan`` by the total size of the items it returned, rounded up the same way.
* SQS: one request per started 64 KB of payload; receives that returned nothing are counted apart (idle
  polling depends on time, not on rows).
* S3: PUT-class and GET-class requests; EventBridge: entries per started 64 KB.
* Lambda: CPU seconds of each handler call (``time.thread_time``: moto serves requests on other threads of
  this process, and their time is not the handler's) times the memory its function is configured with.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

KB = 1024
S3_PUT_CLASS = {
    "PutObject",
    "CopyObject",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
    "ListObjects",
    "ListObjectsV2",
    "PutObjectTagging",
}
#: The handlers wrapped, by ``module.function`` under ``bulk_import.entrypoints``.
HANDLERS = (
    "api.handler",
    "authorizer.handler",
    "worker.handler",
    "worker.dlq_handler",
    "file_drop.handler",
    "file_drop.dlq_handler",
    "workflow.handler",
    "sweep.handler",
)


def value_size(value: dict[str, Any]) -> int:
    """Bytes DynamoDB counts for one typed attribute value (``{"S": ...}``, ``{"N": ...}``, ...)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").lstrip("0").rstrip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in v)
    if kind == "NS":
        return sum(value_size({"N": n}) for n in v)
    if kind == "BS":
        return sum(len(b) for b in v)
    if kind == "L":
        return 3 + sum(1 + value_size(e) for e in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(e) for k, e in v.items())
    raise ValueError(f"unknown attribute type {kind}")


def item_size(item: dict[str, Any]) -> int:
    """Bytes of a typed item: attribute names plus values."""
    return sum(len(name.encode()) + value_size(v) for name, v in item.items())


@dataclass
class Index:
    """A global secondary index: its key attributes and what it projects."""

    name: str
    keys: tuple[str, ...]
    projection: str
    included: tuple[str, ...] = ()

    def projected(self, item: dict[str, Any], table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The item as the index stores it, or None when the item lacks a key of the index (sparse)."""
        if any(k not in item for k in self.keys):
            return None
        if self.projection == "ALL":
            return item
        kept = {*table_keys, *self.keys, *(self.included if self.projection == "INCLUDE" else ())}
        return {k: v for k, v in item.items() if k in kept}


@dataclass
class Table:
    """A table's key attributes and global secondary indexes."""

    keys: tuple[str, ...]
    indexes: list[Index]


@dataclass
class Usage:
    """Counted calls and units."""

    calls: Counter[str] = field(default_factory=Counter)
    units: Counter[str] = field(default_factory=Counter)
    #: Bytes of the DynamoDB items written, per table.
    written_bytes: Counter[str] = field(default_factory=Counter)
    #: Lambda CPU seconds and GB-seconds, per handler.
    cpu_s: Counter[str] = field(default_factory=Counter)
    gb_s: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)


class Meter:
    """Records the units of every AWS call made while installed (except inside ``uncounted``).

    Parameters
    ----------
    memory_mb
        Configured memory of each wrapped handler, by ``module.function``.
    """

    def __init__(self, memory_mb: dict[str, int]) -> None:
        self.memory_mb = memory_mb
        self.usage = Usage()
        self.tables: dict[str, Table] = {}
        self._lock = threading.Lock()
        self._local = threading.local()
        self._undo: list[Callable[[], None]] = []
        #: Queues outside the stack (the local stand-in of the dialer): their calls are not counted.
        self.skip_queues: set[str] = set()

    def reset(self) -> Usage:
        """Start a new count; return the one that ends."""
        with self._lock:
            usage, self.usage = self.usage, Usage()
        return usage

    @contextmanager
    def uncounted(self) -> Iterator[None]:
        """Calls made within the block (by this thread) are the measurement's own, not the stack's."""
        self._local.off = True
        try:
            yield
        finally:
            self._local.off = False

    def install(self) -> None:
        """Start counting the process's AWS calls and timing its handlers."""
        import importlib

        from botocore.client import BaseClient

        original = BaseClient._make_api_call
        meter = self

        def counted(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if getattr(meter._local, "off", False) or params.get("QueueUrl") in meter.skip_queues:
                return original(client, operation, params)
            try:
                response = original(client, operation, params)
            except Exception as exc:
                meter._record(client, operation, params, getattr(exc, "response", None) or {}, failed=True)
                raise
            meter._record(client, operation, params, response, failed=False)
            return response

        BaseClient._make_api_call = counted  # type: ignore[method-assign]
        self._undo.append(lambda: setattr(BaseClient, "_make_api_call", original))
        for path in HANDLERS:
            module_name, _, function = path.rpartition(".")
            module = importlib.import_module(f"bulk_import.entrypoints.{module_name}")
            handler = getattr(module, function, None)
            if handler is not None:
                setattr(module, function, self._timed(path, handler))
                self._undo.append(lambda m=module, f=function, h=handler: setattr(m, f, h))

    def uninstall(self) -> None:
        """Stop counting and give back what ``install`` replaced."""
        while self._undo:
            self._undo.pop()()

    def _timed(self, path: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        memory_gb = self.memory_mb[path] / 1024

        def timed(event: Any, context: Any) -> Any:
            start = time.thread_time()
            try:
                return handler(event, context)
            finally:
                cpu = time.thread_time() - start
                billed = math.ceil(cpu * 1000) / 1000  # Lambda bills by the started millisecond
                with self._lock:
                    self.usage.cpu_s[path] += cpu
                    self.usage.gb_s[path] += billed * memory_gb
                    self.usage.invocations[path] += 1

        return timed

    def describe_tables(self, client: Any) -> None:
        """Read the key schema and the indexes of every table (uncounted)."""
        with self.uncounted():
            for name in client.list_tables()["TableNames"]:
                desc = client.describe_table(TableName=name)["Table"]
                indexes = [
                    Index(
                        ix["IndexName"],
                        tuple(k["AttributeName"] for k in ix["KeySchema"]),
                        ix["Projection"]["ProjectionType"],
                        tuple(ix["Projection"].get("NonKeyAttributes", ())),
                    )
                    for ix in desc.get("GlobalSecondaryIndexes", [])
                ]
                self.tables[name] = Table(tuple(k["AttributeName"] for k in desc["KeySchema"]), indexes)

    def _record(
        self, client: Any, operation: str, params: dict[str, Any], response: Any, failed: bool
    ) -> None:
        service = client.meta.service_model.service_name
        units: Counter[str] = Counter()
        written: Counter[str] = Counter()
        if service == "dynamodb":
            self._dynamodb(client, operation, params, response, units, written)
        elif service == "sqs":
            self._sqs(operation, params, response, units)
        elif service == "s3":
            units["s3_put" if operation in S3_PUT_CLASS else "s3_get"] += 1
        elif service == "events" and operation == "PutEvents":
            units["events_put"] += sum(
                math.ceil(len(str(e.get("Detail", "")).encode()) / (64 * KB)) or 1 for e in params["Entries"]
            )
        with self._lock:
            self.usage.calls[f"{service}.{operation}{' (failed)' if failed else ''}"] += 1
            self.usage.units.update(units)
            self.usage.written_bytes.update(written)

    def _write(
        self, table: str, item: dict[str, Any], units: Counter[str], written: Counter[str], x: int
    ) -> None:
        spec = self.tables.get(table, Table((), []))
        size = item_size(item)
        written[table] += size
        units["dynamodb_wru"] += x * max(1, math.ceil(size / KB))
        for index in spec.indexes:
            projected = index.projected(item, spec.keys)
            if projected is not None:
                units["dynamodb_wru"] += x * max(1, math.ceil(item_size(projected) / KB))
                units[f"wru.{table}.{index.name}"] += x * max(1, math.ceil(item_size(projected) / KB))

    def _after_update(self, client: Any, table: str, key: dict[str, Any]) -> dict[str, Any]:
        with self.uncounted():
            item = client.get_item(TableName=table, Key=key, ConsistentRead=True).get("Item")
        return item or key

    def _dynamodb(
        self,
        client: Any,
        op: str,
        params: dict[str, Any],
        response: Any,
        units: Counter[str],
        written: Counter[str],
    ) -> None:
        def read(size: int, consistent: bool, x: float = 1.0) -> None:
            units["dynamodb_rru"] += x * max(1, math.ceil(size / (4 * KB))) * (1.0 if consistent else 0.5)

        if op == "PutItem":
            self._write(params["TableName"], params["Item"], units, written, 1)
        elif op in ("UpdateItem", "DeleteItem"):
            table = params["TableName"]
            item = self._after_update(client, table, params["Key"]) if op == "UpdateItem" else params["Key"]
            self._write(table, item, units, written, 1)
        elif op == "BatchWriteItem":
            for table, requests in params["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        self._write(table, request["PutRequest"]["Item"], units, written, 1)
                    else:
                        self._write(table, request["DeleteRequest"]["Key"], units, written, 1)
        elif op == "TransactWriteItems":
            for entry in params["TransactItems"]:
                ((kind, body),) = entry.items()
                table = body["TableName"]
                if kind == "Put":
                    self._write(table, body["Item"], units, written, 2)
                elif kind == "Update":
                    self._write(table, self._after_update(client, table, body["Key"]), units, written, 2)
                else:  # Delete or ConditionCheck
                    self._write(table, body["Key"], units, written, 2)
        elif op == "GetItem":
            read(item_size(response.get("Item", {})), bool(params.get("ConsistentRead")))
        elif op == "BatchGetItem":
            for table, items in response.get("Responses", {}).items():
                consistent = bool(params["RequestItems"][table].get("ConsistentRead"))
                for item in items:
                    read(item_size(item), consistent)
        elif op == "TransactGetItems":
            for entry in response.get("Responses", []):
                read(item_size(entry.get("Item", {})), True, 2.0)
        elif op in ("Query", "Scan"):
            read(sum(item_size(i) for i in response.get("Items", [])), bool(params.get("ConsistentRead")))

    @staticmethod
    def _sqs(op: str, params: dict[str, Any], response: Any, units: Counter[str]) -> None:
        def chunks(payload: int) -> int:
            return max(1, math.ceil(payload / (64 * KB)))

        if op == "SendMessage":
            units["sqs_request"] += chunks(len(params["MessageBody"].encode()))
        elif op == "SendMessageBatch":
            units["sqs_request"] += chunks(sum(len(e["MessageBody"].encode()) for e in params["Entries"]))
        elif op == "ReceiveMessage":
            messages = response.get("Messages", [])
            if messages:
                units["sqs_request"] += chunks(sum(len(m["Body"].encode()) for m in messages))
            else:
                units["sqs_idle_receive"] += 1
        else:
            units["sqs_request"] += 1
