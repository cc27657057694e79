"""In-memory fakes of the ports: the use cases run against these in unit tests (fakes over mocks)."""

from __future__ import annotations

import copy
import io
import itertools
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bulk_import.core.errors import ConflictError, FileChangedError, LmsUnavailableError
from bulk_import.core.model import (
    Counts,
    ImportJob,
    RowOutcome,
    StoredRecord,
    WriteFailure,
)
from bulk_import.core.ports import (
    BusEvent,
    CallCounts,
    Deps,
    ErrorPage,
    PendingUpload,
    RefusedWrite,
    ResultPage,
    StoredFile,
)
from bulk_import.core.tenants import Campaign, Principal, TenantConfig
from bulk_import.engine.files.options import FileDrop


@dataclass
class FixedClock:
    """A clock that advances one second per call."""

    current: datetime = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


@dataclass
class FakeTenants:
    configs: dict[str, TenantConfig] = field(default_factory=dict)
    keys: dict[str, Principal] = field(default_factory=dict)

    def principal_for_key_hash(self, key_hash: str) -> Principal | None:
        return self.keys.get(key_hash)

    def load_config(self, tenant_id: str) -> TenantConfig | None:
        return self.configs.get(tenant_id)

    def save_campaign(self, tenant_id: str, campaign: Campaign) -> None:
        self.configs[tenant_id].campaigns[campaign.id] = campaign


@dataclass
class FakeRecords:
    items: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    #: Like the call lists: the records each import stored, as it stored them, kept when a later import
    #: writes the same record (the call stage reads the records again before calling).
    by_import: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    fail_keys: set[str] = field(default_factory=set)
    #: Keys storage refuses for their content (too large, say): a ``RefusedWrite``, never retried.
    refuse_keys: set[str] = field(default_factory=set)
    calls: int = 0

    def put_records(
        self, tenant_id: str, import_id: str, records: Sequence[StoredRecord]
    ) -> list[WriteFailure]:
        self.calls += 1
        failures = []
        for r in records:
            if r.key in self.fail_keys:
                failures.append(WriteFailure(r.key, "throttled, still unwritten after 8 attempts"))
                continue
            if r.key in self.refuse_keys:
                failures.append(
                    RefusedWrite(r.key, "the record is larger than DynamoDB accepts (400 KB an item)")
                )
                continue
            self.items[(tenant_id, r.entity, r.key)] = {**r.data, "importId": import_id}
            listed = self.by_import.setdefault((tenant_id, import_id), {})
            listed[(r.entity, r.key)] = self.items[(tenant_id, r.entity, r.key)]
        return failures

    def get_records(
        self, tenant_id: str, entity: str, keys: Sequence[str], fields: Sequence[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        return {
            k: _only(self.items[(tenant_id, entity, k)], fields)
            for k in keys
            if (tenant_id, entity, k) in self.items
        }

    def iter_import_records(
        self, tenant_id: str, import_id: str, entity: str, fields: Sequence[str] | None = None
    ) -> Iterator[StoredRecord]:
        for (e, k), data in sorted(self.by_import.get((tenant_id, import_id), {}).items()):
            if e == entity:
                yield StoredRecord(entity=e, key=k, data=_only(data, fields))


def _only(data: dict[str, Any], fields: Sequence[str] | None) -> dict[str, Any]:
    return dict(data) if fields is None else {f: data[f] for f in fields if f in data}


@dataclass
class FakeImports:
    """Import jobs in memory, with the same idempotence rules as the DynamoDB repository."""

    jobs: dict[tuple[str, str], ImportJob] = field(default_factory=dict)
    errors: dict[tuple[str, str], dict[tuple[int, int], dict[str, Any]]] = field(default_factory=dict)
    results: dict[tuple[str, str], dict[int, dict[str, Any]]] = field(default_factory=dict)
    chunks: set[tuple[str, str, int]] = field(default_factory=set)
    chunk_errors: dict[tuple[str, str, int], str] = field(default_factory=dict)
    call_batches: set[tuple[str, str, int]] = field(default_factory=set)
    #: ``(tenant, import, call batch, customer key)`` of the calls requested.
    call_markers: set[tuple[str, str, int, str]] = field(default_factory=set)
    pending_uploads: set[PendingUpload] = field(default_factory=set)

    def save(self, job: ImportJob) -> None:
        self.jobs[(job.tenant_id, job.import_id)] = copy.deepcopy(job)

    def get(self, tenant_id: str, import_id: str) -> ImportJob | None:
        job = self.jobs.get((tenant_id, import_id))
        return copy.deepcopy(job) if job else None

    def add_rows(
        self, job: ImportJob, outcomes: Sequence[RowOutcome], results: Sequence[dict] | None = None
    ) -> None:
        errs = self.errors.setdefault((job.tenant_id, job.import_id), {})
        for o in outcomes:
            for n, e in enumerate(o.error_entries()):
                errs[(o.index, n)] = e
        res = self.results.setdefault((job.tenant_id, job.import_id), {})
        for o, r in zip(outcomes, results or (), strict=False):
            res[o.index] = r

    def list_results(self, tenant_id: str, import_id: str) -> list[dict[str, Any]]:
        res = self.results.get((tenant_id, import_id), {})
        return [res[i] for i in sorted(res)]

    def list_results_page(
        self, tenant_id: str, import_id: str, limit: int, after: int | None = None
    ) -> ResultPage:
        res = self.results.get((tenant_id, import_id), {})
        indices = [i for i in sorted(res) if after is None or i > after]
        return ResultPage([(i, res[i]) for i in indices[:limit]], len(indices) > limit)

    def count_results(self, tenant_id: str, import_id: str) -> dict[str, int]:
        tally: dict[str, int] = {}
        for result in self.results.get((tenant_id, import_id), {}).values():
            status = str(result.get("status"))
            tally[status] = tally.get(status, 0) + 1
        return tally

    def list_errors(self, tenant_id: str, import_id: str, limit: int, cursor: str | None) -> ErrorPage:
        errs = self.errors.get((tenant_id, import_id), {})
        rows = [errs[k] for k in sorted(errs)]
        start = int(cursor or 0)
        nxt = start + limit
        return ErrorPage(rows[start:nxt], str(nxt) if nxt < len(rows) else None)

    def mark_processing(self, tenant_id: str, import_id: str, now: datetime) -> None:
        job = self.jobs[(tenant_id, import_id)]
        if job.status == "QUEUED":
            job.status = "PROCESSING"

    def apply_chunk(self, tenant_id: str, import_id: str, chunk: int, counts: Counts, now: datetime) -> bool:
        if (tenant_id, import_id, chunk) in self.chunks:
            return False
        self.chunks.add((tenant_id, import_id, chunk))
        job = self.jobs[(tenant_id, import_id)]
        total = job.counts.total
        job.counts.add(counts)
        job.counts.total = total + counts.total
        job.chunks_done += 1
        job.updated_at = now
        return True

    def complete_if_done(
        self, tenant_id: str, import_id: str, now: datetime, *, final: bool = True
    ) -> ImportJob | None:
        job = self.jobs[(tenant_id, import_id)]
        if job.chunks_done < job.chunks_total or job.status not in ("QUEUED", "PROCESSING"):
            return None
        if final:
            job.status = "DONE"
            job.completed_at = now
        elif job.inserted_at is None:
            job.status = "PROCESSING"
            job.inserted_at = now
        else:
            return None
        return copy.deepcopy(job)

    def set_execution(self, tenant_id: str, import_id: str, execution_id: str, now: datetime) -> None:
        job = self.jobs[(tenant_id, import_id)]
        assert job.has_follow_up
        job.execution_id = execution_id
        if job.calls is not None:
            job.calls.execution_id = execution_id

    def save_task_token(self, tenant_id: str, import_id: str, token: str, now: datetime) -> ImportJob | None:
        job = self.jobs.get((tenant_id, import_id))
        if job is None:
            return None
        job.task_token = token
        return copy.deepcopy(job)

    def schedule_calls(self, tenant_id: str, import_id: str, schedule: Any, now: datetime) -> None:
        calls = self.jobs[(tenant_id, import_id)].calls
        assert calls is not None
        calls.status, calls.batches, calls.skipped = "RUNNING", schedule.batches, schedule.skipped
        calls.do_not_call_list, calls.failed = schedule.do_not_call_list, schedule.failed
        calls.waiting = dict(schedule.waiting)

    def apply_call_batch(
        self, tenant_id: str, import_id: str, batch: int, counts: CallCounts, now: datetime
    ) -> bool:
        if (tenant_id, import_id, batch) in self.call_batches:
            return False
        self.call_batches.add((tenant_id, import_id, batch))
        calls = self.jobs[(tenant_id, import_id)].calls
        assert calls is not None
        calls.requested += counts.requested
        calls.skipped += counts.skipped
        calls.failed += counts.failed
        calls.batches_done += 1
        return True

    def finish(
        self,
        tenant_id: str,
        import_id: str,
        status: Any,
        now: datetime,
        *,
        error: str | None = None,
        calls_status: Any = None,
        files: Any = None,
    ) -> None:
        job = self.jobs[(tenant_id, import_id)]
        if status == "DONE" and job.status == "CANCELLED":
            # As the DynamoDB repository: a cancel answered meanwhile stands.
            raise ConflictError(f"import {import_id} was cancelled")
        if status is not None:
            job.status, job.completed_at = status, now
        if error is not None:
            job.error = error
        if files:
            job.files = dict(files)
        if calls_status is not None:
            assert job.calls is not None
            job.calls.status = calls_status

    def requested_calls(
        self, tenant_id: str, import_id: str, keys: Sequence[str], *, batch: int = 0
    ) -> set[str]:
        return {k for k in keys if (tenant_id, import_id, batch, k) in self.call_markers}

    def record_requested_calls(
        self, tenant_id: str, import_id: str, keys: Sequence[str], *, batch: int = 0
    ) -> None:
        self.call_markers.update((tenant_id, import_id, batch, k) for k in keys)

    def list_page(
        self, tenant_id: str, limit: int, after: str | None, kind: str | None, status: str | None
    ) -> tuple[list[ImportJob], str | None]:
        mine = sorted(
            (j for (t, _), j in self.jobs.items() if t == tenant_id),
            key=lambda j: (j.created_at, j.import_id),
            reverse=True,
        )
        position = [f"{j.created_at.isoformat()}#{j.import_id}" for j in mine]
        start = position.index(after) + 1 if after in position else 0
        found = [
            (p, j)
            for p, j in zip(position[start:], mine[start:], strict=True)
            if (kind is None or j.kind == kind) and (status is None or j.status == status)
        ]
        more = len(found) > limit
        return [copy.deepcopy(j) for _, j in found[:limit]], found[limit - 1][0] if more else None

    def cancel(self, tenant_id: str, import_id: str, now: datetime) -> ImportJob | None:
        job = self.jobs.get((tenant_id, import_id))
        if job is None or job.status not in ("QUEUED", "PROCESSING"):
            return None
        job.status, job.completed_at, job.updated_at = "CANCELLED", now, now
        if job.calls is not None and job.calls.status in ("PENDING", "RUNNING"):
            job.calls.status = "CANCELLED"
        return copy.deepcopy(job)

    def add_pending_upload(self, upload: PendingUpload) -> None:
        self.pending_uploads.add(upload)

    def due_uploads(self, now: datetime, since: datetime) -> list[PendingUpload]:
        return sorted((u for u in self.pending_uploads if since <= u.due <= now), key=lambda u: u.due)

    def remove_pending_upload(self, upload: PendingUpload) -> None:
        self.pending_uploads.discard(upload)

    def save_chunk_error(self, tenant_id: str, import_id: str, chunk: int, reason: str) -> None:
        self.chunk_errors[(tenant_id, import_id, chunk)] = reason

    def get_chunk_error(self, tenant_id: str, import_id: str, chunk: int) -> str | None:
        return self.chunk_errors.get((tenant_id, import_id, chunk))


@dataclass
class FakePayloads:
    objects: dict[str, Any] = field(default_factory=dict)

    def put_json(self, key: str, value: Any) -> None:
        self.objects[key] = json.loads(json.dumps(value, default=str))

    def get_json(self, key: str) -> Any:
        return copy.deepcopy(self.objects[key])


@dataclass
class FakeFiles:
    """Objects in memory, with metadata, versions (a counter), tags and fake presigned URLs."""

    objects: dict[str, bytes] = field(default_factory=dict)
    metadata: dict[str, dict[str, str]] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    opened: int = 0

    def add(self, key: str, body: bytes, metadata: dict[str, str] | None = None) -> FileDrop:
        self.objects[key] = body
        self.metadata[key] = dict(metadata or {})
        self.versions[key] = str(int(self.versions.get(key, "0")) + 1)
        return FileDrop(key=key, size=len(body), version=self.versions[key])

    def describe(self, key: str) -> StoredFile | None:
        if key not in self.objects:
            return None
        return StoredFile(key, len(self.objects[key]), dict(self.metadata[key]), version=self.versions[key])

    def open(self, key: str, *, version: str | None = None, etag: str | None = None) -> Any:
        if key not in self.objects or (version is not None and version != self.versions[key]):
            raise FileChangedError(f"{key} was replaced or deleted")
        self.opened += 1
        return io.BytesIO(self.objects[key])

    def put(self, key: str, body: Any, content_type: str) -> None:
        self.objects[key] = body.read()
        self.metadata[key] = {"content-type": content_type}
        self.versions[key] = "1"

    def upload_url(self, key: str, expires_in: int) -> str:
        return f"https://upload.example/{key}?expires={expires_in}"

    def download_url(self, key: str, expires_in: int, filename: str | None = None) -> str:
        return f"https://download.example/{key}?expires={expires_in}&as={filename}"

    def tag(self, key: str, tags: Any, *, version: str | None = None) -> None:
        self.tags[key] = dict(tags)

    def text(self, key: str) -> str:
        return self.objects[key].decode("utf-8-sig")  # errors.csv has a BOM, summary.json none


@dataclass
class FakeQueue:
    messages: list[dict[str, Any]] = field(default_factory=list)

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        assert len(messages) <= 10
        self.messages.extend(json.loads(json.dumps(m)) for m in messages)


@dataclass
class FakeWorkflow:
    """Records starts and resumed tokens; ``fail_start`` makes starting raise like an unreachable service."""

    started: list[tuple[str, bool]] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    fail_start: bool = False

    def start(self, job: ImportJob, *, chunked: bool) -> str:
        if self.fail_start:
            raise ConnectionError("states.us-east-1.amazonaws.com unreachable")
        self.started.append((job.import_id, chunked))
        return f"arn:aws:states:us-east-1:123456789012:execution:wf:{job.import_id}"

    def resume(self, token: str, output: dict[str, Any]) -> None:
        self.resumed.append(token)


@dataclass
class FakeBus:
    """Accepts events, except those ``refuse`` says no to (called with the event and its attempt number)."""

    events: list[BusEvent] = field(default_factory=list)
    calls: int = 0
    max_entries: int = 10
    refuse: Any = None
    attempts: dict[str, int] = field(default_factory=dict)

    def put_events(self, events: Sequence[BusEvent]) -> list[str | None]:
        assert len(events) <= self.max_entries
        self.calls += 1
        out: list[str | None] = []
        for e in events:
            key = e.detail.get("customerKey", "")
            self.attempts[key] = self.attempts.get(key, 0) + 1
            if self.refuse is not None and self.refuse(e, self.attempts[key]):
                out.append("ThrottlingException: rate exceeded")
            else:
                self.events.append(copy.deepcopy(e))
                out.append(None)
        return out


@dataclass
class FakeLms:
    """LMS records by (tenant, customer id); ``down`` makes every lookup fail like an unreachable LMS."""

    customers: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    down: bool = False
    lookups: list[list[str]] = field(default_factory=list)

    def add(self, tenant_id: str, customer: dict[str, Any]) -> None:
        self.customers[(tenant_id, str(customer["id"]))] = customer

    def fetch_customer(self, tenant: TenantConfig, customer_id: str) -> dict[str, Any] | None:
        return self.fetch_customers(tenant, [customer_id]).get(customer_id)

    def fetch_customers(self, tenant: TenantConfig, customer_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        self.lookups.append(list(customer_ids))
        if self.down:
            raise LmsUnavailableError("the LMS at lms.example did not answer within 5 s for customer x")
        found = {c: self.customers.get((tenant.tenant_id, c)) for c in customer_ids}
        return {c: copy.deepcopy(r) for c, r in found.items() if r is not None}


def acme_config(**overrides: Any) -> TenantConfig:
    """The tenant most tests use: French defaults, one collections and one leads campaign."""
    base: dict[str, Any] = {
        "tenant_id": "acme",
        "timezone": "Europe/Paris",
        "default_phone_region": "FR",
        "campaigns": {
            "camp-loans": Campaign("camp-loans", "Loans", "collections"),
            "camp-leads": Campaign("camp-leads", "Leads", "leads"),
        },
        "task_types": ("collections", "reminder"),
        "timelines": {"tl-standard": {"id": "tl-standard", "name": "Standard"}},
        "payment_sources": {"grp-main": {"type": "group", "id": "grp-main"}},
        "contacts": {"ct-1": {"id": "ct-1", "authorized": True}, "ct-2": {"id": "ct-2", "authorized": False}},
    }
    base.update(overrides)
    return TenantConfig(**base)


ALL_SCOPES = frozenset(
    {"customers:write", "debts:write", "payments:write", "campaigns:write", "imports:read", "webhooks:write"}
)


def make_deps(*configs: TenantConfig) -> Deps:
    """Deps on fakes with the given tenants (default: acme)."""
    counter = itertools.count(1)
    tenants = FakeTenants(configs={c.tenant_id: c for c in (configs or (acme_config(),))})
    return Deps(
        tenants=tenants,
        records=FakeRecords(),
        imports=FakeImports(),
        clock=FixedClock(),
        new_id=lambda: f"imp_{next(counter):04d}",
        payloads=FakePayloads(),
        queue=FakeQueue(),
        lms=FakeLms(),
        workflow=FakeWorkflow(),
        events=FakeBus(),
        files=FakeFiles(),
    )


ACME = Principal("acme", ALL_SCOPES)


class QueueLimitError(Exception):
    """What SQS answers to a send it refuses (a message or a batch over 1 MiB, more than 10 entries)."""


@dataclass
class AwsLimitedQueue(FakeQueue):
    """A chunk queue that refuses what SQS refuses, and remembers the size of every send it accepted."""

    message_bytes: list[int] = field(default_factory=list)
    batch_bytes: list[int] = field(default_factory=list)

    def send(self, messages: Sequence[dict[str, Any]]) -> None:
        sizes = [len(json.dumps(m, default=str, separators=(",", ":")).encode()) for m in messages]
        if not 1 <= len(messages) <= 10:
            raise QueueLimitError(f"AWS.SimpleQueueService.TooManyEntriesInBatchRequest: {len(messages)}")
        if max(sizes) > 1_048_576:
            raise QueueLimitError(f"InvalidParameterValue: a message of {max(sizes)} bytes")
        if sum(sizes) > 1_048_576:
            raise QueueLimitError(
                f"Batch requests cannot be longer than 1048576 bytes. You have sent {sum(sizes)} bytes."
            )
        self.message_bytes += sizes
        self.batch_bytes.append(sum(sizes))
        super().send(messages)


# -- webhooks ------------------------------------------------------------------------------------------------


@dataclass
class FakeWebhookStore:
    """Endpoints by tenant and the marks of announced events; ``down`` makes every read raise."""

    endpoints: dict[str, Any] = field(default_factory=dict)
    marks: set[tuple[str, str, str]] = field(default_factory=set)
    down: bool = False

    def get_webhook(self, tenant_id: str) -> Any:
        if self.down:
            raise ConnectionError("dynamodb.us-east-1.amazonaws.com unreachable")
        return copy.deepcopy(self.endpoints.get(tenant_id))

    def put_webhook(self, endpoint: Any) -> None:
        self.endpoints[endpoint.tenant_id] = copy.deepcopy(endpoint)

    def delete_webhook(self, tenant_id: str) -> bool:
        return self.endpoints.pop(tenant_id, None) is not None

    def disable_webhook(self, tenant_id: str, url: str, reason: str, now: datetime) -> bool:
        endpoint = self.endpoints.get(tenant_id)
        if endpoint is None or endpoint.url != url:
            return False
        endpoint.disabled_at, endpoint.disabled_reason, endpoint.updated_at = now, reason, now
        return True

    def claim_event(self, tenant_id: str, import_id: str, event: str, now: datetime) -> bool:
        mark = (tenant_id, import_id, event)
        if mark in self.marks:
            return False
        self.marks.add(mark)
        return True

    def release_event(self, tenant_id: str, import_id: str, event: str) -> None:
        self.marks.discard((tenant_id, import_id, event))


class FakeSecretBox:
    """Seals by reversing and tagging with the tenant: what is stored is never the clear secret."""

    def seal(self, tenant_id: str, secret: str) -> str:
        return f"sealed:{tenant_id}:{secret[::-1]}"

    def open(self, tenant_id: str, sealed: str) -> str:
        prefix = f"sealed:{tenant_id}:"
        assert sealed.startswith(prefix), "sealed for another tenant"
        return sealed[len(prefix) :][::-1]


@dataclass
class FakeResolver:
    """Names to addresses, as a stubbed DNS would answer (unknown names resolve to nothing)."""

    names: dict[str, list[str]] = field(default_factory=dict)

    def resolve(self, host: str, port: int) -> list[str]:
        return list(self.names.get(host, []))


@dataclass
class FakeWebhookQueue:
    """Queued deliveries, and the delays deliveries were held back for (by receipt)."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    held: list[tuple[str, int]] = field(default_factory=list)
    fail_send: bool = False

    def send(self, message: dict[str, Any]) -> None:
        if self.fail_send:
            raise ConnectionError("sqs.us-east-1.amazonaws.com unreachable")
        self.messages.append(json.loads(json.dumps(message)))

    def retry_later(self, receipt: str, seconds: int) -> None:
        self.held.append((receipt, seconds))


@dataclass
class FakeTransport:
    """Answers each POST with the next of ``answers`` (an int status, or an exception to raise) and keeps
    every request (url, address, body, headers)."""

    answers: list[Any] = field(default_factory=lambda: [204])
    requests: list[tuple[str, str, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, address: str, body: bytes, headers: Any, timeout: float) -> int:
        self.requests.append((url, address, body, dict(headers)))
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, BaseException):
            raise answer
        return int(answer)
