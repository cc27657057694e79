"""Social security numbers under the wrong key: echoed rows mask them all the same.

A client that spells ``ssnLastFour`` as ``ssn_last_four`` or ``SSN`` gets its row failed for an unknown
field, and the row as sent was written out in clear in the import's ``errors.csv`` (files already
masked any column naming an SSN; API rows did not). A debt's ``data`` echoed such a key too.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.unit.test_hostile_rows import CASES

from bulk_import.kinds import get_kind
from bulk_import.kinds.row_limits import MASK, is_sensitive_key, mask_sensitive


@pytest.mark.parametrize("key", ["ssnLastFour", "ssn_last_four", "SSN", "SSNLast4", "social_security_number"])
def test_a_key_naming_a_social_security_number_is_masked_in_every_kind(key: str) -> None:
    for case in CASES:
        row: dict[str, Any] = {**case.valid(0), key: "4321", "meta": [{key: "4321"}]}
        shown = get_kind(case.name).redact(row)
        assert shown[key] == MASK and shown["meta"] == [{key: MASK}], case.name
        assert row[key] == "4321"  # the row itself is left as sent


@pytest.mark.parametrize("key", ["businessName", "className", "assn", "lessons"])
def test_keys_that_only_hold_the_letters_ssn_are_left_alone(key: str) -> None:
    assert not is_sensitive_key(key)
    row = {key: "Acme"}
    assert mask_sensitive(row) is row
