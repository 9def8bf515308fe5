"""Running a solve job, in any process (inline in a request, a pool process of the service,
an RQ worker): claim it, solve with live progress and cancel, store the plan and the job's end
in one transaction.

A running job's Monitor writes a heartbeat (with the latest progress) every HEARTBEAT_EVERY
seconds and reads the cancel flag every POLL_EVERY seconds, each in a short transaction of
its own; jobs.STALE_AFTER seconds without a heartbeat and the sweep fails the job.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from solver.instance import problem_from_dict
from solver.solve import solve
from solver.types import Progress, Result, SolveOptions

from ...dbtypes import utcnow
from ...extensions import db
from ...projects.models import Project
from .. import mapping
from ..models import Plan, SolveJob

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 1.0  # seconds between two heartbeats of a running job
POLL_EVERY = 0.1  # seconds between two reads of the cancel flag
PROGRESS_EVERY = 0.5  # seconds between two progress writes, at most
DESCRIBED_LAG = 1.0  # seconds a described plan is shown for newer, undescribed ones
FINISH_RETRIES = (1, 2, 4, 8)  # seconds to wait before each retry of storing the result


def this_runner() -> str:
    """host:pid, the name a runner writes on the jobs it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


class Monitor:
    """Carries progress out of, and the cancel flag into, a running solve: a thread of its
    own writes the heartbeat and the progress and reads the flag, each in a short
    transaction of its own session (the solving thread holds no transaction meanwhile)."""

    def __init__(self, job_id: int, runner: str, start: bool = True):
        self.job_id, self.runner = job_id, runner
        self.latest: dict | None = None
        self.described: dict | None = None
        self.written: dict | None = None
        self.cancelled = threading.Event()  # the job's cancel flag was seen
        self.lost = threading.Event()  # the row is no longer ours (failed by a sweep)
        self.done = threading.Event()
        self.beat_at = self.polled_at = self.progress_at = -math.inf
        self.lock = threading.Lock()
        self.app = current_app._get_current_object()
        self.thread = None
        if start:
            try:  # a cancel asked for before the solve began is seen at once
                self.tick()
            except sa.exc.SQLAlchemyError as error:  # the thread tries again
                db.session.rollback()
                log.warning("solve job %s: first look at the row failed: %s", job_id,
                            error.__class__.__name__)
            self.thread = threading.Thread(target=self._loop, name=f"solve-job-{job_id}",
                                           daemon=True)
            self.thread.start()

    # called by the solver, from its threads
    def report(self, step: Progress) -> None:
        bound = step.bound if step.bound is not None and math.isfinite(step.bound) else None
        gap = None
        if bound is not None:
            gap = max(0.0, (step.objective - bound) / max(1.0, abs(step.objective)))
        terms = None if step.terms is None else {k: round(v, 2) for k, v in step.terms.items()}
        report = {"phase": step.phase, "elapsed": round(step.elapsed, 3),
                  "objective": round(step.objective, 2),
                  "bound": None if bound is None else round(bound, 2),
                  "gap": None if gap is None else round(gap, 6),
                  "assigned": step.assigned, "cost": step.cost, "terms": terms}
        with self.lock:
            self.latest = self._described_or_latest(report)

    def _described_or_latest(self, latest: dict) -> dict:
        """Some steps report a better plan without describing it (items, cost, terms): show
        the latest described plan while it is at most DESCRIBED_LAG seconds older, so the
        figures shown always belong to one plan."""
        if latest["assigned"] is not None:
            self.described = latest
        elif self.described is not None \
                and latest["elapsed"] - self.described["elapsed"] <= DESCRIBED_LAG:
            return self.described
        return latest

    def should_stop(self) -> bool:
        return self.cancelled.is_set() or self.lost.is_set()

    # the bookkeeping
    def tick(self) -> None:
        """One round: read the cancel flag when due, write progress and heartbeat when due."""
        now = time.monotonic()
        if now - self.polled_at >= POLL_EVERY:
            self.polled_at = now
            row = self._execute(sa.select(SolveJob.status, SolveJob.worker,
                                          SolveJob.cancel_requested_at)
                                .where(SolveJob.id == self.job_id)).first()
            if row is None or row.status != "running" or row.worker != self.runner:
                self.lost.set()
            elif row.cancel_requested_at is not None:
                self.cancelled.set()
        with self.lock:
            latest = self.latest
        fresh = latest is not None and latest is not self.written
        if (fresh and now - self.progress_at >= PROGRESS_EVERY) \
                or now - self.beat_at >= HEARTBEAT_EVERY:
            values = {"heartbeat_at": utcnow()}
            if fresh:
                values["progress"] = latest
                self.written, self.progress_at = latest, now
            self.beat_at = now
            self._execute(sa.update(SolveJob).where(
                SolveJob.id == self.job_id, SolveJob.status == "running",
                SolveJob.worker == self.runner).values(**values))

    def _execute(self, statement):
        result = db.session.execute(statement)
        db.session.commit()
        return result

    def _loop(self) -> None:
        with self.app.app_context():
            try:
                while not self.done.wait(POLL_EVERY / 2):
                    try:
                        self.tick()
                    except sa.exc.SQLAlchemyError as error:  # the database away a moment
                        db.session.rollback()
                        log.warning("solve job %s: progress not written: %s", self.job_id,
                                    error.__class__.__name__)
            finally:
                db.session.remove()

    def close(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()


def run_solve_job(job_id: int, runner: str | None = None) -> str:
    """Run one queued job to its end in this process: claim it, solve, store the plan and
    the job's final state in one transaction. Returns the job's final status; a job that is
    no longer queued (cancelled, or claimed by another runner) is left alone."""
    runner = runner or this_runner()
    now = utcnow()
    claimed = db.session.execute(
        sa.update(SolveJob).where(SolveJob.id == job_id, SolveJob.status == "queued")
        .values(status="running", started_at=now, heartbeat_at=now, worker=runner))
    db.session.commit()
    if claimed.rowcount != 1:
        job = db.session.get(SolveJob, job_id)
        return job.status if job is not None else "missing"
    job = db.session.get(SolveJob, job_id)
    instance, options = job.instance, dict(time_limit=job.time_limit, seed=job.seed,
                                           workers=job.workers)
    db.session.commit()  # hold no transaction (nor SQLite's read lock) while solving
    monitor = Monitor(job_id, runner)
    try:
        problem = problem_from_dict(instance)
        result = solve(problem, SolveOptions(
            **options, on_progress=monitor.report, should_stop=monitor.should_stop))
    except Exception as error:  # the planner failed: say so on the job, store nothing
        monitor.close()
        log.exception("solve job %s failed", job_id)
        reason = f"the planner failed: {error.__class__.__name__}: {error}"
        return _finish(job_id, runner, lambda job: _failed(job, reason))
    monitor.close()
    if monitor.lost.is_set():
        db.session.rollback()
        job = db.session.get(SolveJob, job_id, populate_existing=True)
        log.warning("solve job %s: no longer this runner's (%s); its result is dropped", job_id,
                    job.status if job is not None else "deleted with its project")
        return job.status if job is not None else "missing"
    cancelled = monitor.cancelled.is_set()
    with monitor.lock:
        latest = monitor.latest
    storing = time.monotonic()
    status = _finish(job_id, runner,
                     lambda job: _store(job, problem, result, cancelled, latest))
    log.info("solve job %s %s: planner %.2f s (%s), stored in %.2f s", job_id, status,
             result.wall_time, result.status, time.monotonic() - storing)
    return status


def _store(job: SolveJob, problem, result: Result, cancelled: bool, latest: dict | None
           ) -> None:
    """The result as the project's next draft plan (none for a stopped solve that found no
    plan), and the job's final state."""
    plan = None
    if result.assignments or not cancelled:
        project = db.session.get(Project, job.project_id)
        plan = mapping.save_plan(project, problem, result, job.author_id,
                                 job.input_fingerprint, is_stopped_early=cancelled)
    job.progress = _final_progress(result, latest, plan)
    job.plan_id = plan.id if plan is not None else None
    job.status = "cancelled" if cancelled else "done"
    if cancelled and plan is None:
        job.error = "stopped before the planner found a plan; nothing was stored"


def _final_progress(result: Result, latest: dict | None, plan: Plan | None) -> dict:
    final = dict(latest or {})
    final.update(phase="finished", elapsed=round(result.wall_time, 3),
                 objective=result.objective, bound=result.bound, gap=result.gap,
                 solver_status=result.status,
                 assigned=len(result.assignments),
                 cost=plan.cost if plan is not None else None,
                 terms={k: round(v, 2) for k, v in result.terms.items()})
    return final


def _failed(job: SolveJob, reason: str) -> None:
    job.status, job.error = "failed", reason[:2000]


def _project_changed(job: SolveJob) -> None:
    _failed(job, "the project's work items or firms changed while it solved; no plan was "
                 "stored: start a new solve")


def _finish(job_id: int, runner: str, write: Callable[[SolveJob], None]) -> str:
    """Write the job's end in one transaction, if the job is still this runner's; retried
    while the database is briefly away, and failed (nothing stored) when the project changed
    under the solve."""
    for wait in (*FINISH_RETRIES, None):
        try:
            db.session.rollback()
            job = db.session.get(SolveJob, job_id, populate_existing=True,
                                 with_for_update=True)  # a sweep waits, or has won
            if job is None or job.status != "running" or job.worker != runner:
                return job.status if job is not None else "missing"
            write(job)
            job.finished_at = utcnow()
            db.session.commit()
            return job.status
        except sa.exc.IntegrityError:
            db.session.rollback()
            return _finish(job_id, runner, _project_changed)
        except sa.exc.OperationalError as error:
            db.session.rollback()
            if wait is None:
                raise
            log.warning("solve job %s: storing the result failed (%s); again in %s s",
                        job_id, error.__class__.__name__, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")
