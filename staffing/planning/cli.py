"""Planner commands: generate instances, solve and check them, export and import projects.

`generate`, `solve` and `check` work on instance files and need no database; `project export`
and `project import` move a project between the database and an instance file.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import click
from flask import current_app

from solver.check import check as check_plan
from solver.generate import generate as generate_problem
from solver.instance import (
    load_plan,
    load_problem,
    plan_to_dict,
    result_to_dict,
    save_problem,
)
from solver.solve import solve as solve_problem
from solver.types import ProblemError, Progress, Result, SolveOptions

from ..errors import StaffingError
from ..extensions import db
from ..partners.models import Firm
from ..projects.models import Project
from . import mapping, queue
from . import operations as ops
from .models import SolveJob
from .schemas import SEEDS, TIME_LIMITS, WORKERS


def _load(path: str):
    try:
        return load_problem(path)
    except (ProblemError, OSError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{path}: {error}") from None


def register(main: click.Group) -> None:
    """Add the planner commands to the `staffing` group."""

    @main.command(with_appcontext=False)
    @click.option("--sites", type=click.IntRange(1), required=True)
    @click.option("--firms", type=click.IntRange(1), required=True)
    @click.option("--days", type=click.IntRange(1), required=True, help="Working days.")
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
    def generate(sites, firms, days, seed, output):
        """Write a realistic rollout instance (JSON) of the given size."""
        problem = generate_problem(sites, firms, days, seed)
        save_problem(problem, output)
        hours = sum(item.hours for item in problem.items)
        click.echo(f"{output}: {len(problem.sites)} sites, {len(problem.items)} work items "
                   f"({hours:,.0f} h), {len(problem.firms)} firms, "
                   f"{len(problem.working_days)} working days")

    @main.command(with_appcontext=False)
    @click.argument("instance", type=click.Path(exists=True, dir_okay=False))
    @click.option("--time-limit", type=click.FloatRange(0.1), default=10.0, show_default=True)
    @click.option("--workers", type=click.IntRange(1), default=2, show_default=True)
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--mode", type=click.Choice(["auto", "exact", "decompose"]), default="auto",
                  show_default=True)
    @click.option("--plan-out", type=click.Path(dir_okay=False),
                  help="Write the plan (for `staffing check`).")
    @click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
    @click.option("--progress", is_flag=True, help="Print each better plan as it is found.")
    def solve(instance, time_limit, workers, seed, mode, plan_out, as_json, progress):
        """Plan an instance file: a readable summary, or the whole result as JSON."""
        problem = _load(instance)

        def show(step: Progress) -> None:
            click.echo(f"  {step.elapsed:7.2f}s {step.phase:<18} plan {step.objective:,.2f} "
                       f"bound {step.bound:,.2f}", err=True)

        options = SolveOptions(time_limit=time_limit, workers=workers, seed=seed, mode=mode,
                               on_progress=show if progress else None)
        try:
            result = solve_problem(problem, options)
        except ProblemError as error:
            raise click.ClickException(f"{instance}: {error}") from None
        if plan_out:
            with open(plan_out, "w") as handle:
                json.dump(plan_to_dict(result), handle, indent=1)
        if as_json:
            click.echo(json.dumps(result_to_dict(result), indent=1))
        else:
            click.echo(summary(result, problem))
        if result.status in ("infeasible", "unknown"):
            sys.exit(3)

    @main.command(with_appcontext=False)
    @click.argument("instance", type=click.Path(exists=True, dir_okay=False))
    @click.argument("plan", type=click.Path(exists=True, dir_okay=False))
    def check(instance, plan):
        """List every hard-rule violation of a plan; exit status 1 if there is any."""
        problem = _load(instance)
        try:
            loaded = load_plan(plan)
        except (ProblemError, OSError, UnicodeDecodeError) as error:
            raise click.ClickException(f"{plan}: {error}") from None
        violations = check_plan(problem, loaded)
        for violation in violations:
            click.echo(f"{violation.rule}: {violation.message}")
        click.echo(f"{len(violations)} violation(s)" if violations else "no violation")
        sys.exit(1 if violations else 0)


    @main.group()
    def project():
        """Move a project between the database and an instance file."""

    @project.command("export")
    @click.argument("project_id", type=int)
    @click.option("-o", "--output", type=click.Path(dir_okay=False), required=True)
    def export_project(project_id, output):
        """Write a project (with its participating firms' offers) as an instance file."""
        found = db.session.get(Project, project_id)
        if found is None:
            raise click.ClickException(f"no project {project_id}")
        problem = mapping.problem_for(found)
        save_problem(problem, output)
        click.echo(f"{output}: {len(problem.items)} work items, {len(problem.firms)} firms")

    @project.command("import")
    @click.argument("instance", type=click.Path(exists=True, dir_okay=False))
    @click.option("--lead-firm-id", type=int, required=True)
    @click.option("--name", help="Project name (default: the instance's name).")
    def import_project(instance, lead_firm_id, name):
        """Create a project from an instance file; firms are matched by name or registered."""
        problem = _load(instance)
        if db.session.get(Firm, lead_firm_id) is None:
            raise click.ClickException(f"no firm {lead_firm_id}")
        try:
            created = mapping.import_problem(problem, lead_firm_id, name)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        click.echo(f"project {created.id} {created.name}: {len(problem.items)} work items")


def register_jobs(main: click.Group) -> None:
    """`staffing plan start/cancel/show` and `staffing worker`."""

    @main.group()
    def plan():
        """Solve jobs: start a solve in the background, watch it, cancel it."""

    @plan.command("start")
    @click.argument("project_id", type=int)
    @click.option("--time-limit", type=click.FloatRange(*TIME_LIMITS), default=10.0,
                  show_default=True)
    @click.option("--seed", type=click.IntRange(*SEEDS), default=0, show_default=True)
    @click.option("--workers", type=click.IntRange(*WORKERS), default=2, show_default=True)
    @click.option("--base-plan", "base_plan_id", type=int,
                  help="Re-plan from this plan, keeping its locks.")
    @click.option("--wait", is_flag=True, help="Print progress until the job ends.")
    def start(project_id, time_limit, seed, workers, base_plan_id, wait):
        """Queue a solve of a project; its plan is stored as the next draft."""
        found = db.session.get(Project, project_id)
        if found is None:
            raise click.ClickException(f"no project {project_id}")
        app = current_app._get_current_object()
        try:
            job = ops.start_solve(None, found, queue.backend_name(app), time_limit=time_limit,
                                  seed=seed, workers=workers, base_plan_id=base_plan_id)
            db.session.commit()
            if wait and job.backend == "embedded":
                _run_here(app, job.id)  # this job only, unless a running service is first
            else:
                queue.dispatch(job)
        except StaffingError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        click.echo(f"solve job {job.id} queued ({job.backend}) for project {project_id}")
        if not wait:
            if job.backend == "embedded":
                click.echo("the service's solver pool runs it once the service is up "
                           "(or use --wait to run it here)")
            return
        status = _watch(job.id)
        if status not in ("done", "cancelled"):
            sys.exit(1)

    @plan.command("cancel")
    @click.argument("job_id", type=int)
    def cancel(job_id):
        """Cancel a queued job, or ask a running one to stop (its best plan is kept)."""
        job = _job(job_id)
        try:
            ops.cancel_job(None, job)
            db.session.commit()
        except StaffingError as error:
            db.session.rollback()
            raise click.ClickException(error.message) from None
        if job.status == "cancelled":
            queue.cancel_queued(job)
            click.echo(f"solve job {job_id} cancelled")
        else:
            click.echo(f"solve job {job_id}: stop requested; it keeps its best plan so far")

    @plan.command("show")
    @click.argument("job_id", type=int)
    def show(job_id):
        """A job's status and progress, as JSON."""
        job = _job(job_id)
        ops.fail_orphaned_jobs(job_id=job_id)
        db.session.commit()
        click.echo(json.dumps(ops.job_view(job), indent=1, default=str))

    @main.command()
    @click.option("--burst", is_flag=True, help="Stop once the queue is empty.")
    def worker(burst):
        """Run solve jobs from the Redis queue (REDIS_URL), one at a time."""
        app = current_app._get_current_object()
        if not app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set: without it the service runs "
                                       "solves in its own pool, no worker is needed")
        queue.work(app, burst=burst)


def _job(job_id: int) -> SolveJob:
    job = db.session.get(SolveJob, job_id)
    if job is None:
        raise click.ClickException(f"no solve job {job_id}")
    return job


def _run_here(app, job_id: int) -> None:
    """Run the job in a thread of this process (its own session), while the caller
    watches it; a service's pool that claims it first runs it instead."""

    def run() -> None:
        with app.app_context():
            try:
                ops.run_solve_job(job_id)
            finally:
                db.session.remove()

    threading.Thread(target=run, name=f"solve-job-{job_id}", daemon=True).start()


def _watch(job_id: int, every: float = 0.5) -> str:
    """Print a line for each new state of the job until it ends; its final status."""
    last = None
    while True:
        db.session.rollback()
        job = db.session.get(SolveJob, job_id, populate_existing=True)
        if job.status == "running" and ops.fail_orphaned_jobs(job_id=job_id):
            db.session.commit()
        line = _progress_line(job)
        if line != last:
            click.echo(line)
            last = line
        if not job.is_active:
            if job.plan_id:
                click.echo(f"plan {job.plan_id} stored as a draft")
            if job.error:
                click.echo(job.error)
            return job.status
        db.session.rollback()  # hold no transaction (on SQLite: no lock) while waiting
        time.sleep(every)


def _progress_line(job: SolveJob) -> str:
    view = ops.job_view(job)
    progress = view["progress"] or {}
    parts = [f"job {job.id} {job.status}"]
    if view["queue_position"]:
        parts.append(f"position {view['queue_position']}")
    if progress:
        cost = progress.get("cost")
        gap = progress.get("gap")
        parts.append(f"{progress.get('phase')}: objective {progress.get('objective'):,.2f}"
                     if progress.get("objective") is not None else str(progress.get("phase")))
        parts.append(f"cost {cost:,.2f} EUR" if cost is not None else "cost -")
        parts.append(f"assigned {progress.get('assigned')}")
        parts.append(f"gap {100 * gap:.2f} %" if gap is not None else "gap -")
    if view["elapsed"] is not None:
        parts.append(f"{view['elapsed']:.1f} s")
    return "  ".join(parts)


def summary(result: Result, problem) -> str:
    """What a coordinator reads first: status, money, who does how much, what is left."""
    names = {firm.id: firm.name or firm.id for firm in problem.firms}
    lines = [f"status {result.status}"]
    if result.objective is not None:
        bound = f"{result.bound:,.2f}" if result.bound is not None else "-"
        gap = f"{100 * result.gap:.2f} %" if result.gap is not None else "-"
        first = f"{result.time_to_first_plan:.2f}s" if result.time_to_first_plan else "-"
        lines.append(f"objective {result.objective:,.2f}  bound {bound}  gap {gap}  "
                     f"first plan {first}  wall {result.wall_time:.2f}s")
        lines.append("terms " + ", ".join(f"{k} {v:,.2f}" for k, v in result.terms.items()))
        lines.append(f"{len(result.assignments)} of {len(problem.items)} work items assigned")
        lines.append(f"{'firm':<28} {'hours':>9} {'share':>7} {'range':>11} {'cost':>12} "
                     f"{'visits':>6}")
        for firm in result.firms:
            if firm.hours:
                lines.append(f"{names[firm.firm][:28]:<28} {firm.hours:>9,.1f} "
                             f"{firm.share_percent:>6.1f}% "
                             f"{firm.min_share_percent:>4.0f}-{firm.max_share_percent:<4.0f}% "
                             f"{firm.cost:>12,.2f} {firm.visits:>6}")
    for item in result.unassigned:
        lines.append(f"unassigned {item.item}: {'; '.join(item.reasons)}")
    for reason in result.reasons:
        lines.append(reason)
    return "\n".join(lines)
