"""Solve jobs: start one (a row holding the instance the planner will read), run it in any
process (claim it, solve with live progress and cancel, store the plan in one transaction),
cancel it, and fail the ones whose runner died.

A running job's runner writes a heartbeat (with the latest progress) every HEARTBEAT_EVERY
seconds and reads the cancel flag every POLL_EVERY seconds, each in a short transaction of
its own. A job whose heartbeat is older than STALE_AFTER seconds is failed by the next sweep
(`fail_orphaned_jobs`): its runner was killed, or lost the database for that long.
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

from solver.instance import problem_from_dict, problem_to_dict
from solver.prepare import validate
from solver.solve import solve
from solver.types import ProblemError, Progress, Result, SolveOptions

from ...access import get_project_for, require_lead_coordinator
from ...dbtypes import utcnow
from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...extensions import db
from ...partners.models import User
from ...projects.models import Project
from .. import mapping
from ..models import ACTIVE_JOB_STATUSES, Plan, SolveJob

log = logging.getLogger(__name__)

HEARTBEAT_EVERY = 1.0  # seconds between two heartbeats of a running job
POLL_EVERY = 0.2  # seconds between two reads of the cancel flag
PROGRESS_EVERY = 0.5  # seconds between two progress writes, at most
DESCRIBED_LAG = 1.0  # seconds a described plan is shown for newer, undescribed ones
STALE_AFTER = 30.0  # seconds without a heartbeat after which a running job is failed
FINISH_RETRIES = (1, 2, 4, 8)  # seconds to wait before each retry of storing the result
FINISHED = ("done", "failed", "cancelled")
PROGRESS_FIELDS = ("phase", "elapsed", "objective", "bound", "gap", "assigned", "cost",
                   "terms")


def this_runner() -> str:
    """host:pid, the name a runner writes on the jobs it claims."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- start, read, cancel (the API's side) ------------------------------------------------


def start_solve(actor: User | None, project: Project, backend: str, time_limit: float = 10.0,
                seed: int = 0, workers: int = 2, base_plan_id: int | None = None
                ) -> SolveJob:
    """A queued job for the project, with the instance the planner will read (actor None:
    the command line). One queued or running job per project: a second answers 409 naming
    the first."""
    if actor is not None:
        require_lead_coordinator(actor, project)
    fail_orphaned_jobs(project_id=project.id)
    active = db.session.scalar(sa.select(SolveJob).where(
        SolveJob.project_id == project.id, SolveJob.status.in_(ACTIVE_JOB_STATUSES)))
    if active is not None:
        raise Conflict(f"solve job {active.id} is {active.status} for this project; wait for "
                       f"it or cancel it first", {"job_id": [str(active.id)]})
    base = None
    if base_plan_id is not None:
        base = db.session.get(Plan, base_plan_id)
        if base is None or base.project_id != project.id:
            raise InvalidInput.field("base_plan_id", "no such plan in this project")
    problem = mapping.problem_for(project, base)
    if not problem.items:
        raise InvalidInput.field("project", "the project has no work items yet")
    if not problem.firms:
        raise InvalidInput.field("project", "no participating firm has a capacity offer yet")
    instance = problem_to_dict(problem)
    try:  # the runner reads the instance back: refuse here what it would refuse there
        validate(problem_from_dict(instance))
    except ProblemError as error:
        raise InvalidInput.field(error.field, error.reason) from error
    job = SolveJob(project_id=project.id, status="queued",
                   author_id=actor.id if actor is not None else None,
                   base_plan_id=base_plan_id, time_limit=time_limit, seed=seed,
                   workers=workers, backend=backend, instance=instance,
                   input_fingerprint=mapping.input_fingerprint(problem))
    db.session.add(job)
    db.session.flush()
    return job


def get_job(actor: User, job_id: int) -> SolveJob:
    """The job, for the lead firm's coordinators of its project; NotFound for anyone else."""
    job = db.session.get(SolveJob, job_id)
    if job is None:
        raise NotFound("solve job")
    project = get_project_for(actor, job.project_id)
    try:
        require_lead_coordinator(actor, project)
    except Forbidden:
        raise NotFound("solve job") from None
    if job.status == "running":
        fail_orphaned_jobs(job_id=job.id)
        db.session.refresh(job)
    return job


def list_jobs(actor: User, project: Project, status: str | None = None) -> sa.Select:
    """The project's jobs, newest first: lead coordinators only (NotFound for others)."""
    try:
        require_lead_coordinator(actor, project)
    except Forbidden:
        raise NotFound("solve jobs") from None
    fail_orphaned_jobs(project_id=project.id)
    query = sa.select(SolveJob).filter_by(project_id=project.id).order_by(SolveJob.id.desc())
    if status:
        query = query.where(SolveJob.status == status)
    return query


def cancel_job(actor: User | None, job: SolveJob) -> SolveJob:
    """A queued job is cancelled at once; a running one is asked to stop (its runner sees
    it within POLL_EVERY seconds, and keeps the best plan so far as a draft). Actor None:
    the command line."""
    if actor is not None:
        require_lead_coordinator(actor, db.session.get(Project, job.project_id))
    if job.status in FINISHED:
        raise Conflict(f"solve job {job.id} has already finished ({job.status})",
                       {"status": [job.status]})
    now = utcnow()
    if job.status == "queued":
        job.status, job.finished_at = "cancelled", now
    job.cancel_requested_at = job.cancel_requested_at or now
    db.session.flush()
    return job


def job_instance(actor: User, job: SolveJob) -> dict:
    """The instance file the planner read (the lead's data: `get_job` checked the reader)."""
    return job.instance


def queue_position(job: SolveJob) -> int | None:
    """1 for the next queued job to run on its backend, 2 for the one after, ..."""
    if job.status != "queued":
        return None
    ahead = db.session.scalar(sa.select(sa.func.count()).select_from(SolveJob).where(
        SolveJob.status == "queued", SolveJob.backend == job.backend, SolveJob.id < job.id))
    return ahead + 1


def job_view(job: SolveJob) -> dict:
    """Everything about a job its (lead coordinator) reader may see, live figures included."""
    now = utcnow()
    elapsed = None
    if job.started_at is not None:
        elapsed = round(((job.finished_at or now) - job.started_at).total_seconds(), 2)
    return {
        "id": job.id, "project_id": job.project_id, "status": job.status,
        "author_id": job.author_id, "created_at": job.created_at,
        "started_at": job.started_at, "finished_at": job.finished_at,
        "cancel_requested_at": job.cancel_requested_at, "elapsed": elapsed,
        "queue_position": queue_position(job), "backend": job.backend,
        "options": {"time_limit": job.time_limit, "seed": job.seed, "workers": job.workers,
                    "base_plan_id": job.base_plan_id},
        "progress": job.progress, "plan_id": job.plan_id, "error": job.error,
        "input_fingerprint": job.input_fingerprint,
    }


def fail_orphaned_jobs(project_id: int | None = None, job_id: int | None = None,
                       dead_runner: Callable[[str], bool] | None = None) -> int:
    """Fail running jobs whose runner is gone: no heartbeat for STALE_AFTER seconds, or
    (with `dead_runner`) a runner known to be dead. Returns how many; flushes."""
    now = utcnow()
    query = sa.select(SolveJob).where(SolveJob.status == "running")
    if project_id is not None:
        query = query.where(SolveJob.project_id == project_id)
    if job_id is not None:
        query = query.where(SolveJob.id == job_id)
    failed = 0
    for job in db.session.scalars(query):
        silent = (now - (job.heartbeat_at or job.started_at or job.created_at)).total_seconds()
        if silent > STALE_AFTER:
            reason = (f"the planner's process stopped answering (no heartbeat for "
                      f"{silent:.0f} s): it was killed or lost the database; no plan was "
                      f"stored")
        elif dead_runner is not None and job.worker and dead_runner(job.worker):
            reason = f"the process that ran it ({job.worker}) has ended; no plan was stored"
        else:
            continue
        job.status, job.finished_at, job.error = "failed", now, reason
        failed += 1
    if failed:
        db.session.flush()
    return failed


# --- run (the runner's side: any process, inline or in a worker) --------------------------


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
            self.tick()  # a cancel asked for before the solve began is seen at once
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
        log.warning("solve job %s: no longer ours (failed by a sweep); result dropped", job_id)
        return db.session.get(SolveJob, job_id).status
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
            job = db.session.get(SolveJob, job_id, populate_existing=True)
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
