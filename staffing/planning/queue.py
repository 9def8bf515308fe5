"""Where a solve job's id travels once its row is committed.

- `inline`: run at once, in the caller's thread and session (the tests: no sleeping).
- `embedded` (the default without REDIS_URL): the service's own bounded pool of solver
  processes; a dispatcher thread per service process takes queued jobs from the database in
  order, so a job queued by a process that died is run by the next one that starts.
- `rq` (with REDIS_URL): RQ on Redis carries the id to `staffing worker` processes, on any
  number of machines, against the same database.

The row is the record; the message is only the id. Progress and cancel go through the row,
so they work across processes and machines alike.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import multiprocessing
import os
import socket
import threading
import time

import sqlalchemy as sa
from flask import Flask, current_app

from ..dbtypes import utcnow
from ..errors import StaffingError
from ..extensions import db
from .models import SolveJob
from .operations import jobs, runner

log = logging.getLogger(__name__)

BACKENDS = ("inline", "embedded", "rq")
DISPATCH_EVERY = 1.0  # seconds between two looks for queued jobs, when not woken
SWEEP_EVERY = 5.0  # seconds between two sweeps for jobs whose runner died
RQ_JOB_MARGIN = 600  # seconds RQ lets a job run past its time limit before killing it
CHILD_CONFIG = ("SQLALCHEMY_DATABASE_URI", "SECRET_KEY", "STAFFING_ENV", "LOG_LEVEL",
                "REDIS_URL", "SOLVE_BACKEND", "SOLVE_QUEUE")


class QueueUnavailable(StaffingError):
    status = 503


def backend_name(app: Flask) -> str:
    return app.config.get("SOLVE_BACKEND") or ("rq" if app.config.get("REDIS_URL")
                                               else "embedded")


def backend_name_here() -> str:
    return backend_name(current_app)


def dispatch(job: SolveJob) -> None:
    """Send a committed, queued job on its way. When the queue cannot take it, the job is
    failed (and committed) and QueueUnavailable raised."""
    if job.backend == "inline":
        runner.run_solve_job(job.id)
    elif job.backend == "embedded":
        embedded_pool(current_app._get_current_object()).wake()
    elif job.backend == "rq":
        try:
            _enqueue(current_app, job)
        except Exception as error:  # redis' errors, whatever the client raises
            log.warning("solve job %s: the queue refused it: %s", job.id, error)
            db.session.execute(sa.update(SolveJob).where(SolveJob.id == job.id).values(
                status="failed", error="the job queue (Redis) was unreachable; nothing ran",
                finished_at=sa.func.now()))
            db.session.commit()
            raise QueueUnavailable("the job queue is unreachable; the solve was not "
                                   "started, try again") from error
    else:
        raise ValueError(f"unknown solve backend {job.backend!r}")


def cancel_queued(job: SolveJob) -> None:
    """Take a cancelled job's message off the queue (best effort: its runner would find it
    cancelled and leave it anyway)."""
    if job.backend != "rq":
        return
    try:
        from rq.job import Job

        Job.fetch(_message_id(current_app, job), connection=_redis(current_app)).cancel()
    except Exception as error:
        log.info("solve job %s: queue message not removed: %s", job.id, error)


def is_dead_local_runner(runner: str) -> bool:
    """A runner (host:pid) on this machine whose process no longer exists."""
    host, _, pid = runner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return _is_zombie(int(pid))


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


# --- the embedded pool -------------------------------------------------------------------


_pools: dict[int, EmbeddedPool] = {}
_pools_lock = threading.Lock()


def embedded_pool(app: Flask) -> EmbeddedPool:
    with _pools_lock:
        pool = _pools.get(id(app))
        if pool is None or pool.pid != os.getpid():
            pool = _pools[id(app)] = EmbeddedPool(app)
        return pool


def start_embedded(app: Flask) -> None:
    """Start this process's dispatcher (at a service process's first request; later calls
    cost a look-up): it fails the jobs of runners that died with an earlier process and runs
    what is queued."""
    if backend_name(app) == "embedded":
        embedded_pool(app).ensure_started()


class EmbeddedPool:
    """A bounded pool of solver processes fed from the database: SOLVE_PROCESSES solves at
    once on this machine, whichever of its service processes runs them. Each slot is a
    process pool of one, so a solver process killed (say, out of memory) takes only its own
    solve with it; its slot gets a new process for the next job."""

    def __init__(self, app: Flask):
        self.app = app
        self.pid = os.getpid()
        self.size = int(app.config.get("SOLVE_PROCESSES") or 2)
        self.config = {key: app.config[key] for key in CHILD_CONFIG if key in app.config}
        self.config["SOLVE_BACKEND"] = "embedded"
        self.wakeup = threading.Event()
        self.lock = threading.Lock()
        self.slots: list[concurrent.futures.ProcessPoolExecutor | None] = [None] * self.size
        self.running: dict[int, tuple[concurrent.futures.Future, int]] = {}  # slot -> job
        self.thread: threading.Thread | None = None

    def ensure_started(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._loop, name="solve-dispatcher",
                                               daemon=True)
                self.thread.start()

    def wake(self) -> None:
        self.ensure_started()
        self.wakeup.set()

    def _loop(self) -> None:
        swept_at = -SWEEP_EVERY
        with self.app.app_context():
            while True:
                try:
                    now = time.monotonic()
                    if now - swept_at >= SWEEP_EVERY:
                        swept_at = now
                        if jobs.fail_orphaned_jobs(dead_runner=is_dead_local_runner):
                            db.session.commit()
                    self._dispatch()
                except Exception:  # the database away: try again at the next round
                    log.exception("solve dispatcher")
                finally:
                    db.session.rollback()
                self.wakeup.wait(DISPATCH_EVERY)
                self.wakeup.clear()

    def _dispatch(self) -> None:
        # SOLVE_PROCESSES bounds the solves on this machine, not per service process: the
        # other processes of a gunicorn master run theirs too
        here = db.session.scalar(sa.select(sa.func.count()).select_from(SolveJob).where(
            SolveJob.status == "running", SolveJob.backend == "embedded",
            SolveJob.worker.startswith(socket.gethostname() + ":")))
        with self.lock:
            taken = {job_id for _, job_id in self.running.values()}
            idle = [slot for slot in range(self.size) if slot not in self.running]
        free = min(len(idle), self.size - here)
        if free <= 0:
            return
        query = (sa.select(SolveJob.id)
                 .where(SolveJob.status == "queued", SolveJob.backend == "embedded")
                 .order_by(SolveJob.id).limit(free + len(taken)))
        waiting = [job_id for job_id in db.session.scalars(query).all() if job_id not in taken]
        for slot, job_id in zip(idle, waiting[:free], strict=False):
            with self.lock:
                if self.slots[slot] is None:
                    self.slots[slot] = concurrent.futures.ProcessPoolExecutor(
                        1, mp_context=multiprocessing.get_context("spawn"),
                        max_tasks_per_child=200, initializer=watch_parent,
                        initargs=(os.getpid(),))
                future = self.slots[slot].submit(run_in_child, self.config, job_id)
                self.running[slot] = (future, job_id)
            future.add_done_callback(lambda done, slot=slot: self._finished(slot, done))

    def _finished(self, slot: int, future: concurrent.futures.Future) -> None:
        with self.lock:
            _, job_id = self.running.pop(slot)
        error = future.exception()
        if error is not None:
            if isinstance(error, concurrent.futures.process.BrokenProcessPool):
                with self.lock:
                    self.slots[slot] = None  # a new process for this slot's next job
            self._fail(job_id, f"the solver process ended abruptly ({error.__class__.__name__});"
                               f" no plan was stored")
        self.wakeup.set()

    def _fail(self, job_id: int, reason: str) -> None:
        """Fail the job if its runner is gone: it may have been claimed by another service
        process's solver, which still runs it."""
        with self.app.app_context():
            try:
                job = db.session.get(SolveJob, job_id, with_for_update=True)
                if job is not None and job.status == "running" and (
                        job.worker is None or _until_dead(job.worker)):
                    job.status, job.error, job.finished_at = "failed", reason, utcnow()
                db.session.commit()
            except Exception:
                log.exception("solve job %s: could not mark it failed", job_id)
                db.session.rollback()
            finally:
                db.session.remove()


def _until_dead(runner: str, wait: float = 2.0) -> bool:
    """Whether the runner's process is gone, allowing its parent a moment to reap it."""
    deadline = time.monotonic() + wait
    while not is_dead_local_runner(runner):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


_child_app: Flask | None = None
_child_busy = threading.Event()
PARENT_WATCH_EVERY = 1.0  # seconds between a pool process's looks at its parent


def watch_parent(parent: int) -> None:
    """A pool process's initializer: end this process once the service process that started
    it is gone (a pool process would otherwise wait for work forever). A solve under way is
    finished first: its runner is this process, so its result is stored as usual."""

    def watch() -> None:
        while os.getppid() == parent or _child_busy.is_set():
            time.sleep(PARENT_WATCH_EVERY)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_in_child(config: dict, job_id: int) -> str:
    """A pool process's task: its own app (made once per process), then the job."""
    global _child_app
    _child_busy.set()
    try:
        if _child_app is None:
            from .. import create_app

            _child_app = create_app(config | {"EPHEMERAL_SECRET_OK": True})
        with _child_app.app_context():
            try:
                return runner.run_solve_job(job_id)
            finally:
                db.session.remove()
    finally:
        _child_busy.clear()


# --- RQ on Redis ---------------------------------------------------------------------------


def _redis(app: Flask):
    from redis import Redis

    return Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=2,
                          socket_timeout=10, health_check_interval=30)


def rq_queue(app: Flask):
    from rq import Queue

    return Queue(app.config["SOLVE_QUEUE"], connection=_redis(app))


def run_rq_job(job_id: int) -> str:
    """What an RQ worker runs: the job, inside the worker's app (or a new one)."""
    from flask import has_app_context

    if has_app_context():
        try:
            return runner.run_solve_job(job_id)
        finally:
            db.session.remove()
    return run_in_child({}, job_id)


LOST_AFTER = 10.0  # seconds a queued RQ job may lack its queue message before it is sent again


def requeue_lost(app: Flask) -> int:
    """Send again the queued RQ jobs whose message Redis no longer has (Redis restarted
    without persistence, or was flushed): the row is the record, the message only its id."""
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    cutoff = utcnow() - dt.timedelta(seconds=LOST_AFTER)
    waiting = db.session.scalars(sa.select(SolveJob).where(
        SolveJob.status == "queued", SolveJob.backend == "rq",
        SolveJob.created_at < cutoff)).all()
    connection = _redis(app)
    sent = 0
    for job in waiting:
        try:
            state = Job.fetch(_message_id(app, job), connection=connection).get_status()
        except NoSuchJobError:
            state = None
        # a message that ended while its row still says queued never reached a runner
        if state is None or state in ("finished", "failed", "stopped", "canceled"):
            log.warning("solve job %s: its queue message was lost; sending it again", job.id)
            _enqueue(app, job)
            sent += 1
    db.session.rollback()
    return sent


def _message_id(app: Flask, job: SolveJob) -> str:
    """The RQ job's id: the queue's name and the row's id (two deployments sharing a Redis
    use two queues)."""
    return f"{app.config['SOLVE_QUEUE']}-{job.id}"


def _enqueue(app: Flask, job: SolveJob) -> None:
    rq_queue(app).enqueue(run_rq_job, job.id, job_id=_message_id(app, job),
                          job_timeout=int(job.time_limit) + RQ_JOB_MARGIN, result_ttl=3600,
                          failure_ttl=7 * 86400)


def work(app: Flask, burst: bool = False) -> None:
    """Be one RQ worker: one solve at a time, in this process (so a killed worker takes its
    solve with it, and the sweep fails the job), sweeping for dead runners meanwhile."""
    from rq import SimpleWorker

    stop = threading.Event()

    def sweep() -> None:
        with app.app_context():
            while not stop.wait(SWEEP_EVERY):
                try:
                    if jobs.fail_orphaned_jobs(dead_runner=is_dead_local_runner):
                        db.session.commit()
                    requeue_lost(app)
                except Exception:
                    log.exception("sweep for dead runners and lost messages")
                finally:
                    db.session.rollback()

    with app.app_context():
        if jobs.fail_orphaned_jobs(dead_runner=is_dead_local_runner):
            db.session.commit()
        requeue_lost(app)
        db.session.remove()
        sweeper = threading.Thread(target=sweep, name="solve-sweeper", daemon=True)
        sweeper.start()
        try:
            worker = SimpleWorker([rq_queue(app)], connection=_redis(app))
            worker.work(burst=burst, logging_level=app.config.get("LOG_LEVEL", "INFO"))
        finally:
            stop.set()
