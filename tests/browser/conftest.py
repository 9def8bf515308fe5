"""Playwright driving Debian's chromium (no browser download) against a live service."""

from __future__ import annotations

import os

import pytest

from ..conftest import PASSWORD
from ..live import require_service, serve

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def browser():
    require_service("chromium", os.path.exists(CHROMIUM), f"{CHROMIUM} is not installed "
                    "(apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live):
    port = serve(live)
    page = browser.new_page(viewport={"width": 1280, "height": 900},
                            base_url=f"http://127.0.0.1:{port}")
    page.set_default_timeout(30_000)
    # every Content-Security-Policy violation of the page, for the tests to read
    page.add_init_script("window.cspViolations = []; document.addEventListener("
                         "'securitypolicyviolation', (event) => window.cspViolations.push("
                         "event.violatedDirective + ' ' + event.blockedURI));")
    page.goto("/login")
    page.get_by_label("Email").fill(live["email"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
    yield page
    page.close()
