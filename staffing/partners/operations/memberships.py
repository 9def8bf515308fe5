"""Partner firms invited to a project, and their answers.

Lead coordinators see every membership of their project; everyone else sees only their own
firm's. Who may move a membership from one status to another is in TRANSITIONS.
"""

import sqlalchemy as sa

from ...access import get_project_for, is_lead_coordinator, require_lead_coordinator
from ...dbtypes import utcnow
from ...errors import Forbidden, InvalidInput, NotFound
from ...extensions import db
from ...projects.models import Project
from ..models import Firm, Membership, User

# (from, to) -> who may make the move: "partner" (the invited firm's coordinators), "lead".
TRANSITIONS = {
    ("invited", "accepted"): "partner",
    ("invited", "declined"): "partner",
    ("accepted", "withdrawn"): "partner or lead",
    ("invited", "withdrawn"): "lead",
    ("declined", "invited"): "lead",
    ("withdrawn", "invited"): "lead",
}


def list_memberships(actor: User, project: Project, status: str | None = None) -> sa.Select:
    query = sa.select(Membership).filter_by(project_id=project.id).order_by(Membership.id)
    if not is_lead_coordinator(actor, project):
        query = query.where(Membership.firm_id == actor.firm_id)
    if status:
        query = query.where(Membership.status == status)
    return query


def get_membership(actor: User, membership_id: int) -> Membership:
    """The membership for its firm and the lead coordinators; NotFound for anyone else."""
    membership = db.session.get(Membership, membership_id)
    if membership is None:
        raise NotFound("membership")
    project = db.session.get(Project, membership.project_id)
    if actor.firm_id != membership.firm_id:
        get_project_for(actor, project.id)
        if not is_lead_coordinator(actor, project):
            raise NotFound("membership")
    return membership


def invite_firm(actor: User, project: Project, fields: dict) -> Membership:
    require_lead_coordinator(actor, project)
    firm_id = fields["firm_id"]
    if db.session.get(Firm, firm_id) is None:
        raise InvalidInput.field("firm_id", "no such firm")
    if firm_id == project.lead_firm_id:
        raise InvalidInput.field("firm_id", "the lead firm takes part without an invitation")
    if db.session.scalar(sa.select(Membership.id).filter_by(project_id=project.id,
                                                            firm_id=firm_id)):
        raise InvalidInput.field("firm_id", "the firm is already invited; change its status")
    membership = Membership(project_id=project.id, firm_id=firm_id,
                            message=fields.get("message", ""))
    db.session.add(membership)
    db.session.flush()
    return membership


def update_membership(actor: User, membership: Membership, fields: dict) -> Membership:
    """Answer an invitation (the partner), withdraw, or re-invite (the lead)."""
    project = db.session.get(Project, membership.project_id)
    lead = is_lead_coordinator(actor, project)
    own = actor.firm_id == membership.firm_id and actor.can_coordinate
    if not (lead or own):
        raise Forbidden("only the firm's coordinators or the lead's may change this")
    new_status = fields.get("status", membership.status)
    if new_status != membership.status:
        allowed = TRANSITIONS.get((membership.status, new_status))
        if allowed is None:
            raise InvalidInput.field(
                "status", f"cannot go from {membership.status} to {new_status}")
        if not ((own and "partner" in allowed) or (lead and "lead" in allowed)):
            who = {"lead": "the lead firm's coordinators",
                   "partner": "the invited firm's coordinators"}.get(allowed, allowed)
            raise Forbidden(f"only {who} may change the status from {membership.status} "
                            f"to {new_status}")
        membership.status = new_status
        membership.responded_at = utcnow() if own else membership.responded_at
    if "message" in fields:
        membership.message = fields["message"]
    db.session.flush()
    return membership


def delete_membership(actor: User, membership: Membership) -> None:
    """Remove the firm from the project; its offer stays for the record until deleted."""
    require_lead_coordinator(actor, db.session.get(Project, membership.project_id))
    db.session.delete(membership)
    db.session.flush()
