"""The import console's page over HTTP: public, strict about what it may load and call, escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from bulk_import.local.client import call
from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "functions" / "bulk_import" / "console"
KEY = {"X-API-Key": "acme-secret"}


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(seeds=[ROOT / "events" / "seed" / "demo-seed.json"]) as s:
        yield s


def policy(header: str) -> dict[str, list[str]]:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in header.split(";")) if d}


def test_the_console_loads_without_a_key_with_a_strict_policy(stack: LocalStack) -> None:
    page = call(stack.url, "GET", "/console")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    csp = policy(page.headers["Content-Security-Policy"])
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"] and csp["style-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"] and csp["form-action"] == ["'none'"]
    assert not any("unsafe" in v or v == "*" for values in csp.values() for v in values)
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    # The page may call the API and the origin its upload URLs point to, and nothing else.
    upload = call(
        stack.url, "POST", "/v1/imports/uploads", body={"kind": "debts", "filename": "a.csv"}, headers=KEY
    )
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(upload.body["uploadUrl"]))
    assert csp["connect-src"] == ["'self'", origin]


def test_the_page_has_no_inline_script_or_style(stack: LocalStack) -> None:
    text = call(stack.url, "GET", "/console").text
    assert re.findall(r"<script[^>]*>", text) == ['<script src="/console/console.js" defer>']
    assert "<style" not in text and " style=" not in text
    assert not re.search(r"\son[a-z]+=", text)  # no event handler attributes


def test_the_kind_is_chosen_among_the_kind_names_with_the_options_of_each(stack: LocalStack) -> None:
    text = call(stack.url, "GET", "/console").text
    kinds = re.findall(r'<option value="([^"]+)"', text)
    assert kinds == ["campaign-customers", "customers", "debts", "payments"]
    assert 'type="password" id="api-key"' in text and 'type="file"' in text
    assert 'data-kind="debts"' in text and 'data-option="timeline-id"' in text
    assert 'data-option="campaign-id"' in text


def test_the_console_files_load_without_a_key_and_nothing_else_does(stack: LocalStack) -> None:
    script = call(stack.url, "GET", "/console/console.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert call(stack.url, "GET", "/console/console.css").headers["Content-Type"].startswith("text/css")
    assert call(stack.url, "GET", "/console/index.html").status == 404
    assert call(stack.url, "GET", "/console/..%2Fcli.py").status == 404
    # Another method is an API call like any route (ANY behind the key authorizer): no key, 401.
    assert call(stack.url, "POST", "/console").status == 401


def test_the_script_puts_values_on_the_page_as_text_only() -> None:
    script = (CONSOLE / "console.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage"):
        assert sink not in script
    assert "sessionStorage.setItem" in script


def test_without_file_imports_the_page_may_call_the_api_only(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from bulk_import.entrypoints import console, runtime

    monkeypatch.setattr(runtime.DEPS, "get", lambda: SimpleNamespace(files=None))
    assert console.upload_origin() is None
    assert "connect-src 'self';" in console.content_security_policy(console.upload_origin())


def test_the_upload_origin_is_the_one_presigned_urls_point_to(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from bulk_import.entrypoints import console, runtime

    bucket = "https://imports-123.s3.eu-west-3.amazonaws.com/incoming/x?X-Amz-Signature=abc"
    files = SimpleNamespace(upload_url=lambda key, expires: bucket)
    monkeypatch.setattr(runtime.DEPS, "get", lambda: SimpleNamespace(files=files))
    assert console.upload_origin() == "https://imports-123.s3.eu-west-3.amazonaws.com"


def test_the_page_under_a_stage_loads_its_files_from_the_stage() -> None:
    from bulk_import.entrypoints import console

    text = console.page("/prod")
    assert '<script src="/prod/console/console.js" defer>' in text and 'data-api-base="/prod"' in text


def test_the_console_s_file_picker_offers_the_files_an_import_reads_and_no_others(stack: LocalStack) -> None:
    from bulk_import.engine.files.readers import FORMATS

    page = call(stack.url, "GET", "/console")
    (accept,) = re.findall(r'<input type="file"[^>]* accept="([^"]*)"', page.text)
    assert sorted(accept.split(",")) == sorted(FORMATS)
