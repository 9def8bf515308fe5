"""The access rules as a matrix: every role against every endpoint, on other firms' objects.

The world: lead firm L leads project P; partners A and B accepted, C invited, D declined; O is
an outsider. B's offer carries sealed values that no one but B and L's coordinators may read.
"""

import copy
import json
import re
from decimal import Decimal

import pytest

from staffing.extensions import db as _db

from .conftest import Factories, savepoint_db, shared_database, table_contents

B_RATE = "87.65"
B_TRAVEL = "1.23"
B_SECRET_STRINGS = (B_RATE, B_TRAVEL, "secret-b@rival.example", "Geheimweg 7")

ROLES = (
    "lead_admin", "lead_coordinator", "lead_member",
    "a_admin", "a_coordinator", "a_member",
    "b_coordinator", "b_member",
    "c_coordinator",  # invited, not yet accepted
    "d_coordinator",  # declined
    "o_admin",  # outsider
)
LEAD_COORDINATORS = {"lead_admin", "lead_coordinator"}
PARTICIPANTS = LEAD_COORDINATORS | {"lead_member", "a_admin", "a_coordinator", "a_member",
                                    "b_coordinator", "b_member", "c_coordinator"}
B_USERS = {"b_coordinator", "b_member"}


def _build_world(db, make: Factories) -> dict:
    lead = make.firm(name="Lead AG")
    firms = {key: make.firm(name=f"Partner {key.upper()}") for key in "abcdeo"}
    firms["b"].contact_email = "secret-b@rival.example"
    firms["b"].address = "Geheimweg 7, Köln"
    project = make.project(lead_firm=lead)
    for key, status in (("a", "accepted"), ("b", "accepted"), ("c", "invited"),
                        ("d", "declined"), ("e", "withdrawn")):
        make.membership(project, firms[key], status=status)
    site = make.site(project, name="Hamburg HQ")
    other_site = make.site(project, name="Kiel Branch")
    skill = make.skill(project, code="desktop")
    server_skill = make.skill(project, code="winserver")
    item = make.work_item(site, skill=skill, ref="HH-DT-1")
    make.work_item(other_site, skill=skill, ref="KI-DT-1", depends_on=[item])
    for n in range(2, 6):  # enough work that B's share range (11-33 %) gives it some
        make.work_item(other_site, skill=skill, ref=f"KI-DT-{n}")
    offers = {
        "a": make.offer(project, firms["a"], {skill: (3, "55.00")}, min_share_percent=0,
                        max_share_percent=100),
        "b": make.offer(project, firms["b"], {skill: (4, B_RATE)},
                        travel_cost_per_km=Decimal(B_TRAVEL),
                        min_share_percent=Decimal("11.00"), max_share_percent=Decimal("33.00")),
        "lead": make.offer(project, lead, {skill: (5, "70.00")}, min_share_percent=0,
                           max_share_percent=100),
    }
    exclusion = make.exclusion(project, firms["b"], site, reason="sister company of client")
    jobs = _jobs(db, lead, firms, project, {
        "user": make.user, "project": make.project, "membership": make.membership,
        "skill": make.skill, "site": make.site, "item": make.work_item,
        "offer": make.offer})
    roles = {"lead_admin": (lead, "admin"), "lead_coordinator": (lead, "coordinator"),
             "lead_member": (lead, "member")}
    for key in "ab":
        for role in ("admin", "coordinator", "member"):
            roles[f"{key}_{role}"] = (firms[key], role)
    for key in "cd":
        roles[f"{key}_coordinator"] = (firms[key], "coordinator")
    roles["o_admin"] = (firms["o"], "admin")
    users = {name: make.user(firm=firm, role=role) for name, (firm, role)
             in roles.items() if name in ROLES}
    from staffing.planning.models import Assignment, Ban
    ban = Ban(project_id=project.id, work_item_id=item.id, firm_id=firms["b"].id,
              reason="declined by phone")
    db.session.add(ban)
    assignment_b = db.session.scalar(db.select(Assignment.id).filter_by(
        plan_id=jobs["plan"], firm_id=firms["b"].id).order_by(Assignment.id))
    b_colleague = make.user(firm=firms["b"], role="member")  # an object of B's: a user
    from staffing.security import issue_token
    b_token, _ = issue_token(b_colleague, "b's laptop", None)
    headers = {name: make.headers(user) for name, user in users.items()}
    db.session.commit()
    return {
        "headers": headers, "emails": {name: user.email for name, user in users.items()},
        "b_user": b_colleague.id, "b_token": b_token.id,
        "project": project.id, "site": site.id, "skill": skill.id,
        "server_skill": server_skill.id, "item": item.id, "offer_a": offers["a"].id,
        "offer_b": offers["b"].id, "exclusion": exclusion.id, "ban": ban.id,
        "assignment_b": assignment_b,
        "membership_b": _membership_id(db, project.id, firms["b"].id),
        "firm_a": firms["a"].id, "firm_b": firms["b"].id, "firm_o": firms["o"].id,
        "firm_ids": {key: firm.id for key, firm in firms.items()} | {"lead": lead.id}, **jobs,
    }


# The world is built once for the module, in a transaction that is never committed; every
# test runs in a savepoint of it that is rolled back after the test (whatever the test
# committed), and then the whole database is compared with the world as built: a test that
# left a trace in it fails.


@pytest.fixture(scope="module")
def shared_world(app):
    with shared_database(app) as connection:
        with app.app_context():
            world = _build_world(_db, Factories(_db))
        world["sessions"] = {role: _sign_in_once(app, world["emails"][role]) for role in ROLES}
        with app.app_context():
            built = table_contents(_db)
        yield connection, world, built


@pytest.fixture
def db(app, shared_world):
    """This module's `db`: a savepoint of the shared world's transaction, rolled back after
    the test; then the database must hold the world exactly as it was built."""
    connection, _, built = shared_world
    yield from savepoint_db(app, connection)
    with app.app_context():
        assert table_contents(_db) == built, "the test left a trace in the shared world"


@pytest.fixture
def world(db, shared_world):
    return copy.deepcopy(shared_world[1])


def _jobs(db, lead, firms, project, factories):
    """A solve that ran to a plan (proposed to the partners), a queued solve in the same
    project, and a second project like the first with nothing queued, to start solves in."""
    from staffing.planning import operations as ops
    from staffing.planning.models import Plan

    planner = factories["user"](firm=lead, role="admin")
    done = ops.start_solve(planner, project, "inline", time_limit=2)
    db.session.commit()
    ops.run_solve_job(done.id)
    plan = db.session.get(Plan, done.plan_id)
    plan.status = "proposed"
    b_row = next(row for row in plan.summary["firms"] if row["firm"] == str(firms["b"].id))
    assert b_row["hours"] > 0, "B has work in the plan: its figures can leak"
    queued = ops.start_solve(planner, project, "embedded", time_limit=2)
    db.session.commit()
    other = factories["project"](lead_firm=lead)
    for key, status in (("a", "accepted"), ("b", "accepted"), ("c", "invited"),
                        ("d", "declined")):
        factories["membership"](other, firms[key], status=status)
    skill = factories["skill"](other, code="desktop")
    factories["item"](factories["site"](other), skill=skill, quantity=1, effort_hours=4)
    factories["offer"](other, lead, {skill: (5, "70.00")}, min_share_percent=0,
                       max_share_percent=100)
    # what of B's only the lead's coordinators and B may read in the plan: its cost in euros
    b_plan_secrets = (repr(b_row["cost"]), f"{b_row['cost']:,.2f}")
    # every firm's cost in the plan, and the plan's total: a reader sees its own firm's only
    firm_costs = {row["firm"]: f"{row['cost']:,.2f}" for row in plan.summary["firms"]
                  if row["cost"]}
    # the street addresses each firm may not read: of every site where it has no work in the
    # proposed plan (none in the second project, which has no plan)
    from staffing.projects.models import Site, WorkItem
    addresses = {site.id: site.address for site in db.session.scalars(db.select(Site))}
    site_of = dict(db.session.execute(db.select(WorkItem.id, WorkItem.site_id)).all())
    working = {(a.firm_id, site_of[a.work_item_id]) for a in plan.assignments}
    hidden_addresses = {key: sorted({address for site_id, address in addresses.items()
                                     if (firm.id, site_id) not in working})
                        for key, firm in firms.items()}
    assert any(len(v) < len(addresses) for v in hidden_addresses.values())  # some are shown
    return {"job": done.id, "queued_job": queued.id, "plan": plan.id, "project2": other.id,
            "b_plan_secrets": b_plan_secrets, "firm_costs": firm_costs,
            "plan_total": f"{plan.cost:,.2f}", "hidden_addresses": hidden_addresses}


def _membership_id(db, project_id, firm_id):
    from staffing.partners.models import Membership
    return db.session.scalar(
        db.select(Membership.id).filter_by(project_id=project_id, firm_id=firm_id))


# (method, url, body, who may do it, success status). Everyone else: 404 when they cannot
# see the object at all, 403 when they can see it but not change it.
REQUESTS = [
    ("GET", "/api/v1/projects/{project}", None, PARTICIPANTS, 200),
    ("PATCH", "/api/v1/projects/{project}", {"description": "x"}, LEAD_COORDINATORS, 200),
    ("DELETE", "/api/v1/projects/{project}", None, LEAD_COORDINATORS, 204),
    ("GET", "/api/v1/projects/{project}/sites", None, PARTICIPANTS, 200),
    ("POST", "/api/v1/projects/{project}/sites",
     {"name": "New Site", "latitude": 50.0, "longitude": 8.0}, LEAD_COORDINATORS, 201),
    ("GET", "/api/v1/sites/{site}", None, PARTICIPANTS, 200),
    ("PATCH", "/api/v1/sites/{site}", {"region": "West"}, LEAD_COORDINATORS, 200),
    ("DELETE", "/api/v1/sites/{site}", None, LEAD_COORDINATORS, 204),
    ("GET", "/api/v1/projects/{project}/skills", None, PARTICIPANTS, 200),
    ("POST", "/api/v1/projects/{project}/skills", {"code": "exchange", "name": "Exchange"},
     LEAD_COORDINATORS, 201),
    ("GET", "/api/v1/skills/{skill}", None, PARTICIPANTS, 200),
    ("PATCH", "/api/v1/skills/{skill}", {"name": "Desktop rollout"}, LEAD_COORDINATORS, 200),
    ("DELETE", "/api/v1/skills/{server_skill}", None, LEAD_COORDINATORS, 204),
    ("GET", "/api/v1/projects/{project}/work-items", None, PARTICIPANTS, 200),
    ("POST", "/api/v1/projects/{project}/work-items",
     {"ref": "HH-NW-1", "site_id": "{site}", "kind": "network", "label": "Switches",
      "skill_id": "{skill}", "effort_hours": 4, "quantity": 2}, LEAD_COORDINATORS, 201),
    ("GET", "/api/v1/work-items/{item}", None, PARTICIPANTS, 200),
    ("PATCH", "/api/v1/work-items/{item}", {"label": "Desktops wave 1"}, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/projects/{project}/memberships", None, PARTICIPANTS, 200),
    ("POST", "/api/v1/projects/{project}/memberships", {"firm_id": "{firm_o}"},
     LEAD_COORDINATORS, 201),
    ("GET", "/api/v1/memberships/{membership_b}", None, LEAD_COORDINATORS | B_USERS, 200),
    ("PATCH", "/api/v1/memberships/{membership_b}", {"status": "withdrawn"},
     LEAD_COORDINATORS | {"b_coordinator"}, 200),
    ("DELETE", "/api/v1/memberships/{membership_b}", None, LEAD_COORDINATORS, 204),
    ("GET", "/api/v1/projects/{project}/capacity-offers", None, PARTICIPANTS, 200),
    ("GET", "/api/v1/capacity-offers/{offer_b}", None, LEAD_COORDINATORS | B_USERS, 200),
    ("PATCH", "/api/v1/capacity-offers/{offer_b}", {"travel_radius_km": 99},
     LEAD_COORDINATORS | {"b_coordinator"}, 200),
    ("DELETE", "/api/v1/capacity-offers/{offer_b}", None,
     LEAD_COORDINATORS | {"b_coordinator"}, 204),
    ("GET", "/api/v1/projects/{project}/exclusions", None, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/exclusions/{exclusion}", None, LEAD_COORDINATORS, 200),
    ("PATCH", "/api/v1/exclusions/{exclusion}", {"reason": "audit"}, LEAD_COORDINATORS, 200),
    ("DELETE", "/api/v1/exclusions/{exclusion}", None, LEAD_COORDINATORS, 204),
    ("POST", "/api/v1/projects/{project}/exclusions", {"firm_id": "{firm_b}", "site_id": None},
     LEAD_COORDINATORS, 201),
    ("GET", "/api/v1/projects/{project}/plans", None, PARTICIPANTS, 200),
    ("GET", "/api/v1/plans/{plan}", None, PARTICIPANTS, 200),
    ("PATCH", "/api/v1/plans/{plan}", {"notes": "checked"}, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/projects/{project}/solve-jobs", None, LEAD_COORDINATORS, 200),
    ("POST", "/api/v1/projects/{project2}/solve-jobs", {"time_limit": 1}, LEAD_COORDINATORS,
     202),
    ("GET", "/api/v1/solve-jobs/{job}", None, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/solve-jobs/{job}/events", None, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/solve-jobs/{job}/instance", None, LEAD_COORDINATORS, 200),
    ("DELETE", "/api/v1/solve-jobs/{queued_job}", None, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/firms/{firm_b}", None, set(ROLES), 200),  # its public fields
    ("PATCH", "/api/v1/firms/{firm_b}", {"region": "West"}, set(), 200),  # B's admins only
    ("DELETE", "/api/v1/firms/{firm_b}", None, set(), 204),  # operators only
    ("GET", "/api/v1/users/{b_user}", None, B_USERS, 200),
    ("PATCH", "/api/v1/users/{b_user}", {"name": "Renamed"}, set(), 200),  # B's admins only
    ("DELETE", "/api/v1/users/{b_user}", None, set(), 204),
    ("GET", "/api/v1/tokens", None, set(ROLES), 200),  # one's own
    ("POST", "/api/v1/tokens", {"name": "ci"}, set(ROLES), 201),
    ("DELETE", "/api/v1/tokens/{b_token}", None, set(), 204),  # its owner only
    ("POST", "/api/v1/solve-jobs/{queued_job}/cancel", {}, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/assignments/{assignment_b}", None, LEAD_COORDINATORS | B_USERS, 200),
    ("PATCH", "/api/v1/assignments/{assignment_b}", {"is_firm_locked": True},
     LEAD_COORDINATORS, 200),
    ("PATCH", "/api/v1/assignments/{assignment_b}", {"firm_id": "{firm_a}", "dry_run": True},
     LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/plans/{plan}/adjustments", None, LEAD_COORDINATORS, 200),
    ("GET", "/api/v1/plans/{plan}/comparison?with={plan}", None, PARTICIPANTS, 200),
    # no earlier plan to compare with by default: readers get the 422, others not even that
    ("GET", "/api/v1/plans/{plan}/comparison", None, PARTICIPANTS, 422),
    ("GET", "/api/v1/plans/{plan}/work-items/{item}/candidates", None, LEAD_COORDINATORS,
     200),
    ("GET", "/api/v1/projects/{project}/bans", None, LEAD_COORDINATORS, 200),
    ("POST", "/api/v1/projects/{project}/bans", {"work_item_id": "{item}",
                                                 "firm_id": "{firm_a}"},
     LEAD_COORDINATORS, 201),
    ("GET", "/api/v1/bans/{ban}", None, LEAD_COORDINATORS, 200),
    ("DELETE", "/api/v1/bans/{ban}", None, LEAD_COORDINATORS, 204),
]

# Objects a role can see but not change answer 403; everything else out of reach is 404.
VISIBLE_TO = {
    "/api/v1/projects/{project}": PARTICIPANTS,
    "/api/v1/projects/{project}/sites": PARTICIPANTS,
    "/api/v1/sites/{site}": PARTICIPANTS,
    "/api/v1/projects/{project}/skills": PARTICIPANTS,
    "/api/v1/skills/{skill}": PARTICIPANTS,
    "/api/v1/skills/{server_skill}": PARTICIPANTS,
    "/api/v1/projects/{project}/work-items": PARTICIPANTS,
    "/api/v1/work-items/{item}": PARTICIPANTS,
    "/api/v1/projects/{project}/memberships": PARTICIPANTS,
    "/api/v1/memberships/{membership_b}": LEAD_COORDINATORS | B_USERS,
    "/api/v1/capacity-offers/{offer_b}": LEAD_COORDINATORS | B_USERS,
    "/api/v1/exclusions/{exclusion}": LEAD_COORDINATORS,
    "/api/v1/plans/{plan}": PARTICIPANTS,
    "/api/v1/projects/{project2}/solve-jobs": PARTICIPANTS,
    "/api/v1/firms/{firm_b}": set(ROLES),
    "/api/v1/users/{b_user}": B_USERS,
    "/api/v1/assignments/{assignment_b}": LEAD_COORDINATORS | B_USERS,
    "/api/v1/plans/{plan}/adjustments": PARTICIPANTS,
    "/api/v1/plans/{plan}/work-items/{item}/candidates": PARTICIPANTS,
}


def _fill(value, world):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return world[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


def _call(client, world, role, method, url, body):
    """The request as the role sends it; a change carries If-Match with the ETag of what the
    role reads there (or, if it reads nothing, the lead's), so the answer is about access."""
    path, headers = url.format(**world), dict(world["headers"][role])
    if method in ("PATCH", "PUT", "DELETE"):
        for reader in (role, "lead_admin"):
            etag = client.get(path, headers=world["headers"][reader]).headers.get("ETag")
            if etag:
                headers["If-Match"] = etag
                break
    return client.open(path, method=method, json=_fill(body, world), headers=headers)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,url,body,allowed,success", REQUESTS,
                         ids=[f"{r[0]} {r[1]}" for r in REQUESTS])
def test_matrix(client, world, role, method, url, body, allowed, success):
    response = _call(client, world, role, method, url, body)
    if role in allowed:
        assert response.status_code == success, response.get_data(as_text=True)
    elif role in VISIBLE_TO.get(url, set()):
        assert response.status_code == 403, response.get_data(as_text=True)
    else:
        assert response.status_code == 404, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert set(response.json) == {"code", "status", "message", "errors"}


def _crawl(client, world, role):
    """Every GET a role can issue against the project and the firm directory."""
    urls = [
        "/api/v1/projects", "/api/v1/firms", f"/api/v1/firms/{world['firm_b']}",
        "/api/v1/users", "/api/v1/users/me",
        "/api/v1/projects/{project}", "/api/v1/projects/{project}/sites",
        "/api/v1/projects/{project}/skills", "/api/v1/projects/{project}/work-items",
        "/api/v1/projects/{project}/memberships", "/api/v1/projects/{project}/exclusions",
        "/api/v1/projects/{project}/capacity-offers",
        "/api/v1/projects/{project}/capacity-offers?firm_id={firm_b}",
        "/api/v1/capacity-offers/{offer_a}", "/api/v1/capacity-offers/{offer_b}",
        "/api/v1/memberships/{membership_b}", "/api/v1/exclusions/{exclusion}",
        "/api/v1/sites/{site}", "/api/v1/work-items/{item}",
        "/api/v1/projects/{project}/plans", "/api/v1/plans/{plan}",
        "/api/v1/projects/{project}/solve-jobs", "/api/v1/solve-jobs/{job}",
        "/api/v1/solve-jobs/{job}/instance", "/api/v1/solve-jobs/{job}/events",
        "/api/v1/solve-jobs/{queued_job}",
        "/api/v1/assignments/{assignment_b}", "/api/v1/plans/{plan}/adjustments",
        "/api/v1/plans/{plan}/comparison?with={plan}",
        "/api/v1/plans/{plan}/work-items/{item}/candidates",
        "/api/v1/projects/{project}/bans", "/api/v1/bans/{ban}",
    ]
    for url in urls:
        response = client.get(url.format(**world), headers=world["headers"][role])
        yield url, response


# Whose contacts and home base each role reads in the firm directory: its own firm's, and the
# lead coordinators those of firms with an accepted membership (A and B; not C invited, D
# declined, E withdrawn, O outside). Everyone else reads name and region only.
FIRM_OF = {role: role.split("_")[0] for role in ROLES}


def _expected_contacts(role: str) -> set[str]:
    own = {FIRM_OF[role]}
    return own | {"a", "b"} if role in LEAD_COORDINATORS else own


@pytest.mark.parametrize("role", ROLES)
def test_firm_directory_contacts_matrix(client, world, role):
    headers = world["headers"][role]
    listed = {firm["id"]: firm for firm in client.get("/api/v1/firms?page_size=100",
                                                      headers=headers).json}
    for key, firm_id in world["firm_ids"].items():
        one = client.get(f"/api/v1/firms/{firm_id}", headers=headers)
        assert one.status_code == 200
        for body in (one.json, listed[firm_id]):
            shown = "contact_email" in body
            assert shown == (key in _expected_contacts(role)), (role, key, body)
            if not shown:
                assert set(body) == {"id", "name", "region"}, (role, key, body)


@pytest.mark.parametrize("role", sorted(set(ROLES) - LEAD_COORDINATORS - B_USERS))
def test_no_response_leaks_b_sealed_values(client, world, role):
    for url, response in _crawl(client, world, role):
        text = response.get_data(as_text=True)
        for secret in B_SECRET_STRINGS + world["b_plan_secrets"]:
            assert not _mentions(text, secret), f"{role} read {secret!r} from {url}"


@pytest.mark.parametrize("role", sorted(PARTICIPANTS - LEAD_COORDINATORS - {"lead_member"}))
def test_no_response_leaks_an_address_before_the_partner_has_work_there(client, world, role):
    hidden = world["hidden_addresses"][FIRM_OF[role]]
    assert hidden
    for url, response in _crawl(client, world, role):
        text = response.get_data(as_text=True)
        for address in hidden:
            assert not _mentions(text, address), f"{role} read {address!r} from {url}"


def _mentions(text: str, secret: str) -> bool:
    """Whether the secret appears as itself: not inside a longer number (a timestamp's
    seconds and microseconds, 00:39:41.234639, hold "1.23")."""
    return re.search(rf"(?<![\d.]){re.escape(secret)}(?!\d)", text) is not None


def test_mentions_finds_a_value_but_not_the_same_digits_inside_a_timestamp():
    assert _mentions('{"travel_cost_per_km": "1.23"}', "1.23")
    assert _mentions("costs 1.23 EUR per km", "1.23")
    assert not _mentions('"updated_at": "2026-11-27T00:39:41.234639+00:00"', "1.23")
    assert not _mentions("11.23 and 1.234", "1.23")
    assert _mentions("Street: Geheimweg 7, Berlin", "Geheimweg 7")


@pytest.mark.parametrize("role", sorted(LEAD_COORDINATORS | B_USERS))
def test_b_and_lead_coordinators_read_b_sealed_values(client, world, role):
    body = client.get(f"/api/v1/capacity-offers/{world['offer_b']}",
                      headers=world["headers"][role]).json
    assert B_RATE in json.dumps(body) and body["travel_cost_per_km"] == B_TRAVEL


@pytest.mark.parametrize("role", ["a_admin", "a_member", "c_coordinator", "lead_member"])
def test_offer_list_holds_only_own_firm(client, world, role):
    listed = client.get(f"/api/v1/projects/{world['project']}/capacity-offers",
                        headers=world["headers"][role]).json
    own = client.get("/api/v1/users/me", headers=world["headers"][role]).json["firm_id"]
    assert all(offer["firm_id"] == own for offer in listed)


@pytest.mark.parametrize("role", ["a_admin", "c_coordinator", "b_member"])
def test_membership_list_holds_only_own_firm(client, world, role):
    listed = client.get(f"/api/v1/projects/{world['project']}/memberships",
                        headers=world["headers"][role]).json
    own = client.get("/api/v1/users/me", headers=world["headers"][role]).json["firm_id"]
    assert [m["firm_id"] for m in listed] == [own]


@pytest.mark.parametrize("role", ["d_coordinator", "o_admin"])
def test_outsiders_do_not_see_the_project_in_lists(client, world, role):
    listed = client.get("/api/v1/projects", headers=world["headers"][role]).json
    assert world["project"] not in [p["id"] for p in listed]


def test_lead_coordinators_see_all_offers(client, world):
    listed = client.get(f"/api/v1/projects/{world['project']}/capacity-offers",
                        headers=world["headers"]["lead_coordinator"]).json
    assert len(listed) == 3


# --- pages, signed in with a browser session ----------------------------------------------

# (method, path, who may, their status); everyone else: 404 (403 where they see the object)
PAGES = [
    ("GET", "/account", set(ROLES), 200),
    # one's own account only (no other user's can be named): reached, the form is checked
    ("POST", "/account/password", set(ROLES), 422),
    ("POST", "/account/sessions/end-others", set(ROLES), 303),
    ("GET", "/projects/{project}/plans", PARTICIPANTS, 200),
    ("POST", "/projects/{project2}/solve-jobs", LEAD_COORDINATORS, 303),
    ("GET", "/solve-jobs/{job}", LEAD_COORDINATORS, 200),
    ("GET", "/solve-jobs/{job}/events", LEAD_COORDINATORS, 200),
    ("POST", "/solve-jobs/{queued_job}/cancel", LEAD_COORDINATORS, 303),
    ("GET", "/plans/{plan}", PARTICIPANTS, 200),
    ("GET", "/plans/{plan}?firm_id={firm_b}&group=site", PARTICIPANTS, 200),
    ("GET", "/plans/{plan}/compare?with={plan}", PARTICIPANTS, 200),
    ("GET", "/plans/{plan}/compare", PARTICIPANTS, 422),
    ("GET", "/plans/{plan}/work-items/{item}/candidates", LEAD_COORDINATORS, 200),
    ("POST", "/plans/{plan}/status", LEAD_COORDINATORS, 303),
    ("GET", "/assignments/{assignment_b}", LEAD_COORDINATORS | B_USERS, 200),
    ("POST", "/assignments/{assignment_b}", LEAD_COORDINATORS, 303),
    ("POST", "/assignments/{assignment_b}/ban", LEAD_COORDINATORS, 303),
]
PAGES_VISIBLE_TO = {"/projects/{project2}/solve-jobs": PARTICIPANTS,
                    "/plans/{plan}/status": PARTICIPANTS,
                    "/assignments/{assignment_b}": B_USERS,
                    "/plans/{plan}/work-items/{item}/candidates": PARTICIPANTS}
# what each page's forms send (one body for every POST: each form reads its own fields)
PAGE_FORM = {"time_limit": "1", "status": "draft", "action": "lock", "is_firm_locked": "1",
             "firm_id": "{firm_a}", "reason": "matrix"}


def _sign_in_once(app, email: str) -> str:
    """The session cookie of a real sign-in through /login (made once per role with the
    world: Argon2 makes a sign-in cost a quarter of a second). Its server-side session row
    is part of the world, so what a test does to it is rolled back with the rest."""
    from tests.projects.test_views import sign_in

    class Who:
        pass
    Who.email = email
    browser = app.test_client()
    sign_in(browser, Who)
    return browser.get_cookie(app.config["SESSION_COOKIE_NAME"]).value


def _signed_in(client, world, role):
    """The client signed in as the role (its session from the world); the CSRF token of
    its pages."""
    client.set_cookie(client.application.config["SESSION_COOKIE_NAME"],
                      world["sessions"][role])
    page = client.get("/")
    assert page.status_code == 200, f"{role} is not signed in: {page.status_code}"
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                     page.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method,path,allowed,success", PAGES,
                         ids=[f"{p[0]} {p[1]}" for p in PAGES])
def test_page_matrix(client, world, role, method, path, allowed, success):
    token = _signed_in(client, world, role)
    data = {"csrf_token": token, **_fill(PAGE_FORM, world)} if method == "POST" else None
    response = client.open(path.format(**world), method=method, data=data)
    if role in allowed:
        assert response.status_code == success, response.get_data(as_text=True)
    elif role in PAGES_VISIBLE_TO.get(path, set()):
        assert response.status_code == 403
    else:
        assert response.status_code == 404


@pytest.mark.parametrize("role", sorted(set(ROLES) - LEAD_COORDINATORS - B_USERS))
def test_no_page_leaks_b_sealed_values_or_the_lead_s_costs(client, world, role):
    _signed_in(client, world, role)
    for path in ("/projects/{project}/plans", "/solve-jobs/{job}", "/solve-jobs/{job}/events",
                 "/projects/{project}"):
        text = re.sub(r'name="csrf_token"[^>]*>', "",
                      client.get(path.format(**world)).get_data(as_text=True))
        for secret in B_SECRET_STRINGS + world["b_plan_secrets"]:
            assert not _mentions(text, secret), f"{role} read {secret!r} from {path}"
        assert "EUR" not in text and "Start solve" not in text, f"{role} on {path}"


@pytest.mark.parametrize("role", sorted(set(ROLES) - LEAD_COORDINATORS))
def test_the_plan_pages_show_a_reader_its_own_firm_s_slice_only(client, world, role):
    """The plan page and an assignment's page: no other firm's cost, no plan total, no
    share, no B secret; B's users see B's own cost there, and no one else's."""
    _signed_in(client, world, role)
    own = str(world["firm_ids"][FIRM_OF[role]])
    for path in ("/plans/{plan}", "/plans/{plan}?group=site", "/assignments/{assignment_b}",
                 "/plans/{plan}/compare?with={plan}",
                 "/plans/{plan}/work-items/{item}/candidates"):
        response = client.get(path.format(**world))
        text = re.sub(r'name="csrf_token"[^>]*>', "", response.get_data(as_text=True))
        secrets = [world["plan_total"], *B_SECRET_STRINGS[2:]] + [
            cost for firm, cost in world["firm_costs"].items() if firm != own]
        if role not in B_USERS:
            secrets += [*B_SECRET_STRINGS, *world["b_plan_secrets"]]
        for secret in secrets:
            assert not _mentions(text, secret), f"{role} read {secret!r} from {path}"
        for word in ("Key figures", "Share", "Why this firm", "Move to firm", "Unassigned"):
            assert word not in text, f"{role} on {path}: {word}"
    if role in B_USERS:
        page = client.get("/plans/{plan}".format(**world)).get_data(as_text=True)
        assert world["firm_costs"][own] in page


@pytest.mark.parametrize("role", sorted(B_USERS))
def test_b_reads_its_own_plan_figures(client, world, role):
    body = client.get(f"/api/v1/plans/{world['plan']}", headers=world["headers"][role]).json
    assert _mentions(json.dumps(body), world["b_plan_secrets"][0])


CSV_IMPORTS = {  # route -> one valid row of its kind
    "/api/v1/projects/{project}/imports/sites": "name,latitude,longitude\nLübeck,53.87,10.69\n",
    "/api/v1/projects/{project}/imports/work-items":
        "ref,site,kind,skill,effort_hours\nHH-NW-9,Hamburg HQ,network,desktop,2\n",
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", sorted(CSV_IMPORTS))
def test_csv_import_matrix(client, world, role, url):
    import io

    response = client.post(
        url.format(**world) + "?dry_run=true",
        data={"file": (io.BytesIO(CSV_IMPORTS[url].encode()), "upload.csv")},
        headers=world["headers"][role], content_type="multipart/form-data")
    if role in LEAD_COORDINATORS:
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json["dry_run"] is True
    elif role in PARTICIPANTS:
        assert response.status_code == 403
    else:
        assert response.status_code == 404
    assert response.status_code == 200 or set(response.json) == {"code", "status", "message",
                                                                  "errors"}


@pytest.mark.parametrize("role", ROLES)
def test_a_draft_plan_is_the_lead_firms_alone(client, world, db, role):
    """Drafts: every user of the lead firm reads them (members only the lead firm's own
    assignments and row); no partner ever does, not even that one exists."""
    from staffing.planning.models import Plan

    plan = db.session.get(Plan, world["plan"])
    plan.status = "draft"
    db.session.commit()
    headers = world["headers"][role]
    one = client.get(f"/api/v1/plans/{plan.id}", headers=headers)
    listed = client.get(f"/api/v1/projects/{world['project']}/plans", headers=headers)
    if FIRM_OF[role] != "lead":
        assert one.status_code == 404
        assert listed.status_code == 404 if role not in PARTICIPANTS else listed.json == []
        return
    assert one.status_code == 200 and [row["id"] for row in listed.json] == [plan.id]
    lead_firm = world["firm_ids"]["lead"]
    firms = {assignment["firm_id"] for assignment in one.json["assignments"]}
    if role in LEAD_COORDINATORS:
        assert len(firms) > 1, "the whole plan"
    else:
        assert firms <= {lead_firm}
        assert [row["firm"] for row in one.json["summary"]["firms"]] in ([], [str(lead_firm)])
        assert "cost" not in one.json and "objective" not in one.json


@pytest.mark.parametrize("role", sorted(set(ROLES) - LEAD_COORDINATORS))
def test_an_exclusion_404_is_the_same_whether_it_exists_or_not(client, world, role):
    """Not a word of difference: in the role's project, in another, or none at all."""
    headers = world["headers"][role]
    answers = {client.get(f"/api/v1/exclusions/{exclusion_id}", headers=headers).get_data(
        as_text=True) for exclusion_id in (world["exclusion"], 2_000_000)}
    assert len(answers) == 1
    listed = client.get(f"/api/v1/projects/{world['project']}/exclusions", headers=headers)
    assert listed.status_code == 404
