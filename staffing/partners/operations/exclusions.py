"""Conflicts of interest: a firm barred from a site or the whole client. Lead coordinators only."""

import sqlalchemy as sa

from ...access import is_lead_coordinator, require_lead_coordinator
from ...errors import InvalidInput, NotFound
from ...extensions import db
from ...projects.models import Project, Site
from ..models import Exclusion, Firm, User


def _require_exclusions_visible(actor: User, project: Project) -> None:
    if not is_lead_coordinator(actor, project):
        raise NotFound("exclusion")


def list_exclusions(actor: User, project: Project, firm_id: int | None = None,
                    site_id: int | None = None) -> sa.Select:
    """The project's exclusions: only the lead coordinators know that any exist, so everyone
    else gets NotFound, for the list as for each one."""
    _require_exclusions_visible(actor, project)
    query = sa.select(Exclusion).filter_by(project_id=project.id).order_by(Exclusion.id)
    if firm_id is not None:
        query = query.where(Exclusion.firm_id == firm_id)
    if site_id is not None:
        query = query.where(Exclusion.site_id == site_id)
    return query


def get_exclusion(actor: User, exclusion_id: int) -> Exclusion:
    """Only the lead coordinators know exclusions exist; everyone else gets NotFound."""
    exclusion = db.session.get(Exclusion, exclusion_id)
    project = db.session.get(Project, exclusion.project_id) if exclusion else None
    # one answer, word for word, whether it does not exist, is in a project the actor is
    # not in, or is in the actor's project but theirs to know
    if project is None or not is_lead_coordinator(actor, project):
        raise NotFound("exclusion")
    return exclusion


def _check_target(project: Project, firm_id: int, site_id: int | None,
                  exclusion_id: int | None = None) -> None:
    if db.session.get(Firm, firm_id) is None:
        raise InvalidInput.field("firm_id", "no such firm")
    if firm_id == project.lead_firm_id:
        raise InvalidInput.field("firm_id", "the lead firm cannot exclude itself")
    if site_id is not None:
        site = db.session.get(Site, site_id)
        if site is None or site.project_id != project.id:
            raise InvalidInput.field("site_id", "no such site in this project")
    same = db.session.scalar(sa.select(Exclusion.id).filter_by(
        project_id=project.id, firm_id=firm_id, site_id=site_id))
    if same is not None and same != exclusion_id:
        raise InvalidInput.field("site_id", "this exclusion already exists")


def create_exclusion(actor: User, project: Project, fields: dict) -> Exclusion:
    _require_exclusions_visible(actor, project)
    _check_target(project, fields["firm_id"], fields.get("site_id"))
    exclusion = Exclusion(project_id=project.id, created_by_id=actor.id, **fields)
    db.session.add(exclusion)
    db.session.flush()
    return exclusion


def update_exclusion(actor: User, exclusion: Exclusion, fields: dict) -> Exclusion:
    project = db.session.get(Project, exclusion.project_id)
    require_lead_coordinator(actor, project)
    merged = {"firm_id": exclusion.firm_id, "site_id": exclusion.site_id} | fields
    _check_target(project, merged["firm_id"], merged["site_id"], exclusion.id)
    for key, value in fields.items():
        setattr(exclusion, key, value)
    db.session.flush()
    return exclusion


def delete_exclusion(actor: User, exclusion: Exclusion) -> None:
    require_lead_coordinator(actor, db.session.get(Project, exclusion.project_id))
    db.session.delete(exclusion)
    db.session.flush()
