"""The coordinator's desk at scale (issue 15): how long the plan page of a 1,000-site plan
takes on the server and in a browser, and a lock and a checked move as API round trips.

    python -m benchmarks.desk [--sites 1000 --firms 150 --days 60] [--solve-seconds 60]
                              [--repeat 5] [--seed 0] [--no-browser]

On throwaway data: a temporary SQLite database, migrated, with the generated rollout
(solver.generate) imported as a project and solved once by the planner (inline, the given
seconds). Then, in this process with Flask's test client (server time only: no network),
each `--repeat` times: the project page (the baseline of the same run: a page that reads the
same rows without the plan), the plan page unfiltered and filtered by one firm, the plan API
(JSON), a lock (PATCH is_firm_locked), a checked move (PATCH firm_id and start_on with
dry_run) with the project's inputs kept by the process and the first one after an input
changed (a ban added and lifted), and who fits one item. With chromium at /usr/bin/chromium
and Playwright, the plan page's load in a browser (navigation to the load event) against
`staffing run` on the same database. Medians, with
the range.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "desk-benchmark-1"


def _timed(call, repeat: int) -> tuple[list[float], object]:
    times, last = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        last = call()
        times.append(time.perf_counter() - started)
    return times, last


def _row(name: str, times: list[float], note: str = "") -> str:
    ms = [1000 * t for t in times]
    return (f"| {name} | {statistics.median(ms):,.0f} | {min(ms):,.0f}-{max(ms):,.0f} "
            f"| {note} |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=1000)
    parser.add_argument("--firms", type=int, default=150)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--solve-seconds", type=float, default=60.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args(argv)

    folder = Path(tempfile.mkdtemp(prefix="desk-bench-"))
    url = f"sqlite:///{folder / 'desk.sqlite3'}"
    os.environ.update({"DATABASE_URL": url, "STAFFING_ENV": "test",
                       "SECRET_KEY": "desk-benchmark", "STAFFING_INSTANCE_PATH": str(folder)})
    from flask_migrate import upgrade

    from solver.generate import generate
    from staffing import create_app
    from staffing.extensions import db
    from staffing.partners.models import Firm, User
    from staffing.planning import operations as ops
    from staffing.planning.mapping import import_problem
    from staffing.planning.models import Plan
    from staffing.security import hash_password, issue_token

    app = create_app({"STAFFING_ENV": "test", "SECRET_KEY": "desk-benchmark",
                      "SQLALCHEMY_DATABASE_URI": url, "SOLVE_BACKEND": "inline"})
    with app.app_context():
        upgrade()
        lead = Firm(name="Lead IT", latitude=51.0, longitude=10.0)
        db.session.add(lead)
        db.session.flush()
        user = User(firm=lead, email="lead@desk.example", name="Lead", role="coordinator",
                    password_hash=hash_password(PASSWORD))
        db.session.add(user)
        db.session.flush()
        _, token = issue_token(user, "bench", None)
        started = time.perf_counter()
        project = import_problem(generate(args.sites, args.firms, args.days, args.seed),
                                 lead.id, "Desk benchmark")
        db.session.commit()
        imported = time.perf_counter() - started
        job = ops.start_solve(user, project, "inline", time_limit=args.solve_seconds,
                              seed=args.seed)
        db.session.commit()
        started = time.perf_counter()
        ops.run_solve_job(job.id)
        solved = time.perf_counter() - started
        db.session.refresh(job)
        plan = db.session.get(Plan, job.plan_id)
        project_id, plan_id = project.id, plan.id
        rows = sorted(plan.assignments, key=lambda a: a.id)
        count = len(rows)
        firm = rows[0].firm_id
        lock_id, move_id = rows[0].id, rows[len(rows) // 2].id
        print(f"# {args.sites}x{args.firms}x{args.days} seed {args.seed}: imported in "
              f"{imported:.1f} s, solved in {solved:.1f} s ({plan.solver_status}), "
              f"{count} assignments, {len(plan.summary.get('unassigned', []))} unassigned")

    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    form = re.search(r'name="csrf_token"[^>]*value="([^"]+)"',
                     client.get("/login").get_data(as_text=True))
    signin = client.post("/login", data={"email": "lead@desk.example", "password": PASSWORD,
                                         "csrf_token": form.group(1) if form else ""})
    assert signin.status_code in (302, 303), signin.status_code
    lines = ["| request | median ms | range ms | note |", "|---|---|---|---|"]

    def page(path: str):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response

    times, response = _timed(lambda: page(f"/projects/{project_id}"), args.repeat)
    lines.append(_row("project page (baseline)", times, f"{len(response.data) // 1024} KB"))
    times, response = _timed(lambda: page(f"/plans/{plan_id}"), args.repeat)
    lines.append(_row("plan page, unfiltered", times,
                      f"{len(response.data) // 1024} KB, {count} rows, "
                      f"{min(count, 400)} bars"))
    times, response = _timed(lambda: page(f"/plans/{plan_id}?firm_id={firm}"), args.repeat)
    lines.append(_row("plan page, one firm", times, f"{len(response.data) // 1024} KB"))
    times, response = _timed(lambda: client.get(f"/plans/{plan_id}?firm_id={firm}",
                                                headers={"HX-Request": "true"}), args.repeat)
    lines.append(_row("plan page, one firm, htmx swap", times,
                      f"{len(response.data) // 1024} KB"))
    times, response = _timed(lambda: client.get(f"/api/v1/plans/{plan_id}", headers=headers),
                             args.repeat)
    lines.append(_row("GET /api/v1/plans/N", times, f"{len(response.data) // 1024} KB"))

    def patch(assignment_id: int, body: dict):
        path = f"/api/v1/assignments/{assignment_id}"
        etag = client.get(path, headers=headers).headers["ETag"]
        response = client.patch(path, json=body, headers=headers | {"If-Match": etag})
        assert response.status_code in (200, 422), response.get_data(as_text=True)
        return response

    flags = iter([True, False] * args.repeat)
    times, _ = _timed(lambda: patch(lock_id, {"is_firm_locked": next(flags)}), args.repeat)
    lines.append(_row("lock (PATCH, with its ETag GET)", times))
    with app.app_context():
        from staffing.planning.models import Assignment
        moved = db.session.get(Assignment, move_id)
        day = moved.start_on
    move = {"start_on": day.isoformat(), "firm_id": firm, "dry_run": True}
    patch(move_id, move)  # the project's inputs kept in this process (planning.inputs)
    times, response = _timed(lambda: patch(move_id, move), args.repeat)
    lines.append(_row("checked move (PATCH dry_run, with its ETag GET)", times,
                      f"answer {response.status_code}"))

    def changed_then_move():
        # an input changes (a ban added, then lifted): the next move builds the inputs again
        ban = client.post(f"/api/v1/projects/{project_id}/bans", headers=headers, json={
            "work_item_id": rows[1].work_item_id, "firm_id": firm})
        assert ban.status_code == 201, ban.get_data(as_text=True)
        path = f"/api/v1/bans/{ban.json['id']}"
        etag = client.get(path, headers=headers).headers["ETag"]
        assert client.delete(path, headers=headers | {"If-Match": etag}).status_code == 204
        started = time.perf_counter()
        patch(move_id, move)
        return time.perf_counter() - started

    times = [changed_then_move() for _ in range(args.repeat)]
    lines.append(_row("checked move, the first after an input changed", times,
                      "problem, fingerprint and prepare again"))
    times, response = _timed(lambda: client.get(
        f"/api/v1/plans/{plan_id}/work-items/{rows[0].work_item_id}/candidates",
        headers=headers), args.repeat)
    lines.append(_row("who fits one item (every eligible firm reviewed)", times,
                      f"{len(response.json['candidates'])} firms"))

    if not args.no_browser and os.path.exists("/usr/bin/chromium"):
        lines.append(_row("browser: plan page load event", _browser(url, folder, plan_id,
                                                                   args.repeat),
                          "chromium, staffing run"))
    print("\n".join(lines))
    return 0


def _browser(url: str, folder: Path, plan_id: int, repeat: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "DATABASE_URL": url, "STAFFING_ENV": "test",
           "SECRET_KEY": "desk-benchmark", "STAFFING_INSTANCE_PATH": str(folder)}
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "staffing"),
                               "run", "--port", str(port), "--no-reload", "--no-debugger"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
            page = browser.new_page(base_url=f"http://127.0.0.1:{port}",
                                    viewport={"width": 1280, "height": 900})
            for _ in range(100):
                try:
                    page.goto("/login")
                    break
                except Exception:
                    time.sleep(0.2)
            page.get_by_label("Email").fill("lead@desk.example")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(re.compile(r".*/$"))
            times = []
            for _ in range(repeat):
                started = time.perf_counter()
                page.goto(f"/plans/{plan_id}", wait_until="load")
                times.append(time.perf_counter() - started)
            browser.close()
        return times
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
