"""Due dates as exports write them: a date-time column at midnight is the day it names.

An XLSX date cell at midnight was read as its day (``2026-12-05``), but the same column exported to CSV
by a database or a spreadsheet (``2026-12-05 00:00:00``) failed the row for its format.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest
from tests.unit.test_hostile_rows import CASES, run_kind

from bulk_import.rules.dates import MSG_FLEXIBLE_FORMAT, parse_flexible_date
from bulk_import.rules.errors import RuleError

CAMPAIGN = next(case for case in CASES if case.name == "campaign-customers")


@pytest.mark.parametrize(
    "sent",
    [
        datetime(2026, 12, 5),
        "2026-12-05 00:00:00",
        "2026-12-05T00:00:00",
        "2026-12-05T00:00",
        "2026-12-05T00:00:00Z",
    ],
)
def test_a_due_date_at_midnight_is_stored_as_its_day_from_any_format(sent: Any) -> None:
    row = CAMPAIGN.valid(0)
    row["emi_due_date"] = sent
    (outcome,) = run_kind(CAMPAIGN, [row])
    assert not outcome.errors and outcome.record is not None
    assert outcome.record["emi_due_date"] == date(2026, 12, 5)


@pytest.mark.parametrize("text", ["2026-12-05 10:30:00", "2026-12-05T00:00:00+02:00", "2026-12-05 00:00:01"])
def test_a_date_time_with_a_time_of_day_is_still_no_date(text: str) -> None:
    with pytest.raises(RuleError, match=MSG_FLEXIBLE_FORMAT):
        parse_flexible_date(text)
