"""solver.generate: realistic rollout instances, the same for a seed, every item reachable."""

import datetime as dt
import json
import math

import jsonschema
import pytest

from solver.generate import generate, main, working_days
from solver.instance import load_problem, schema
from solver.types import Problem, ProblemError

SIZES = [(13, 8, 20), (100, 30, 30)]
HOLIDAYS_2027 = {dt.date(2027, 3, 26), dt.date(2027, 3, 29), dt.date(2027, 5, 6),
                 dt.date(2027, 5, 17), dt.date(2027, 10, 3), dt.date(2027, 12, 25),
                 dt.date(2027, 12, 26)}


@pytest.fixture(scope="module", params=[(size, seed) for size in SIZES for seed in (0, 1)],
                ids=lambda p: "x".join(map(str, p[0])) + f"-seed{p[1]}")
def generated(request) -> tuple[tuple[int, int, int], Problem]:
    size, seed = request.param
    return size, generate(*size, seed=seed)


def haversine_km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def eligible_firms(problem: Problem, item) -> list[str]:
    """docs/solver.md rule 2 (skill, proficiency, radius, exclusions), plus a range with
    technicians enough for the crew."""
    site = next(s for s in problem.sites if s.id == item.site)
    barred = {e.firm for e in problem.exclusions if e.site in (None, site.id)}
    found = []
    for firm in problem.firms:
        levels = {offer.skill: offer.proficiency for offer in firm.skills}
        if (levels.get(item.skill, 0) >= item.min_proficiency and firm.id not in barred
                and any(slot.technicians >= item.crew_size for slot in firm.availability)
                and haversine_km(site.latitude, site.longitude, firm.latitude, firm.longitude)
                <= firm.travel_radius_km):
            found.append(firm.id)
    return found


def test_same_seed_same_problem():
    assert generate(13, 8, 20, seed=7) == generate(13, 8, 20, seed=7)


def test_other_seed_other_problem():
    assert generate(13, 8, 20, seed=1) != generate(13, 8, 20, seed=2)


def test_sizes_as_asked(generated):
    (sites, firms, days), problem = generated
    assert len(problem.sites) == sites
    assert len(problem.firms) == firms
    assert len(problem.working_days) == days
    assert problem.policy.max_firms_per_site == 2 and problem.policy.face_policy == "lead"
    used = {item.skill for item in problem.items}
    used |= {offer.skill for firm in problem.firms for offer in firm.skills}
    assert used <= set(problem.skills)


def test_working_days_skip_weekends_and_holidays():
    days = working_days(90)
    assert len(days) == 90 and days[0] == dt.date(2027, 3, 1)
    assert list(days) == sorted(set(days))
    assert all(day.isoweekday() <= 5 for day in days)
    year = working_days(250)
    assert not HOLIDAYS_2027 & set(year)
    assert dt.date(2027, 12, 24) in year and dt.date(2027, 12, 27) in year


def test_ids_unique(generated):
    _, problem = generated
    for records in (problem.sites, problem.items, problem.firms):
        ids = [record.id for record in records]
        assert len(ids) == len(set(ids))


def test_dependencies_stay_on_their_site_without_cycles(generated):
    _, problem = generated
    site_of = {item.id: item.site for item in problem.items}
    for item in problem.items:
        assert all(site_of[dep] == item.site for dep in item.depends_on)
    waiting = {item.id: set(item.depends_on) for item in problem.items}
    while waiting:
        ready = [item for item, deps in waiting.items() if not deps & waiting.keys()]
        assert ready, "dependency cycle"
        for item in ready:
            del waiting[item]


def test_desktops_after_servers_after_network(generated):
    _, problem = generated
    by_site: dict[str, dict[str, list[str]]] = {}
    for item in problem.items:
        by_site.setdefault(item.site, {}).setdefault(item.kind, []).append(item.id)
    for item in problem.items:
        kinds = by_site[item.site]
        if item.kind == "desktop_batch":
            assert set(item.depends_on) == set(kinds.get("server") or kinds.get("network", []))
        elif item.kind == "server":
            assert set(item.depends_on) == set(kinds.get("network", []))
    assert all("desktop_batch" in kinds for kinds in by_site.values())


def test_every_item_has_two_eligible_firms(generated):
    _, problem = generated
    for item in problem.items:
        assert len(eligible_firms(problem, item)) >= 2, item.id


def test_capacity_about_twice_the_work(generated):
    _, problem = generated
    barred = {e.firm for e in problem.exclusions if e.site is None}
    capacity = sum(slot.technicians * slot.hours_per_technician
                   * sum(slot.start_on <= day <= slot.end_on and day not in firm.blackout_dates
                         for day in problem.working_days)
                   for firm in problem.firms if firm.id not in barred
                   for slot in firm.availability)
    assert 1.6 <= capacity / sum(item.hours for item in problem.items) <= 2.5


def test_due_dates_leave_room(generated):
    _, problem = generated
    days = problem.working_days
    index = {day: k for k, day in enumerate(days)}
    ready = {site.id: site.ready_on or days[0] for site in problem.sites}
    due = [item for item in problem.items if item.due_on]
    assert 0.3 * len(problem.items) <= len(due) <= 0.7 * len(problem.items)
    for item in due:
        assert index[item.due_on] >= len(days) // 2
        assert index[item.due_on] >= index[max(ready[item.site], item.earliest_on or days[0])] + 5


def test_shares_and_exclusions(generated):
    (_, firms, _), problem = generated
    client_wide = [e for e in problem.exclusions if e.site is None]
    assert len(client_wide) == 1
    assert any(e.site is not None for e in problem.exclusions)
    for firm in problem.firms:
        assert 0 <= firm.min_share_percent <= firm.max_share_percent <= 100
        if firms > 10:
            assert 2 * 100 / firms <= firm.max_share_percent + 1e-9
    assert sum(firm.max_share_percent for firm in problem.firms
               if firm.id != client_wide[0].firm) >= 100


def test_rejects_empty_sizes():
    with pytest.raises(ProblemError, match="firms"):
        generate(5, 0, 10)


def test_command_line_writes_the_instance(tmp_path, capsys):
    path = tmp_path / "rollout.json"
    assert main(["--sites", "13", "--firms", "8", "--days", "20", "--seed", "3",
                 "-o", str(path)]) == 0
    jsonschema.validate(json.loads(path.read_text(encoding="utf-8")), schema())
    assert load_problem(path) == generate(13, 8, 20, seed=3)
    assert "13 sites" in capsys.readouterr().err


def test_same_seed_same_instance_in_any_process(tmp_path):
    """The instance depends on the seed only, not on Python's per-process hash seed."""
    import os
    import subprocess
    import sys

    texts = []
    for hash_seed in ("1", "2", "3", "4"):
        out = tmp_path / f"i{hash_seed}.json"
        subprocess.run([sys.executable, "-m", "solver.generate", "--sites", "13", "--firms", "8",
                        "--days", "20", "--seed", "1", "-o", str(out)], check=True,
                       env={**os.environ, "PYTHONHASHSEED": hash_seed})
        texts.append(out.read_text())
    assert all(text == texts[0] for text in texts)
