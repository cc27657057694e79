"""``POST /customers`` when storage does not take the customer: refused for good, or not for now."""

from __future__ import annotations

from typing import Any

import pytest
from tests.fakes import ACME, FakeRecords, make_deps

from bulk_import.core.errors import BulkImportError, InvalidRequestError
from bulk_import.core.ports import Deps
from bulk_import.usecases.customers import upsert_customer

CUSTOMER: dict[str, Any] = {
    "id": "c-1",
    "taskType": "collections",
    "firstName": "Grace",
    "lastName": "Hopper",
    "phoneNumber": "(212) 555-0142",
    "timezone": "America/New_York",
    "streetAddress1": "123 Main St",
    "city": "New York",
    "state": "NY",
    "zipCode": "10001",
}


def deps_and_records() -> tuple[Deps, FakeRecords]:
    deps = make_deps()
    assert isinstance(deps.records, FakeRecords)
    return deps, deps.records


def test_a_customer_storage_refuses_for_good_is_400_with_the_refusal() -> None:
    deps, records = deps_and_records()
    records.refuse_keys.add("c-1")
    with pytest.raises(InvalidRequestError) as exc:
        upsert_customer(deps, ACME, CUSTOMER)
    assert exc.value.status == 400
    assert "larger than DynamoDB accepts" in exc.value.message
    assert exc.value.details["errors"] == [exc.value.message]
    assert "send it again" not in exc.value.message
    assert records.items == {}


def test_a_customer_storage_cannot_take_for_now_stays_a_500_to_send_again() -> None:
    deps, records = deps_and_records()
    records.fail_keys.add("c-1")
    with pytest.raises(BulkImportError) as exc:
        upsert_customer(deps, ACME, CUSTOMER)
    assert exc.value.status == 500
    assert "throttled" in exc.value.message and "send it again" in exc.value.message
    records.fail_keys.clear()
    created, body = upsert_customer(deps, ACME, CUSTOMER)
    assert created is True and body["id"] == "c-1"
