"""The lead coordinator plans in a real browser (Playwright driving Debian's chromium): starts
a solve, watches it improve, stops it and finds the plan it kept; a mistyped time limit is
answered beside the field."""

from __future__ import annotations


def field(page, name: str):
    return page.locator(f'[data-field="{name}"]')


def test_the_lead_starts_a_solve_watches_it_and_stops_it(page, live, tmp_path):
    page.goto(f"/projects/{live['project']}")
    page.get_by_role("link", name="Plans and solves").click()
    page.get_by_label("Time limit (seconds)").fill("120")
    page.get_by_role("button", name="Start solve").click()
    page.wait_for_url("**/solve-jobs/*")
    # the page follows the solve without a reload: a plan with its cost in euros appears
    # (a locator, not wait_for_function: the policy allows no eval, for tests neither)
    page.locator('[data-field="cost"]', has_text="EUR").wait_for()
    assert field(page, "status").inner_text() == "running"
    assert field(page, "assigned").inner_text().isdigit()
    page.screenshot(path=str(tmp_path / "solve-running.png"), full_page=True)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("stopped early").wait_for()
    assert field(page, "status").inner_text() == "cancelled"
    assert "Stored as plan version 1" in field(page, "outcome").inner_text()
    assert page.get_by_role("button", name="Stop").count() == 0
    page.get_by_role("link", name="Plans of").click()
    page.wait_for_url("**/plans")
    # the plans page, not the one the click left: wait for the row (count() does not wait)
    row = page.get_by_role("row").filter(has_text="draft (stopped early)")
    row.first.wait_for()
    assert row.count() == 1 and "EUR" in row.inner_text()


def test_a_solve_runs_to_its_end_and_the_page_shows_the_plan_it_stored(page, live):
    page.goto(f"/projects/{live['small']}/plans")
    page.get_by_label("Time limit (seconds)").fill("3")
    page.get_by_role("button", name="Start solve").click()
    page.get_by_text("Stored as plan version 1 (a draft).").wait_for()
    assert field(page, "status").inner_text() == "done"
    assert field(page, "phase").inner_text() == "finished"


def test_a_mistyped_time_limit_is_answered_beside_the_field(page, live):
    page.goto(f"/projects/{live['small']}/plans")
    page.get_by_label("Time limit (seconds)").fill("ten")
    page.get_by_role("button", name="Start solve").click()
    assert page.get_by_role("alert").inner_text() == ("The solve was not started: see the "
                                                      "fields below.")
    box = page.get_by_label("Time limit (seconds)")
    assert box.get_attribute("aria-invalid") == "true" and box.input_value() == "ten"
    assert page.locator("#time_limit-error").inner_text() == "Not a valid number."
    assert page.get_by_text("No solve yet.").is_visible()
