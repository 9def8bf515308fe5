"""Who may see and change what. Out-of-reach objects raise NotFound, never Forbidden."""

import sqlalchemy as sa

from .errors import Forbidden, NotFound
from .extensions import db
from .partners.models import CapacityOffer, Membership, User
from .planning.models import Assignment, Plan
from .projects.models import Project, WorkItem

VISIBLE_MEMBERSHIP = ("invited", "accepted")


def is_lead(actor: User, project: Project) -> bool:
    return actor.firm_id == project.lead_firm_id


def is_lead_coordinator(actor: User, project: Project) -> bool:
    """The lead firm's admins and coordinators see and edit everything in the project."""
    return is_lead(actor, project) and actor.can_coordinate


def membership_of(firm_id: int, project: Project) -> Membership | None:
    return db.session.scalar(
        sa.select(Membership).filter_by(project_id=project.id, firm_id=firm_id)
    )


def is_participant(actor: User, project: Project) -> bool:
    """The lead firm, or a partner invited to or working on the project."""
    if is_lead(actor, project):
        return True
    membership = membership_of(actor.firm_id, project)
    return membership is not None and membership.status in VISIBLE_MEMBERSHIP


def visible_project_ids(actor: User) -> sa.Select:
    """A select of the ids of every project the actor's firm leads or partners on."""
    partnered = sa.select(Membership.project_id).where(
        Membership.firm_id == actor.firm_id, Membership.status.in_(VISIBLE_MEMBERSHIP)
    )
    led = sa.select(Project.id).where(Project.lead_firm_id == actor.firm_id)
    return sa.union(led, partnered)


def get_project_for(actor: User, project_id: int) -> Project:
    """The project if the actor takes part in it; NotFound otherwise."""
    project = db.session.get(Project, project_id)
    if project is None or not is_participant(actor, project):
        raise NotFound("project")
    return project


def require_lead_coordinator(actor: User, project: Project, what: str = "change this") -> None:
    """Raise Forbidden unless the actor coordinates for the lead firm (project already visible)."""
    if not is_lead_coordinator(actor, project):
        raise Forbidden(f"only the lead firm's coordinators may {what}")


def can_read_offer(actor: User, offer: CapacityOffer, project: Project) -> bool:
    """A firm reads its own offer; the lead coordinators read every offer of their project."""
    return actor.firm_id == offer.firm_id or is_lead_coordinator(actor, project)


def can_edit_offer(actor: User, offer_firm_id: int, project: Project) -> bool:
    own = actor.firm_id == offer_firm_id and actor.can_coordinate
    return own or is_lead_coordinator(actor, project)


def partner_visible_ids(project: Project) -> sa.Select:
    """The plans a partner may read: the approved plan and the newest proposed one (older
    proposals were withdrawn by the newer)."""
    newest_proposed = (sa.select(sa.func.max(Plan.id))
                       .where(Plan.project_id == project.id, Plan.status == "proposed")
                       .scalar_subquery())
    return sa.select(Plan.id).where(
        Plan.project_id == project.id,
        sa.or_(Plan.status == "approved", Plan.id == newest_proposed))


SITE_PLACE_DECIMALS = 1  # a partner's view of a site's coordinates: about 10 km, the town


def sites_in_full(actor: User, project: Project) -> set[int] | None:
    """The sites whose street address and exact coordinates the actor may see: every site
    (None) for the lead firm; for a partner only those where its firm has work in a plan it
    may read (the approved one, the newest proposed one), so that a rival's client list is not
    handed out before the work is; elsewhere it sees the region, the town-level place, the
    skills and the volumes."""
    if is_lead(actor, project):
        return None
    return set(db.session.scalars(
        sa.select(WorkItem.site_id).join(Assignment, Assignment.work_item_id == WorkItem.id)
        .where(Assignment.plan_id.in_(partner_visible_ids(project)),
               Assignment.firm_id == actor.firm_id).distinct()))
