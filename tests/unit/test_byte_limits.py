"""AWS's limits in bytes, on fakes that refuse what AWS refuses: SQS messages and batches, workflow state,
job views answered one page at a time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.fakes import ACME, AwsLimitedQueue, FakeImports, make_deps

from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.model import Counts, ImportJob, RowOutcome
from bulk_import.core.ports import Deps
from bulk_import.core.tenants import Principal
from bulk_import.engine import jobs, messages, paging
from bulk_import.kinds import get_kind

PAYMENTS = get_kind("payments")
CUSTOMERS = get_kind("customers")
MIB = 1_048_576
LAMBDA_RESPONSE_BYTES = 6_000_000
PHRASE = "Salaire de décembre — prime incluse ✓ "


def rich_item(i: int, description_chars: int = 100, tags: int = 5) -> dict[str, Any]:
    """A payment instruction with everything it may carry: long accented text, attachments, tags."""
    return {
        "id": f"pay-{i:05d}",
        "source": {"type": "group", "id": "grp-main"},
        "target": {"type": "contact", "id": "ct-1"},
        "amount": {"type": "SEND", "amount": "1250.125", "currency": "EUR"},
        "execution": {"type": "SEND", "date": "2026-12-01T09:00:00Z", "margin": 2},
        "purpose": "SALA",
        "final": {"is_final": True, "expected": "2026-12-02T09:00:00Z"},
        "description": ("Salaire de décembre — prime incluse ✓ " * (description_chars // 30 + 1))[
            :description_chars
        ],
        "signature": "Émilie Dupont-Øberg, directrice financière",
        "approved": True,
        "attachments": [
            {
                "id": f"att-{i}-{n}",
                "title": f"Fiche de paie n°{n}",
                "url": f"https://files.example/{i}/{n}.pdf",
            }
            for n in range(3)
        ],
        "user_tags": {f"tag-{n}": f"valeur-{n}-éà" for n in range(tags)},
    }


def limited_deps() -> tuple[Deps, AwsLimitedQueue]:
    deps = make_deps()
    queue = AwsLimitedQueue()
    deps.queue = queue
    return deps, queue


def rows_of(deps: Deps, body: dict[str, Any]) -> list[Any]:
    message = jobs.ChunkMessage.from_json(body)
    if message.rows is not None:
        return message.rows
    assert deps.payloads is not None and message.rows_key is not None
    return list(deps.payloads.get_json(message.rows_key))


@pytest.mark.parametrize(("description_chars", "inline"), [(100, True), (2_000, False)])
def test_a_10000_item_payments_request_with_rich_items_is_queued_within_sqs_limits(
    description_chars: int, inline: bool
) -> None:
    deps, queue = limited_deps()
    items = [rich_item(i, description_chars) for i in range(10_000)]
    job = jobs.start_async_import(PAYMENTS, {"items": items}, items, ACME, deps)
    assert job.chunks_total == len(queue.messages) == 40
    assert max(queue.message_bytes) <= jobs.INLINE_CHUNK_BYTES
    assert max(queue.batch_bytes) <= messages.BATCH_BYTES < MIB
    assert all(("rows" in m) is inline for m in queue.messages)
    if inline:
        # Chunks of 250 such items are ~200 KB: ten of them would make a batch over 1 MiB.
        assert sum(queue.message_bytes[:10]) > MIB and len(queue.batch_bytes) > 4
    # Every row arrives once, in order, whether inline or through the payload store.
    assert [r["id"] for m in queue.messages for r in rows_of(deps, m)] == [it["id"] for it in items]
    for body in queue.messages:
        jobs.process_chunk(jobs.ChunkMessage.from_json(body), deps)
    done = deps.imports.get("acme", job.import_id)
    assert done is not None and done.status == "DONE"
    assert (done.counts.succeeded, done.counts.failed) == (10_000, 0)


def test_a_row_near_the_record_limit_travels_alone_through_the_payload_store() -> None:
    deps, queue = limited_deps()
    items = [rich_item(0), rich_item(1, description_chars=340_000), rich_item(2)]
    job = jobs.start_async_import(PAYMENTS, {"items": items}, items, ACME, deps)
    (body,) = queue.messages
    assert "rows" not in body and body["rowsKey"].startswith(f"payloads/acme/{job.import_id}/")
    assert queue.message_bytes[0] < 1_000
    assert rows_of(deps, body) == items


def test_the_old_inline_limit_would_have_broken_the_batch() -> None:
    # What the queue refuses, it refuses as SQS does: the fake is not lenient.
    queue = AwsLimitedQueue()
    with pytest.raises(Exception, match="cannot be longer than 1048576 bytes"):
        queue.send([{"rows": "x" * 200_000} for _ in range(6)])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=3_000), min_size=1, max_size=30),
    accents=st.booleans(),
)
def test_every_chunk_message_fits_inline_or_carries_a_key_whatever_the_row_sizes(
    sizes: list[int], accents: bool
) -> None:
    deps = make_deps()
    # Rows just around the inline budget when a chunk holds 250 of them.
    letter = "é" if accents else "a"
    items = [dict(rich_item(i), description=letter * sizes[i // 10]) for i in range(len(sizes) * 10)]
    job = jobs.new_job(deps, PAYMENTS, "acme", "api", {})
    options = PAYMENTS.options({}, deps.tenants.load_config("acme"), deps.clock.now())  # type: ignore[arg-type]
    chunks = list(jobs.split_rows(deps, PAYMENTS, job, items, options=options))
    for message in chunks:
        body = message.to_json()
        assert messages.body_bytes(body) <= jobs.INLINE_CHUNK_BYTES
        size_inline = messages.body_bytes({**body, "rows": rows_of(deps, body)})
        assert (message.rows is not None) == (size_inline <= jobs.INLINE_CHUNK_BYTES)
    assert [r["id"] for m in chunks for r in rows_of(deps, m.to_json())] == [it["id"] for it in items]


@given(st.lists(st.integers(min_value=2, max_value=400_000), max_size=40))
def test_batches_keep_order_and_stay_under_ten_entries_and_the_byte_budget(sizes: list[int]) -> None:
    bodies = [{"n": n, "pad": "x" * (size - 2)} for n, size in enumerate(sizes)]
    groups = list(messages.batches(bodies))
    assert [b for group in groups for b in group] == bodies
    for group in groups:
        assert 1 <= len(group) <= 10
        assert sum(messages.body_bytes(b) for b in group) <= messages.BATCH_BYTES


def test_a_message_larger_than_sqs_accepts_is_refused_before_sending() -> None:
    with pytest.raises(messages.MessageTooLargeError, match="SQS accepts 1,048,576"):
        list(messages.batches([{"pad": "x" * MIB}]))


# -- job views, one page at a time ---------------------------------------------------------------------
def stored_job(
    deps: Deps,
    kind_name: str,
    total: int,
    result: Any,
    *,
    tenant: str = "acme",
    done: int | None = None,
    import_id: str | None = None,
) -> ImportJob:
    """An import of ``total`` rows whose first ``done`` rows have a stored result."""
    now = deps.clock.now()
    job = ImportJob(
        import_id=import_id or deps.new_id(),
        tenant_id=tenant,
        kind=kind_name,
        source="api",
        status="PROCESSING" if done is not None and done < total else "DONE",
        created_at=now,
        updated_at=now,
        counts=Counts(total=total),
    )
    deps.imports.save(job)
    count = total if done is None else done
    outcomes = [RowOutcome(index=i, raw=None) for i in range(count)]
    deps.imports.add_rows(job, outcomes, [result(i) for i in range(count)])
    return job


def payment_result(i: int, error_chars: int = 0) -> dict[str, Any]:
    if not error_chars:
        return {"id": f"pay-{i}", "status": "SUCCESS", "row": str(i), "error": None}
    message = ("description: " + "ça ne passe pas " * (error_chars // 16))[:error_chars]
    return {
        "id": f"pay-{i}",
        "status": "FAILED",
        "row": str(i),
        "error": {"message": message, "fields": {"description": [message]}},
    }


def customer_result(i: int) -> dict[str, Any]:
    status = ("created", "updated", "failed")[i % 3]
    return {
        "index": i,
        "id": f"c-{i}",
        "status": status,
        "errors": ["zipCode: unknown"] if i % 3 == 2 else [],
    }


def all_pages(deps: Deps, kind_name: str, job_id: str, part: str, limit: int) -> list[dict[str, Any]]:
    views, cursor = [], None
    while True:
        view = jobs.job_view(deps, ACME, kind_name, job_id, limit=limit, cursor=cursor)
        views.append(view)
        cursor = view["nextCursor"]
        if cursor is None:
            return views
        assert len(views) < 100, "paging does not end"


def test_the_payments_job_view_pages_its_progress_and_ends_with_a_null_cursor() -> None:
    deps = make_deps()
    job = stored_job(deps, "payments", 2_500, payment_result)
    views = all_pages(deps, "payments", job.import_id, "progress", 1_000)
    assert [len(v["progress"]) for v in views] == [1_000, 1_000, 500]
    rows = [int(p["row"]) for v in views for p in v["progress"]]
    assert rows == list(range(2_500))
    # Counts and status are the whole import's on every page.
    assert {(v["total"], v["processed"], v["status"]) for v in views} == {(2_500, 0, "DONE")}
    # Without a limit, every row at once.
    every = jobs.job_view(deps, ACME, "payments", job.import_id)
    assert every["progress"] == [p for v in views for p in v["progress"]] and every["nextCursor"] is None


def test_a_page_that_ends_exactly_at_the_last_row_has_a_null_cursor() -> None:
    deps = make_deps()
    job = stored_job(deps, "payments", 20, payment_result)
    views = all_pages(deps, "payments", job.import_id, "progress", 10)
    assert [len(v["progress"]) for v in views] == [10, 10]


def test_the_customers_job_view_pages_its_results_with_counts_of_the_whole_import() -> None:
    deps = make_deps()
    job = stored_job(deps, "customers", 1_000, customer_result, done=900)
    views = all_pages(deps, "customers", job.import_id, "results", 250)
    assert [len(v["results"]) for v in views] == [250, 250, 250, 150]
    assert [r["index"] for v in views for r in v["results"]] == list(range(900))
    for view in views:
        assert view["counts"] == {
            "total": 1_000,
            "created": 300,
            "updated": 300,
            "failed": 300,
            "pending": 100,
        }


def test_a_cursor_of_another_import_or_tenant_or_made_up_is_refused() -> None:
    deps = make_deps()
    mine = stored_job(deps, "payments", 30, payment_result)
    other = stored_job(deps, "payments", 30, payment_result)
    cursor = jobs.job_view(deps, ACME, "payments", mine.import_id, limit=10)["nextCursor"]
    assert cursor is not None
    with pytest.raises(InvalidRequestError, match="cursor"):
        jobs.job_view(deps, ACME, "payments", other.import_id, cursor=cursor)
    # The same import id under another tenant: the cursor is bound to the tenant too.
    globex = Principal("globex", ACME.scopes)
    stored_job(deps, "payments", 30, payment_result, tenant="globex", import_id=mine.import_id)
    assert paging.read_page(deps.imports, "globex", mine.import_id, 10).next_cursor
    with pytest.raises(InvalidRequestError, match="cursor"):
        paging.read_page(deps.imports, globex.tenant_id, mine.import_id, 10, cursor)
    for bad in ("", "abc", "e30", "eyJ2IjoxfQ", "%%%", "x" * 500):
        if bad:
            with pytest.raises(InvalidRequestError, match="cursor"):
                jobs.job_view(deps, ACME, "payments", mine.import_id, cursor=bad)


@pytest.mark.parametrize("limit", [0, -1, 10_001, "abc", "1.5", "²", True, "99999999999"])
def test_a_limit_out_of_range_is_refused(limit: Any) -> None:
    deps = make_deps()
    job = stored_job(deps, "payments", 3, payment_result)
    with pytest.raises(InvalidRequestError, match="limit: must be a whole number from 1 to 10000"):
        jobs.job_view(deps, ACME, "payments", job.import_id, limit=limit)


def test_a_limit_from_the_query_string_is_read_as_a_number() -> None:
    deps = make_deps()
    job = stored_job(deps, "payments", 30, payment_result)
    assert len(jobs.job_view(deps, ACME, "payments", job.import_id, limit="7")["progress"]) == 7


def test_the_default_page_of_a_10000_row_job_with_long_errors_stays_under_6_mb() -> None:
    deps = make_deps()
    job = stored_job(deps, "payments", 10_000, lambda i: payment_result(i, error_chars=3_000))
    view = jobs.job_view(deps, ACME, "payments", job.import_id)
    size = len(json.dumps(view).encode())
    assert size <= paging.PAGE_BYTES + 10_000 < LAMBDA_RESPONSE_BYTES * 0.7
    assert 0 < len(view["progress"]) < paging.DEFAULT_PAGE_ROWS and view["nextCursor"]
    # The pages still reach every row.
    views = all_pages(deps, "payments", job.import_id, "progress", 1_000)
    assert sum(len(v["progress"]) for v in views) == 10_000


def test_a_page_reads_one_page_from_the_repository_not_every_result() -> None:
    deps = make_deps()
    job = stored_job(deps, "payments", 5_000, payment_result)
    assert isinstance(deps.imports, FakeImports)
    calls: list[tuple[int, int | None]] = []
    real = deps.imports.list_results_page

    def spy(tenant_id: str, import_id: str, limit: int, after: int | None = None) -> Any:
        calls.append((limit, after))
        return real(tenant_id, import_id, limit, after)

    deps.imports.list_results_page = spy  # type: ignore[method-assign]
    deps.imports.list_results = None  # type: ignore[assignment,method-assign]
    view = jobs.job_view(deps, ACME, "payments", job.import_id, limit=100)
    assert len(view["progress"]) == 100 and calls == [(100, None)]
    jobs.job_view(deps, ACME, "payments", job.import_id, limit=100, cursor=view["nextCursor"])
    assert calls[-1] == (100, 99)


# -- workflow state --------------------------------------------------------------------------------------
STATE_LIMIT = 256 * 1024
CAUSE_LIMIT = 32_768  # Step Functions keeps at most this much of an error's cause


def _get(path: str, data: Any, context: Any) -> Any:
    node = context if path.startswith("$$") else data
    for part in [p for p in path.lstrip("$").split(".") if p]:
        node = node[part]
    return node


def _resolve(template: Any, data: Any, context: Any) -> Any:
    """A state's Parameters, ItemSelector or ResultSelector filled in from ``data`` (paths only)."""
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _get(value, data, context)
            else:
                out[key] = _resolve(value, data, context)
        return out
    return template


def _place(state: dict[str, Any], data: Any, result: Any) -> Any:
    """ResultPath then OutputPath, as Step Functions applies them."""
    path = state.get("ResultPath", "$")
    if path is None:
        out = data
    elif path == "$":
        out = result
    else:
        out = {**data, path[2:]: result}
    if "OutputPath" in state:
        return {} if state["OutputPath"] is None else _get(state["OutputPath"], out, {})
    return out


class StateSizes:
    """Runs the definition's task states in order on fakes, keeping the size of every state's input/output."""

    def __init__(self, deps: Deps) -> None:
        from bulk_import import workflow as definition

        self.deps = deps
        self.machine = json.loads(definition.DEFINITION.read_text(encoding="utf-8"))
        self.largest: dict[str, int] = {}

    def note(self, name: str, value: Any) -> None:
        size = len(json.dumps(value, separators=(",", ":")).encode())
        self.largest[name] = max(size, self.largest.get(name, 0))

    def task(self, name: str, state: dict[str, Any], data: Any, answer: Any, context: Any = None) -> Any:
        self.note(f"{name} input", data)
        payload = _resolve(
            state["Parameters"],
            data,
            {"Task": {"Token": "t" * 2048}, "State": {"RetryCount": 3}, **(context or {})},
        )
        self.note(f"{name} payload", payload)
        result = {"Payload": answer, "StatusCode": 200, "ExecutedVersion": "$LATEST"}
        if "ResultSelector" in state:
            result = _resolve(state["ResultSelector"], result, {})
        out = _place(state, data, result)
        self.note(f"{name} output", out)
        return out

    def run(self, execution_input: dict[str, Any]) -> Any:
        from bulk_import.engine import workflow

        states = self.machine["States"]
        tenant, import_id = execution_input["tenantId"], execution_input["importId"]
        data = self.task("AwaitInsertion", states["AwaitInsertion"], execution_input, {"inserted": 10**6})
        prepared = workflow.prepare_calls(self.deps, tenant, import_id)
        data = self.task("PrepareCalls", states["PrepareCalls"], data, prepared)
        answer: dict[str, Any] = {}

        def call_groups(name: str, data: dict[str, Any]) -> dict[str, Any]:
            nonlocal answer
            groups = states[name]
            mapped = groups["ItemProcessor"]["States"]["CallBatches"]
            inner = mapped["ItemProcessor"]["States"]["RequestCalls"]
            outputs = []
            for group in _get(groups["ItemsPath"], data, {}):
                group_input = _resolve(groups["ItemSelector"], data, {"Map": {"Item": {"Value": group}}})
                self.note(f"{name} item", group_input)
                results = []
                for item in _get(mapped["ItemsPath"], group_input, {}):
                    context = {"Map": {"Item": {"Value": item}}}
                    item_input = _resolve(mapped["ItemSelector"], group_input, context)
                    if not answer:  # one batch really runs; the others answer in its shape (counts of 500)
                        answer = workflow.request_calls(
                            self.deps, tenant, import_id, item_input["batch"], pause=lambda s: None
                        )
                    results.append(self.task("RequestCalls", inner, item_input, {**answer, "batch": item}))
                self.note("CallBatches result", results)
                outputs.append(_place(mapped, group_input, results))
            self.note(f"{name} result", outputs)
            out = _place(groups, data, outputs)
            self.note(f"{name} output", out)
            return out

        data = call_groups("CallsNow", data)
        calls = workflow.finalize(self.deps, tenant, import_id)
        final = self.task(
            "Finalize", states["Finalize"], data, {"calls": calls, "waiting": bool(calls.get("deferred"))}
        )
        data = call_groups("CallsLater", final)
        final = self.task(
            "FinishCalls", states["FinishCalls"], data, workflow.finish_calls(self.deps, tenant, import_id)
        )
        failed = {**data, "error": {"Error": "TransientError", "Cause": "x" * CAUSE_LIMIT}}
        self.task("MarkFailed", states["MarkFailed"], failed, None)
        return final


def import_with_calls(deps: Deps, customers: int) -> ImportJob:
    """A stored campaign-customers import of ``customers`` that asked for calls (records written directly)."""
    from bulk_import.core.model import CallStage, StoredRecord

    now = deps.clock.now()
    job = ImportJob(
        import_id=deps.new_id(),
        tenant_id="acme",
        kind="campaign-customers",
        source="api",
        status="PROCESSING",
        created_at=now,
        updated_at=now,
        counts=Counts(total=customers, succeeded=customers),
        options={
            "campaignId": "camp-loans",
            "initiateCall": True,
            "callConfig": {"agentId": "agent-7", "dispositionId": "disp-2"},
        },
        calls=CallStage(),
    )
    deps.imports.save(job)
    records = [
        StoredRecord(
            get_kind("campaign-customers").entity,
            f"camp-loans#L-{i:07d}",
            {"phone_number": f"+3361{i:07d}", "campaign_id": "camp-loans", "loan_id": f"L-{i:07d}"},
        )
        for i in range(customers)
    ]
    deps.records.put_records("acme", job.import_id, records)
    return job


def test_the_largest_workflow_state_of_a_100000_customer_import_with_calls_stays_far_under_256_kib() -> None:
    from bulk_import.adapters.stepfunctions import execution_input

    sizes = {}
    for customers in (1_000, 100_000):
        deps = make_deps()
        job = import_with_calls(deps, customers)
        run = StateSizes(deps)
        final = run.run(execution_input(job, chunked=True))
        assert final["result"]["calls"]["batches"] == customers // 500
        sizes[customers] = max(run.largest.values())
        assert sizes[customers] < STATE_LIMIT / 4, run.largest
    # What grows with the import is a batch number per 500 customers: a file's million rows stay far under.
    per_batch = (sizes[100_000] - sizes[1_000]) / (200 - 2)
    assert per_batch <= 8
    assert sizes[1_000] + per_batch * (1_000_000 / 500) < STATE_LIMIT / 2


def test_a_poll_without_limit_gets_the_progress_of_every_item_of_a_10000_item_import() -> None:
    deps = make_deps()
    job = stored_job(deps, "payments", 10_000, payment_result)
    view = jobs.job_view(deps, ACME, "payments", job.import_id)
    assert [p["row"] for p in view["progress"]] == [str(i) for i in range(10_000)]
    assert view["nextCursor"] is None


def test_the_job_route_takes_every_limit_a_page_can_have() -> None:
    from bulk_import.entrypoints import routes

    assert routes.MAX_JOB_PAGE == paging.MAX_PAGE_ROWS
