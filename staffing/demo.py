"""The reference rollout in a database: 8 firms, 13 sites, 14 servers, 220 desktops.

`load_demo` adds the rows of `demo_data` to an empty database, one user per role and firm,
and one API token per user, so a new installation has something real to plan.
"""

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy.orm as so

from . import demo_data as data
from .dbtypes import utcnow
from .partners.models import (
    Availability,
    CapacityOffer,
    Exclusion,
    Firm,
    Membership,
    OfferSkill,
    User,
)
from .projects.models import Project, Site, Skill, WorkItem
from .security import hash_password, issue_token

TOKEN_NAME = "demo"


@dataclass(frozen=True)
class DemoLogin:
    email: str
    name: str
    firm: str
    role: str
    is_operator: bool
    token: str


@dataclass(frozen=True)
class DemoCredentials:
    project_id: int
    password: str
    logins: tuple[DemoLogin, ...]


def load_demo(session: so.Session) -> DemoCredentials:
    """Add the reference rollout, its users and their tokens; flushes, never commits."""
    firms = _add_firms(session)
    users = _add_users(session, firms)
    project = _add_project(session, firms[data.LEAD])
    skills = _add_skills(session, project)
    sites = {code: _add_site(session, project, code, row, skills)
             for code, row in data.SITES.items()}
    _add_memberships(session, project, firms)
    _add_offers(session, project, firms, skills)
    lead_coordinator = next(u for u in users
                            if u.firm is firms[data.LEAD] and u.role == "coordinator")
    _add_exclusions(session, project, firms, sites, lead_coordinator)
    session.flush()
    return DemoCredentials(project.id, data.PASSWORD, tuple(_login(user) for user in users))


def _add_firms(session: so.Session) -> dict[str, Firm]:
    firms = {}
    for key, (name, region, address, lat, lon, domain, people) in data.FIRMS.items():
        firms[key] = Firm(name=name, region=region, address=address, latitude=lat,
                          longitude=lon, contact_name=people[1],
                          contact_email=f"coordinator@{domain}")
    session.add_all(firms.values())
    session.flush()
    return firms


def _add_users(session: so.Session, firms: dict[str, Firm]) -> list[User]:
    """admin@, coordinator@ and member@ each firm's domain, and the operator at the lead's."""
    password_hash = hash_password(data.PASSWORD)  # Argon2 is slow on purpose: hash once
    users = []
    for key, (*_, domain, people) in data.FIRMS.items():
        for role, person in zip(data.ROLE_PEOPLE, people, strict=True):
            users.append(User(email=f"{role}@{domain}", name=person, role=role,
                              firm=firms[key], password_hash=password_hash))
    local_part, person = data.OPERATOR
    lead_domain = data.FIRMS[data.LEAD][5]
    users.append(User(email=f"{local_part}@{lead_domain}", name=person, role="member",
                      is_operator=True, firm=firms[data.LEAD], password_hash=password_hash))
    session.add_all(users)
    session.flush()
    return users


def _add_project(session: so.Session, lead: Firm) -> Project:
    project = Project(lead_firm=lead, **data.PROJECT)
    session.add(project)
    session.flush()
    return project


def _add_skills(session: so.Session, project: Project) -> dict[str, Skill]:
    skills = {code: Skill(project_id=project.id, code=code, name=name)
              for code, name in data.SKILLS.items()}
    session.add_all(skills.values())
    session.flush()
    return skills


def _add_site(session: so.Session, project: Project, code: str, row: tuple,
              skills: dict[str, Skill]) -> Site:
    """One site and its work: network first, then the servers, then the desktop batches."""
    (name, region, address, lat, lon, ready_on, weekdays, blackouts, servers, batches,
     has_network, desktops_due) = row
    site = Site(project=project, name=name, region=region, address=address, latitude=lat,
                longitude=lon, ready_on=data.day(ready_on), access_weekdays=weekdays,
                blackout_dates=blackouts)
    session.add(site)

    def item(ref: str, kind: str, label: str, need: tuple, **fields) -> WorkItem:
        skill, proficiency, hours, crew = need
        work = WorkItem(project_id=project.id, site=site, ref=f"{code}-{ref}", kind=kind,
                        label=label, skill=skills[skill], min_proficiency=proficiency,
                        effort_hours=hours, crew_size=crew, **fields)
        session.add(work)
        return work

    network = ([item("NET-1", "network", "Network refresh (switches, Wi-Fi)", data.NETWORK)]
               if has_network else [])
    server_items = []
    for n, server in enumerate(servers, start=1):
        skill, proficiency, hours, crew, label = data.SERVERS[server]
        server_items.append(item(f"SRV-{n}", "server", label, (skill, proficiency, hours, crew),
                                 depends_on=list(network)))
    due_on = data.day(desktops_due) if desktops_due else None
    for n, quantity in enumerate(batches, start=1):
        item(f"DSK-{n}", "desktop_batch", f"Desktops, batch {n} ({quantity} seats)",
             data.DESKTOP, quantity=quantity, due_on=due_on, depends_on=list(server_items))
    return site


def _add_memberships(session: so.Session, project: Project, firms: dict[str, Firm]) -> None:
    """Every partner invited and accepted; the lead firm needs no membership."""
    now = utcnow()
    session.add_all(
        Membership(project_id=project.id, firm_id=firm.id, status="accepted", invited_at=now,
                   responded_at=now, message="Happy to support the rollout.")
        for key, firm in firms.items() if key != data.LEAD
    )


def _add_offers(session: so.Session, project: Project, firms: dict[str, Firm],
                skills: dict[str, Skill]) -> None:
    """One sealed capacity offer per firm, the lead's own included."""
    for key, offer in data.OFFERS.items():
        radius, cost_per_km, min_share, max_share, offered, calendar, blackouts = offer
        session.add(CapacityOffer(
            project_id=project.id, firm_id=firms[key].id, travel_radius_km=float(radius),
            travel_cost_per_km=Decimal(cost_per_km), min_share_percent=Decimal(min_share),
            max_share_percent=Decimal(max_share), blackout_dates=blackouts,
            skills=[OfferSkill(skill_id=skills[code].id, proficiency=proficiency,
                               hourly_rate=Decimal(rate))
                    for code, (proficiency, rate) in offered.items()],
            availability=[Availability(start_on=data.day(first), end_on=data.day(last),
                                       technicians=technicians, hours_per_technician=hours)
                          for first, last, technicians, hours in calendar],
        ))


def _add_exclusions(session: so.Session, project: Project, firms: dict[str, Firm],
                    sites: dict[str, Site], author: User) -> None:
    for key, site_code, reason in data.EXCLUSIONS:
        session.add(Exclusion(project_id=project.id, firm_id=firms[key].id,
                              site=sites[site_code] if site_code else None, reason=reason,
                              created_by_id=author.id))


def _login(user: User) -> DemoLogin:
    _, secret = issue_token(user, TOKEN_NAME, None)
    return DemoLogin(email=user.email, name=user.name, firm=user.firm.name, role=user.role,
                     is_operator=user.is_operator, token=secret)
