"""File imports: a file put at ``incoming/{tenantId}/{kind}/{name}`` becomes an import of that kind.

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

Dry runs: the file of an upload created with ``"dryRun": true`` is read and validated here, inline, with
the rules and tenant look-ups of a real import (``usecases.dry_run``, the logic behind
``bulk-import validate``, over read-only ports): no record is stored, no chunk sent, no workflow started
and no call requested. Its per-row errors are kept with the import (``GET /v1/imports/{id}/errors``), its
``errors.csv`` and ``summary.json`` written where a real import's are, and it ends ``DONE`` with the
counts a real import would have.

Broken files never raise: their import is FAILED with the reason and ``summary.json`` says why. A file
whose tenant does not exist cannot have an import (imports live under their tenant): the failure is
logged and ``summary.json`` written under ``results/{tenantId}/{importId}/`` all the same.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bulk_import.core.errors import BulkImportError, NotFoundError
from bulk_import.core.model import CallStage, Counts, ImportJob
from bulk_import.core.ports import Deps
from bulk_import.engine import workflow
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.options import (
    UPLOADED_NAME,
    DroppedKey,
    FileDrop,
    drop_import_id,
    merge_body_options,
    options_from_metadata,
    parse_key,
    with_option_names,
)
from bulk_import.engine.files.outputs import (
    put_failure_files,
    put_results_of_failure,
    put_summary,
    source_opener,
)
from bulk_import.engine.files.readers import file_format
from bulk_import.engine.files.results import (
    summary,
)
from bulk_import.engine.files.rows import FileReader
from bulk_import.engine.jobs import SplitRow, split_file_rows
from bulk_import.engine.pipeline import check_follow_up
from bulk_import.kinds import REGISTRY, get_kind
from bulk_import.kinds.base import ImportKind
from bulk_import.usecases.dry_run import dry_run_upload
from bulk_import.usecases.uploads import is_dry_run

log = logging.getLogger(__name__)

#: Rows a file may hold (the import's chunk markers must fit one DynamoDB item: 4,000 chunks of 250).
MAX_FILE_ROWS = 1_000_000


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
        put_summary(deps, job, summary(job))
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
    uploaded = UPLOADED_NAME.match(parts.name.rsplit("/", 1)[-1])
    if uploaded is not None:
        job = deps.imports.get(parts.tenant_id, uploaded.group(1))
        if job is not None and job.source == "upload" and (job.source_file or {}).get("key") == drop.key:
            if job.status in FINISHED or not (job.source_file or {}).get("awaitingUpload"):
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


#: An import in one of these states is left alone by a file that arrives (late, or notified again): a
#: cancelled upload is not imported when its file comes after the cancel.
FINISHED = frozenset({"DONE", "FAILED", "CANCELLED"})


def _again(job: ImportJob, drop: FileDrop, parts: DroppedKey) -> _Start | None:
    """A notification for a file whose import exists: leave a finished one, resume an unfinished one."""
    if job.status in FINISHED:
        log.info("file %s: its import %s is %s already", drop.key, job.import_id, job.status)
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
    if is_dry_run(job) and start.stored:
        job = dry_run_upload(deps, job, kind, tenant, MAX_FILE_ROWS)
        _tag(deps, job)
        return job
    if deps.workflow is None or deps.queue is None or deps.payloads is None:
        raise FileFormatError("file imports are not configured on this deployment (no workflow or queue)")
    fmt = file_format(job.source_file["name"] if job.source_file else parts.name)
    if job.source == "upload" and start.stored:
        request, warnings = dict(job.options), list[str]()
    else:
        request, warnings = options_from_metadata(kind, metadata)
    source = dict(job.source_file or {})
    reader = FileReader(source_opener(deps, source), fmt, kind)
    survey = reader.survey()
    if survey.options:
        # The file's own body options and the upload's: one given by both with two values fails the file.
        request = merge_body_options(kind, survey.options, request)
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
        put_results_of_failure(deps, job)
        return job
    _tag(deps, job)
    sent = _send_chunks(
        deps,
        kind,
        job,
        FileReader(
            source_opener(deps, source), fmt, kind, encoding=survey.encoding, delimiter=survey.delimiter
        ),
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
    files = put_failure_files(deps, job)
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
