"""Adjusting a plan over HTTP: lock, move (judged by the checker first), dry runs, the record
of who changed what, and bans."""

import datetime as dt

import pytest
import sqlalchemy as sa

from staffing.partners.models import Membership
from staffing.planning.models import Adjustment, Assignment, Plan


@pytest.fixture
def rollout(db, create_firm, create_user, create_project, create_membership, create_site,
            create_skill, create_work_item, create_offer, auth):
    """Lead IT alone has the server skill; Nord IT and Lead IT do desktops in Hamburg; Süd IT
    (Munich) is beyond reach of Hamburg; Alster IT does desktops in Hamburg too, dearest of
    all. The desktops depend on the server; at most two firms work at a site."""
    lead = create_firm(name="Lead IT", latitude=53.55, longitude=9.99)
    north = create_firm(name="Nord IT", latitude=53.6, longitude=10.0)
    south = create_firm(name="Süd IT", latitude=48.1, longitude=11.6)
    alster = create_firm(name="Alster IT", latitude=53.56, longitude=10.01)
    project = create_project(lead_firm=lead, start_on=dt.date(2027, 3, 1),
                             end_on=dt.date(2027, 3, 31))
    for firm in (north, south, alster):
        create_membership(project, firm)
    desktop, server = create_skill(project, code="desktop"), create_skill(project, "winserver")
    hamburg = create_site(project, name="Hamburg", latitude=53.55, longitude=9.99)
    srv = create_work_item(hamburg, skill=server, ref="HH-SRV", kind="server", quantity=1,
                           effort_hours=12, min_proficiency=1)
    desk = create_work_item(hamburg, skill=desktop, ref="HH-DT", quantity=4, effort_hours=2,
                            min_proficiency=1, depends_on=[srv])
    more = create_work_item(hamburg, skill=desktop, ref="HH-DT2", quantity=4, effort_hours=2,
                            min_proficiency=1)
    create_offer(project, lead, {desktop: (3, "70.00"), server: (4, "90.00")},
                 min_share_percent=0, max_share_percent=100)
    create_offer(project, north, {desktop: (3, "50.00")}, min_share_percent=0,
                 max_share_percent=100)
    create_offer(project, south, {desktop: (5, "40.00")}, min_share_percent=0,
                 max_share_percent=100)
    create_offer(project, alster, {desktop: (3, "95.00")}, min_share_percent=0,
                 max_share_percent=100)  # the dearest: a third firm at Hamburg, if ever
    other = create_project(lead_firm=lead)
    other_item = create_work_item(create_site(other), skill=create_skill(other))
    return {
        "project": project, "lead": lead, "north": north, "south": south, "srv": srv,
        "desk": desk, "more": more, "other_item": other_item,
        "lead_user": create_user(firm=lead, role="coordinator"),
        "north_h": auth(create_user(firm=north, role="coordinator")),
        "auth": auth,
    }


@pytest.fixture
def lead_h(rollout):
    return rollout["auth"](rollout["lead_user"])


@pytest.fixture
def plan(client, rollout, lead_h):
    started = client.post(f"/api/v1/projects/{rollout['project'].id}/solve-jobs",
                          json={"time_limit": 5}, headers=lead_h)
    assert started.status_code == 202 and started.json["status"] == "done", started.json
    return client.get(f"/api/v1/plans/{started.json['plan_id']}", headers=lead_h).json


def _of(plan, item) -> dict:
    return next(a for a in plan["assignments"] if a["work_item_id"] == item.id)


def _patch(client, headers, assignment_id, body):
    url = f"/api/v1/assignments/{assignment_id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    return client.patch(url, json=body, headers=headers | {"If-Match": etag})


def test_the_plan_gives_each_item_to_an_eligible_firm(plan, rollout):
    assert plan["solver_status"] == "optimal"
    assert _of(plan, rollout["srv"])["firm_id"] == rollout["lead"].id
    assert _of(plan, rollout["desk"])["firm_id"] == rollout["north"].id  # the cheaper in reach


def test_lock_is_saved_and_recorded_with_who_and_when(client, db, plan, rollout, lead_h):
    desk = _of(plan, rollout["desk"])
    response = _patch(client, lead_h, desk["id"], {"is_firm_locked": True})
    assert response.status_code == 200, response.json
    assert response.json["saved"] is True and response.json["preview"] is None
    assert response.json["assignment"]["is_firm_locked"] is True
    assert db.session.get(Assignment, desk["id"]).is_firm_locked is True
    history = client.get(f"/api/v1/plans/{plan['id']}/adjustments", headers=lead_h).json
    assert [(h["action"], h["user_id"], h["before"]["is_firm_locked"],
             h["after"]["is_firm_locked"]) for h in history] == [
        ("lock", rollout["lead_user"].id, False, True)]
    # unlocking is a change of its own
    assert _patch(client, lead_h, desk["id"], {"is_firm_locked": False}).json["saved"]
    assert len(client.get(f"/api/v1/plans/{plan['id']}/adjustments", headers=lead_h).json) == 2


def test_a_move_to_a_firm_without_the_skill_is_refused_and_nothing_changes(
        client, db, plan, rollout, lead_h):
    srv = _of(plan, rollout["srv"])
    response = _patch(client, lead_h, srv["id"], {"firm_id": rollout["north"].id})
    assert response.status_code == 422
    assert set(response.json) == {"code", "status", "message", "errors"}
    assert response.json["errors"]["firm_id"] == [
        "Nord IT cannot take it: lacks the skill winserver"]
    row = db.session.get(Assignment, srv["id"])
    assert (row.firm_id, row.is_firm_locked) == (rollout["lead"].id, False)
    assert db.session.query(Adjustment).count() == 0


def test_a_move_beyond_the_travel_radius_is_refused(client, plan, rollout, lead_h):
    response = _patch(client, lead_h, _of(plan, rollout["more"])["id"],
                      {"firm_id": rollout["south"].id})
    assert response.status_code == 422
    assert "outside its travel radius" in response.json["errors"]["firm_id"][0]


def test_a_dry_run_shows_the_move_and_its_cost_and_saves_nothing(client, db, plan, rollout,
                                                                 lead_h):
    desk = _of(plan, rollout["desk"])
    before = db.session.get(Plan, plan["id"]).cost
    response = _patch(client, lead_h, desk["id"],
                      {"firm_id": rollout["lead"].id, "dry_run": True})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["saved"] is False and body["preview"]["caused"] == []
    # 8 h of desktops at 70 EUR instead of 50 EUR: 160 EUR more (no travel: both in Hamburg)
    moved = body["preview"]["assignment"]
    assert moved["firm_id"] == rollout["lead"].id
    assert body["preview"]["cost_delta"] == pytest.approx(
        moved["cost"] - next(a["cost"] for a in plan["summary"]["assignments"]
                             if a["item"] == str(rollout["desk"].id)))
    assert body["preview"]["cost_delta"] > 0
    assert db.session.get(Assignment, desk["id"]).firm_id == rollout["north"].id
    assert db.session.get(Plan, plan["id"]).cost == before


def test_a_move_is_saved_locked_with_the_plan_s_figures_updated(client, db, plan, rollout,
                                                                lead_h):
    desk = _of(plan, rollout["desk"])
    response = _patch(client, lead_h, desk["id"], {"firm_id": rollout["lead"].id})
    assert response.status_code == 200, response.json
    assert response.json["saved"] is True
    row = db.session.get(Assignment, desk["id"])
    assert row.firm_id == rollout["lead"].id and row.is_firm_locked
    assert not row.is_date_locked  # the day did not move
    after = client.get(f"/api/v1/plans/{plan['id']}", headers=lead_h).json
    assert after["cost"] == pytest.approx(plan["cost"] + response.json["preview"]["cost_delta"])
    assert after["cost"] == pytest.approx(sum(a["cost"] for a in after["summary"]["assignments"]))
    hours = {row["firm"]: row["hours"] for row in after["summary"]["firms"]}
    # the server's 10.2 h and the desktops' 7.2 h (8 h less 5 % per level above the minimum)
    assert response.json["preview"]["assignment"]["hours"] == 7.2
    assert hours[str(rollout["lead"].id)] == pytest.approx(10.2 + 7.2)
    assert hours[str(rollout["north"].id)] == pytest.approx(7.2)  # HH-DT2 only
    history = client.get(f"/api/v1/plans/{plan['id']}/adjustments", headers=lead_h).json
    assert history[0]["action"] == "move"
    assert history[0]["before"]["firm_id"] == rollout["north"].id
    assert history[0]["after"]["firm_id"] == rollout["lead"].id


def test_a_move_before_the_item_it_depends_on_ends_lists_the_violation(client, plan, rollout,
                                                                     lead_h):
    srv, desk = _of(plan, rollout["srv"]), _of(plan, rollout["desk"])
    response = _patch(client, lead_h, desk["id"], {"start_on": srv["start_on"]})
    assert response.status_code == 422, response.json
    reasons = response.json["errors"]["start_on"]
    assert any("depends on" in reason or "not after" in reason for reason in reasons), reasons


def test_a_start_on_a_weekend_or_outside_the_project_is_refused(client, plan, rollout, lead_h):
    desk = _of(plan, rollout["desk"])
    for day in ("2027-03-06", "2027-05-03"):  # a Saturday; after the project's end
        response = _patch(client, lead_h, desk["id"], {"start_on": day})
        assert response.status_code == 422
        assert "not a working day" in response.json["errors"]["start_on"][0]


def test_a_move_to_a_firm_outside_the_project_is_refused(client, plan, rollout, lead_h,
                                                         create_firm):
    outsider = create_firm(name="Fremd IT")
    for firm_id in (outsider.id, 999_999):
        response = _patch(client, lead_h, _of(plan, rollout["desk"])["id"],
                          {"firm_id": firm_id})
        assert response.status_code == 422
        assert "takes part in the project" in response.json["errors"]["firm_id"][0]


def test_bad_bodies_answer_422_in_the_one_shape(client, plan, rollout, lead_h):
    desk = _of(plan, rollout["desk"])["id"]
    for body in ({}, {"dry_run": True}, {"firm_id": "x"}, {"start_on": "3 March"},
                 {"is_firm_locked": "maybe"}, {"hours": 3}):
        response = _patch(client, lead_h, desk, body)
        assert response.status_code == 422, body
        assert set(response.json) == {"code", "status", "message", "errors"}


def test_an_approved_plan_is_locked_but_not_moved(client, db, plan, rollout, lead_h):
    db.session.get(Plan, plan["id"]).status = "approved"
    db.session.commit()
    desk = _of(plan, rollout["desk"])["id"]
    response = _patch(client, lead_h, desk, {"firm_id": rollout["lead"].id})
    assert response.status_code == 409
    assert _patch(client, lead_h, desk, {"is_date_locked": True}).status_code == 200


def test_the_etag_a_change_answers_is_the_one_the_next_change_sends(client, plan, rollout,
                                                                    lead_h):
    url = f"/api/v1/assignments/{_of(plan, rollout['desk'])['id']}"
    first = _patch(client, lead_h, _of(plan, rollout["desk"])["id"], {"is_firm_locked": True})
    assert first.headers["ETag"] == client.get(url, headers=lead_h).headers["ETag"]
    second = client.patch(url, json={"is_date_locked": True},
                          headers=lead_h | {"If-Match": first.headers["ETag"]})
    assert second.status_code == 200, second.json


def test_a_change_needs_the_current_etag(client, plan, rollout, lead_h):
    url = f"/api/v1/assignments/{_of(plan, rollout['desk'])['id']}"
    assert client.patch(url, json={"is_firm_locked": True}, headers=lead_h).status_code == 428
    stale = client.get(url, headers=lead_h).headers["ETag"]
    assert _patch(client, lead_h, _of(plan, rollout["desk"])["id"],
                  {"is_firm_locked": True}).status_code == 200
    response = client.patch(url, json={"is_firm_locked": False},
                            headers=lead_h | {"If-Match": stale})
    assert response.status_code == 412


def test_a_partner_reads_its_own_assignment_only_and_changes_none(client, db, plan, rollout,
                                                                  lead_h):
    db.session.get(Plan, plan["id"]).status = "proposed"
    db.session.commit()
    north_h = rollout["north_h"]
    own, lead_s = _of(plan, rollout["desk"])["id"], _of(plan, rollout["srv"])["id"]
    assert client.get(f"/api/v1/assignments/{own}", headers=north_h).status_code == 200
    assert client.get(f"/api/v1/assignments/{lead_s}", headers=north_h).status_code == 404
    assert _patch(client, north_h, own, {"is_firm_locked": True}).status_code == 403
    assert client.get(f"/api/v1/plans/{plan['id']}/adjustments",
                      headers=north_h).status_code == 403


# --- bans ----------------------------------------------------------------------------------


def _ban(client, rollout, headers, **body):
    return client.post(f"/api/v1/projects/{rollout['project'].id}/bans", json=body,
                       headers=headers)


def test_a_ban_keeps_the_firm_off_the_item_in_the_next_plan(client, rollout, lead_h):
    created = _ban(client, rollout, lead_h, work_item_id=rollout["desk"].id,
                   firm_id=rollout["north"].id, reason="declined by phone")
    assert created.status_code == 201, created.json
    assert created.json["reason"] == "declined by phone"
    started = client.post(f"/api/v1/projects/{rollout['project'].id}/solve-jobs",
                          json={"time_limit": 5}, headers=lead_h).json
    plan = client.get(f"/api/v1/plans/{started['plan_id']}", headers=lead_h).json
    assert _of(plan, rollout["desk"])["firm_id"] == rollout["lead"].id
    assert _of(plan, rollout["more"])["firm_id"] == rollout["north"].id  # only that item


def test_a_move_onto_a_banned_firm_is_refused(client, plan, rollout, lead_h):
    _ban(client, rollout, lead_h, work_item_id=rollout["more"].id, firm_id=rollout["lead"].id)
    response = _patch(client, lead_h, _of(plan, rollout["more"])["id"],
                      {"firm_id": rollout["lead"].id})
    assert response.status_code == 422
    assert "banned" in response.json["errors"]["firm_id"][0]


def test_bans_are_listed_refused_twice_and_lifted(client, rollout, lead_h):
    body = {"work_item_id": rollout["desk"].id, "firm_id": rollout["north"].id}
    ban = _ban(client, rollout, lead_h, **body).json
    again = _ban(client, rollout, lead_h, **body)
    assert again.status_code == 409 and again.json["errors"] == {"ban_id": [str(ban["id"])]}
    listed = client.get(f"/api/v1/projects/{rollout['project'].id}/bans"
                        f"?firm_id={rollout['north'].id}", headers=lead_h).json
    assert [b["id"] for b in listed] == [ban["id"]]
    url = f"/api/v1/bans/{ban['id']}"
    etag = client.get(url, headers=lead_h).headers["ETag"]
    assert client.delete(url, headers=lead_h | {"If-Match": etag}).status_code == 204
    assert client.get(url, headers=lead_h).status_code == 404


def test_a_ban_on_another_project_s_item_or_no_firm_is_refused(client, rollout, lead_h):
    response = _ban(client, rollout, lead_h, work_item_id=rollout["other_item"].id,
                    firm_id=rollout["north"].id)
    assert response.status_code == 422 and "work_item_id" in response.json["errors"]
    response = _ban(client, rollout, lead_h, work_item_id=rollout["desk"].id, firm_id=999_999)
    assert response.status_code == 422 and "firm_id" in response.json["errors"]
    response = _ban(client, rollout, lead_h, work_item_id=rollout["desk"].id)
    assert response.status_code == 422 and "firm_id" in response.json["errors"]


def test_a_ban_is_an_input_a_plan_made_before_it_is_stale(client, plan, rollout, lead_h):
    assert plan["is_stale"] is False
    _ban(client, rollout, lead_h, work_item_id=rollout["desk"].id, firm_id=rollout["north"].id)
    assert client.get(f"/api/v1/plans/{plan['id']}", headers=lead_h).json["is_stale"] is True


# --- re-plan and compare ----------------------------------------------------------------------


def _replan(client, rollout, headers, base_id):
    started = client.post(f"/api/v1/projects/{rollout['project'].id}/solve-jobs",
                          json={"time_limit": 5, "base_plan_id": base_id}, headers=headers)
    assert started.status_code == 202 and started.json["status"] == "done", started.json
    return client.get(f"/api/v1/plans/{started.json['plan_id']}", headers=headers).json


def test_a_replan_with_nothing_changed_moves_nothing(client, plan, rollout, lead_h):
    again = _replan(client, rollout, lead_h, plan["id"])
    compared = client.get(f"/api/v1/plans/{again['id']}/comparison", headers=lead_h).json
    assert compared["with_plan_id"] == plan["id"]  # the plan it was re-planned from
    assert compared["changes"] == [] and set(compared["counts"].values()) == {0}
    assert compared["kpis"]["cost"]["delta"] == 0
    assert again["is_stale"] is False


def test_a_replan_after_a_ban_moves_only_the_banned_item_and_says_why(client, plan, rollout,
                                                                       lead_h):
    desk, more = _of(plan, rollout["desk"]), _of(plan, rollout["more"])
    assert desk["firm_id"] == more["firm_id"] == rollout["north"].id
    _ban(client, rollout, lead_h, work_item_id=rollout["desk"].id, firm_id=rollout["north"].id)
    again = _replan(client, rollout, lead_h, plan["id"])
    compared = client.get(f"/api/v1/plans/{again['id']}/comparison?with={plan['id']}",
                          headers=lead_h).json
    assert [(c["work_item_id"], c["change"]) for c in compared["changes"]] == [
        (rollout["desk"].id, "firm")]
    change = compared["changes"][0]
    assert (change["before"]["firm"], change["after"]["firm"]) == ("Nord IT", "Lead IT")
    assert change["why"].startswith("version 1's placement no longer stands: ")
    assert "banned" in change["why"] and "Lead IT" in change["why"]
    firms = {f["firm"]: f for f in compared["firms"]}
    assert firms["Nord IT"]["delta"]["hours"] == pytest.approx(-7.2)
    assert compared["kpis"]["cost"]["delta"] == pytest.approx(
        again["cost"] - plan["cost"], abs=0.01)


def test_a_replan_keeps_a_lock(client, plan, rollout, lead_h):
    desk = _of(plan, rollout["desk"])
    moved = _patch(client, lead_h, desk["id"], {"firm_id": rollout["lead"].id})
    assert moved.status_code == 200 and moved.json["assignment"]["is_firm_locked"]
    again = _replan(client, rollout, lead_h, plan["id"])
    kept = _of(again, rollout["desk"])
    assert kept["firm_id"] == rollout["lead"].id and kept["is_firm_locked"]


def test_comparing_plans_of_two_projects_or_with_none_is_refused(client, db, plan, rollout,
                                                                 lead_h, create_project):
    response = client.get(f"/api/v1/plans/{plan['id']}/comparison", headers=lead_h)
    assert response.status_code == 422
    assert response.json["errors"] == {"with": ["there is no earlier plan to compare with"]}
    other = Plan(project_id=rollout["other_item"].project_id, version=1, status="draft")
    db.session.add(other)
    db.session.commit()
    response = client.get(f"/api/v1/plans/{plan['id']}/comparison?with={other.id}",
                          headers=lead_h)
    assert response.status_code == 422
    assert response.json["errors"] == {"with": ["the two plans belong to different projects"]}
    for bad in ("x", "0", "999999"):
        response = client.get(f"/api/v1/plans/{plan['id']}/comparison?with={bad}",
                              headers=lead_h)
        assert response.status_code == 422 and "with" in response.json["errors"], bad


def test_a_partner_compares_only_its_own_slice(client, db, plan, rollout, lead_h):
    db.session.get(Plan, plan["id"]).status = "approved"
    db.session.commit()
    _ban(client, rollout, lead_h, work_item_id=rollout["desk"].id, firm_id=rollout["north"].id)
    again = _replan(client, rollout, lead_h, plan["id"])
    db.session.get(Plan, again["id"]).status = "proposed"
    db.session.commit()
    body = client.get(f"/api/v1/plans/{again['id']}/comparison",
                      headers=rollout["north_h"]).json
    assert body["with_plan_id"] == plan["id"]
    assert [(c["work_item_id"], c["change"], c["after"]) for c in body["changes"]] == [
        (rollout["desk"].id, "removed", None)]  # no longer its own: not to whom
    assert "kpis" not in body and "firms" not in body and "Lead IT" not in str(body)
    assert body["own"]["hours_before"] == pytest.approx(14.4)
    assert body["own"]["hours_after"] == pytest.approx(7.2)


# --- who fits an item best -------------------------------------------------------------------


def test_who_fits_ranks_the_firms_by_cost_and_says_why_the_others_cannot(client, plan,
                                                                         rollout, lead_h):
    url = f"/api/v1/plans/{plan['id']}/work-items/{rollout['more'].id}/candidates"
    body = client.get(url, headers=lead_h).json
    ranked = [(c["firm"], c["fits"], c["eligible"]) for c in body["candidates"]]
    assert ranked == [("Nord IT", True, True), ("Lead IT", True, True),
                      ("Alster IT", False, True), ("Süd IT", False, False)]
    north, lead, alster, south = body["candidates"]
    assert north["is_current"] and north["cost_delta"] == 0
    # the same 7.2 h at 70 EUR instead of 50 EUR: 144 EUR more, less Nord IT's few km
    assert lead["cost_delta"] == pytest.approx(144.0, abs=10.0)
    assert lead["cost"] - north["cost"] == pytest.approx(lead["cost_delta"], abs=0.01)
    assert south["reason"] == ("site outside its travel radius: the site is 616 km away, "
                               "the radius 150 km")
    # a third firm at Hamburg: what else would have to move
    assert alster["violations"] == [
        "3 firms work at Hamburg (Alster IT, Lead IT, Nord IT), at most 2 may",
        "face firm Lead IT does 10.2 of the 24.6 h at Hamburg, less than half"]
    assert body["assigned_to"] == rollout["north"].id


def test_who_fits_is_for_lead_coordinators_and_items_of_the_plan_s_project(
        client, db, plan, rollout, lead_h):
    url = f"/api/v1/plans/{plan['id']}/work-items/{{}}/candidates"
    assert client.get(url.format(rollout["other_item"].id), headers=lead_h).status_code == 404
    db.session.get(Plan, plan["id"]).status = "proposed"
    db.session.commit()
    response = client.get(url.format(rollout["desk"].id), headers=rollout["north_h"])
    assert response.status_code == 403


def test_no_move_while_the_project_changed_under_other_assignments(client, db, plan,
                                                                   rollout, lead_h):
    """The server item's only firm is banned from it since the plan: a move of another item
    would recompute the plan's figures without it; re-plan instead."""
    _ban(client, rollout, lead_h, work_item_id=rollout["srv"].id, firm_id=rollout["lead"].id)
    before = db.session.get(Plan, plan["id"]).cost
    for dry_run in (True, False):
        response = _patch(client, lead_h, _of(plan, rollout["more"])["id"],
                          {"firm_id": rollout["lead"].id, "dry_run": dry_run})
        assert response.status_code == 409, response.json
        assert "re-plan from it first" in response.json["message"]
        server, desktops = response.json["errors"]["plan"]  # and what depends on it
        assert server.startswith("HH-SRV ")
        assert server.endswith(": Lead IT cannot take it: banned from this item")
        assert desktops.startswith("HH-DT ") and desktops.endswith(
            "no days left after the items it depends on")
    assert db.session.get(Plan, plan["id"]).cost == before
    assert db.session.query(Adjustment).count() == 0


def test_a_start_that_would_run_past_the_project_is_refused(client, plan, rollout, lead_h):
    response = _patch(client, lead_h, _of(plan, rollout["srv"])["id"],
                      {"start_on": "2027-03-31"})  # two days of work from the last day
    assert response.status_code == 422, response.json
    assert "past the project's last working day" in response.json["errors"]["start_on"][0]


# --- the same in the pages -----------------------------------------------------------------


def test_who_fits_page_checks_a_move_to_a_candidate_on_the_assignment_page(client, db, plan,
                                                                            rollout):
    import re

    from tests.projects.test_views import sign_in

    sign_in(client, rollout["lead_user"])
    more = _of(plan, rollout["more"])
    page = client.get(f"/plans/{plan['id']}/work-items/{rollout['more'].id}/candidates")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert [name for name in ("Nord IT", "Lead IT", "Alster IT", "Süd IT")
            if f'data-firm="{name}"' in text] == ["Nord IT", "Lead IT", "Alster IT", "Süd IT"]
    assert 'aria-label="Check moving it to Lead IT"' in text
    assert 'aria-label="Check moving it to Nord IT"' not in text  # it has it now
    assert 'aria-label="Check moving it to Süd IT"' not in text  # not eligible
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', text).group(1)
    checked = client.post(f"/assignments/{more['id']}", data={
        "csrf_token": token, "firm_id": str(rollout["lead"].id), "start_on": more["start_on"],
        "action": "check"})
    body = checked.get_data(as_text=True)
    assert checked.status_code == 200
    assert "The move keeps every hard rule." in body and "Lead IT would work" in body
    assert db.session.get(Assignment, more["id"]).firm_id == rollout["north"].id  # a check


def test_a_replan_after_a_partner_left_moves_its_items_and_keeps_the_rest(client, db, plan,
                                                                         rollout, lead_h):
    desk = _of(plan, rollout["desk"])
    assert desk["firm_id"] == rollout["north"].id
    assert _patch(client, lead_h, desk["id"], {"is_firm_locked": True}).status_code == 200
    db.session.scalar(sa.select(Membership).filter_by(
        project_id=rollout["project"].id, firm_id=rollout["north"].id)).status = "declined"
    db.session.commit()
    again = _replan(client, rollout, lead_h, plan["id"])  # not refused: its firm is gone
    moved = _of(again, rollout["desk"])
    assert moved["firm_id"] == rollout["lead"].id and not moved["is_firm_locked"]
    compared = client.get(f"/api/v1/plans/{again['id']}/comparison", headers=lead_h).json
    why = {c["work_item_id"]: c["why"] for c in compared["changes"]}
    assert "Nord IT no longer takes part in the project" in why[rollout["desk"].id]
    now = {a["work_item_id"]: (a["firm_id"], a["start_on"]) for a in again["assignments"]}
    kept = [a for a in plan["assignments"] if a["firm_id"] == rollout["lead"].id]
    assert kept and all(now[a["work_item_id"]] == (a["firm_id"], a["start_on"]) for a in kept)
