"""The coordinator's desk in a real browser (Playwright driving Debian's chromium): the lead
solves, opens the plan, filters its timeline, locks an assignment, checks and tries a move
that breaks a rule; a partner sees only its own slice. Screenshots of each page are kept
(STAFFING_SCREENSHOTS in CI)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from staffing.extensions import db
from staffing.partners.models import User
from staffing.planning.models import Assignment, Plan
from staffing.projects.models import WorkItem

from ..conftest import PASSWORD_HASH
from ..live import until
from .conftest import sign_in


def _solve(page, project_id: int) -> int:
    """A 3 s solve from the plans page, to its end; the plan's id."""
    page.goto(f"/projects/{project_id}/plans")
    page.get_by_label("Time limit (seconds)").fill("3")
    page.get_by_role("button", name="Start solve").click()
    page.get_by_role("link", name="plan version 1").click()
    page.wait_for_url(re.compile(r".*/plans/\d+$"))
    return int(page.url.rsplit("/", 1)[1])


def test_the_lead_reviews_filters_locks_and_tries_a_move(page, live, shot):
    plan_id = _solve(page, live["small"])
    assert page.get_by_role("heading", name="Plan version 1").is_visible()
    total = page.locator('[data-kpi="cost"]').inner_text()
    assert total.endswith("EUR") and total != "0.00 EUR"
    assert page.locator('[data-kpi="unassigned"]').inner_text() == "0"
    bars = page.locator("svg.timeline a")
    drawn = bars.count()
    assert drawn > 10
    assert page.get_by_role("table").filter(has_text="Utilisation").count() >= 1
    shot("plan")

    # filter by one firm: the timeline and the table are swapped in place (htmx)
    chosen = page.get_by_label("Firm", exact=True).locator("option").nth(1).inner_text()
    page.get_by_label("Firm", exact=True).select_option(label=chosen)
    page.wait_for_url(re.compile(r".*firm_id=\d+"))
    shown = page.locator("[data-shown]")
    until(lambda: int(shown.get_attribute("data-shown")) < drawn, "the filtered timeline")
    firms = {cell.inner_text() for cell in page.locator("#assignments tbody tr td:nth-child(3)")
             .all()}
    assert firms == {chosen}
    shot("plan-filtered")

    # an item that depends on another: lock its firm, then try to start it with its
    # dependency
    with live["app"].app_context():
        plan = db.session.get(Plan, plan_id)
        by_item = {a.work_item_id: a for a in plan.assignments}
        item = next(db.session.get(WorkItem, i) for i in sorted(by_item)
                    if db.session.get(WorkItem, i).depends_on
                    and db.session.get(WorkItem, i).depends_on[0].id in by_item)
        target = by_item[item.id]
        target_id, start, firm_id = target.id, target.start_on, target.firm_id
        dependency_start = by_item[item.depends_on[0].id].start_on.isoformat()
    page.goto(f"/assignments/{target_id}")
    page.get_by_label("keep the firm").check()
    page.get_by_role("button", name="Save locks").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    assert page.locator('[data-field="locks"]').inner_text() == "firm"

    page.get_by_label("First day").fill(dependency_start)
    page.get_by_role("button", name="Check the move").click()
    preview = page.locator("[data-preview]")
    preview.wait_for()
    assert "breaks" in preview.inner_text() and "not after" in preview.inner_text()
    shot("move-checked")
    page.get_by_role("button", name="Save the move").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "nothing was changed" in alert.inner_text()
    assert "not after" in page.locator("#move-start-error").inner_text()
    assert page.get_by_label("First day").get_attribute("aria-invalid") == "true"
    shot("move-refused")
    with live["app"].app_context():
        row = db.session.get(Assignment, target_id)
        assert (row.start_on, row.firm_id, row.is_firm_locked) == (start, firm_id, True)


def test_a_partner_sees_only_its_own_slice(page, browser, live, shot):
    plan_id = _solve(page, live["small"])
    with live["app"].app_context():
        plan = db.session.get(Plan, plan_id)
        firm_id = max((a.firm_id for a in plan.assignments),
                      key=lambda f: sum(a.firm_id == f for a in plan.assignments))
        mine = sum(a.firm_id == firm_id for a in plan.assignments)
        partner = User(firm_id=firm_id, email="partner@firm.example", name="Partner",
                       role="coordinator", password_hash=PASSWORD_HASH)
        db.session.add(partner)
        db.session.commit()
        others = {a.firm_id for a in plan.assignments} - {firm_id}
        other_names = [db.session.scalar(sa.text("select name from firm where id = :id"),
                                         {"id": f}) for f in others]
    page.goto(f"/plans/{plan_id}")
    page.get_by_role("button", name="Propose to the partners").click()
    page.get_by_role("status").filter(has_text="proposed").wait_for()

    partner_page = sign_in(browser, live, "partner@firm.example")
    partner_page.goto(f"/plans/{plan_id}")
    text = partner_page.locator("main").inner_text()
    assert "Your firm's part of this plan" in text
    assert f"{mine} of {mine} assignment(s)" in text
    assert "Key figures" not in text and "Share" not in text
    for name in other_names:
        assert name not in text
    assert partner_page.locator("svg.timeline a").count() == mine
    shot("partner-plan", on=partner_page)
    partner_page.close()


def test_the_lead_replans_compares_and_approves(page, live, shot):
    plan_id = _solve(page, live["small"])
    # a lock, then a re-plan from the page: the lock is kept, the comparison shows the rest
    with live["app"].app_context():
        plan = db.session.get(Plan, plan_id)
        locked = min(plan.assignments, key=lambda a: a.id)
        locked_id, locked_item, locked_firm = locked.id, locked.work_item_id, locked.firm_id
    page.goto(f"/assignments/{locked_id}")
    page.get_by_label("keep the firm").check()
    page.get_by_role("button", name="Save locks").click()
    page.get_by_role("status").filter(has_text="Saved.").wait_for()
    page.goto(f"/plans/{plan_id}")
    page.get_by_label("Seconds").fill("3")
    page.get_by_role("button", name="Re-plan from this version").click()
    page.wait_for_url("**/solve-jobs/*")
    page.get_by_role("link", name="plan version 2").click()
    page.wait_for_url(re.compile(r".*/plans/\d+$"))
    second_id = int(page.url.rsplit("/", 1)[1])
    assert page.get_by_text("Re-planned from").is_visible()
    page.get_by_role("link", name="What changed from version 1").click()
    page.wait_for_url(re.compile(r".*/compare$"))
    assert page.get_by_role("heading", name="What changed in version 2 from version 1") \
        .is_visible()
    counts = page.locator("[data-counts]").inner_text()
    assert "moved to another firm" in counts
    assert page.get_by_role("table").filter(has_text="Total cost").count() == 1
    shot("compare")
    with live["app"].app_context():
        kept = next(a for a in db.session.get(Plan, second_id).assignments
                    if a.work_item_id == locked_item)
        assert (kept.firm_id, kept.is_firm_locked) == (locked_firm, True)
    page.goto(f"/plans/{second_id}")
    page.get_by_role("button", name="Approve").click()
    page.get_by_role("status").filter(has_text="is now approved").wait_for()
    assert page.locator(".badge").inner_text() == "approved"
    shot("approved")
