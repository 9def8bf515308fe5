"""HTML pages of the projects domain: the dashboard and one project's page."""

from flask import Blueprint, render_template
from flask_login import login_required
from sqlalchemy.orm import selectinload

from ..access import is_lead_coordinator
from ..extensions import db
from ..partners.operations import list_offers
from ..security import current_actor
from . import operations as ops
from .models import WorkItem

web = Blueprint("web", __name__)


@web.get("/")
@login_required
def dashboard():
    """The projects the user's firm leads or partners on."""
    actor = current_actor()
    projects = db.session.scalars(ops.list_projects(actor)).all()
    return render_template("dashboard.html", user=actor, projects=projects)


@web.get("/projects/<int:project_id>")
@login_required
def project(project_id: int):
    """Header, sites and work items of a project the user's firm is in; 404 otherwise.

    Offers: every firm's summary for the lead coordinators, the own firm's for anyone else.
    """
    actor = current_actor()
    project = ops.get_project(actor, project_id)
    sites = db.session.scalars(ops.list_sites(actor, project)).all()
    work_items = db.session.scalars(ops.list_work_items(actor, project).options(
        selectinload(WorkItem.site), selectinload(WorkItem.skill),
        selectinload(WorkItem.depends_on),
    )).all()
    offers = db.session.scalars(list_offers(actor, project)).all()
    return render_template(
        "project.html", user=actor, project=project, sites=sites, work_items=work_items,
        offers=offers, sees_all_offers=is_lead_coordinator(actor, project),
    )
