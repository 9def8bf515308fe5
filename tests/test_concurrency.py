"""Optimistic concurrency: ETags on every editable resource, If-Match required to change one,
and two changes made from the same version never both pass."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from .live import WAIT, join_all, serve

EDITABLE = [  # (url of one resource, a change to it)
    ("/api/v1/projects/{project}", {"description": "checked"}),
    ("/api/v1/sites/{site}", {"region": "West"}),
    ("/api/v1/skills/{skill}", {"name": "Desktop rollout"}),
    ("/api/v1/work-items/{item}", {"label": "Desktops, wave 1"}),
    ("/api/v1/capacity-offers/{offer}", {"travel_radius_km": 120}),
    ("/api/v1/exclusions/{exclusion}", {"reason": "audited"}),
    ("/api/v1/memberships/{membership}", {"message": "welcome"}),
    ("/api/v1/firms/{lead_firm}", {"region": "South"}),
    ("/api/v1/users/{lead_user}", {"name": "Renamed"}),
    ("/api/v1/plans/{plan}", {"notes": "looked at it"}),
]


@pytest.fixture
def desk(db, create_user, create_firm, create_project, create_membership, create_site,
         create_skill, create_work_item, create_offer, create_exclusion, auth):
    lead = create_user(role="admin")
    project = create_project(lead_firm=lead.firm)
    partner = create_firm()
    membership = create_membership(project, partner, status="accepted")
    site = create_site(project)
    skill = create_skill(project)
    item = create_work_item(site, skill=skill, quantity=1, effort_hours=4)
    offer = create_offer(project, lead.firm, {skill: (5, "70.00")}, min_share_percent=0,
                         max_share_percent=100)
    exclusion = create_exclusion(project, partner, site, reason="client's wish")
    from staffing.planning import operations as ops
    job = ops.start_solve(lead, project, "inline", time_limit=2)
    db.session.commit()
    ops.run_solve_job(job.id)
    plan_id = ops.get_job(lead, job.id).plan_id
    ids = {"project": project.id, "site": site.id, "skill": skill.id, "item": item.id,
           "offer": offer.id, "exclusion": exclusion.id, "membership": membership.id,
           "lead_firm": lead.firm_id, "lead_user": lead.id, "plan": plan_id}
    return {"headers": auth(lead), **ids}


@pytest.mark.parametrize("url,change", EDITABLE, ids=[url for url, _ in EDITABLE])
def test_a_change_needs_the_current_etag(client, desk, url, change):
    url, headers = url.format(**desk), desk["headers"]
    read = client.get(url, headers=headers)
    etag = read.headers["ETag"]
    assert read.status_code == 200 and etag
    assert client.get(url, headers=headers | {"If-None-Match": etag}).status_code == 304

    missing = client.patch(url, json=change, headers=headers)
    assert missing.status_code == 428
    assert missing.json["errors"] == {"If-Match": ["required"]}
    stale = client.patch(url, json=change, headers=headers | {"If-Match": '"not-it"'})
    assert stale.status_code == 412
    assert set(stale.json) == {"code", "status", "message", "errors"}
    assert client.get(url, headers=headers).headers["ETag"] == etag, "nothing changed"

    changed = client.patch(url, json=change, headers=headers | {"If-Match": etag})
    assert changed.status_code == 200, changed.json
    new_etag = changed.headers["ETag"]
    assert new_etag != etag and client.get(url, headers=headers).headers["ETag"] == new_etag
    again = client.patch(url, json=change, headers=headers | {"If-Match": etag})
    assert again.status_code == 412, "the old version no longer matches"
    star = client.patch(url, json=change, headers=headers | {"If-Match": "*"})
    assert star.status_code == 428, "* would match any version: the ETag itself is asked for"


def test_of_two_editors_who_read_the_same_version_the_second_is_told(client, desk):
    """The review's lost update: two clients replace the same skills list. The second gets
    412 and the first's list stays; re-read, it can then decide."""
    url, headers = f"/api/v1/capacity-offers/{desk['offer']}", desk["headers"]
    etag = client.get(url, headers=headers).headers["ETag"]
    offer = client.get(url, headers=headers).json
    skill = offer["skills"][0]["skill_id"]
    first = client.patch(url, headers=headers | {"If-Match": etag}, json={
        "skills": [{"skill_id": skill, "proficiency": 4, "hourly_rate": "61.00"}]})
    second = client.patch(url, headers=headers | {"If-Match": etag}, json={
        "skills": [{"skill_id": skill, "proficiency": 2, "hourly_rate": "45.00"}]})
    assert (first.status_code, second.status_code) == (200, 412)
    kept = client.get(url, headers=headers).json["skills"]
    assert [(row["proficiency"], row["hourly_rate"]) for row in kept] == [(4, "61.00")]


def test_a_stale_delete_deletes_nothing(client, desk):
    url, headers = f"/api/v1/sites/{desk['site']}", desk["headers"]
    etag = client.get(url, headers=headers).headers["ETag"]
    assert client.patch(url, json={"region": "East"},
                        headers=headers | {"If-Match": etag}).status_code == 200
    assert client.delete(url, headers=headers | {"If-Match": etag}).status_code == 412
    assert client.delete(url, headers=headers).status_code == 428
    assert client.get(url, headers=headers).status_code == 200
    current = client.get(url, headers=headers).headers["ETag"]
    assert client.delete(url, headers=headers | {"If-Match": current}).status_code == 204


def test_if_match_is_documented_on_every_change(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    for url, _ in EDITABLE:
        template = url.split("{")[0]
        path = next(p for p in paths if p.startswith(template + "{") and p.count("/") == 4)
        for method in ("patch", "delete"):
            if method not in paths[path]:
                continue
            operation = paths[path][method]
            assert {"$ref": "#/components/parameters/IF_MATCH"} in operation["parameters"]
            assert {"412", "428"} <= set(operation["responses"]), (path, method)
        assert "ETag" in paths[path]["get"]["responses"]["200"]["headers"]


def _patch(port: int, path: str, token: str, etag: str, body: dict) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("PATCH", path, body=json.dumps(body), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json",
        "If-Match": etag})
    status = connection.getresponse().status
    connection.close()
    return status


def _offer_of(live) -> int:
    from staffing.extensions import db
    from staffing.partners.models import CapacityOffer

    with live["app"].app_context():
        return db.session.scalar(db.select(CapacityOffer.id).filter_by(
            project_id=live["small"]).order_by(CapacityOffer.id).limit(1))


def _skills_change(live, n: int) -> dict:
    from staffing.extensions import db
    from staffing.partners.models import OfferSkill

    with live["app"].app_context():
        skill = db.session.scalar(db.select(OfferSkill.skill_id).filter_by(
            offer_id=_offer_of(live)).limit(1))
    return {"skills": [{"skill_id": skill, "proficiency": 1 + n % 5,
                        "hourly_rate": f"{50 + n}.00"}]}


@pytest.mark.parametrize("target", ["a project's field", "an offer's skills list"])
def test_concurrent_changes_from_one_version_let_exactly_one_through(live, target):
    """Eight clients send their change at the same moment, all from the version they read:
    the row lock makes the others wait, and then their ETag is no longer current. For the
    offer, the lost update of the review: its whole skills list replaced by each."""
    port = serve(live)
    if target == "a project's field":
        path = f"/api/v1/projects/{live['small']}"

        def change(n):
            return {"description": f"by {n}"}
    else:
        path = f"/api/v1/capacity-offers/{_offer_of(live)}"

        def change(n):
            return _skills_change(live, n)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("GET", path, headers={"Authorization": f"Bearer {live['token']}"})
    response = connection.getresponse()
    response.read()
    etag = response.getheader("ETag")
    connection.close()
    start, statuses = threading.Barrier(8, timeout=WAIT), []
    bodies = [change(n) for n in range(8)]

    def edit(n: int) -> None:
        start.wait()
        statuses.append(_patch(port, path, live["token"], etag, bodies[n]))

    threads = [threading.Thread(target=edit, args=(n,), daemon=True) for n in range(8)]
    for thread in threads:
        thread.start()
    join_all(threads, "the eight editors")
    assert sorted(statuses) == [200] + [412] * 7
