"""Solve jobs, the API's side: start one (a row holding the instance the planner will
read), read and list them, cancel them, and fail the ones whose runner died (the sweep).
Running a job is runner.py's.

A job whose heartbeat is older than STALE_AFTER seconds is failed by the next sweep: its
runner was killed, or lost the database for that long.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa

from solver.instance import problem_from_dict, problem_to_dict
from solver.types import ProblemError

from ...access import get_project_for, require_lead_coordinator
from ...dbtypes import utcnow
from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...extensions import db
from ...partners.models import User
from ...projects.models import Project
from .. import inputs, mapping
from ..models import ACTIVE_JOB_STATUSES, FINISHED_JOB_STATUSES, Plan, SolveJob

STALE_AFTER = 30.0  # seconds without a heartbeat after which a running job is failed


def start_solve(actor: User | None, project: Project, backend: str, time_limit: float = 10.0,
                seed: int = 0, workers: int = 2, base_plan_id: int | None = None
                ) -> SolveJob:
    """A queued job for the project, with the instance the planner will read (actor None:
    the command line). One queued or running job per project: a second answers 409 naming
    the first."""
    if actor is not None:
        require_lead_coordinator(actor, project)
    # the project's row locked until commit: two starts at once are taken one after the other
    # (PostgreSQL; SQLite's transactions are serial already), so the second sees the first
    db.session.refresh(project, with_for_update=True)
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
        problem_from_dict(instance)  # reads, then solver.validate's rules
    except ProblemError as error:
        raise InvalidInput.field(error.field, error.reason) from error
    job = SolveJob(project_id=project.id, status="queued",
                   author_id=actor.id if actor is not None else None,
                   base_plan_id=base_plan_id, time_limit=time_limit, seed=seed,
                   workers=workers, backend=backend, instance=instance,
                   input_fingerprint=mapping.input_fingerprint(problem) if base is None
                   else inputs.current(project).fingerprint)
    db.session.add(job)
    db.session.flush()
    return job


def get_job(actor: User, job_id: int) -> SolveJob:
    """The job, for the lead firm's coordinators of its project; NotFound for anyone else."""
    job = db.session.get(SolveJob, job_id)
    if job is None:
        raise NotFound("solve job")
    try:
        require_lead_coordinator(actor, get_project_for(actor, job.project_id))
    except (Forbidden, NotFound):  # the same answer whether the job exists or not
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
    db.session.refresh(job, with_for_update=True)  # a runner's claim waits for this
    if job.status in FINISHED_JOB_STATUSES:
        raise Conflict(f"solve job {job.id} has already finished ({job.status})",
                       {"status": [job.status]})
    now = utcnow()
    if job.status == "queued":
        job.status, job.finished_at = "cancelled", now
    job.cancel_requested_at = job.cancel_requested_at or now
    db.session.flush()
    return job


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
    # rows a runner is finishing (or another sweep holds) are skipped, not waited for
    query = sa.select(SolveJob).where(SolveJob.status == "running").with_for_update(
        skip_locked=True)
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


