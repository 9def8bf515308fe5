"""The pages live within their Content-Security-Policy: no script, style or image of theirs is
blocked, and the headers reach the browser."""

from __future__ import annotations

import re


def violations(page) -> list[str]:
    return page.evaluate("window.cspViolations")


def test_every_page_keeps_within_the_content_security_policy(page, live, tmp_path):
    assert violations(page) == [], "the sign-in page and the dashboard"
    pages = ["/", "/account", f"/projects/{live['small']}", f"/projects/{live['small']}/plans"]
    for path in pages:
        response = page.goto(path)
        assert response.status == 200, path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "'unsafe-inline'" not in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        # the stylesheet is the service's own file: the layout is there (flex header)
        assert page.evaluate("getComputedStyle(document.querySelector('header')).display") \
            == "flex", path
        assert violations(page) == [], path
    page.get_by_label("Time limit (seconds)").fill("2")
    page.get_by_role("button", name="Start solve").click()
    page.get_by_text(re.compile("Stored as plan version")).wait_for()
    assert violations(page) == [], "the solve page's script and its event stream"
    page.screenshot(path=str(tmp_path / "solve-done.png"), full_page=True)


def test_the_api_docs_run_under_their_own_policy(page):
    page.goto("/api/v1/docs")
    page.get_by_text("staffing").first.wait_for()
    page.locator(".opblock").first.wait_for()
    assert violations(page) == []
