"""Plans over HTTP: solve a small project, store it, show each reader their part."""

import datetime as dt
import json

import pytest

from staffing.planning.mapping import problem_for, weights_for
from staffing.planning.models import Assignment, Plan
from tests.conftest import Matching


@pytest.fixture
def rollout(db, create_firm, create_user, create_project, create_membership, create_site,
            create_skill, create_work_item, create_offer, auth):
    lead = create_firm(name="Lead IT", latitude=53.55, longitude=9.99)
    north = create_firm(name="Nord IT", latitude=53.6, longitude=10.0)
    south = create_firm(name="Süd IT", latitude=48.1, longitude=11.6)
    project = create_project(lead_firm=lead, start_on=dt.date(2027, 3, 1),
                             end_on=dt.date(2027, 3, 31))
    create_membership(project, north)
    create_membership(project, south)
    desktop, server = create_skill(project, code="desktop"), create_skill(project, "winserver")
    hamburg = create_site(project, name="Hamburg", latitude=53.55, longitude=9.99)
    srv = create_work_item(hamburg, skill=server, ref="HH-SRV", kind="server", quantity=1,
                           effort_hours=12, min_proficiency=1)
    create_work_item(hamburg, skill=desktop, ref="HH-DT", quantity=20, effort_hours=1.5,
                     min_proficiency=1, depends_on=[srv])
    create_offer(project, lead, {desktop: (3, "70.00"), server: (4, "90.00")},
                 min_share_percent=0, max_share_percent=100)
    create_offer(project, north, {desktop: (3, "50.00")}, min_share_percent=0,
                 max_share_percent=100)
    create_offer(project, south, {desktop: (5, "40.00")}, min_share_percent=0,
                 max_share_percent=100)
    return {
        "project": project, "lead": lead, "north": north, "south": south,
        "lead_h": auth(create_user(firm=lead, role="coordinator")),
        "north_h": auth(create_user(firm=north, role="coordinator")),
        "south_h": auth(create_user(firm=south, role="member")),
    }


def plan_of(client, project_id, headers, **args):
    """Start a solve (it runs inline in tests), check it was accepted, return its plan."""
    started = client.post(f"/api/v1/projects/{project_id}/solve-jobs", json=args,
                          headers=headers)
    assert started.status_code == 202, started.json
    assert started.headers["Location"] == f"/api/v1/solve-jobs/{started.json['id']}"
    job = started.json
    assert job["status"] == "done", job
    response = client.get(f"/api/v1/plans/{job['plan_id']}", headers=headers)
    assert response.status_code == 200
    return response.json


def test_weights_follow_the_ranked_priorities():
    weights = weights_for(["cost", "coverage"])
    assert weights.cost == 2.0 and weights.coverage == 1000.0
    assert weights.fairness == 0.0 and weights.stability == 0.0


def test_problem_for_maps_calendar_offers_and_dependencies(rollout):
    problem = problem_for(rollout["project"])
    assert len(problem.working_days) == 23  # March 2027, Monday to Friday
    assert {f.name for f in problem.firms} == {"Lead IT", "Nord IT", "Süd IT"}
    desktops = next(i for i in problem.items if i.kind == "desktop_batch")
    assert desktops.hours == 30.0 and len(desktops.depends_on) == 1


def test_lead_plans_and_partners_see_only_their_slice(client, db, rollout):
    url = f"/api/v1/projects/{rollout['project'].id}/plans"
    plan = plan_of(client, rollout["project"].id, rollout["lead_h"], time_limit=5)
    assert plan["version"] == 1 and plan["status"] == "draft"
    assert plan["summary"]["status"] == "optimal" and plan["summary"]["unassigned"] == []
    by_item = {a["work_item_id"]: a for a in plan["assignments"]}
    assert len(by_item) == 2
    firms = {a["firm_id"] for a in plan["assignments"]}
    # Süd IT is cheapest for desktops but 600 km away: outside its radius of 150 km
    assert rollout["south"].id not in firms
    # drafts are the lead firm's business
    plan_url = f"/api/v1/plans/{plan['id']}"
    assert client.get(plan_url, headers=rollout["north_h"]).status_code == 404
    assert client.get(url, headers=rollout["north_h"]).json == []
    proposed = Matching(client).patch(plan_url,
                                      json={"status": "proposed"}, headers=rollout["lead_h"])
    assert proposed.json["status"] == "proposed"
    north_view = client.get(plan_url, headers=rollout["north_h"]).json
    assert all(a["firm_id"] == rollout["north"].id for a in north_view["assignments"])
    text = json.dumps(north_view)
    assert "objective" not in north_view and "explanations" not in text
    assert "70.0" not in text and "Lead IT" not in text
    assert Matching(client).patch(plan_url, json={"status": "approved"},
                        headers=rollout["north_h"]).status_code == 403


def test_replanning_keeps_locks(client, db, rollout):
    first = plan_of(client, rollout["project"].id, rollout["lead_h"], time_limit=5)
    desk = next(a for a in first["assignments"] if a["firm_id"] != rollout["lead"].id) \
        if any(a["firm_id"] != rollout["lead"].id for a in first["assignments"]) \
        else first["assignments"][-1]
    row = db.session.get(Assignment, desk["id"])
    row.firm_id, row.is_firm_locked = rollout["lead"].id, True
    db.session.commit()
    second = plan_of(client, rollout["project"].id, rollout["lead_h"], time_limit=5,
                     base_plan_id=first["id"])
    kept = next(a for a in second["assignments"] if a["work_item_id"] == desk["work_item_id"])
    assert kept["firm_id"] == rollout["lead"].id and kept["is_firm_locked"]
    assert second["version"] == 2


def test_planning_needs_offers_and_valid_base(client, create_firm, create_project,
                                              create_user, create_site, create_work_item,
                                              auth):
    lead = create_firm()
    project = create_project(lead_firm=lead)
    headers = auth(create_user(firm=lead, role="admin"))
    url = f"/api/v1/projects/{project.id}/solve-jobs"
    empty = client.post(url, json={}, headers=headers)
    assert empty.status_code == 422 and "no work items" in empty.json["message"]
    create_work_item(create_site(project))
    no_firms = client.post(url, json={}, headers=headers)
    assert no_firms.status_code == 422 and "capacity offer" in no_firms.json["message"]
    bad_base = client.post(url, json={"base_plan_id": 999999}, headers=headers)
    assert bad_base.status_code == 422 and "base_plan_id" in bad_base.json["errors"]


def test_approving_supersedes_the_previous_plan(client, db, rollout):
    ids = [plan_of(client, rollout["project"].id, rollout["lead_h"], time_limit=2)["id"]
           for _ in range(2)]
    for plan_id in ids:
        response = Matching(client).patch(f"/api/v1/plans/{plan_id}", json={"status": "approved"},
                                headers=rollout["lead_h"])
        assert response.status_code == 200
    db.session.expire_all()
    assert [db.session.get(Plan, i).status for i in ids] == ["superseded", "approved"]
    back = Matching(client).patch(f"/api/v1/plans/{ids[0]}", json={"status": "draft"},
                        headers=rollout["lead_h"])
    assert back.status_code == 422


def test_plan_patch_needs_a_change_and_booleans_that_are_booleans(client, rollout):
    plan = plan_of(client, rollout["project"].id, rollout["lead_h"], time_limit=2)
    url = f"/api/v1/plans/{plan['id']}"
    for body in ({}, {"confirm_stale": True}):  # a flag alone changes nothing
        response = Matching(client).patch(url, json=body, headers=rollout["lead_h"])
        assert response.status_code == 422 and "_schema" in response.json["errors"]
    response = Matching(client).patch(url, json={"status": "proposed", "confirm_stale": 0},
                            headers=rollout["lead_h"])
    assert response.status_code == 422 and "confirm_stale" in response.json["errors"]


def test_a_solve_without_a_body_takes_the_defaults(client, rollout):
    response = client.post(f"/api/v1/projects/{rollout['project'].id}/solve-jobs",
                           headers=rollout["lead_h"])
    assert response.status_code == 202
    assert response.json["options"]["time_limit"] == 10.0
    spec = client.get("/api/v1/openapi.json").json
    solve = spec["paths"]["/api/v1/projects/{project_id}/solve-jobs"]["post"]
    assert solve["requestBody"].get("required", False) is False
    assert client.post(f"/api/v1/projects/{rollout['project'].id}/solve-jobs",
                       json={"base_plan_id": 2**31}, headers=rollout["lead_h"]
                       ).status_code == 422


def test_an_exclusion_of_a_firm_without_an_offer_does_not_stop_planning(
        client, db, rollout, create_firm, create_membership, create_exclusion):
    """The lead bars a partner that has not offered yet: the problem leaves it out, and the
    bar holds once the partner offers."""
    newcomer = create_firm(name="Neu IT")
    create_membership(rollout["project"], newcomer, status="accepted")
    create_exclusion(rollout["project"], newcomer, None, reason="client's wish")
    problem = problem_for(rollout["project"])
    assert str(newcomer.id) not in {firm.id for firm in problem.firms}
    assert problem.exclusions == ()
    plan = plan_of(client, rollout["project"].id, rollout["lead_h"], time_limit=2)
    assert plan["assignments"]
