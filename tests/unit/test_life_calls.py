"""A cancel landing while the call stage is prepared: the import's view says its calls were cancelled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from tests.fakes import ACME, FakeBus, FixedClock, make_deps
from tests.unit.test_call_stage import customers

from bulk_import.engine import workflow
from bulk_import.kinds import get_kind
from bulk_import.usecases import lifecycle
from bulk_import.usecases.sync_imports import run_inline_import

KIND = get_kind("campaign-customers")


@pytest.mark.parametrize("deferred", [False, True], ids=["called now", "deferred"])
def test_a_cancel_during_the_preparation_of_the_calls_leaves_the_call_stage_cancelled_not_running(
    monkeypatch: pytest.MonkeyPatch, deferred: bool
) -> None:
    deps = make_deps()
    body = {
        "campaignId": "camp-loans",
        "initiateCall": True,
        "callConfig": {"agentId": "agent-7", "dispositionId": "disp-2"},
    }
    result = run_inline_import(KIND, body, customers(700), ACME, deps)
    import_id = result.job.import_id
    if deferred:  # a Saturday evening in Paris: every French customer waits for Monday
        assert isinstance(deps.clock, FixedClock)
        deps.clock.current = datetime(2026, 11, 21, 19, 0, tzinfo=UTC)
    schedule = deps.imports.schedule_calls

    def cancelled_meanwhile(*args: Any, **kwargs: Any) -> None:
        # The cancel lands after PrepareCalls read the import and before it records the schedule.
        lifecycle.cancel_import(deps, ACME, import_id)
        schedule(*args, **kwargs)

    monkeypatch.setattr(deps.imports, "schedule_calls", cancelled_meanwhile)
    prepared = workflow.prepare_calls(deps, "acme", import_id)
    for batch in prepared["now"][0]["batches"] if prepared["now"] else []:
        workflow.request_calls(deps, "acme", import_id, batch, pause=lambda s: None)
    workflow.finalize(deps, "acme", import_id)
    for group in prepared["later"]:
        for batch in group["batches"]:
            workflow.request_calls(deps, "acme", import_id, batch, pause=lambda s: None)
    workflow.finish_calls(deps, "acme", import_id)

    view = lifecycle.import_view(deps, ACME, import_id)
    assert view["status"] == "CANCELLED"
    assert view["calls"]["status"] == "CANCELLED"
    assert view["calls"]["requested"] == 0
    assert isinstance(deps.events, FakeBus) and deps.events.events == []
