"""Fixtures of the planning tests: a small rollout led by Lead IT with Nord IT as partner."""

import datetime as dt

import pytest

from staffing.planning import operations as ops
from staffing.planning.models import SolveJob


@pytest.fixture
def rollout(db, create_firm, create_user, create_project, create_membership, create_site,
            create_skill, create_work_item, create_offer, auth):
    lead = create_firm(name="Lead IT", latitude=53.55, longitude=9.99)
    north = create_firm(name="Nord IT", latitude=53.6, longitude=10.0)
    project = create_project(lead_firm=lead, start_on=dt.date(2027, 3, 1),
                             end_on=dt.date(2027, 3, 31))
    create_membership(project, north)
    desktop, server = create_skill(project, code="desktop"), create_skill(project, "winserver")
    hamburg = create_site(project, name="Hamburg", latitude=53.55, longitude=9.99)
    srv = create_work_item(hamburg, skill=server, ref="HH-SRV", kind="server", quantity=1,
                           effort_hours=12, min_proficiency=1)
    desk = create_work_item(hamburg, skill=desktop, ref="HH-DT", quantity=20, effort_hours=1.5,
                            min_proficiency=1, depends_on=[srv])
    create_offer(project, lead, {desktop: (3, "70.00"), server: (4, "90.00")},
                 min_share_percent=0, max_share_percent=100)
    offer = create_offer(project, north, {desktop: (3, "50.00")}, min_share_percent=0,
                         max_share_percent=100)
    lead_user = create_user(firm=lead, role="coordinator")
    return {
        "project": project, "lead": lead, "north": north, "desk": desk, "offer": offer,
        "lead_user": lead_user, "lead_h": auth(lead_user),
        "north_h": auth(create_user(firm=north, role="coordinator")),
        "url": f"/api/v1/projects/{project.id}/solve-jobs",
    }


def queued_job(db, rollout, **fields) -> SolveJob:
    """A job that waits in a queue nobody reads (the embedded backend, not dispatched)."""
    job = ops.start_solve(rollout["lead_user"], rollout["project"], "embedded", time_limit=5)
    for key, value in fields.items():
        setattr(job, key, value)
    db.session.commit()
    return job


