"""Column generation over site patterns (solver.columns): exact pricing, a bound never above
a proven optimum and at least the Lagrangian's, and its LP mix rounded to a valid plan."""

import itertools
import math
import random
from dataclasses import replace

import pytest

from solver.bound import SiteCosts, site_bound
from solver.budget import Budget
from solver.check import check
from solver.columns import Pattern, _best_split, column_bound, rounded
from solver.context import Context
from solver.generate import generate
from solver.instance import Plan
from solver.model import energy_windows
from solver.prepare import prepare
from solver.schedule import greedy
from solver.solve import solve
from solver.strategies import decomposed
from solver.types import Lock, SolveOptions

from .flags import Flag, looks


def _brute_force(cover, cell, limit, continuity):
    """Every way to give each item one firm or nobody, with at most `limit` firms."""
    n = len(cover)
    choices = [[None] + [f for f in cell if m in cell[f]] for m in range(n)]
    best = math.inf
    for pick in itertools.product(*choices):
        firms = {f for f in pick if f is not None}
        if len(firms) > limit:
            continue
        value = continuity * len(firms) + sum(
            cover[m] if f is None else cell[f][m][0] for m, f in enumerate(pick))
        best = min(best, value)
    return best


@pytest.mark.parametrize("seed", range(12))
def test_pricing_finds_the_least_pattern_of_a_site(seed):
    rng = random.Random(seed)
    n, firms, limit = rng.randint(1, 5), rng.randint(1, 4), rng.randint(1, 3)
    cover = [rng.choice([rng.uniform(5, 50), math.inf]) for _ in range(n)]
    cell, k = {0: {0: (rng.uniform(-20, 40), 0)}}, 1
    for f in range(firms):
        for m in range(n):
            if rng.random() < 0.7:
                cell.setdefault(f, {})[m] = (rng.uniform(-20, 40), k)
                k += 1
    value, options = _best_split(list(range(n)), cover, cell, min(limit, len(cell)), 7.0)
    # the split uses one firm at least; nobody at all is priced beside it
    assert min(value, sum(cover)) == pytest.approx(_brute_force(cover, cell, limit, 7.0))
    if math.isfinite(value):
        # the pattern returned costs what the pricing says (or less, with fewer firms)
        by_option = {k: (f, m, c) for f, row in cell.items() for m, (c, k) in row.items()}
        used = {by_option[k][0] for k in options}
        done = {by_option[k][1] for k in options}
        cost = sum(by_option[k][2] for k in options) + 7.0 * len(used) + sum(
            cover[m] for m in range(n) if m not in done)
        assert len(used) <= limit and cost <= value + 1e-9


def test_a_locked_item_is_never_left_out_of_a_pattern():
    problem = generate(4, 4, 10, 3)
    free = solve(problem, SolveOptions(time_limit=30, mode="exact", explain=False))
    # lock one item to a firm other than the optimal one: the optimum can only rise
    assignment = free.assignments[0]
    core = prepare(problem)
    other = next(core.firms[core.options[k].firm].id for k in core.by_item[
        next(i for i, item in enumerate(core.items) if item.id == assignment.item)]
        if core.firms[core.options[k].firm].id != assignment.firm)
    locked = problem.__class__(**{**problem.__dict__, "locks": (
        Lock(item=assignment.item, firm=other),)})
    result = solve(locked, SolveOptions(time_limit=30, mode="exact", explain=False))
    assert result.status == "optimal"
    core = prepare(locked)
    found = column_bound(core, list(energy_windows(core)), None, seconds=10.0)
    assert found.bound <= result.objective + 0.01  # the objective is rounded to cents
    lock_item = next(i for i, item in enumerate(core.items) if item.id == assignment.item)
    site = next(n for n, items in enumerate(SiteCosts(core).sites) if lock_item in items)
    mixed = [pattern for pattern, _ in found.mix if pattern.site == site]
    assert mixed and all(lock_item in pattern.items for pattern in mixed)


def test_rounding_takes_the_heaviest_pattern_that_keeps_the_share_ranges():
    problem = generate(4, 4, 10, 1)
    core = prepare(problem)
    by_firm = {}
    for k in core.by_item[0]:
        by_firm.setdefault(core.options[k].firm, k)
    (f, k_f), (g, k_g) = sorted(by_firm.items())[:2]
    site = core.item_site[0]
    light = Pattern(site=site, options=(k_g,), items=(0,), cost=5.0)
    heavy = Pattern(site=site, options=(k_f,), items=(0,), cost=9.0)
    assert rounded(core, [(light, 0.4), (heavy, 0.6)]) == {0: k_f}
    # a firm capped at (almost) nothing cannot take the heaviest pattern: the next one fits
    limits = {f: 0.001, g: 100.0}
    capped = replace(problem, firms=tuple(
        replace(firm, min_share_percent=0.0, max_share_percent=limits[n]) if n in limits
        else firm for n, firm in enumerate(problem.firms)))
    assert rounded(prepare(capped), [(light, 0.4), (heavy, 0.6)]) == {0: k_g}


def test_decomposed_solve_plans_from_the_patterns_within_its_bound():
    problem = generate(60, 12, 20, 0)
    core = prepare(problem)
    windows = list(energy_windows(core))
    lagrangian = site_bound(core, windows, [0.0] * len(windows), None, 1.0)
    result = solve(problem, SolveOptions(time_limit=6, mode="decompose", explain=False))
    assert result.stats["rounds"] == 0  # the patterns gave the plan; no master rounds
    assert not result.unassigned
    assert lagrangian - 1e-6 <= result.bound <= result.objective + 0.01
    assert result.gap < 0.1


def test_a_site_too_large_for_exact_pricing_ends_the_generation():
    # one site of 12 items (closed-form pricing) where two firms are each cheap on half:
    # the bound stays valid and the generation stops once no new column comes, long before
    # its time is up (it used to re-solve the same LP until then)
    base = generate(2, 4, 10, 1)
    first = base.items[0]
    items = tuple(replace(first, id=f"big{n}", depends_on=()) for n in range(12)) + tuple(
        item for item in base.items if item.site != first.site)
    problem = replace(base, items=items)
    core = prepare(problem)
    found = column_bound(core, list(energy_windows(core)), None, seconds=20.0)
    assert found is not None and found.bound is not None and found.converged
    result = solve(problem, SolveOptions(time_limit=5, explain=False))
    assert found.bound <= result.objective + 0.01


def _mix(found) -> list:
    return sorted((pattern.options, round(weight, 9)) for pattern, weight in found.mix)


def test_a_stop_at_any_look_ends_the_generation_with_the_last_lp_solved_or_nothing():
    # on 5,000 sites the set-up, each LP re-solve and each pricing take seconds, and each
    # polls the flag: a stop seen at any look ends the generation there, with nothing while
    # no LP is solved, else with the mix and bound of the last LP solved (not an error). 120
    # sites, so the pricing looks too (every hundred sites)
    core = prepare(generate(120, 8, 20, seed=5))
    windows = list(energy_windows(core))
    whole = column_bound(core, windows, None, seconds=60.0)
    first = column_bound(core, windows, None, seconds=0.0)  # one LP and one pricing
    assert whole.converged
    cuts, mixes = [], {}
    for down in range(looks(lambda flag: column_bound(core, windows, None, 60.0, flag))):
        flag = Flag(down)
        cut = column_bound(core, windows, None, seconds=60.0, stopped=flag)
        assert flag.looks == down + 1  # it ended at its first look at the raised flag
        cuts.append(cut)
        if cut is None:
            continue
        assert not cut.converged
        # a bound once one pricing is whole: the best Lagrangian so far
        assert cut.bound is None or cut.bound <= whole.bound + 1e-6
        # an LP's mix: one unit of patterns per site, the same after as many LPs
        per_site = {}
        for pattern, weight in cut.mix:
            per_site[pattern.site] = per_site.get(pattern.site, 0.0) + weight
        assert per_site.keys() == set(range(len(SiteCosts(core).sites)))
        assert all(total == pytest.approx(1.0) for total in per_site.values())
        assert mixes.setdefault(cut.iterations, _mix(cut)) == _mix(cut)
    # nothing until the first LP is solved, then its mix (as when the second gets no time)
    solved = [cut is not None for cut in cuts]
    assert not solved[0] and solved[-1] and solved == sorted(solved)
    assert mixes[1] == _mix(first) and len(mixes) > 1


class _GoneAtColumns(Budget):
    """A solve's time budget whose time is up once the site patterns ask for their share."""

    gone = False

    def seconds(self, step: str) -> float:
        self.gone = self.gone or step == "columns"
        return super().seconds(step)

    def left(self) -> float:
        return 0.0 if self.gone else super().left()


def test_a_limit_passing_as_the_site_patterns_start_ends_them_without_an_lp():
    # the time limit passes as the site patterns start (as on 5,000 sites, after a first
    # plan found near the limit): their set-up ends at its first look, no LP is solved, so
    # no bound comes of them, and the decomposition returns its first plan instead of
    # running the set-up and the first LP past the limit
    problem = generate(100, 20, 30, seed=3)
    core = prepare(problem)
    assert column_bound(core, list(energy_windows(core)), None, seconds=0.0).bound is not None
    clock = _GoneAtColumns(60.0, None)
    result = decomposed.solve(Context(core, clock, SolveOptions(time_limit=60.0,
                                                                explain=False), greedy(core)))
    assert clock.gone
    assert result.status == "feasible" and result.assignments and result.bound is None
    plan = Plan(assignments=result.assignments, face_firms=result.face_firms,
                unassigned=tuple(u.item for u in result.unassigned))
    assert check(problem, plan) == []
