"""A service in other processes, for tests that need one: a migrated database of its own
(an SQLite file, or a new database on the PostgreSQL server of DATABASE_URL) that those
processes see, with a lead firm, its coordinator and generated projects (each test's is a
copy of one migrated and seeded once per run); helpers to start the service and workers, to
talk HTTP to them and to wait for them (each wait bounded)."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from solver.generate import generate
from staffing import create_app
from staffing.extensions import db
from staffing.partners.models import Firm, User
from staffing.planning.mapping import import_problem
from staffing.security import issue_token

from .conftest import PASSWORD_HASH, _throwaway_postgres

STAFFING = os.path.join(os.path.dirname(sys.executable), "staffing")
WAIT = 60.0  # seconds any one wait for another process may take at most


def require_service(service: str, available: bool, reason: str) -> None:
    """Skip with the reason outside CI; in CI (STAFFING_REQUIRE_SERVICES) a missing service
    fails the test instead."""
    if available:
        return
    if os.environ.get("STAFFING_REQUIRE_SERVICES"):
        pytest.fail(f"{service} is required here: {reason}")
    pytest.skip(f"{service}: {reason}")


def redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    require_service("Redis", bool(url), "REDIS_URL is not set")
    from redis import Redis
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:
        require_service("Redis", False, f"{url} does not answer: {error}")
    return url


def live_template_database(directory):
    """Once per run: a migrated database with a lead firm, its coordinator (and an API
    token) and generated projects that take a while to solve (an SQLite file, or a
    database on the PostgreSQL server of DATABASE_URL), for live_world to copy."""
    server = url = os.environ.get("DATABASE_URL")
    drop = None
    if url and not url.startswith("sqlite"):
        url, drop = _throwaway_postgres(server)
    else:
        server, url = None, "sqlite:///" + str(directory / "live-template.sqlite3")
    app = create_app({"STAFFING_ENV": "test", "SECRET_KEY": "live-secret",
                      "SQLALCHEMY_DATABASE_URI": url, "SOLVE_BACKEND": "embedded"})
    with app.app_context():
        upgrade()
        lead = Firm(name="Lead IT", latitude=51.0, longitude=10.0)
        db.session.add(lead)
        db.session.flush()
        user = User(firm=lead, email="planner@lead.example", name="Planner",
                    role="coordinator", password_hash=PASSWORD_HASH)
        db.session.add(user)
        db.session.flush()
        _, token = issue_token(user, "live", None)
        project = import_problem(generate(300, 40, 40, 3), lead.id, "Generated")
        other = import_problem(generate(300, 40, 40, 4), lead.id, "Generated too")
        small = import_problem(generate(13, 8, 20, 1), lead.id, "Small")
        db.session.commit()
        ids = {"project": project.id, "other": other.id, "small": small.id, "user": user.id}
        db.session.remove()
        db.engine.dispose()  # nobody on the template: PostgreSQL copies only an idle one
    yield {"server": server, "url": url, "token": token, "email": "planner@lead.example",
           "ids": ids}
    if drop is not None:
        drop()


def _copy_of(template: dict, tmp_path) -> tuple[str, Callable[[], None] | None]:
    """A database of its own for one test, the template's copy: its URL and a drop function
    (None for an SQLite file, which goes with tmp_path)."""
    url = template["url"]
    if template["server"]:  # made from the server's own database: none on the template
        return _throwaway_postgres(template["server"],
                                   template=sa.engine.make_url(url).database)
    copy = tmp_path / "live.sqlite3"
    with contextlib.closing(sqlite3.connect(sa.engine.make_url(url).database)) as source, \
            contextlib.closing(sqlite3.connect(copy)) as target:
        source.backup(target)
    return "sqlite:///" + str(copy), None


def live_world(tmp_path, template: dict):
    """A database of its own (a copy of the template: a lead firm, its coordinator and an
    API token, generated projects that take a while to solve), the environment for
    subprocesses on it, and the processes the test starts (killed at the end)."""
    url, drop = _copy_of(template, tmp_path)
    config = {"STAFFING_ENV": "test", "SECRET_KEY": "live-secret",
              "SQLALCHEMY_DATABASE_URI": url, "SOLVE_BACKEND": "embedded",
              "SOLVE_QUEUE": f"staffing-test-{uuid.uuid4().hex[:8]}",
              "REDIS_URL": os.environ.get("REDIS_URL")}
    app = create_app(config)
    env = {**os.environ, "DATABASE_URL": url, "STAFFING_ENV": "test",
           "SECRET_KEY": "live-secret", "STAFFING_SOLVE_BACKEND": "embedded",
           "STAFFING_SOLVE_QUEUE": config["SOLVE_QUEUE"], "STAFFING_SOLVE_PROCESSES": "1",
           "STAFFING_INSTANCE_PATH": str(tmp_path)}
    env.pop("REDIS_URL", None)
    started: list[subprocess.Popen] = []
    yield {"app": app, "env": env, "token": template["token"], "started": started,
           "email": template["email"], **template["ids"]}
    for process in started:
        kill(process)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if drop is not None:
        drop()


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT)


def spawn(live, *args: str, env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen([STAFFING, *args], env=env or live["env"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    live["started"].append(process)
    return process


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(live) -> int:
    """Start the service (the development server, with its embedded solver pool); its
    port once it answers."""
    port = free_port()
    spawn(live, "run", "--port", str(port), "--no-reload", "--no-debugger")
    until(lambda: get(port, "/healthz", live)[0] == 200, "the service answers")
    return port


def until(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            value = condition()
            if value:
                return value
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


def join_all(threads, what: str, timeout: float = WAIT) -> None:
    """Wait for the threads to end, timeout seconds in all at most; fail naming what hung
    (daemon threads, so that a hung one cannot hold up the run's exit either)."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = sum(thread.is_alive() for thread in threads)
    if alive:
        raise AssertionError(f"waited {timeout:.0f} s for {what}: {alive} of {len(threads)} "
                             "threads still running")


def request(port: int, method: str, path: str, live, body: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    headers = {"Authorization": f"Bearer {live['token']}", "Content-Type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else None


def get(port: int, path: str, live):
    return request(port, "GET", path, live)


def read_events(port: int, job_id: int, live):
    """Read the job's event stream to its end: [(id, event, data)], as they arrived."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    connection.request("GET", f"/api/v1/solve-jobs/{job_id}/events",
                       headers={"Authorization": f"Bearer {live['token']}"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type").startswith("text/event-stream")
    events, fields = [], {}
    for raw in response:
        line = raw.decode().rstrip("\n")
        if line:
            key, _, value = line.partition(": ")
            fields[key] = value
            continue
        if "data" in fields:
            events.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
        fields = {}
    connection.close()
    return events


