"""CSV bulk import (issue 12, item 7): a 20,000-row upload of sites and of work items, and the
same files uploaded again (every row an update), timed as one HTTP request each.

    python -m benchmarks.imports [--rows 20000] [--database-url postgresql://...] [--no-sqlite]
                                 [--only sites-create,items-create,...] [--repeat 1]

Each database gets its own throwaway data: a temporary SQLite file, and with --database-url a
fresh PostgreSQL database beside the one named (created, migrated and dropped at the end).
It makes one firm, its coordinator, a project with three skills, then posts through the
Flask test client (the whole request: multipart parsing, the import, the commit):

  sites create       --rows sites
  sites update       the same names again, every address changed
  items create       --rows work items over the first rows/3 sites, three a site: network,
                     server (depends on the network item), desktops (depend on both)
  items update       the same refs again, every label and effort changed
  items dry run      the update file with ?dry_run=true (checks everything, rolls back)

--only names the uploads to time; those they need run first, untimed (the sites, the items).
Each upload must answer 200 with the expected counts, or the run stops. Reported: wall-clock
seconds of the request, the CPU seconds this process spent in it (Python's share; with the
wall time it shows a run disturbed by other work on the machine, and the database server's
own share on PostgreSQL), and the wall time per 1,000 rows. --repeat N runs the whole
sequence N times on fresh data and prints the best time of each upload.
"""

from __future__ import annotations

import argparse
import io
import os
import tempfile
import time
import uuid

import sqlalchemy as sa

SITE_HEADER = "name,address,region,latitude,longitude,ready_on,access_weekdays,blackout_dates"
ITEM_HEADER = ("ref,site,kind,label,skill,min_proficiency,effort_hours,quantity,crew_size,"
               "earliest_on,due_on,depends_on")
REGIONS = ("North", "East", "South", "West")


class BenchError(RuntimeError):
    """An upload did not answer as documented; the run stops (and cleans up)."""


def sites_csv(rows: int, street: str) -> bytes:
    lines = [SITE_HEADER]
    for n in range(rows):
        lines.append(f"Site {n:05d},{street} {n},{REGIONS[n % 4]},{47 + (n % 800) / 100:.2f},"
                     f"{6 + (n % 900) / 100:.2f},2027-03-{1 + n % 28:02d},1-5,"
                     f"2027-04-30;2027-05-{1 + n % 28:02d}")
    return ("\n".join(lines) + "\n").encode()


def items_csv(rows: int, label: str, hours: float) -> bytes:
    lines = [ITEM_HEADER]
    for n in range(rows):
        site, step = divmod(n, 3)
        base = f"S{site:05d}"
        if step == 0:
            row = (f"{base}-NW,network,{label} network,winserver,2,{hours},1,1,,2027-04-30,")
        elif step == 1:
            row = f"{base}-SRV,server,{label} server,winserver,3,{hours * 8},1,2,,2027-05-15," \
                  f"{base}-NW"
        else:
            row = f"{base}-DT,desktop_batch,{label} desktops,desktop,2,1.5,{10 + site % 30},1," \
                  f"2027-04-01,2027-06-30,{base}-SRV;{base}-NW"
        ref, rest = row.split(",", 1)
        lines.append(f"{ref},Site {site:05d},{rest}")
    return ("\n".join(lines) + "\n").encode()


def _throwaway_postgres(url: str):
    """An empty database beside the one in url: its URL and a function that drops it."""
    from staffing.config import normalise_database_url

    base = sa.engine.make_url(normalise_database_url(url))
    name = f"staffing_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')

    def drop():
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def _world(db):
    """A lead firm, its coordinator with a token, a project with its skill catalogue."""
    import datetime as dt

    from staffing.partners.models import Firm, User
    from staffing.projects.models import Project, Skill
    from staffing.security import issue_token

    firm = Firm(name="Bench Lead AG", region="North", contact_name="Bench",
                contact_email="bench@lead.example", contact_phone="+49 40 0000",
                address="Ballindamm 1, Hamburg", latitude=53.55, longitude=9.99)
    user = User(firm=firm, email="bench@lead.example", name="Bench", role="coordinator",
                password_hash="-")
    project = Project(lead_firm=firm, name="Bench rollout", client_name="Bench client",
                      start_on=dt.date(2027, 3, 1), end_on=dt.date(2027, 6, 30))
    db.session.add_all([firm, user, project])
    db.session.flush()
    for code in ("winserver", "sqlserver", "desktop"):
        db.session.add(Skill(project_id=project.id, code=code, name=code.title()))
    _, secret = issue_token(user, "bench", None)
    db.session.commit()
    return project.id, {"Authorization": f"Bearer {secret}"}


def _post(client, headers, url: str, content: bytes) -> tuple[float, float, dict]:
    """The answer to one upload, with its wall-clock and this process's CPU seconds."""
    data = {"file": (io.BytesIO(content), "upload.csv")}
    started, cpu_started = time.perf_counter(), time.process_time()
    response = client.post(url, data=data, headers=headers, content_type="multipart/form-data")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    if response.status_code != 200:
        raise BenchError(f"{url}: {response.status_code} {response.get_data(as_text=True)[:500]}")
    return seconds, cpu, response.json


UPLOADS = ("sites-create", "sites-update", "items-create", "items-update", "items-dry-run")


def run_database(label: str, url: str, rows: int, only: set[str]) -> list[dict]:
    """The uploads named in only, and those they need first, on a fresh migrated database
    at url; one result dict per upload named."""
    from flask_migrate import upgrade

    from staffing import create_app
    from staffing.extensions import db

    with tempfile.TemporaryDirectory(prefix="staffing-bench-") as instance:
        os.environ["STAFFING_INSTANCE_PATH"] = instance
        if url == "sqlite":
            url = "sqlite:///" + os.path.join(instance, "bench.sqlite3")
        app = create_app({"STAFFING_ENV": "test", "SECRET_KEY": "bench",
                          "SQLALCHEMY_DATABASE_URI": url, "SOLVE_BACKEND": "inline",
                          "LOG_LEVEL": "WARNING"})
        with app.app_context():
            upgrade()
            project_id, headers = _world(db)
            db.session.remove()
        client = app.test_client()
        prefix = f"/api/v1/projects/{project_id}/imports"
        item_rows = rows
        plan = [
            ("sites create", f"{prefix}/sites", sites_csv(rows, "Street"), rows, 0),
            ("sites update", f"{prefix}/sites", sites_csv(rows, "Avenue"), 0, rows),
            ("items create", f"{prefix}/work-items", items_csv(item_rows, "Wave 1", 2.0),
             item_rows, 0),
            ("items update", f"{prefix}/work-items", items_csv(item_rows, "Wave 2", 2.5), 0,
             item_rows),
            ("items dry run", f"{prefix}/work-items?dry_run=true",
             items_csv(item_rows, "Wave 3", 3.0), 0, item_rows),
        ]
        results = []
        for upload, upload_url, content, created, updated in plan:
            needed = only | {"sites-create"} | (
                {"items-create"} if only & {"items-update", "items-dry-run"} else set())
            if upload.replace(" ", "-") not in needed:
                continue
            seconds, cpu, answer = _post(client, headers, upload_url, content)
            if (answer["created"], answer["updated"]) != (created, updated):
                raise BenchError(f"{upload}: expected {created} created, {updated} updated, "
                                 f"got {answer}")
            if upload.replace(" ", "-") not in only:
                continue
            results.append({"database": label, "upload": upload, "rows": answer["rows"],
                            "created": answer["created"], "updated": answer["updated"],
                            "seconds": seconds, "cpu": cpu})
        with app.app_context():
            db.engine.dispose()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url", help="a PostgreSQL server to run on as well "
                                               "(a throwaway database is made beside it)")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--only", default=",".join(UPLOADS),
                        help=f"uploads to time, of {', '.join(UPLOADS)}")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    if not only <= set(UPLOADS):
        parser.error(f"--only: unknown upload(s) {', '.join(sorted(only - set(UPLOADS)))}")

    targets = [] if args.no_sqlite else [("sqlite", "sqlite")]
    if args.database_url:
        targets.append(("postgresql", args.database_url))
    best: dict[tuple[str, str], dict] = {}
    for label, url in targets:
        for _ in range(args.repeat):
            drop = None
            if label == "postgresql":
                url_now, drop = _throwaway_postgres(url)
            else:
                url_now = url
            try:
                for result in run_database(label, url_now, args.rows, only):
                    key = (result["database"], result["upload"])
                    if key not in best or result["seconds"] < best[key]["seconds"]:
                        best[key] = result
            finally:
                if drop is not None:
                    drop()

    print("| database | upload | rows | created | updated | wall s | CPU s "
          "| wall s per 1,000 rows |")
    print("|---|---|---|---|---|---|---|---|")
    for result in best.values():
        print(f"| {result['database']} | {result['upload']} | {result['rows']:,} | "
              f"{result['created']:,} | {result['updated']:,} | {result['seconds']:.2f} | "
              f"{result['cpu']:.2f} | "
              f"{1000 * result['seconds'] / result['rows']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
