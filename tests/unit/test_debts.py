"""Debts on fakes: field rules, phones and prices, timelines, skipped rows, the response."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.fakes import ACME, FakeRecords, FixedClock, acme_config, make_deps

from bulk_import.core.errors import InvalidRequestError
from bulk_import.core.ports import Deps
from bulk_import.kinds import get_kind
from bulk_import.kinds.debt_rows import DebtsRequest
from bulk_import.usecases.sync_imports import run_inline_import

KIND = get_kind("debts")
TIMELINES = {
    "tl-standard": {"id": "tl-standard", "name": "Standard"},
    "tl-gentle": {"id": "tl-gentle", "name": "Relance douce"},
}


def debt(i: int = 1, **fields: Any) -> dict[str, Any]:
    """A valid French debt; ``field=...`` leaves a field out."""
    row: dict[str, Any] = {
        "temp_id": f"T-{i}",
        "firstname": "Camille",
        "lastname": f"Martin {i}",
        "amount": "150.00",
        "currency": "EUR",
        "phone": f"06 12 34 56 {i % 100:02d}",
    }
    row.update(fields)
    return {k: v for k, v in row.items() if v is not ...}


def deps_at(now: datetime | None = None, **config: Any) -> Deps:
    """Fake deps for acme (two timelines), with the clock at ``now`` (first reading)."""
    deps = make_deps(acme_config(timelines=TIMELINES, **config))
    if now is not None:
        # FixedClock advances one second before each reading.
        deps.clock = FixedClock(now - timedelta(seconds=1))
    return deps


def run(debts: list[Any], deps: Deps | None = None, **request: Any) -> dict[str, Any]:
    """Import ``debts``; every processed batch answers 201."""
    deps = deps or deps_at()
    status, body = KIND.respond(run_inline_import(KIND, request, debts, ACME, deps))
    assert status == 201
    assert body["error"] is False
    return body


def stored(deps: Deps) -> list[dict[str, Any]]:
    assert isinstance(deps.records, FakeRecords)
    return [v for (_, entity, _), v in deps.records.items.items() if entity == "debt"]


def only_failure(body: dict[str, Any]) -> dict[str, list[str]]:
    assert body["summary"]["created"] == 0, body["created"]
    (failed,) = body["failed"]
    return failed["errors"]


# -- a clean batch --------------------------------------------------------------------------------


def test_clean_debt_is_created_stored_normalized_and_echoed() -> None:
    deps = deps_at()
    row = debt(1, internal_id="INV-1", amount="1 234,50", currency=" eur ", email="Camille@Example.FR")
    body = run([row], deps=deps, batch_name="Relances juillet")
    assert body["batch_name"] == "Relances juillet"
    assert body["import_id"].startswith("imp_")
    assert body["summary"] == {"total": 1, "created": 1, "failed": 0, "skipped": 0, "credits": 25}
    (created,) = body["created"]
    assert created == {
        "index": 0,
        "temp_id": "T-1",
        "internal_id": "INV-1",
        "debt_id": created["debt_id"],
        "phone": "+33612345601",
        "destination": "FR",
        "credits_per_call": 25,
    }
    assert created["debt_id"].startswith("debt_") and len(created["debt_id"]) == 21
    (item,) = stored(deps)
    assert item["debt_id"] == created["debt_id"]
    assert item["phone"] == "+33612345601"
    assert item["destination"] == "FR" and item["credits_per_call"] == 25
    assert item["amount"] == Decimal("1234.50")
    assert item["currency"] == "EUR"
    assert item["email"] == "Camille@example.fr"
    assert item["batch_name"] == "Relances juillet"
    assert item["timeline_start_mode"] == "immediate"
    assert item["timeline_start_date"] == "2026-11-20"


def test_email_only_debt_is_created_without_phone_or_credits() -> None:
    body = run([debt(1, phone=..., email="camille.martin@example.fr")])
    (created,) = body["created"]
    assert (created["phone"], created["destination"], created["credits_per_call"]) == (None, None, None)
    assert body["summary"]["credits"] == 0


# -- field rules ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"firstname": ...}, "firstname", "is required"),
        ({"lastname": "   "}, "lastname", "is required"),
        ({"amount": ...}, "amount", "is required"),
        ({"amount": 0}, "amount", "must be greater than 0"),
        ({"amount": "-12.50"}, "amount", "must not be negative"),
        ({"amount": "cent euros"}, "amount", "must be a number such as 1234.50"),
        ({"currency": ...}, "currency", "is required"),
        ({"currency": "EURO"}, "currency", "not an ISO 4217 currency code: EURO"),
        ({"currency": "€"}, "currency", "not an ISO 4217 currency code: €"),
        ({"phone": "06 12 34"}, "phone", "too short to be a phone number"),
        ({"phone": "06 12 AB 56 78"}, "phone", "not a phone number"),
        ({"phone": "07 12 34 56 78"}, "phone", "not a valid French number (unknown prefix)"),
        ({"phone": "06 12 34", "email": "camille@example.fr"}, "phone", "too short to be a phone number"),
        ({"email": "camille@"}, "email", "not a valid email address"),
        ({"phone": ..., "email": ""}, "phone", "at least one of phone or email is required"),
        ({"nickname": "Cam"}, "nickname", "is not a known field"),
        (
            {"timeline_start_mode": "tomorrow"},
            "timeline_start_mode",
            "must be immediate or next_day, not tomorrow",
        ),
        ({"accept_expensive_destination": "maybe"}, "accept_expensive_destination", "must be true or false"),
    ],
)
def test_each_field_rule_fails_the_debt_with_its_message(
    fields: dict[str, Any], field: str, message: str
) -> None:
    errors = only_failure(run([debt(1, **fields)]))
    assert errors[field] == [message]


def test_every_problem_of_a_debt_is_reported_at_once() -> None:
    errors = only_failure(run([debt(1, amount=0, currency="XYZ", phone="123", timeline_id="tl-nope")]))
    assert set(errors) == {"amount", "currency", "phone", "timeline_id"}


# -- phones and destination pricing ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("phone", "e164", "destination", "credits"),
    [
        ("06 12 34 56 78", "+33612345678", "FR", 25),
        ("06.12.34.56.78", "+33612345678", "FR", 25),
        ("0612345678", "+33612345678", "FR", 25),
        ("01 42 68 53 00", "+33142685300", "FR", 25),
        ("0033 6 12 34 56 78", "+33612345678", "FR", 25),
        ("33612345678", "+33612345678", "FR", 25),
        ("+33 6 12 34 56 78", "+33612345678", "FR", 25),
        ("0690 12 34 56", "+590690123456", "GP", 100),
        ("0692 12 34 56", "+262692123456", "RE", 100),
        ("0696 12 34 56", "+596696123456", "MQ", 100),
        ("0694 12 34 56", "+594694123456", "GF", 100),
        ("+49 151 23456789", "+4915123456789", "DE", 30),
        ("+32 470 12 34 56", "+32470123456", "BE", 30),
        ("+212 6 12 34 56 78", "+212612345678", "MA", 125),
        ("+216 20 123 456", "+21620123456", "TN", 125),
    ],
)
def test_phones_are_normalized_and_priced_by_destination(
    phone: str, e164: str, destination: str, credits: int
) -> None:
    body = run([debt(1, phone=phone)], accept_expensive_destination=True)
    (created,) = body["created"]
    assert (created["phone"], created["destination"], created["credits_per_call"]) == (
        e164,
        destination,
        credits,
    )


@pytest.mark.parametrize(
    ("batch", "own", "created"),
    [
        (None, None, False),
        (False, None, False),
        (True, None, True),
        (None, True, True),
        (False, True, True),
        (True, False, False),
    ],
    ids=[
        "not-accepted",
        "batch-false",
        "batch-true",
        "debt-true",
        "debt-true-beats-batch-false",
        "debt-false-beats-batch-true",
    ],
)
def test_expensive_destinations_need_acceptance_and_the_debts_choice_wins(
    batch: bool | None, own: bool | None, created: bool
) -> None:
    row = debt(1, phone="0690 12 34 56", accept_expensive_destination=own if own is not None else ...)
    request = {} if batch is None else {"accept_expensive_destination": batch}
    body = run([row], **request)
    assert body["summary"]["created"] == int(created)
    if not created:
        assert body["failed"][0]["errors"] == {
            "phone": [
                "Guadeloupe (GP) is an expensive destination: 100 credits per call, 4.0x mainland France; "
                "set accept_expensive_destination to true to accept it"
            ]
        }


def test_maghreb_is_expensive_at_five_times_mainland() -> None:
    errors = only_failure(run([debt(1, phone="+212 6 61 23 45 67")]))
    assert errors["phone"][0].startswith(
        "Morocco (MA) is an expensive destination: 125 credits per call, 5.0x"
    )


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("+1 415 555 0100", "calls to United States (US) are not supported (not in your price table)"),
        ("+41 79 123 45 67", "calls to Switzerland (CH) are not supported (not in your price table)"),
    ],
)
def test_destination_outside_the_price_table_is_unsupported(phone: str, message: str) -> None:
    errors = only_failure(run([debt(1, phone=phone)], accept_expensive_destination=True))
    assert errors == {"phone": [message]}


def test_the_tenants_price_table_replaces_the_default() -> None:
    deps = deps_at(price_table={"FR": 20, "EU": 30, "DE": 28, "US": 50, "GP": 80})
    body = run(
        [
            debt(1, phone="0612345601"),
            debt(2, phone="+49 151 23456789"),
            debt(3, phone="+32 470 12 34 56"),
            debt(4, phone="+1 415 555 0100"),
            debt(5, phone="0690 12 34 56"),
            debt(6, phone="+212 6 12 34 56 78"),
        ],
        deps=deps,
    )
    prices = {c["destination"]: c["credits_per_call"] for c in body["created"]}
    assert prices == {"FR": 20, "DE": 28, "BE": 30, "US": 50}
    failed = {f["temp_id"]: f["errors"]["phone"][0] for f in body["failed"]}
    assert failed["T-5"].startswith("Guadeloupe (GP) is an expensive destination: 80 credits per call, 4.0x")
    assert failed["T-6"] == "calls to Morocco (MA) are not supported (not in your price table)"


def test_credits_total_the_created_debts_only() -> None:
    body = run(
        [
            debt(1),  # FR 25
            debt(2, phone="+49 151 23456789"),  # DE 30
            debt(3, phone="+212 6 12 34 56 78", accept_expensive_destination=True),  # MA 125
            debt(4, phone=..., email="a@example.fr"),  # no phone, no credits
            debt(5, phone="0692 12 34 56"),  # RE, expensive, not accepted: failed
        ]
    )
    assert body["summary"] == {"total": 5, "created": 4, "failed": 1, "skipped": 0, "credits": 180}


# -- timelines --------------------------------------------------------------------------------------


def test_unknown_batch_timeline_is_a_request_error_and_writes_nothing() -> None:
    deps = deps_at()
    with pytest.raises(InvalidRequestError, match="timeline_id: unknown timeline tl-nope") as exc:
        run([debt(1)], deps=deps, timeline_id="tl-nope")
    assert "known timelines: tl-gentle, tl-standard" in exc.value.message
    assert stored(deps) == []


def test_unknown_debt_timeline_fails_that_debt_only() -> None:
    body = run([debt(1), debt(2, timeline_id="tl-nope")], timeline_id="tl-standard")
    assert body["summary"]["created"] == 1
    assert body["failed"][0]["errors"] == {
        "timeline_id": ["unknown timeline tl-nope (known timelines: tl-gentle, tl-standard)"]
    }


@pytest.mark.parametrize(
    ("now", "immediate", "next_day"),
    [
        # Monday 13 July 2026: Tuesday 14 July is Bastille Day.
        (datetime(2026, 7, 13, 9, 0, tzinfo=UTC), "2026-07-13", "2026-07-15"),
        # Friday: the next business day is Monday.
        (datetime(2026, 11, 20, 9, 0, tzinfo=UTC), "2026-11-20", "2026-11-23"),
        # 23:30 UTC on Thursday is already Friday 00:30 in Paris.
        (datetime(2026, 11, 19, 23, 30, tzinfo=UTC), "2026-11-20", "2026-11-23"),
        # Thursday 24 December 2026: Christmas Day, then the weekend.
        (datetime(2026, 12, 24, 10, 0, tzinfo=UTC), "2026-12-24", "2026-12-28"),
        # Saturday: immediate is today, even at the weekend.
        (datetime(2026, 11, 21, 10, 0, tzinfo=UTC), "2026-11-21", "2026-11-23"),
    ],
)
def test_start_dates_follow_the_tenants_calendar(now: datetime, immediate: str, next_day: str) -> None:
    deps = deps_at(now)
    run(
        [debt(1), debt(2, timeline_start_mode="next_day")],
        deps=deps,
        timeline_id="tl-standard",
        timeline_start_mode="immediate",
    )
    dates = {item["temp_id"]: item["timeline_start_date"] for item in stored(deps)}
    assert dates == {"T-1": immediate, "T-2": next_day}


def test_a_debts_timeline_settings_beat_the_batchs() -> None:
    deps = deps_at(datetime(2026, 7, 13, 9, 0, tzinfo=UTC))
    run(
        [debt(1), debt(2, timeline_id="tl-gentle", timeline_start_mode="immediate")],
        deps=deps,
        timeline_id="tl-standard",
        timeline_start_mode="next_day",
    )
    items = {
        i["temp_id"]: (i["timeline_id"], i["timeline_start_mode"], i["timeline_start_date"])
        for i in stored(deps)
    }
    assert items == {
        "T-1": ("tl-standard", "next_day", "2026-07-15"),
        "T-2": ("tl-gentle", "immediate", "2026-07-13"),
    }


def test_without_a_start_mode_the_timeline_starts_today() -> None:
    deps = deps_at(datetime(2026, 7, 13, 9, 0, tzinfo=UTC))
    run([debt(1)], deps=deps)
    (item,) = stored(deps)
    assert (item["timeline_id"], item["timeline_start_mode"], item["timeline_start_date"]) == (
        None,
        "immediate",
        "2026-07-13",
    )


# -- skipped rows -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ({}, "empty row"),
        ({"temp_id": "", "firstname": " ", "lastname": None, "phone": "", "email": ""}, "empty row"),
        (
            {"firstname": "* Prénom", "lastname": "* Nom", "amount": "* Montant", "currency": "* Devise"},
            "template instruction row (firstname starts with *)",
        ),
        ({"firstname": "", "lastname": "*obligatoire"}, "template instruction row (lastname starts with *)"),
        (
            {"firstname": "Les champs obligatoires sont marqués d'un astérisque", "lastname": ""},
            'template instruction row (contains "champs obligatoires")',
        ),
        (
            {"firstname": "", "lastname": "", "email": "CHAMPS OBLIGATOIRES : nom, prénom, montant"},
            'template instruction row (contains "champs obligatoires")',
        ),
        ({"currency": "Champ obligatoire"}, 'template instruction row (contains "champ obligatoire")'),
        (
            {"firstname": "Prénom", "lastname": "Nom", "amount": "Montant", "phone": "Téléphone"},
            "repeated header row",
        ),
    ],
)
def test_empty_and_instruction_rows_are_skipped_not_failed(row: dict[str, Any], reason: str) -> None:
    deps = deps_at()
    body = run([debt(1), row], deps=deps)
    assert body["summary"] == {"total": 2, "created": 1, "failed": 0, "skipped": 1, "credits": 25}
    assert body["skipped"] == [{"index": 1, "reason": reason, "data": row}]
    assert len(stored(deps)) == 1


def test_a_real_person_named_like_a_column_is_not_skipped() -> None:
    body = run([debt(1, lastname="Nom")])
    assert body["summary"]["created"] == 1


# -- the response -----------------------------------------------------------------------------------


def test_a_batch_where_every_debt_failed_still_answers_201() -> None:
    body = run([debt(1, amount=0), debt(2, currency="XYZ")])
    assert body["summary"] == {"total": 2, "created": 0, "failed": 2, "skipped": 0, "credits": 0}


def test_failed_debts_echo_the_callers_references_and_the_debt_as_sent() -> None:
    row = debt(7, internal_id="INV-7", phone="12345")
    body = run([debt(1), row])
    (failed,) = body["failed"]
    assert failed == {
        "index": 1,
        "temp_id": "T-7",
        "internal_id": "INV-7",
        "data": row,
        "errors": {"phone": ["too short to be a phone number"]},
    }


def test_non_object_debt_fails_that_debt_only() -> None:
    body = run([debt(1), "Camille Martin 150 EUR"])
    assert body["summary"]["created"] == 1
    assert body["failed"][0]["errors"] == {"row": ["must be an object with named fields"]}


# -- keys and duplicates ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("second", "field"),
    [
        (debt(2, temp_id="T-1"), "temp_id"),
        (debt(2, internal_id="INV-1"), "internal_id"),
        (debt(1, temp_id="T-9", amount="150"), "row"),
    ],
    ids=["same-temp-id", "same-internal-id", "same-debt-without-ids"],
)
def test_a_repeated_debt_in_one_batch_fails_the_later_row(second: dict[str, Any], field: str) -> None:
    body = run([debt(1, internal_id="INV-1" if field == "internal_id" else ...), second])
    assert body["summary"]["created"] == 1
    assert body["failed"][0]["index"] == 1
    assert body["failed"][0]["errors"] == {field: ["duplicate of row 0"]}


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (debt(1, internal_id="INV-1"), debt(1, internal_id="INV-1", amount="99", temp_id="other")),
        (debt(1, amount="150.00", currency="EUR"), debt(1, amount=150, currency="eur", temp_id="other")),
    ],
    ids=["by-internal-id", "by-identity"],
)
def test_sending_a_debt_again_updates_it_with_the_same_debt_id(
    first: dict[str, Any], again: dict[str, Any]
) -> None:
    deps = deps_at()
    one = run([first], deps=deps, batch_name="first")
    two = run([again], deps=deps, batch_name="second")
    assert one["created"][0]["debt_id"] == two["created"][0]["debt_id"]
    (item,) = stored(deps)
    assert item["batch_name"] == "second"


def test_temp_ids_reused_by_another_batch_do_not_overwrite_other_debts() -> None:
    deps = deps_at()
    run([debt(1, firstname="Camille")], deps=deps)
    run([debt(1, firstname="Lucas")], deps=deps)
    assert sorted(item["firstname"] for item in stored(deps)) == ["Camille", "Lucas"]


# -- request limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "message"),
    [
        (0, "debts: at least 1 record is required"),
        (1001, "debts: at most 1,000 records per request, got 1,001"),
    ],
)
def test_debt_count_limits_are_request_errors(count: int, message: str) -> None:
    deps = deps_at()
    with pytest.raises(InvalidRequestError, match=message):
        run([debt(i) for i in range(count)], deps=deps)
    assert stored(deps) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"debts": [{}] * 1001}, "too_long"),
        ({"debts": []}, "too_short"),
        ({"debts": "nope"}, "list_type"),
        ({"debts": [{}], "campaignId": "x"}, "extra_forbidden"),
        ({"debts": [{}], "timeline_start_mode": "later"}, "literal_error"),
    ],
)
def test_the_envelope_model_rejects_malformed_requests(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        DebtsRequest.model_validate(body)


@pytest.mark.parametrize(
    ("request_options", "message"),
    [
        ({"accept_expensive_destination": "maybe"}, "accept_expensive_destination: must be true or false"),
        ({"timeline_start_mode": "later"}, "timeline_start_mode: must be immediate or next_day"),
        ({"batch_name": 12}, "batch_name: must be text"),
        ({"batch_name": "B" * 201}, "batch_name: at most 200 characters"),
        ({"batch_name": "juillet\x1b"}, "batch_name: must not contain control characters"),
    ],
)
def test_bad_batch_options_are_request_errors(request_options: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRequestError, match=message):
        run([debt(1)], **request_options)


def test_the_import_keeps_its_counts_and_errors() -> None:
    deps = deps_at()
    body = run([debt(1), debt(2, phone="12345"), {}], deps=deps)
    job = deps.imports.get("acme", body["import_id"])
    assert job is not None and job.kind == "debts" and job.status == "DONE"
    assert job.counts.as_dict() == {
        "total": 3,
        "valid": 1,
        "invalid": 1,
        "succeeded": 1,
        "failed": 1,
        "skipped": 1,
    }
    page = deps.imports.list_errors("acme", body["import_id"], 10, None)
    assert page.items == [
        {"index": 1, "temp_id": "T-2", "field": "phone", "message": "phone: too short to be a phone number"}
    ]
