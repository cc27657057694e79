"""A webhook endpoint that takes its time: a 2xx after the 10 seconds is a failed attempt, retried."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.unit.test_webhook_deliveries import ManualClock, _deps, _transport

from bulk_import.engine.announce import new_delivery
from bulk_import.usecases.webhook_deliveries import RETRY_DELAYS, TIMEOUT_SECONDS, deliver


@pytest.mark.parametrize(
    ("seconds", "delivered"),
    [(1.0, True), (TIMEOUT_SECONDS, True), (TIMEOUT_SECONDS + 1, False), (25.0, False)],
)
def test_a_2xx_answer_counts_only_when_it_came_within_the_timeout(
    monkeypatch: pytest.MonkeyPatch, seconds: float, delivered: bool
) -> None:
    deps, _ = _deps([200])
    assert isinstance(deps.clock, ManualClock)
    clock = deps.clock
    transport = _transport(deps)
    answer = transport.post

    def slow_post(*args: Any) -> int:
        clock.current += timedelta(seconds=seconds)  # the endpoint's answer took that long to arrive
        return answer(*args)

    monkeypatch.setattr(transport, "post", slow_post)
    outcome = deliver(deps, new_delivery("acme", "imp_1", "import.completed", clock.now()), attempt=1)

    assert outcome.done is delivered
    if not delivered:
        assert outcome.retry_in == RETRY_DELAYS[0]
        assert "past the 10 s allowed" in outcome.reason
