"""The import console in a real browser (Debian's Chromium, driven by Playwright) against the local stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulk_import.local.stack import LocalStack

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "tests" / "artifacts"
HOSTILE = "<img src=x onerror=alert(1)>"
LOANS = (
    "loan_id,first_name,last_name,phone_number,loan_amount,emi_amount,emi_due_date\n"
    "L-1,Ada,Lovelace,06 10 00 01 00,1500,62.50,2027-01-05\n"
    f"{HOSTILE},Eve,Hostile,12,1500,62.50,2027-01-05\n"
    "L-3,Bob,Martin,06 10 00 03 00,1500,62.50,2027-01-05\n"
)


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack() as s:
        s.load_seed(ROOT / "events" / "seed" / "demo-seed.json")
        yield s


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"the browser test drives Debian's Chromium, and {CHROMIUM} is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    tab.problems = []  # console errors and CSP reports the page ran into
    tab.on("console", lambda m: tab.problems.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: tab.problems.append(str(e)))
    tab.on("response", lambda r: tab.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def test_a_file_uploaded_in_the_console_reaches_done_and_shows_its_failed_row_as_text(
    stack: LocalStack, page: Any, tmp_path: Path
) -> None:
    source = tmp_path / "loans.csv"
    source.write_text(LOANS, encoding="utf-8")
    dialogs: list[str] = []

    def dialog_opened(dialog: Any) -> None:  # an alert() would mean the hostile value ran
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dialog_opened)
    page.goto(f"{stack.url}/console")
    page.fill("#api-key", "acme-secret")
    page.select_option("#kind", "campaign-customers")
    page.fill('.kind-options[data-kind="campaign-customers"] [data-option="campaign-id"]', "camp-loans")
    page.set_input_files("#file", str(source))
    page.click("#start-button")

    page.wait_for_selector("#status:text-is('DONE')", timeout=60_000)
    counts = "total 3 · valid 2 · invalid 1 · succeeded 2 · failed 1 · skipped 0"
    assert page.text_content("#counts") == counts
    rows = page.locator("#failed-rows tbody tr")
    rows.first.wait_for()
    assert rows.count() == 1
    cells = [c.strip() for c in rows.first.locator("td").all_text_contents()]
    assert cells == ["1", f"loan_id={HOSTILE}", "phone_number: too short to be a phone number"]
    assert page.locator("#failed-rows img").count() == 0  # the value is text, not an element
    assert page.get_attribute("#errors-link", "href").startswith(stack.endpoint_url)
    # The recent imports list it too (the emulation may hold imports of other tests: find this one).
    import_id = page.text_content("#import-id")
    listed = page.locator("#recent-imports tbody tr", has_text=import_id)
    listed.wait_for()
    assert "DONE" in listed.text_content()
    assert dialogs == []
    assert page.evaluate("sessionStorage.getItem('bulkImport.apiKey')") == "acme-secret"
    assert page.evaluate("localStorage.length") == 0
    assert page.problems == []


def test_the_console_explains_a_key_the_api_does_not_know(
    stack: LocalStack, page: Any, tmp_path: Path
) -> None:
    source = tmp_path / "loans.csv"
    source.write_text(LOANS, encoding="utf-8")
    page.goto(f"{stack.url}/console")
    page.fill("#api-key", "not-a-key")
    page.select_option("#kind", "debts")
    page.set_input_files("#file", str(source))
    page.click("#start-button")
    page.wait_for_selector("#message:has-text('401')")
    assert "does not know this key" in page.text_content("#message")


def test_a_dropped_file_imports_and_its_failed_rows_page_twenty_at_a_time(
    stack: LocalStack, page: Any
) -> None:
    from playwright.sync_api import expect

    bad = [f"B-{i},Bad,Phone,{i},1500,62.50,2027-01-05" for i in range(25)]
    text = LOANS.splitlines()[0] + "\n" + "\n".join(bad) + "\n"
    page.goto(f"{stack.url}/console")
    page.fill("#api-key", "acme-secret")
    page.select_option("#kind", "campaign-customers")
    page.fill("#campaign-customers-campaign-id", "camp-loans")
    dropped = page.evaluate_handle(
        "text => { const d = new DataTransfer();"
        " d.items.add(new File([text], 'dropped.csv', {type: 'text/csv'})); return d; }",
        text,
    )
    page.dispatch_event("#drop-zone", "drop", {"dataTransfer": dropped})
    assert page.text_content("#file-name").startswith("dropped.csv")
    page.click("#start-button")
    page.wait_for_selector("#status:text-is('DONE')", timeout=60_000)
    rows = page.locator("#failed-rows tbody tr")
    expect(rows).to_have_count(20)
    assert rows.first.locator("td").first.text_content() == "0"
    page.click("#errors-next")
    expect(rows).to_have_count(5)
    assert rows.first.locator("td").first.text_content() == "20"
    assert page.is_disabled("#errors-next")
    page.click("#errors-prev")
    expect(rows).to_have_count(20)
    assert page.is_visible("#retry-button") and page.is_hidden("#cancel-button")
