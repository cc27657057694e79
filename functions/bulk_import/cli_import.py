"""``bulk-import import``: send a file to a running stack through its public API and follow the import.

The file goes through ``POST /v1/imports/uploads`` and the presigned ``PUT`` it answers; the import is
then read with ``GET /v1/imports/{importId}`` (polled, with a growing delay) until it ends. With
``--wait`` the command ends with the import's summary and saves its ``errors.csv`` beside the file.

Exit status: 0 when every row succeeded (or, without ``--wait``, once the file is uploaded), 1 when some
rows failed or the import did not end ``DONE``, 2 for a mistake in the command, an unreachable API, a
refused key or request.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bulk_import.cli_http import ApiClient, CommandError, content_type, download, upload
from bulk_import.cli_output import Reporter, visible
from bulk_import.cli_text import counts_line, failed_rows, more_line, plural

#: Environment variables read when the option is not given.
KEY_ENV = "BULK_IMPORT_API_KEY"
API_ENV = "BULK_IMPORT_API_URL"
DEFAULT_API = "http://127.0.0.1:3000"
#: Seconds ``--wait`` follows an import before it gives up (the import itself goes on).
DEFAULT_TIMEOUT = 3600
#: Statuses an import ends in.
FINAL = frozenset({"DONE", "FAILED", "CANCELLED"})
#: Failed rows shown in the summary (the rest are in errors.csv).
SHOWN_ROWS = 10
#: Polling delays in seconds: the first, the factor after a poll that saw no progress, and the longest.
FIRST_DELAY, BACKOFF, LONGEST_DELAY = 0.2, 1.5, 3.0
#: Seconds an ended import's result files are waited for: a cancelled import's come once the workers
#: have counted its queued chunks as cancelled, a moment after its status.
FILES_WAIT = 30.0

Sleep = Callable[[float], None]


def add_parser(sub: Any) -> None:
    """Register ``import`` on the subcommands of the ``bulk-import`` parser."""
    command = sub.add_parser(
        "import",
        help="upload a file to a running stack through its API and follow its import",
        description=(
            "Upload a file to a running stack (bulk-import serve, or a deployment) through its public API, "
            "with a progress bar for the bytes and then for the rows. With --wait, end with the import's "
            "summary and save its errors.csv beside the file. Exit status: 0 every row succeeded (or the "
            "file was uploaded, without --wait), 1 some rows failed, 2 a mistake in the command, an "
            "unreachable API or a refused request."
        ),
    )
    add_file_arguments(command, "the file to import")
    command.add_argument(
        "--api",
        default=os.environ.get(API_ENV) or DEFAULT_API,
        metavar="URL",
        help=f"the API's base URL (default: ${API_ENV}, else {DEFAULT_API}, where bulk-import serve listens)",
    )
    command.add_argument(
        "--key",
        default=None,
        help=f"the API key, with the kind's write scope and imports:read (default: ${KEY_ENV})",
    )
    command.add_argument(
        "--wait",
        action="store_true",
        help="follow the import to its end, print its summary and save errors.csv (default: off)",
    )
    command.add_argument(
        "--dry-run",
        action="store_true",
        help="validate every row on the stack and store nothing (default: off)",
    )
    command.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long --wait follows the import, in seconds (default: {DEFAULT_TIMEOUT:,}; 0: no limit)",
    )
    command.add_argument(
        "--errors-out",
        metavar="PATH",
        help="where --wait saves errors.csv (default: errors.csv beside the file)",
    )
    command.set_defaults(func=run)


def _seconds(text: str) -> float:
    """A number of seconds for argparse (0 or more)."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    return value


def add_file_arguments(command: Any, what: str) -> None:
    """The file, ``--kind`` and ``--option`` arguments that ``import`` and ``validate`` share."""
    from bulk_import.kinds import REGISTRY

    command.add_argument("file", help=f"{what} (.csv, .xlsx, .json or .jsonl)")
    command.add_argument("--kind", required=True, help=f"the import kind: {', '.join(REGISTRY)} (required)")
    command.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="an import option, named like a dropped file's metadata, e.g. campaign-id=camp-loans "
        "(repeatable; default: none)",
    )


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``--option NAME=VALUE`` pairs as the upload's options, the names as written (a metadata name is
    read whatever its case, a request field such as ``campaignId`` is not).

    Raises
    ------
    CommandError
        A pair without ``=`` or without a name.
    """
    options: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--option {pair!r}: write NAME=VALUE, e.g. campaign-id=camp-loans")
        name, value = name.strip(), value.strip()
        # A metadata name is read whatever its case: Campaign-ID and campaign-id are one option.
        seen = next((n for n in options if n.lower() == name.lower()), None)
        if seen is not None and options[seen] != value:
            raise CommandError(
                f"--option {seen} given twice, as {options[seen]!r} and {value!r}: keep the one you mean"
            )
        options[seen or name] = value
    return options


def run(args: argparse.Namespace, reporter: Reporter | None = None, sleep: Sleep = time.sleep) -> int:
    """Run ``bulk-import import``; the exit status."""
    out = reporter or Reporter()
    try:
        return _run(args, out, sleep)
    except CommandError as exc:
        print(f"bulk-import import: {visible(str(exc))}", file=sys.stderr, flush=True)
        return 2


def _checked_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, not a file")
    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise CommandError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return path


def _run(args: argparse.Namespace, out: Reporter, sleep: Sleep) -> int:
    from bulk_import.kinds import REGISTRY

    path = _checked_file(args.file)
    if args.kind not in REGISTRY:
        raise CommandError(f"--kind {args.kind!r}: not an import kind (kinds: {', '.join(REGISTRY)})")
    options = parse_options(args.option)
    key = (args.key or os.environ.get(KEY_ENV) or "").strip()
    if not key:
        raise CommandError(f"no API key: pass --key KEY or set {KEY_ENV}")
    if not key.isascii() or not key.isprintable():
        raise CommandError(f"the API key holds characters no key has: check --key or {KEY_ENV}")
    api = ApiClient(args.api, key)
    body: dict[str, Any] = {"kind": args.kind, "filename": path.name, "options": options}
    if args.dry_run:
        body["dryRun"] = True
    created = api.call("POST", "/v1/imports/uploads", body)
    import_id = str(created["importId"])
    size = path.stat().st_size
    with out.bar(f"uploading {path.name}", size, unit="bytes") as moved:
        upload(created["uploadUrl"], path, content_type(path), lambda sent: moved(sent, None))
        moved(size, None)
    dry = " (dry run: nothing is stored)" if args.dry_run else ""
    out.line(f"uploaded {path.name} ({plural(size, 'byte')}): import {import_id}{dry}")
    if not args.wait:
        out.line(f"follow it with GET {api.base_url}{api.import_path(import_id)}")
        return 0
    try:
        view = follow(api, import_id, out, sleep, getattr(args, "timeout", 0) or None)
    except CommandError as exc:
        if "it goes on" in str(exc):
            raise
        # The file is in: whatever stops the command from following (a key without imports:read, the
        # API gone), the import goes on, and the person is told where to read it.
        raise CommandError(
            f"import {import_id} was uploaded and goes on, but cannot be followed: {exc} "
            f"(GET {api.base_url}{api.import_path(import_id)})"
        ) from None
    except KeyboardInterrupt:
        print(
            f"bulk-import import: stopped following import {import_id}; it goes on "
            f"(GET {api.base_url}{api.import_path(import_id)})",
            file=sys.stderr,
        )
        return 130
    view = with_files(api, view, sleep)
    return summarize(api, view, path, Path(args.errors_out) if args.errors_out else None, out)


def with_files(
    api: ApiClient, view: dict[str, Any], sleep: Sleep, wait: float = FILES_WAIT
) -> dict[str, Any]:
    """The ended import's view once it links its result files (``results.csv`` is every finished
    import's), read again for up to ``wait`` seconds; the last view read when they do not come."""
    waited, delay = 0.0, FIRST_DELAY
    path = api.import_path(str(view.get("importId")))
    while "results" not in (view.get("files") or {}) and waited < wait:
        sleep(delay)
        waited += delay
        delay = min(delay * BACKOFF, LONGEST_DELAY)
        try:
            view = api.call("GET", path)
        except CommandError:
            break  # the summary of what was read is still worth printing
    return view


def _processed(view: dict[str, Any]) -> tuple[int, int]:
    counts = view.get("counts") or {}
    total = int(counts.get("total") or 0)
    done = sum(int(counts.get(name) or 0) for name in ("valid", "invalid", "skipped", "cancelled"))
    return min(done, total) if total else done, total


def follow(
    api: ApiClient, import_id: str, out: Reporter, sleep: Sleep, timeout: float | None = None
) -> dict[str, Any]:
    """Poll the import until it ends, moving a bar over its rows; its last view.

    Raises
    ------
    CommandError
        The import has not ended after ``timeout`` seconds (it goes on; the message says where).
    """
    path = api.import_path(import_id)
    deadline = time.monotonic() + timeout if timeout else None
    delay = FIRST_DELAY
    view: dict[str, Any] = api.call("GET", path)
    status, seen = view.get("status"), _processed(view)
    with out.bar(f"importing ({view.get('kind')})", seen[1] or None, unit="rows") as moved:
        while view.get("status") not in FINAL:
            if deadline is not None and time.monotonic() > deadline:
                raise CommandError(
                    f"import {import_id} is still {view.get('status')} after {timeout:g} s; it goes on "
                    f"(GET {api.base_url}{path})"
                )
            sleep(delay)
            view = api.call("GET", path)
            progress = _processed(view)
            moved(progress[0], progress[1] or None)
            if view.get("status") != status:
                status = view.get("status")
                if not out.terminal:
                    out.line(f"status {status}")
            # A poll that saw nothing move waits longer; rows moving keep it quick.
            delay = FIRST_DELAY if progress != seen else min(delay * BACKOFF, LONGEST_DELAY)
            seen = progress
        moved(seen[1] or seen[0], seen[1] or None)
    return view


def calls_line(calls: dict[str, Any]) -> str:
    """The call stage in one line: ``SCHEDULED · requested 1 · … · deferred 2 (the first window opens …)``."""
    status = str(calls.get("status"))
    counts = counts_line(calls, ("requested", "skipped", "failed", "deferred"))
    line = f"{status} · {counts}" if "requested" in calls else status
    if calls.get("deferred") and calls.get("nextWindowAt"):
        line += f" (the first window opens {calls['nextWindowAt']})"
    return line


def _failed_rows(api: ApiClient, import_id: str) -> tuple[list[tuple[int, str, list[str]]], bool]:
    page = api.call("GET", api.import_path(import_id, f"/errors?limit={SHOWN_ROWS * 5}"))
    rows = failed_rows(page.get("errors") or [])
    return rows, bool(page.get("nextCursor"))


def summarize(
    api: ApiClient, view: dict[str, Any], path: Path, errors_out: Path | None, out: Reporter
) -> int:
    """Print the import's summary, save its errors.csv; 0 when every row succeeded, else 1."""
    import_id = str(view.get("importId"))
    status = str(view.get("status"))
    counts = view.get("counts") or {}
    dry = " (dry run: nothing was stored)" if view.get("dryRun") else ""
    out.table(
        f"import {import_id}: {status}{dry}",
        ["", ""],
        [
            ("kind", str(view.get("kind"))),
            ("counts", counts_line(counts)),
            *([("reason", str(view["error"]))] if view.get("error") else []),
            *([("calls", calls_line(view["calls"]))] if isinstance(view.get("calls"), dict) else []),
        ],
    )
    failed = int(counts.get("failed") or 0)
    link = (view.get("files") or {}).get("errors")
    if failed:
        rows, more_pages = _failed_rows(api, import_id)
        shown = rows[:SHOWN_ROWS]
        out.table(
            "failed rows",
            ["row", "reference", "errors"],
            [(str(index), reference, " | ".join(messages)) for index, reference, messages in shown],
            plain=lambda row: f"row {row[0]}{f' ({row[1]})' if row[1] else ''}: {row[2]}",
        )
        more = link and (more_pages or len(rows) > len(shown))
        cut = more_line(len(shown), failed, "errors.csv" if more else "")
        if cut:
            out.line(cut)
        if not link:
            out.line(
                f"errors.csv of import {import_id} is not written yet: its link will be in "
                f"GET {api.base_url}{api.import_path(import_id)}"
            )
    if link:
        target = errors_out or path.with_name("errors.csv")
        try:
            download(str(link), target)
        except CommandError as exc:
            print(f"bulk-import import: warning: {exc}", file=sys.stderr, flush=True)
        else:
            out.line(f"errors.csv saved as {target} ({plural(failed, 'failed row')})")
    return 0 if status == "DONE" and failed == 0 else 1
