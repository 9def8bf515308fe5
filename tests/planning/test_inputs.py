"""The project's inputs kept per process (staffing.planning.inputs): every change the planner
would read renews the project's inputs version in its own transaction, so what a process kept
is never what the project was; changes the planner does not read keep it."""

import datetime as dt
from decimal import Decimal

import pytest
import sqlalchemy as sa

from staffing.extensions import db
from staffing.partners.models import Availability, Exclusion, Membership, OfferSkill
from staffing.planning import inputs, mapping
from staffing.planning.models import Ban, Plan
from staffing.projects.models import Project, Site, WorkItem

from ..projects.test_csv_import import SITES, _upload


def _version(project) -> str:
    return db.session.scalar(sa.select(Project.inputs_version).filter_by(id=project.id))


def _same_as_fresh(project) -> None:
    kept = inputs.current(project)
    fresh = mapping.problem_for(project)
    assert kept.problem == fresh
    assert kept.fingerprint == mapping.input_fingerprint(fresh)


def _change(rollout, what: str) -> None:
    project, desk, offer = rollout["project"], rollout["desk"], rollout["offer"]
    north = rollout["north"]
    if what == "project holidays":
        project.holidays = [dt.date(2027, 3, 3)]
    elif what == "site access days":
        db.session.scalar(sa.select(Site).filter_by(project_id=project.id)).access_weekdays = [1, 2]
    elif what == "work item effort":
        desk.effort_hours = 2.5
    elif what == "work item dependency":
        desk.depends_on = []
    elif what == "offer radius":
        offer.travel_radius_km = 10.0
    elif what == "offer skill rate":
        db.session.scalar(sa.select(OfferSkill).filter_by(offer_id=offer.id)).hourly_rate = \
            Decimal("51.00")
    elif what == "offer days":
        db.session.add(Availability(offer_id=offer.id, start_on=dt.date(2027, 3, 8),
                                    end_on=dt.date(2027, 3, 9), technicians=5,
                                    hours_per_technician=8.0))
    elif what == "membership":
        db.session.scalar(sa.select(Membership).filter_by(
            project_id=project.id, firm_id=north.id)).status = "declined"
    elif what == "exclusion":
        db.session.add(Exclusion(project_id=project.id, firm_id=north.id))
    elif what == "ban":
        db.session.add(Ban(project_id=project.id, work_item_id=desk.id, firm_id=north.id,
                           created_by_id=rollout["lead_user"].id))
    elif what == "firm location":
        north.latitude = 48.14
    elif what == "deleted offer skill":
        db.session.delete(db.session.scalar(sa.select(OfferSkill).filter_by(offer_id=offer.id)))
    else:
        raise AssertionError(what)
    db.session.flush()


CHANGES = ["project holidays", "site access days", "work item effort", "work item dependency",
           "offer radius", "offer skill rate", "offer days", "membership", "exclusion", "ban",
           "firm location", "deleted offer skill"]


@pytest.mark.parametrize("what", CHANGES)
def test_every_input_change_renews_the_version(rollout, what):
    project = rollout["project"]
    _same_as_fresh(project)  # kept now
    before = _version(project)
    _change(rollout, what)
    assert _version(project) != before
    _same_as_fresh(project)


def test_a_csv_import_renews_the_version(client, rollout):
    project = rollout["project"]
    _same_as_fresh(project)
    db.session.commit()
    before = _version(project)
    assert _upload(client, rollout["lead_h"], project, "sites", SITES).status_code == 200
    db.session.expire_all()
    assert _version(project) != before
    _same_as_fresh(project)


def test_what_the_planner_does_not_read_keeps_the_version(rollout):
    project = rollout["project"]
    kept = inputs.current(project)
    before = _version(project)
    project.description = "a note for the team"
    rollout["lead_user"].name = "Renamed"
    db.session.flush()
    assert _version(project) == before
    assert inputs.current(project) is kept


def test_a_plan_s_status_renews_it_its_report_does_not(rollout):
    project = rollout["project"]
    plan = Plan(project_id=project.id, version=1, status="draft", summary={})
    db.session.add(plan)
    db.session.flush()
    before = _version(project)
    plan.summary = {"objective": 1.0}
    db.session.flush()
    assert _version(project) == before
    plan.status = "approved"
    db.session.flush()
    approved = _version(project)
    assert approved != before
    db.session.delete(plan)  # its hours leave the fair-share targets
    db.session.flush()
    assert _version(project) != approved


def test_a_rolled_back_change_leaves_nothing_kept_behind(rollout):
    project = rollout["project"]
    db.session.commit()
    rollout["desk"].effort_hours = 9.0
    db.session.flush()
    changed = inputs.current(project)  # kept under the version of a change about to go
    db.session.rollback()
    rollout["desk"].effort_hours = 4.0  # the next change: a new version, not the old number
    db.session.flush()
    now = inputs.current(project)
    assert now is not changed
    _same_as_fresh(project)


def test_a_row_changed_after_the_request_loaded_it_is_read_as_it_is_now(rollout):
    # on PostgreSQL each statement sees the latest commit: another transaction may change
    # and commit a row this request loaded before. Done here behind the session's back (a
    # statement on its connection, as the other transaction's commit would show): the build
    # must read the row as it is now, not as loaded, or it keeps old inputs under the new
    # version (mapping.problem_for reads every row fresh)
    project = rollout["project"]
    assert project.max_firms_per_site == 2 and rollout["desk"].effort_hours == 1.5
    db.session.connection().execute(
        sa.update(Project.__table__).where(Project.__table__.c.id == project.id)
        .values(max_firms_per_site=1, inputs_version="renewed-elsewhere"))
    db.session.connection().execute(
        sa.update(WorkItem.__table__).where(WorkItem.__table__.c.id == rollout["desk"].id)
        .values(effort_hours=3.0))
    kept = inputs.current(project)
    assert kept.problem.policy.max_firms_per_site == 1
    assert next(i for i in kept.problem.items if i.id == str(rollout["desk"].id)).hours == 60.0
