"""The bulk-import command: serve the local stack, load seed files, check or import a file, run the demo.

Every mistake a person can make (a missing file, a wrong option, an API that cannot be reached) ends the
command with exit status 2 and one line on standard error, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, NoReturn

from bulk_import.cli_text import port_number


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

    # Ctrl-C and SIGTERM stop it, whatever the parent set: a shell script's background job starts with
    # SIGINT ignored, and Python then keeps it ignored, so Ctrl-C sent to it would do nothing.
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    # The calls queue is printed for the person to read: the stack leaves its events there.
    stack = LocalStack(
        port=args.port,
        moto_port=args.moto_port,
        seeds=seeds,
        cors_origins=args.cors_origin,
        keep_call_events=True,
    )
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
    from bulk_import.cli_text import seed_counts_line, seed_key_lines

    try:
        for path, counts in zip(paths, stack.seed_counts, strict=True):
            print(f"seed {path}: {seed_counts_line(counts)}")
        if args.demo:  # the demo's keys are no secret (the README gives them): the person needs one
            for line in seed_key_lines(seeds[-1]):
                print(f"  {line}")
        print(f"Bulk import API on {stack.url} (docs: {stack.url}/docs, import console: {stack.url}/console)")
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
    """Load a seed file into DynamoDB: exit 0 once stored, 2 when the file or the tables are wrong."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from bulk_import.adapters.batch_writer import BatchWriter
    from bulk_import.adapters.dynamo_records import DynamoRecordStore
    from bulk_import.adapters.dynamo_tenants import DynamoTenantDirectory
    from bulk_import.adapters.seed import load_seed
    from bulk_import.cli_text import seed_counts_line
    from bulk_import.settings import get_settings

    path = Path(args.file)
    try:
        document = read_seed_file(path)
    except SeedFileError as exc:
        print(f"bulk-import seed: {exc}", file=sys.stderr)
        return 2
    settings = get_settings()
    config_table = args.config_table or settings.config_table
    records_table = args.records_table or settings.records_table
    if not config_table or not records_table:
        print(
            "bulk-import seed: set CONFIG_TABLE and RECORDS_TABLE (the stack's outputs) "
            "or pass --config-table and --records-table",
            file=sys.stderr,
        )
        return 2
    try:
        ddb = boto3.client("dynamodb", endpoint_url=args.endpoint_url, region_name=settings.region)
        counts = load_seed(
            document,
            DynamoTenantDirectory(ddb, config_table),
            DynamoRecordStore(ddb, records_table, BatchWriter(ddb)),
        )
    except (BotoCoreError, ClientError, ValueError) as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        print(f"bulk-import seed: cannot store {path}: {reason}", file=sys.stderr)
        return 2
    print(f"seed {path}: {seed_counts_line(counts)}")
    return 0


def _default_seed() -> Path | None:
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "events" / "seed" / "demo-seed.json"
        if candidate.is_file():
            return candidate
    return None


def _demo(args: argparse.Namespace) -> int:
    from bulk_import.local.demo import run_demo

    return run_demo()


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake in the command said in one line (and where to read more)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    from bulk_import import cli_import, cli_validate

    parser = _Parser(
        prog="bulk-import",
        description="Serve the bulk import stack on this machine, load seed files, check a file or import "
        "it through the API, and run the demo.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=_Parser)
    serve = sub.add_parser(
        "serve",
        help="run the whole stack locally on embedded AWS emulation",
        description="Run the whole stack on this machine (API, workers, file drops, workflow) on embedded "
        "AWS emulation, until Ctrl-C. The import console is at /console.",
    )
    serve.add_argument(
        "--port", type=port_number, default=3000, help="port of the API on 127.0.0.1 (default: 3000)"
    )
    serve.add_argument(
        "--moto-port", type=port_number, default=0, help="port of the AWS emulation (default: 0, a free one)"
    )
    serve.add_argument("--seed", metavar="FILE", help="a seed file to load (default: none)")
    serve.add_argument("--demo", action="store_true", help="load the demo seed (default: off)")
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="a browser origin, besides the API's own, allowed to PUT to upload URLs "
        "(repeatable; default: none)",
    )
    serve.set_defaults(func=_serve)
    seed = sub.add_parser(
        "seed",
        help="load a seed file into DynamoDB (real AWS or --endpoint-url)",
        description="Load a seed file's tenants, keys and configuration into the stack's DynamoDB tables, "
        "on AWS or any endpoint. Loading the same file again gives the same state.",
    )
    seed.add_argument("file", help="the seed file (JSON)")
    seed.add_argument(
        "--endpoint-url", metavar="URL", help="a DynamoDB endpoint (default: AWS, from the environment)"
    )
    seed.add_argument(
        "--config-table", metavar="NAME", help="the configuration table (default: $CONFIG_TABLE)"
    )
    seed.add_argument("--records-table", metavar="NAME", help="the records table (default: $RECORDS_TABLE)")
    seed.set_defaults(func=_seed)
    cli_validate.add_parser(sub, _default_seed)
    cli_import.add_parser(sub)
    from bulk_import.local import webhooks as local_webhooks  # bulk-import webhooks listen

    local_webhooks.add_parser(sub)
    demo = sub.add_parser(
        "demo",
        help="start the local stack, run sample imports, print a summary, stop",
        description="Start the local stack, load the demo seed, run a sample import of every kind, print "
        "what happened, and stop.",
    )
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the bulk-import command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print(f"bulk-import {args.command}: interrupted", file=sys.stderr)
        return 130
    except (
        Exception
    ) as exc:  # a failure nobody foresaw still ends in one line; set BULK_IMPORT_DEBUG for more
        if os.environ.get("BULK_IMPORT_DEBUG"):
            raise
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        print(
            f"bulk-import {args.command}: {reason} (set BULK_IMPORT_DEBUG=1 for the details)", file=sys.stderr
        )
        return 2


if __name__ == "__main__":
    sys.exit(main())
