"""The benchmarks' peers and generated GAP instances (benchmarks/peers.py, gap_recipes.py):
on a tiny instance every solver finds the brute-force optimum; the generator is deterministic
and keeps its recipe's ranges; --busy starts and stops its processes. No timing asserted."""

import itertools
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import peers
from benchmarks.gap import planner_gap, to_problem
from benchmarks.gap_recipes import generate
from benchmarks.runs import busy, cell
from solver.generate import generate as generate_rollout
from solver.solve import solve
from solver.types import SolveOptions

ROOT = Path(__file__).resolve().parents[2]  # the repository: `benchmarks` imports from there
NO_HIGHS = "highspy is not installed: it is in the bench extra (pip install -e '.[bench]')"


def _brute_force(instance) -> int:
    """The cheapest assignment of every job that keeps every capacity, by enumeration."""
    m, n, cost, resource, capacity = instance
    best = None
    for agents in itertools.product(range(m), repeat=n):
        load = [0] * m
        for job, agent in enumerate(agents):
            load[agent] += resource[agent][job]
        if all(used <= room for used, room in zip(load, capacity, strict=True)):
            value = sum(cost[agent][job] for job, agent in enumerate(agents))
            best = value if best is None else min(best, value)
    assert best is not None, "the tiny instance must be feasible"
    return best


@pytest.fixture(params=["d", "e"])
def tiny(request):
    return generate(request.param, 3, 8, seed=1)


def test_cpsat_finds_the_brute_force_optimum(tiny):
    run = peers.cpsat_gap(tiny, time_limit=5, workers=1, seed=0)
    assert run.status == "optimal"
    assert run.objective == run.bound == _brute_force(tiny)


@pytest.mark.skipif(not peers.has_highs(), reason=NO_HIGHS)
def test_highs_finds_the_brute_force_optimum(tiny):
    run = peers.highs_gap(tiny, time_limit=5, workers=1, seed=0)
    assert run.status == "optimal"
    assert run.objective == pytest.approx(_brute_force(tiny))
    assert run.bound == pytest.approx(run.objective)


@pytest.mark.skipif(not peers.has_highs(), reason=NO_HIGHS)
def test_highs_prints_nothing_inside_the_tables():
    # HiGHS prints its banner once per process: a fresh one shows that it is silenced
    code = ("from benchmarks import peers; from benchmarks.gap_recipes import generate; "
            "print(peers.highs_gap(generate('d', 3, 8, seed=1), time_limit=5).status)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "optimal\n" and "HiGHS" not in done.stderr


def test_the_planner_finds_the_brute_force_optimum(tiny):
    run = planner_gap(to_problem("tiny", *tiny), time_limit=5, workers=1, seed=0)
    assert run.objective == _brute_force(tiny)


def test_the_rollout_peer_plan_keeps_every_rule_and_matches_the_planner():
    problem = generate_rollout(3, 2, 5, 0)
    run = peers.cpsat_rollout(problem, time_limit=5, workers=1, seed=0)
    planned = solve(problem, SolveOptions(time_limit=5, workers=1, seed=0, explain=False))
    assert run.status == planned.status == "optimal"
    assert run.violations == 0
    assert run.objective == pytest.approx(planned.objective, abs=0.01)
    assert run.bound == pytest.approx(run.objective, abs=0.01)


def test_the_generator_is_deterministic_for_a_seed():
    for kind in ("d", "e"):
        assert generate(kind, 4, 12, seed=7) == generate(kind, 4, 12, seed=7)
        assert generate(kind, 4, 12, seed=7) != generate(kind, 4, 12, seed=8)


def test_type_d_follows_its_recipe():
    m, n, cost, resource, capacity = generate("d", 5, 200, seed=3)
    for i in range(m):
        for j in range(n):
            assert 1 <= resource[i][j] <= 100
            assert -10 <= cost[i][j] - (111 - resource[i][j]) <= 10
        assert capacity[i] == math.floor(0.8 * sum(resource[i]) / m)
    # the uniform draws reach both ends of their ranges
    assert {min(map(min, resource)), max(map(max, resource))} == {1, 100}


def test_type_e_follows_its_recipe():
    m, n, cost, resource, capacity = generate("e", 20, 100, seed=3)
    for i in range(m):
        for j in range(n):
            r = resource[i][j]
            assert r >= 1
            assert max(0, math.floor(1000 / r - 10)) <= cost[i][j] <= math.floor(1000 / r)
        assert capacity[i] == max(math.floor(0.8 * sum(resource[i]) / m), max(resource[i]))
    # 20 agents of 100 jobs: somewhere the largest job decides the capacity (as in e20100)
    assert any(b == max(row) > math.floor(0.8 * sum(row) / m)
               for b, row in zip(capacity, resource, strict=True))


def test_an_unknown_type_is_refused():
    with pytest.raises(ValueError, match="unknown GAP type"):
        generate("c", 3, 8, seed=0)


def test_busy_keeps_its_processes_running_and_stops_them():
    with busy(1) as load:
        (pid,) = load.pids
        os.kill(pid, 0)  # running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # what it reports of itself names the processes it ran (the measured seconds vary)
    assert load.describe().startswith("busy: 1 CPU-bound process(es) for ")


def test_repeated_cells_show_the_median_and_the_spread():
    assert cell([3.0]) == "3"
    assert cell([3.0, 1.0, 2.0]) == "2 (1-3)"
    assert cell([2.5, None], 1, unit="%") == "2.5 % (2.5-2.5) 1 none"
    assert cell([None]) == "-"
