"""A calling policy stored with a typo never fails the call stage, and never loses a do-not-call number."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fakes import acme_config

from bulk_import.engine.calls_plan import tenant_policy
from bulk_import.rules.calling import DEFAULT_MAX_CALLS_PER_7_DAYS
from bulk_import.rules.calling_policy import CallPolicy
from bulk_import.rules.calling_windows import parse_call_windows

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
WEEKDAYS = [{"days": ["MON", "TUE", "WED", "THU", "FRI"], "start": "09:00", "end": "18:00"}]


@pytest.mark.parametrize("numbers", [5, 5.5, True, {"+33612345678": True}, b"+33612345678"])
def test_a_do_not_call_list_that_is_not_a_list_does_not_fail_the_call_stage(numbers: Any) -> None:
    policy = tenant_policy(acme_config(call_policy={"doNotCallNumbers": numbers}))
    assert policy.windows is None and policy.max_calls_per_7_days == DEFAULT_MAX_CALLS_PER_7_DAYS


@pytest.mark.parametrize(
    "numbers", ["+33612345678", " +33612345678 , +12125550100", "+33612345678;+12125550100 oops"]
)
def test_a_do_not_call_list_written_as_text_still_keeps_its_numbers_from_being_called(numbers: str) -> None:
    policy = tenant_policy(acme_config(call_policy={"doNotCallNumbers": numbers}))
    assert "+33612345678" in policy.do_not_call
    assert all(number.startswith("+") for number in policy.do_not_call)


def test_the_valid_parts_of_a_broken_policy_are_kept() -> None:
    stored = {"windows": WEEKDAYS, "doNotCallNumbers": 7, "maxCallsPer7Days": 3}
    assert tenant_policy(acme_config(call_policy=stored)) == CallPolicy(
        windows=parse_call_windows(WEEKDAYS), max_calls_per_7_days=3
    )


def test_a_broken_cap_falls_back_to_the_default_cap() -> None:
    policy = tenant_policy(acme_config(call_policy={"maxCallsPer7Days": "three", "doNotCallNumbers": []}))
    assert policy.max_calls_per_7_days == DEFAULT_MAX_CALLS_PER_7_DAYS


@given(st.dictionaries(st.sampled_from(["windows", "doNotCallNumbers", "maxCallsPer7Days", "x"]), JSON))
def test_whatever_a_stored_policy_holds_it_reads_as_a_policy(stored: dict[str, Any]) -> None:
    policy = tenant_policy(acme_config(call_policy=stored))
    assert isinstance(policy, CallPolicy)
    assert all(isinstance(n, str) and n.startswith("+") for n in policy.do_not_call)
