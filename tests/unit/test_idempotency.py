"""Idempotency keys on a store in memory: replays, refusals, what is not remembered, expiry."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulk_import.usecases.idempotency import (
    REPLAYED_HEADER,
    Answer,
    IdempotencyKeyReusedError,
    IdempotencyRecord,
    IdempotentAnswer,
    InvalidIdempotencyKeyError,
    RecordState,
    RequestInProgressError,
    fingerprint,
    run_idempotent,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
ROUTE = "POST /customers/batch"
BODY = {"customers": [{"id": "c-1", "name": "Ada"}]}


class MemoryIdempotencyStore:
    """The store's contract, in memory: ``begin`` is atomic under a lock, like a conditional write."""

    def __init__(self) -> None:
        self.records: dict[str, IdempotencyRecord] = {}
        self._lock = threading.Lock()
        self.keep_answers = True

    def begin(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        with self._lock:
            held = self.records.get(record.key_hash)
            if held is not None and held.holds_key(record.started_at):
                return held
            self.records[record.key_hash] = record
            return None

    def complete(self, key_hash: str, status: int, body: str, headers: Mapping[str, str]) -> bool:
        if not self.keep_answers:
            self.release(key_hash)
            return False
        held = self.records[key_hash]
        self.records[key_hash] = replace(
            held, state=RecordState.COMPLETED, status=status, body=body, headers=dict(headers)
        )
        return True

    def release(self, key_hash: str) -> None:
        self.records.pop(key_hash, None)


class Counter:
    """A request handler that counts its runs and answers ``status``."""

    def __init__(self, status: int = 201) -> None:
        self.runs = 0
        self.status = status

    def __call__(self) -> Answer:
        self.runs += 1
        return self.status, json.dumps({"run": self.runs}), {"Content-Type": "application/json"}


def send(
    store: MemoryIdempotencyStore,
    handler: Any,
    *,
    key: str | None = "key-1",
    tenant: str = "acme",
    route: str = ROUTE,
    body: Any = BODY,
    at: datetime = T0,
) -> IdempotentAnswer:
    return run_idempotent(store, tenant, key, route, body, at, handler)


def test_a_retry_with_the_same_key_replays_the_first_answer_without_running_again() -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    first = send(store, handler)
    again = send(store, handler, at=T0 + timedelta(hours=1))
    assert handler.runs == 1
    assert (again.status, again.body) == (first.status, first.body) == (201, '{"run": 1}')
    assert again.replayed and again.headers[REPLAYED_HEADER] == "true"
    assert again.headers["Content-Type"] == "application/json"
    assert not first.replayed and REPLAYED_HEADER not in first.headers


def test_the_same_key_with_another_body_is_refused_with_422() -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    send(store, handler)
    with pytest.raises(IdempotencyKeyReusedError) as refused:
        send(store, handler, body={"customers": [{"id": "c-2", "name": "Ada"}]})
    assert refused.value.status == 422
    assert handler.runs == 1


def test_the_same_key_on_another_route_is_refused_with_422() -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    send(store, handler)
    with pytest.raises(IdempotencyKeyReusedError):
        send(store, handler, route="POST /api/v1/customers/add/bulk")
    assert handler.runs == 1


def test_keys_belong_to_one_tenant() -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    send(store, handler, tenant="acme")
    other = send(store, handler, tenant="globex")
    assert handler.runs == 2 and not other.replayed


def test_a_key_whose_first_request_is_still_running_answers_409() -> None:
    store = MemoryIdempotencyStore()
    seen: list[int] = []

    def first() -> Answer:
        with pytest.raises(RequestInProgressError) as busy:
            send(store, Counter(), at=T0 + timedelta(seconds=5))
        seen.append(busy.value.status)
        return 202, "{}", {}

    assert send(store, first).status == 202
    assert seen == [409]


def test_another_body_while_the_first_request_runs_is_a_422_not_a_409() -> None:
    store = MemoryIdempotencyStore()

    def first() -> Answer:
        with pytest.raises(IdempotencyKeyReusedError):
            send(store, Counter(), body={"customers": []})
        return 202, "{}", {}

    send(store, first)


@pytest.mark.parametrize("status", [400, 404, 409, 422, 500, 502, 503])
def test_error_answers_are_not_remembered_so_the_key_can_be_sent_again(status: int) -> None:
    store, failing = MemoryIdempotencyStore(), Counter(status)
    assert send(store, failing).status == status
    assert store.records == {}
    fixed = Counter(201)
    answer = send(store, fixed)
    assert (answer.status, answer.replayed, fixed.runs) == (201, False, 1)


def test_a_request_that_crashes_frees_its_key() -> None:
    store = MemoryIdempotencyStore()

    def crash() -> Answer:
        raise RuntimeError("the table went away")

    with pytest.raises(RuntimeError):
        send(store, crash)
    handler = Counter()
    assert send(store, handler).status == 201 and handler.runs == 1


@pytest.mark.parametrize("status", [200, 201, 202, 207])
def test_every_answer_below_400_is_replayed(status: int) -> None:
    store, handler = MemoryIdempotencyStore(), Counter(status)
    send(store, handler)
    assert send(store, handler).status == status and handler.runs == 1


def test_a_request_without_a_key_runs_every_time_and_keeps_nothing() -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    send(store, handler, key=None)
    send(store, handler, key=None)
    assert handler.runs == 2 and store.records == {}


def test_a_key_is_replayed_for_24_hours_then_runs_again() -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    send(store, handler)
    assert send(store, handler, at=T0 + timedelta(hours=24, seconds=-1)).replayed
    later = send(store, handler, at=T0 + timedelta(hours=24))
    assert not later.replayed and handler.runs == 2
    # The window restarts with the new first answer, whatever body the old one had.
    assert send(store, handler, at=T0 + timedelta(hours=30)).body == '{"run": 2}'


def test_a_request_abandoned_for_15_minutes_gives_its_key_to_the_next_one() -> None:
    store = MemoryIdempotencyStore()
    abandoned = IdempotencyRecord(
        key_hash="",
        fingerprint="",
        state=RecordState.IN_PROGRESS,
        started_at=0,
        expires_at=0,
        locked_until=0,
    )

    def cut_short() -> Answer:
        # What a Lambda timeout leaves behind: the record begun, never completed nor released.
        held = next(iter(store.records.values()))
        nonlocal abandoned
        abandoned = held
        raise SystemExit

    with pytest.raises(SystemExit):
        send(store, cut_short)
    store.records[abandoned.key_hash] = abandoned
    with pytest.raises(RequestInProgressError):
        send(store, Counter(), at=T0 + timedelta(minutes=14, seconds=59))
    handler = Counter()
    taken_over = send(store, handler, at=T0 + timedelta(minutes=15))
    assert handler.runs == 1 and not taken_over.replayed
    assert send(store, handler, at=T0 + timedelta(minutes=16)).replayed


def test_an_answer_too_large_to_keep_frees_the_key() -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    store.keep_answers = False
    send(store, handler)
    assert store.records == {}
    assert not send(store, handler).replayed and handler.runs == 2


def test_a_store_failure_after_the_work_does_not_turn_a_success_into_an_error() -> None:
    class ThrottledStore(MemoryIdempotencyStore):
        def complete(self, key_hash: str, status: int, body: str, headers: Mapping[str, str]) -> bool:
            raise ConnectionError("throttled")

    assert send(ThrottledStore(), Counter()).status == 201


def test_the_key_is_kept_and_logged_only_as_a_hash(caplog: pytest.LogCaptureFixture) -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    key = "order-2025-03-01-secret-key"
    with caplog.at_level(logging.DEBUG):
        send(store, handler, key=key)
        send(store, handler, key=key)
        with pytest.raises(IdempotencyKeyReusedError) as refused:
            send(store, handler, key=key, body={})
    assert caplog.records, "replays and refusals are logged"
    assert key not in caplog.text and key not in repr(store.records)
    assert key not in refused.value.message


@pytest.mark.parametrize(
    "key",
    ["", "x" * 256, "caf\u00e9", "line\nbreak", "tab\there", "del\x7f", "\u00a0", "emoji-\U0001f600"],
)
def test_keys_that_are_not_1_to_255_printable_ascii_characters_are_refused_with_400(key: str) -> None:
    handler = Counter()
    with pytest.raises(InvalidIdempotencyKeyError) as refused:
        send(MemoryIdempotencyStore(), handler, key=key)
    assert refused.value.status == 400 and handler.runs == 0


@pytest.mark.parametrize("key", ["a", "x" * 255, " ", "~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./", "550e8400-e29b"])
def test_any_1_to_255_printable_ascii_characters_are_a_key(key: str) -> None:
    store, handler = MemoryIdempotencyStore(), Counter()
    send(store, handler, key=key)
    assert send(store, handler, key=key).replayed


# -- the body is compared by its parsed JSON -----------------------------------------------------------
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.decimals(allow_nan=False, allow_infinity=False, places=None).filter(lambda d: abs(d.adjusted()) < 50)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


def _parse(text: str) -> Any:
    return json.loads(text, parse_float=Decimal)


def _compact(value: Any) -> str:
    """The JSON text of ``value`` as parsed, compact, keys in their order (decimals as numbers)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{_compact(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_compact(v) for v in value) + "]"
    return str(value) if isinstance(value, Decimal) else json.dumps(value)


def _spelled(value: Any, draw: Any) -> str:
    """The JSON text of ``value`` with keys in a drawn order and drawn whitespace."""
    space = draw(st.sampled_from(["", " ", "\n  ", "\t"]))
    if isinstance(value, dict):
        items = draw(st.permutations(list(value.items())))
        inner = f",{space}".join(f"{json.dumps(k)}{space}:{space}{_spelled(v, draw)}" for k, v in items)
        return "{" + space + inner + space + "}"
    if isinstance(value, list):
        return "[" + space + f",{space}".join(_spelled(v, draw) for v in value) + space + "]"
    if isinstance(value, Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=draw(st.booleans()))


@given(value=JSON_VALUES, data=st.data())
def test_key_order_and_whitespace_do_not_change_the_request(value: Any, data: st.DataObject) -> None:
    compact = _compact(value)
    respelled = _spelled(value, data.draw)
    assert fingerprint(ROUTE, _parse(respelled)) == fingerprint(ROUTE, _parse(compact))


@given(value=JSON_VALUES, data=st.data())
def test_a_respelled_body_replays_and_a_changed_one_is_refused(value: Any, data: st.DataObject) -> None:
    body = {"items": [value]}
    store, handler = MemoryIdempotencyStore(), Counter()
    send(store, handler, body=body)
    respelled = _parse(_spelled(body, data.draw))
    assert send(store, handler, body=respelled).replayed
    with pytest.raises(IdempotencyKeyReusedError):
        send(store, handler, body={"items": [value, None]})


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('{"a": 1.0}', '{"a": 1}'),
        ('{"a": 1.50}', '{"a": 1.5}'),
        ('{"a": 100}', '{"a": 1E+2}'),
        ('{"a": -0.0}', '{"a": 0}'),
        ('{"a": "\\u00e9"}', '{"a": "\u00e9"}'),
    ],
)
def test_numbers_and_strings_are_compared_by_value(one: str, other: str) -> None:
    assert fingerprint(ROUTE, _parse(one)) == fingerprint(ROUTE, _parse(other))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ('{"a": [1, 2]}', '{"a": [2, 1]}'),
        ('{"a": "1"}', '{"a": 1}'),
        ('{"a": 1.0000000000000000000000000000000001}', '{"a": 1}'),
        ('{"a": true}', '{"a": 1}'),
        ('{"a": null}', "{}"),
        ('{"a": {"b": 1}}', '{"a": [["b", 1]]}'),
    ],
)
def test_bodies_that_differ_in_value_are_different_requests(one: str, other: str) -> None:
    assert fingerprint(ROUTE, _parse(one)) != fingerprint(ROUTE, _parse(other))


def test_floats_and_decimals_of_one_value_are_one_request() -> None:
    assert fingerprint(ROUTE, {"amount": 0.1}) == fingerprint(ROUTE, {"amount": Decimal("0.10")})
