"""``bulk-import validate``: a dry run of a file on this machine, with the stack's rules, storing nothing.

Exit status: 0 when every row would be imported, 1 when some would fail, 2 when the file cannot be
imported at all or the command is wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

from bulk_import.cli_http import CommandError
from bulk_import.cli_output import Reporter, Update, visible
from bulk_import.cli_text import counts_line, more_line, plural

#: Files with more data rows than this get a progress bar (smaller ones are done in a blink).
PROGRESS_ABOVE = 10_000


def add_parser(sub: Any, default_seed: Callable[[], Path | None]) -> None:
    """Register ``validate`` on the subcommands of the ``bulk-import`` parser."""
    from bulk_import.cli_import import add_file_arguments

    command = sub.add_parser(
        "validate",
        help="dry-run a file with the stack's rules: print a summary, write the error report, store nothing",
        description=(
            "Read and validate a file on this machine exactly as an import of it would, with the tenant's "
            "configuration from a seed file; print a summary and write the error report. Nothing is stored "
            "and no service is called. Exit status: 0 every row would be imported, 1 some would fail, 2 the "
            "file cannot be imported at all or the command is wrong."
        ),
    )
    add_file_arguments(command, "the file to check")
    command.add_argument(
        "--seed",
        metavar="FILE",
        help="seed file with the tenant's configuration "
        "(default: events/seed/demo-seed.json of the checkout)",
    )
    command.add_argument("--tenant", help="the tenant of the seed file (default: its first tenant)")
    command.add_argument(
        "--errors-out",
        "--out",
        dest="errors_out",
        metavar="PATH",
        help="where to write the error report (default: FILE.errors.csv beside the file)",
    )
    command.set_defaults(func=lambda args: run(args, default_seed()))


def run(args: argparse.Namespace, default_seed: Path | None, reporter: Reporter | None = None) -> int:
    """Run ``bulk-import validate``; the exit status."""
    out = reporter or Reporter()
    try:
        return _run(args, default_seed, out)
    except CommandError as exc:
        print(f"bulk-import validate: {visible(str(exc))}", file=sys.stderr, flush=True)
        return 2


def _tenant(args: argparse.Namespace, default_seed: Path | None) -> tuple[Any, Any]:
    """The tenant's configuration and the LMS records of the seed file (or an empty tenant)."""
    from bulk_import.adapters.seed import SeedLms, parse_seed, tenant_from_seed
    from bulk_import.cli import SeedFileError, read_seed_file
    from bulk_import.core.tenants import TenantConfig

    seed_path = Path(args.seed) if args.seed else default_seed
    if seed_path is None:
        return TenantConfig(tenant_id=args.tenant or "local"), None
    try:
        seed = parse_seed(read_seed_file(seed_path))
    except SeedFileError as exc:
        raise CommandError(str(exc)) from None
    tenants = {t.id: t for t in seed.tenants}
    chosen = tenants.get(args.tenant) if args.tenant else next(iter(tenants.values()), None)
    if chosen is None:
        known = ", ".join(tenants) or "none"
        raise CommandError(f"seed file {seed_path}: no tenant {args.tenant or ''} (tenants: {known})")
    return tenant_from_seed(chosen), SeedLms(seed)


def _run(args: argparse.Namespace, default_seed: Path | None, out: Reporter) -> int:
    from bulk_import.cli_import import _checked_file, parse_options
    from bulk_import.core.errors import BulkImportError
    from bulk_import.kinds import get_kind
    from bulk_import.usecases.dry_run import dry_run

    path = _checked_file(args.file)
    try:
        kind = get_kind(args.kind)
    except BulkImportError as exc:
        raise CommandError(f"--kind {args.kind!r}: {exc.message}") from None
    metadata = parse_options(args.option)
    tenant, lms = _tenant(args, default_seed)
    target = Path(args.errors_out) if args.errors_out else path.with_name(f"{path.stem}.errors.csv")
    with ExitStack() as stack:
        progress = _Progress(out, stack, path.name)

        def open_report(survey: Any) -> IO[str]:
            progress.start(survey.rows)
            try:
                return stack.enter_context(target.open("w", encoding="utf-8-sig", newline=""))
            except OSError as exc:
                raise CommandError(f"cannot write the error report {target}: {exc.strerror or exc}") from None

        result = dry_run(
            lambda: path.open("rb"),
            path.name,
            kind,
            tenant,
            metadata=metadata,
            lms=lms,
            report_to=open_report,
            on_outcomes=progress.add,
        )
    _print(out, result, path, kind.name, tenant.tenant_id, target)
    if result.error is not None:
        return 2
    return 1 if result.counts["invalid"] else 0


class _Progress:
    """A bar over the rows of a large file, from when its size is known to the end of the dry run."""

    def __init__(self, out: Reporter, stack: ExitStack, name: str) -> None:
        self.out, self.stack, self.name = out, stack, name
        self.done = 0
        self.update: Update | None = None

    def start(self, rows: int) -> None:
        if rows > PROGRESS_ABOVE and self.out.terminal:
            self.update = self.stack.enter_context(self.out.bar(f"validating {self.name}", rows, unit="rows"))

    def add(self, outcomes: list[Any]) -> None:
        self.done += len(outcomes)
        if self.update is not None:
            self.update(self.done, None)


def _print(out: Reporter, result: Any, path: Path, kind: str, tenant: str, target: Path) -> None:
    out.line(f"{path.name} as {kind} for tenant {tenant} (dry run: nothing is stored)")
    survey = result.survey
    if survey is not None:
        header = f" (header on row {survey.header_row})" if survey.header_row else ""
        out.line(f"  read as {survey.describe()}{header}")
        if result.mapped:
            out.line("  columns: " + ", ".join(f"{col} -> {name}" for col, name in result.mapped.items()))
        for warning in survey.warnings:
            out.line(f"  warning: {warning}")
    if result.error is not None:
        out.line(f"  FAILED: {result.error}")
        return
    c = result.counts
    out.line(f"  rows: {counts_line(c)}")
    for index, messages in result.samples:
        out.line(f"    row {index}: {' | '.join(messages)}")
    cut = more_line(len(result.samples), result.error_rows, f"see {target.name}")
    if cut:
        out.line(f"    {cut}")
    out.line(f"  error report: {target} ({plural(result.error_rows, 'row')})")
