"""Bans: a firm barred from one work item by the lead's coordinators (the planner's ban
rule, solver.rules.eligibility). Like exclusions, only the lead's coordinators know that any
exist: everyone else gets NotFound, for the list as for each one. A ban is an input of the
planner: plans made before it are stale."""

from __future__ import annotations

import sqlalchemy as sa

from ...access import is_lead_coordinator, require_lead_coordinator
from ...errors import Conflict, InvalidInput, NotFound
from ...extensions import db
from ...partners.models import Firm, User
from ...projects.models import Project, WorkItem
from ..models import Ban


def list_bans(actor: User, project: Project, work_item_id: int | None = None,
              firm_id: int | None = None) -> sa.Select:
    if not is_lead_coordinator(actor, project):
        raise NotFound("ban")
    query = sa.select(Ban).filter_by(project_id=project.id).order_by(Ban.id)
    if work_item_id is not None:
        query = query.where(Ban.work_item_id == work_item_id)
    if firm_id is not None:
        query = query.where(Ban.firm_id == firm_id)
    return query


def get_ban(actor: User, ban_id: int) -> Ban:
    """One answer, word for word, whether it does not exist or is not the actor's to know."""
    ban = db.session.get(Ban, ban_id)
    project = db.session.get(Project, ban.project_id) if ban else None
    if project is None or not is_lead_coordinator(actor, project):
        raise NotFound("ban")
    return ban


def create_ban(actor: User, project: Project, fields: dict) -> Ban:
    """Bar a firm from one of the project's work items."""
    if not is_lead_coordinator(actor, project):  # not even that bans exist
        raise NotFound("ban")
    item = db.session.get(WorkItem, fields["work_item_id"])
    if item is None or item.project_id != project.id:
        raise InvalidInput.field("work_item_id", "no such work item in this project")
    if db.session.get(Firm, fields["firm_id"]) is None:
        raise InvalidInput.field("firm_id", "no such firm")
    same = db.session.scalar(sa.select(Ban.id).filter_by(
        work_item_id=item.id, firm_id=fields["firm_id"]))
    if same is not None:
        raise Conflict("this firm is already banned from this work item",
                       {"ban_id": [str(same)]})
    ban = Ban(project_id=project.id, created_by_id=actor.id, **fields)
    db.session.add(ban)
    db.session.flush()
    return ban


def delete_ban(actor: User, ban: Ban) -> None:
    require_lead_coordinator(actor, db.session.get(Project, ban.project_id))
    db.session.delete(ban)
    db.session.flush()
