"""Plans: list them, read each reader's part, propose and approve them."""

from __future__ import annotations

import sqlalchemy as sa

from ...access import (
    get_project_for,
    is_lead_coordinator,
    partner_visible_ids,
    require_lead_coordinator,
)
from ...dbtypes import utcnow
from ...errors import InvalidInput, NotFound
from ...extensions import db
from ...partners.models import User
from ...projects.models import Project
from .. import inputs
from ..models import Assignment, Plan

# a superseded plan may be approved again (going back to an earlier plan: confirm_older)
TRANSITIONS = {("draft", "proposed"), ("proposed", "draft"), ("proposed", "approved"),
               ("draft", "approved"), ("superseded", "approved")}
NO_PLAN_STATUSES = ("infeasible", "unknown")  # solver answers that may hold no assignment
PARTNER_HIDDEN_FIELDS = ("share_percent", "min_share_percent", "max_share_percent",
                         "target_share_percent")


def list_plans(actor: User, project: Project, status: str | None = None) -> sa.Select:
    """Every plan for the lead firm; the approved and the current proposed plan for
    partners."""
    query = sa.select(Plan).filter_by(project_id=project.id).order_by(Plan.version.desc())
    if actor.firm_id != project.lead_firm_id:
        query = query.where(Plan.id.in_(partner_visible_ids(project)))
    if status:
        query = query.where(Plan.status == status)
    return query


def get_plan(actor: User, plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None:
        raise NotFound("plan")
    try:
        project = get_project_for(actor, plan.project_id)
    except NotFound:  # the same answer whether the plan exists or not
        raise NotFound("plan") from None
    if actor.firm_id != project.lead_firm_id and plan.id not in db.session.scalars(
            partner_visible_ids(project)).all():
        raise NotFound("plan")
    return plan


def is_stale(plan: Plan, current: str | None) -> bool:
    """Whether the project's inputs changed since the plan was made (`current`: the
    project's fingerprint now). A plan of unknown inputs (made before fingerprints) is."""
    return plan.input_fingerprint is None or plan.input_fingerprint != current


def update_plan(actor: User, plan: Plan, fields: dict) -> Plan:
    """Propose a draft to the partners, or approve it (the approved plan before it is
    superseded). Lead coordinators only. Approving needs a plan with assignments, and an
    explicit confirmation when the plan is stale or older than the approved one."""
    project = db.session.get(Project, plan.project_id)
    require_lead_coordinator(actor, project)
    db.session.refresh(project, with_for_update=True)  # two approvals at once: one by one
    status = fields.get("status", plan.status)
    if status != plan.status:
        if (plan.status, status) not in TRANSITIONS:
            raise InvalidInput.field("status", f"cannot go from {plan.status} to {status}")
        if status == "proposed" and not plan.assignments:
            raise InvalidInput.field(
                "status", f"the plan assigns no work item (the planner answered "
                          f"{plan.solver_status}); there is nothing to propose")
        if status == "approved":
            _check_approvable(project, plan, fields)
            plan.approved_at, plan.approved_by_id = utcnow(), actor.id
        if status in ("proposed", "approved"):
            # one approved plan and one proposal at most: the others are superseded, and no
            # partner sees an older proposal again
            replaced = ("approved", "proposed") if status == "approved" else ("proposed",)
            for other in db.session.scalars(sa.select(Plan).where(
                    Plan.project_id == project.id, Plan.id != plan.id,
                    Plan.status.in_(replaced))):
                other.status = "superseded"
        plan.status = status
    if "notes" in fields:
        plan.notes = fields["notes"]
    db.session.flush()
    return plan


def _check_approvable(project: Project, plan: Plan, fields: dict) -> None:
    if not plan.assignments:
        raise InvalidInput.field(
            "status", f"the plan assigns no work item (the planner answered "
                      f"{plan.solver_status}); it cannot be approved")
    if is_stale(plan, current_fingerprint(project)) \
            and not fields.get("confirm_stale"):
        raise InvalidInput.field(
            "confirm_stale", "the project's sites, work items, offers, exclusions, bans or "
                             "policy changed since this plan was made; send confirm_stale: "
                             "true to approve it anyway, or start a new solve")
    newer = db.session.scalar(sa.select(Plan).where(
        Plan.project_id == project.id, Plan.status == "approved",
        Plan.version > plan.version))
    if newer is not None and not fields.get("confirm_older"):
        raise InvalidInput.field(
            "confirm_older", f"version {newer.version} is approved and newer than version "
                             f"{plan.version}; send confirm_older: true to approve the older "
                             f"one instead")


def current_fingerprint(project: Project) -> str:
    """The fingerprint of the project's inputs now (to compare with a plan's)."""
    return inputs.current(project).fingerprint


def plan_list_view(actor: User, project: Project, plans: list[Plan]) -> list[dict]:
    """The plans of a list, as this reader may see them (one fingerprint for the page).
    Whether a plan is stale is the lead coordinators' to see: a partner would learn from it
    that another firm changed its sealed offer."""
    lead = is_lead_coordinator(actor, project)
    current = current_fingerprint(project) if lead and plans else None
    assigned = dict(db.session.execute(
        sa.select(Assignment.plan_id, sa.func.count()).where(
            Assignment.plan_id.in_([plan.id for plan in plans])).group_by(Assignment.plan_id)
    ).all()) if lead and plans else {}
    authors = dict(db.session.execute(sa.select(User.id, User.name).where(
        User.id.in_({plan.author_id for plan in plans if plan.author_id}))).all()) \
        if lead and plans else {}
    rows = []
    for plan in plans:
        row = {"id": plan.id, "version": plan.version, "status": plan.status,
               "created_at": plan.created_at, "approved_at": plan.approved_at}
        if lead:
            row |= {"is_stale": is_stale(plan, current), "solver_status": plan.solver_status,
                    "cost": plan.cost,
                    "objective": plan.objective, "author_id": plan.author_id,
                    "author": authors.get(plan.author_id), "assigned": assigned.get(plan.id, 0),
                    "is_stopped_early": plan.is_stopped_early}
        rows.append(row)
    return rows


def plan_view(actor: User, plan: Plan) -> dict:
    """The plan as this reader may see it. Lead coordinators see everything. Everyone else
    sees only their own firm's assignments and figures: no other firm, no costs of others,
    no totals from which another firm's rates or share could be read."""
    project = db.session.get(Project, plan.project_id)
    base = {"id": plan.id, "project_id": plan.project_id, "version": plan.version,
            "status": plan.status, "created_at": plan.created_at, "notes": plan.notes,
            "approved_at": plan.approved_at}
    summary = plan.summary or {}
    if is_lead_coordinator(actor, project):
        return base | {"is_stale": is_stale(plan, current_fingerprint(project)),
                       "solver_status": plan.solver_status, "objective": plan.objective,
                       "cost": plan.cost, "travel_cost": plan.travel_cost,
                       "author_id": plan.author_id, "approved_by_id": plan.approved_by_id,
                       "is_stopped_early": plan.is_stopped_early,
                       "assignments": list(plan.assignments), "summary": summary}
    own = str(actor.firm_id)
    mine = [a for a in plan.assignments if a.firm_id == actor.firm_id]
    firm_rows = [row for row in summary.get("firms", []) if row.get("firm") == own]
    return base | {"assignments": mine, "summary": {
        "firms": [{k: v for k, v in row.items() if k not in PARTNER_HIDDEN_FIELDS}
                  for row in firm_rows],
        "face_firms": {site: firm for site, firm in summary.get("face_firms", {}).items()
                       if firm == own},
    }}
