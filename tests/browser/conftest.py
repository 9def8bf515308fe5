"""Playwright driving Debian's chromium (no browser download) against a live service."""

from __future__ import annotations

import os
import re
from pathlib import Path

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
    port = live["port"] = serve(live)
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


@pytest.fixture
def shot(page, request, tmp_path):
    """shot(name, on=page): a full-page screenshot, into STAFFING_SCREENSHOTS when set (CI
    keeps that folder as an artifact), else the test's tmp_path."""
    folder = Path(os.environ.get("STAFFING_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    test = re.sub(r"[^\w-]+", "-", request.node.name).strip("-")

    def take(name: str, on=None) -> Path:
        path = folder / f"{test}-{name}.png"
        (on or page).screenshot(path=str(path), full_page=True)
        return path
    return take


def sign_in(browser, live, email: str):
    """A second page, signed in as someone else."""
    other = browser.new_page(viewport={"width": 1280, "height": 900},
                             base_url=f"http://127.0.0.1:{live['port']}")
    other.set_default_timeout(30_000)
    other.goto("/login")
    other.get_by_label("Email").fill(email)
    other.get_by_label("Password").fill(PASSWORD)
    other.get_by_role("button", name="Sign in").click()
    other.wait_for_url("**/")
    return other
