"""Customers: customer profiles keyed by the caller's ``id``, one or many at a time.

``POST /customers`` writes one customer synchronously (``bulk_import.usecases.customers``);
``POST /customers/batch`` is this kind's asynchronous bulk route (202, chunk workers) and
``GET /customers/batch/{jobId}`` its job view. Both run the rules below, written once.

Decisions where the contract is silent (README has the short version):

* ``id`` is the key: the same id again replaces the stored customer (201 created, 200 updated), except
  ``doNotCall``: a stored ``true`` is kept when an update does not send the field, so an update that
  forgets it never re-enables calls to someone who asked not to be called. Sending ``false`` clears it.
* ``sync: true``: the LMS record fills the profile fields the caller left missing (empty counts as
  missing); the merged customer must then pass the same rules as any other, so a customer always has
  what calls need (name, phone, timezone, address). An LMS value that breaks a rule is reported with
  "(value from the LMS)". The LMS timezone is used only when the zip code in effect is the LMS's own:
  a caller who sends a new zip code without a timezone gets the zone of that zip.
* ``loanIds`` filters the LMS loans stored as ``loans``; an id the LMS does not list for the customer
  fails the customer (it names the loans the LMS has). An empty list counts as missing (all loans).
* ``test`` and ``isTest`` both mark a test customer, stored as ``isTest``; ``sync`` and ``test`` are
  directives and not stored.
* ``ssnLastFour`` is stored and returned to its own caller (the seed's response has it), and never
  appears in an error message, a per-row result or an error report: its rule never echoes the value,
  and ``redact`` masks it wherever a row is echoed as sent.
* ``birthday`` may not be after today in the tenant's timezone (for a batch: the day it was accepted).
* The job view carries every customer's ``{index, id, status, errors}``, ``errors`` being messages that
  start with the field; ``GET /v1/imports/{importId}/errors`` has them with ``field`` apart.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo

from bulk_import.core.errors import BulkImportError, InvalidRequestError, NotFoundError
from bulk_import.core.model import FieldError, ImportJob, RowOutcome, StoredRecord
from bulk_import.core.tenants import TenantConfig
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.fields import Email, Phone, Reference, Text, reference
from bulk_import.kinds.row_plan import row_errors, warm_rows
from bulk_import.rules.dates import not_in_future, parse_iso_date
from bulk_import.rules.errors import RuleError
from bulk_import.rules.limits import MAX_REFERENCE_CHARS, number_problem
from bulk_import.rules.strings import clean, is_blank
from bulk_import.rules.timezones import timezone_for_us_zip, validate_timezone
from bulk_import.rules.us_states import normalize_state

if TYPE_CHECKING:
    from bulk_import.core.ports import Deps

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
#: What replaces ``ssnLastFour`` wherever a row is echoed (``redact``).
MASK = "***"

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
MSG_FLAG = "must be true or false"
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
_TRUE = frozenset({"true", "yes", "y", "1"})
_FALSE = frozenset({"false", "no", "n", "0"})
_MAX_ECHO = 40


# -- field rules -----------------------------------------------------------------------------------
def _shown(text: str) -> str:
    return text if len(text) <= _MAX_ECHO else text[:_MAX_ECHO] + "…"


def _customer_id(value: Any) -> str | None:
    return reference(value)


def unknown_task_type(text: str, valid: Sequence[str]) -> str:
    """The message of a task type the tenant does not have, listing the valid ones."""
    if not valid:
        return f"{MSG_UNKNOWN_TASK_TYPE} {_shown(text)} (your account has no task types configured)"
    return f"{MSG_UNKNOWN_TASK_TYPE} {_shown(text)} (valid task types: {', '.join(valid)})"


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


def parse_flag(value: Any) -> bool | None:
    """A boolean as sent in JSON, or as text/0/1 from a file; None when missing.

    Raises
    ------
    RuleError
        ``"must be true or false"`` for anything else.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise RuleError(MSG_FLAG)


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


def _loan_id(item: Any) -> int:
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
    ids = list(dict.fromkeys(_loan_id(item) for item in items))
    # An empty list counts as missing, like an empty string: every LMS loan is imported.
    return ids or None


CustomerId = Annotated[str | None, BeforeValidator(_customer_id)]
TaskType = Annotated[str | None, BeforeValidator(_task_type)]
Birthday = Annotated[date | None, BeforeValidator(_birthday)]
SsnLastFour = Annotated[str | None, BeforeValidator(_ssn_last_four)]
Timezone = Annotated[str | None, BeforeValidator(_optional(validate_timezone))]
State = Annotated[str | None, BeforeValidator(_optional(normalize_state))]
Flag = Annotated[bool | None, BeforeValidator(parse_flag)]
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


class CustomersBatchRequest(BaseModel):
    """Body of ``POST /customers/batch``."""

    model_config = ConfigDict(extra="forbid")

    customers: list[dict[str, Any]] = Field(
        min_length=1,
        max_length=10_000,
        description="Customers (1 to 10,000). Row schema: CustomerRow; each customer is checked on its "
        "own and reported in the job's results.",
    )


@dataclass(frozen=True)
class CustomersOptions:
    """What validating customers needs beyond each row: the tenant's date and task types, LMS records."""

    tenant_id: str
    today: date
    #: The validation context of ``CustomerRow`` (phone region, today, task types).
    context: dict[str, Any] = field(default_factory=dict)
    #: LMS records of the rows sent with ``sync``, by id (filled by ``prepare``); None: not consulted.
    lms: Mapping[str, Mapping[str, Any]] | None = None


# -- helpers ---------------------------------------------------------------------------------------
def _today(timezone: str, now: datetime) -> date:
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        zone: Any = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC
    return now.astimezone(zone).date()


def customer_id_of(raw: Any) -> str | None:
    """The row's id as its key will be (trimmed text), or None when it has no usable id."""
    if not isinstance(raw, Mapping):
        return None
    value = raw.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    try:
        return _customer_id(value)
    except RuleError:
        return None


def _wants_sync(raw: Any) -> bool:
    if not isinstance(raw, Mapping):
        return False
    try:
        return parse_flag(raw.get("sync")) is True
    except RuleError:
        return False  # the row rules report the bad value


def _plain_numbers(value: Any) -> Any:
    # LMS records read from DynamoDB hold Decimals: whole ones become ints (loan ids compare as ints).
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, Mapping):
        return {str(k): _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def _same_text(a: Any, b: Any) -> bool:
    try:
        return clean(a) == clean(b)
    except RuleError:
        return False


def _merge(raw: Mapping[str, Any], lms: Mapping[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
    """The row with the LMS values of the fields the caller left missing, and which fields those were."""
    row = dict(raw)
    taken: set[str] = set()
    caller_zip = raw.get("zipCode")
    for name in LMS_FIELDS:
        if not is_blank(row.get(name)):
            continue  # the caller's value wins
        value = lms.get(name)
        if value is None or is_blank(value):
            continue
        if name == "timezone" and not is_blank(caller_zip) and not _same_text(caller_zip, lms.get("zipCode")):
            # The caller moved the customer: the LMS timezone belongs to the old address.
            continue
        row[name] = value
        taken.add(name)
    return row, frozenset(taken)


def _with_zip_timezone(row: Mapping[str, Any]) -> Mapping[str, Any]:
    """The row with a timezone resolved from its US zip code when it has none (offline table)."""
    if not is_blank(row.get("timezone")):
        return row
    zip_code = row.get("zipCode")
    if isinstance(zip_code, bool) or not isinstance(zip_code, (str, int)):
        return row
    zone = timezone_for_us_zip(str(zip_code))
    return row if zone is None else {**row, "timezone": zone}


def _loan_key(loan: Any) -> Any:
    return loan.get("id") if isinstance(loan, Mapping) else loan


def _lms_loans(
    lms: Mapping[str, Any], wanted: list[int] | None, customer_id: str
) -> tuple[list[Any], str | None]:
    """The LMS loans to store (all, or those of ``wanted``) and an error when one wanted is missing."""
    loans = [
        dict(loan) if isinstance(loan, Mapping) else {"id": loan}
        for loan in (lms.get("loans") or [])
        if isinstance(loan, (Mapping, int, str)) and not isinstance(loan, bool)
    ]
    if wanted is None:
        return loans, None
    by_id: dict[int, Any] = {}
    for loan in loans:
        try:
            by_id.setdefault(_loan_id(_loan_key(loan)), loan)
        except RuleError:
            continue  # a loan without a usable id cannot be asked for
    missing = [n for n in wanted if n not in by_id]
    if missing:
        listed = ", ".join(str(n) for n in by_id) or "none"
        shown = ", ".join(str(n) for n in missing[:10])
        return [], f"loanIds: loan {shown} not in the LMS for customer {customer_id} (its loans: {listed})"
    return [by_id[n] for n in wanted], None


# -- the kind --------------------------------------------------------------------------------------
class CustomersKind(ImportKind[CustomersOptions]):
    """Customers: one profile per caller ``id``, created or updated, in batches of up to 10,000."""

    name: ClassVar[str] = "customers"
    # Not "customer": campaign customers use that entity, with keys of their own.
    entity: ClassVar[str] = "customer-profile"
    records_field: ClassVar[str] = "customers"
    ref_fields: ClassVar[tuple[str, ...]] = ("id",)
    max_records: ClassVar[int] = 10_000
    route: ClassVar[str] = "/customers/batch"
    scope: ClassVar[str] = "customers:write"
    request_model: ClassVar[type[BaseModel]] = CustomersBatchRequest
    row_model: ClassVar[type[BaseModel] | None] = CustomerRow
    summary: ClassVar[str] = "Create or update customers in bulk (202 with the job; GET the job for results)"
    mode: ClassVar[str] = "async"
    job_route: ClassVar[str | None] = "/customers/batch/<job_id>"
    reads_existing: ClassVar[bool] = True

    def options(self, request: Mapping[str, Any], tenant: TenantConfig, now: datetime) -> CustomersOptions:
        """The tenant's today and task types; see ``ImportKind.options`` (no batch-level options)."""
        today = _today(tenant.timezone, now)
        context = {
            "region": PHONE_REGION,
            "today": today,
            "task_types": {t.casefold(): t for t in tenant.task_types},
            "valid_task_types": tuple(tenant.task_types),
        }
        return CustomersOptions(tenant_id=tenant.tenant_id, today=today, context=context)

    def prepare(
        self, rows: Sequence[Any], options: CustomersOptions, tenant: TenantConfig, deps: Deps
    ) -> CustomersOptions:
        """Fetch the LMS records of the rows sent with ``sync: true``, in one call per request or chunk.

        Rows without ``sync`` never reach the LMS. With no LMS client in ``deps`` the options stay
        as they are, and ``validate`` fails the ``sync`` rows saying so.

        Raises
        ------
        LmsUnavailableError
            The LMS could not be reached: the request answers 502, a chunk is retried by its queue.
        """
        ids = [cid for raw in rows if _wants_sync(raw) and (cid := customer_id_of(raw)) is not None]
        if not ids or deps.lms is None:
            return options
        found = deps.lms.fetch_customers(tenant, list(dict.fromkeys(ids)))
        return replace(options, lms={k: _plain_numbers(v) for k, v in found.items()})

    def warm(self, rows: Sequence[Any], options: CustomersOptions) -> None:
        """Normalize the request's phone numbers in one pass first (see ``warm_rows``)."""
        warm_rows(CustomerRow, rows, options.context)

    def skip_reason(self, raw: Any) -> str | None:
        """Never skip: every customer ends created, updated or failed."""
        return None

    def validate(self, raw: Any, index: int, options: CustomersOptions, tenant: TenantConfig) -> RowOutcome:
        """Validate one customer, merged with its LMS record when sent with ``sync``.

        Returns
        -------
        RowOutcome
            The normalized customer in ``record`` (E.164 phone, canonical timezone, upper-case state,
            ``birthday`` a date, ``isTest`` set, ``loans`` for synced customers), or field errors. An id
            the LMS does not know fails the customer on ``id`` alone, without a cascade of "is required".
        """
        if not isinstance(raw, Mapping):
            _, errors = row_errors(CustomerRow, raw)
            return RowOutcome(index=index, raw=raw, errors=errors)
        row: Mapping[str, Any] = raw
        required: tuple[str, ...] = REQUIRED
        from_lms: frozenset[str] = frozenset()
        lms_record: Mapping[str, Any] | None = None
        blocker: FieldError | None = None
        customer_id = customer_id_of(raw)
        if _wants_sync(raw):
            if customer_id is None:
                pass  # "id: is required" (or its own rule) says why; nothing can be fetched without it
            elif options.lms is None:
                blocker = FieldError("sync", "sync: no LMS is connected, the customer cannot be fetched")
            else:
                lms_record = options.lms.get(customer_id)
                if lms_record is None:
                    blocker = FieldError("id", f"id: customer {_shown(customer_id)} {MSG_NOT_IN_LMS}")
                else:
                    row, from_lms = _merge(raw, lms_record)
            if lms_record is None:
                # Nothing to merge: only the caller's own values are checked, not what the LMS lacks.
                required = ALWAYS_REQUIRED
        row = _with_zip_timezone(row)
        record, errors = row_errors(CustomerRow, row, context=options.context, required=required)
        if blocker is not None:
            errors.append(blocker)
        for e in errors:
            if e.field in from_lms:
                e.message += FROM_LMS
            elif e.field == "timezone" and e.message == "timezone: is required":
                zip_code = row.get("zipCode")
                e.message += (
                    " (or a US zipCode to resolve it from)"
                    if is_blank(zip_code)
                    else " (its zipCode is not a US ZIP code with a known timezone)"
                )
        if errors or record is None:
            return RowOutcome(index=index, raw=raw, errors=errors)
        if lms_record is not None:
            loans, problem = _lms_loans(lms_record, record.get("loanIds"), record["id"])
            if problem is not None:
                return RowOutcome(index=index, raw=raw, errors=[FieldError("loanIds", problem)])
            record["loans"] = loans
        test = record.pop("test", None)
        record["isTest"] = bool(record.get("isTest")) or bool(test)
        record.pop("sync", None)
        return RowOutcome(index=index, raw=raw, record=record)

    def key(self, record: Mapping[str, Any], options: CustomersOptions) -> str:
        """The caller's id."""
        return str(record["id"])

    def to_stored(self, record: Mapping[str, Any], key: str, options: CustomersOptions) -> StoredRecord:
        """The customer in the seed's field order, ``birthday`` as ISO text, the flags always set."""
        data: dict[str, Any] = {}
        for name in RESPONSE_FIELDS:
            value = record.get(name)
            if value is not None:
                data[name] = value.isoformat() if isinstance(value, date) else value
        data["id"] = key
        data["doNotCall"] = bool(record.get("doNotCall", False))
        data["isTest"] = bool(record.get("isTest", False))
        return StoredRecord(entity=self.entity, key=key, data=data)

    def reconcile(self, outcome: RowOutcome, existing: Mapping[str, Any] | None, import_id: str) -> None:
        """Keep a stored ``doNotCall: true`` when the update does not send the field (see module notes)."""
        record = outcome.record
        if record is None or existing is None or "doNotCall" in record:
            return
        if existing.get("doNotCall") is True:
            record["doNotCall"] = True

    def dedupe_key(self, raw: Any, options: CustomersOptions | None = None) -> str | None:
        """The customer's id as its key will be; repeats across chunks fail the later customer."""
        return customer_id_of(raw)

    def redact(self, raw: Any) -> Any:
        """The row with ``ssnLastFour`` masked, for anything that echoes rows as sent."""
        if isinstance(raw, Mapping) and not is_blank(raw.get("ssnLastFour")):
            return {**raw, "ssnLastFour": MASK}
        return raw

    # -- the single endpoint -----------------------------------------------------------------
    def present(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A stored customer as the API answers it: the seed's fields only, none of the storage's own."""
        return {name: _plain_numbers(data[name]) for name in RESPONSE_FIELDS if data.get(name) is not None}

    def single_error(self, outcome: RowOutcome, tenant: TenantConfig) -> BulkImportError:
        """The error answered for one customer that failed (``POST /customers``).

        Returns
        -------
        BulkImportError
            400 listing the valid task types (``validTaskTypes``) when the task type is unknown; else
            404 when the LMS does not know the id; else 400. Each carries ``errors``, every message.
        """
        messages = [e.message for e in outcome.errors]
        text = "; ".join(messages) or "invalid customer"
        if any(e.field == "taskType" and MSG_UNKNOWN_TASK_TYPE in e.message for e in outcome.errors):
            return InvalidRequestError(text, {"validTaskTypes": list(tenant.task_types), "errors": messages})
        lms_miss = [e.message for e in outcome.errors if e.field == "id" and MSG_NOT_IN_LMS in e.message]
        if lms_miss:
            return NotFoundError(lms_miss[0], {"errors": messages})
        return InvalidRequestError(text, {"errors": messages})

    # -- asynchronous kind -------------------------------------------------------------------
    def row_result(self, outcome: RowOutcome) -> dict[str, Any]:
        """``{index, id, status created|updated|failed, errors}``; errors are messages naming the field."""
        status = outcome.status if outcome.status in ("created", "updated") else "failed"
        errors = [e.message for e in outcome.errors]
        if status == "failed" and not errors:
            # Not failed by a rule yet not written: say why rather than report a bare failure.
            errors = [f"row: {outcome.skipped_reason or 'not stored'}"]
        customer_id = outcome.refs.get("id") or customer_id_of(outcome.raw)
        return {"index": outcome.index, "id": customer_id, "status": status, "errors": errors}

    def accepted(self, job: ImportJob) -> tuple[int, dict[str, Any]]:
        """202 ``{jobId, status, total, importId}``."""
        return 202, {
            "jobId": job.import_id,
            "status": job.status,
            "total": job.counts.total,
            "importId": job.import_id,
        }

    def job_view(self, job: ImportJob, results: list[dict[str, Any]]) -> dict[str, Any]:
        """The job: status, counts and every customer's result recorded so far, by index.

        ``counts`` has ``total``, ``created``, ``updated``, ``failed`` and ``pending`` (not yet
        processed), counted from the results so they always add up.
        """
        ordered = sorted(results, key=lambda r: int(r.get("index", -1)))
        counts = {"total": job.counts.total, "created": 0, "updated": 0, "failed": 0}
        for r in ordered:
            status = r.get("status")
            counts[status if status in ("created", "updated") else "failed"] += 1
        counts["pending"] = max(0, job.counts.total - len(ordered))
        summary = job.to_api()
        return {
            "jobId": job.import_id,
            "importId": job.import_id,
            "status": job.status,
            "total": job.counts.total,
            "counts": counts,
            "createdAt": summary["createdAt"],
            "completedAt": summary["completedAt"],
            "results": ordered,
        }
