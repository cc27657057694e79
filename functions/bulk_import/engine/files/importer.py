"""File imports (SPEC 6): a file put at ``incoming/{tenantId}/{kind}/{name}`` becomes an import of that kind.

``handle_drop`` runs once per file (the file-drop handler, one SQS message per S3 notification):

1. The key names the tenant and the kind; the file's extension its format; its object metadata the
   import options (``campaign-id``, ``initiate-call``…, see each kind's ``file_options``).
2. **Survey**: the file is read once from end to end without validating anything: it must decode, have
   a header naming the kind's fields (CSV, XLSX), parse (JSON), and have data rows. A file that cannot be
   read fails its import here, with the reason, before anything is queued: no part of a broken file is
   ever imported.
3. The import is stored with its total and number of chunks, its workflow started (insertion, calls if
   asked for, then finalization, which writes the result files), and the file is read a second time and
   split into chunks as it is read (``jobs.split_file_rows``), sent to the chunk queue ten at a time.
   Chunk workers process them like those of any asynchronous import.
4. The dropped object is tagged ``import-id`` so whoever dropped it can find its import.

Idempotence: the import id of a dropped file is derived from the object's identity (key and version, or
the event's sequencer or ETag and time), so a notification delivered twice finds its import: a finished
one is left alone, an unfinished one has its chunks sent again (chunk numbers and rows are the same, and
chunk accounting is idempotent). A file uploaded through ``POST /v1/imports/uploads`` carries the import
id issued then at the start of its name (``{importId}-{filename}``) and uses that import and its options.

Broken files never raise: their import is FAILED with the reason and ``summary.json`` says why. A file
whose tenant does not exist cannot have an import (imports live under their tenant): the failure is
logged and ``summary.json`` written under ``results/{tenantId}/{importId}/`` all the same.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any

from bulk_import.core.errors import BulkImportError, InvalidRequestError, NotFoundError
from bulk_import.core.model import CallStage, Counts, ImportJob
from bulk_import.core.ports import PendingUpload
from bulk_import.core.tenants import Principal
from bulk_import.engine import workflow
from bulk_import.engine.files.columns import FieldMap, Layout
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.readers import file_format
from bulk_import.engine.files.results import (
    ERRORS,
    SUMMARY,
    ErrorReport,
    grouped_errors,
    new_spool,
    result_key,
    summary,
    write_report,
)
from bulk_import.engine.files.rows import FileReader
from bulk_import.engine.jobs import SplitRow, split_file_rows
from bulk_import.engine.pipeline import Deps, check_follow_up, load_tenant
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.fields import parse_flag

log = logging.getLogger(__name__)

INCOMING = "incoming"
#: Rows a file may hold (the import's chunk markers must fit one DynamoDB item: 4,000 chunks of 250).
MAX_FILE_ROWS = 1_000_000
#: How long presigned upload and download URLs stay valid.
UPLOAD_EXPIRES_SECONDS = 3600
DOWNLOAD_EXPIRES_SECONDS = 3600
#: How long after its upload URL expired an upload without a file is failed ("no file was uploaded").
ABANDONED_UPLOAD_GRACE = timedelta(hours=24)
#: Longest file name kept (the rest of the key is the tenant, the kind and the import id).
MAX_NAME_CHARS = 200
#: An uploaded file's name: the import id issued by ``POST /v1/imports/uploads``, a dash, the name.
_UPLOADED = re.compile(r"^(imp_[0-9A-Za-z]{1,64})-(.+)$", re.DOTALL)
_UNSAFE_NAME = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclass(frozen=True)
class FileDrop:
    """One file put in the import bucket, as its S3 notification tells (the key already URL-decoded)."""

    key: str
    size: int | None = None
    etag: str | None = None
    version: str | None = None
    sequencer: str | None = None
    event_time: str | None = None

    def identity(self) -> str:
        """What tells this put of the object from another put at the same key."""
        if self.version:
            return f"version:{self.version}"
        if self.sequencer:
            return f"sequencer:{self.sequencer}"
        return f"etag:{self.etag}:{self.event_time}"


@dataclass(frozen=True)
class DroppedKey:
    """The parts of ``incoming/{tenantId}/{kind}/{name}`` (None for the parts the key lacks)."""

    tenant_id: str | None
    kind: str | None
    name: str


def parse_key(key: str) -> DroppedKey:
    """Split a key of the incoming area into tenant, kind and file name."""
    parts = key.split("/")
    if parts[0] != INCOMING or len(parts) < 2:
        return DroppedKey(None, None, parts[-1])
    if len(parts) == 2:
        return DroppedKey(None, None, parts[1])
    if len(parts) == 3:
        return DroppedKey(parts[1] or None, None, parts[2])
    return DroppedKey(parts[1] or None, parts[2] or None, "/".join(parts[3:]))


def drop_import_id(key: str, identity: str) -> str:
    """The import id of a dropped file: the same for the same put of the same object."""
    return "imp_" + hashlib.sha256(f"{key}\0{identity}".encode()).hexdigest()[:32]


# -- options -------------------------------------------------------------------------------------------
def _set(request: dict[str, Any], path: str, value: Any) -> None:
    head, _, tail = path.partition(".")
    if not tail:
        request[head] = value
        return
    parent = request.get(head)
    if not isinstance(parent, dict):
        parent = request[head] = {}
    parent[tail] = value


def _all_file_options() -> set[str]:
    return {name for kind_name in REGISTRY for name in get_kind(kind_name).file_options}


def options_from_metadata(
    kind: ImportKind[Any], metadata: Mapping[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The request options of a dropped file from its object metadata, and warnings about the rest.

    Metadata names are the kind's ``file_options`` (``campaign-id``…); flags read ``true``/``false``
    (also yes/no, 1/0). An option of another kind is ignored with a warning; metadata no kind knows is
    left alone (tools add their own).

    Raises
    ------
    InvalidRequestError
        A flag that is not true or false.
    """
    request: dict[str, Any] = {}
    warnings: list[str] = []
    others = _all_file_options()
    for raw_name, raw_value in sorted(metadata.items()):
        name = raw_name.strip().lower()
        value = str(raw_value).strip()
        spec = kind.file_options.get(name)
        if spec is None:
            if name in others:
                warnings.append(f"metadata {name} does not apply to {kind.name} imports; ignored")
            continue
        path, kind_of_value = spec
        if kind_of_value == "flag":
            try:
                flag = parse_flag(value)
            except ValueError:
                raise InvalidRequestError(
                    f"metadata {name}: must be true or false, not {value[:30]!r}"
                ) from None
            if flag is not None:
                _set(request, path, flag)
        elif value:
            _set(request, path, value)
    return request, warnings


def upload_options(kind: ImportKind[Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """The request options of ``POST /v1/imports/uploads``: the kind's body fields (``campaignId``…) or
    the metadata names of a dropped file (``campaign-id``…).

    Raises
    ------
    InvalidRequestError
        An option the kind does not have.
    """
    body_fields = [n for n in kind.request_model.model_fields if n != kind.records_field]
    request: dict[str, Any] = {}
    metadata: dict[str, str] = {}
    for name, value in options.items():
        if name in body_fields:
            request[name] = value
        elif name.lower() in kind.file_options:
            metadata[name] = value if isinstance(value, str) else json.dumps(value)
        else:
            known = ", ".join([*body_fields, *kind.file_options]) or "none"
            raise InvalidRequestError(
                f"options.{name}: not an option of {kind.name} imports (options: {known})"
            )
    from_metadata, _ = options_from_metadata(kind, metadata)
    for name, value in from_metadata.items():
        if isinstance(value, dict) and isinstance(request.get(name), dict):
            request[name] = {**request[name], **value}
        else:
            request[name] = value
    return request


def with_option_names(kind: ImportKind[Any], message: str) -> str:
    """A request-level message about an option, with the metadata names that set it (``campaign-id``)."""
    names = [
        meta for meta, (path, _) in kind.file_options.items() if message.startswith(path.split(".")[0] + ":")
    ]
    return f"{message} (object metadata {', '.join(names)})" if names else message


def _check_body_fields(kind: ImportKind[Any], options: Mapping[str, Any]) -> None:
    allowed = [n for n in kind.request_model.model_fields if n != kind.records_field]
    for name in options:
        if name not in allowed:
            raise FileFormatError(
                f"unknown top-level field {name!r} (the body of {kind.route} has "
                f"{', '.join([kind.records_field, *allowed])})"
            )


def safe_name(filename: str) -> str:
    """A client's file name as kept in a key: its last path part, no control characters, bounded.

    Raises
    ------
    InvalidRequestError
        Nothing is left of it.
    """
    name = re.split(r"[/\\]", str(filename).strip())[-1]
    name = _UNSAFE_NAME.sub("_", name).strip()
    if not name or name in (".", ".."):
        raise InvalidRequestError("filename: is required (the file's name, e.g. debts.csv)")
    if len(name) > MAX_NAME_CHARS:
        dot = name.rfind(".")
        extension = name[dot:] if dot > 0 and len(name) - dot <= 10 else ""
        name = name[: MAX_NAME_CHARS - len(extension)] + extension
    return name


# -- uploads -------------------------------------------------------------------------------------------
def create_upload(
    deps: Deps, principal: Principal, kind_name: str, filename: str, options: Mapping[str, Any]
) -> dict[str, Any]:
    """``POST /v1/imports/uploads``: an import waiting for its file, and a presigned URL to PUT it to.

    The options are checked now (400/404 before any upload). The file, once uploaded, is imported with
    these options by the file-drop handler, like any dropped file; until then the import is ``QUEUED``
    with ``file.awaitingUpload``.

    Raises
    ------
    InvalidRequestError, NotFoundError, ForbiddenError, NotAvailableError
        Unknown kind (400), a name without a supported extension, options the kind rejects; the key
        lacks the kind's scope (403); no file store on this deployment (501).
    """
    try:
        kind = get_kind(kind_name)
    except NotFoundError as exc:
        raise InvalidRequestError(f"kind: {exc.message}") from None
    principal.require(kind.scope)
    if deps.files is None or deps.workflow is None:
        from bulk_import.core.errors import NotAvailableError

        raise NotAvailableError("file imports are not configured on this deployment")
    tenant = load_tenant(deps.tenants, principal)
    name = safe_name(filename)
    try:
        fmt = file_format(name)
    except FileFormatError as exc:
        raise InvalidRequestError(f"filename: {exc.message}") from None
    request = upload_options(kind, options)
    now = deps.clock.now()
    check_follow_up(kind, kind.options(request, tenant, now), deps)
    import_id = deps.new_id()
    key = f"{INCOMING}/{tenant.tenant_id}/{kind.name}/{import_id}-{name}"
    job = ImportJob(
        import_id=import_id,
        tenant_id=tenant.tenant_id,
        kind=kind.name,
        source="upload",
        status="QUEUED",
        created_at=now,
        updated_at=now,
        options=request,
        source_file={"key": key, "name": name, "format": fmt, "awaitingUpload": True},
    )
    deps.imports.save(job)
    deps.imports.add_pending_upload(PendingUpload(tenant.tenant_id, import_id, upload_due(now)))
    return {
        "importId": import_id,
        "status": job.status,
        "uploadUrl": deps.files.upload_url(key, UPLOAD_EXPIRES_SECONDS),
        "method": "PUT",
        "key": key,
        "expiresIn": UPLOAD_EXPIRES_SECONDS,
    }


def upload_due(created_at: datetime) -> datetime:
    """When an upload created at ``created_at`` fails if its file has not arrived."""
    return created_at + timedelta(seconds=UPLOAD_EXPIRES_SECONDS) + ABANDONED_UPLOAD_GRACE


def fail_abandoned_upload(deps: Deps, job: ImportJob) -> bool:
    """Fail an upload's import whose file never arrived; False when it is not waiting for a file.

    The import ends FAILED with "no file was uploaded" and a ``summary.json`` that says so.
    """
    source = job.source_file or {}
    if job.source != "upload" or job.status != "QUEUED" or not source.get("awaitingUpload"):
        return False
    expired = job.created_at + timedelta(seconds=UPLOAD_EXPIRES_SECONDS)
    reason = f"no file was uploaded (the upload URL expired at {expired.isoformat().replace('+00:00', 'Z')})"
    files = write_failure_summary(deps, job, reason)
    deps.imports.finish(job.tenant_id, job.import_id, "FAILED", deps.clock.now(), error=reason, files=files)
    log.info("upload %s of tenant %s failed: %s", job.import_id, job.tenant_id, reason)
    return True


# -- file drops ----------------------------------------------------------------------------------------
@dataclass
class _Start:
    """What handling one drop has worked out so far."""

    drop: FileDrop
    parts: DroppedKey
    job: ImportJob
    #: The import was stored already (an upload waiting for its file, or a notification delivered again).
    stored: bool = False
    resume: bool = False


def handle_drop(deps: Deps, drop: FileDrop) -> ImportJob | None:
    """Start the import of a dropped file, or fail it with the reason (see the module notes).

    Returns
    -------
    ImportJob | None
        The import (QUEUED, or FAILED with ``error``), or None when the key names no tenant, the tenant
        does not exist, or the object is a folder marker or gone.

    Raises
    ------
    Exception
        Only failures of the stack itself (storage, queue), for the queue to retry.
    """
    assert deps.files is not None, "file drops need a file store"
    if drop.key.endswith("/"):
        return None  # a "folder" made in a console
    parts = parse_key(drop.key)
    if parts.tenant_id is None:
        log.error("file %s names no tenant: keys are incoming/{tenantId}/{kind}/{name}; ignored", drop.key)
        return None
    stored_file = deps.files.describe(drop.key)
    if stored_file is None:
        log.warning("file %s is gone; nothing to import", drop.key)
        return None
    start = _begin(
        deps, drop, parts, stored_file.metadata, stored_file.size, stored_file.etag, stored_file.version
    )
    if start is None:
        return None
    job = start.job
    tenant = deps.tenants.load_config(job.tenant_id)
    if tenant is None:
        reason = f"tenant {job.tenant_id} does not exist: a file must be put under incoming/{{tenantId}}/"
        log.error("file %s: %s (no import created; summary written)", drop.key, reason)
        job.status, job.error, job.completed_at = "FAILED", reason, deps.clock.now()
        _put_summary(deps, job, summary(job))
        _tag(deps, job)
        return None
    try:
        return _start(deps, start, tenant, stored_file.metadata)
    except (FileFormatError, BulkImportError) as exc:
        return _fail(deps, start, exc.message)


def _begin(
    deps: Deps,
    drop: FileDrop,
    parts: DroppedKey,
    metadata: Mapping[str, str],
    size: int,
    etag: str | None,
    version: str | None,
) -> _Start | None:
    """The import of this drop: the upload's, the one a previous delivery created, or a new one."""
    assert parts.tenant_id is not None
    now = deps.clock.now()
    source_file: dict[str, Any] = {"key": drop.key, "name": parts.name, "size": size}
    if etag:
        source_file["etag"] = etag
    if version:
        source_file["version"] = version
    uploaded = _UPLOADED.match(parts.name.rsplit("/", 1)[-1])
    if uploaded is not None:
        job = deps.imports.get(parts.tenant_id, uploaded.group(1))
        if job is not None and job.source == "upload" and (job.source_file or {}).get("key") == drop.key:
            if not (job.source_file or {}).get("awaitingUpload"):
                return _again(job, drop, parts)
            source_file["name"] = uploaded.group(2)
            job.source_file = {**(job.source_file or {}), **source_file, "awaitingUpload": False}
            return _Start(drop, parts, job, stored=True)
    import_id = drop_import_id(drop.key, f"version:{version}" if version else drop.identity())
    job = deps.imports.get(parts.tenant_id, import_id)
    if job is not None:
        return _again(job, drop, parts)
    job = ImportJob(
        import_id=import_id,
        tenant_id=parts.tenant_id,
        kind=(parts.kind or "unknown")[:100],
        source="file",
        status="QUEUED",
        created_at=now,
        updated_at=now,
        source_file=source_file,
    )
    return _Start(drop, parts, job)


def _again(job: ImportJob, drop: FileDrop, parts: DroppedKey) -> _Start | None:
    """A notification for a file whose import exists: leave a finished one, resume an unfinished one."""
    if job.status in ("DONE", "FAILED"):
        log.info("file %s was imported already (import %s, %s)", drop.key, job.import_id, job.status)
        return None
    log.warning("file %s: import %s is unfinished; sending its chunks again", drop.key, job.import_id)
    return _Start(drop, parts, job, stored=True, resume=True)


def _start(deps: Deps, start: _Start, tenant: Any, metadata: Mapping[str, str]) -> ImportJob:
    job, parts = start.job, start.parts
    if parts.kind is None:
        raise FileFormatError(
            f"the key must be incoming/{{tenantId}}/{{kind}}/{{name}}, with kind one of "
            f"{', '.join(sorted(REGISTRY))}"
        )
    try:
        kind = get_kind(parts.kind)
    except NotFoundError as exc:
        raise FileFormatError(f"{exc.message} (the key's folder after the tenant names the kind)") from None
    if deps.workflow is None or deps.queue is None or deps.payloads is None:
        raise FileFormatError("file imports are not configured on this deployment (no workflow or queue)")
    fmt = file_format(job.source_file["name"] if job.source_file else parts.name)
    if job.source == "upload" and start.stored:
        request, warnings = dict(job.options), list[str]()
    else:
        request, warnings = options_from_metadata(kind, metadata)
    source = dict(job.source_file or {})
    reader = FileReader(_opener(deps, source), fmt, kind)
    survey = reader.survey()
    if survey.options:
        _check_body_fields(kind, survey.options)
        request = {**survey.options, **request}
    if survey.rows == 0:
        raise FileFormatError("the file has no data rows" + (" after its header" if survey.columns else ""))
    if survey.rows > MAX_FILE_ROWS:
        raise FileFormatError(f"the file has {survey.rows:,} data rows; at most {MAX_FILE_ROWS:,} per file")
    if "batch-name" in kind.file_options and not request.get("batch_name"):
        request["batch_name"] = str(source.get("name", ""))[:200]
    try:
        options = kind.options(request, tenant, job.created_at)
    except BulkImportError as exc:
        raise FileFormatError(with_option_names(kind, exc.message)) from None
    calls = check_follow_up(kind, options, deps)
    survey.warnings = [*warnings, *survey.warnings]
    source.update(survey.details())
    source["format"] = fmt
    job.source_file = source
    job.options = _jsonable(request)
    job.counts = Counts(total=survey.rows)
    job.chunks_total = math.ceil(survey.rows / kind.chunk_size)
    if calls is not None and job.calls is None:
        job.calls = CallStage()
    if not start.resume:
        job.updated_at = deps.clock.now()
        deps.imports.save(job)
    if workflow.start_follow_up(deps, job, chunked=True) is None:
        _put_results_of_failure(deps, job)
        return job
    _tag(deps, job)
    sent = _send_chunks(
        deps,
        kind,
        job,
        FileReader(_opener(deps, source), fmt, kind, encoding=survey.encoding, delimiter=survey.delimiter),
        options,
    )
    if sent != job.chunks_total:
        raise RuntimeError(f"file {source.get('key')}: {sent} chunks sent, {job.chunks_total} expected")
    return job


def _send_chunks(deps: Deps, kind: ImportKind[Any], job: ImportJob, reader: FileReader, options: Any) -> int:
    assert deps.queue is not None
    rows = (SplitRow(r.record, r.skip, r.reject) for r in reader.rows())
    batch: list[dict[str, Any]] = []
    sent = 0
    for message in split_file_rows(deps, kind, job, rows, options=options):
        batch.append(message.to_json())
        if len(batch) == 10:
            deps.queue.send(batch)
            sent, batch = sent + len(batch), []
    if batch:
        deps.queue.send(batch)
        sent += len(batch)
    return sent


def _fail(deps: Deps, start: _Start, reason: str) -> ImportJob:
    """Fail a dropped file's import with ``reason`` and write its summary."""
    job = start.job
    now = deps.clock.now()
    job.status, job.error, job.completed_at, job.updated_at = "FAILED", reason, now, now
    log.warning("file %s failed: %s", start.drop.key, reason)
    files = _put_summary(deps, job, summary(job))
    job.files = files
    if start.resume:
        deps.imports.finish(job.tenant_id, job.import_id, "FAILED", now, error=reason, files=files)
    else:
        deps.imports.save(job)
    _tag(deps, job)
    return job


def fail_drop(deps: Deps, drop: FileDrop, reason: str) -> ImportJob | None:
    """Fail the import of a dropped file after an unexpected error (never raises; logs what it cannot do).

    Used by the file-drop handler when handling a file raised something that retrying will not cure, or
    retries ran out: the file must still end with a FAILED import and a summary, not block its queue.
    """
    try:
        parts = parse_key(drop.key)
        if parts.tenant_id is None or deps.files is None:
            return None
        stored = deps.files.describe(drop.key)
        start = _begin(
            deps,
            drop,
            parts,
            {},
            stored.size if stored else 0,
            stored.etag if stored else drop.etag,
            stored.version if stored else drop.version,
        )
        if start is None or deps.tenants.load_config(parts.tenant_id) is None:
            return None
        return _fail(deps, start, reason)
    except Exception:
        log.exception("file %s: could not record its failure (%s)", drop.key, reason)
        return None


def _jsonable(request: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in request.items() if v is not None}


def _tag(deps: Deps, job: ImportJob) -> None:
    source = job.source_file or {}
    if deps.files is None or not source.get("key"):
        return
    try:
        deps.files.tag(source["key"], {"import-id": job.import_id}, version=source.get("version"))
    except Exception:  # a convenience for whoever dropped the file; never a reason to fail it
        log.warning("could not tag %s with its import id %s", source.get("key"), job.import_id, exc_info=True)


# -- result files --------------------------------------------------------------------------------------
def _opener(deps: Deps, source: Mapping[str, Any]) -> Any:
    files = deps.files
    assert files is not None

    def open_file() -> IO[bytes]:
        return files.open(str(source["key"]), version=source.get("version"), etag=source.get("etag"))

    return open_file


def _put_summary(deps: Deps, job: ImportJob, body: dict[str, Any]) -> dict[str, str]:
    assert deps.files is not None
    spool, text = new_spool("utf-8")
    with spool:
        json.dump(body, text, default=str, ensure_ascii=False, indent=2)
        text.flush()
        text.detach()
        spool.seek(0)
        key = result_key(job.tenant_id, job.import_id, SUMMARY)
        deps.files.put(key, spool, "application/json")
    return {"summary": key}


def _error_entries(deps: Deps, job: ImportJob) -> Iterator[dict[str, Any]]:
    cursor: str | None = None
    while True:
        page = deps.imports.list_errors(job.tenant_id, job.import_id, 1000, cursor)
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return


def write_results(deps: Deps, job: ImportJob, now: datetime) -> dict[str, str]:
    """Write ``errors.csv`` and ``summary.json`` of a file import whose rows are all accounted for.

    The file is read again (pinned to the version imported) alongside the import's stored errors. If it
    was replaced or deleted meanwhile, the summary says ``errors.csv`` could not be written.

    Returns
    -------
    dict[str, str]
        ``{"summary": key, "errors": key}``: the object keys of the result files.
    """
    from bulk_import.core.errors import FileChangedError

    assert deps.files is not None
    source = job.source_file or {}
    kind = get_kind(job.kind)
    files: dict[str, str] = {}
    warnings: list[str] = []
    error_rows: int | None = None
    columns = source.get("columns")
    mapped = dict(Layout.of(columns, FieldMap.of(kind)).mapped) if columns else {}
    reader = FileReader(
        _opener(deps, source),
        str(source.get("format")),
        kind,
        encoding=source.get("encoding"),
        delimiter=source.get("delimiter"),
    )
    spool, text = new_spool()
    with spool:
        report = ErrorReport(text, kind, columns, mapped, delimiter=source.get("delimiter") or ",")
        try:
            write_report(report, reader.rows(), grouped_errors(_error_entries(deps, job)))
        except (FileChangedError, FileFormatError) as exc:
            warnings.append(f"errors.csv was not written: the file could not be read again ({exc})")
        else:
            text.flush()
            text.detach()
            spool.seek(0)
            key = result_key(job.tenant_id, job.import_id, ERRORS)
            deps.files.put(key, spool, "text/csv; charset=utf-8")
            files["errors"] = key
            error_rows = report.rows
    job.completed_at = now
    files.update(
        _put_summary(deps, job, summary(job, status="DONE", error_rows=error_rows, warnings=warnings))
    )
    return files


def _put_results_of_failure(deps: Deps, job: ImportJob) -> dict[str, str]:
    files = _put_summary(deps, job, summary(job, status="FAILED"))
    try:
        deps.imports.finish(
            job.tenant_id, job.import_id, "FAILED", deps.clock.now(), error=job.error, files=files
        )
    except Exception:
        log.exception("import %s: could not record its summary", job.import_id)
    return files


def write_failure_summary(deps: Deps, job: ImportJob, reason: str) -> dict[str, str]:
    """``summary.json`` of a file import that failed after it started (a workflow step failed for good)."""
    job.status, job.error = "FAILED", reason
    job.completed_at = deps.clock.now()
    return _put_summary(deps, job, summary(job, status="FAILED"))


def download_links(deps: Deps, job: ImportJob) -> dict[str, str]:
    """Presigned GET URLs of an import's result files (``GET /v1/imports/{id}``)."""
    if deps.files is None or not job.files:
        return {}
    stem = str((job.source_file or {}).get("name") or job.import_id).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    names = {"summary": f"{stem}.summary.json", "errors": f"{stem}.errors.csv"}
    return {
        name: deps.files.download_url(key, DOWNLOAD_EXPIRES_SECONDS, names.get(name))
        for name, key in sorted(job.files.items())
    }
