"""Solve jobs across real processes: a running service (the embedded pool) read by an HTTP
client, RQ workers on Redis, and processes killed in the middle of a solve.

These tests need a database that other processes see, so each gets a fresh one of its own
(an SQLite file, or a new database on the PostgreSQL server of DATABASE_URL). Waiting for
another process is bounded by a deadline; nothing here is timed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal

import sqlalchemy as sa

from staffing.extensions import db
from staffing.partners.models import User
from staffing.planning import operations as ops
from staffing.planning import queue
from staffing.planning.models import Plan, SolveJob
from staffing.projects.models import Project

from ..live import WAIT, get, kill, read_events, redis_url, request, serve, spawn, until


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
    status, body = request(port, "POST", f"/api/v1/projects/{project}/solve-jobs", live, args)
    assert status == 202, body
    return body["id"]


# --- the embedded pool behind a running service ------------------------------------------


def test_an_http_client_reads_the_event_stream_to_the_final_state(live):
    port = serve(live)
    job_id = _start_over_http(port, live, live["project"], time_limit=3)
    events = read_events(port, job_id, live)
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
    assert plans and all(p["objective"] > 0 for p in plans), [
        (d["status"], d["progress"], d.get("error")) for _, _, d in events]
    final = events[-1][2]
    assert final["status"] == "done" and final["plan_id"] and final["progress"]["assigned"]
    status, plan = get(port, f"/api/v1/plans/{final['plan_id']}", live)
    assert status == 200 and plan["is_stopped_early"] is False and plan["cost"] > 0


def test_a_cancel_over_http_stops_the_solve_in_the_pool_and_keeps_its_plan(live):
    port = serve(live)
    job_id = _start_over_http(port, live, live["project"], time_limit=120)
    until(lambda: (get(port, f"/api/v1/solve-jobs/{job_id}", live)[1]["progress"] or {})
           .get("objective"), "a first plan")
    status, body = request(port, "POST", f"/api/v1/solve-jobs/{job_id}/cancel", live, {})
    assert status == 200 and body["cancel_requested_at"]
    final = read_events(port, job_id, live)[-1][2]
    assert final["status"] == "cancelled" and final["plan_id"], (final["error"], final["progress"])
    status, plan = get(port, f"/api/v1/plans/{final['plan_id']}", live)
    assert plan["is_stopped_early"] is True and plan["assignments"]


def test_a_service_killed_mid_solve_leaves_its_job_failed_on_the_next_start(live):
    port = serve(live)
    job_id = _start_over_http(port, live, live["project"], time_limit=120)
    until(lambda: _job(live, job_id).status == "running", "the job to run")
    before = _plans(live)
    server = live["started"][-1]
    kill(server)  # the service and its solver processes, at once
    assert _job(live, job_id).status == "running"  # nobody has noticed yet
    port = serve(live)  # the next start: its dispatcher sweeps at its first request
    job = until(lambda: (lambda j: j if j.status != "running" else None)(_job(live, job_id)),
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
    port = serve(live)
    job_id = _start_over_http(port, live, live["small"], time_limit=1)
    until(lambda: _job(live, job_id).status == "done", "the job to finish")
    server = live["started"][-1]
    pool = [pid for pid in _children(server.pid) if "spawn_main" in _cmdline(pid)]
    assert pool, "no solver process was started"
    server.send_signal(signal.SIGKILL)  # the service alone, not its process group
    server.wait(timeout=WAIT)
    until(lambda: not any(_alive(pid) for pid in pool), "the idle solver processes to end")


# --- RQ workers on Redis -------------------------------------------------------------------


def _rq_env(live) -> dict:
    return {**live["env"], "REDIS_URL": redis_url(), "STAFFING_SOLVE_BACKEND": "rq"}


def _enqueue(live, project: int, time_limit: float) -> int:
    """Start a solve as the service would with REDIS_URL: a row, then an RQ message."""
    app = live["app"]
    app.config.update(REDIS_URL=redis_url(), SOLVE_BACKEND="rq")
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
    worker = spawn(live, "worker", "--burst", env=env)
    assert worker.wait(timeout=WAIT) == 0
    job = _job(live, job_id)
    assert job.status == "done" and job.plan_id and job.worker.endswith(f":{worker.pid}")


def test_two_workers_solve_two_projects_at_once(live):
    env = _rq_env(live)
    first = _enqueue(live, live["project"], time_limit=120)
    second = _enqueue(live, live["other"], time_limit=120)
    for _ in range(2):
        spawn(live, "worker", env=env)
    until(lambda: _job(live, first).status == _job(live, second).status == "running",
           "both jobs running at once")
    assert _job(live, first).worker != _job(live, second).worker
    with live["app"].app_context():
        for job_id in (first, second):
            ops.cancel_job(None, db.session.get(SolveJob, job_id))
        db.session.commit()
        db.session.remove()
    for job_id in (first, second):
        job = until(lambda j=job_id: (lambda x: x if not x.is_active else None)(_job(live, j)),
                     "the cancel to end the job")
        assert job.status == "cancelled"


def test_a_cancel_reaches_a_job_running_in_another_process(live):
    env = _rq_env(live)
    job_id = _enqueue(live, live["project"], time_limit=120)
    spawn(live, "worker", env=env)
    until(lambda: (_job(live, job_id).progress or {}).get("objective"), "a first plan")
    with live["app"].app_context():
        ops.cancel_job(None, db.session.get(SolveJob, job_id))
        db.session.commit()
        db.session.remove()
    job = until(lambda: (lambda j: j if not j.is_active else None)(_job(live, job_id)),
                 "the worker to stop the solve")
    assert job.status == "cancelled" and job.plan_id
    with live["app"].app_context():
        assert db.session.get(Plan, job.plan_id).is_stopped_early
        db.session.remove()


def test_a_worker_killed_mid_solve_leaves_its_job_failed_and_nothing_half_written(live):
    env = _rq_env(live)
    job_id = _enqueue(live, live["project"], time_limit=120)
    worker = spawn(live, "worker", env=env)
    until(lambda: (_job(live, job_id).progress or {}).get("objective"), "a first plan")
    before = _plans(live)
    kill(worker)
    assert _job(live, job_id).status == "running"
    # the next worker to start (here, on the same machine) sweeps for dead runners first
    sweeper = spawn(live, "worker", "--burst", env=env)
    assert sweeper.wait(timeout=WAIT) == 0
    job = _job(live, job_id)
    assert job.status == "failed" and f":{worker.pid})" in job.error
    assert job.plan_id is None and _plans(live) == before


def test_a_job_whose_queue_message_was_lost_is_sent_again_by_a_worker(live):
    """Redis lost the message (restarted without persistence, flushed): the row still says
    queued, and the next worker to sweep sends it again."""
    env = _rq_env(live)
    app = live["app"]
    with app.test_request_context():
        actor = db.session.get(User, live["user"])
        job = ops.start_solve(actor, db.session.get(Project, live["small"]), "rq",
                              time_limit=1)
        job.created_at -= dt.timedelta(seconds=queue.LOST_AFTER + 1)  # and no message sent
        db.session.commit()
        job_id = job.id
        db.session.remove()
    worker = spawn(live, "worker", "--burst", env=env)
    assert worker.wait(timeout=WAIT) == 0
    assert _job(live, job_id).status == "done"
