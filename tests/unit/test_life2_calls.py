"""A cancel landing while a call batch is being published stops the batch, not only the batches after it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from tests.fakes import ACME, FakeBus, make_deps
from tests.unit.test_call_stage import customers

from bulk_import.core.ports import BusEvent
from bulk_import.engine import workflow
from bulk_import.engine.calls import CANCEL_CHECK_EVERY
from bulk_import.kinds import get_kind
from bulk_import.usecases import lifecycle
from bulk_import.usecases.sync_imports import run_inline_import

KIND = get_kind("campaign-customers")
BODY = {
    "campaignId": "camp-loans",
    "initiateCall": True,
    "callConfig": {"agentId": "agent-7", "dispositionId": "disp-2"},
}


@pytest.mark.parametrize("after_events", [10, 120, 260])
def test_a_cancel_while_a_batch_publishes_stops_its_calls_within_one_check(
    monkeypatch: pytest.MonkeyPatch, after_events: int
) -> None:
    deps = make_deps()
    import_id = run_inline_import(KIND, BODY, customers(500), ACME, deps).job.import_id
    prepared = workflow.prepare_calls(deps, "acme", import_id)
    assert prepared["now"] and prepared["now"][0]["batches"] == [0]
    bus = deps.events
    assert isinstance(bus, FakeBus)
    put_events = bus.put_events
    at_cancel: list[int] = []

    def cancelled_meanwhile(events: Sequence[BusEvent]) -> list[str | None]:
        answer = put_events(events)
        if len(bus.events) >= after_events and not at_cancel:
            lifecycle.cancel_import(deps, ACME, import_id)  # a person presses cancel now
            at_cancel.append(len(bus.events))
        return answer

    monkeypatch.setattr(bus, "put_events", cancelled_meanwhile)
    result = workflow.request_calls(deps, "acme", import_id, 0, pause=lambda s: None)

    assert at_cancel, "the cancel landed while the batch published"
    after = len(bus.events) - at_cancel[0]
    assert after < CANCEL_CHECK_EVERY, f"{after} calls were requested after the cancel"
    assert result["requested"] == len(bus.events)
    view: dict[str, Any] = lifecycle.import_view(deps, ACME, import_id)
    assert view["status"] == "CANCELLED"
    assert view["calls"]["status"] == "CANCELLED"
    assert view["calls"]["requested"] == len(bus.events) < 500


def test_a_cancel_before_the_slots_are_taken_spends_no_slot_of_the_weekly_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    deps = make_deps()
    import_id = run_inline_import(KIND, BODY, customers(30), ACME, deps).job.import_id
    workflow.prepare_calls(deps, "acme", import_id)
    records = deps.records.get_records

    def cancelled_meanwhile(*args: Any, **kwargs: Any) -> Any:
        found = records(*args, **kwargs)
        lifecycle.cancel_import(deps, ACME, import_id)  # lands while the batch reads its customers
        return found

    taken: list[Any] = []

    class Caps:
        def take(
            self, tenant_id: str, calls: Sequence[tuple[str, str]], now: Any, max_calls: int
        ) -> set[str]:
            taken.extend(calls)
            return {c for _, c in calls}

    monkeypatch.setattr(deps.records, "get_records", cancelled_meanwhile)
    monkeypatch.setattr(deps, "call_caps", Caps())
    workflow.request_calls(deps, "acme", import_id, 0, pause=lambda s: None)

    assert taken == []
    assert isinstance(deps.events, FakeBus) and deps.events.events == []
