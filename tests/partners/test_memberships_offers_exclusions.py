"""Memberships, capacity offers and exclusions over HTTP: rules beyond the access matrix."""

import re

import pytest

from staffing.partners.models import CapacityOffer, OfferSkill
from tests.conftest import Matching


@pytest.fixture
def world(db, create_firm, create_user, create_project, create_skill, create_site, auth):
    lead = create_firm(name="Lead IT")
    partner = create_firm(name="Partner IT")
    project = create_project(lead_firm=lead)
    skills = [create_skill(project, code=code) for code in ("desktop", "sqlserver")]
    site = create_site(project, name="Hamburg")
    return {
        "project": project, "lead": lead, "partner": partner, "skills": skills, "site": site,
        "lead_h": auth(create_user(firm=lead, role="coordinator")),
        "partner_h": auth(create_user(firm=partner, role="coordinator")),
        "partner_member_h": auth(create_user(firm=partner, role="member")),
    }


def _invite(client, w):
    response = client.post(f"/api/v1/projects/{w['project'].id}/memberships",
                           json={"firm_id": w["partner"].id, "message": "Join us"},
                           headers=w["lead_h"])
    assert response.status_code == 201, response.json
    return response.json


def _offer_body(w, **extra):
    return {"travel_radius_km": 120, "travel_cost_per_km": "0.42",
            "min_share_percent": "10", "max_share_percent": "30.5",
            "skills": [{"skill_id": w["skills"][0].id, "proficiency": 4, "hourly_rate": "58.5"}],
            "availability": [{"start_on": "2027-03-01", "end_on": "2027-04-30",
                              "technicians": 3, "hours_per_technician": 7.5}]} | extra




def test_invite_accept_withdraw_reinvite(client, world):
    w = world
    membership = _invite(client, w)
    assert membership["status"] == "invited" and membership["firm_name"] == "Partner IT"
    url = f"/api/v1/memberships/{membership['id']}"
    # the partner sees the project once invited
    assert client.get(f"/api/v1/projects/{w['project'].id}",
                      headers=w["partner_h"]).status_code == 200
    # a member cannot answer for the firm; the lead cannot accept on its behalf
    assert Matching(client).patch(url, json={"status": "accepted"},
                        headers=w["partner_member_h"]).status_code == 403
    assert Matching(client).patch(url, json={"status": "accepted"},
                        headers=w["lead_h"]).status_code == 403
    accepted = Matching(client).patch(url, json={"status": "accepted"}, headers=w["partner_h"]).json
    assert accepted["status"] == "accepted" and accepted["responded_at"]
    bad = Matching(client).patch(url, json={"status": "declined"}, headers=w["partner_h"])
    assert bad.status_code == 422 and "status" in bad.json["errors"]
    assert Matching(client).patch(url, json={"status": "withdrawn"},
                        headers=w["partner_h"]).status_code == 200
    # withdrawn: the project is out of the partner's reach again
    assert client.get(f"/api/v1/projects/{w['project'].id}",
                      headers=w["partner_h"]).status_code == 404
    assert Matching(client).patch(url, json={"status": "invited"},
                        headers=w["lead_h"]).json["status"] == "invited"


@pytest.mark.parametrize("firm_key,reason", [("lead", "lead firm"), (None, "no such firm")])
def test_invite_validation(client, world, firm_key, reason):
    firm_id = world[firm_key].id if firm_key else 999999
    response = client.post(f"/api/v1/projects/{world['project'].id}/memberships",
                           json={"firm_id": firm_id}, headers=world["lead_h"])
    assert response.status_code == 422 and reason in response.json["errors"]["firm_id"][0]


def test_double_invite_is_422(client, world):
    _invite(client, world)
    again = client.post(f"/api/v1/projects/{world['project'].id}/memberships",
                        json={"firm_id": world["partner"].id}, headers=world["lead_h"])
    assert again.status_code == 422


def test_offer_requires_accepted_membership(client, world):
    membership = _invite(client, world)
    url = f"/api/v1/projects/{world['project'].id}/capacity-offers"
    early = client.post(url, json=_offer_body(world), headers=world["partner_h"])
    assert early.status_code == 422 and "firm_id" in early.json["errors"]
    Matching(client).patch(f"/api/v1/memberships/{membership['id']}", json={"status": "accepted"},
                 headers=world["partner_h"])
    created = client.post(url, json=_offer_body(world), headers=world["partner_h"])
    assert created.status_code == 201, created.json
    offer = created.json
    assert offer["firm_id"] == world["partner"].id
    assert offer["travel_cost_per_km"] == "0.42" and offer["max_share_percent"] == "30.50"
    assert offer["skills"][0]["hourly_rate"] == "58.50"
    assert offer["availability"][0]["hours_per_technician"] == 7.5
    again = client.post(url, json=_offer_body(world), headers=world["partner_h"])
    assert again.status_code == 422


@pytest.mark.parametrize("extra,field", [
    ({"travel_radius_km": -1}, "travel_radius_km"),
    ({"min_share_percent": "40", "max_share_percent": "20"}, "max_share_percent"),
    ({"max_share_percent": "101"}, "max_share_percent"),
    ({"travel_cost_per_km": "cheap"}, "travel_cost_per_km"),
    ({"skills": []}, "skills"),
    ({"skills": [{"skill_id": 1, "proficiency": 6, "hourly_rate": "50"}]}, "skills"),
    ({"availability": [{"start_on": "2027-05-01", "end_on": "2027-04-01",
                        "technicians": 2}]}, "availability"),
    ({"availability": [{"start_on": "2027-04-01", "end_on": "2027-05-01",
                        "technicians": 0}]}, "availability"),
    # the planner counts work in hundredths of an hour: a shorter day would be no work
    ({"availability": [{"start_on": "2027-04-01", "end_on": "2027-05-01",
                        "technicians": 1, "hours_per_technician": 0.004}]}, "availability"),
])
def test_offer_input_is_validated(client, world, extra, field, create_membership, db):
    create_membership(world["project"], world["partner"])
    response = client.post(f"/api/v1/projects/{world['project'].id}/capacity-offers",
                           json=_offer_body(world, **extra), headers=world["partner_h"])
    assert response.status_code == 422 and field in response.json["errors"], response.json
    assert db.session.scalar(db.select(db.func.count()).select_from(CapacityOffer)) == 0


def test_offer_skill_from_another_project_is_422(client, world, create_membership,
                                                 create_project, create_skill):
    create_membership(world["project"], world["partner"])
    foreign = create_skill(create_project(lead_firm=world["lead"]), code="foreign")
    body = _offer_body(world, skills=[{"skill_id": foreign.id, "proficiency": 3,
                                       "hourly_rate": "50"}])
    response = client.post(f"/api/v1/projects/{world['project'].id}/capacity-offers",
                           json=body, headers=world["partner_h"])
    assert response.status_code == 422 and "skills" in response.json["errors"]


def test_offer_update_replaces_skills_and_keeps_sealed_values_out_of_others(
        client, world, create_membership, db):
    create_membership(world["project"], world["partner"])
    offer = client.post(f"/api/v1/projects/{world['project'].id}/capacity-offers",
                        json=_offer_body(world), headers=world["partner_h"]).json
    desktop, sql = world["skills"]
    body = {"skills": [{"skill_id": desktop.id, "proficiency": 5, "hourly_rate": "61"},
                       {"skill_id": sql.id, "proficiency": 4, "hourly_rate": "80"}]}
    updated = Matching(client).patch(f"/api/v1/capacity-offers/{offer['id']}", json=body,
                           headers=world["partner_h"])
    assert updated.status_code == 200, updated.json
    assert [(s["proficiency"], s["hourly_rate"]) for s in updated.json["skills"]] == \
        [(5, "61.00"), (4, "80.00")]
    assert db.session.scalar(db.select(db.func.count()).select_from(OfferSkill)) == 2
    shares = Matching(client).patch(f"/api/v1/capacity-offers/{offer['id']}",
                          json={"min_share_percent": "50"}, headers=world["partner_h"])
    assert shares.status_code == 422  # above the stored maximum of 30.5


def test_lead_enters_offer_for_partner_and_for_itself(client, world, create_membership):
    create_membership(world["project"], world["partner"])
    url = f"/api/v1/projects/{world['project'].id}/capacity-offers"
    for_partner = client.post(url, json=_offer_body(world, firm_id=world["partner"].id),
                              headers=world["lead_h"])
    assert for_partner.status_code == 201
    own = client.post(url, json=_offer_body(world), headers=world["lead_h"])
    assert own.status_code == 201 and own.json["firm_id"] == world["lead"].id
    listed = client.get(url + f"?firm_id={world['partner'].id}", headers=world["lead_h"]).json
    assert [o["firm_id"] for o in listed] == [world["partner"].id]


def test_exclusions(client, world):
    url = f"/api/v1/projects/{world['project'].id}/exclusions"
    site_level = client.post(url, json={"firm_id": world["partner"].id,
                                        "site_id": world["site"].id, "reason": "sister firm"},
                             headers=world["lead_h"])
    assert site_level.status_code == 201 and site_level.json["site_id"] == world["site"].id
    whole = client.post(url, json={"firm_id": world["partner"].id}, headers=world["lead_h"])
    assert whole.status_code == 201 and whole.json["site_id"] is None
    duplicate = client.post(url, json={"firm_id": world["partner"].id, "site_id": None},
                            headers=world["lead_h"])
    assert duplicate.status_code == 422
    bad_site = client.post(url, json={"firm_id": world["partner"].id, "site_id": 999999},
                           headers=world["lead_h"])
    assert bad_site.status_code == 422 and "site_id" in bad_site.json["errors"]
    assert len(client.get(url, headers=world["lead_h"]).json) == 2
    lifted = Matching(client).delete(f"/api/v1/exclusions/{whole.json['id']}",
                                     headers=world["lead_h"])
    assert lifted.status_code == 204
    assert len(client.get(url + f"?site_id={world['site'].id}",
                          headers=world["lead_h"]).json) == 1


# --- money and shares: decimal strings in and out, as documented (issue 12) --------------------


def test_money_and_shares_are_documented_as_the_strings_they_are(client, world):
    spec = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    offer = client.post(f"/api/v1/projects/{world['project'].id}/capacity-offers",
                        json=_offer_body(world), headers=world["lead_h"]).json
    for schema, value in ((spec["CapacityOffer"]["properties"]["travel_cost_per_km"],
                           offer["travel_cost_per_km"]),
                          (spec["CapacityOffer"]["properties"]["max_share_percent"],
                           offer["max_share_percent"]),
                          (spec["OfferSkill"]["properties"]["hourly_rate"],
                           offer["skills"][0]["hourly_rate"])):
        assert schema["type"] == "string" and "minimum" not in schema
        assert isinstance(value, str) and re.fullmatch(schema["pattern"], value)


@pytest.mark.parametrize("body,field", [
    ({"travel_cost_per_km": 0.42}, "travel_cost_per_km"),  # a JSON number: rounded by someone
    ({"max_share_percent": "1e2"}, "max_share_percent"),
    ({"travel_cost_per_km": "100000.01"}, "travel_cost_per_km"),
    ({"firm_id": 2**70}, "firm_id"),
])
def test_offer_amounts_and_ids_out_of_form_are_a_422(client, world, body, field):
    response = client.post(f"/api/v1/projects/{world['project'].id}/capacity-offers",
                           json=_offer_body(world, **body), headers=world["lead_h"])
    assert response.status_code == 422 and field in response.json["errors"]


@pytest.mark.parametrize("query", ["firm_id=1180591620717411303424", "firm_id=2147483648",
                                   "site_id=0"])
def test_exclusion_filters_refuse_ids_out_of_range(client, world, query):
    response = client.get(f"/api/v1/projects/{world['project'].id}/exclusions?{query}",
                          headers=world["lead_h"])
    assert response.status_code == 422


def test_patch_of_a_membership_with_nothing_to_change_is_a_422(client, world):
    membership = _invite(client, world)
    response = Matching(client).patch(f"/api/v1/memberships/{membership['id']}", json={},
                            headers=world["lead_h"])
    assert response.status_code == 422 and "_schema" in response.json["errors"]


def test_firm_names_with_nul_and_firm_filters_with_nul_are_a_422(client, world):
    response = Matching(client).patch(f"/api/v1/firms/{world['partner'].id}",
                            json={"name": "Partner\x00IT"}, headers=world["partner_h"])
    assert response.status_code == 422 and "name" in response.json["errors"]
    response = client.get("/api/v1/firms?region=%00", headers=world["partner_h"])
    assert response.status_code == 422 and "region" in response.json["errors"]


def test_a_firm_email_with_a_lone_surrogate_is_a_422(client, world):
    response = client.patch(f"/api/v1/firms/{world['partner'].id}",
                            json={"contact_email": "office@partner\ud800.example"},
                            headers=world["partner_h"])
    assert response.status_code == 422 and "contact_email" in response.json["errors"]
