"""Solve jobs over HTTP (issue 13): how soon a client sees a job run and its first plan, how
soon a cancel is honoured, how many small solves one and two workers get through, and how a
running solve slows the rest of the API.

    python -m benchmarks.jobs [--backend embedded|rq] [--quick] [--only abcd] [--seed 0]
                              [--keep]

Everything runs on its own throwaway data: a temporary SQLite folder (embedded) or a fresh
PostgreSQL database on 127.0.0.1, created and dropped (rq, with a Redis database index that
was empty). It loads the demo, imports generated projects (`staffing generate` +
`staffing project import`), starts the service as a subprocess on a free port of
127.0.0.1 (gunicorn with the repository's gunicorn.conf.py when there is one, else
`staffing run`) and, for rq, `staffing worker` processes; then it measures as a client
would, over HTTP only:

  a. start request -> first SSE event showing the job running, and -> first event with a
     plan (progress.objective), for the demo rollout and 1,000x150x60;
  b. cancel request -> the job's final state (SSE `end` arrival, and GET polled every
     50 ms), 20 cancels at uniform random moments 1-15 s after the job started running,
     of 1,000x150x60 solves with a 60 s limit; meanwhile the slowest GET /api/v1/projects;
  c. 8 queued 13x8x20 solves (10 s limit each) on 1 and on 2 workers: wall time from the
     first start request to the last job finished; again with only the solves proven
     optimal (compute-bound), and with 1 CP-SAT thread per job beside the API's 2;
  d. GET /api/v1/projects latency, 200 sequential requests, with no solve running and
     while two 1,000x150x60 solves run.

--quick: 1 repetition in a, 3 cancels, 50 requests, 2 threads only. Also reported: the
cores that this run and everything else kept busy in each section (/proc), so that a
measurement disturbed by other work on the machine shows as such. Every process it starts
runs in a session and process group of its own and is stopped at the end, on error too.
Figures marked "log" come from the service's own log lines, for diagnosis only.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import http.client
import json
import math
import os
import random
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379"
LEAD_EMAIL = "coordinator@rheinwerk.example"
DEMO_PROJECT = 1
LEAD_FIRM = 1
LARGE, LARGE_SEEDS = (1000, 150, 60), (1, 2)
SMALL, SMALL_SEEDS, WARM_SEED = (13, 8, 20), tuple(range(1, 9)), 0
FINISHED = ("done", "failed", "cancelled")
HTTP_TIMEOUT = 30.0  # seconds for one ordinary request
STREAM_READ_TIMEOUT = 10.0  # seconds without a byte on an event stream (it sends every 1 s)
SERVICE_START_TIMEOUT = 90.0
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL of a process group
TROUBLE = re.compile(r"Traceback|ERROR|CRITICAL|^WARNING:|Error: |Exception")


class BenchError(RuntimeError):
    """The service did not answer as documented; the run stops (and cleans up)."""


# --- HTTP, as a client ----------------------------------------------------------------------


def parse_time(value: str | None) -> float | None:
    return None if value is None else dt.datetime.fromisoformat(value).timestamp()


class Client:
    """Bearer-token JSON calls to the service, one connection per request."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body: dict | None = None,
             timeout: float = HTTP_TIMEOUT) -> tuple[int, dict, dict | list | None]:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
        try:
            conn.request(method, path, None if body is None else json.dumps(body),
                         self.headers())
            response = conn.getresponse()
            raw = response.read()
            headers = {k.lower(): v for k, v in response.getheaders()}
        finally:
            conn.close()
        data = json.loads(raw) if raw and "json" in headers.get("content-type", "") else None
        return response.status, headers, data

    def job(self, job_id: int) -> dict:
        status, _, job = self.call("GET", f"/api/v1/solve-jobs/{job_id}")
        if status != 200:
            raise BenchError(f"GET solve job {job_id}: {status} {job}")
        return job

    def start(self, project_id: int, time_limit: float, seed: int = 0, workers: int = 2
              ) -> tuple[dict, float]:
        """POST a solve job; (the job, the wall time just before the request)."""
        posted_at = time.time()
        status, headers, job = self.call(
            "POST", f"/api/v1/projects/{project_id}/solve-jobs",
            {"time_limit": time_limit, "seed": seed, "workers": workers})
        if status != 202 or not headers.get("location", "").endswith(f"/{job['id']}"):
            raise BenchError(f"start on project {project_id}: {status} {headers} {job}")
        return job, posted_at

    def cancel(self, job_id: int) -> int:
        status, _, _ = self.call("POST", f"/api/v1/solve-jobs/{job_id}/cancel", {})
        return status

    def wait_finished(self, job_ids: list[int], timeout: float, every: float = 0.25
                      ) -> dict[int, dict]:
        """Poll until every job is finished; their final views."""
        deadline, final = time.monotonic() + timeout, {}
        while len(final) < len(job_ids):
            for job_id in job_ids:
                if job_id not in final:
                    job = self.job(job_id)
                    if job["status"] in FINISHED:
                        final[job_id] = job
            if len(final) < len(job_ids):
                if time.monotonic() > deadline:
                    left = sorted(set(job_ids) - set(final))
                    raise BenchError(f"jobs {left} not finished within {timeout:.0f} s")
                time.sleep(every)
        return final


@dataclasses.dataclass(frozen=True)
class Event:
    arrived_at: float  # client wall time
    kind: str  # progress or end
    job: dict

    @property
    def is_running(self) -> bool:
        return self.job.get("started_at") is not None

    @property
    def has_plan(self) -> bool:
        return (self.job.get("progress") or {}).get("objective") is not None

    @property
    def is_end(self) -> bool:
        return self.kind == "end"


class EventStream:
    """A job's server-sent event stream, read by a thread of its own; each event is kept
    with the moment it arrived."""

    def __init__(self, client: Client, job_id: int):
        self.events: list[Event] = []
        self.error: BaseException | None = None
        self.closed = False
        self.condition = threading.Condition()
        conn = http.client.HTTPConnection(HOST, client.port, timeout=STREAM_READ_TIMEOUT)
        conn.request("GET", f"/api/v1/solve-jobs/{job_id}/events",
                     headers={"Authorization": f"Bearer {client.token}",
                              "Accept": "text/event-stream"})
        self.sock = conn.sock
        self.response = conn.getresponse()
        kind = self.response.getheader("Content-Type", "")
        if self.response.status != 200 or not kind.startswith("text/event-stream"):
            self.response.close()
            raise BenchError(f"events of job {job_id}: {self.response.status} {kind}")
        self.thread = threading.Thread(target=self._read, name=f"sse-{job_id}", daemon=True)
        self.thread.start()

    def _read(self) -> None:
        kind, data = None, []
        try:
            while True:
                line = self.response.readline()
                if not line:
                    return
                line = line.decode().rstrip("\r\n")
                if line.startswith("event:"):
                    kind = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    event = Event(time.time(), kind or "message", json.loads("\n".join(data)))
                    with self.condition:
                        self.events.append(event)
                        self.condition.notify_all()
                    kind, data = None, []
        except Exception as error:  # kept, and reported by wait_for
            if not self.closed:
                self.error = error
        finally:
            with self.condition:
                self.closed = True
                self.condition.notify_all()

    def wait_for(self, test: Callable[[Event], bool], timeout: float) -> Event:
        """The first event (already arrived or to come) that passes the test."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for event in self.events:
                    if test(event):
                        return event
                remaining = deadline - time.monotonic()
                if self.closed or remaining <= 0:
                    why = self.error or ("stream closed" if self.closed else "timed out")
                    raise BenchError(f"no such event within {timeout:.0f} s ({why}); "
                                     f"{len(self.events)} events")
                self.condition.wait(remaining)

    def latest(self) -> Event | None:
        with self.condition:
            return self.events[-1] if self.events else None

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.response.close()
        self.thread.join(5)


# --- the throwaway installation -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def load_average() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


class LoadMeter:
    """Cores kept busy, per section of the run: by the whole machine (/proc/stat) and by
    this run's own processes (its process group and the sessions it started), so that what
    others ran meanwhile can be stated."""

    def __init__(self, sessions: set[int], every: float = 1.0):
        self.every, self.tick = every, os.sysconf("SC_CLK_TCK")
        self.sessions = sessions  # of the processes the run started, filled as it goes
        self.sections: dict[str, list[float]] = {}  # label: [seconds, machine, ours]
        self.label: str | None = None
        self.stop = threading.Event()
        self.last = self._sample()
        self.thread = threading.Thread(target=self._loop, name="load-meter", daemon=True)
        self.thread.start()

    def section(self, label: str | None) -> None:
        self.label = label

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)

    def _loop(self) -> None:
        while not self.stop.wait(self.every):
            now = self._sample()
            seconds, machine = now[0] - self.last[0], now[1] - self.last[1]
            before = self.last[2]
            ours = sum(cpu - before[pid][1] if before.get(pid, (None,))[0] == start else cpu
                       for pid, (start, cpu) in now[3].items())
            if self.label is not None and seconds > 0:
                totals = self.sections.setdefault(self.label, [0.0, 0.0, 0.0])
                totals[0] += seconds
                totals[1] += machine
                totals[2] += min(ours, machine)
            self.last = now[:3]

    def _sample(self) -> tuple:
        """(wall s, machine busy CPU s, {pid: (start, CPU s)} of all, ... of ours)."""
        with open("/proc/stat") as handle:
            fields = [int(n) for n in handle.readline().split()[1:9]]
        busy = (sum(fields) - fields[3] - fields[4]) / self.tick  # less idle and iowait
        own_group, processes, ours = os.getpgrp(), {}, {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    rest = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, start = int(entry), int(rest[19])
            processes[pid] = (start, (int(rest[11]) + int(rest[12])) / self.tick)
            if int(rest[2]) == own_group or int(rest[3]) in self.sessions:
                ours[pid] = processes[pid]
        return time.monotonic(), busy, processes, ours

    def report(self) -> list[list]:
        return [[label, s(seconds, 0), s(machine / seconds), s(ours / seconds),
                 s((machine - ours) / seconds)]
                for label, (seconds, machine, ours) in self.sections.items() if seconds]


class Testbed:
    """A temporary folder, a database, the service and its workers: everything this run
    starts, and stops again in close()."""

    def __init__(self, backend: str, keep: bool):
        self.backend, self.keep = backend, keep
        self.folder = Path(tempfile.mkdtemp(prefix="staffing-bench-jobs-"))
        self.staffing = str(Path(sys.executable).with_name("staffing"))
        if not os.path.exists(self.staffing):
            self.staffing = shutil.which("staffing") or "staffing"
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("STAFFING_") and k not in (
                        "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FLASK_APP", "FLASK_DEBUG")}
        self.env.update(STAFFING_ENV="development", PYTHONUNBUFFERED="1", LOG_LEVEL="INFO",
                        STAFFING_INSTANCE_PATH=str(self.folder / "instance"))
        self.database = self.redis_db = None
        self.service: subprocess.Popen | None = None
        self.service_command: list[str] = []
        self.workers: list[subprocess.Popen] = []
        self.logs: list[Path] = []
        self.sessions: set[int] = set()  # one per process started, with its children
        self.port = free_port()
        self.processes = 0
        self.web_workers: int | None = None  # None: gunicorn.conf.py's own default
        self.launches = 0

    # databases
    def create_databases(self) -> None:
        if self.backend != "rq":
            return
        import psycopg
        import redis

        self.database = f"staffing_bench_jobs_{os.getpid()}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self.env["DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{self.database}"
        for index in range(15, 0, -1):  # an empty Redis database, so no one else's queue
            if redis.Redis.from_url(f"{REDIS_URL}/{index}", socket_timeout=5).dbsize() == 0:
                self.redis_db = index
                break
        if self.redis_db is None:
            raise BenchError("no empty Redis database index 1-15")
        self.env["REDIS_URL"] = f"{REDIS_URL}/{self.redis_db}"

    def drop_databases(self) -> None:
        if self.database is not None:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            self.database = None
        if self.redis_db is not None:
            import redis

            connection = redis.Redis.from_url(f"{REDIS_URL}/{self.redis_db}", socket_timeout=5)
            for key in connection.scan_iter("rq:*"):
                connection.delete(key)
            self.redis_db = None

    # the command line
    def run(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run([self.staffing, *args], cwd=self.folder, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise BenchError(f"staffing {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout

    def load_demo(self) -> str:
        """The demo's lead coordinator's API token."""
        for line in self.run("demo").splitlines():
            if line.startswith(LEAD_EMAIL + " "):
                return line.split()[-1]
        raise BenchError(f"`staffing demo` printed no token for {LEAD_EMAIL}")

    def import_generated(self, size: tuple[int, int, int], seed: int) -> int:
        sites, firms, days = size
        path = self.folder / f"{sites}x{firms}x{days}-{seed}.json"
        self.run("generate", "--sites", str(sites), "--firms", str(firms), "--days", str(days),
                 "--seed", str(seed), "-o", str(path))
        found = re.search(r"^project (\d+) ",
                          self.run("project", "import", str(path), "--lead-firm-id",
                                   str(LEAD_FIRM)), re.M)
        if not found:
            raise BenchError(f"import of {path.name}: no project id printed")
        return int(found.group(1))

    # processes
    def _spawn(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        self.launches += 1
        log = self.folder / f"{self.launches:02d}-{name}.log"
        self.logs.append(log)
        with open(log, "w") as handle:
            process = subprocess.Popen(command, cwd=self.folder, env=env, stdout=handle,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        self.sessions.add(process.pid)
        return process

    def start_service(self, processes: int, web_workers: int | None = None) -> None:
        """The service on a free port; for embedded, with a pool of `processes` solvers in
        each of its `web_workers` gunicorn workers."""
        self.stop_service()
        self.port = free_port()
        env = dict(self.env, STAFFING_SOLVE_PROCESSES=str(processes))
        if web_workers is not None:
            env["WEB_CONCURRENCY"] = str(web_workers)
        config = ROOT / "gunicorn.conf.py"
        if config.exists():
            gunicorn = str(Path(self.staffing).with_name("gunicorn"))
            self.service_command = [gunicorn, "-c", str(config), "-b", f"{HOST}:{self.port}",
                                    "staffing:create_app()"]
        else:
            self.service_command = [self.staffing, "run", "--host", HOST, "--port",
                                    str(self.port)]
        self.service = self._spawn("service", self.service_command, env)
        self.processes, self.web_workers = processes, web_workers
        deadline = time.monotonic() + SERVICE_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.service.poll() is not None:
                raise BenchError(f"the service exited ({self.service.returncode}); see "
                                 f"{self.logs[-1]}:\n{self.logs[-1].read_text()[-2000:]}")
            try:
                if Client(self.port, "").call("GET", "/readyz", timeout=2)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise BenchError(f"the service was not ready within {SERVICE_START_TIMEOUT:.0f} s")

    def stop_service(self) -> None:
        if self.service is not None:
            stop_group(self.service)
            self.service = None

    def set_workers(self, count: int, web_workers: int | None = None) -> None:
        """`staffing worker` processes (rq) or the embedded pool's size (a service restart)."""
        if self.backend == "embedded":
            if self.service is None or (self.processes, self.web_workers) != (count,
                                                                              web_workers):
                self.start_service(count, web_workers)
            return
        while len(self.workers) > count:
            stop_group(self.workers.pop())
        while len(self.workers) < count:
            self.workers.append(self._spawn(f"worker{len(self.workers) + 1}",
                                            [self.staffing, "worker"], self.env))
        self.processes = count
        self._wait_for_workers(count)

    def describe_service(self) -> str:
        if not self.service_command or self.service_command[0].endswith("staffing"):
            return "staffing run (one process)"
        web = self.web_workers or "gunicorn.conf.py's default"
        return f"gunicorn, web workers {web}"

    def _wait_for_workers(self, count: int) -> None:
        import redis
        from rq import Worker

        connection = redis.Redis.from_url(self.env["REDIS_URL"], socket_timeout=5)
        deadline = time.monotonic() + SERVICE_START_TIMEOUT
        while time.monotonic() < deadline:
            for process in self.workers:
                if process.poll() is not None:
                    raise BenchError(f"a worker exited ({process.returncode}); see the logs "
                                     f"in {self.folder}")
            alive = [w for w in Worker.all(connection=connection)
                     if w.state in ("idle", "busy", "started")]
            if len(alive) == count:
                return
            time.sleep(0.2)
        raise BenchError(f"{count} workers not registered within {SERVICE_START_TIMEOUT:.0f} s")

    def close(self) -> list[str]:
        """Stop everything, drop the data; the problems met while doing so."""
        problems = []
        for step in (lambda: [stop_group(w) for w in self.workers], self.stop_service,
                     self.drop_databases):
            try:
                step()
            except Exception as error:  # go on cleaning up
                problems.append(f"clean-up: {error!r}")
        self.workers = []
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)
        return problems


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM the process's group, SIGKILL it after STOP_GRACE seconds."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_alive(process):
            time.sleep(0.1)
        if not _group_alive(process):
            break
    process.wait(5)


def _group_alive(process: subprocess.Popen) -> bool:
    process.poll()  # reap the leader, so that it does not count as alive
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- a. first events --------------------------------------------------------------------------


def first_events(client: Client, project_id: int, time_limit: float) -> dict:
    """One job: when its stream showed it running and showed a plan; cancelled once a plan
    is seen (so a long solve costs no more time than it takes to see that)."""
    job, posted_at = client.start(project_id, time_limit)
    answered_at = time.time()
    stream = EventStream(client, job["id"])
    try:
        running = stream.wait_for(lambda e: e.is_running, 120)
        plan = stream.wait_for(lambda e: e.has_plan or e.is_end, time_limit + 60)
        if not plan.is_end and client.cancel(job["id"]) not in (200, 409):
            raise BenchError(f"cancel of job {job['id']} refused")
        end = stream.wait_for(lambda e: e.is_end, 60)
        gaps = event_gaps(stream.events)
    finally:
        stream.close()
    started_at = parse_time(end.job["started_at"])
    return {"job": job["id"], "answer": answered_at - posted_at,
            "queued": started_at - posted_at,
            "running": running.arrived_at - posted_at,
            "plan": plan.arrived_at - posted_at if plan.has_plan else None,
            "running_after_start": running.arrived_at - started_at,
            "plan_after_start": plan.arrived_at - started_at if plan.has_plan else None,
            "planner_first": (plan.job["progress"] or {}).get("elapsed"),
            "plan_kind": plan.kind, "status": end.job["status"], "max_gap": max(gaps or [0])}


def event_gaps(events: list[Event]) -> list[float]:
    """Seconds between two events of a stream, up to its end."""
    return [b.arrived_at - a.arrived_at for a, b in zip(events, events[1:], strict=False)]


# --- b. cancels -------------------------------------------------------------------------------


def timed_cancel(client: Client, project_id: int, delay: float, seed: int) -> dict:
    """Start a 60 s solve, cancel it `delay` seconds after it started running; the
    latencies as seen on the event stream and by polling every 50 ms."""
    job, _ = client.start(project_id, 60.0, seed=seed)
    stream = EventStream(client, job["id"])
    try:
        running = stream.wait_for(lambda e: e.is_running, 120)
        started_at = parse_time(running.job["started_at"])
        time.sleep(max(0.0, started_at + delay - time.time()))
        before = stream.latest().job
        bystander = Bystander(client)  # another request, of the project list, meanwhile
        try:
            sent_at = time.time()
            status = client.cancel(job["id"])
            answered_at = time.time()
            if status != 200:
                raise BenchError(f"cancel of job {job['id']}: {status}")
            polled_at, final, slowest = poll_final(client, job["id"], every=0.05, timeout=60)
        finally:
            bystander.close()
        end = stream.wait_for(lambda e: e.is_end, 60)
        gaps = event_gaps(stream.events)
    finally:
        stream.close()
    plan_flag = None
    if final["plan_id"] is not None:
        plan_flag = client.call("GET", f"/api/v1/plans/{final['plan_id']}")[2].get(
            "is_stopped_early")
    return {"job": job["id"], "delay": delay,
            "phase": (before.get("progress") or {}).get("phase") or before["status"],
            "had_plan": (before.get("progress") or {}).get("objective") is not None,
            "answer": answered_at - sent_at, "poll": polled_at - sent_at,
            "sse": end.arrived_at - sent_at,
            "server": parse_time(final["finished_at"]) - parse_time(
                final["cancel_requested_at"]),
            "started_after_cancel": started_at - parse_time(final["cancel_requested_at"]),
            "slowest_get": slowest, "slowest_list": bystander.slowest,
            "status": final["status"], "plan_id": final["plan_id"],
            "stopped_early": plan_flag, "max_gap": max(gaps or [0])}


class Bystander:
    """GET /api/v1/projects every 50 ms from a thread of its own, keeping the slowest."""

    def __init__(self, client: Client, every: float = 0.05):
        self.client, self.every, self.slowest = client, every, 0.0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="bystander", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.is_set():
            asked = time.perf_counter()
            self.client.call("GET", "/api/v1/projects")
            self.slowest = max(self.slowest, time.perf_counter() - asked)
            self.stop.wait(self.every)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(HTTP_TIMEOUT + 5)


def poll_final(client: Client, job_id: int, every: float, timeout: float
               ) -> tuple[float, dict, float]:
    """GET the job every `every` seconds: when (client time) it was first seen finished,
    its final view, and the longest of those GETs."""
    deadline, slowest = time.monotonic() + timeout, 0.0
    while time.monotonic() < deadline:
        asked = time.perf_counter()
        job = client.job(job_id)
        slowest = max(slowest, time.perf_counter() - asked)
        if job["status"] in FINISHED:
            return time.time(), job, slowest
        time.sleep(every)
    raise BenchError(f"job {job_id} not finished {timeout:.0f} s after its cancel")


# --- c. throughput ------------------------------------------------------------------------------


def throughput(client: Client, project_ids: list[int], time_limit: float, threads: int
               ) -> dict:
    """Queue one solve per project at once; first start request to the last finish."""
    first_post = time.time()
    jobs = [client.start(pid, time_limit, workers=threads)[0]["id"] for pid in project_ids]
    queued_in = time.time() - first_post
    final = client.wait_finished(jobs, timeout=len(jobs) * (time_limit + 60))
    finished = [parse_time(job["finished_at"]) for job in final.values()]
    runs = [parse_time(job["finished_at"]) - parse_time(job["started_at"])
            for job in final.values() if job["started_at"]]
    statuses = sorted({job["status"] for job in final.values()})
    spans = [(parse_time(job["started_at"]), parse_time(job["finished_at"]))
             for job in final.values() if job["started_at"]]
    solver = [job["progress"].get("solver_status") for job in final.values()
              if job.get("progress")]
    proven = [pid for pid, job_id in zip(project_ids, jobs, strict=True)
              if (final[job_id].get("progress") or {}).get("solver_status") == "optimal"]
    return {"wall": max(finished) - first_post, "queued_in": queued_in, "run_sum": sum(runs),
            "proven": proven, "projects": len(project_ids),
            "run_max": max(runs), "statuses": "/".join(statuses),
            "optimal": solver.count("optimal"), "jobs": len(jobs),
            "concurrent": most_at_once(spans)}


def most_at_once(spans: list[tuple[float, float]]) -> int:
    """The largest number of (start, end) spans that overlap at one moment."""
    edges = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    return most


def warm_up(client: Client, project_ids: list[int]) -> float:
    """Quick solves on as many projects at once as there are workers, so that every
    solver process exists before a measurement; seconds it took."""
    started = time.time()
    jobs = [client.start(pid, 5.0)[0]["id"] for pid in project_ids]
    client.wait_finished(jobs, timeout=180)
    return time.time() - started


# --- d. API latency under load ------------------------------------------------------------------


def list_latencies(client: Client, count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        status, _, _ = client.call("GET", "/api/v1/projects")
        times.append(time.perf_counter() - started)
        if status != 200:
            raise BenchError(f"GET /api/v1/projects: {status}")
    return times


def latency_under_solves(client: Client, count: int, project_ids: list[int]) -> dict:
    """GET /api/v1/projects `count` times idle, then while one solve per project runs."""
    list_latencies(client, 10)  # warm the connection path and the caches
    idle = list_latencies(client, count)
    jobs = [client.start(pid, 60.0)[0]["id"] for pid in project_ids]
    try:
        deadline = time.monotonic() + 120
        while not all(client.job(j)["status"] == "running" for j in jobs):
            if time.monotonic() > deadline:
                raise BenchError(f"jobs {jobs} not all running within 120 s")
            time.sleep(0.25)
        time.sleep(2.0)  # into the search, past the set-up
        busy = list_latencies(client, count)
        still = [client.job(j)["status"] for j in jobs]
    finally:
        for job_id in jobs:
            client.cancel(job_id)
        client.wait_finished(jobs, timeout=60)
    return {"idle": idle, "busy": busy, "still_running": still.count("running"),
            "jobs": jobs}


# --- reporting --------------------------------------------------------------------------------


def quantile(values: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least q of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def s(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def ms(value: float) -> str:
    return f"{1000 * value:.1f}"


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def log_findings(logs: list[Path]) -> tuple[dict[int, tuple[float, float]], list[str]]:
    """From the service's and workers' logs: each job's planner wall time and the seconds
    it took to store its result, and the lines that speak of trouble."""
    stored, trouble = {}, []
    pattern = re.compile(r"solve job (\d+) \w+: planner ([\d.]+) s \(\w+\), stored in ([\d.]+) s")
    for log in logs:
        if not log.exists():
            continue
        for line in log.read_text(errors="replace").splitlines():
            found = pattern.search(line)
            if found:
                stored[int(found.group(1))] = (float(found.group(2)), float(found.group(3)))
            elif TROUBLE.search(line) and "development server" not in line:
                trouble.append(f"{log.name}: {line[:240]}")
    return stored, trouble


def print_first_events(rows: list[tuple[str, dict]]) -> None:
    print("\n### a. Start request to the first events (SSE)\n")
    print(table(["project", "job", "POST answered s", "POST -> running s", "POST -> plan s",
                 "POST -> started_at s",
                 "running seen after start s", "plan seen after start s", "planner's first s",
                 "plan seen in", "max event gap s", "final"],
                [[label, r["job"], s(r["answer"]), s(r["running"]), s(r["plan"]),
                  s(r["queued"]),
                  s(r["running_after_start"]), s(r["plan_after_start"]), s(r["planner_first"]),
                  r["plan_kind"], s(r["max_gap"]), r["status"]] for label, r in rows]))


def print_cancels(rows: list[dict], logged: dict[int, tuple[float, float]]) -> None:
    """"server": cancel_requested_at -> finished_at (stamped before the final commit);
    "log: planner stopped": started_at + the planner's wall time - cancel_requested_at, a
    lower bound (reading the instance before the planner starts is not counted)."""
    print("\n### b. Cancel request to the final state (1,000x150x60, 60 s limit)\n")

    def stopped(r: dict) -> float | None:
        return r["started_after_cancel"] + logged[r["job"]][0] if r["job"] in logged else None

    for r in rows:
        r["stopped"] = stopped(r)
        r["stored"] = logged.get(r["job"], (None, None))[1]
    print(table(["job", "cancel at s", "phase then", "had plan", "POST answered s",
                 "poll (50 ms) s", "SSE end s", "server s", "log: planner stopped >= s",
                 "log: stored in s", "longest GET of the job meanwhile s",
                 "longest GET /projects meanwhile s", "final", "plan", "stopped early",
                 "max event gap s"],
                [[r["job"], s(r["delay"]), r["phase"], "yes" if r["had_plan"] else "no",
                  s(r["answer"], 3), s(r["poll"], 3), s(r["sse"], 3), s(r["server"], 3),
                  s(r["stopped"]), s(r["stored"]), s(r["slowest_get"], 3),
                  s(r["slowest_list"], 3), r["status"],
                  r["plan_id"] or "-",
                  r["stopped_early"], s(r["max_gap"])] for r in rows]))
    print()
    summary = []
    for label, key in (("client, GET polled every 50 ms", "poll"),
                       ("client, SSE end event", "sse"),
                       ("server, cancel_requested_at -> finished_at", "server"),
                       ("log: the planner stopped, at least", "stopped"),
                       ("log: storing the result", "stored"),
                       ("longest single GET of the job while it stopped", "slowest_get"),
                       ("longest GET /api/v1/projects meanwhile", "slowest_list")):
        values = [r[key] for r in rows if r[key] is not None]
        if values:
            summary.append([label, len(values), s(quantile(values, 0.5), 3),
                            s(quantile(values, 0.95), 3), s(max(values), 3)])
    print(table(["seen by", "cancels", "p50 s", "p95 s", "max s"], summary))


def print_throughput(rows: list[dict]) -> None:
    """"2 workers at best": the longest job, or half of all the jobs' run time, if more."""
    print("\n### c. Queued 13x8x20 solves (10 s limit each)\n")
    walls = {(r["threads"], r["service"], r["projects"], r["workers"]): r["wall"]
             for r in rows}
    print(table(["solves", "service", "workers", "CP-SAT threads per job",
                 "wall s (first POST -> last finished)", "speed-up on 1 worker",
                 "most running at once", "sum of run times s", "longest run s",
                 "2 workers at best s", "POSTs took s", "final", "proven optimal"],
                [[r["label"], r["service"], r["workers"], r["threads"], s(r["wall"]),
                  s(walls.get((r["threads"], r["service"], r["projects"], 1), math.nan)
                    / r["wall"]) + "x",
                  r["concurrent"],
                  s(r["run_sum"]), s(r["run_max"]),
                  s(max(r["run_max"], r["run_sum"] / 2)) if r["workers"] == 1 else "",
                  s(r["queued_in"]), r["statuses"],
                  f"{r['optimal']} of {r['jobs']}"] for r in rows]))


def print_latency(result: dict) -> None:
    print("\n### d. GET /api/v1/projects, sequential requests\n")
    rows = []
    for label, key in (("no solve running", "idle"), ("2 solves running (1,000x150x60)",
                                                      "busy")):
        values = result[key]
        rows.append([label, len(values), ms(quantile(values, 0.5)), ms(quantile(values, 0.95)),
                     ms(max(values))])
    print(table(["while", "requests", "p50 ms", "p95 ms", "max ms"], rows))
    print(f"\n(both jobs still running after the loaded requests: "
          f"{result['still_running']} of {len(result['jobs'])})")


# --- the run ----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--backend", choices=("embedded", "rq"), default="embedded")
    parser.add_argument("--quick", action="store_true",
                        help="fewer repetitions (1 per case, 3 cancels, 50 requests)")
    parser.add_argument("--seed", type=int, default=0, help="of the cancel moments")
    parser.add_argument("--only", default="abcd", help="the sections to run, e.g. 'c' or 'bd'")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder "
                        "(logs, instance files, SQLite) and print where it is")
    args = parser.parse_args(argv)
    reps, cancels, requests = (1, 3, 50) if args.quick else (3, 20, 200)
    thread_counts = (2,) if args.quick else (2, 1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on a plain kill too

    command = "python -m benchmarks.jobs " + shlex.join(argv if argv is not None
                                                         else sys.argv[1:])
    print(f"command: {command}")
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}, "
          f"{os.cpu_count()} cores, load before: {load_average()}")
    bed = Testbed(args.backend, args.keep)
    meter = LoadMeter(bed.sessions)
    try:
        meter.section("set-up")
        bed.create_databases()
        token = bed.load_demo()
        large = [bed.import_generated(LARGE, seed) for seed in LARGE_SEEDS]
        small = [bed.import_generated(SMALL, seed) for seed in SMALL_SEEDS]
        warm = bed.import_generated(SMALL, WARM_SEED)
        print(f"backend: {args.backend}; data in {bed.folder}"
              + (f" (PostgreSQL database {bed.database}, Redis db {bed.redis_db})"
                 if bed.database else " (SQLite)"))
        print(f"projects: demo {DEMO_PROJECT}, 1,000x150x60 {large} (seeds {LARGE_SEEDS}), "
              f"13x8x20 {small} (seeds {SMALL_SEEDS[0]}-{SMALL_SEEDS[-1]}), warm-up {warm}")

        client, cold = None, None
        if args.backend == "rq":
            bed.start_service(2)
            bed.set_workers(1)
            client = Client(bed.port, token)
            if "a" in args.only:
                cold = first_events(client, DEMO_PROJECT, 10.0)
        meter.section("c. throughput" if "c" in args.only else None)
        throughputs, proven = [], None
        for web_workers, workers in throughput_setups(args.backend, args.quick, args.only):
            bed.set_workers(workers, web_workers)
            client = Client(bed.port, token)
            warm_up(client, [DEMO_PROJECT, warm][:workers])
            for threads in thread_counts:
                row = throughput(client, small, 10.0, threads)
                proven = proven or row["proven"]
                throughputs.append(dict(row, label=f"all {len(small)}", workers=workers,
                                        threads=threads, service=bed.describe_service()))
                # the same without the solves that run to their limit: compute-bound
                row = throughput(client, proven, 10.0, threads)
                throughputs.append(dict(row, label=f"the {len(proven)} proven optimal",
                                        workers=workers, threads=threads,
                                        service=bed.describe_service()))
                print(f"c: {throughputs[-1]['service']}, {workers} worker(s), {threads} "
                      f"thread(s): {throughputs[-2]['wall']:.2f} s, {row['wall']:.2f} s",
                      flush=True)
        if throughputs:
            print_throughput(throughputs)
            print(f"\n13x8x20 seeds proven optimal on the first run: "
                  f"{[SMALL_SEEDS[small.index(pid)] for pid in proven]}")

        meter.section(None)
        bed.set_workers(2)  # the defaults: a fresh service for embedded
        print(f"\na, b, d: {shlex.join(bed.service_command)} ({bed.describe_service()}), "
              f"2 {'solver processes per web worker' if args.backend == 'embedded' else 'workers'}")
        client = Client(bed.port, token)
        if "a" in args.only:
            meter.section("a. first events")
            cold = cold or first_events(client, DEMO_PROJECT, 10.0)
            firsts = [("demo, first job after the service started", cold)]
            for label, project_id, limit in (("demo", DEMO_PROJECT, 10.0),
                                             ("1,000x150x60", large[0], 60.0)):
                firsts += [(label, first_events(client, project_id, limit))
                           for _ in range(reps)]
            print_first_events(firsts)
        if "b" in args.only:
            meter.section("b. cancels")
            rng = random.Random(args.seed)
            cancel_rows = []
            for number in range(cancels):
                cancel_rows.append(timed_cancel(client, large[0], rng.uniform(1.0, 15.0),
                                                number))
                print(f"b: cancel {number + 1} of {cancels}: {cancel_rows[-1]['sse']:.2f} s",
                      flush=True)
            time.sleep(1.0)  # the log line of the last job follows its commit
            print_cancels(cancel_rows, log_findings(bed.logs)[0])
        if "d" in args.only:
            meter.section("d. API latency")
            print_latency(latency_under_solves(client, requests, large))
    finally:
        meter.close()
        findings = log_findings(bed.logs)[1]
        problems = bed.close()
        print(f"\nload after: {load_average()}; cores busy on average (of {os.cpu_count()}):\n")
        print(table(["section", "seconds", "whole machine", "this run", "everything else"],
                    meter.report()))
        print(f"service and worker log lines about trouble: {len(findings)}")
        for line in list(dict.fromkeys(findings))[:40]:
            print("  " + line)
        for problem in problems:
            print(problem)
        if args.keep:
            print(f"kept: {bed.folder}")
    return 1 if problems else 0


def throughput_setups(backend: str, quick: bool, only: str
                      ) -> list[tuple[int | None, int]]:
    """(web workers, solve workers) for section c. Embedded: one web worker, so that the
    pool's size is the number of solves at once (each gunicorn worker has a pool of its
    own), and, in a full run, the configuration's default number of web workers with a pool
    of one, to show that."""
    if "c" not in only:
        return []
    if backend == "rq":
        return [(None, 1), (None, 2)]
    return [(1, 1), (1, 2)] + ([] if quick else [(None, 1)])


def git_commit() -> str:
    """The commit, and how many files of the service differ from it (they are what runs)."""
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", *args], cwd=ROOT, text=True, capture_output=True,
                                  timeout=10).stdout.strip()

        changed = git("status", "--porcelain", "--", "staffing", "solver", "gunicorn.conf.py")
        count = len(changed.splitlines())
        return git("rev-parse", "--short", "HEAD") + (f" + {count} changed files of the "
                                                      f"service" if count else "")
    except (OSError, subprocess.SubprocessError):
        return "?"


if __name__ == "__main__":
    sys.exit(main())
