"""Measure 1 of ``make bench``: validating a campaign-customers request, against naive code and a floor.

Three programs get the same request body, as text, and parse it with the API's own JSON parser
(``boundary.parse_json``, numbers with a fraction as ``Decimal``):

- **ours**: the product's validation of the records (``validate_rows`` of the campaign-customers kind,
  with the options built per request as the pipeline builds them);
- **naive**: the same records through a plain pydantic model, a field validator calling
  ``phonenumbers`` on each phone (parse, validity, E.164), each row on its own;
- **floor**: nothing but what any validation of these records must do: the JSON parse, and for every
  distinct phone number ``phonenumbers.parse``, ``is_valid_number`` and the E.164 format, in the
  tenant's region (the product too works out each distinct number once per batch).

Each repetition runs the three one after the other, in a rotating order (interleaved, so a slow
moment of a shared machine falls on all of them); the ratios are of the minimums and of the medians.
Run it alone with ``python scripts/bench.py --only-validation``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

#: Budgets of issue 13: at most 0.7 of the naive time, at most 1.15 of the floor.
BUDGET_NAIVE = 0.7
BUDGET_FLOOR = 1.15


def _naive_model() -> Any:
    import phonenumbers
    from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

    def e164(value: str) -> str:
        try:
            number = phonenumbers.parse(value, "FR")
        except phonenumbers.NumberParseException as exc:
            raise ValueError(str(exc)) from None
        if not phonenumbers.is_valid_number(number):
            raise ValueError("not a valid phone number")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]

    class NaiveRow(BaseModel):
        model_config = ConfigDict(extra="forbid")

        loan_id: text
        first_name: text
        last_name: text | None = None
        phone_number: Annotated[str, AfterValidator(e164)]
        loan_amount: Decimal
        emi_amount: Decimal
        loan_period: int | None = None
        current_emi: Decimal | None = None
        emi_due_date: date
        payment_status: text | None = None
        language: text | None = None
        lead_id: text | None = None
        lead_date: date | None = None
        doNotCall: bool | None = None  # noqa: N815 - the API's field name

    return NaiveRow


def programs(records: list[dict[str, Any]]) -> dict[str, Callable[[], Any]]:
    """The three programs over one request body (see the module's docstring)."""
    import phonenumbers
    from pydantic import ValidationError
    from tests.fakes import acme_config

    from bulk_import.entrypoints.boundary import parse_json
    from bulk_import.kinds import get_kind
    from bulk_import.kinds.validation import validate_rows

    kind = get_kind("campaign-customers")
    tenant = acme_config()
    region = tenant.default_phone_region
    body = json.dumps({"campaignId": "camp-loans", "records": records}, ensure_ascii=False)
    naive_row = _naive_model()
    e164 = phonenumbers.PhoneNumberFormat.E164

    def ours() -> Any:
        request = parse_json(body)
        options = kind.options({"campaignId": request["campaignId"]}, tenant, datetime.now(UTC))
        return validate_rows(kind, request["records"], options, tenant)

    def naive() -> Any:
        out: list[Any] = []
        for row in parse_json(body)["records"]:
            try:
                out.append(naive_row.model_validate(row).model_dump(exclude_none=True))
            except ValidationError as exc:
                out.append(exc.errors(include_url=False))
        return out

    def floor() -> Any:
        done: dict[Any, str | None] = {}
        for row in parse_json(body)["records"]:
            text = row.get("phone_number")
            if text in done:
                continue
            done[text] = None
            with contextlib.suppress(phonenumbers.NumberParseException):
                number = phonenumbers.parse(text, region)
                if phonenumbers.is_valid_number(number):
                    done[text] = phonenumbers.format_number(number, e164)
        return done

    return {"ours": ours, "naive": naive, "floor": floor}


def measure(records: list[dict[str, Any]], repeat: int = 7) -> dict[str, Any]:
    """Seconds of each program per repetition, interleaved, and the ratios of ours to the others."""
    runs = programs(records)
    for run in runs.values():  # warm every cache once (imports, compiled validators, metadata)
        run()
    names = list(runs)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        for name in names[round_ % 3 :] + names[: round_ % 3]:
            gc.collect()
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    low = {name: min(t) for name, t in times.items()}
    mid = {name: statistics.median(t) for name, t in times.items()}
    return {
        "records": len(records),
        "repeat": repeat,
        "min_s": low,
        "median_s": mid,
        "over_naive": {"min": low["ours"] / low["naive"], "median": mid["ours"] / mid["naive"]},
        "over_floor": {"min": low["ours"] / low["floor"], "median": mid["ours"] / mid["floor"]},
        "budget_naive": BUDGET_NAIVE,
        "budget_floor": BUDGET_FLOOR,
    }


def report_lines(v: dict[str, Any]) -> list[str]:
    """The lines ``bench.py`` prints for measure 1."""

    def ms(name: str) -> str:
        return f"{name} {v['min_s'][name] * 1000:.0f} ms (median {v['median_s'][name] * 1000:.0f})"

    def verdict(ratio: dict[str, float], budget: float) -> str:
        state = "OK" if ratio["min"] <= budget and ratio["median"] <= budget else "OVER BUDGET"
        return f"min {ratio['min']:.2f}, median {ratio['median']:.2f} (budget <= {budget}) {state}"

    return [
        f"1. validate+normalize {v['records']:,} campaign-customer records, {v['repeat']} interleaved runs: "
        f"{ms('ours')}; {ms('naive')}; {ms('floor')}",
        f"1. ours / naive (pydantic model, phonenumbers validator): {verdict(v['over_naive'], BUDGET_NAIVE)}",
        f"1. ours / floor (JSON parse + phonenumbers parse, validity, E.164 of each distinct number): "
        f"{verdict(v['over_floor'], BUDGET_FLOOR)}",
    ]
