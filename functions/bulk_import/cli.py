"""``bulk-import``: serve the local stack, load seed files, dry-run a file, run the demo."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any


class SeedFileError(Exception):
    """A seed file that cannot be loaded; the message is one line naming the file and the problem."""


def read_seed_file(path: Path) -> dict[str, Any]:
    """Read and check a seed file before anything starts.

    Raises
    ------
    SeedFileError
        When the file is missing, unreadable, not JSON or not a valid seed document.
    """
    from pydantic import ValidationError

    from bulk_import.adapters.seed import parse_seed
    from bulk_import.core.errors import BulkImportError

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SeedFileError(f"seed file {path}: no such file") from None
    except IsADirectoryError:
        raise SeedFileError(f"seed file {path}: is a directory") from None
    except UnicodeDecodeError:
        raise SeedFileError(f"seed file {path}: not UTF-8 text") from None
    except OSError as exc:
        raise SeedFileError(f"seed file {path}: cannot be read ({exc.strerror or exc})") from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise SeedFileError(f"seed file {path}: not JSON ({exc})") from None
    try:
        parse_seed(document)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc']) or 'document'}: {e['msg']}" for e in exc.errors()]
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        raise SeedFileError(f"seed file {path}: not a seed file: {'; '.join(problems[:3])}{more}") from None
    except BulkImportError as exc:
        raise SeedFileError(f"seed file {path}: {exc.message}") from None
    return dict(document)


def _serve(args: argparse.Namespace) -> int:
    """Serve the local stack until interrupted: exit 0 on Ctrl-C or SIGTERM, 2 when it cannot start."""
    import signal

    from bulk_import.local.stack import LocalStack, PortUnavailableError

    paths = [Path(args.seed)] if args.seed else []
    if args.demo:
        demo = _default_seed()
        if demo is None:
            print(
                "bulk-import serve: --demo needs events/seed/demo-seed.json (run it in the checkout)",
                file=sys.stderr,
            )
            return 2
        paths.append(demo)
    try:
        seeds = [read_seed_file(path) for path in paths]
    except SeedFileError as exc:
        print(f"bulk-import serve: {exc}", file=sys.stderr)
        return 2
    if not any(seed.get("tenants") for seed in seeds):
        print(
            "bulk-import serve: warning: no tenant is loaded, so every API key is refused (401); "
            "pass --seed FILE or --demo",
            file=sys.stderr,
            flush=True,
        )

    def _terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    stack = LocalStack(port=args.port, moto_port=args.moto_port, seeds=seeds, cors_origins=args.cors_origin)
    try:
        stack.start()
    except PortUnavailableError as exc:
        option = "--port" if exc.what == "API" else "--moto-port"
        hint = f" (choose another with {option})" if exc.in_use else ""
        print(f"bulk-import serve: {exc.strerror}{hint}", file=sys.stderr)
        return 2
    except Exception as exc:  # e.g. a seed that is valid but that storage refuses: one line, not a traceback
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        print(f"bulk-import serve: cannot start: {reason}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
    try:
        for path, counts in zip(paths, stack.seed_counts, strict=True):
            print(f"seed {path}: {counts}")
        print(f"Bulk import API on {stack.url} (docs: {stack.url}/docs)")
        print(f"AWS emulation on {stack.endpoint_url} (aws --endpoint-url {stack.endpoint_url} ...)")
        print(f"CallRequested events also land in {stack.calls_queue_url}")
        drops = f"s3://{stack.bucket_name}/incoming/{{tenantId}}/{{kind}}/"
        print(f"Files put under {drops} are imported by themselves")
        print("Ctrl-C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def _seed(args: argparse.Namespace) -> int:
    import boto3

    from bulk_import.adapters.batch_writer import BatchWriter
    from bulk_import.adapters.dynamo_records import DynamoRecordStore
    from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
    from bulk_import.adapters.seed import load_seed
    from bulk_import.settings import get_settings

    settings = get_settings()
    config_table = args.config_table or settings.config_table
    records_table = args.records_table or settings.records_table
    if not config_table or not records_table:
        print(
            "set CONFIG_TABLE and RECORDS_TABLE (the stack's outputs) or pass --config-table/--records-table",
            file=sys.stderr,
        )
        return 2
    ddb = boto3.client("dynamodb", endpoint_url=args.endpoint_url, region_name=settings.region)
    writer = BatchWriter(ddb)
    counts = load_seed(
        json.loads(Path(args.file).read_text(encoding="utf-8")),
        DynamoTenantDirectory(ddb, config_table),
        DynamoRecordStore(ddb, records_table, writer),
    )
    print(json.dumps(counts))
    return 0


def _default_seed() -> Path | None:
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "events" / "seed" / "demo-seed.json"
        if candidate.is_file():
            return candidate
    return None


def _validate(args: argparse.Namespace) -> int:
    """A dry run of a file: exit 0 when every row would be imported, 1 when some would fail, 2 when the
    file cannot be imported at all (or the command is wrong)."""
    from bulk_import.adapters.seed import SeedLms, parse_seed, tenant_from_seed
    from bulk_import.core.errors import BulkImportError
    from bulk_import.core.tenants import TenantConfig
    from bulk_import.kinds import get_kind
    from bulk_import.usecases.dry_run import dry_run

    path = Path(args.file)
    if not path.is_file():
        print(f"{path}: no such file", file=sys.stderr)
        return 2
    try:
        kind = get_kind(args.kind)
    except BulkImportError as exc:
        print(exc.message, file=sys.stderr)
        return 2
    metadata: dict[str, str] = {}
    for option in args.option:
        name, sep, value = option.partition("=")
        if not sep:
            print(f"--option {option}: write NAME=VALUE, e.g. campaign-id=camp-loans", file=sys.stderr)
            return 2
        metadata[name.strip().lower()] = value
    seed_path = Path(args.seed) if args.seed else _default_seed()
    lms = None
    if seed_path is not None:
        try:
            seed = parse_seed(json.loads(seed_path.read_text(encoding="utf-8")))
        except (OSError, ValueError, BulkImportError) as exc:
            print(f"{seed_path}: not a seed file ({exc})", file=sys.stderr)
            return 2
        tenants = {t.id: t for t in seed.tenants}
        chosen = tenants.get(args.tenant) if args.tenant else next(iter(tenants.values()), None)
        if chosen is None:
            print(
                f"{seed_path}: no tenant {args.tenant or ''} (tenants: {', '.join(tenants)})", file=sys.stderr
            )
            return 2
        tenant = tenant_from_seed(chosen)
        lms = SeedLms(seed)
    else:
        tenant = TenantConfig(tenant_id=args.tenant or "local")
    out = Path(args.out) if args.out else path.with_name(f"{path.stem}.errors.csv")
    handle: list[Any] = []

    def open_report(_: object) -> Any:
        handle.append(out.open("w", encoding="utf-8-sig", newline=""))
        return handle[0]

    try:
        result = dry_run(
            lambda: path.open("rb"),
            path.name,
            kind,
            tenant,
            metadata=metadata,
            lms=lms,
            report_to=open_report,
        )
    finally:
        for h in handle:
            h.close()
    print(f"{path.name} as {kind.name} for tenant {tenant.tenant_id} (dry run: nothing is stored)")
    survey = result.survey
    if survey is not None:
        header = f" (header on row {survey.header_row})" if survey.header_row else ""
        print(f"  read as {survey.describe()}{header}")
        if result.mapped:
            print("  columns: " + ", ".join(f"{col} -> {name}" for col, name in result.mapped.items()))
        for warning in survey.warnings:
            print(f"  warning: {warning}")
    if result.error is not None:
        print(f"  FAILED: {result.error}")
        return 2
    c = result.counts
    print(
        f"  rows: {c['total']:,} total, {c['valid']:,} valid, {c['invalid']:,} invalid, "
        f"{c['skipped']:,} skipped"
    )
    for index, messages in result.samples:
        print(f"    row {index}: {' | '.join(messages)}")
    if result.error_rows > len(result.samples):
        print(f"    … and {result.error_rows - len(result.samples):,} more")
    print(f"  error report: {out} ({result.error_rows:,} row{'s' if result.error_rows != 1 else ''})")
    return 1 if c["invalid"] else 0


def _demo(args: argparse.Namespace) -> int:
    from bulk_import.local.demo import run_demo

    return run_demo()


def _port(text: str) -> int:
    """A TCP port number for argparse (0: a free one)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (0 to 65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="bulk-import", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the whole stack locally on embedded AWS emulation")
    serve.add_argument("--port", type=_port, default=3000)
    serve.add_argument("--moto-port", type=_port, default=0, help="port of the AWS emulation (default: free)")
    serve.add_argument("--seed", help="seed file to load")
    serve.add_argument("--demo", action="store_true", help="load the demo seed")
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin, besides the API's own, allowed to PUT to upload URLs (repeatable)",
    )
    serve.set_defaults(func=_serve)
    seed = sub.add_parser("seed", help="load a seed file into DynamoDB (real AWS or --endpoint-url)")
    seed.add_argument("file")
    seed.add_argument("--endpoint-url")
    seed.add_argument("--config-table")
    seed.add_argument("--records-table")
    seed.set_defaults(func=_seed)
    validate = sub.add_parser(
        "validate",
        help="dry-run a file with the stack's rules: print a summary, write the error report, store nothing",
    )
    validate.add_argument("file")
    validate.add_argument("--kind", required=True, help="campaign-customers, debts, customers or payments")
    validate.add_argument(
        "--seed", help="seed file with the tenant's configuration (default: the demo seed of the checkout)"
    )
    validate.add_argument("--tenant", help="tenant of the seed file (default: its first)")
    validate.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an import option, named like the object metadata of a drop (campaign-id=camp-loans)",
    )
    validate.add_argument("--out", help="where to write the error report (default: FILE.errors.csv)")
    validate.set_defaults(func=_validate)
    demo = sub.add_parser("demo", help="start the local stack, run sample imports, print a summary, stop")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bulk-import`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
