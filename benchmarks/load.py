"""Load on loopback (issue 12): how many requests a second gunicorn serves, and how fast, for
`GET /healthz` (the framework's floor) and for an authenticated paginated list, in the same
run, with the load spread over 25 tokens and with all of it on one token.

    python -m benchmarks.load [--database postgresql,sqlite] [--users 100] [--seconds 30]
                              [--path /api/v1/projects/1/work-items] [--keep]

Each database gets a throwaway installation: a fresh PostgreSQL database on 127.0.0.1 (created
and dropped) or a temporary SQLite folder (the default database), the demo loaded with
`staffing demo` (25 users, one API token each; project 1 has 34 work items, 4 pages of 10),
and the service under the repository's gunicorn.conf.py on a free port of 127.0.0.1, in
production mode, with 4 workers on PostgreSQL and 2 on SQLite (--workers changes them). Then,
one after the other against the same service, for `--seconds` each after 3 s of warm-up:

  healthz      GET /healthz, no token
  list x25     GET --path, each of the `--users` connections with one of the 25 demo tokens
  list x1      GET --path, every connection with the lead coordinator's token

The load comes from locust (the optional extra `bench`: pip install -e ".[bench]"), as a
library, in a child process of its own: `--users` FastHttpUsers, each one keep-alive
connection sending its next request as soon as the last is answered (a closed loop: 100
requests in flight). Latency is measured per request, from locust's request events; an error
is any answer other than 2xx, a timeout (10 s) or a broken connection. The client shares
the machine's cores with the service, so the figures are the machine's, not the service's
alone: the table also shows the cores that the load generator, the service and everything
else used during each measurement (/proc), so that a run disturbed by other work shows as such.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from benchmarks.jobs import (
    PG_ADMIN_URL,
    LoadMeter,
    free_port,
    git_commit,
    load_average,
    quantile,
    stop_group,
    table,
)

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
LEAD_EMAIL = "coordinator@rheinwerk.example"
DEFAULT_PATH = "/api/v1/projects/1/work-items"
WORKERS = {"postgresql": 4, "sqlite": 2}
WARM_UP = 3.0  # seconds of load before each measurement, not counted
TIMEOUT = 10.0  # seconds for one request, then it counts as an error
START_TIMEOUT = 90.0
LOCKED = "database is locked"
TROUBLE = re.compile(r"Traceback|ERROR|CRITICAL|Exception|OperationalError|LockNotAvailable|"
                     r"database unavailable|" + LOCKED)
ACCESS_STATUS = re.compile(r'" (\d{3}) ')


class BenchError(RuntimeError):
    """The installation did not come up as documented; the run stops (and cleans up)."""


# --- the load generator (a child process: locust patches the standard library) ---------------


def drive(url: str, path: str, tokens: list[str], users: int, seconds: float) -> dict:
    """Keep `users` connections busy on url+path for WARM_UP + seconds; what was measured."""
    import gevent
    from locust import FastHttpUser, constant, task
    from locust.env import Environment

    assigned = iter(range(10**9))

    class Reader(FastHttpUser):
        host = url
        wait_time = constant(0)
        connection_timeout = network_timeout = TIMEOUT

        def on_start(self):
            number = next(assigned)
            self.headers = ({"Authorization": f"Bearer {tokens[number % len(tokens)]}"}
                            if tokens else {})

        @task
        def read(self):
            self.client.get(path, headers=self.headers, name=path)

    environment = Environment(user_classes=[Reader])
    times: list[float] = []
    errors: dict[str, int] = {}
    measuring = [False]

    def on_request(response_time, exception, **_):
        if not measuring[0]:
            return
        times.append(response_time)
        if exception is not None:
            kind = re.sub(r"\d+\.\d+|0x[0-9a-f]+", "#", str(exception))[:120]
            errors[kind] = errors.get(kind, 0) + 1

    environment.events.request.add_listener(on_request)
    runner = environment.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(WARM_UP)
    cpu_before = _cpu_seconds()
    measuring[0], started = True, time.monotonic()
    gevent.sleep(seconds)
    measuring[0], elapsed = False, time.monotonic() - started
    cpu = _cpu_seconds() - cpu_before
    runner.quit()
    return {"requests": len(times), "seconds": elapsed, "times_ms": sorted(times),
            "errors": errors, "client_cores": cpu / elapsed,
            "cpu_warning": bool(getattr(runner, "cpu_warning_emitted", False))}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- the installation -------------------------------------------------------------------------


class Installation:
    """A database with the demo and the service on it under gunicorn; close() removes it."""

    def __init__(self, database: str, workers: int, threads: int | None, keep: bool):
        self.database, self.workers, self.keep = database, workers, keep
        self.folder = Path(tempfile.mkdtemp(prefix=f"staffing-bench-load-{database}-"))
        self.bin = Path(sys.executable).parent
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("STAFFING_", "GUNICORN_")) and k not in (
                        "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "FLASK_APP", "FLASK_DEBUG",
                        "WEB_CONCURRENCY")}
        self.env.update(STAFFING_ENV="production", SECRET_KEY=secrets.token_hex(32),
                        PYTHONUNBUFFERED="1", LOG_LEVEL="INFO", WEB_CONCURRENCY=str(workers),
                        STAFFING_INSTANCE_PATH=str(self.folder / "instance"))
        if threads:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.pg_database: str | None = None
        self.service: subprocess.Popen | None = None
        self.log = self.folder / "service.log"
        self.port = free_port()
        self.command: list[str] = []

    def create(self) -> dict[str, str]:
        """The database with the demo in it; {email: token} of the demo's users."""
        if self.database == "postgresql":
            import psycopg

            self.pg_database = f"staffing_bench_load_{os.getpid()}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'CREATE DATABASE "{self.pg_database}"')
            self.env["DATABASE_URL"] = f"postgresql://postgres@{HOST}:5432/{self.pg_database}"
        done = subprocess.run([str(self.bin / "staffing"), "demo"], cwd=self.folder,
                              env=self.env, capture_output=True, text=True, timeout=180)
        if done.returncode != 0:
            raise BenchError(f"staffing demo: {done.stderr[-2000:]}")
        tokens = dict(re.findall(r"^(\S+@\S+)\s.*\s(stf_\S+)$", done.stdout, re.M))
        if LEAD_EMAIL not in tokens:
            raise BenchError(f"`staffing demo` printed no token for {LEAD_EMAIL}")
        return tokens

    def start(self) -> None:
        self.command = [str(self.bin / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                        "-b", f"{HOST}:{self.port}", "staffing:create_app()"]
        with open(self.log, "w") as handle:
            self.service = subprocess.Popen(self.command, cwd=self.folder, env=self.env,
                                            stdout=handle, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.service.poll() is not None:
                raise BenchError(f"the service exited ({self.service.returncode}):\n"
                                 f"{self.log.read_text()[-2000:]}")
            if get(self.port, "/readyz")[0] == 200:
                return
            time.sleep(0.2)
        raise BenchError(f"the service was not ready within {START_TIMEOUT:.0f} s")

    def log_findings(self) -> tuple[dict[str, int], list[str]]:
        """The access log's count of each status, and the log's lines about trouble."""
        statuses: dict[str, int] = {}
        trouble = []
        for line in self.log.read_text(errors="replace").splitlines():
            found = ACCESS_STATUS.search(line) if '"GET ' in line else None
            if found:
                statuses[found.group(1)] = statuses.get(found.group(1), 0) + 1
            elif TROUBLE.search(line):
                trouble.append(line.strip()[:200])
        return statuses, trouble

    def close(self) -> None:
        if self.service is not None:
            stop_group(self.service)
            self.service = None
        if self.pg_database is not None:
            import psycopg

            with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.pg_database}" WITH (FORCE)')
            self.pg_database = None
        if not self.keep:
            shutil.rmtree(self.folder, ignore_errors=True)


def get(port: int, path: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://{HOST}:{port}{path}")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except OSError:
        return 0, b""


# --- one measurement: the load generator as a child process ---------------------------------


def measure(port: int, path: str, tokens: list[str], users: int, seconds: float,
            sessions: set[int]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"url": f"http://{HOST}:{port}", "path": path, "tokens": tokens,
                   "users": users, "seconds": seconds}, handle)
    try:
        child = subprocess.Popen([sys.executable, "-m", "benchmarks.load", "--drive",
                                  handle.name], cwd=ROOT, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True, start_new_session=True)
        sessions.add(child.pid)
        out, err = child.communicate(timeout=WARM_UP + seconds + 120)
    finally:
        os.unlink(handle.name)
    if child.returncode != 0:
        raise BenchError(f"the load generator failed ({child.returncode}): {err[-2000:]}")
    return json.loads(out.strip().splitlines()[-1])


def row(database: str, workers: int, label: str, tokens: int, result: dict,
        floor: float | None, cores: list) -> list:
    times, seconds = result["times_ms"], result["seconds"]
    rate = result["requests"] / seconds
    errors = sum(result["errors"].values())
    return [database, workers, label, tokens or "-", f"{result['requests']:,}", f"{rate:,.1f}",
            f"{quantile(times, 0.5):.0f}", f"{quantile(times, 0.95):.0f}",
            f"{quantile(times, 0.99):.0f}", f"{times[-1]:.0f}" if times else "-", errors,
            f"{100 * rate / floor:.0f} %" if floor else "-",
            f"{result['client_cores']:.2f}", *cores]


def run_database(database: str, workers: int, args, meter: LoadMeter,
                 sessions: set[int]) -> tuple[list[list], list[str]]:
    setup = Installation(database, workers, args.threads, args.keep)
    rows, notes = [], []
    try:
        tokens = setup.create()
        setup.start()
        sessions.add(setup.service.pid)
        lead = tokens[LEAD_EMAIL]
        refused = [email for email, token in tokens.items()
                   if get(setup.port, args.path, token)[0] != 200]
        if refused:
            raise BenchError(f"{args.path} refused to {refused}")
        status, body = get(setup.port, args.path, lead)
        threads = f", GUNICORN_THREADS={args.threads}" if args.threads else ""
        print(f"{database}: {shlex.join(setup.command)} (WEB_CONCURRENCY={workers}{threads}); "
              f"{args.path} answers {status} with {len(json.loads(body))} items; "
              f"data in {setup.folder}", flush=True)
        floor = None
        for label, chosen in (("healthz", []), ("list", list(tokens.values())),
                              ("list", [lead])):
            path = "/healthz" if label == "healthz" else args.path
            section = f"{database} {path} x{len(chosen)}"
            meter.section(section)
            result = measure(setup.port, path, chosen, args.users, args.seconds, sessions)
            meter.section(None)
            cores = next(r[2:] for r in meter.report() if r[0] == section)
            floor = floor or result["requests"] / result["seconds"]
            rows.append(row(database, workers, path, len(chosen), result,
                            None if label == "healthz" else floor, cores))
            for kind, count in result["errors"].items():
                notes.append(f"{database} {path} x{len(chosen)}: {count} x {kind}")
            if result["cpu_warning"]:
                notes.append(f"{database} {path} x{len(chosen)}: locust warned of its CPU")
            print(" | ".join(map(str, rows[-1])), flush=True)
        time.sleep(1.0)  # the access log's last lines
        statuses, trouble = setup.log_findings()
        notes.append(f"{database}: access log statuses {dict(sorted(statuses.items()))}; "
                     f"log lines about trouble: {len(trouble)}, of which "
                     f"'{LOCKED}': {sum(LOCKED in line for line in trouble)}")
        notes += [f"  {line}" for line in list(dict.fromkeys(trouble))[:20]]
    finally:
        setup.close()
    return rows, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--database", default="postgresql,sqlite",
                        help="comma-separated: postgresql, sqlite")
    parser.add_argument("--workers", default="",
                        help="gunicorn workers per database, e.g. 'postgresql=4,sqlite=2'")
    parser.add_argument("--threads", type=int,
                        help="gunicorn threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--users", type=int, default=100, help="concurrent connections")
    parser.add_argument("--seconds", type=float, default=30.0, help="of each measurement")
    parser.add_argument("--path", default=DEFAULT_PATH, help="the authenticated list")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders")
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # the load generator's job file
    args = parser.parse_args(argv)
    if args.drive:
        with open(args.drive) as handle:
            print(json.dumps(drive(**json.load(handle))))
        return 0
    workers = dict(WORKERS, **{k: int(v) for k, v in (
        item.split("=") for item in args.workers.split(",") if item)})
    databases = [name.strip() for name in args.database.split(",") if name.strip()]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up on a plain kill too

    given = argv if argv is not None else sys.argv[1:]
    print(f"command: python -m benchmarks.load {shlex.join(given)}")
    print(f"date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, commit {git_commit()}, "
          f"{os.cpu_count()} cores, load before: {load_average()}; {args.users} connections, "
          f"{args.seconds:g} s each after {WARM_UP:g} s of warm-up", flush=True)
    sessions: set[int] = set()
    meter = LoadMeter(sessions)
    rows, notes = [], []
    try:
        for database in databases:
            more_rows, more_notes = run_database(database, workers[database], args, meter,
                                                 sessions)
            rows += more_rows
            notes += more_notes
    finally:
        meter.close()
    print()
    print(table(["database", "workers", "GET", "tokens", "requests", "requests/s", "p50 ms",
                 "p95 ms", "p99 ms", "max ms", "errors", "of /healthz", "client cores",
                 "whole machine cores", "this run cores", "everything else cores"], rows))
    print(f"\nload after: {load_average()}")
    for note in notes:
        print(note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
