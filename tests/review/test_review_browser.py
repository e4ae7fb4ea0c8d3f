"""The review app in a real browser (Playwright + Debian's /usr/bin/chromium), served by
waitress on a free port: log in, filter, search, open a story, tag it, add a note, look at the
dashboard. Screenshots (desktop and phone) go to var/screenshots/review/.

Skipped with a visible reason when chromium or Playwright is missing, unless CI is set: then
it fails. Install the browser with scripts/install-browser.sh (never `playwright install`).
"""
from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest

from review_helpers import PASSWORD, USERS

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "review"
VIEWPORTS = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} not found (run scripts/install-browser.sh)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"playwright is not installed: {exc}"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser test cannot run in CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def server(app):
    from waitress.server import create_server

    srv = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.effective_port}"
    srv.close()
    thread.join(5)


def _shot(page, name: str, viewport: str, full: bool = True):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}-{viewport}.png"), full_page=full)


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_review_flow_in_browser(browser, server, ids, viewport):
    ctx = browser.new_context(viewport=VIEWPORTS[viewport], locale="nl-NL", timezone_id="Europe/Amsterdam")
    page = ctx.new_page()
    errors: list = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    # log in (the login page comes first, whatever URL is asked for)
    page.goto(server + "/dashboard")
    assert "/login" in page.url
    _shot(page, "01-login", viewport, full=False)
    page.fill("input[name=email]", USERS["reviewer"])
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard$"))

    # dashboard
    assert page.locator(".kpi-nps .kpi-value").inner_text().strip()
    assert page.locator("svg.chart-dist a.bar-link").count() == 11
    _shot(page, "02-dashboard", viewport)

    # a distribution bar opens the inbox filtered on that score
    page.locator("svg.chart-dist a.bar-link").nth(3).click()
    page.wait_for_url(re.compile(r"/inbox\?score=3"))
    assert page.locator(".chip").first.inner_text().startswith("Score")

    # inbox with filters through the form
    page.goto(server + "/inbox")
    _shot(page, "03-inbox", viewport, full=False)
    page.click("details.more > summary")
    page.select_option("select[name=band]", "detractor")
    page.select_option("select[name=language]", "nl")
    page.click("text=Apply filters")
    page.wait_for_url(re.compile(r"band=detractor"))
    assert "language=nl" in page.url
    scores = [int(x) for x in page.locator(".stories .score").all_inner_texts() if x.strip().isdigit()]
    assert scores and all(s <= 6 for s in scores)
    _shot(page, "04-inbox-filtered", viewport, full=False)

    # full-text search
    page.goto(server + "/inbox")
    page.fill("input[name=q]", "crasht inloggen")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=crasht"))
    rows = page.locator(".stories .row-link")
    assert rows.count() == 1
    assert "crasht" in rows.first.inner_text()

    # open the story (marks it read), tag it, add a note
    rows.first.click()
    page.wait_for_url(re.compile(rf"/stories/{ids['plain']}"))
    assert "GH-NEW0-0003" in page.locator("h1").inner_text()
    page.fill("input[name=tag]", "browsertest")
    page.locator("form:has(input[name=tag][list]) button").click()
    page.wait_for_load_state()
    assert page.locator(".tags .tag a", has_text="browsertest").count() == 1
    page.fill("textarea[name=text]", "Doorgezet naar het app-team. <b>niet vet</b>")
    page.click("text=Add note")
    page.wait_for_load_state()
    assert "Doorgezet naar het app-team. <b>niet vet</b>" in page.locator(".notes").inner_text()
    assert page.locator(".rs-read").count() >= 1
    _shot(page, "05-story", viewport)

    # the customer's HTML never runs: the XSS story renders as text, no dialog opens
    dialogs: list = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server + f"/stories/{ids['xss']}")
    assert "<script>alert('xss-script')</script>" in page.locator(".chat").inner_text()
    assert page.locator(".chat img").count() == 0 and page.locator(".chat a").count() == 0
    page.wait_for_timeout(200)
    assert dialogs == []
    _shot(page, "06-story-xss", viewport)

    # tag filter finds the story; log out
    page.goto(server + "/inbox?tag=browsertest")
    assert page.locator(".stories .row-link").count() == 1
    page.click("text=Log out")
    page.wait_for_url(re.compile(r"/login$"))
    assert errors == [], errors
    ctx.close()
