"""The Lagrangian bound over sites (solver.bound) and the site patterns' bound
(solver.columns): never above a proven optimum, whatever the multipliers, and above the
master's LP where continuity or fairness count."""

import pytest

from solver.bound import site_bound
from solver.columns import column_bound
from solver.generate import generate
from solver.master import assignment_lp, solve_lp
from solver.model import SCALE, build, energy_windows
from solver.prepare import prepare
from solver.solve import solve
from solver.types import SolveOptions


def _lp(core):
    model = build(core, exact=False)
    lp = assignment_lp(model)
    solved = solve_lp(lp, seconds=60.0)
    assert solved is not None
    duals = solved.dual_values([row for *_, row in lp.windows])
    prices = [max(0.0, -dual) / SCALE for dual in duals]
    return solved.objective_value() / SCALE, [w[:3] for w in lp.windows], prices


@pytest.mark.parametrize("seed", [1, 3, 4, 6])
def test_bound_never_above_the_proven_optimum(seed):
    problem = generate(4, 4, 10, seed)
    result = solve(problem, SolveOptions(time_limit=30, mode="exact", explain=False))
    assert result.status == "optimal"
    core = prepare(problem)
    lp_value, windows, prices = _lp(core)
    at_duals = site_bound(core, windows, prices, None, seconds=0.0)
    searched = site_bound(core, windows, prices, result.objective, seconds=5.0)
    # from zero prices, aimed far above the optimum: steps that overshoot must stay valid
    wild = site_bound(core, windows, [0.0] * len(windows), 10 * result.objective, seconds=5.0)
    for value in (at_duals, searched, wild):
        assert value <= result.objective + 1e-6
    assert searched >= at_duals - 1e-9
    assert lp_value <= result.objective + 1e-6
    # the site patterns' LP (solver.columns), converged, is at least as strong as any of them
    found = column_bound(core, windows, None, seconds=10.0)
    assert found is not None and found.converged
    assert searched - 1e-6 <= found.bound <= result.objective + 0.01  # objective in cents


def test_bound_counts_continuity_the_lp_lets_vanish():
    problem = generate(30, 10, 20, 0)
    core = prepare(problem)
    lp_value, windows, prices = _lp(core)
    value = site_bound(core, windows, prices, None, seconds=0.0)
    continuity = problem.policy.weights.continuity
    sites_with_work = len({item.site for item in problem.items})
    # every site needs a firm at least: the LP's fractions pay only part of that
    assert value >= lp_value + 0.5 * continuity * sites_with_work


def test_bound_is_the_decomposed_solves_bound():
    problem = generate(30, 10, 20, 0)
    core = prepare(problem)
    windows = list(energy_windows(core))
    assert windows  # the energy rows are priced, not only the sites
    result = solve(problem, SolveOptions(time_limit=5, mode="decompose", explain=False))
    lp_value, _, _ = _lp(core)
    assert result.bound is not None and result.bound > lp_value
    assert result.objective >= result.bound


def test_a_stopped_search_keeps_the_bound_at_the_starting_prices():
    problem = generate(4, 4, 10, 3)
    core = prepare(problem)
    _, windows, prices = _lp(core)
    at_duals = site_bound(core, windows, prices, None, seconds=0.0)
    polls = []

    def stopped() -> bool:
        polls.append(None)
        return True

    stopped_at_once = site_bound(core, windows, prices, 1e9, seconds=60.0, stopped=stopped)
    assert polls and stopped_at_once == at_duals
    # without the stop, the same search (aimed far above) takes steps and moves the bound
    assert site_bound(core, windows, prices, 1e9, seconds=60.0) != at_duals
