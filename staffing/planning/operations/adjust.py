"""Adjusting a plan by hand: lock and unlock an assignment's firm and dates, move an item to
another firm or first day. A move is judged by the independent checker before anything is
saved (solver.review): a change that breaks a hard rule the plan kept is refused with every
violation it causes listed; a dry run shows them without saving. Every change is recorded
(an Adjustment: who, when, before and after).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from solver.types import ProblemError

from ...access import (
    get_project_for,
    is_lead_coordinator,
    partner_visible_ids,
    require_lead_coordinator,
)
from ...errors import Conflict, InvalidInput, NotFound
from ...extensions import db
from ...partners.models import Firm, User
from ...projects.models import Project, WorkItem
from .. import inputs, mapping
from ..models import Adjustment, Assignment, Plan

MOVABLE_STATUSES = ("draft", "proposed")  # an approved plan is changed by a re-plan
LOCKABLE_STATUSES = ("draft", "proposed", "approved")  # locks say what a re-plan keeps


def get_assignment(actor: User, assignment_id: int) -> Assignment:
    """The assignment if the actor may read it: the lead's coordinators any of their plans',
    everyone else their own firm's in a plan they may read. NotFound otherwise."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("assignment")
    plan = assignment.plan
    try:
        project = get_project_for(actor, plan.project_id)
    except NotFound:
        raise NotFound("assignment") from None
    if is_lead_coordinator(actor, project):
        return assignment
    visible = actor.firm_id == project.lead_firm_id or plan.id in db.session.scalars(
        partner_visible_ids(project)).all()
    if not visible or assignment.firm_id != actor.firm_id:
        raise NotFound("assignment")
    return assignment


def _state(a: Assignment) -> dict:
    return {"firm_id": a.firm_id, "start_on": a.start_on.isoformat(),
            "end_on": a.end_on.isoformat(), "hours": a.hours,
            "is_firm_locked": a.is_firm_locked, "is_date_locked": a.is_date_locked}


def _record(actor: User, a: Assignment, action: str, before: dict) -> Adjustment:
    adjustment = Adjustment(plan_id=a.plan_id, assignment_id=a.id,
                            work_item_id=a.work_item_id, user_id=actor.id, action=action,
                            before=before, after=_state(a))
    db.session.add(adjustment)
    return adjustment


def change_assignment(actor: User, assignment: Assignment, fields: dict) -> dict:
    """Lock, unlock or move one assignment (lead coordinators). `fields`: firm_id, start_on
    (a move), is_firm_locked, is_date_locked, dry_run. A move locks what it moves unless the
    locks are given. Returns the preview (see `_preview`); raises InvalidInput listing the
    violations when a move (not a dry run) breaks a hard rule."""
    plan = assignment.plan
    project = db.session.get(Project, plan.project_id)
    require_lead_coordinator(actor, project)
    firm_id = fields.get("firm_id", assignment.firm_id)
    start_on = fields.get("start_on")
    moves = firm_id != assignment.firm_id or (
        start_on is not None and start_on != assignment.start_on)
    dry_run = fields.get("dry_run", False)
    allowed = MOVABLE_STATUSES if moves else LOCKABLE_STATUSES
    if plan.status not in allowed:
        raise Conflict(f"the plan is {plan.status}: "
                       + ("start a re-plan from it to change it" if moves
                          else "its locks can no longer matter"),
                       {"status": [plan.status]})
    preview = _preview(project, plan, assignment, firm_id, start_on) if moves else None
    if preview is not None and (preview["caused"] or preview["not_eligible"]) \
            and not dry_run:
        # a firm that cannot take the item at all: that is the reason (the item then counts
        # as unassigned, and what follows from that would only be noise)
        reasons = [preview["not_eligible"]] if preview["not_eligible"] else [
            v["message"] for v in preview["caused"]]
        field = "firm_id" if firm_id != assignment.firm_id else "start_on"
        raise InvalidInput(f"the move breaks {len(reasons)} hard rule(s); nothing was "
                           "changed", {field: reasons})
    if dry_run:
        return {"assignment": assignment, "preview": preview, "saved": False}
    before = _state(assignment)
    if moves:
        moved = preview["assignment"]
        assignment.firm_id = firm_id
        assignment.start_on = dt.date.fromisoformat(moved["start_on"])
        assignment.end_on = dt.date.fromisoformat(moved["end_on"])
        assignment.hours = moved["hours"]
        assignment.is_firm_locked = firm_id != before["firm_id"] or assignment.is_firm_locked
        assignment.is_date_locked = (assignment.start_on.isoformat() != before["start_on"]
                                     or assignment.is_date_locked)
    for lock in ("is_firm_locked", "is_date_locked"):
        if lock in fields:
            setattr(assignment, lock, fields[lock])
    if _state(assignment) == before:
        return {"assignment": assignment, "preview": preview, "saved": False}
    if moves:
        review = preview["review"]
        plan.summary = mapping.summary_of_review(review, plan.summary)
        plan.objective = review.objective
        plan.cost = review.cost
        plan.travel_cost = round(sum(a.travel_cost for a in review.assignments), 2)
    _record(actor, assignment, "move" if moves else "lock", before)
    db.session.flush()
    return {"assignment": assignment, "preview": preview, "saved": True}


def _preview(project: Project, plan: Plan, assignment: Assignment, firm_id: int,
             start_on: dt.date | None) -> dict:
    """The plan before and after moving the assignment's item to `firm_id` from `start_on`
    (None: the same first day if the firm may start then, else the nearest day it may),
    judged by the checker: the violations the move causes (not those the plan already had,
    say because an offer changed since), the item's new dates and hours, the cost delta."""
    firm = db.session.get(Firm, firm_id)
    now = inputs.current(project)
    problem, fingerprint, core = now.problem, now.fingerprint, now.core
    if firm is None or str(firm_id) not in {f.id for f in problem.firms}:
        raise InvalidInput.field("firm_id", "no such firm takes part in the project (an "
                                            "accepted partner with a capacity offer)")
    day = start_on or assignment.start_on
    if day not in problem.working_days:
        raise InvalidInput.field("start_on", f"{day} is not a working day of the project")
    item = str(assignment.work_item_id)
    if start_on is None:
        day = mapping.solver_review.first_start(core, item, str(firm_id), day) or day
    try:
        after = mapping.review_plan(problem, plan, {assignment.work_item_id: (firm_id, day)},
                                    core)
        # a plan of the project's inputs as they are keeps every hard rule (the planner's
        # and each saved move's checks): only a stale one is judged before the move too
        before = None if plan.input_fingerprint == fingerprint else mapping.review_plan(
            problem, plan, core=core)
    except ProblemError as error:
        raise InvalidInput.field("start_on" if start_on else "firm_id", error.reason) from None
    if before is None:
        terms = (plan.summary or {}).get("terms", {})
        # the objective of the plan as a review judges it: without a re-plan's stability
        before_cost = plan.cost or 0.0
        before_objective = (plan.objective or 0.0) - terms.get("stability", 0.0)
        before_violations, before_not_eligible = [], {}
    else:
        before_cost, before_objective = before.cost, before.objective
        before_violations, before_not_eligible = before.violations, before.not_eligible
    broken = {item_id: why for item_id, why in before_not_eligible.items() if item_id != item}
    if broken:
        # the plan's figures would be recomputed without those items: re-plan instead
        raise Conflict(f"the project changed since this plan was made: {len(broken)} of its "
                       "assignments can no longer stand as they are; re-plan from it first",
                       {"plan": [f"{_item_words(int(i))}: {why}"
                                 for i, why in sorted(broken.items())]})
    had = {(v.rule, v.message) for v in before_violations}
    caused = [v for v in after.violations if (v.rule, v.message) not in had]
    moved = next((a for a in after.assignments if a.item == item), None)
    return {
        "review": after,
        "assignment": None if moved is None else {
            "firm_id": int(moved.firm), "start_on": moved.start_on.isoformat(),
            "end_on": moved.end_on.isoformat(), "hours": moved.hours, "cost": moved.cost,
            "travel_cost": moved.travel_cost},
        "not_eligible": after.not_eligible.get(item),
        "caused": [_violation(v) for v in caused],
        "existing": [_violation(v) for v in before_violations],
        "cost_delta": round(after.cost - before_cost, 2),
        "objective_delta": round(after.objective - before_objective, 2),
    }


def _item_words(work_item_id: int) -> str:
    item = db.session.get(WorkItem, work_item_id)
    return f"{item.ref} {item.label}".strip() if item else f"item {work_item_id}"


def _violation(v) -> dict:
    return {"rule": v.rule, "message": v.message, "item": v.item, "firm": v.firm,
            "site": v.site, "day": v.day.isoformat() if v.day else None}


def list_adjustments(actor: User, plan: Plan) -> sa.Select:
    """The plan's manual changes, newest first (lead coordinators)."""
    require_lead_coordinator(actor, db.session.get(Project, plan.project_id), "see this")
    return (sa.select(Adjustment).where(Adjustment.plan_id == plan.id)
            .order_by(Adjustment.id.desc()))


def candidates(actor: User, plan: Plan, work_item_id: int) -> dict:
    """Who fits the work item best in this plan (lead coordinators): every participating
    firm ranked by what giving it the item would cost and break (solver.review.candidates),
    the ineligible with their reason."""
    project = db.session.get(Project, plan.project_id)
    require_lead_coordinator(actor, project, "see this")
    item = db.session.get(WorkItem, work_item_id)
    if item is None or item.project_id != project.id:
        raise NotFound("work item")
    now = inputs.current(project)
    ranked = mapping.solver_review.candidates(now.problem, mapping.placed_items(plan),
                                              str(work_item_id), now.core)
    current = next((a for a in plan.assignments if a.work_item_id == work_item_id), None)
    names = {f.id: f.name or f.id for f in now.problem.firms}
    return {"work_item_id": item.id, "item": f"{item.ref} {item.label}".strip(),
            "plan_id": plan.id, "assigned_to": current.firm_id if current else None,
            "candidates": [{
                "firm_id": int(c.firm), "firm": names[c.firm], "eligible": c.eligible,
                "fits": c.fits, "reason": c.reason or None, "start_on": c.start_on,
                "end_on": c.end_on, "hours": c.hours, "cost": c.cost,
                "cost_delta": c.cost_delta, "objective_delta": c.objective_delta,
                "violations": list(c.violations),
                "is_current": current is not None and current.firm_id == int(c.firm)}
                for c in ranked]}
