"""Cancel and retry of an import whose file was dropped in a folder that names no kind: the import exists
(it is listed and read), so both answer as for any finished import rather than "not found"."""

from __future__ import annotations

import pytest
from tests.fakes import ACME, FakeFiles, make_deps

from bulk_import.core.errors import ConflictError, ForbiddenError
from bulk_import.core.ports import Deps
from bulk_import.core.tenants import Principal
from bulk_import.usecases import lifecycle
from bulk_import.usecases.files import handle_drop

DEBTS = b"firstname,lastname,amount,currency,phone\nAda,Lovelace,10,EUR,0612345678\n"


def dropped_in(deps: Deps, folder: str) -> str:
    assert isinstance(deps.files, FakeFiles)
    job = handle_drop(deps, deps.files.add(f"incoming/acme/{folder}/relances.csv", DEBTS))
    assert job is not None and job.status == "FAILED"
    assert lifecycle.import_view(deps, ACME, job.import_id)["kind"] == folder
    return job.import_id


@pytest.mark.parametrize("folder", ["dettes", "payment", "loans"])
def test_an_import_of_a_folder_naming_no_kind_is_finished_for_cancel_and_retry(folder: str) -> None:
    deps = make_deps()
    import_id = dropped_in(deps, folder)
    with pytest.raises(ConflictError, match=f"import {import_id} is FAILED"):
        lifecycle.cancel_import(deps, ACME, import_id)
    with pytest.raises(ConflictError, match="no failed row to retry"):
        lifecycle.retry_import(deps, ACME, import_id)


def test_a_key_that_may_write_no_kind_may_not_cancel_or_retry_it_either() -> None:
    deps = make_deps()
    import_id = dropped_in(deps, "dettes")
    reader = Principal("acme", frozenset({"imports:read"}))
    with pytest.raises(ForbiddenError, match="write scope"):
        lifecycle.cancel_import(deps, reader, import_id)
    with pytest.raises(ForbiddenError, match="write scope"):
        lifecycle.retry_import(deps, reader, import_id)
    writer = Principal("acme", frozenset({"payments:write"}))
    with pytest.raises(ConflictError):
        lifecycle.cancel_import(deps, writer, import_id)


@pytest.mark.parametrize("calls", [False, True], ids=["without calls", "with calls"])
def test_a_cancel_landing_while_a_synchronous_import_writes_its_rows_stands_and_requests_no_call(
    monkeypatch: pytest.MonkeyPatch, calls: bool
) -> None:
    from tests.fakes import FakeWorkflow
    from tests.unit.test_call_stage import customers

    from bulk_import.kinds import get_kind
    from bulk_import.usecases import sync_imports

    deps = make_deps()
    persist = sync_imports.persist
    answers: list[dict[str, object]] = []

    def cancelled_meanwhile(kind: object, outcomes: list[object], *args: object, **kwargs: object) -> int:
        (listed,) = lifecycle.list_imports(deps, ACME, status="PROCESSING").imports
        answers.append(lifecycle.cancel_import(deps, ACME, str(listed["importId"])))  # pressed while written
        return persist(kind, outcomes, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sync_imports, "persist", cancelled_meanwhile)
    body: dict[str, object] = {"campaignId": "camp-loans"}
    if calls:
        body |= {"initiateCall": True, "callConfig": {"agentId": "agent-7", "dispositionId": "disp-2"}}
    kind = get_kind("campaign-customers")
    result = sync_imports.run_inline_import(kind, body, customers(30), ACME, deps)

    assert answers and answers[0]["status"] == "CANCELLED"
    view = lifecycle.import_view(deps, ACME, result.job.import_id)
    assert view["status"] == "CANCELLED", "the cancel answered 200: it stands"
    assert view["counts"]["succeeded"] == 30  # rows being written when the cancel came are written
    assert {"errors", "results"} <= set(view["files"])
    assert isinstance(deps.workflow, FakeWorkflow) and deps.workflow.started == []
    if calls:
        assert result.call_results is not None and result.call_results["status"] == "CANCELLED"
        assert result.call_results["queued"] == 0


def test_a_cancelled_import_whose_queued_chunks_are_still_counted_is_retried_once_they_are() -> None:
    from tests.fakes import FakeQueue

    from bulk_import.engine.jobs import ChunkMessage, process_chunk, start_async_import
    from bulk_import.kinds import get_kind

    deps = make_deps()
    customers = [
        {
            "id": f"c-{i}",
            "taskType": "collections",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "phoneNumber": "+14155550100",
            "timezone": "America/Los_Angeles",
            "streetAddress1": "1 Main St",
            "city": "San Francisco",
            "state": "CA" if i % 10 else "California",  # every tenth row fails
            "zipCode": "94102",
        }
        for i in range(1200)
    ]
    job = start_async_import(get_kind("customers"), {}, customers, ACME, deps)
    queue = deps.queue
    assert isinstance(queue, FakeQueue) and len(queue.messages) > 2
    process_chunk(ChunkMessage.from_json(queue.messages.pop(0)), deps)  # written before the cancel
    assert lifecycle.cancel_import(deps, ACME, job.import_id)["status"] == "CANCELLED"

    with pytest.raises(ConflictError, match="still being counted"):
        lifecycle.retry_import(deps, ACME, job.import_id)

    while queue.messages:  # the workers count the chunks left as cancelled
        process_chunk(ChunkMessage.from_json(queue.messages.pop(0)), deps)
    view = lifecycle.import_view(deps, ACME, job.import_id)
    retry = lifecycle.retry_import(deps, ACME, job.import_id)
    assert retry["total"] == view["counts"]["failed"] > 0


def test_a_file_import_whose_file_was_deleted_since_is_not_retried_and_says_why() -> None:
    from tests.unit.test_file_imports import import_file

    deps = make_deps()
    body = DEBTS + b"Alan,Turing,-5,EUR,0612345679\n"
    job = import_file(deps, "incoming/acme/debts/relances.csv", body, {"timeline-id": "tl-standard"})
    assert job.status == "DONE" and job.counts.failed == 1
    assert isinstance(deps.files, FakeFiles)
    del deps.files.objects["incoming/acme/debts/relances.csv"]  # someone cleaned the bucket up

    with pytest.raises(ConflictError, match=r"relances\.csv was replaced or deleted") as refused:
        lifecycle.retry_import(deps, ACME, job.import_id)
    assert "upload the file again" in str(refused.value)
