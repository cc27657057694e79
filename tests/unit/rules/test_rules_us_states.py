"""US state codes."""

import pytest

from bulk_import.rules import US_STATE_CODES, RuleError, normalize_state


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("CA", "CA"), ("ca", "CA"), (" ny ", "NY"), ("Tx", "TX"), ("DC", "DC"), ("PR", "PR"), ("GU", "GU")],
)
def test_accepts_codes(raw: str, expected: str) -> None:
    assert normalize_state(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("California", "not a 2-letter US state code: California"),
        ("XX", "not a 2-letter US state code: XX"),
        ("C", "not a 2-letter US state code: C"),
        ("C.A.", "not a 2-letter US state code: C.A."),
        ("ON", "not a 2-letter US state code: ON"),  # Ontario is not a US state
        (12, "not a 2-letter US state code: 12"),
        ("", "must not be empty"),
    ],
)
def test_rejects_others(raw: object, message: str) -> None:
    with pytest.raises(RuleError) as excinfo:
        normalize_state(raw)
    assert str(excinfo.value) == message


def test_all_fifty_states_and_dc() -> None:
    states = {code for code in US_STATE_CODES if code not in {"AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP"}}
    assert len(states) == 51
