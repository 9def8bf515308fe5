"""Solve jobs across real processes: a running service (the embedded pool) read by an HTTP
client, RQ workers on Redis, and processes killed in the middle of a solve.

These tests need a database that other processes see, so each gets a fresh one of its own
(an SQLite file, or a new database on the PostgreSQL server of DATABASE_URL). Waiting for
another process is bounded by a deadline; nothing here is timed.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from solver.generate import generate
from staffing import create_app
from staffing.extensions import db
from staffing.partners.models import Firm, User
from staffing.planning import operations as ops
from staffing.planning import queue
from staffing.planning.mapping import import_problem
from staffing.planning.models import Plan, SolveJob
from staffing.projects.models import Project
from staffing.security import issue_token

from ..conftest import PASSWORD_HASH, _throwaway_postgres

STAFFING = os.path.join(os.path.dirname(sys.executable), "staffing")
WAIT = 60.0  # seconds any one wait for another process may take at most


def _require(service: str, available: bool, reason: str) -> None:
    """Skip with the reason outside CI; in CI (STAFFING_REQUIRE_SERVICES) a missing service
    fails the test instead."""
    if available:
        return
    if os.environ.get("STAFFING_REQUIRE_SERVICES"):
        pytest.fail(f"{service} is required here: {reason}")
    pytest.skip(f"{service}: {reason}")


def _redis_url() -> str:
    url = os.environ.get("REDIS_URL")
    _require("Redis", bool(url), "REDIS_URL is not set")
    from redis import Redis
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception as error:
        _require("Redis", False, f"{url} does not answer: {error}")
    return url


@pytest.fixture
def live(tmp_path):
    """A migrated database of its own, with a lead firm, its coordinator (and an API token)
    and a generated project that takes a while to solve; the environment for subprocesses."""
    url = os.environ.get("DATABASE_URL")
    drop = None
    if url and not url.startswith("sqlite"):
        url, drop = _throwaway_postgres(url)
    else:
        url = "sqlite:///" + str(tmp_path / "live.sqlite3")
    config = {"STAFFING_ENV": "test", "SECRET_KEY": "live-secret",
              "SQLALCHEMY_DATABASE_URI": url, "SOLVE_BACKEND": "embedded",
              "SOLVE_QUEUE": f"staffing-test-{uuid.uuid4().hex[:8]}",
              "REDIS_URL": os.environ.get("REDIS_URL")}
    app = create_app(config)
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
    env = {**os.environ, "DATABASE_URL": url, "STAFFING_ENV": "test",
           "SECRET_KEY": "live-secret", "STAFFING_SOLVE_BACKEND": "embedded",
           "STAFFING_SOLVE_QUEUE": config["SOLVE_QUEUE"], "STAFFING_SOLVE_PROCESSES": "1",
           "STAFFING_INSTANCE_PATH": str(tmp_path)}
    env.pop("REDIS_URL", None)
    started: list[subprocess.Popen] = []
    yield {"app": app, "env": env, "token": token, "started": started, **ids}
    for process in started:
        _kill(process)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if drop is not None:
        drop()


def _kill(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (its own process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=WAIT)


def _spawn(live, *args: str, env: dict | None = None) -> subprocess.Popen:
    process = subprocess.Popen([STAFFING, *args], env=env or live["env"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    live["started"].append(process)
    return process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(live) -> int:
    """Start the service (the development server, with its embedded solver pool); its
    port once it answers."""
    port = _free_port()
    _spawn(live, "run", "--port", str(port), "--no-reload", "--no-debugger")
    _until(lambda: _get(port, "/healthz", live)[0] == 200, "the service answers")
    return port


def _until(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            value = condition()
            if value:
                return value
        time.sleep(0.1)
    raise AssertionError(f"waited {timeout:.0f} s for {what}")


def _request(port: int, method: str, path: str, live, body: dict | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
    headers = {"Authorization": f"Bearer {live['token']}", "Content-Type": "application/json"}
    connection.request(method, path, body=json.dumps(body) if body is not None else None,
                       headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, json.loads(data) if data else None


def _get(port: int, path: str, live):
    return _request(port, "GET", path, live)


def _events(port: int, job_id: int, live):
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


def _job(live, job_id: int) -> SolveJob:
    with live["app"].app_context():
        job = db.session.get(SolveJob, job_id)
        db.session.expunge_all()
        db.session.remove()
        return job


def _plans(live) -> int:
    with live["app"].app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Plan))
        db.session.remove()
        return count


def _start_over_http(port, live, project, **args) -> int:
    status, body = _request(port, "POST", f"/api/v1/projects/{project}/solve-jobs", live, args)
    assert status == 202, body
    return body["id"]


# --- the embedded pool behind a running service ------------------------------------------


def test_an_http_client_reads_the_event_stream_to_the_final_state(live):
    port = _serve(live)
    job_id = _start_over_http(port, live, live["project"], time_limit=3)
    events = _events(port, job_id, live)
    ids = [number for number, _, _ in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    kinds = [kind for _, kind, _ in events]
    assert kinds[-1] == "end" and set(kinds[:-1]) <= {"progress"}
    order = {"queued": 0, "running": 1, "done": 2}
    statuses = [data["status"] for _, _, data in events]
    assert [order[s] for s in statuses] == sorted(order[s] for s in statuses), statuses
    assert "running" in statuses
    running = [data for _, _, data in events if data["status"] == "running"]
    plans = [data["progress"] for data in running if data["progress"]]
    assert plans and all(p["objective"] > 0 for p in plans)
    final = events[-1][2]
    assert final["status"] == "done" and final["plan_id"] and final["progress"]["assigned"]
    status, plan = _get(port, f"/api/v1/plans/{final['plan_id']}", live)
    assert status == 200 and plan["is_stopped_early"] is False and plan["cost"] > 0


def test_a_cancel_over_http_stops_the_solve_in_the_pool_and_keeps_its_plan(live):
    port = _serve(live)
    job_id = _start_over_http(port, live, live["project"], time_limit=120)
    _until(lambda: (_get(port, f"/api/v1/solve-jobs/{job_id}", live)[1]["progress"] or {})
           .get("objective"), "a first plan")
    status, body = _request(port, "POST", f"/api/v1/solve-jobs/{job_id}/cancel", live, {})
    assert status == 200 and body["cancel_requested_at"]
    final = _events(port, job_id, live)[-1][2]
    assert final["status"] == "cancelled" and final["plan_id"]
    status, plan = _get(port, f"/api/v1/plans/{final['plan_id']}", live)
    assert plan["is_stopped_early"] is True and plan["assignments"]
    elapsed = final["elapsed"]
    assert elapsed < 120, "the solve ran to its limit: the cancel was not seen"


def test_a_service_killed_mid_solve_leaves_its_job_failed_on_the_next_start(live):
    port = _serve(live)
    job_id = _start_over_http(port, live, live["project"], time_limit=120)
    _until(lambda: _job(live, job_id).status == "running", "the job to run")
    before = _plans(live)
    server = live["started"][-1]
    _kill(server)  # the service and its solver processes, at once
    assert _job(live, job_id).status == "running"  # nobody has noticed yet
    port = _serve(live)  # the next start: its dispatcher sweeps at its first request
    job = _until(lambda: (lambda j: j if j.status != "running" else None)(_job(live, job_id)),
                 "the orphaned job to be failed")
    assert job.status == "failed" and "has ended" in job.error and job.plan_id is None
    assert _plans(live) == before
    # and the project may be solved again
    _start_over_http(port, live, live["small"], time_limit=1)


def _children(pid: int) -> list[int]:
    children = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as handle:
                if int(handle.read().rsplit(")", 1)[1].split()[1]) == pid:
                    children.append(int(entry))
    return children


def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline") as handle:
        return handle.read()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_solver_processes_end_when_their_service_is_gone(live):
    port = _serve(live)
    job_id = _start_over_http(port, live, live["small"], time_limit=1)
    _until(lambda: _job(live, job_id).status == "done", "the job to finish")
    server = live["started"][-1]
    pool = [pid for pid in _children(server.pid) if "spawn_main" in _cmdline(pid)]
    assert pool, "no solver process was started"
    server.send_signal(signal.SIGKILL)  # the service alone, not its process group
    server.wait(timeout=WAIT)
    _until(lambda: not any(_alive(pid) for pid in pool), "the idle solver processes to end")


# --- RQ workers on Redis -------------------------------------------------------------------


def _rq_env(live) -> dict:
    return {**live["env"], "REDIS_URL": _redis_url(), "STAFFING_SOLVE_BACKEND": "rq"}


def _enqueue(live, project: int, time_limit: float) -> int:
    """Start a solve as the service would with REDIS_URL: a row, then an RQ message."""
    app = live["app"]
    app.config.update(REDIS_URL=_redis_url(), SOLVE_BACKEND="rq")
    with app.test_request_context():
        actor = db.session.get(User, live["user"])
        job = ops.start_solve(actor, db.session.get(Project, project), "rq",
                              time_limit=time_limit)
        db.session.commit()
        queue.dispatch(job)
        job_id = job.id
        db.session.remove()
    return job_id


def test_a_worker_process_runs_a_queued_job(live):
    env = _rq_env(live)
    job_id = _enqueue(live, live["small"], time_limit=2)
    assert _job(live, job_id).status == "queued"
    worker = _spawn(live, "worker", "--burst", env=env)
    assert worker.wait(timeout=WAIT) == 0
    job = _job(live, job_id)
    assert job.status == "done" and job.plan_id and job.worker.endswith(f":{worker.pid}")


def test_two_workers_solve_two_projects_at_once(live):
    env = _rq_env(live)
    first = _enqueue(live, live["project"], time_limit=120)
    second = _enqueue(live, live["other"], time_limit=120)
    for _ in range(2):
        _spawn(live, "worker", env=env)
    _until(lambda: _job(live, first).status == _job(live, second).status == "running",
           "both jobs running at once")
    assert _job(live, first).worker != _job(live, second).worker
    with live["app"].app_context():
        for job_id in (first, second):
            ops.cancel_job(None, db.session.get(SolveJob, job_id))
        db.session.commit()
        db.session.remove()
    for job_id in (first, second):
        job = _until(lambda j=job_id: (lambda x: x if not x.is_active else None)(_job(live, j)),
                     "the cancel to end the job")
        assert job.status == "cancelled"


def test_a_cancel_reaches_a_job_running_in_another_process(live):
    env = _rq_env(live)
    job_id = _enqueue(live, live["project"], time_limit=120)
    _spawn(live, "worker", env=env)
    _until(lambda: (_job(live, job_id).progress or {}).get("objective"), "a first plan")
    with live["app"].app_context():
        ops.cancel_job(None, db.session.get(SolveJob, job_id))
        db.session.commit()
        db.session.remove()
    job = _until(lambda: (lambda j: j if not j.is_active else None)(_job(live, job_id)),
                 "the worker to stop the solve")
    assert job.status == "cancelled" and job.plan_id
    with live["app"].app_context():
        assert db.session.get(Plan, job.plan_id).is_stopped_early
        db.session.remove()


def test_a_worker_killed_mid_solve_leaves_its_job_failed_and_nothing_half_written(live):
    env = _rq_env(live)
    job_id = _enqueue(live, live["project"], time_limit=120)
    worker = _spawn(live, "worker", env=env)
    _until(lambda: (_job(live, job_id).progress or {}).get("objective"), "a first plan")
    before = _plans(live)
    _kill(worker)
    assert _job(live, job_id).status == "running"
    # the next worker to start (here, on the same machine) sweeps for dead runners first
    sweeper = _spawn(live, "worker", "--burst", env=env)
    assert sweeper.wait(timeout=WAIT) == 0
    job = _job(live, job_id)
    assert job.status == "failed" and f":{worker.pid})" in job.error
    assert job.plan_id is None and _plans(live) == before
