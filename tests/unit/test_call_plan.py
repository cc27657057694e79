"""When the call stage calls each customer: phone -> timezone and country -> window, on a fixed clock; the
groups by window opening, their cap, and what the state machine's history and state can hold."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from tests.fakes import ACME, FakePayloads, acme_config, make_deps

from bulk_import.core.model import CallStage
from bulk_import.engine import calls, workflow
from bulk_import.engine.calls_plan import (
    CALL_BATCH_SIZE,
    HISTORY_EVENTS_LIMIT,
    MAX_CUSTOMERS,
    MAX_GROUPS,
    Bucket,
    group_buckets,
    tenant_policy,
    wait_timestamp,
    worst_case_history_events,
)
from bulk_import.kinds import get_kind
from bulk_import.rules.calling_policy import CallPolicy
from bulk_import.usecases.sync_imports import run_inline_import

UTC = dt.UTC
EVERY_DAY = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_a_policy_stored_before_it_was_checked_keeps_its_valid_numbers_and_the_defaults() -> None:
    tenant = acme_config(call_policy={"windows": "always", "doNotCallNumbers": [" +33612345678", 7]})
    assert tenant_policy(tenant) == CallPolicy(do_not_call=frozenset({"+33612345678"}))


def bucket(opens: str, closes: str, customers: int = 1) -> Bucket:
    return Bucket(at(opens), at(closes), customers=customers)


def test_distinct_openings_wait_apart_while_they_fit_the_cap() -> None:
    buckets = [
        bucket("2026-12-01T13:00Z", "2026-12-02T02:00Z"),
        bucket("2026-12-01T14:00Z", "2026-12-02T03:00Z"),
    ]
    groups, left = group_buckets(buckets)
    assert [g.at for g in groups] == [at("2026-12-01T13:00Z"), at("2026-12-01T14:00Z")] and not left


@given(st.lists(st.tuples(st.integers(0, 30 * 24 * 60), st.integers(15, 12 * 60)), min_size=1, max_size=400))
def test_merged_groups_never_call_before_a_window_opens_or_after_it_closes(
    spans: list[tuple[int, int]],
) -> None:
    base = dt.datetime(2026, 12, 1, tzinfo=UTC)
    buckets = [
        Bucket(base + dt.timedelta(minutes=s), base + dt.timedelta(minutes=s + length)) for s, length in spans
    ]
    groups, left = group_buckets(buckets, max_groups=20)
    assert len(groups) <= 20
    assert sum(len(g.buckets) for g in groups) + len(left) == len(buckets)
    for group in groups:
        for member in group.buckets:
            assert member.opens is not None and member.opens <= group.at < member.closes


def test_beyond_the_cap_the_latest_windows_are_left_over() -> None:
    base = dt.datetime(2026, 12, 1, tzinfo=UTC)
    disjoint = [
        Bucket(base + dt.timedelta(hours=2 * n), base + dt.timedelta(hours=2 * n + 1)) for n in range(5)
    ]
    groups, left = group_buckets(disjoint, max_groups=3)
    assert [g.at for g in groups] == [b.opens for b in disjoint[:3]]
    assert left == disjoint[3:]


def test_the_largest_import_in_the_most_groups_fits_the_history_and_the_state() -> None:
    assert worst_case_history_events() < HISTORY_EVENTS_LIMIT * 0.8  # room left for retries
    groups = MAX_GROUPS + 1
    batches = MAX_CUSTOMERS // CALL_BATCH_SIZE + groups
    numbers = iter(range(batches))
    state = {
        "tenantId": "t" * 64,
        "importId": "imp_" + "0" * 32,
        "prepared": {
            "later": [
                {
                    "wait": True,
                    "at": "2026-12-01T13:00:00Z",
                    "batches": [next(numbers) for _ in range(batches // groups)],
                }
                for _ in range(groups)
            ],
            "eligible": MAX_CUSTOMERS,
            "skipped": 0,
            "deferred": MAX_CUSTOMERS,
        },
    }
    assert len(json.dumps(state)) < calls.STATE_BYTES // 4


def test_a_wait_never_ends_before_the_opening() -> None:
    assert wait_timestamp(at("2026-03-08T07:00:00.250Z")) == "2026-03-08T07:00:01Z"
    assert wait_timestamp(dt.datetime(2026, 3, 8, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))) == (
        "2026-03-08T07:00:00Z"
    )


def customer(n: int, phone: str, **extra: Any) -> dict[str, Any]:
    return {
        "loan_id": f"L-{n}",
        "first_name": "Ana",
        "phone_number": phone,
        "loan_amount": 100,
        "emi_amount": 10,
        "emi_due_date": "2026-12-01",
        **extra,
    }


def test_prepare_sorts_customers_into_groups_by_window_opening_with_their_call_by() -> None:
    # The fake clock reads Friday 20 November 2026 about 09:00 UTC: 10:00 in Paris, 04:00 in New York.
    deps = make_deps(acme_config(call_policy={"doNotCallNumbers": ["+33612345601"]}))
    rows = [
        customer(0, "+33612345600"),  # Paris, open now
        customer(1, "+33612345601"),  # on the tenant's list
        customer(2, "+12125550100"),  # New York, opens 13:00 UTC
        customer(3, "+12135550100"),  # Los Angeles, opens 16:00 UTC
        customer(4, "+12125550101", doNotCall=True),
    ]
    body = {
        "campaignId": "camp-loans",
        "initiateCall": True,
        "callConfig": {"agentId": "a", "dispositionId": "d"},
    }
    kind = get_kind("campaign-customers")
    result = run_inline_import(kind, body, rows, ACME, deps)
    prepared = workflow.prepare_calls(deps, "acme", result.job.import_id)
    groups = prepared["now"] + prepared["later"]
    assert [(g["wait"], g.get("at")) for g in groups] == [
        (False, None),
        (True, "2026-11-20T13:00:00Z"),
        (True, "2026-11-20T16:00:00Z"),
    ]
    assert (prepared["eligible"], prepared["skipped"], prepared["deferred"]) == (3, 2, 2)
    assert isinstance(deps.payloads, FakePayloads)
    batch = deps.payloads.objects[workflow.batch_key("acme", result.job.import_id, groups[1]["batches"][0])]
    assert batch == {
        "keys": ["camp-loans#L-2"],
        "callBy": ["2026-11-21T02:00:00Z"],
        "opens": ["2026-11-20T13:00:00Z"],
    }
    job = deps.imports.get("acme", result.job.import_id)
    assert job is not None and job.calls is not None
    view = job.calls.as_dict()
    assert (view["status"], view["deferred"], view["nextWindowAt"]) == (
        "SCHEDULED",
        2,
        "2026-11-20T13:00:00Z",
    )
    assert view["skippedBy"] == {"doNotCall": 1, "doNotCallList": 1, "frequency": 0}


def test_the_answer_counts_customers_deferred_to_their_window() -> None:
    kind = get_kind("campaign-customers")
    tenant = acme_config(call_policy={"doNotCallNumbers": ["+33612345601"]})
    options = kind.options(
        {
            "campaignId": "camp-loans",
            "initiateCall": True,
            "callConfig": {"agentId": "a", "dispositionId": "d"},
        },
        tenant,
        dt.datetime(2026, 11, 20, 9, tzinfo=UTC),
    )
    outcomes = [
        kind.validate(customer(n, p), n, options, tenant)
        for n, p in enumerate(["+33612345600", "+33612345601", "+12125550100"])
    ]
    for o in outcomes:
        o.key = kind.key(o.record, options)
        o.status = "created"
    tally = calls.tally_calls(kind, options, outcomes, tenant, dt.datetime(2026, 11, 20, 9, tzinfo=UTC))
    assert (tally.eligible, tally.skipped, tally.deferred) == (2, 1, 1)
    answer = calls.call_results("arn:exec", tally.eligible, tally.skipped, deferred=tally.deferred)
    assert (answer["queued"], answer["deferred"], answer["batches"]) == (2, 1, 1)


def test_a_stage_waiting_for_no_one_is_not_scheduled() -> None:
    stage = CallStage(status="RUNNING", waiting={"2026-11-20T13:00:00Z": 0})
    assert (stage.as_dict()["status"], stage.deferred, stage.next_window_at) == ("RUNNING", 0, None)
