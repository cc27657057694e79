"""``bulk-import validate``: a dry run of a file with the rules of the stack, storing nothing.

The file is read exactly as a file drop reads it (``FileReader``), each row validated by its kind with
the tenant's configuration (from a seed file), duplicates found across the whole file, and the error
report written as ``errors.csv`` is. Nothing is stored and no AWS service is called: kinds that compare
with stored records (a payment that is no longer pending) can only be checked on the stack.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, cast

from bulk_import.core.errors import BulkImportError
from bulk_import.core.model import Counts, ImportJob, RowOutcome
from bulk_import.core.ports import Deps, LmsClient
from bulk_import.core.tenants import TenantConfig
from bulk_import.engine.files.columns import FieldMap, Layout
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.options import check_body_fields, options_from_metadata, with_option_names
from bulk_import.engine.files.outputs import put_summary, source_opener
from bulk_import.engine.files.readers import Opener, file_format
from bulk_import.engine.files.results import ERRORS, ErrorReport, new_spool, result_key, summary
from bulk_import.engine.files.rows import FileReader, FileRow, FileSurvey
from bulk_import.engine.pipeline import persist, read_existing
from bulk_import.kinds.base import ImportKind
from bulk_import.kinds.validation import validate_rows

#: Rows validated together (as a chunk worker would).
BATCH = 250


@dataclass
class DryRunResult:
    """What a dry run found: how the file reads, its counts, and the first errors."""

    name: str
    survey: FileSurvey | None = None
    #: Why the file cannot be imported at all (its import would be FAILED with this reason).
    error: str | None = None
    counts: dict[str, int] = field(
        default_factory=lambda: {"total": 0, "valid": 0, "invalid": 0, "skipped": 0}
    )
    #: The first rows with errors: ``(index, [messages])``.
    samples: list[tuple[int, list[str]]] = field(default_factory=list)
    error_rows: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    mapped: dict[str, str] = field(default_factory=dict)
    #: The counters an import of the file would end with (``succeeded``: the rows it would store).
    totals: Counts = field(default_factory=Counts)


class _Unused:
    """Stands for the ports a dry run never touches (it stores nothing)."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"a dry run stores nothing (it tried {name})")


def dry_run(
    opener: Opener,
    name: str,
    kind: ImportKind[Any],
    tenant: TenantConfig,
    *,
    metadata: Mapping[str, str] | None = None,
    request: Mapping[str, Any] | None = None,
    lms: LmsClient | None = None,
    deps: Deps | None = None,
    report_to: Callable[[FileSurvey], IO[str]] | None = None,
    on_outcomes: Callable[[list[RowOutcome]], None] | None = None,
    now: datetime | None = None,
    samples: int = 10,
    max_rows: int | None = None,
) -> DryRunResult:
    """Read and validate a whole file as its drop would be; write its error report.

    Parameters
    ----------
    opener, name
        Opens the file's bytes; its name (the extension gives the format).
    kind, tenant
        The import kind and the tenant whose configuration the rules use.
    metadata
        The options a drop would carry as object metadata (``campaign-id``…).
    request
        The options already read (an upload's, as ``upload_options`` gives them); ``metadata`` is then
        not read.
    lms
        LMS records for customers sent with ``sync`` (None: such rows fail saying no LMS is connected).
    deps
        Read-only ports of the stack (``dry_runs.read_only``): stored records are read and compared with
        as a real import does, and the LMS is ``deps.lms``. None: nothing is read (``lms`` is used).
    report_to
        Opens the text stream ``errors.csv`` goes to, once the file is known readable (None: no report).
    on_outcomes
        Called with each batch's outcomes once judged (the stack keeps the per-row errors).
    max_rows
        The most data rows a file may hold (more: the file fails as a whole, as its drop would).
    """
    result = DryRunResult(name=name)
    now = now or datetime.now(UTC)
    try:
        fmt = file_format(name)
        if request is not None:
            request, warnings = dict(request), list[str]()
        else:
            request, warnings = options_from_metadata(kind, metadata or {})
        reader = FileReader(opener, fmt, kind)
        survey = reader.survey()
        survey.warnings = [*warnings, *survey.warnings]
        result.survey = survey
        if survey.options:
            check_body_fields(kind, survey.options)
            request = {**survey.options, **request}
        if survey.rows == 0:
            after = " after its header" if survey.columns else ""
            raise FileFormatError("the file has no data rows" + after)
        if max_rows is not None and survey.rows > max_rows:
            raise FileFormatError(f"the file has {survey.rows:,} data rows; at most {max_rows:,} per file")
        if "batch-name" in kind.file_options and not request.get("batch_name"):
            request["batch_name"] = name[:200]
        try:
            options = kind.options(request, tenant, now)
        except BulkImportError as exc:
            raise FileFormatError(with_option_names(kind, exc.message)) from None
    except (FileFormatError, BulkImportError) as exc:
        result.error = exc.message
        return result
    result.options = request
    mapped: dict[int, Any] = {}
    if survey.columns is not None:
        layout = Layout.of(survey.columns, FieldMap.of(kind))
        mapped = dict(layout.mapped)
        result.mapped = {survey.columns[p].strip(): spec.name for p, spec in layout.mapped}
    report = None
    if report_to is not None:
        report = ErrorReport(
            report_to(survey), kind, survey.columns, mapped, delimiter=survey.delimiter or ","
        )
    if deps is None:
        deps = Deps(
            tenants=cast(Any, _Unused()),
            records=cast(Any, _Unused()),
            imports=cast(Any, _Unused()),
            clock=cast(Any, _Unused()),
            new_id=lambda: "dry-run",
            lms=lms,
        )
        store = None
    else:
        store = deps.records
    seen: dict[str, int] = {}
    rows = FileReader(opener, fmt, kind, encoding=survey.encoding, delimiter=survey.delimiter).rows()
    batch: list[FileRow] = []

    def flush() -> None:
        raws = [
            r.record if r.skip or r.reject else kind.before_split(r.record, r.index, "dry-run") for r in batch
        ]
        prepared = kind.prepare(raws, options, tenant, deps)
        outcomes = validate_rows(
            kind,
            raws,
            prepared,
            tenant,
            start_index=batch[0].index,
            seen=seen,
            skipped={r.index: r.skip for r in batch if r.skip},
            rejected={r.index: r.reject for r in batch if r.reject},
        )
        if store is not None:
            existing = read_existing(kind, outcomes, store, tenant.tenant_id)
            persist(kind, outcomes, prepared, store, tenant.tenant_id, "dry-run", existing=existing)
        result.totals.add(Counts.of(outcomes))
        if on_outcomes is not None:
            on_outcomes(outcomes)
        for row, outcome in zip(batch, outcomes, strict=True):
            result.counts["total"] += 1
            if outcome.status == "skipped":
                result.counts["skipped"] += 1
            elif outcome.errors:
                result.counts["invalid"] += 1
                messages = [e.message for e in outcome.errors]
                result.error_rows += 1
                if len(result.samples) < samples:
                    result.samples.append((row.index, messages))
                if report is not None:
                    report.add(row, messages)
            else:
                result.counts["valid"] += 1

    try:
        for row in rows:
            batch.append(row)
            if len(batch) >= BATCH:
                flush()
                batch = []
        if batch:
            flush()
    except (FileFormatError, BulkImportError) as exc:
        result.error = exc.message
    return result


def dry_run_upload(
    deps: Deps, job: ImportJob, kind: ImportKind[Any], tenant: TenantConfig, max_rows: int
) -> ImportJob:
    """Judge the arrived file of a dry run's upload and finish its import ``DONE``, storing no record.

    The file is read and validated by ``dry_run`` over read-only ports (``dry_runs.read_only``); its
    per-row errors are kept with the import, ``errors.csv`` and ``summary.json`` (``"dryRun": true``)
    written under ``results/{tenantId}/{importId}/`` as a real import's are, and the import saved with the
    counts a real import would end with. No chunk is sent, no workflow started and no call requested.

    Raises
    ------
    FileFormatError
        The file cannot be imported at all (its import is failed with the reason, as a real one is).
    """
    from bulk_import.usecases.dry_runs import read_only

    assert deps.files is not None
    source = dict(job.source_file or {})
    request = {k: v for k, v in job.options.items() if k != "dryRun"}
    spool, text = new_spool()
    with spool:
        result = dry_run(
            source_opener(deps, source),
            str(source.get("name") or ""),
            kind,
            tenant,
            request=request,
            deps=read_only(deps),
            report_to=lambda _survey: text,
            on_outcomes=lambda outcomes: deps.imports.add_rows(job, outcomes),
            now=job.created_at,
            max_rows=max_rows,
        )
        if result.error is not None or result.survey is None:
            if result.survey is not None:
                source.update(result.survey.details())
                job.source_file = source
            raise FileFormatError(result.error or "the file could not be read")
        text.flush()
        text.detach()
        spool.seek(0)
        errors_key = result_key(job.tenant_id, job.import_id, ERRORS)
        deps.files.put(errors_key, spool, "text/csv; charset=utf-8")
    source.update(result.survey.details())
    source["format"] = file_format(str(source.get("name") or ""))
    now = deps.clock.now()
    job.source_file = source
    job.options = {**{k: v for k, v in result.options.items() if v is not None}, "dryRun": True}
    job.counts = result.totals
    job.status, job.completed_at, job.updated_at = "DONE", now, now
    body = summary(job, status="DONE", error_rows=result.error_rows)
    body["dryRun"] = True
    job.files = {"errors": errors_key, **put_summary(deps, job, body)}
    deps.imports.save(job)
    return job
