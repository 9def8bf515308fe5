"""Pages of a project's plans list and its solves: start one, watch it live, stop it."""

from __future__ import annotations

import marshmallow as ma
from flask import current_app, redirect, render_template, request, url_for
from flask_login import login_required

from ...access import get_project_for, is_lead_coordinator
from ...errors import Conflict, InvalidInput
from ...extensions import db
from ...security import current_actor
from .. import operations as ops
from .. import queue
from ..events import event_response
from ..schemas import TIME_LIMITS, SolveJobArgs
from .blueprint import web

FORM_FIELDS = ("time_limit", "seed", "workers", "base_plan_id")
RECENT_JOBS = 10


@web.get("/projects/<int:project_id>/plans")
@login_required
def plans(project_id: int):
    """The plans the reader may see; for the lead's coordinators also the recent solves and
    the form to start one."""
    return _plans_page(project_id, {"time_limit": "10"}, {}, None, 200)


def _plans_page(project_id: int, values: dict, errors: dict, failure: str | None,
                status: int):
    actor = current_actor()
    project = get_project_for(actor, project_id)
    rows = ops.plan_list_view(actor, project, db.session.scalars(
        ops.list_plans(actor, project)).all())
    lead = is_lead_coordinator(actor, project)
    jobs = []
    if lead:
        jobs = [ops.job_view(job) for job in db.session.scalars(
            ops.list_jobs(actor, project).limit(RECENT_JOBS))]
    page = render_template("planning/plans.html", user=actor, project=project, plans=rows,
                           jobs=jobs, lead=lead, values=values, errors=errors,
                           failure=failure, versions={row["id"]: row["version"] for row in rows},
                           time_limits=TIME_LIMITS)
    return page, status


@web.post("/projects/<int:project_id>/solve-jobs")
@login_required
def start_solve(project_id: int):
    """The form's solve, validated as the API validates it; the live page on success."""
    actor = current_actor()
    project = get_project_for(actor, project_id)
    values = {key: request.form[key].strip() for key in FORM_FIELDS
              if request.form.get(key, "").strip()}
    try:
        args = SolveJobArgs().load(values)
        job = ops.start_solve(actor, project, queue.backend_name(current_app), **args)
        db.session.commit()
    except ma.ValidationError as error:
        return _plans_page(project_id, values, error.normalized_messages(),
                           "The solve was not started: see the fields below.", 422)
    except (InvalidInput, Conflict) as error:
        db.session.rollback()
        return _plans_page(project_id, values, error.errors, error.message, error.status)
    queue.dispatch(job)
    return redirect(url_for("planning.solve_job", job_id=job.id), 303)


@web.get("/solve-jobs/<int:job_id>")
@login_required
def solve_job(job_id: int):
    """One solve: its state now, kept up to date by its event stream while it runs."""
    return _job_page(job_id, None, 200)


def _job_page(job_id: int, failure: str | None, status: int):
    actor = current_actor()
    job = ops.get_job(actor, job_id)
    project = get_project_for(actor, job.project_id)
    plan = ops.get_plan(actor, job.plan_id) if job.plan_id else None
    page = render_template("planning/job.html", user=actor, project=project,
                           job=ops.job_view(job), plan=plan, failure=failure)
    return page, status


@web.get("/solve-jobs/<int:job_id>/events")
@login_required
def solve_job_events(job_id: int):
    """The event stream of the API, for the signed-in browser."""
    return event_response(ops.get_job(current_actor(), job_id))


@web.post("/solve-jobs/<int:job_id>/cancel")
@login_required
def cancel_solve(job_id: int):
    """Stop: a queued solve at once, a running one within a second (its plan is kept)."""
    actor = current_actor()
    try:
        job = ops.cancel_job(actor, ops.get_job(actor, job_id))
        db.session.commit()
    except Conflict as error:
        db.session.rollback()
        return _job_page(job_id, error.message, 409)
    if job.status == "cancelled":
        queue.cancel_queued(job)
    return redirect(url_for("planning.solve_job", job_id=job_id), 303)
