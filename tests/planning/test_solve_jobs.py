"""Solve jobs over HTTP, run inline (the tests' backend): start, progress, cancel, faults,
the plans they store and the status rules of those plans."""

import dataclasses
import datetime as dt
import json
import threading

import pytest
import sqlalchemy as sa

from solver.instance import problem_from_dict
from solver.solve import solve
from solver.types import Progress, SolveOptions
from staffing.cli import main
from staffing.dbtypes import utcnow
from staffing.planning import operations as ops
from staffing.planning.models import Plan, SolveJob
from staffing.planning.operations import jobs, runner
from staffing.planning.queue import is_dead_local_runner

from ..conftest import Matching
from .conftest import queued_job

SLOW_MACHINE = 120.0  # seconds a solve that waits for its first plan may take at most


def start(client, rollout, **args):
    return client.post(rollout["url"], json=args, headers=rollout["lead_h"])


def test_a_solve_is_accepted_at_once_and_runs_to_a_draft_plan(client, db, rollout):
    started = start(client, rollout, time_limit=5, seed=3, workers=1)
    assert started.status_code == 202, started.json
    job = started.json
    assert started.headers["Location"] == f"/api/v1/solve-jobs/{job['id']}"
    assert job["status"] == "done" and job["backend"] == "inline"
    assert job["options"] == {"time_limit": 5.0, "seed": 3, "workers": 1, "base_plan_id": None}
    assert job["started_at"] and job["finished_at"] and job["error"] is None
    progress = job["progress"]
    assert progress["phase"] == "finished" and progress["solver_status"] == "optimal"
    assert progress["assigned"] == 2 and progress["gap"] == pytest.approx(0, abs=1e-6)
    plan = client.get(f"/api/v1/plans/{job['plan_id']}", headers=rollout["lead_h"]).json
    assert plan["status"] == "draft" and plan["is_stale"] is False
    assert plan["is_stopped_early"] is False
    # euros of rates and travel, apart from the weighted objective
    assignments = plan["summary"]["assignments"]
    assert plan["cost"] == pytest.approx(sum(a["cost"] for a in assignments))
    assert progress["cost"] == plan["cost"]
    assert plan["travel_cost"] == pytest.approx(sum(a["travel_cost"] for a in assignments))
    assert plan["objective"] != plan["cost"]
    again = client.get(f"/api/v1/solve-jobs/{job['id']}", headers=rollout["lead_h"]).json
    assert again["status"] == "done" and again["plan_id"] == job["plan_id"]


def test_the_job_keeps_the_instance_the_planner_read_and_it_reproduces_the_plan(
        client, db, rollout):
    job = start(client, rollout, time_limit=5).json
    instance = client.get(f"/api/v1/solve-jobs/{job['id']}/instance",
                          headers=rollout["lead_h"])
    assert instance.status_code == 200 and instance.json["format"]
    again = solve(problem_from_dict(instance.json), SolveOptions(time_limit=5))
    assert again.objective == pytest.approx(job["progress"]["objective"])


def test_the_monitor_writes_progress_and_reads_the_cancel_flag(db, rollout, monkeypatch):
    monkeypatch.setattr(runner, "POLL_EVERY", 0.0)
    monkeypatch.setattr(runner, "PROGRESS_EVERY", 0.0)
    job = queued_job(db, rollout, status="running", worker="me:1")
    monitor = runner.Monitor(job.id, "me:1", start=False)
    monitor.report(Progress(objective=120.0, bound=100.0, elapsed=0.5, phase="columns",
                            assigned=2, cost=99.5, terms={"cost": 99.5, "coverage": 20.5}))
    monitor.tick()
    assert monitor.should_stop() is False
    db.session.refresh(job)
    assert job.progress == {"phase": "columns", "elapsed": 0.5, "objective": 120.0,
                            "bound": 100.0, "gap": round(20 / 120, 6), "assigned": 2,
                            "cost": 99.5, "terms": {"cost": 99.5, "coverage": 20.5}}
    # a better plan the step did not describe: the described one is shown (one plan's
    # figures), until it is more than DESCRIBED_LAG seconds older
    monitor.report(Progress(objective=110.0, bound=float("nan"), elapsed=1.0,
                            phase="site search"))
    assert monitor.latest["objective"] == 120.0
    monitor.report(Progress(objective=105.0, bound=float("nan"), elapsed=2.0,
                            phase="site search"))
    assert monitor.latest["objective"] == 105.0 and monitor.latest["cost"] is None
    job.cancel_requested_at = utcnow()
    db.session.commit()
    monitor.tick()
    assert monitor.should_stop() is True and not monitor.lost.is_set()


def test_a_monitor_whose_job_was_taken_stops_the_solve(db, rollout, monkeypatch):
    monkeypatch.setattr(runner, "POLL_EVERY", 0.0)
    job = queued_job(db, rollout, status="running", worker="someone-else:2")
    monitor = runner.Monitor(job.id, "me:1", start=False)
    assert monitor.should_stop() is False
    monitor.tick()
    assert monitor.should_stop() is True and monitor.lost.is_set()


def test_progress_reaches_the_row_while_a_larger_solve_runs(db, rollout, monkeypatch):
    """The monitor writes the solve's progress to the job's row while it runs. Nothing is
    timed: the solver's first report waits (SLOW_MACHINE seconds at most) until the monitor
    has written it to the row, so the solve cannot end before; then the solve is asked to
    stop. The time limit only bounds the wait for a first plan."""
    from solver.generate import generate
    from staffing.planning.mapping import import_problem

    project = import_problem(generate(30, 10, 20, 1), rollout["lead"].id, "Generated")
    db.session.commit()
    seen = []
    in_the_row, waited = threading.Event(), threading.Event()
    real_tick, real_report, real_solve = runner.Monitor.tick, runner.Monitor.report, runner.solve

    def tick_and_look(monitor):
        real_tick(monitor)
        row = db.session.execute(sa.select(SolveJob.progress, SolveJob.status)).one()
        seen.append(row)
        if row.progress is not None:
            in_the_row.set()

    def report_and_wait_for_the_row(monitor, step):
        real_report(monitor, step)
        if not waited.is_set():  # the first report only: SLOW_MACHINE seconds in all
            waited.set()
            in_the_row.wait(SLOW_MACHINE)  # not raised here, in the solver: asserted below

    def solve_until_the_row_shows_progress(problem, options):
        """The solve, stopped once the monitor has written a progress to the row (not by
        the job's cancel flag: the job ends done)."""
        asked = options.should_stop
        return real_solve(problem, dataclasses.replace(
            options, should_stop=lambda: in_the_row.is_set() or asked()))

    monkeypatch.setattr(runner.Monitor, "tick", tick_and_look)
    monkeypatch.setattr(runner.Monitor, "report", report_and_wait_for_the_row)
    monkeypatch.setattr(runner, "solve", solve_until_the_row_shows_progress)
    job = ops.start_solve(rollout["lead_user"], project, "inline", time_limit=SLOW_MACHINE)
    db.session.commit()
    assert runner.run_solve_job(job.id) == "done"
    written = [progress for progress, status in seen if progress is not None]
    assert written, (f"no progress reached the row while the job ran (the solver's first "
                     f"report waited {SLOW_MACHINE:.0f} s for it, if there was one)")
    assert all(status == "running" for _, status in seen)
    assert written[-1]["phase"] != "finished" and written[-1]["objective"] > 0


def test_one_solve_at_a_time_per_project(client, db, rollout):
    waiting = queued_job(db, rollout)
    second = start(client, rollout)
    assert second.status_code == 409
    assert second.json["errors"] == {"job_id": [str(waiting.id)]}
    assert f"solve job {waiting.id} is queued" in second.json["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SolveJob)) == 1


def test_the_database_refuses_a_second_active_job_too(db, rollout):
    queued_job(db, rollout)
    db.session.add(SolveJob(project_id=rollout["project"].id, status="queued", time_limit=1,
                            backend="embedded", instance={}, input_fingerprint="x"))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_queued_jobs_show_their_position(client, db, rollout, create_project, create_site,
                                        create_work_item, create_offer):
    first = queued_job(db, rollout)
    other = create_project(lead_firm=rollout["lead"])  # a second project, queued after
    item = create_work_item(create_site(other))
    create_offer(other, rollout["lead"], {item.skill: (3, "60.00")})
    second = ops.start_solve(rollout["lead_user"], other, "embedded", time_limit=5)
    db.session.commit()
    positions = [client.get(f"/api/v1/solve-jobs/{job.id}", headers=rollout["lead_h"]).json
                 for job in (first, second)]
    assert [view["queue_position"] for view in positions] == [1, 2]
    assert all(view["status"] == "queued" and view["elapsed"] is None
               and view["progress"] is None for view in positions)
    client.delete(f"/api/v1/solve-jobs/{first.id}", headers=rollout["lead_h"])
    assert client.get(f"/api/v1/solve-jobs/{second.id}",
                      headers=rollout["lead_h"]).json["queue_position"] == 1


def test_cancelling_a_queued_job_ends_it_at_once(client, db, rollout):
    job = queued_job(db, rollout)
    response = client.delete(f"/api/v1/solve-jobs/{job.id}", headers=rollout["lead_h"])
    assert response.status_code == 200 and response.json["status"] == "cancelled"
    assert response.json["plan_id"] is None
    # its runner, should the message still arrive, leaves it alone
    assert runner.run_solve_job(job.id) == "cancelled"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0
    # and the project may solve again
    assert start(client, rollout, time_limit=2).status_code == 202


def test_cancelling_a_finished_job_is_a_conflict(client, db, rollout):
    job = start(client, rollout, time_limit=2).json
    for method, url in (("DELETE", f"/api/v1/solve-jobs/{job['id']}"),
                        ("POST", f"/api/v1/solve-jobs/{job['id']}/cancel")):
        response = client.open(url, method=method, headers=rollout["lead_h"])
        assert response.status_code == 409, response.json
        assert response.json["message"] == f"solve job {job['id']} has already finished (done)"


def test_a_cancelled_solve_keeps_its_best_plan_as_a_draft_stopped_early(db, rollout):
    job = queued_job(db, rollout, cancel_requested_at=utcnow())  # asked while it ran
    assert runner.run_solve_job(job.id) == "cancelled"
    db.session.refresh(job)
    plan = db.session.get(Plan, job.plan_id)
    assert plan.status == "draft" and plan.is_stopped_early and plan.assignments
    assert job.progress["phase"] == "finished" and job.error is None


def test_a_cancel_before_any_plan_stores_nothing(db, rollout, monkeypatch):
    monkeypatch.setattr(runner, "solve", lambda problem, options: _no_plan(options))
    job = queued_job(db, rollout, cancel_requested_at=utcnow())
    assert runner.run_solve_job(job.id) == "cancelled"
    db.session.refresh(job)
    assert job.plan_id is None and "nothing was stored" in job.error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


def _no_plan(options=None):
    """What the planner answers when it found no plan (after one look at the stop flag)."""
    from solver.types import Result
    if options is not None:
        options.should_stop()
    return Result(status="unknown", objective=None, bound=None, gap=None,
                  time_to_first_plan=None, wall_time=0.1, terms={})


def test_a_planner_error_fails_the_job_with_the_reason_and_stores_nothing(db, rollout,
                                                                         monkeypatch):
    def broken(problem, options):
        raise RuntimeError("out of memory")
    monkeypatch.setattr(runner, "solve", broken)
    job = queued_job(db, rollout)
    assert runner.run_solve_job(job.id) == "failed"
    db.session.refresh(job)
    assert job.error == "the planner failed: RuntimeError: out of memory"
    assert job.finished_at is not None and job.plan_id is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


def test_a_project_changed_under_the_solve_fails_it_cleanly(db, rollout, monkeypatch):
    real_close = runner.Monitor.close

    def close_then_delete(monitor):
        real_close(monitor)
        db.session.delete(rollout["desk"])  # a coordinator deleted an item meanwhile
        db.session.commit()
    monkeypatch.setattr(runner.Monitor, "close", close_then_delete)
    job = queued_job(db, rollout)
    assert runner.run_solve_job(job.id) == "failed"
    db.session.refresh(job)
    assert "changed while it solved" in job.error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


def test_a_job_whose_heartbeat_stopped_is_failed_when_next_looked_at(client, db, rollout):
    silent = utcnow() - dt.timedelta(seconds=jobs.STALE_AFTER + 1)
    job = queued_job(db, rollout, status="running", started_at=silent, heartbeat_at=silent,
                     worker="elsewhere:1")
    view = client.get(f"/api/v1/solve-jobs/{job.id}", headers=rollout["lead_h"]).json
    assert view["status"] == "failed" and "stopped answering" in view["error"]
    assert view["finished_at"] is not None


def test_a_live_heartbeat_keeps_the_job_running(client, db, rollout):
    job = queued_job(db, rollout, status="running", started_at=utcnow(),
                     heartbeat_at=utcnow(), worker="elsewhere:1")
    view = client.get(f"/api/v1/solve-jobs/{job.id}", headers=rollout["lead_h"]).json
    assert view["status"] == "running" and view["elapsed"] is not None


def test_jobs_of_a_dead_local_process_are_failed_on_the_next_start(db, rollout):
    import socket
    import subprocess
    import sys

    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)
    gone = f"{socket.gethostname()}:{ended.stdout.strip()}"
    assert is_dead_local_runner(gone)
    assert not is_dead_local_runner(runner.this_runner())
    assert not is_dead_local_runner("another-host:1")
    job = queued_job(db, rollout, status="running", started_at=utcnow(),
                     heartbeat_at=utcnow(), worker=gone)
    assert jobs.fail_orphaned_jobs() == 0  # its heartbeat is fresh: no timeout yet
    assert jobs.fail_orphaned_jobs(dead_runner=is_dead_local_runner) == 1
    assert job.status == "failed" and gone in job.error


def test_a_runner_that_lost_its_job_drops_its_result(db, rollout, monkeypatch):
    """A sweep failed the job (say, the database was away too long): the runner sees the
    row is no longer its own, stops, and stores nothing."""
    real_tick = runner.Monitor.tick

    def swept_then_tick(monitor):
        db.session.execute(sa.update(SolveJob).values(status="failed", error="swept"))
        db.session.commit()
        real_tick(monitor)
    monkeypatch.setattr(runner.Monitor, "tick", swept_then_tick)
    job = queued_job(db, rollout)
    assert runner.run_solve_job(job.id) == "failed"
    db.session.refresh(job)
    assert job.error == "swept"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


@pytest.mark.parametrize("body,field", [
    ({"time_limit": 0.1}, "time_limit"), ({"time_limit": 4000}, "time_limit"),
    ({"seed": -1}, "seed"), ({"workers": 0}, "workers"), ({"timelimit": 5}, "timelimit"),
    ({"base_plan_id": 999999}, "base_plan_id"),
    ({"base_plan_id": 99999999999999999999999}, "base_plan_id"),
])
def test_bad_input_answers_422_with_the_field(client, db, rollout, body, field):
    response = start(client, rollout, **body)
    assert response.status_code == 422, response.json
    assert field in response.json["errors"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SolveJob)) == 0


def test_cancel_takes_no_fields(client, db, rollout):
    job = queued_job(db, rollout)
    response = client.post(f"/api/v1/solve-jobs/{job.id}/cancel", json={"force": True},
                           headers=rollout["lead_h"])
    assert response.status_code == 422 and "force" in response.json["errors"]
    assert client.post(f"/api/v1/solve-jobs/{job.id}/cancel", json={},
                       headers=rollout["lead_h"]).json["status"] == "cancelled"


def test_partners_and_lead_members_never_see_jobs(client, db, rollout, create_user, auth):
    job = start(client, rollout, time_limit=2).json
    member = auth(create_user(firm=rollout["lead"], role="member"))
    for headers in (rollout["north_h"], member):
        for url in (f"/api/v1/solve-jobs/{job['id']}", f"/api/v1/solve-jobs/{job['id']}/events",
                    f"/api/v1/solve-jobs/{job['id']}/instance"):
            assert client.get(url, headers=headers).status_code == 404
    assert start(client, {**rollout, "lead_h": rollout["north_h"]}).status_code == 403


def test_the_event_stream_ends_with_the_final_state(client, db, rollout):
    job = start(client, rollout, time_limit=2).json
    response = client.get(f"/api/v1/solve-jobs/{job['id']}/events",
                          headers=rollout["lead_h"])
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    events = parse_events(response.get_data(as_text=True))
    assert [e["event"] for e in events] == ["end"]
    assert events[0]["data"]["status"] == "done"
    assert events[0]["data"]["plan_id"] == job["plan_id"]


def test_a_server_keeps_only_so_many_streams_open(client, app, db, rollout, monkeypatch):
    from staffing.planning import events

    monkeypatch.setitem(app.config, "EVENT_STREAMS", 1)
    monkeypatch.setattr(events, "_open_streams", {})
    job = start(client, rollout, time_limit=2).json
    url = f"/api/v1/solve-jobs/{job['id']}/events"
    first = client.get(url, headers=rollout["lead_h"])
    assert first.status_code == 200
    refused = client.get(url, headers=rollout["lead_h"])
    assert refused.status_code == 503 and "poll GET" in refused.json["message"]
    first.close()  # the server closes a stream when it ends: its place is free again
    again = client.get(url, headers=rollout["lead_h"])
    assert again.status_code == 200 and "event: end" in again.get_data(as_text=True)
    again.close()


def parse_events(text: str) -> list[dict]:
    """Server-sent events -> [{id, event, data}] (data parsed as JSON)."""
    events = []
    for block in text.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "data" in fields:
            events.append({"id": int(fields["id"]), "event": fields["event"],
                           "data": json.loads(fields["data"])})
    return events


def test_jobs_list_newest_first(client, db, rollout):
    first = start(client, rollout, time_limit=2).json
    second = start(client, rollout, time_limit=2).json
    listed = client.get(rollout["url"], headers=rollout["lead_h"]).json
    assert [j["id"] for j in listed] == [second["id"], first["id"]]
    done = client.get(rollout["url"] + "?status=done", headers=rollout["lead_h"]).json
    assert len(done) == 2


# --- the plans jobs store --------------------------------------------------------------


def plan_id(client, rollout, **args):
    return start(client, rollout, time_limit=2, **args).json["plan_id"]


def test_a_plan_turns_stale_when_its_inputs_change(client, db, rollout):
    plan = plan_id(client, rollout)
    url = f"/api/v1/plans/{plan}"
    assert client.get(url, headers=rollout["lead_h"]).json["is_stale"] is False
    rollout["offer"].travel_radius_km = 80.0
    db.session.commit()
    assert client.get(url, headers=rollout["lead_h"]).json["is_stale"] is True
    listed = client.get(f"/api/v1/projects/{rollout['project'].id}/plans",
                        headers=rollout["lead_h"]).json
    assert listed[0]["is_stale"] is True and listed[0]["assigned"] == 2
    refused = Matching(client).patch(url, json={"status": "approved"}, headers=rollout["lead_h"])
    assert refused.status_code == 422 and "confirm_stale" in refused.json["errors"]
    approved = Matching(client).patch(url, json={"status": "approved", "confirm_stale": True},
                            headers=rollout["lead_h"])
    assert approved.status_code == 200 and approved.json["status"] == "approved"


def test_renaming_the_project_does_not_make_plans_stale(client, db, rollout):
    plan = plan_id(client, rollout)
    rollout["project"].name = "Renamed rollout"
    db.session.commit()
    assert client.get(f"/api/v1/plans/{plan}", headers=rollout["lead_h"]).json[
        "is_stale"] is False


def test_approving_records_who_and_when(client, db, rollout):
    plan = plan_id(client, rollout)
    body = Matching(client).patch(f"/api/v1/plans/{plan}", json={"status": "approved"},
                        headers=rollout["lead_h"]).json
    assert body["approved_by_id"] == rollout["lead_user"].id and body["approved_at"]


def test_a_plan_without_assignments_cannot_be_approved(client, db, rollout, monkeypatch):
    monkeypatch.setattr(runner, "solve", lambda problem, options: _no_plan())
    plan = plan_id(client, rollout)
    stored = client.get(f"/api/v1/plans/{plan}", headers=rollout["lead_h"]).json
    assert stored["solver_status"] == "unknown" and stored["assignments"] == []
    refused = Matching(client).patch(f"/api/v1/plans/{plan}", json={"status": "approved"},
                           headers=rollout["lead_h"])
    assert refused.status_code == 422 and "assigns no work item" in refused.json["message"]


def test_approving_an_older_version_over_a_newer_one_needs_confirmation(client, db, rollout):
    older, newer = plan_id(client, rollout), plan_id(client, rollout)
    lead = rollout["lead_h"]
    assert Matching(client).patch(f"/api/v1/plans/{newer}", json={"status": "approved"},
                        headers=lead).status_code == 200
    refused = Matching(client).patch(f"/api/v1/plans/{older}",
                                     json={"status": "approved"}, headers=lead)
    assert refused.status_code == 422 and "confirm_older" in refused.json["errors"]
    assert client.get(f"/api/v1/plans/{newer}", headers=lead).json["status"] == "approved"
    confirmed = Matching(client).patch(f"/api/v1/plans/{older}",
                             json={"status": "approved", "confirm_older": True}, headers=lead)
    assert confirmed.json["status"] == "approved"
    assert client.get(f"/api/v1/plans/{newer}", headers=lead).json["status"] == "superseded"


def test_a_superseded_plan_may_be_approved_again_with_confirmation(client, db, rollout):
    older, newer = plan_id(client, rollout), plan_id(client, rollout)
    lead = rollout["lead_h"]
    for plan in (older, newer):
        Matching(client).patch(f"/api/v1/plans/{plan}", json={"status": "approved"}, headers=lead)
    assert client.get(f"/api/v1/plans/{older}", headers=lead).json["status"] == "superseded"
    refused = Matching(client).patch(f"/api/v1/plans/{older}",
                                     json={"status": "approved"}, headers=lead)
    assert refused.status_code == 422 and "confirm_older" in refused.json["errors"]
    back = Matching(client).patch(f"/api/v1/plans/{older}",
                        json={"status": "approved", "confirm_older": True}, headers=lead)
    assert back.status_code == 200 and back.json["status"] == "approved"
    assert client.get(f"/api/v1/plans/{newer}", headers=lead).json["status"] == "superseded"


def test_a_new_proposal_or_approval_supersedes_the_older_proposal(client, db, rollout):
    lead, north = rollout["lead_h"], rollout["north_h"]
    first, second, third = (plan_id(client, rollout) for _ in range(3))
    for plan in (first, second):
        Matching(client).patch(f"/api/v1/plans/{plan}", json={"status": "proposed"}, headers=lead)
    assert client.get(f"/api/v1/plans/{first}", headers=lead).json["status"] == "superseded"
    Matching(client).patch(f"/api/v1/plans/{third}", json={"status": "approved"}, headers=lead)
    assert client.get(f"/api/v1/plans/{second}", headers=lead).json["status"] == "superseded"
    listed = client.get(f"/api/v1/projects/{rollout['project'].id}/plans", headers=north).json
    assert [p["id"] for p in listed] == [third]  # no older proposal comes back
    for plan, status in ((first, 404), (second, 404), (third, 200)):
        assert client.get(f"/api/v1/plans/{plan}", headers=north).status_code == status


def test_the_stream_of_a_job_deleted_with_its_project_ends(client, db, rollout):
    job = queued_job(db, rollout)
    response = client.get(f"/api/v1/solve-jobs/{job.id}/events", headers=rollout["lead_h"])
    iterator = iter(response.response)
    assert next(iterator).decode().startswith("retry:")
    assert "event: progress" in next(iterator).decode()
    db.session.delete(rollout["project"])
    db.session.commit()
    events = parse_events("".join(chunk.decode() for chunk in iterator))
    assert [(e["event"], e["data"]["status"]) for e in events] == [("end", "deleted")]
    response.close()


def test_partners_see_the_approved_plan_and_the_current_proposal_only(client, db, rollout):
    lead, north = rollout["lead_h"], rollout["north_h"]
    approved, old_proposal, proposal, draft = (plan_id(client, rollout) for _ in range(4))
    Matching(client).patch(f"/api/v1/plans/{approved}", json={"status": "approved"}, headers=lead)
    for plan in (old_proposal, proposal):
        Matching(client).patch(f"/api/v1/plans/{plan}", json={"status": "proposed"}, headers=lead)
    listed = client.get(f"/api/v1/projects/{rollout['project'].id}/plans", headers=north).json
    assert sorted(p["id"] for p in listed) == sorted([approved, proposal])
    assert all(set(p) == {"id", "version", "status", "created_at", "approved_at"}
               for p in listed)
    for plan, status in ((approved, 200), (proposal, 200), (old_proposal, 404), (draft, 404)):
        assert client.get(f"/api/v1/plans/{plan}", headers=north).status_code == status


# --- the database or the queue away for a moment ---------------------------------------


def _unavailable():
    return sa.exc.OperationalError("UPDATE solve_job", {}, Exception("server closed the "
                                                                       "connection"))


def test_a_result_stored_while_the_database_is_briefly_away_is_stored_once(db, rollout,
                                                                          monkeypatch):
    from staffing.planning import mapping

    real_save = mapping.save_plan
    calls = []

    def save_after_an_outage(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise _unavailable()
        return real_save(*args, **kwargs)
    monkeypatch.setattr(mapping, "save_plan", save_after_an_outage)
    monkeypatch.setattr(runner, "FINISH_RETRIES", (0, 0))
    job = queued_job(db, rollout)
    assert runner.run_solve_job(job.id) == "done"
    assert len(calls) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 1


def test_a_database_away_for_longer_leaves_the_job_to_the_sweep(db, rollout, monkeypatch):
    from staffing.planning import mapping

    def always_away(*args, **kwargs):
        raise _unavailable()
    monkeypatch.setattr(mapping, "save_plan", always_away)
    monkeypatch.setattr(runner, "FINISH_RETRIES", (0, 0))
    job = queued_job(db, rollout)
    with pytest.raises(sa.exc.OperationalError):
        runner.run_solve_job(job.id)
    db.session.refresh(job)
    assert job.status == "running" and job.plan_id is None  # nothing half-written
    job.heartbeat_at = utcnow() - dt.timedelta(seconds=jobs.STALE_AFTER + 1)
    db.session.commit()
    assert jobs.fail_orphaned_jobs() == 1 and job.status == "failed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Plan)) == 0


def test_progress_writes_that_fail_do_not_stop_the_solve(db, rollout, monkeypatch):
    def away(monitor):
        raise _unavailable()
    monkeypatch.setattr(runner.Monitor, "tick", away)  # the first look at the row too
    job = queued_job(db, rollout)
    assert runner.run_solve_job(job.id) == "done"
    db.session.refresh(job)
    assert job.plan_id is not None


def test_an_unreachable_queue_answers_503_and_leaves_a_failed_job(client, app, db, rollout,
                                                                  monkeypatch):
    monkeypatch.setitem(app.config, "SOLVE_BACKEND", "rq")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:9/0")  # nothing listens
    response = start(client, rollout, time_limit=2)
    assert response.status_code == 503, response.json
    assert "queue is unreachable" in response.json["message"]
    job = db.session.scalar(sa.select(SolveJob))
    assert job.status == "failed" and "unreachable" in job.error
    monkeypatch.setitem(app.config, "SOLVE_BACKEND", "inline")
    assert start(client, rollout, time_limit=2).status_code == 202  # nothing left active


# --- the command line ------------------------------------------------------------------------


def test_plan_start_waits_and_prints_progress(runner, db, rollout):
    result = runner.invoke(main, ["plan", "start", str(rollout["project"].id),
                                 "--time-limit", "2", "--wait"])
    assert result.exit_code == 0, result.output
    job = db.session.scalar(sa.select(SolveJob))
    assert f"solve job {job.id} queued (inline)" in result.output
    assert f"job {job.id} done" in result.output and "EUR" in result.output
    assert f"plan {job.plan_id} stored as a draft" in result.output
    shown = runner.invoke(main, ["plan", "show", str(job.id)])
    assert json.loads(shown.output)["status"] == "done"


def test_plan_cancel_and_its_errors(runner, db, rollout):
    job = queued_job(db, rollout)
    assert "cancelled" in runner.invoke(main, ["plan", "cancel", str(job.id)]).output
    again = runner.invoke(main, ["plan", "cancel", str(job.id)])
    assert again.exit_code == 1 and "already finished (cancelled)" in again.output
    missing = runner.invoke(main, ["plan", "cancel", "999999"])
    assert missing.exit_code == 1 and "no solve job 999999" in missing.output
    busy = queued_job(db, rollout)
    refused = runner.invoke(main, ["plan", "start", str(rollout["project"].id)])
    assert refused.exit_code == 1 and f"solve job {busy.id} is queued" in refused.output


def test_worker_needs_redis(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", None)
    result = runner.invoke(main, ["worker", "--burst"])
    assert result.exit_code == 1 and "REDIS_URL is not set" in result.output
