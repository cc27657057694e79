"""``bulk-import import --wait`` with a key that may upload but not read imports: told the file is in."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulk_import.cli import main
from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
SEED = {
    "tenants": [
        {
            "id": "initech",
            "timezone": "Europe/Paris",
            "defaultPhoneRegion": "FR",
            "apiKeys": [
                {"key": "initech-writer", "scopes": ["debts:write"]},
                {"key": "initech-reader", "scopes": ["imports:read"]},
            ],
            "timelines": [{"id": "tl-standard", "name": "Standard"}],
        }
    ]
}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[json.loads(json.dumps(SEED))]) as s:
        yield s


def test_a_key_that_cannot_read_imports_is_told_its_upload_goes_on(
    stack: LocalStack, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "relances.csv"
    shutil.copy(ROOT / "events" / "files" / "debts-relances-fr.csv", path)
    argv = ["import", str(path), "--kind", "debts", "--api", stack.url, "--key", "initech-writer", "--wait"]

    code = main(argv)

    captured = capsys.readouterr()
    assert code == 2
    (line,) = captured.err.strip().splitlines()
    assert "(403)" in line and "imports:read" in line
    import_id = re.findall(r"imp_[0-9a-f]+", line)[0]
    assert f"import {import_id} was uploaded and goes on" in line
    view = call(stack.url, "GET", f"/v1/imports/{import_id}", headers={"X-API-Key": "initech-reader"})
    assert view.status == 200 and view.body["kind"] == "debts"
