"""The call stage's items of an import in the imports table: its counts on the job item and a marker per
customer whose call it requested (``CALL#{customer key}``, expiring with the import's other row items)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.adapters.dynamo_codec import to_item
from bulk_import.adapters.dynamo_import_items import EXPIRES_AT, RowExpiry
from bulk_import.adapters.dynamo_keys import call_sk, import_pk
from bulk_import.adapters.dynamo_paging import batch_get_items
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

    def requested_calls(self, tenant_id: str, import_id: str, keys: Sequence[str]) -> set[str]:
        """See ``ImportRepository.requested_calls``: BatchGetItem of the markers, 100 keys a call."""
        pk = import_pk(tenant_id, import_id)
        markers = [{"pk": {"S": pk}, "sk": {"S": call_sk(k)}} for k in dict.fromkeys(keys)]
        items = batch_get_items(
            self.client,
            self.table,
            markers,
            ProjectionExpression="#sk",
            ExpressionAttributeNames={"#sk": "sk"},
        )
        return {item["sk"]["S"].removeprefix("CALL#") for item in items}

    def record_requested_calls(self, tenant_id: str, import_id: str, keys: Sequence[str]) -> None:
        """See ``ImportRepository.record_requested_calls``: one marker item per customer, batch-written."""
        pk = import_pk(tenant_id, import_id)
        expires = self.expiry.for_import(tenant_id, import_id)
        markers = [to_item({"pk": pk, "sk": call_sk(k), EXPIRES_AT: expires}) for k in keys]
        failed = self.writer.put(self.table, markers)
        if failed:
            # Retried by the workflow; the events of customers without a marker are sent again.
            raise TransientError(
                f"{len(failed)} call markers of import {import_id} not stored: {failed[0].reason}"
            )
