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
from bulk_import.core.ports import Deps, LmsClient
from bulk_import.core.tenants import TenantConfig
from bulk_import.engine.files.columns import FieldMap, Layout
from bulk_import.engine.files.errors import FileFormatError
from bulk_import.engine.files.options import check_body_fields, options_from_metadata, with_option_names
from bulk_import.engine.files.readers import Opener, file_format
from bulk_import.engine.files.results import ErrorReport
from bulk_import.engine.files.rows import FileReader, FileRow, FileSurvey
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
    lms: LmsClient | None = None,
    report_to: Callable[[FileSurvey], IO[str]] | None = None,
    now: datetime | None = None,
    samples: int = 10,
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
    lms
        LMS records for customers sent with ``sync`` (None: such rows fail saying no LMS is connected).
    report_to
        Opens the text stream ``errors.csv`` goes to, once the file is known readable (None: no report).
    """
    result = DryRunResult(name=name)
    now = now or datetime.now(UTC)
    try:
        fmt = file_format(name)
        request, warnings = options_from_metadata(kind, metadata or {})
        reader = FileReader(opener, fmt, kind)
        survey = reader.survey()
        survey.warnings = [*warnings, *survey.warnings]
        result.survey = survey
        if survey.options:
            check_body_fields(kind, survey.options)
            request = {**survey.options, **request}
        if survey.rows == 0:
            raise FileFormatError("the file has no data rows")
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
    deps = Deps(
        tenants=cast(Any, _Unused()),
        records=cast(Any, _Unused()),
        imports=cast(Any, _Unused()),
        clock=cast(Any, _Unused()),
        new_id=lambda: "dry-run",
        lms=lms,
    )
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
