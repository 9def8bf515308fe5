"""Fixtures: one migrated database per run, a transaction rolled back after every test."""

import datetime as dt
import os
import uuid
from contextlib import contextmanager
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from staffing import create_app
from staffing.config import normalise_database_url
from staffing.extensions import db as _db
from staffing.partners.models import (
    Availability,
    CapacityOffer,
    Exclusion,
    Firm,
    Membership,
    OfferSkill,
    User,
)
from staffing.projects.models import Project, Site, Skill, WorkItem
from staffing.security import hash_password, issue_token

PASSWORD = "correct horse battery"
# Argon2id is slow on purpose; hash the shared test password once per run.
PASSWORD_HASH = hash_password(PASSWORD)


def _throwaway_postgres(url: str, template: str | None = None):
    """Create a database beside the one in url (empty, or a copy of the database named
    template); return its URL and a drop function."""
    base = sa.engine.make_url(normalise_database_url(url))
    name = f"staffing_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(
            f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def drop():
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """DATABASE_URL picks the server (a fresh database is made on it); SQLite otherwise."""
    url = os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        yield "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
        return
    test_url, drop = _throwaway_postgres(url)
    yield test_url
    drop()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "STAFFING_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SOLVE_BACKEND": "inline",  # jobs run at once, in the request: no sleeping in tests
        # the test client closes a stream's response only when a test reads it to its end
        "EVENT_STREAMS": 10_000,
        # every test signs in from 127.0.0.1: the per-address limit is tested on its own
        # (tests/partners/test_sign_in_hardening.py); counters in memory, never shared
        "LOGIN_LIMIT": "100000 per minute",
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        _db.engine.dispose()


@contextmanager
def bound_to(app, connection: sa.Connection):
    """The app's engine and session on one connection that holds an open transaction: the
    app's commits become savepoint releases on it, and nothing reaches the database's
    other connections. Needs an app context on entry and on exit."""
    engines = _db._app_engines[app]
    engine = engines[None]
    engines[None] = connection
    _db.session.remove()
    _db.session.configure(join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        _db.session.remove()
        engines[None] = engine


@pytest.fixture
def db(app):
    """The database inside one outer transaction that is rolled back after the test.

    The app's commits become savepoint releases on the same connection.
    """
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        try:
            with bound_to(app, connection):
                yield _db
        finally:
            outer.rollback()
            connection.close()


@contextmanager
def shared_database(app):
    """For a module whose tests share one world that is costly to build (see
    tests/test_access_matrix.py): for the whole `with`, the app's engine is one connection
    with an outer transaction, as in the `db` fixture; the world is built in it once, then
    each test runs in a savepoint of it (savepoint_db) that is rolled back after the test.
    Everything is rolled back at the end. Each app context has a session of its own."""
    engines = _db._app_engines[app]
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    try:
        with app.app_context():
            _db.session.configure(join_transaction_mode="create_savepoint")
        yield connection
    finally:
        engines[None] = engine
        outer.rollback()
        connection.close()


def savepoint_db(app, connection: sa.Connection):
    """The `db` of one test on a shared_database connection: everything the test does,
    committed or not, is in a savepoint that is rolled back after it."""
    with app.app_context():
        savepoint = connection.begin_nested()
        _db.session.remove()
        try:
            yield _db
        finally:
            _db.session.remove()
            savepoint.rollback()


def table_contents(db) -> dict[str, list[tuple]]:
    """Every row of every table, sorted: what a test must leave as it found it."""
    return {table.name: sorted(map(tuple, db.session.execute(table.select())), key=repr)
            for table in db.metadata.sorted_tables}


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


# --- factories ---------------------------------------------------------------------------


class Factories:
    """The objects tests make, each committed at once, numbered per kind from 1 (per
    Factories: one per test, or one per shared world)."""

    def __init__(self, db):
        self.db = db
        self.counters = {kind: iter(range(1, 10_000))
                         for kind in ("firm", "user", "project", "site", "work_item")}

    def _add(self, obj):
        self.db.session.add(obj)
        self.db.session.commit()
        return obj

    def firm(self, **fields) -> Firm:
        n = next(self.counters["firm"])
        values = dict(
            name=f"Firm {n}", region="North", contact_name=f"Contact {n}",
            contact_email=f"office{n}@firm{n}.example", contact_phone=f"+49 30 {n:04d}",
            address=f"Street {n}, Berlin", latitude=52.52, longitude=13.40,
        )
        values.update(fields)
        return self._add(Firm(**values))

    def user(self, firm: Firm | None = None, role: str = "member", **fields) -> User:
        n = next(self.counters["user"])
        values = dict(email=f"user{n}@example.com", name=f"User {n}", role=role,
                      password_hash=PASSWORD_HASH)
        values.update(fields)
        return self._add(User(firm=firm or self.firm(), **values))

    def headers(self, user: User) -> dict:
        """Headers with a fresh Bearer token for that user."""
        _, secret = issue_token(user, "test", None)
        self.db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    def project(self, lead_firm: Firm | None = None, **fields) -> Project:
        n = next(self.counters["project"])
        values = dict(name=f"Rollout {n}", client_name=f"Client {n}",
                      start_on=dt.date(2027, 3, 1), end_on=dt.date(2027, 6, 30))
        values.update(fields)
        return self._add(Project(lead_firm=lead_firm or self.firm(), **values))

    def skill(self, project: Project, code: str = "desktop", name: str | None = None) -> Skill:
        return self._add(Skill(project_id=project.id, code=code, name=name or code.title()))

    def site(self, project: Project, **fields) -> Site:
        n = next(self.counters["site"])
        values = dict(name=f"Site {n}", address=f"Main St {n}", region="North",
                      latitude=52.0, longitude=13.0)
        values.update(fields)
        return self._add(Site(project_id=project.id, **values))

    def work_item(self, site: Site, skill: Skill | None = None, **fields) -> WorkItem:
        n = next(self.counters["work_item"])
        project = self.db.session.get(Project, site.project_id)
        values = dict(ref=f"WI-{n}", kind="desktop_batch", label=f"Desktops {n}",
                      effort_hours=1.5, quantity=40, crew_size=1, min_proficiency=2)
        values.update(fields)
        return self._add(WorkItem(project_id=project.id, site_id=site.id,
                                  skill=skill or self.skill(project, code=f"skill{n}"),
                                  **values))

    def membership(self, project: Project, firm: Firm, status: str = "accepted"
                   ) -> Membership:
        return self._add(Membership(project_id=project.id, firm_id=firm.id, status=status))

    def offer(self, project: Project, firm: Firm, skills: dict | None = None, **fields
              ) -> CapacityOffer:
        """skills maps Skill -> (proficiency, hourly rate)."""
        values = dict(travel_radius_km=150.0, travel_cost_per_km=Decimal("0.45"),
                      min_share_percent=Decimal(5), max_share_percent=Decimal(40))
        values.update(fields)
        offer = CapacityOffer(project_id=project.id, firm_id=firm.id, **values)
        for skill, (proficiency, rate) in (skills or {}).items():
            offer.skills.append(OfferSkill(skill_id=skill.id, proficiency=proficiency,
                                           hourly_rate=Decimal(str(rate))))
        offer.availability.append(Availability(
            start_on=project.start_on, end_on=project.end_on, technicians=3,
            hours_per_technician=8.0))
        return self._add(offer)

    def exclusion(self, project: Project, firm: Firm, site: Site | None = None,
                  reason: str = "") -> Exclusion:
        return self._add(Exclusion(project_id=project.id, firm_id=firm.id,
                                   site_id=site.id if site else None, reason=reason))


@pytest.fixture
def factories(db):
    return Factories(db)


@pytest.fixture
def create_firm(factories):
    return factories.firm


@pytest.fixture
def create_user(factories):
    return factories.user


@pytest.fixture
def auth(factories):
    """auth(user) -> headers with a fresh Bearer token for that user."""
    return factories.headers


@pytest.fixture
def create_project(factories):
    return factories.project


@pytest.fixture
def create_skill(factories):
    return factories.skill


@pytest.fixture
def create_site(factories):
    return factories.site


@pytest.fixture
def create_work_item(factories):
    return factories.work_item


@pytest.fixture
def create_membership(factories):
    return factories.membership


@pytest.fixture
def create_offer(factories):
    return factories.offer


@pytest.fixture
def create_exclusion(factories):
    return factories.exclusion


@pytest.fixture(scope="session")
def live_template(tmp_path_factory):
    """The seeded database of the live tests, migrated and seeded once per run; each test
    gets a copy of it (see tests/live.py)."""
    from .live import live_template_database

    yield from live_template_database(tmp_path_factory.mktemp("live-template"))


@pytest.fixture
def live(tmp_path, live_template):
    """A database other processes see, seeded, and the processes a test starts (killed at
    the end): see tests/live.py."""
    from .live import live_world

    yield from live_world(tmp_path, live_template)


class Matching:
    """A test client whose PATCH, PUT and DELETE carry the If-Match the API asks for: the
    ETag a GET of the same URL with the same headers answers now (none if it has none)."""

    def __init__(self, client):
        self.client = client

    def _send(self, method: str, url: str, **kwargs):
        headers = dict(kwargs.pop("headers", None) or {})
        etag = self.client.get(url, headers=headers).headers.get("ETag")
        if etag:
            headers["If-Match"] = etag
        return self.client.open(url, method=method, headers=headers, **kwargs)

    def patch(self, url: str, **kwargs):
        return self._send("PATCH", url, **kwargs)

    def put(self, url: str, **kwargs):
        return self._send("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs):
        return self._send("DELETE", url, **kwargs)

    def open(self, url: str, method: str = "GET", **kwargs):
        if method.upper() in ("PATCH", "PUT", "DELETE"):
            return self._send(method.upper(), url, **kwargs)
        return self.client.open(url, method=method, **kwargs)


@pytest.fixture
def matching(client):
    """matching.patch(url, ...) and .delete(url, ...): edits that send the current ETag."""
    return Matching(client)
