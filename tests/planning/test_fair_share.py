"""Fair share across plans: a project that carries shares moves each firm's fairness target
by what it was short or over in the plans approved so far."""

import datetime as dt

import pytest

from staffing.planning.mapping import carried_targets
from staffing.planning.models import Ban, Plan


@pytest.fixture
def twins(db, create_firm, create_user, create_project, create_membership, create_site,
          create_skill, create_work_item, create_offer, auth):
    """Two partners alike in place, rates and capacity; ten equal desktop batches."""
    lead = create_firm(name="Lead IT", latitude=53.55, longitude=9.99)
    project = create_project(lead_firm=lead, start_on=dt.date(2027, 3, 1),
                             end_on=dt.date(2027, 3, 31), max_firms_per_site=2)
    desktop = create_skill(project, code="desktop")
    hamburg = create_site(project, name="Hamburg", latitude=53.55, longitude=9.99)
    items = [create_work_item(hamburg, skill=desktop, ref=f"DT-{n}", quantity=2,
                              effort_hours=2, min_proficiency=3) for n in range(10)]
    firms = {}
    for name in ("Alpha IT", "Beta IT"):
        firm = firms[name] = create_firm(name=name, latitude=53.56, longitude=10.0)
        create_membership(project, firm)
        create_offer(project, firm, {desktop: (3, "60.00")}, min_share_percent=0,
                     max_share_percent=100)
    return {"project": project, "items": items, "alpha": firms["Alpha IT"],
            "beta": firms["Beta IT"], "lead_h": auth(create_user(firm=lead,
                                                                 role="coordinator"))}


def _solve(client, twins) -> dict:
    started = client.post(f"/api/v1/projects/{twins['project'].id}/solve-jobs",
                          json={"time_limit": 5}, headers=twins["lead_h"]).json
    assert started["status"] == "done", started
    return client.get(f"/api/v1/plans/{started['plan_id']}", headers=twins["lead_h"]).json


def _count(plan, firm) -> int:
    return sum(a["firm_id"] == firm.id for a in plan["assignments"])


@pytest.mark.parametrize("carries", [True, False])
def test_a_firm_short_in_the_approved_plan_is_favoured_in_the_next(client, db, twins,
                                                                   carries):
    project = twins["project"]
    response = client.patch(f"/api/v1/projects/{project.id}", json={
        "carries_fair_share": carries}, headers=twins["lead_h"] | {
        "If-Match": client.get(f"/api/v1/projects/{project.id}",
                               headers=twins["lead_h"]).headers["ETag"]})
    assert response.status_code == 200 and response.json["carries_fair_share"] is carries
    # phase one: Alpha kept off eight of the ten items, so it gets two (20 % of the hours)
    for item in twins["items"][:8]:
        db.session.add(Ban(project_id=project.id, work_item_id=item.id,
                           firm_id=twins["alpha"].id))
    db.session.commit()
    first = _solve(client, twins)
    assert (_count(first, twins["alpha"]), _count(first, twins["beta"])) == (2, 8)
    db.session.get(Plan, first["id"]).approved_at = dt.datetime.now(dt.UTC)
    db.session.get(Plan, first["id"]).status = "approved"
    db.session.query(Ban).delete()
    db.session.commit()
    # 2m - s within 0-100: Alpha 100 - 20 = 80, Beta 100 - 80 = 20
    assert carried_targets(project) == {twins["alpha"].id: 80.0, twins["beta"].id: 20.0}
    second = _solve(client, twins)
    expected = (8, 2) if carries else (5, 5)  # without carrying: the middles, 50-50
    assert (_count(second, twins["alpha"]), _count(second, twins["beta"])) == expected
    # the targets come from the approved plans, not from the inputs: the second plan is
    # current (the first is stale, as its bans were lifted)
    assert second["is_stale"] is False
    assert client.get(f"/api/v1/plans/{first['id']}",
                      headers=twins["lead_h"]).json["is_stale"] is True


def test_nothing_approved_carries_nothing(db, twins):
    assert carried_targets(twins["project"]) == {}
