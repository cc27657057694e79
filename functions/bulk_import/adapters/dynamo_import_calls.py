"""The call stage's items of an import in the imports table: its counts on the job item, and per call batch
the keys of the customers whose call it requested.

A batch's requested calls are one item (``CALL#BATCH#{batch:06d}#000``), a few when large: the keys as
compressed JSON (``dynamo_packing``), 500 keys in about 1 KB, expiring with the import's other row items
(``expiresAt``; never sooner than ``CALL_ITEMS_MIN_SECONDS`` after written). Recording more calls of a
batch rewrites its items with the union of what they held and the new keys, so a part never loses a key; a
batch runs one task at a time (the workflow retries a task after it failed), so nothing else writes its
items meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_codec import to_item
from bulk_import.adapters.dynamo_import_items import EXPIRES_AT, RowExpiry
from bulk_import.adapters.dynamo_keys import CALL_BATCH_PREFIX, call_batch_sk, import_pk
from bulk_import.adapters.dynamo_packing import call_item_expiry, pack, packed_items, unpack
from bulk_import.core.errors import TransientError
from bulk_import.core.ports import CallCounts, CallSchedule


class ImportCallStage:
    """The call-stage methods of ``ImportRepository``, on the table of the class that includes them."""

    client: Any
    table: str
    writer: BatchWriter
    expiry: RowExpiry

    def _update(
        self, tenant_id: str, import_id: str, expression: str, values: dict[str, Any], **kw: Any
    ) -> Any:
        raise NotImplementedError

    def schedule_calls(self, tenant_id: str, import_id: str, schedule: CallSchedule, now: datetime) -> None:
        """See ``ImportRepository.schedule_calls``: one update of the import."""
        self._update(
            tenant_id,
            import_id,
            "SET callStatus = :running, callBatches = :b, callSkipped = :s, callSkippedList = :l, "
            "callFailed = :f, callWaiting = :w, updatedAt = :now",
            to_item(
                {
                    ":running": "RUNNING",
                    ":b": schedule.batches,
                    ":s": schedule.skipped,
                    ":l": schedule.do_not_call_list,
                    ":f": schedule.failed,
                    ":w": dict(schedule.waiting),
                    ":now": now,
                }
            ),
        )

    def apply_call_batch(
        self, tenant_id: str, import_id: str, batch: int, counts: CallCounts, now: datetime
    ) -> bool:
        """See ``ImportRepository.apply_call_batch``: one conditional update, like ``apply_chunk``.

        The customers of the batch who waited for their window are counted down under their opening.
        """
        values = to_item(
            {
                ":r": counts.requested,
                ":s": counts.skipped,
                ":f": counts.failed,
                ":l": counts.do_not_call_list,
                ":q": counts.frequency,
                ":one": 1,
                ":now": now,
            }
        )
        values[":batch"] = {"N": str(batch)}
        values[":batches"] = {"NS": [str(batch)]}
        names: dict[str, str] = {}
        waited = ""
        for n, (opening, customers) in enumerate(sorted(counts.waited.items())):
            names[f"#w{n}"] = opening
            values[f":w{n}"] = {"N": str(customers)}
            waited += f", callWaiting.#w{n} = callWaiting.#w{n} - :w{n}"
        try:
            self._update(
                tenant_id,
                import_id,
                "ADD callRequested :r, callSkipped :s, callFailed :f, callSkippedList :l, "
                "callSkippedFrequency :q, callBatchesDone :one, callBatchesApplied :batches "
                "SET updatedAt = :now" + waited,
                values,
                condition=" AND NOT contains(callBatchesApplied, :batch)",
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def requested_calls(
        self, tenant_id: str, import_id: str, keys: Sequence[str], *, batch: int = 0
    ) -> set[str]:
        """See ``ImportRepository.requested_calls``: the keys recorded for call batch ``batch`` (one
        consistent Query of its items).

        Callers that do not say which batch record and read under batch 0."""
        recorded = self._recorded_calls(tenant_id, import_id, batch)
        return {k for k in keys if k in recorded}

    def record_requested_calls(
        self, tenant_id: str, import_id: str, keys: Sequence[str], *, batch: int = 0
    ) -> None:
        """See ``ImportRepository.record_requested_calls``: the batch's items rewritten with these keys
        added (see the module)."""
        if not keys:
            return
        recorded = self._recorded_calls(tenant_id, import_id, batch)
        union = sorted(recorded.union(keys))
        if len(union) == len(recorded):
            return
        pk = import_pk(tenant_id, import_id)
        expires = call_item_expiry(self.expiry.for_import(tenant_id, import_id))
        items = [
            {
                "pk": {"S": pk},
                "sk": {"S": call_batch_sk(batch, part)},
                "k": {"B": blob},
                EXPIRES_AT: {"N": str(expires)},
            }
            for part, blob in enumerate(pack(union))
        ]
        failed = self.writer.put(self.table, items)
        if failed:
            # Retried by the workflow; the events of customers not recorded are sent again.
            raise TransientError(
                f"the requested calls of batch {batch} of import {import_id} are not stored: "
                f"{failed[0].reason}"
            )

    def _recorded_calls(self, tenant_id: str, import_id: str, batch: int) -> set[str]:
        """Every key in the items of one batch (parts left by an earlier write hold keys recorded too)."""
        pk = import_pk(tenant_id, import_id)
        items = packed_items(self.client, self.table, pk, f"{CALL_BATCH_PREFIX}{batch:06d}#", ("k",))
        return {str(key) for item in items for key in unpack(item["k"]["B"])}
