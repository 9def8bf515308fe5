"""Site details only where needed (issue 16): a partner sees each site's region, town-level
place, skills and volumes, and the street address and exact coordinates only of the sites
where its firm has work in a plan it may read (the approved one, the newest proposed one)."""

import sqlalchemy as sa

from staffing.projects.models import Skill


def _sites(client, rollout, headers) -> dict[str, dict]:
    response = client.get(f"/api/v1/projects/{rollout['project'].id}/sites", headers=headers)
    assert response.status_code == 200, response.json
    return {s["name"]: s for s in response.json}


def test_a_partner_sees_addresses_only_where_it_has_work(client, db, matching, rollout,
                                                         create_site, create_work_item):
    project = rollout["project"]
    server = db.session.scalar(sa.select(Skill).filter_by(project_id=project.id,
                                                          code="winserver"))
    kiel = create_site(project, name="Kiel", address="Holstenstr. 2", latitude=54.3233,
                       longitude=10.1228)
    create_work_item(kiel, skill=server, ref="KI-SRV", kind="server", quantity=1,
                     effort_hours=8, min_proficiency=1)  # only the lead firm has the skill
    db.session.commit()
    north_h, lead_h = rollout["north_h"], rollout["lead_h"]

    before = _sites(client, rollout, north_h)  # invited, no plan it may read yet
    for site in before.values():
        assert site["address"] is None and site["details_shown"] is False
    assert (before["Kiel"]["latitude"], before["Kiel"]["longitude"]) == (54.3, 10.1)
    assert before["Kiel"]["region"] == "North"

    started = client.post(rollout["url"], json={"time_limit": 5}, headers=lead_h).json
    plan_url = f"/api/v1/plans/{started['plan_id']}"
    assert _sites(client, rollout, north_h)["Hamburg"]["address"] is None  # a draft: not yet
    assert matching.patch(plan_url, json={"status": "proposed"},
                          headers=lead_h).status_code == 200

    after = _sites(client, rollout, north_h)
    hamburg = after["Hamburg"]  # Nord IT does the desktops there
    assert hamburg["address"] and hamburg["details_shown"] is True
    assert hamburg["latitude"] == 53.55
    assert after["Kiel"]["address"] is None and after["Kiel"]["details_shown"] is False
    one = client.get(f"/api/v1/sites/{kiel.id}", headers=north_h).json
    assert one["address"] is None and one["latitude"] == 54.3

    lead = _sites(client, rollout, lead_h)  # the lead firm sees everything, always
    assert lead["Kiel"]["address"] == "Holstenstr. 2" and lead["Kiel"]["latitude"] == 54.3233
    assert lead["Kiel"]["details_shown"] is True
