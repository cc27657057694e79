"""Faults injected into DynamoDB under moto: throttling, UnprocessedItems, one refused item, a worker that
dies mid-chunk, a chunk delivered twice. Every row ends with exactly one outcome, counted once.

moto never throttles and never answers UnprocessedItems, so ``FaultyDynamo`` stands between the stores
and moto: each BatchWriteItem goes through the scripted fault first, then (unless the fault says
otherwise) to moto, so what is reported written really is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from tests.fakes import ACME

from bulk_import.adapters.batch_writer import BatchWriter
from bulk_import.core.ports import Deps
from bulk_import.engine import jobs
from bulk_import.entrypoints import runtime
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.usecases.sync_imports import run_inline_import

Request = dict[str, Any]
#: A fault sees one BatchWriteItem request; it answers it itself, raises, or returns None (moto answers).
Fault = Callable[[Request], dict[str, Any] | None]


def client_error(code: str, message: str = "", status: int = 400) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "BatchWriteItem",
    )


class WorkerKilledError(Exception):
    """Stands for a worker that stops mid-chunk (a timeout, the container recycled)."""


class FaultyDynamo:
    """A DynamoDB client over moto whose BatchWriteItem calls meet ``faults`` one call at a time."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.faults: list[Fault] = []
        self.calls: list[Request] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def batch_write_item(self, **request: Any) -> dict[str, Any]:
        self.calls.append(request)
        if self.faults:
            answer = self.faults.pop(0)(request)
            if answer is not None:
                return answer
        return dict(self.client.batch_write_item(**request))


def keys_of(request: Request) -> list[str]:
    (puts,) = request["RequestItems"].values()
    return [p["PutRequest"]["Item"].get("recordKey", {}).get("S", "") for p in puts]


def throttled(request: Request) -> None:
    raise client_error("ProvisionedThroughputExceededException", "Rate of requests exceeds the allowed")


def last_one_unprocessed(client: Any) -> Fault:
    """Write all but the last item of the call and answer that one unprocessed."""

    def fault(request: Request) -> dict[str, Any]:
        ((table, puts),) = request["RequestItems"].items()
        if len(puts) > 1:
            client.batch_write_item(RequestItems={table: puts[:-1]})
        return {"UnprocessedItems": {table: puts[-1:]}}

    return fault


def refusing(key: str, client: Any) -> Fault:
    """DynamoDB's answer to a batch holding one item too large: the whole call refused."""

    def fault(request: Request) -> dict[str, Any]:
        if key in keys_of(request):
            raise client_error("ValidationException", "Item size has exceeded the maximum allowed size")
        return dict(client.batch_write_item(**request))

    return fault


@pytest.fixture
def deps(aws: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Deps]:
    """The stack's ports over moto, DynamoDB behind ``FaultyDynamo``, backoff without waiting."""
    monkeypatch.setitem(REGISTRY, "numbers", "tests.unit.test_jobs:NumbersKind")
    get_kind.cache_clear()
    deps = runtime.DEPS.get()
    writer = deps.records.writer  # type: ignore[attr-defined]
    assert isinstance(writer, BatchWriter) and deps.imports.writer is writer  # type: ignore[attr-defined]
    writer.client = FaultyDynamo(writer.client)
    writer.sleeps = []  # type: ignore[attr-defined]
    writer.sleep = writer.sleeps.append  # type: ignore[attr-defined]
    writer.max_workers = 1  # faults meet the calls in order
    yield deps
    get_kind.cache_clear()


def faulty(deps: Deps) -> FaultyDynamo:
    client = deps.records.writer.client  # type: ignore[attr-defined]
    assert isinstance(client, FaultyDynamo)
    return client


def numbers(n: int) -> list[dict[str, Any]]:
    return [{"id": f"r{i}", "n": i + 1} for i in range(n)]


def stored_keys(deps: Deps, import_id: str) -> list[str]:
    """The keys of the records this import wrote last, as stored (read with the table's own scan)."""
    store = deps.records
    client = store.writer.client.client  # type: ignore[attr-defined]
    found: list[str] = []
    kwargs: dict[str, Any] = {"TableName": store.table}  # type: ignore[attr-defined]
    while True:
        page = client.scan(**kwargs)
        found += [i["recordKey"]["S"] for i in page["Items"] if i.get("importId", {}).get("S") == import_id]
        if "LastEvaluatedKey" not in page:
            return sorted(found)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def assert_each_row_once(deps: Deps, import_id: str, total: int) -> dict[str, int]:
    """Every row has exactly one result, and the import's counts add up to its total."""
    job = deps.imports.get("acme", import_id)
    assert job is not None and job.status == "DONE"
    results = deps.imports.list_results("acme", import_id)
    assert sorted(r["index"] for r in results) == list(range(total))
    counts = job.counts
    assert counts.total == total == counts.succeeded + counts.failed + counts.skipped
    assert counts.succeeded == sum(r["status"] in ("created", "updated") for r in results)
    return counts.as_dict()


def start_numbers(deps: Deps, rows: list[dict[str, Any]], chunk_size: int, monkeypatch: Any) -> list[Any]:
    monkeypatch.setattr(get_kind("numbers"), "chunk_size", chunk_size)
    queue: list[dict[str, Any]] = []
    monkeypatch.setattr(deps.queue, "send", queue.extend)
    jobs.start_async_import(get_kind("numbers"), {}, rows, ACME, deps)
    return [jobs.ChunkMessage.from_json(body) for body in queue]


# -- the batch writer ------------------------------------------------------------------------------------
def test_throttling_then_success_stores_every_row_of_a_synchronous_import(deps: Deps) -> None:
    faulty(deps).faults = [throttled, throttled, throttled]
    result = run_inline_import(get_kind("numbers"), {}, numbers(30), ACME, deps)
    assert result.job.status == "DONE" and result.job.counts.succeeded == 30
    assert len(stored_keys(deps, result.job.import_id)) == 30
    assert len(deps.records.writer.sleeps) == 3  # type: ignore[attr-defined]


def test_unprocessed_items_for_five_rounds_are_retried_until_stored(deps: Deps) -> None:
    client = faulty(deps)
    client.faults = [last_one_unprocessed(client.client) for _ in range(5)]
    result = run_inline_import(get_kind("numbers"), {}, numbers(25), ACME, deps)
    assert result.job.counts.succeeded == 25 and result.job.counts.failed == 0
    assert len(stored_keys(deps, result.job.import_id)) == 25
    # Capped exponential backoff with full jitter: each delay at most 50 ms * 2**attempt.
    sleeps = deps.records.writer.sleeps  # type: ignore[attr-defined]
    assert len(sleeps) == 5 and all(0 <= s <= 0.05 * 2**a for a, s in enumerate(sleeps))


def test_rows_still_unprocessed_after_the_retries_fail_and_may_be_sent_again(deps: Deps) -> None:
    client = faulty(deps)
    client.faults = [last_one_unprocessed(client.client) for _ in range(8)]
    result = run_inline_import(get_kind("numbers"), {}, numbers(25), ACME, deps)
    (failed,) = [o for o in result.outcomes if o.errors]
    assert failed.index == 24 and result.job.counts.succeeded == 24
    assert failed.errors[0].message == (
        "row: not stored (throttled, still unwritten after 8 attempts); send it again"
    )


def test_one_item_refused_in_a_batch_of_25_fails_alone_and_the_24_others_are_stored(deps: Deps) -> None:
    client = faulty(deps)
    client.faults = [refusing("r7", client.client) for _ in range(20)]
    result = run_inline_import(get_kind("numbers"), {}, numbers(25), ACME, deps)
    assert result.job.counts.succeeded == 24 and result.job.counts.failed == 1
    (failed,) = [o for o in result.outcomes if o.errors]
    assert failed.index == 7
    assert failed.errors[0].message == (
        "row: not stored: the record is larger than DynamoDB accepts (400 KB an item)"
    )
    assert stored_keys(deps, result.job.import_id) == sorted(f"r{i}" for i in range(25) if i != 7)


def test_a_refused_row_in_a_worker_fails_alone_and_its_chunk_is_not_retried(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    (message,) = start_numbers(deps, numbers(25), 25, monkeypatch)
    client = faulty(deps)
    client.faults = [refusing("r3", client.client) for _ in range(20)]
    jobs.process_chunk(message, deps)
    counts = assert_each_row_once(deps, message.import_id, 25)
    assert counts["succeeded"] == 24 and counts["failed"] == 1
    (result,) = [r for r in deps.imports.list_results("acme", message.import_id) if r["errors"]]
    assert result["id"] == "r3" and "send it again" not in result["errors"][0]


# -- workers ---------------------------------------------------------------------------------------------
def test_a_worker_dying_mid_chunk_then_redelivered_accounts_every_row_once(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_kind("numbers"), "write_batch_size", 25)
    (message,) = start_numbers(deps, numbers(60), 60, monkeypatch)

    def killed(request: Request) -> None:
        raise WorkerKilledError("the worker stopped")

    client = faulty(deps)
    passes: list[Fault] = [lambda r: None, lambda r: None]
    client.faults = [*passes, killed]  # two write batches stored, then the worker dies
    with pytest.raises(WorkerKilledError):
        jobs.process_chunk(message, deps)
    assert len(stored_keys(deps, message.import_id)) == 50
    job = deps.imports.get("acme", message.import_id)
    assert job is not None and job.counts.succeeded == 0 and job.chunks_done == 0

    jobs.process_chunk(message, deps)  # the queue delivers it again
    counts = assert_each_row_once(deps, message.import_id, 60)
    assert counts["succeeded"] == 60 and counts["failed"] == 0
    assert len(stored_keys(deps, message.import_id)) == 60


def test_a_chunk_delivered_twice_counts_its_rows_once(deps: Deps, monkeypatch: pytest.MonkeyPatch) -> None:
    messages = start_numbers(deps, numbers(10), 4, monkeypatch)
    for message in [*messages, messages[1], *messages]:
        jobs.process_chunk(message, deps)
    counts = assert_each_row_once(deps, messages[0].import_id, 10)
    assert counts["succeeded"] == 10


def test_throttling_left_after_the_retries_fails_the_chunk_and_redelivery_stores_it(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    (message,) = start_numbers(deps, numbers(5), 5, monkeypatch)
    client = faulty(deps)
    client.faults = [throttled] * 8
    with pytest.raises(Exception, match="not stored yet"):
        jobs.process_chunk(message, deps)
    jobs.process_chunk(message, deps)
    counts = assert_each_row_once(deps, message.import_id, 5)
    assert counts["succeeded"] == 5


def test_a_lost_connection_fails_the_chunk_and_never_a_row(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    (message,) = start_numbers(deps, numbers(3), 3, monkeypatch)

    def unreachable(request: Request) -> None:
        raise EndpointConnectionError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com")

    faulty(deps).faults = [unreachable] * 8
    with pytest.raises(Exception, match="not stored yet"):
        jobs.process_chunk(message, deps)
    assert deps.imports.list_results("acme", message.import_id) == []
    jobs.process_chunk(message, deps)
    assert assert_each_row_once(deps, message.import_id, 3)["succeeded"] == 3


def test_a_row_whose_validation_raises_fails_alone_in_a_worker(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    kind = get_kind("numbers")
    validate = kind.validate

    def fragile(raw: Any, index: int, options: Any, tenant: Any) -> Any:
        if raw.get("id") == "r1":
            raise RecursionError("maximum recursion depth exceeded")
        return validate(raw, index, options, tenant)

    monkeypatch.setattr(kind, "validate", fragile)
    (message,) = start_numbers(deps, numbers(3), 3, monkeypatch)
    jobs.process_chunk(message, deps)
    counts = assert_each_row_once(deps, message.import_id, 3)
    assert counts["succeeded"] == 2 and counts["failed"] == 1
    (result,) = [r for r in deps.imports.list_results("acme", message.import_id) if r["errors"]]
    assert result["errors"] == ["row: not processed: it holds a value this import cannot handle"]
