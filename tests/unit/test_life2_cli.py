"""``bulk-import import --wait`` on an import that is cancelled while its chunks are still queued: its
result files come a moment after its status, and the command saves the errors.csv of this import, not
whatever an earlier run left beside the file."""

from __future__ import annotations

import argparse
import io
from pathlib import Path
from typing import Any, ClassVar

import pytest

from bulk_import import cli_import
from bulk_import.cli_output import Reporter

IMPORT_ID = "imp_0123456789abcdef0123456789abcdef"
ERRORS = [
    {"index": i, "id": f"p-{i}", "field": "amount", "message": "amount: is required"} for i in range(12)
]


class FakeApi:
    """The stack as the command sees it: the import's views, one per read, the last one repeated."""

    views: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, base_url: str, key: str) -> None:
        self.base_url = base_url

    def import_path(self, import_id: str, tail: str = "") -> str:
        return f"/v1/imports/{import_id}{tail}"

    def call(self, method: str, path: str, body: Any = None) -> Any:
        if path == "/v1/imports/uploads":
            return {"importId": IMPORT_ID, "uploadUrl": "http://files.example/upload"}
        if path.endswith("/errors?limit=50"):
            return {"errors": ERRORS, "nextCursor": None}
        return self.views.pop(0) if len(self.views) > 1 else self.views[0]


def view(status: str, *, files: bool) -> dict[str, Any]:
    counts = {"total": 20, "valid": 0, "invalid": 12, "succeeded": 0, "failed": 12, "skipped": 0}
    if status == "CANCELLED":
        counts["cancelled"] = 8
    out: dict[str, Any] = {"importId": IMPORT_ID, "kind": "payments", "status": status, "counts": counts}
    if files:
        out["files"] = {"errors": "http://files.example/errors.csv", "results": "http://files.example/r.csv"}
    return out


@pytest.fixture
def file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "payments.csv"
    path.write_text("id,amount\np-0,\n", encoding="utf-8")
    (tmp_path / "errors.csv").write_text(
        "index,errors\n0,the errors of an earlier import\n", encoding="utf-8"
    )

    def download(url: str, target: Path) -> int:
        target.write_text(f"index,errors\nfrom {url}\n", encoding="utf-8")
        return 1

    monkeypatch.setattr(cli_import, "ApiClient", FakeApi)
    monkeypatch.setattr(cli_import, "upload", lambda url, path, media, progress: None)
    monkeypatch.setattr(cli_import, "download", download)
    return path


def run(path: Path) -> tuple[int, str]:
    args = argparse.Namespace(
        file=str(path),
        kind="payments",
        option=[],
        key="acme-secret",
        api="http://127.0.0.1:3000",
        wait=True,
        dry_run=False,
        timeout=60,
        errors_out=None,
    )
    stream = io.StringIO()
    code = cli_import.run(args, Reporter(stream, terminal=False), sleep=lambda s: None)
    return code, stream.getvalue()


def test_a_cancelled_import_whose_files_come_after_its_status_saves_its_own_errors_csv(file: Path) -> None:
    FakeApi.views = [
        view("PROCESSING", files=False),
        view("CANCELLED", files=False),  # the workers still count its queued chunks as cancelled
        view("CANCELLED", files=False),
        view("CANCELLED", files=True),
    ]
    code, out = run(file)
    assert code == 1
    assert "… and 2 more (errors.csv)" in out
    assert f"errors.csv saved as {file.with_name('errors.csv')} (12 failed rows)" in out
    assert (file.with_name("errors.csv")).read_text(encoding="utf-8").endswith("errors.csv\n")


def test_an_import_whose_files_never_come_says_so_and_points_to_no_errors_csv(file: Path) -> None:
    FakeApi.views = [view("CANCELLED", files=False)]
    code, out = run(file)
    assert code == 1
    assert "(errors.csv)" not in out and "saved as" not in out
    assert f"errors.csv of import {IMPORT_ID} is not written yet" in out
    assert "GET http://127.0.0.1:3000/v1/imports/" in out


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_webhooks_listen_on_a_port_that_cannot_be_one_is_a_mistake_in_the_command(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulk_import.cli import main

    with pytest.raises(SystemExit) as end:
        main(["webhooks", "listen", "--secret", "whsec_" + "A" * 32, "--port", port])
    err = capsys.readouterr().err.strip()
    assert end.value.code == 2
    assert err.startswith(f"bulk-import webhooks listen: argument --port: '{port}' is not a port number")
    assert "\n" not in err and "DEBUG" not in err


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://127.0.0.1:99999", "http://127.0.0.1:port", "https://:443"]
)
def test_an_api_url_that_cannot_be_reached_by_any_means_is_named_before_the_upload(
    url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulk_import.cli import main

    file = tmp_path / "payments.csv"
    file.write_text("id,amount\np-0,\n", encoding="utf-8")
    code = main(["import", str(file), "--kind", "payments", "--api", url, "--key", "acme-secret"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert (
        err
        == f"bulk-import import: --api {url!r}: not an http:// or https:// URL (e.g. http://127.0.0.1:3000)"
    )


@pytest.mark.parametrize("status", [404, 500, 501, 502])
def test_an_api_url_that_leads_to_another_web_server_is_said_in_one_short_line(
    status: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from bulk_import.cli import main

    page = b"<!DOCTYPE html><html><head><title>Error response</title></head><body>" + b"<p>x</p>" * 200
    page += b"</body></html>"

    class Other(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Other)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    file = tmp_path / "payments.csv"
    file.write_text("id,amount\np-0,\n", encoding="utf-8")
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code = main(["import", str(file), "--kind", "payments", "--api", url, "--key", "acme-secret"])
    finally:
        server.shutdown()
        server.server_close()
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err == (
        f"bulk-import import: POST /v1/imports/uploads answered {status}, and not as the bulk import API "
        f"answers; is {url} the bulk import API?"
    )


def test_the_summary_of_an_import_whose_calls_wait_says_how_many_wait_and_until_when(file: Path) -> None:
    done = view("DONE", files=True)
    done["counts"] = {"total": 3, "valid": 3, "invalid": 0, "succeeded": 3, "failed": 0, "skipped": 0}
    done["calls"] = {
        "status": "SCHEDULED",
        "batches": 3,
        "batchesDone": 1,
        "requested": 1,
        "skipped": 0,
        "failed": 0,
        "deferred": 2,
        "nextWindowAt": "2026-12-02T09:00:00Z",
        "skippedBy": {"doNotCall": 0, "doNotCallList": 0, "frequency": 0},
    }
    FakeApi.views = [done]
    code, out = run(file)
    assert code == 0
    assert (
        "calls  SCHEDULED · requested 1 · skipped 0 · failed 0 · deferred 2 "
        "(the first window opens 2026-12-02T09:00:00Z)"
    ) in out


@pytest.mark.parametrize(
    "options",
    [
        ["campaign-id=camp-loans", "campaign-id=camp-leads"],
        ["campaign-id=camp-loans", "Campaign-ID=camp-leads"],
    ],
)
def test_an_option_given_twice_with_two_values_is_a_mistake_in_the_command(
    options: list[str], file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bulk_import.cli import main

    argv = ["import", str(file), "--kind", "campaign-customers", "--key", "acme-secret"]
    for option in options:
        argv += ["--option", option]
    code = main(argv)
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert err.startswith("bulk-import import: --option campaign-id given twice")
    assert "camp-loans" in err and "camp-leads" in err


def test_an_option_given_twice_with_one_value_is_that_value(file: Path) -> None:
    assert cli_import.parse_options(["campaign-id=camp-loans", "campaign-id = camp-loans"]) == {
        "campaign-id": "camp-loans"
    }
