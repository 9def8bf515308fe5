"""Firms, users and tokens over HTTP, with their access rules."""

import datetime as dt

import pytest

from staffing.dbtypes import utcnow
from staffing.partners.models import ApiToken, User
from tests.conftest import PASSWORD, Matching

FIRM = {"name": "Nordlicht IT", "region": "North", "latitude": 53.55, "longitude": 9.99,
        "contact_email": "info@nordlicht.example"}


def test_operator_registers_firm(client, create_user, auth):
    operator = create_user(role="admin", is_operator=True)
    response = client.post("/api/v1/firms", json=FIRM, headers=auth(operator))
    assert response.status_code == 201, response.json
    assert response.json["name"] == "Nordlicht IT"
    assert response.json["contact_email"] == "info@nordlicht.example"


def test_non_operator_cannot_register_firm(client, create_user, auth):
    admin = create_user(role="admin")
    response = client.post("/api/v1/firms", json=FIRM, headers=auth(admin))
    assert response.status_code == 403


def test_firm_input_is_validated_with_field_and_reason(client, create_user, auth):
    operator = create_user(role="admin", is_operator=True)
    response = client.post("/api/v1/firms", json={**FIRM, "latitude": 95, "colour": "red"},
                           headers=auth(operator))
    assert response.status_code == 422
    errors = response.json["errors"]
    assert "latitude" in errors and "colour" in errors


def test_duplicate_firm_name_is_422(client, create_user, create_firm, auth):
    create_firm(name="Nordlicht IT")
    operator = create_user(role="admin", is_operator=True)
    response = client.post("/api/v1/firms", json=FIRM, headers=auth(operator))
    assert response.status_code == 422
    assert response.json["errors"] == {"name": ["a firm with this name already exists"]}


def test_other_firms_are_listed_without_contact_details(client, create_user, create_firm, auth):
    other = create_firm(name="Rival GmbH")
    me = create_user(role="coordinator")
    response = client.get("/api/v1/firms?name=rival", headers=auth(me))
    assert response.status_code == 200
    assert response.json == [{"id": other.id, "name": "Rival GmbH", "region": "North"}]
    one = client.get(f"/api/v1/firms/{other.id}", headers=auth(me)).json
    assert "contact_email" not in one and "latitude" not in one
    own = client.get(f"/api/v1/firms/{me.firm_id}", headers=auth(me)).json
    assert own["contact_email"]


CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone", "address", "latitude",
                  "longitude")


def _contacts_shown(client, headers, firm_id) -> bool:
    one = client.get(f"/api/v1/firms/{firm_id}", headers=headers).json
    listed = next(firm for firm in client.get("/api/v1/firms?page_size=100",
                                              headers=headers).json if firm["id"] == firm_id)
    shown = {field in one for field in CONTACT_FIELDS} | {field in listed for field in
                                                          CONTACT_FIELDS}
    assert len(shown) == 1, "the list and the firm's own page agree, every field alike"
    return shown.pop()


def test_self_made_project_invitation_reveals_no_contacts(
        client, create_user, create_firm, create_project, auth):
    """The review's scenario: any coordinator makes a project of its own and invites a rival:
    the invitation alone shows nothing; acceptance does, withdrawal hides it again."""
    snoop = create_user(role="coordinator")
    rival = create_firm(name="Rival GmbH")
    rival_admin = create_user(firm=rival, role="admin")
    snoop_headers, rival_headers = auth(snoop), auth(rival_admin)
    project = client.post("/api/v1/projects", json={
        "name": "Bait", "client_name": "Nobody", "start_on": "2027-03-01",
        "end_on": "2027-03-31"}, headers=snoop_headers).json
    invited = client.post(f"/api/v1/projects/{project['id']}/memberships",
                          json={"firm_id": rival.id}, headers=snoop_headers)
    assert invited.status_code == 201
    assert not _contacts_shown(client, snoop_headers, rival.id)
    membership = f"/api/v1/memberships/{invited.json['id']}"
    assert Matching(client).patch(membership, json={"status": "accepted"},
                        headers=rival_headers).status_code == 200
    assert _contacts_shown(client, snoop_headers, rival.id)
    member = create_user(firm=snoop.firm, role="member")
    assert not _contacts_shown(client, auth(member), rival.id), "coordinators only"
    assert Matching(client).patch(membership, json={"status": "withdrawn"},
                        headers=rival_headers).status_code == 200
    assert not _contacts_shown(client, snoop_headers, rival.id)


@pytest.mark.parametrize("status", ["invited", "declined", "withdrawn"])
def test_contacts_hidden_unless_the_membership_is_accepted(
        client, create_user, create_firm, create_project, create_membership, auth, status):
    lead = create_user(role="coordinator")
    partner = create_firm()
    create_membership(create_project(lead_firm=lead.firm), partner, status=status)
    assert not _contacts_shown(client, auth(lead), partner.id)


def test_contacts_of_an_accepted_partner_and_of_ones_own_firm(
        client, create_user, create_firm, create_project, create_membership, auth):
    lead = create_user(role="coordinator")
    partner = create_firm()
    create_membership(create_project(lead_firm=lead.firm), partner, status="accepted")
    body = client.get(f"/api/v1/firms/{partner.id}", headers=auth(lead)).json
    assert body["contact_email"] == partner.contact_email
    partner_member = create_user(firm=partner, role="member")
    assert _contacts_shown(client, auth(partner_member), partner.id), "its own firm"
    assert not _contacts_shown(client, auth(partner_member), lead.firm_id), \
        "the rule is not symmetric: partners see the lead's name and region"
    operator = create_user(role="member", is_operator=True)
    assert _contacts_shown(client, auth(operator), partner.id)


def test_firm_list_paginates(client, create_user, create_firm, auth):
    me = create_user()
    for n in range(12):
        create_firm(name=f"Paged {n:02d}")
    response = client.get("/api/v1/firms?name=paged&page=2&page_size=5", headers=auth(me))
    assert [f["name"] for f in response.json] == [f"Paged {n:02d}" for n in range(5, 10)]
    assert '"total": 12' in response.headers["X-Pagination"]


def test_firm_admin_updates_own_firm_only(client, create_user, create_firm, auth):
    admin = create_user(role="admin")
    other = create_firm()
    ok = Matching(client).patch(f"/api/v1/firms/{admin.firm_id}", json={"region": "South"},
                      headers=auth(admin))
    assert ok.status_code == 200 and ok.json["region"] == "South"
    denied = Matching(client).patch(f"/api/v1/firms/{other.id}", json={"region": "South"},
                          headers=auth(admin))
    assert denied.status_code == 403
    coordinator = create_user(firm=admin.firm, role="coordinator")
    assert Matching(client).patch(f"/api/v1/firms/{admin.firm_id}", json={"region": "East"},
                        headers=auth(coordinator)).status_code == 403


def test_operator_deletes_firm_but_not_a_lead(client, create_user, create_firm, create_project,
                                              auth):
    operator = create_user(role="admin", is_operator=True)
    idle = create_firm()
    lead = create_firm()
    create_project(lead_firm=lead)
    assert Matching(client).delete(f"/api/v1/firms/{idle.id}",
                                   headers=auth(operator)).status_code == 204
    assert client.get(f"/api/v1/firms/{idle.id}", headers=auth(operator)).status_code == 404
    assert Matching(client).delete(f"/api/v1/firms/{lead.id}",
                                   headers=auth(operator)).status_code == 409


def test_firm_admin_manages_users_of_own_firm(client, create_user, auth, db):
    admin = create_user(role="admin")
    response = client.post("/api/v1/users", headers=auth(admin), json={
        "email": "New.Tech@Example.com", "password": "a-long-enough-pass", "role": "member"})
    assert response.status_code == 201, response.json
    assert response.json["email"] == "new.tech@example.com"
    assert response.json["firm_id"] == admin.firm_id
    assert "password" not in response.json and "password_hash" not in response.json
    user = db.session.get(User, response.json["id"])
    assert user.password_hash.startswith("$argon2id$")
    listed = client.get("/api/v1/users", headers=auth(admin)).json
    assert {u["email"] for u in listed} == {admin.email, "new.tech@example.com"}


def test_users_of_other_firms_are_404(client, create_user, auth):
    me = create_user(role="admin")
    stranger = create_user(role="member")
    headers = auth(me)
    assert client.get(f"/api/v1/users/{stranger.id}", headers=headers).status_code == 404
    assert Matching(client).patch(f"/api/v1/users/{stranger.id}", json={"name": "x"},
                        headers=headers).status_code == 404
    assert Matching(client).delete(f"/api/v1/users/{stranger.id}",
                                   headers=headers).status_code == 404
    assert stranger.email not in str(client.get("/api/v1/users", headers=headers).json)


def test_member_cannot_add_users(client, create_user, auth):
    member = create_user(role="member")
    response = client.post("/api/v1/users", headers=auth(member), json={
        "email": "x@example.com", "password": "a-long-enough-pass"})
    assert response.status_code == 403


def test_user_changes_own_password_but_not_own_role(client, create_user, auth):
    member = create_user(role="member")
    headers = auth(member)
    assert Matching(client).patch(f"/api/v1/users/{member.id}", headers=headers, json={
        "password": "another-long-one", "current_password": PASSWORD}).status_code == 200
    assert Matching(client).patch(f"/api/v1/users/{member.id}", json={"role": "admin"},
                        headers=headers).status_code == 403


def test_last_admin_cannot_be_demoted(client, create_user, auth):
    admin = create_user(role="admin")
    response = Matching(client).patch(f"/api/v1/users/{admin.id}", json={"role": "member"},
                            headers=auth(admin))
    assert response.status_code == 409


def test_short_password_is_422(client, create_user, auth):
    admin = create_user(role="admin")
    response = client.post("/api/v1/users", headers=auth(admin), json={
        "email": "x@example.com", "password": "short"})
    assert response.status_code == 422
    assert "password" in response.json["errors"]


def test_token_lifecycle(client, create_user, auth, db):
    user = create_user()
    created = client.post("/api/v1/tokens", json={"name": "ci", "expires_in_days": 7},
                          headers=auth(user))
    assert created.status_code == 201
    secret = created.json["token"]
    stored = db.session.get(ApiToken, created.json["id"])
    assert stored.token_hash != secret and secret not in stored.token_hash
    mine = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/users/me", headers=mine).json["id"] == user.id
    listed = client.get("/api/v1/tokens", headers=mine).json
    assert "token" not in listed[0] and "token_hash" not in listed[0]
    assert Matching(client).delete(f"/api/v1/tokens/{created.json['id']}",
                                   headers=mine).status_code == 204
    assert client.get("/api/v1/users/me", headers=mine).status_code == 401


def test_expired_token_is_refused(client, create_user, auth, db):
    user = create_user()
    headers = auth(user)
    token = db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id)).one()
    token.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_cannot_revoke_someone_elses_token(client, create_user, auth, db):
    alice, bob = create_user(), create_user()
    auth(bob)
    bobs = db.session.scalars(db.select(ApiToken).filter_by(user_id=bob.id)).one()
    assert Matching(client).delete(f"/api/v1/tokens/{bobs.id}",
                                   headers=auth(alice)).status_code == 404


def test_deactivated_user_token_is_refused(client, create_user, auth, db):
    user = create_user()
    headers = auth(user)
    user.is_active = False
    db.session.commit()
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401


def test_a_token_s_last_use_is_kept_to_the_minute(db, create_user):


    from staffing.security import issue_token, user_for_token

    token, secret = issue_token(create_user(), "poller", None)
    first = dt.datetime(2027, 3, 1, 8, 0, tzinfo=dt.UTC)
    assert user_for_token(secret, first) is not None and token.last_used_at == first
    user_for_token(secret, first + dt.timedelta(seconds=30))  # a poll: no write
    assert token.last_used_at == first
    later = first + dt.timedelta(minutes=1, seconds=1)
    user_for_token(secret, later)
    assert token.last_used_at == later
