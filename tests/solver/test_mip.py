"""The assignment master as a MIP in a child process (solver.mip): its plan and bound against
brute force, the stop flag (the child is killed), and its place beside the firm patterns'
dive in a one-day solve."""

import shutil
import sys
import time

import pytest

from benchmarks.gap import coverage_price, to_problem
from solver import mip
from solver.check import check
from solver.instance import Plan
from solver.mip import AssignmentMip
from solver.solve import solve
from solver.types import SolveOptions

from .flags import Flag
from .test_firm_patterns import _gap, _model, _optimum, _tiny


def _value(core, chosen, cost, n) -> float:
    """A GAP plan's value in euros, unassigned jobs at the adapter's coverage price."""
    coverage = coverage_price(cost)
    value = sum(cost[core.options[k].firm][item] for item, k in chosen.items())
    return value + (n - len(chosen)) * coverage


@pytest.mark.parametrize("seed", range(6))
def test_plan_and_bound_against_brute_force(seed):
    m, n, cost, resource, capacity, core, model, _ = _tiny(seed, 200 + seed)
    run = AssignmentMip(model, 30.0, seed)
    found = run.answer(lambda: False)
    optimum = _optimum(cost, resource, capacity)
    assert not found.interrupted and found.chosen is not None and found.bound is not None
    # so small a MIP is proven: its plan is the optimum, keeps every capacity, and the bound
    # (in cents) meets it
    assert run.proved()
    load = [0] * m
    for item, k in found.chosen.items():
        option = core.options[k]
        assert option.item == item
        load[option.firm] += resource[option.firm][item]
    assert all(load[i] <= capacity[i] for i in range(m))
    assert _value(core, found.chosen, cost, n) == pytest.approx(optimum)
    assert found.bound / 100 == pytest.approx(optimum)


def test_a_raised_stop_flag_kills_the_child_without_an_answer():
    cost, resource, capacity = _gap(2, 20, 200)
    _, model, _ = _model(cost, resource, capacity)
    run = AssignmentMip(model, 600.0)
    # up from its sixteenth look, a tenth of a second apart: HiGHS is solving by then
    flag = Flag(15)
    found = run.answer(flag)
    assert flag.up
    assert found.interrupted and found.chosen is None and found.bound is None
    # killed by the flag, long before the deadline that would kill it otherwise
    assert run._child.returncode is not None  # the child is gone, not left running
    assert time.monotonic() < run._deadline - 500


def test_a_failing_child_gives_no_answer_and_no_error(monkeypatch, caplog):
    cost, resource, capacity = _gap(1, 3, 8)
    _, model, _ = _model(cost, resource, capacity)
    # a child that exits at once with status 1, before it reads its input
    monkeypatch.setattr(sys, "executable", shutil.which("false") or "/bin/false")
    found = AssignmentMip(model, 10.0).answer(lambda: False)
    assert not found.interrupted and found.chosen is None and found.bound is None
    assert "ended with 1" in caplog.text


def test_a_one_day_solve_on_two_workers_and_on_one_passes_the_checker(monkeypatch):
    # the MIP runs beside the dive only with a second worker; both plans are checked
    cost, resource, capacity = _gap(4, 5, 40)
    problem = to_problem("t", 5, 40, cost, resource, capacity)
    started = []
    real = mip.AssignmentMip

    def counted(*args, **kwargs):
        started.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(mip, "AssignmentMip", counted)
    for workers in (1, 2):
        result = solve(problem, SolveOptions(time_limit=4, workers=workers, mode="decompose",
                                             explain=False))
        assert result.status in ("optimal", "feasible") and not result.unassigned
        plan = Plan(assignments=result.assignments, face_firms=result.face_firms,
                    unassigned=tuple(u.item for u in result.unassigned))
        assert check(problem, plan) == []
        assert result.bound is not None and result.bound <= result.objective + 1e-6
        assert len(started) == workers - 1  # the MIP ran beside the dive on two workers only
