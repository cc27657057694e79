"""Schemathesis, driven by the API's own ``/openapi.json``, against the local stack over HTTP.

Every operation gets up to ``MAX_EXAMPLES`` generated requests (valid and invalid ones) sent with the
demo tenant's key, ``EXAMPLES`` each on average at least; the run must find no server error and no answer
the document does not describe (status, content type, body schema). The seed is fixed so a failure can be
replayed. The run's JSON report, not its console output, says what was tested and what failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
EXAMPLES = 25
#: Hypothesis stops an operation early once it finds no new input, so the cap is above the floor.
MAX_EXAMPLES = 2 * EXAMPLES
SEED = 20260101
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
#: The whole run's budget; the test fails rather than run longer.
TIME_LIMIT_S = 290


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    # The emulation serves one request at a time (as each AWS request is atomic), so the API's workers
    # and schemathesis's two clients can share it freely.
    with LocalStack(seeds=[EVENTS / "seed" / "demo-seed.json"]) as s:
        yield s


def schemathesis() -> list[str]:
    exe = Path(sys.executable).with_name("schemathesis")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "schemathesis.cli"]


def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    stack: LocalStack, tmp_path: Path
) -> None:
    report_path = tmp_path / "schemathesis.json"
    command = [
        *schemathesis(),
        "run",
        f"{stack.url}/openapi.json",
        "--url",
        stack.url,
        "--header",
        "X-API-Key: acme-secret",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--phases",
        "examples,fuzzing",
        "--workers",
        "2",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report_path),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"}
    try:
        done = subprocess.run(
            command,
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=TIME_LIMIT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        partial = exc.stdout.decode() if isinstance(exc.stdout, bytes) else str(exc.stdout or "")
        pytest.fail(f"schemathesis did not finish within {TIME_LIMIT_S} s:\n{partial[-20_000:]}")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20_000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["complete"] and report["failures"] == [] and report["errors"] == [], output[-20_000:]
    assert report["phases"]["fuzzing"]["status"] == "success", report["phases"]
    operations = report["operations"]
    assert operations["tested"] == operations["total"] > 0, operations
    assert report["test_cases"]["generated"] >= EXAMPLES * operations["tested"], report["test_cases"]
