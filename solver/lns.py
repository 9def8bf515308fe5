"""Large-neighbourhood search on the assignment model: free the items of a few firms or of a
few neighbouring sites, keep every other item where the incumbent has it, and let CP-SAT
re-solve that part; keep the result when it is better. Each step is a complete, feasible plan,
so stopping at any time leaves the best plan found so far."""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from .bound import site_bound
from .model import SCALE, Model, energy_windows

log = logging.getLogger(__name__)


@dataclass
class Incumbent:
    x: list[bool]
    unassigned: list[bool]
    objective: float  # in the model's units (cents)


def _values(solver: cp_model.CpSolver, model: Model) -> Incumbent:
    return Incumbent([solver.boolean_value(v) for v in model.x],
                     [solver.boolean_value(v) for v in model.unassigned],
                     solver.objective_value)


class Neighbourhoods:
    """Which items to free: those of a few random firms, or of a site and its neighbours."""

    def __init__(self, model: Model, seed: int):
        core = model.core
        self.core = core
        self.rng = random.Random(seed)
        self.firms_of_item = [[core.options[k].firm for k in ks] for ks in core.by_item]
        self.items_of_site: dict[int, list[int]] = {}
        for i, site in enumerate(core.item_site):
            self.items_of_site.setdefault(site, []).append(i)
        self.sites = sorted(self.items_of_site)

    def pick(self, incumbent: Incumbent, size: int) -> set[int]:
        core = self.core
        if self.rng.random() < 0.5 or len(self.sites) < 2:
            firms_in_use = sorted({core.options[k].firm for k, on in enumerate(incumbent.x)
                                   if on})
            count = max(2, min(len(firms_in_use), size // max(1, self._items_per_firm())))
            chosen = set(self.rng.sample(firms_in_use, min(count, len(firms_in_use))))
            free = {core.options[k].item for k, on in enumerate(incumbent.x)
                    if on and core.options[k].firm in chosen}
            free |= {i for i, out in enumerate(incumbent.unassigned)
                     if out and chosen.intersection(self.firms_of_item[i])}
            return free
        free: set[int] = set()
        start = self.rng.choice(self.sites)
        for site in sorted(self.sites, key=lambda s: abs(s - start)):
            free.update(self.items_of_site[site])
            if len(free) >= size:
                break
        return free

    def _items_per_firm(self) -> int:
        return max(1, len(self.core.items) // max(1, len(self.core.firms)))


def improve(model: Model, incumbent: Incumbent, deadline: Callable[[], float],
            workers: int, seed: int, stopped: Callable[[], bool],
            on_better: Callable[[Incumbent], None] | None = None) -> Incumbent:
    """Improve the incumbent until the deadline (seconds left) runs out or stop is asked."""
    neighbourhoods = Neighbourhoods(model, seed)
    x_index = [v.index for v in model.x]
    u_index = [v.index for v in model.unassigned]
    size = max(10, len(model.core.items) // 10)
    # short steps: many small re-solves beat a few long ones; longer for big models,
    # whose presolve alone takes a while
    step_limit = 0.25 + len(model.x) / 100_000
    step = 0
    while deadline() > 0.2 and not stopped():
        step += 1
        free = neighbourhoods.pick(incumbent, size)
        _fix_all_but(model, incumbent, free, x_index, u_index)
        solver = cp_model.CpSolver()
        params = solver.parameters
        params.max_time_in_seconds = min(deadline(), step_limit)
        params.num_workers = max(1, workers)
        params.random_seed = seed + step
        params.fix_variables_to_their_hinted_value = True
        status = solver.solve(model.cp)
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) \
                and solver.objective_value < incumbent.objective - 0.5:
            incumbent = _values(solver, model)
            if on_better:
                on_better(incumbent)
        # grow the neighbourhood while sub-problems solve to optimality, shrink otherwise
        if status == cp_model.OPTIMAL:
            size = min(len(model.core.items), int(size * 1.2) + 1)
        else:
            size = max(5, int(size * 0.7))
    model.cp.clear_hints()
    return incumbent


def _fix_all_but(model: Model, incumbent: Incumbent, free: set[int], x_index, u_index) -> None:
    """Hint (and so fix) every assignment variable of the items not in `free`."""
    core = model.core
    model.cp.clear_hints()
    hint = model.cp.proto.solution_hint
    variables, values = [], []
    for k, option in enumerate(core.options):
        if option.item not in free:
            variables.append(x_index[k])
            values.append(int(incumbent.x[k]))
    for i, out in enumerate(incumbent.unassigned):
        if i not in free:
            variables.append(u_index[i])
            values.append(int(out))
    hint.vars.extend(variables)
    hint.values.extend(values)


def coefficients(model: Model) -> dict[int, int]:
    """Objective coefficients of the model's variables, by variable index."""
    coef: dict[int, int] = defaultdict(int)
    for entries in model.terms.values():
        for c, var in entries:
            coef[var.index] += c
    return coef


def master_lp(model: Model):
    """The LP relaxation of the assignment master (GLOP): one firm per item (none for a
    locked or required item), dependencies, energy windows; the objective of the x and u
    variables and the model's constant. Returns (solver, x vars, u vars, windows with their
    rows): (firm, [(option, energy)], hours available, row)."""
    core = model.core
    lp = pywraplp.Solver.CreateSolver("GLOP")
    coef = coefficients(model)
    infinity = lp.infinity()
    xs = [lp.NumVar(0.0, 0.0 if k in model.forbidden else 1.0, "") for k in range(len(model.x))]
    us = [lp.NumVar(0.0, 1.0, "") for _ in model.unassigned]
    objective = lp.Objective()
    for i, ks in enumerate(core.by_item):
        row = lp.Constraint(1.0, 1.0)
        row.SetCoefficient(us[i], 1.0)
        for k in ks:
            row.SetCoefficient(xs[k], 1.0)
    locked = {lock.item for lock in core.problem.locks}
    for i, item in enumerate(core.items):
        if item.id in locked or i in core.required:
            us[i].SetUb(0.0)
    for j, preds in enumerate(core.preds):
        for p in preds:
            row = lp.Constraint(-infinity, 0.0)
            row.SetCoefficient(us[p], 1.0)
            row.SetCoefficient(us[j], -1.0)
    windows = []
    for firm, inside, available in energy_windows(core, model.forbidden):
        row = lp.Constraint(-infinity, float(available))
        for k, energy in inside:
            row.SetCoefficient(xs[k], float(energy))
        windows.append((firm, inside, available, row))
    for k, var in enumerate(model.x):
        objective.SetCoefficient(xs[k], coef.get(var.index, 0))
    for i, var in enumerate(model.unassigned):
        objective.SetCoefficient(us[i], coef.get(var.index, 0))
    objective.SetOffset(float(sum(model.constant.values())))
    objective.SetMinimization()
    return lp, xs, us, windows


@dataclass
class LpStart:
    incumbent: Incumbent | None  # a complete assignment, if CP-SAT completed the LP in time
    rounded: dict[int, int]  # item -> option: each item's largest LP value
    bound: float | None  # the LP optimum (cents): a lower bound of the whole problem


def lp_start(model: Model, time_limit: float, workers: int, seed: int,
             target: float | None = None, bound_seconds: float = 1.0,
             lp_seconds: float | None = None) -> LpStart:
    """A first plan near the LP optimum: solve the LP relaxation of the assignment (GLOP),
    keep the items it assigns wholly to one firm, and let CP-SAT place the others. Also
    returns the LP rounded (each item to its largest option, item -> option) for when CP-SAT
    does not complete it in time, and a lower bound (cents) of the whole problem when no
    option is forbidden or pruned; `target` (cents), a known plan's value, steers it and
    `bound_seconds` limits its search. The LP may take `lp_seconds` (default: most of
    `time_limit`); CP-SAT gets what is left of `time_limit` after it."""
    core = model.core
    started = time.monotonic()
    lp, xs, us, windows = master_lp(model)
    lp.SetTimeLimit(int(max(0.1, time_limit * 0.6 if lp_seconds is None else lp_seconds)
                        * 1000))
    built = time.monotonic()
    if lp.Solve() != pywraplp.Solver.OPTIMAL:
        return LpStart(None, {}, None)
    bound = lp.Objective().Value()
    if not model.forbidden and not core.pruned_options:
        # the LP's window prices start a Lagrangian bound that also counts continuity and
        # fairness (solver.bound); it holds for the whole problem, like the LP's
        prices = [max(0.0, -row.dual_value()) / SCALE for *_, row in windows]
        lagrangian = site_bound(core, [w[:3] for w in windows], prices,
                                None if target is None else target / SCALE,
                                bound_seconds)
        bound = max(bound, lagrangian * SCALE)
    log.debug("lp: built in %.2fs, solved in %.2fs", built - started, time.monotonic() - built)
    whole, rounded, largest = {}, {}, {}
    for k, var in enumerate(xs):
        value = var.solution_value()
        item = core.options[k].item
        if value > 1 - 1e-6:
            whole[item] = k
        if value > largest.get(item, 1e-6) and value >= us[item].solution_value():
            largest[item], rounded[item] = value, k
    guess = Incumbent([False] * len(model.x), [False] * len(model.unassigned), 0.0)
    for k in whole.values():
        guess.x[k] = True
    free = set(range(len(core.items))) - set(whole)
    for _ in range(3):
        left = time_limit - (time.monotonic() - started)
        if left <= 0.05:
            return LpStart(None, rounded, bound)
        _fix_all_but(model, guess, free, [v.index for v in model.x],
                     [v.index for v in model.unassigned])
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = left / 2
        solver.parameters.num_workers = max(1, workers)
        solver.parameters.random_seed = seed
        solver.parameters.fix_variables_to_their_hinted_value = True
        status = solver.solve(model.cp)
        model.cp.clear_hints()
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            return LpStart(_values(solver, model), rounded, bound)
        # free the items of every firm that shares a free item, and try again
        firms = {core.options[k].firm for i in free for k in core.by_item[i]}
        free |= {i for i, k in whole.items() if core.options[k].firm in firms}
    return LpStart(None, rounded, bound)


def evaluate(model: Model, chosen: dict[int, int], time_limit: float,
             workers: int) -> Incumbent | None:
    """The model's own value of an assignment (item -> option), or None if it breaks one of
    the model's rules: every assignment variable fixed, CP-SAT only computes the rest."""
    x = [False] * len(model.x)
    for k in chosen.values():
        x[k] = True
    unassigned = [i not in chosen for i in range(len(model.unassigned))]
    _fix_all_but(model, Incumbent(x, unassigned, 0.0), set(), [v.index for v in model.x],
                 [v.index for v in model.unassigned])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.fix_variables_to_their_hinted_value = True
    status = solver.solve(model.cp)
    model.cp.clear_hints()
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return _values(solver, model)
    return None
