"""The coordinator's desk in the browser: a plan (KPIs, timeline, utilisation, costs,
reasons), its status, and one assignment with its lock, move and ban forms. Every form goes
through the same operations and schemas as the API."""

from __future__ import annotations

import marshmallow as ma
from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from ...access import is_lead_coordinator
from ...errors import Conflict, Forbidden, InvalidInput
from ...extensions import db
from ...projects.models import Project
from ...security import current_actor
from .. import operations as ops
from ..operations.desk import (
    Filters,
    Names,
    assignment_row,
    participating_firms,
    plan_page,
)
from ..schemas import AssignmentUpdateArgs, BanArgs, CompareArgs, PlanPageArgs, PlanUpdateArgs
from .blueprint import web

# the API's reasons that name a field the page shows as a checkbox
PAGE_WORDS = {
    "confirm_stale": "The project's sites, work items, offers, exclusions, bans or policy "
                     "changed since this plan was made: tick \"approve although stale\" to "
                     "approve it anyway, or re-plan from it.",
    "confirm_older": "A newer version is approved: tick \"approve this older version\" to "
                     "approve this one instead.",
}


@web.get("/plans/<int:plan_id>")
@login_required
def plan(plan_id: int):
    """A plan: the lead's coordinators all of it, everyone else their firm's slice. The
    filter form narrows the timeline and the assignments (htmx swaps them in place)."""
    actor = current_actor()
    plan = ops.get_plan(actor, plan_id)
    values = {k: v for k, v in request.args.items() if v.strip()}
    try:
        filters = Filters(**PlanPageArgs().load(values))
        errors = {}
    except ma.ValidationError as error:
        filters, errors = Filters(), error.normalized_messages()
    # htmx swaps the results in place, a 422 too (base.html's htmx-config), errors and all
    swap = bool(request.headers.get("HX-Request"))
    page = plan_page(actor, plan, filters, results_only=swap)
    template = "planning/_assignments.html" if swap else "planning/plan.html"
    return render_template(template, user=actor, values=values, errors=errors,
                           **page), 422 if errors else 200


@web.post("/plans/<int:plan_id>/status")
@login_required
def plan_status(plan_id: int):
    """Propose, withdraw or approve (with the confirmations the API asks for)."""
    actor = current_actor()
    plan = ops.get_plan(actor, plan_id)
    fields = {"status": request.form.get("status", "")}
    for flag in ("confirm_stale", "confirm_older"):
        if request.form.get(flag):
            fields[flag] = True
    try:
        ops.update_plan(actor, plan, PlanUpdateArgs().load(fields))
        db.session.commit()
    except ma.ValidationError as error:
        return _refused(plan, "; ".join(
            f"{k}: {' '.join(v)}" for k, v in error.normalized_messages().items()), 422)
    except InvalidInput as error:
        db.session.rollback()
        return _refused(plan, " ".join(PAGE_WORDS.get(field, r) for field, reasons
                                       in error.errors.items() for r in reasons)
                        or error.message, 422)
    flash(f"Version {plan.version} is now {plan.status}.")
    return redirect(url_for("planning.plan", plan_id=plan.id), 303)


def _refused(plan, message: str, status: int):
    actor = current_actor()
    page = plan_page(actor, plan, Filters())
    return render_template("planning/plan.html", user=actor, values={}, errors={},
                           failure=message, **page), status


@web.get("/assignments/<int:assignment_id>")
@login_required
def assignment(assignment_id: int):
    """One assignment: who does it and why, the next-best firm; for the lead's
    coordinators the lock, move and ban forms."""
    return _assignment_page(assignment_id, {}, None, None, 200)


def _assignment_page(assignment_id: int, values: dict, preview: dict | None,
                     failure: str | None, status: int, errors: dict | None = None):
    actor = current_actor()
    a = ops.get_assignment(actor, assignment_id)
    plan = a.plan
    project = db.session.get(Project, plan.project_id)
    lead = is_lead_coordinator(actor, project)
    row, names, explanation = assignment_row(actor, a)
    choices = []
    if lead:
        choices = [(f.id, f.name) for f in participating_firms(project)]
    return render_template(
        "planning/assignment.html", user=actor, project=project, plan=plan, row=row,
        lead=lead, explanation=explanation, firm_choices=choices, values=values,
        preview=preview, failure=failure, errors=errors or {}, names=names), status


@web.post("/assignments/<int:assignment_id>")
@login_required
def change_assignment(assignment_id: int):
    """The assignment's forms: `check` judges a move and shows its violations and cost,
    `save` saves it (refused with the violations when it breaks a hard rule), `lock` sets
    the locks."""
    actor = current_actor()
    a = ops.get_assignment(actor, assignment_id)
    action = request.form.get("action", "save")
    values = {k: request.form[k].strip() for k in ("firm_id", "start_on")
              if request.form.get(k, "").strip()}
    if action == "lock":
        fields = {lock: bool(request.form.get(lock)) for lock in
                  ("is_firm_locked", "is_date_locked")}
    else:
        fields = dict(values)
        if str(a.firm_id) == fields.get("firm_id"):
            fields.pop("firm_id")
        if a.start_on.isoformat() == fields.get("start_on"):
            fields.pop("start_on")
        if not fields:
            return _assignment_page(assignment_id, values, None,
                                    "Choose another firm or first day to move it to.", 422)
        fields["dry_run"] = action == "check"
    try:
        result = ops.change_assignment(actor, a, AssignmentUpdateArgs().load(fields))
    except ma.ValidationError as error:
        return _assignment_page(assignment_id, values, None, "Nothing was changed.", 422,
                                error.normalized_messages())
    except (InvalidInput, Conflict, Forbidden) as error:
        db.session.rollback()
        failure = error.message
        if any(failure.startswith(f"{field}: ") for field in error.errors):
            failure = "Nothing was changed: see the reason beside the field."
        return _assignment_page(assignment_id, values, None, failure, error.status,
                                error.errors)
    if action == "check":
        preview = result["preview"]
        return _assignment_page(assignment_id, values, preview, None, 200)
    db.session.commit()
    flash("Saved." if result["saved"] else "Nothing to change.")
    return redirect(url_for("planning.assignment", assignment_id=assignment_id), 303)


@web.post("/assignments/<int:assignment_id>/ban")
@login_required
def ban_from_item(assignment_id: int):
    """Bar a firm from this assignment's work item (the next plan keeps it off it)."""
    actor = current_actor()
    a = ops.get_assignment(actor, assignment_id)
    project = db.session.get(Project, a.plan.project_id)
    values = {"work_item_id": a.work_item_id, "firm_id": request.form.get("firm_id", ""),
              "reason": request.form.get("reason", "").strip()}
    try:
        ban = ops.create_ban(actor, project, BanArgs().load(values))
        db.session.commit()
    except ma.ValidationError as error:
        return _assignment_page(assignment_id, {}, None, "The ban was not saved.", 422,
                                error.normalized_messages())
    except (InvalidInput, Conflict, Forbidden) as error:
        db.session.rollback()
        return _assignment_page(assignment_id, {}, None, error.message, error.status,
                                error.errors)
    names = Names.of(project, [ban.firm_id])
    flash(f"{names.firm(ban.firm_id)} is banned from {names.item(ban.work_item_id)}; "
          "the next plan keeps it off it (this plan is now stale).")
    if a.firm_id == ban.firm_id and a.is_firm_locked:
        flash("This plan locks the item to that firm: unlock it, or a re-plan from this plan "
              "cannot keep both and finds no plan.")
    return redirect(url_for("planning.assignment", assignment_id=assignment_id), 303)


@web.get("/plans/<int:plan_id>/compare")
@login_required
def compare(plan_id: int):
    """What changed from another plan (by default the one it was re-planned from, else the
    version before) to this one."""
    actor = current_actor()
    plan = ops.get_plan(actor, plan_id)
    project = db.session.get(Project, plan.project_id)
    try:
        args = CompareArgs().load({k: v for k, v in request.args.items() if v.strip()})
        result = ops.compare_plans(actor, ops.base_of(actor, plan, args.get("other_plan_id")),
                                   plan)
        failure, status = None, 200
    except ma.ValidationError as error:
        result, failure, status = None, " ".join(
            r for reasons in error.normalized_messages().values() for r in reasons), 422
    except InvalidInput as error:
        result, failure, status = None, " ".join(
            r for reasons in error.errors.values() for r in reasons), 422
    others = [p for p in db.session.scalars(ops.list_plans(actor, project)) if p.id != plan.id]
    return render_template("planning/compare.html", user=actor, project=project, plan=plan,
                           result=result, failure=failure, others=others,
                           lead=is_lead_coordinator(actor, project)), status


@web.get("/plans/<int:plan_id>/work-items/<int:work_item_id>/candidates")
@login_required
def candidates(plan_id: int, work_item_id: int):
    """Who fits this work item best (lead coordinators)."""
    actor = current_actor()
    plan = ops.get_plan(actor, plan_id)
    result = ops.candidates(actor, plan, work_item_id)
    project = db.session.get(Project, plan.project_id)
    assignment_id = next((a.id for a in plan.assignments if a.work_item_id == work_item_id),
                         None)
    return render_template("planning/candidates.html", user=actor, project=project,
                           plan=plan, result=result, assignment_id=assignment_id)
