"""``bulk-import``: serve the local stack, load seed files, run the demo."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def _serve(args: argparse.Namespace) -> int:
    from bulk_import.local.demo import events_dir
    from bulk_import.local.stack import LocalStack

    stack = LocalStack(port=args.port, moto_port=args.moto_port).start()
    try:
        if args.seed:
            print(f"seed {args.seed}: {stack.load_seed(args.seed)}")
        if args.demo:
            print(f"demo seed: {stack.load_seed(events_dir() / 'seed' / 'demo-seed.json')}")
        print(f"Bulk import API on {stack.url} (docs: {stack.url}/docs)")
        print(f"AWS emulation on {stack.endpoint_url} (aws --endpoint-url {stack.endpoint_url} ...)")
        print(f"CallRequested events also land in {stack.calls_queue_url}")
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
    from bulk_import.adapters.dynamo import DynamoRecordStore, DynamoTenantDirectory
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


def _demo(args: argparse.Namespace) -> int:
    from bulk_import.local.demo import run_demo

    return run_demo()


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="bulk-import", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the whole stack locally on embedded AWS emulation")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument("--moto-port", type=int, default=0, help="port of the AWS emulation (default: free)")
    serve.add_argument("--seed", help="seed file to load")
    serve.add_argument("--demo", action="store_true", help="load the demo seed")
    serve.set_defaults(func=_serve)
    seed = sub.add_parser("seed", help="load a seed file into DynamoDB (real AWS or --endpoint-url)")
    seed.add_argument("file")
    seed.add_argument("--endpoint-url")
    seed.add_argument("--config-table")
    seed.add_argument("--records-table")
    seed.set_defaults(func=_seed)
    demo = sub.add_parser("demo", help="start the local stack, run sample imports, print a summary, stop")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bulk-import`` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
