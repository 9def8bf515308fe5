"""The dashboard and the project page, with the firms' access rules."""

import re

from tests.conftest import PASSWORD


def sign_in(client, user) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302


def page_text(client, path: str) -> str:
    """The page minus its CSRF token, whose random characters could match a number."""
    return re.sub(r'name="csrf_token"[^>]*>', "", client.get(path).get_data(as_text=True))


def test_dashboard_redirects_anonymous_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=%2F"


def test_project_page_redirects_anonymous_to_login(client, create_project):
    project = create_project()
    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_dashboard_lists_led_and_partnered_projects_only(
        client, create_user, create_firm, create_project, create_membership):
    me = create_user()
    create_project(lead_firm=me.firm, name="Own rollout")
    partnered = create_project(name="Partner rollout")
    create_membership(partnered, me.firm)
    declined = create_project(name="Declined rollout")
    create_membership(declined, me.firm, status="declined")
    create_project(lead_firm=create_firm(), name="Stranger rollout")
    sign_in(client, me)
    page = client.get("/")
    assert page.status_code == 200
    assert "Own rollout" in page.text and "Partner rollout" in page.text
    assert "Stranger rollout" not in page.text and "Declined rollout" not in page.text
    assert me.email in page.text


def test_project_page_shows_header_sites_and_work_items(
        client, create_user, create_project, create_site, create_skill, create_work_item):
    me = create_user()
    project = create_project(lead_firm=me.firm, client_name="Stadtwerke Nord")
    site = create_site(project, name="Depot Kiel", region="Schleswig")
    skill = create_skill(project, code="win11", name="Windows 11")
    first = create_work_item(site, skill, ref="KI-001", quantity=40, effort_hours=1.5)
    create_work_item(site, skill, ref="KI-002", depends_on=[first])
    sign_in(client, me)
    page = client.get(f"/projects/{project.id}")
    assert page.status_code == 200
    for text in ("Stadtwerke Nord", "Depot Kiel", "Schleswig", "KI-001", "KI-002",
                 "Windows 11", "40 x 1.5 h", project.site_face_policy):
        assert text in page.text


def test_project_of_another_firm_is_404_html(client, create_user, create_project):
    me = create_user()
    project = create_project(name="Secret rollout")
    sign_in(client, me)
    response = client.get(f"/projects/{project.id}", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert "Secret rollout" not in response.text


def test_invited_partner_sees_only_its_own_offer(
        client, create_user, create_firm, create_project, create_membership, create_offer):
    lead = create_user(role="coordinator")
    project = create_project(lead_firm=lead.firm)
    mine = create_user(firm=create_firm(name="Nordlicht IT"), role="coordinator")
    rival = create_firm(name="Rival Netzwerk GmbH")
    for firm in (mine.firm, rival):
        create_membership(project, firm)
    create_offer(project, mine.firm, travel_radius_km=123.25)
    create_offer(project, rival, travel_radius_km=4321.5)

    sign_in(client, mine)
    page = page_text(client, f"/projects/{project.id}")
    assert "Nordlicht IT" in page and "123.25 km" in page
    assert "Rival Netzwerk GmbH" not in page and "4321.5" not in page


def test_lead_coordinator_sees_every_offer(
        client, create_user, create_firm, create_project, create_membership, create_offer):
    lead = create_user(role="coordinator")
    project = create_project(lead_firm=lead.firm)
    rival = create_firm(name="Rival Netzwerk GmbH")
    create_membership(project, rival)
    create_offer(project, rival, travel_radius_km=4321.5)

    sign_in(client, lead)
    page = page_text(client, f"/projects/{project.id}")
    assert "Capacity offers" in page
    assert "Rival Netzwerk GmbH" in page and "4321.5 km" in page


def test_lead_member_does_not_see_partner_offers(
        client, create_user, create_firm, create_project, create_membership, create_offer):
    member = create_user(role="member")
    project = create_project(lead_firm=member.firm)
    rival = create_firm(name="Rival Netzwerk GmbH")
    create_membership(project, rival)
    create_offer(project, rival, travel_radius_km=4321.5)

    sign_in(client, member)
    page = page_text(client, f"/projects/{project.id}")
    assert "Rival Netzwerk GmbH" not in page and "4321.5" not in page
