"""Rows validated by pydantic-core first give exactly what the Python plan gave: same records, same errors.

The oracle is ``frozen_row_plan.py``, the row validator as it was (every rule in Python, phones through
``phonenumbers.parse``). Generated rows mix what real files and clients send: phones of many regions
in every format (and letters, extensions, ``00`` and ``011`` prefixes), unicode and invisible
characters, blanks, wrong types, over-long text, 40-digit numbers, extra fields. For every row, the
record (values, their types and their exact decimals) and the list of errors (fields, messages,
order) must be the same, and so must the outcome of a whole campaign-customers import.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from unittest import mock

import phonenumbers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from phonenumbers import NumberParseException, PhoneNumberFormat
from pydantic import BaseModel
from tests.fakes import acme_config
from tests.unit import frozen_row_plan as oracle

from bulk_import.kinds import campaign_customers, debt_rows, debts, get_kind
from bulk_import.kinds.campaign_customers import REQUIRED_BY_SERVICE_TYPE, CampaignCustomerRow
from bulk_import.kinds.customer_rows import CustomerRow
from bulk_import.kinds.customers import ALWAYS_REQUIRED, REQUIRED
from bulk_import.kinds.row_plan import row_errors, warm_rows
from bulk_import.kinds.validation import validate_rows
from bulk_import.rules import phones
from bulk_import.rules.dates import parse_flexible_date
from bulk_import.rules.errors import RuleError
from bulk_import.rules.limits import estimated_size, find_value_problem
from bulk_import.rules.money import parse_amount
from bulk_import.rules.phone_parse import parse_compact
from bulk_import.rules.phones import normalize_french_phone

REGIONS = ["FR", "US", "GB", "IN", "DE", "BR", "IT", "RU", "GP", "RE", "CA", "AU", "JP", "MA"]
SEPARATORS = ["", " ", "-", ".", "(", ")", "\u00a0", "\t", "/", "x", "#"]


@st.composite
def phone_texts(draw: st.DrawFn) -> str:
    """A phone number as people type it: a real number of some region, then mangled."""
    region = draw(st.sampled_from(REGIONS))
    kind = draw(
        st.sampled_from([phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE])
    )
    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    assert example is not None
    style = draw(
        st.sampled_from(
            [
                PhoneNumberFormat.E164,
                PhoneNumberFormat.INTERNATIONAL,
                PhoneNumberFormat.NATIONAL,
                PhoneNumberFormat.RFC3966,
            ]
        )
    )
    text = phonenumbers.format_number(example, style)
    digits = list(text)
    for _ in range(draw(st.integers(0, 3))):  # change, drop or add a digit
        at = draw(st.integers(0, max(0, len(digits) - 1)))
        digits[at : at + draw(st.integers(0, 1))] = [draw(st.sampled_from("0123456789"))] * draw(
            st.integers(0, 2)
        )
    text = "".join(digits)
    if draw(st.booleans()):
        text = text.replace(" ", draw(st.sampled_from(SEPARATORS)))
    prefix = draw(st.sampled_from(["", "", "", "+", "00", "011", "0", "+0", " ", "\u200b", "tel:", "\ufeff"]))
    suffix = draw(st.sampled_from(["", "", "", " ", " ext 12", "x3", "\u200b", "a", "٣"]))
    return prefix + text.removeprefix("+" if prefix in ("+", "00", "011") else "") + suffix


@st.composite
def digit_strings(draw: st.DrawFn) -> str:
    start = draw(st.sampled_from(["", "0", "00", "011", "1", "33", "44", "39", "7", "8", "810", "0011"]))
    body = draw(st.text("0123456789", max_size=19))
    return draw(st.sampled_from(["", "+"])) + start + body


TEXTS = st.one_of(
    st.text(max_size=12),
    st.text(st.characters(codec="utf-8"), max_size=6).map(lambda s: f" {s}\u200b"),
    st.sampled_from(
        [
            "",
            "   ",
            " Léa ",
            "Léa",
            "\ufeffNina",
            "Jean\udfffPierre",
            "a\x00b",
            "\x1cOmar\x1d",
            "\u2028",
            "x" * 201,
            "y" * 2001,
            "é" * 100_000,
            "🎉",
            "İstanbul",
            "١٢٣",
            "L-000001",
            "fr",
            "due",
        ]
    ),
)
AMOUNTS = st.one_of(
    st.sampled_from(
        [
            "8000.00",
            "1 500,75",
            "12,5",
            "1,234.50",
            "-3",
            "-0",
            "0",
            "0.000",
            "0.0001",
            "1e5",
            "999999999999.999",
            "1000000000000",
            " 12 ",
            "12.",
            ".5",
            "007",
            "NaN",
            "+5",
            "１２",
        ]
    ),
    st.integers(-5, 10**13),
    st.decimals(allow_nan=True, places=None),
    st.floats(),
    st.from_regex(r"[0-9]{1,14}(\.[0-9]{0,5})?", fullmatch=True),
)
DATES = st.one_of(
    st.sampled_from(
        [
            "2026-12-10",
            "05/12/2026",
            "15-12-2026",
            "2026-02-30",
            "03/25/2024",
            "2026-1-5",
            "0000-01-01",
            "2026-12-10T10:00:00",
            "1/2/2024",
            " 2026-12-10 ",
        ]
    ),
    st.dates().map(date.isoformat),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.just(date(2026, 1, 2)),
    st.just(datetime(2026, 1, 2, 3, 4)),
)
ODD = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        2,
        36,
        12.0,
        12.5,
        10**40,
        Decimal("1E+3"),
        Decimal("12.50"),
        Decimal("NaN"),
        float("nan"),
        [],
        ["a"],
        {},
        {"a": 1},
        "true",
        "oui",
        "No",
        "1",
        "0",
        "yes ",
        "36",
        "036",
        "+36",
        "1e1",
    ]
)
VALUES = st.one_of(
    TEXTS, AMOUNTS, DATES, ODD, phone_texts(), st.integers(), st.text("0123456789 +", max_size=14)
)


def _rows(model: type[BaseModel], typical: dict[str, Any]) -> st.SearchStrategy[Any]:
    names = list(model.model_fields)
    field_value = {name: st.one_of(st.just(value), VALUES) for name, value in typical.items()}
    row = st.fixed_dictionaries(
        {},
        optional={
            **{name: field_value.get(name, VALUES) for name in names},
            "phone_number" if "phone_number" in names else "phoneNumber": phone_texts(),
        },
    )
    extra = st.dictionaries(
        st.sampled_from(["extra", "", "x" * 80, "\ud800", "Loan_ID", "phone"]), VALUES, max_size=2
    )
    shuffled = st.tuples(row, extra, st.randoms()).map(_mix)
    return st.one_of(shuffled, shuffled, shuffled, st.sampled_from([None, [], "row", 42, {}]))


def _mix(parts: tuple[dict[str, Any], dict[str, Any], Any]) -> dict[str, Any]:
    row, extra, rng = parts
    items = list(row.items()) + (list(extra.items()) if rng.random() < 0.3 else [])
    if rng.random() < 0.5:
        rng.shuffle(items)
    return dict(items)


CAMPAIGN_ROW = {
    "loan_id": "L-000001",
    "first_name": "Camille",
    "phone_number": "06 12 34 56 78",
    "loan_amount": "8000.00",
    "emi_amount": 450,
    "emi_due_date": "05/12/2026",
    "lead_id": "lead-1",
    "lead_date": "2026-12-10",
    "loan_period": 12,
    "doNotCall": False,
}
CUSTOMER_ROW = {
    "id": "c-1",
    "taskType": "collections",
    "firstName": "Ada",
    "lastName": "Lovelace",
    "phoneNumber": "(415) 555-2671",
    "timezone": "America/New_York",
    "streetAddress1": "1 Main St",
    "city": "Springfield",
    "state": "ca",
    "zipCode": "94105",
    "email": "Ada@Example.COM",
    "birthday": "1990-07-14",
}


def _same(value: Any) -> Any:
    """A value with its type and exact form (Decimal("8000.00") is not Decimal("8000"))."""
    if isinstance(value, dict):
        return {k: _same(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_same(v) for v in value]
    return type(value).__name__, repr(value)


def _compare(model: type[BaseModel], rows: list[Any], region: str, required: tuple[str, ...]) -> None:
    new_context: dict[str, Any] = {"region": region}
    old_context: dict[str, Any] = {"region": region}
    warm_rows(model, rows, new_context)
    oracle.warm_rows(model, rows, old_context)
    for raw in rows:
        try:
            expected: Any = oracle.row_errors(model, raw, context=old_context, required=required)
        except Exception as exc:  # the rules raised: the product must raise the same
            expected = ("raises", type(exc).__name__, str(exc))
        try:
            got: Any = row_errors(model, raw, context=new_context, required=required)
        except Exception as exc:
            got = ("raises", type(exc).__name__, str(exc))
        if expected[0] == "raises" or got[0] == "raises":
            assert got == expected, raw
            continue
        (old_record, old_errors), (new_record, new_errors) = expected, got
        assert [(e.field, e.message) for e in new_errors] == [(e.field, e.message) for e in old_errors], raw
        assert _same(new_record) == _same(old_record), raw


_SETTINGS = settings(
    max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)


@_SETTINGS
@given(
    rows=st.lists(_rows(CampaignCustomerRow, CAMPAIGN_ROW), min_size=1, max_size=12),
    region=st.sampled_from(REGIONS),
    service=st.sampled_from([*REQUIRED_BY_SERVICE_TYPE, "none"]),
)
def test_campaign_customer_rows_get_the_records_and_errors_they_always_got(
    rows: list[Any], region: str, service: str
) -> None:
    _compare(CampaignCustomerRow, rows, region, REQUIRED_BY_SERVICE_TYPE.get(service, ()))


@_SETTINGS
@given(
    rows=st.lists(_rows(CustomerRow, CUSTOMER_ROW), min_size=1, max_size=12),
    region=st.sampled_from(["US", "US", "FR", "CA"]),
    required=st.sampled_from([REQUIRED, ALWAYS_REQUIRED, ()]),
)
def test_customer_rows_get_the_records_and_errors_they_always_got(
    rows: list[Any], region: str, required: tuple[str, ...]
) -> None:
    _compare(CustomerRow, rows, region, required)


def test_a_row_repeating_a_phone_of_its_batch_gets_the_same_number_and_errors() -> None:
    rows = [
        dict(CAMPAIGN_ROW, loan_id=f"L-{i}", phone_number=phone)
        for i, phone in enumerate(["06 12 34 56 78", "0612345678", "06 12 34 56 78", "12345", "12345", " "])
    ]
    _compare(CampaignCustomerRow, rows, "FR", REQUIRED_BY_SERVICE_TYPE["collections"])
    context: dict[str, Any] = {"region": "FR"}
    warm_rows(CampaignCustomerRow, rows, context)
    records = [row_errors(CampaignCustomerRow, r, context=context)[0] for r in rows]
    assert [r and r.get("phone_number") for r in records] == ["+33612345678"] * 3 + [None, None, None]


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(rows=st.lists(_rows(CampaignCustomerRow, CAMPAIGN_ROW), min_size=1, max_size=20))
def test_a_campaign_customers_import_has_the_outcomes_it_always_had(rows: list[Any]) -> None:
    kind = get_kind("campaign-customers")
    tenant = acme_config()
    now = datetime(2026, 11, 20, tzinfo=UTC)

    def outcomes() -> list[tuple[Any, ...]]:
        options = kind.options({"campaignId": "camp-loans"}, tenant, now)
        return [
            (o.index, o.status, o.key, o.refs, _same(o.record), [(e.field, e.message) for e in o.errors])
            for o in validate_rows(kind, rows, options, tenant)
        ]

    got = outcomes()
    with (
        mock.patch.object(campaign_customers, "row_errors", oracle.row_errors),
        mock.patch.object(campaign_customers, "warm_rows", oracle.warm_rows),
    ):
        expected = outcomes()
    assert got == expected


@settings(max_examples=2000)
@given(
    number=st.one_of(
        digit_strings(), phone_texts().map(lambda t: "".join(c for c in t if c in "+0123456789"))
    ),
    region=st.sampled_from([*REGIONS, "ZZ", None]),
)
def test_a_compact_number_parses_as_phonenumbers_parses_it(number: str, region: str | None) -> None:
    if number.count("+") > 1 or "+" in number[1:]:
        number = number.replace("+", "")
    try:
        expected: Any = phonenumbers.parse(number, region)
    except NumberParseException as exc:
        expected = exc.error_type
    try:
        got: Any = parse_compact(number, region)
    except NumberParseException as exc:
        got = exc.error_type
    assert repr(got) == repr(expected)


class _Text(str):
    """Text the rules' fast paths (``type(raw) is str``) do not take: it goes the general way."""


@settings(max_examples=1000)
@given(
    text=st.one_of(
        AMOUNTS.filter(lambda v: isinstance(v, str)),
        st.from_regex(r"[0-9]{1,4}([ _\u00a0\u202f\u2009]?[0-9]{3}){0,5},[0-9]{1,16}", fullmatch=True),
        st.text("0123456789 ,._\u00a0-", max_size=20),
    )
)
def test_an_amount_with_a_decimal_comma_reads_as_the_general_rule_reads_it(text: str) -> None:
    def read(value: str) -> Any:
        try:
            return repr(parse_amount(value))
        except RuleError as exc:
            return str(exc)

    assert read(text) == read(_Text(text))


@settings(max_examples=1000)
@given(text=st.one_of(DATES.filter(lambda v: isinstance(v, str)), st.text("0123456789/- ", max_size=12)))
def test_a_day_first_date_reads_as_the_general_rule_reads_it(text: str) -> None:
    def read(value: str) -> Any:
        try:
            return repr(parse_flexible_date(value))
        except RuleError as exc:
            return str(exc)

    assert read(text) == read(_Text(text))


@settings(max_examples=1000)
@given(number=digit_strings(), region=st.sampled_from([*REGIONS, None]))
def test_a_number_is_written_in_e164_as_phonenumbers_writes_it(number: str, region: str | None) -> None:
    try:
        parsed = parse_compact(number, region)
    except NumberParseException:
        return
    assert phones._e164(parsed) == phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


@settings(max_examples=500)
@given(text=st.one_of(st.text(st.characters(max_codepoint=127), max_size=30), st.text(max_size=20)))
def test_folding_template_text_gives_what_the_general_folding_gives(text: str) -> None:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    assert debts._fold(text) == " ".join(plain.replace("_", " ").split())


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    phones=st.lists(
        st.one_of(phone_texts(), st.sampled_from(["06 12 34 56 78", "12345", "", "+590 690 12 34 56"])),
        min_size=1,
        max_size=15,
    ),
    markers=st.lists(
        st.sampled_from(["", "Champs obligatoires : Prénom", "* note", "REQUIRED  FIELD", "prénom"]),
        max_size=3,
    ),
)
def test_a_debts_batch_reads_each_distinct_phone_once_with_the_outcomes_of_reading_each_row(
    phones: list[str], markers: list[str]
) -> None:
    kind = get_kind("debts")
    tenant = acme_config()
    rows: list[Any] = [
        {"firstname": "Léa", "lastname": f"Martin {i}", "amount": "12,50", "currency": "EUR", "phone": phone}
        for i, phone in enumerate(phones)
    ]
    rows += [
        {"firstname": m, "lastname": "Nom", "amount": "1", "currency": "EUR", "phone": "0612345678"}
        for m in markers
    ]

    def outcomes() -> list[tuple[Any, ...]]:
        options = kind.options({}, tenant, datetime(2026, 11, 20, tzinfo=UTC))
        return [
            (o.status, o.skipped_reason, _same(o.record), [(e.field, e.message) for e in o.errors])
            for o in validate_rows(kind, rows, options, tenant)
        ]

    got = outcomes()
    with mock.patch.object(debt_rows, "_french_phone", lambda value, memo: normalize_french_phone(value)):
        expected = outcomes()
    assert got == expected


LEAVES = st.one_of(
    TEXTS,
    st.integers(min_value=-(10**45), max_value=10**45),
    st.decimals(),
    st.floats(),
    st.sampled_from([None, True, False, "\ud800", "a\x00", 10**38, -(10**38)]),
)
NESTED = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=6), st.sampled_from(["", "k" * 201, "\x00", "\ud800"])),
            inner,
            max_size=4,
        ),
        st.integers(0, 20).map(lambda n: _deep(n)),
    ),
    max_leaves=20,
)


def _deep(levels: int) -> Any:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value} if levels % 2 else [value]
    return value


@settings(max_examples=1500)
@given(value=NESTED, path=st.sampled_from(["", "externalMetadata"]))
def test_the_storage_limit_walks_find_what_they_always_found(value: Any, path: str) -> None:
    assert find_value_problem(value, path) == oracle.old_find_value_problem(value, path)
    assert estimated_size(value) == oracle.old_estimated_size(value)
