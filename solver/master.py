"""The assignment master's LP relaxation (GLOP): a proven bound of the whole problem (with
the Lagrangian over sites of solver.bound) and a first plan near the LP optimum, completed
by CP-SAT; and the model's own value of a given assignment."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.linear_solver import pywraplp
from ortools.sat.python import cp_model

from .bound import site_bound
from .lns import Incumbent, fix_all_but, incumbent_of
from .model import SCALE, Model, coefficients, energy_windows
from .stopping import watching

log = logging.getLogger(__name__)


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
    for i in core.must_assign():
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
    prices: list[float] | None = None  # the item rows' duals (the firm patterns' seed)


def lp_start(model: Model, time_limit: float, workers: int, seed: int,
             target: float | None = None, bound_seconds: float = 1.0,
             lp_seconds: float | None = None,
             stopped: Callable[[], bool] | None = None) -> LpStart:
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
    with watching(lp.InterruptSolve, stopped):
        solved = lp.Solve()
    if solved != pywraplp.Solver.OPTIMAL or (stopped is not None and stopped()):
        return LpStart(None, {}, None)
    bound = lp.Objective().Value()
    rows = lp.constraints()
    item_prices = [rows[i].dual_value() for i in range(len(core.items))]  # made first
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
        if left <= 0.05 or (stopped is not None and stopped()):
            return LpStart(None, rounded, bound, item_prices)
        completed = complete(model, guess, free, left / 2, workers, seed, stopped)
        if completed is not None:
            return LpStart(completed, rounded, bound, item_prices)
        # free the items of every firm that shares a free item, and try again
        firms = {core.options[k].firm for i in free for k in core.by_item[i]}
        free |= {i for i, k in whole.items() if core.options[k].firm in firms}
    return LpStart(None, rounded, bound, item_prices)


def evaluate(model: Model, chosen: dict[int, int], time_limit: float,
             workers: int, seed: int,
             stopped: Callable[[], bool] | None = None) -> Incumbent | None:
    """The model's own value of an assignment (item -> option), or None if it breaks one of
    the model's rules: every assignment variable fixed, CP-SAT only computes the rest."""
    x = [False] * len(model.x)
    for k in chosen.values():
        x[k] = True
    unassigned = [i not in chosen for i in range(len(model.unassigned))]
    return complete(model, Incumbent(x, unassigned, 0.0), set(), max(0.1, time_limit),
                    workers, seed, stopped)


def complete(model: Model, guess: Incumbent, free: set[int], time_limit: float,
             workers: int, seed: int,
             stopped: Callable[[], bool] | None = None) -> Incumbent | None:
    """CP-SAT on the whole model with every item outside `free` fixed where `guess` has it
    (hints fixed by `fix_variables_to_their_hinted_value`): the best completion within
    `time_limit`, or None when it finds none."""
    fix_all_but(model, guess, free, [v.index for v in model.x],
                [v.index for v in model.unassigned])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    solver.parameters.fix_variables_to_their_hinted_value = True
    with watching(solver.stop_search, stopped):
        status = solver.solve(model.cp)
    model.cp.clear_hints()
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return incumbent_of(solver, model)
    return None
