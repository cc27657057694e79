"""The customer row: its fields, the rule of each, its model, and the body of the bulk route.

This module owns what one customer must look like (``CustomerRow``), the limits and messages of its
fields, and ``CustomersBatchRequest``, the envelope of ``POST /customers/batch``. The kind itself
(``customers``) runs these rules; the LMS merge of ``sync`` customers lives in ``customer_lms``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from bulk_import.kinds.envelope import Envelope, Rows
from bulk_import.kinds.fields import Email, Flag, Phone, Reference, Text, reference
from bulk_import.rules.dates import not_in_future, parse_iso_date
from bulk_import.rules.errors import RuleError
from bulk_import.rules.limits import MAX_REFERENCE_CHARS, number_problem
from bulk_import.rules.strings import clean, is_blank
from bulk_import.rules.timezones import validate_timezone
from bulk_import.rules.us_states import normalize_state

#: Phone numbers without a country code are read as US numbers, whatever the tenant's region.
PHONE_REGION = "US"
#: Ids longer than this are refused: the id is part of the record's DynamoDB key and of LMS URLs.
MAX_ID_LENGTH = MAX_REFERENCE_CHARS
#: ``externalMetadata`` serialized as compact JSON (UTF-8) may not exceed this (32 KB).
METADATA_MAX_BYTES = 32 * 1024
#: Nesting levels allowed in ``externalMetadata``: DynamoDB stores at most 32 levels per item.
METADATA_MAX_DEPTH = 16
#: ``loanIds`` entries accepted per customer.
MAX_LOAN_IDS = 1000

ALWAYS_REQUIRED = ("id", "taskType")
#: Also required without ``sync``; with ``sync``, required of the merged customer.
PROFILE_REQUIRED = (
    "firstName",
    "lastName",
    "phoneNumber",
    "timezone",
    "streetAddress1",
    "city",
    "state",
    "zipCode",
)
REQUIRED = ALWAYS_REQUIRED + PROFILE_REQUIRED
#: Fields an LMS record may fill in (seed: "name, email, SSN, birthday, phone, address, zip, timezone").
LMS_FIELDS = (
    "firstName",
    "lastName",
    "email",
    "birthday",
    "ssnLastFour",
    "timezone",
    "phoneNumber",
    "streetAddress1",
    "streetAddress2",
    "city",
    "state",
    "zipCode",
)
#: The stored customer as the API answers it: the seed's response fields, in its order, then the loans.
RESPONSE_FIELDS = (
    "firstName",
    "lastName",
    "id",
    "email",
    "birthday",
    "ssnLastFour",
    "timezone",
    "phoneNumber",
    "streetAddress1",
    "streetAddress2",
    "city",
    "state",
    "zipCode",
    "doNotCall",
    "isTest",
    "taskType",
    "externalMetadata",
    "loanId",
    "loanIds",
    "loans",
)

MSG_SSN = "must be exactly 4 digits"
MSG_LOAN_IDS = "must be a list of whole numbers, e.g. [123, 456]"
MSG_METADATA = 'must be an object, e.g. {"employer_name": "Acme"}'
#: Start of the message of an unknown task type (the single endpoint answers it with the valid list).
MSG_UNKNOWN_TASK_TYPE = "unknown task type"
#: End of the message of an id the LMS does not know (the single endpoint answers it 404).
MSG_NOT_IN_LMS = "is not in your LMS"
FROM_LMS = " (value from the LMS)"

_SSN4 = re.compile(r"\d{4}", re.ASCII)
_LOAN_SEPARATORS = re.compile(r"[\s,;]+")
_DIGITS = re.compile(r"\d{1,18}", re.ASCII)
_MAX_ECHO = 40


# -- field rules -----------------------------------------------------------------------------------
def shown(text: str) -> str:
    return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"


def _customer_id(value: Any) -> str | None:
    return reference(value)


def unknown_task_type(text: str, valid: Sequence[str]) -> str:
    """The message of a task type the tenant does not have, listing the valid ones."""
    if not valid:
        return f"{MSG_UNKNOWN_TASK_TYPE} {shown(text)} (your account has no task types configured)"
    return f"{MSG_UNKNOWN_TASK_TYPE} {shown(text)} (valid task types: {', '.join(valid)})"


def _task_type(value: Any, info: ValidationInfo) -> str | None:
    if isinstance(value, (dict, list, bool)):
        raise RuleError("must be text")
    text = clean(value)
    if text is None:
        return None
    context = info.context or {}
    folded: Mapping[str, str] | None = context.get("task_types")
    if folded is None:
        # The model used on its own (envelope check, schema): the tenant's list is not known here.
        return text
    # Case is forgiven ("Collections"), the tenant's own spelling is stored.
    canonical = folded.get(text.casefold())
    if canonical is None:
        raise RuleError(unknown_task_type(text, context.get("valid_task_types", ())))
    return canonical


def _birthday(value: Any, info: ValidationInfo) -> date | None:
    if value is None or is_blank(value):
        return None
    day = parse_iso_date(value)
    today = (info.context or {}).get("today")
    return day if today is None else not_in_future(day, today)


def _ssn_last_four(value: Any) -> str | None:
    # The value is never part of a message: it must not reach error reports or logs.
    if value is None or is_blank(value):
        return None
    if isinstance(value, (dict, list, bool)):
        raise RuleError(MSG_SSN)
    try:
        text = clean(value)
    except RuleError:
        raise RuleError(MSG_SSN) from None
    if text is None or not _SSN4.fullmatch(text):
        raise RuleError(MSG_SSN)
    return text


def _optional(rule: Any) -> Any:
    def run(value: Any) -> Any:
        return None if value is None or is_blank(value) else rule(value)

    return run


def _metadata(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise RuleError(MSG_METADATA)
    try:
        # Numbers parsed from JSON arrive as Decimal: counted as their text (the precision and range of
        # every number are the storage limits' business, see ``row_limits``).
        text = json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, default=_json_number
        )
        size = len(text.encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError):
        raise RuleError("must hold JSON values only (no NaN or Infinity)") from None
    if size > METADATA_MAX_BYTES:
        raise RuleError(f"at most 32 KB as JSON ({METADATA_MAX_BYTES:,} bytes), got {size:,} bytes")
    # Iterative depth check (no recursion on a hostile document).
    level: list[Any] = [value]
    depth = 1
    while level:
        if depth > METADATA_MAX_DEPTH:
            raise RuleError(f"at most {METADATA_MAX_DEPTH} levels of nesting")
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, (dict, list))
        ]
        depth += 1
    return value


def _json_number(value: Any) -> Any:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("not a finite number")
        return format(value, "f") if abs(value.adjusted()) < 40 else str(value)
    raise TypeError(type(value).__name__)


def loan_id(item: Any) -> int:
    if isinstance(item, bool):
        raise RuleError(MSG_LOAN_IDS)
    if isinstance(item, int):
        number = item
    elif isinstance(item, (float, Decimal)):
        # Checked before int() turns 1e100 (or Decimal("1E+99999")) into a huge integer.
        problem = number_problem(item)
        if problem is not None:
            raise RuleError(problem)
        if item != int(item):
            raise RuleError(MSG_LOAN_IDS)
        number = int(item)
    elif isinstance(item, str) and _DIGITS.fullmatch(item.strip()):
        number = int(item.strip())
    else:
        raise RuleError(MSG_LOAN_IDS)
    if number < 0:
        raise RuleError(MSG_LOAN_IDS)
    problem = number_problem(number)  # 1e100 is whole, and far more digits than storage holds
    if problem is not None:
        raise RuleError(problem)
    return number


def _loan_ids(value: Any) -> list[int] | None:
    if value is None:
        return None
    if isinstance(value, str):
        # A file cell: "123, 456" or "123;456".
        items: list[Any] = [p for p in _LOAN_SEPARATORS.split(value.strip()) if p]
    elif isinstance(value, list):
        items = value
    else:
        raise RuleError(MSG_LOAN_IDS)
    if len(items) > MAX_LOAN_IDS:
        raise RuleError(f"at most {MAX_LOAN_IDS:,} loan ids")
    ids = list(dict.fromkeys(loan_id(item) for item in items))
    # An empty list counts as missing, like an empty string: every LMS loan is imported.
    return ids or None


CustomerId = Annotated[str | None, BeforeValidator(_customer_id)]
TaskType = Annotated[str | None, BeforeValidator(_task_type)]
Birthday = Annotated[date | None, BeforeValidator(_birthday)]
SsnLastFour = Annotated[str | None, BeforeValidator(_ssn_last_four)]
Timezone = Annotated[str | None, BeforeValidator(_optional(validate_timezone))]
State = Annotated[str | None, BeforeValidator(_optional(normalize_state))]
Metadata = Annotated[dict[str, Any] | None, BeforeValidator(_metadata)]
LoanIds = Annotated[list[int] | None, BeforeValidator(_loan_ids)]


# -- row model -------------------------------------------------------------------------------------
class CustomerRow(BaseModel):
    """One customer of ``POST /customers`` or of ``POST /customers/batch``.

    ``id`` and ``taskType`` are always required. Without ``sync``, so are ``firstName``, ``lastName``,
    ``phoneNumber``, ``timezone`` (resolved from a US ``zipCode`` when missing), ``streetAddress1``,
    ``city``, ``state`` and ``zipCode``; with ``sync``, missing ones come from your LMS.
    """

    # Every field optional here and each one a single rule: the kind enforces what is required, so a
    # missing field reads "is required" whether it is absent, null or empty, and the row runs as a
    # compiled plan (see ``row_plan._RowPlan``).
    model_config = ConfigDict(extra="forbid")

    id: CustomerId = Field(default=None, description="Your reference for the customer (the key).")
    taskType: TaskType = Field(  # noqa: N815 - the seed API's field names
        default=None, description="One of your account's task types.", examples=["collections"]
    )
    firstName: Text = None  # noqa: N815
    lastName: Text = None  # noqa: N815
    email: Email = None
    birthday: Birthday = Field(default=None, description="YYYY-MM-DD, not in the future.")
    ssnLastFour: SsnLastFour = Field(default=None, description="Exactly 4 digits.")  # noqa: N815
    timezone: Timezone = Field(
        default=None,
        description="IANA name; resolved from a US zipCode when missing.",
        examples=["America/New_York"],
    )
    phoneNumber: Phone = Field(  # noqa: N815
        default=None, description="Stored in E.164; numbers without a country code are US numbers."
    )
    streetAddress1: Text = None  # noqa: N815
    streetAddress2: Text = None  # noqa: N815
    city: Text = None
    state: State = Field(default=None, description="2-letter US state code.", examples=["CA"])
    zipCode: Text = None  # noqa: N815
    doNotCall: Flag = Field(default=None, description="Never call this customer.")  # noqa: N815
    isTest: Flag = Field(default=None, description="A test customer.")  # noqa: N815
    test: Flag = Field(default=None, description="Same as isTest.")
    externalMetadata: Metadata = Field(  # noqa: N815
        default=None, description="Any object, stored as given (at most 32 KB as JSON)."
    )
    loanIds: LoanIds = Field(  # noqa: N815
        default=None, description="With sync: only these LMS loans are imported (default: all)."
    )
    sync: Flag = Field(default=None, description="Fill missing fields from your LMS by id.")
    loanId: Reference = Field(default=None, description="A loan reference, stored as given.")  # noqa: N815


class CustomersBatchRequest(Envelope):
    """Body of ``POST /customers/batch``."""

    customers: Rows = Field(
        min_length=1,
        max_length=10_000,
        description="Customers (1 to 10,000). Row schema: CustomerRow; each customer is checked on its "
        "own and reported in the job's results.",
    )


def customer_id_of(raw: Any) -> str | None:
    """The row's id as its key will be (trimmed text), or None when it has no usable id."""
    if not isinstance(raw, Mapping):
        return None
    value = raw.get("id")
    # Numbers as the id rule reads them: 12345.0 (a JSON client, a spreadsheet) is the id "12345".
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)):
        return None
    try:
        return _customer_id(value)
    except RuleError:
        return None
