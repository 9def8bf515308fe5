"""Plans: run the solver on a project, store the result, show each reader their part."""

from __future__ import annotations

import sqlalchemy as sa

from solver.solve import solve
from solver.types import ProblemError, SolveOptions

from ..access import get_project_for, is_lead_coordinator, require_lead_coordinator
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..partners.models import User
from ..projects.models import Project
from . import mapping
from .models import Plan

PARTNER_VISIBLE = ("proposed", "approved")
TRANSITIONS = {("draft", "proposed"), ("proposed", "draft"), ("proposed", "approved"),
               ("draft", "approved")}


def create_plan(actor: User, project: Project, time_limit: float = 10.0,
                base_plan_id: int | None = None, seed: int = 0) -> Plan:
    """Solve the project (keeping the base plan's locks) and store the next draft plan."""
    require_lead_coordinator(actor, project)
    base = None
    if base_plan_id is not None:
        base = db.session.get(Plan, base_plan_id)
        if base is None or base.project_id != project.id:
            raise InvalidInput.field("base_plan_id", "no such plan in this project")
    problem = mapping.problem_for(project, base)
    if not problem.items:
        raise InvalidInput.field("project", "the project has no work items yet")
    if not problem.firms:
        raise InvalidInput.field("project", "no participating firm has a capacity offer yet")
    try:
        result = solve(problem, SolveOptions(time_limit=time_limit, seed=seed))
    except ProblemError as error:
        raise InvalidInput.field(error.field, error.reason) from error
    return mapping.save_plan(project, result, actor.id, base)


def list_plans(actor: User, project: Project, status: str | None = None) -> sa.Select:
    """Every plan for the lead firm; proposed and approved plans for partners."""
    query = sa.select(Plan).filter_by(project_id=project.id).order_by(Plan.version.desc())
    if actor.firm_id != project.lead_firm_id:
        query = query.where(Plan.status.in_(PARTNER_VISIBLE))
    if status:
        query = query.where(Plan.status == status)
    return query


def get_plan(actor: User, plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan")
    project = get_project_for(actor, plan.project_id)
    if actor.firm_id != project.lead_firm_id and plan.status not in PARTNER_VISIBLE:
        raise NotFound("plan")
    return plan


def update_plan(actor: User, plan: Plan, fields: dict) -> Plan:
    """Propose a draft to the partners, or approve it (the approved plan before it is
    superseded). Lead coordinators only."""
    project = db.session.get(Project, plan.project_id)
    require_lead_coordinator(actor, project)
    status = fields.get("status", plan.status)
    if status != plan.status:
        if (plan.status, status) not in TRANSITIONS:
            raise InvalidInput.field("status", f"cannot go from {plan.status} to {status}")
        if status == "approved":
            for other in db.session.scalars(sa.select(Plan).filter_by(
                    project_id=project.id, status="approved")):
                other.status = "superseded"
        plan.status = status
    if "notes" in fields:
        plan.notes = fields["notes"]
    db.session.flush()
    return plan


def plan_view(actor: User, plan: Plan) -> dict:
    """The plan as this reader may see it. Lead coordinators see everything. Everyone else
    sees only their own firm's assignments and figures: no other firm, no costs of others,
    no totals from which another firm's rates or share could be read."""
    project = db.session.get(Project, plan.project_id)
    base = {"id": plan.id, "project_id": plan.project_id, "version": plan.version,
            "status": plan.status, "created_at": plan.created_at, "notes": plan.notes}
    summary = plan.summary or {}
    if is_lead_coordinator(actor, project):
        return base | {"solver_status": plan.solver_status, "objective": plan.objective,
                       "assignments": list(plan.assignments), "summary": summary}
    own = str(actor.firm_id)
    mine = [a for a in plan.assignments if a.firm_id == actor.firm_id]
    firm_rows = [row for row in summary.get("firms", []) if row.get("firm") == own]
    return base | {"assignments": mine, "summary": {
        "firms": [{k: v for k, v in row.items()
                   if k not in ("share_percent", "min_share_percent", "max_share_percent")}
                  for row in firm_rows],
        "face_firms": {site: firm for site, firm in summary.get("face_firms", {}).items()
                       if firm == own},
    }}


