"""The assignment master's LP relaxation (GLOP through MathOpt, as solver.columns): a proven
bound of the whole problem (with the Lagrangian over sites of solver.bound) and a first plan
near the LP optimum, completed by CP-SAT; and the model's own value of a given assignment.
`run_glop` is the GLOP call of this LP and of the firm patterns' master."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model
from ortools.util.python.solve_interrupter import SolveInterrupter

from . import lns, rules
from .bound import site_bound
from .lns import Incumbent, fix_all_but, incumbent_of
from .model import SCALE, Model, coefficients
from .stopping import watching

log = logging.getLogger(__name__)


@dataclass
class AssignmentLp:
    """The LP relaxation of the assignment master, built (MathOpt; solved by GLOP)."""

    model: mathopt.Model
    x: list[mathopt.Variable]  # per option: its share of the item
    unassigned: list[mathopt.Variable]  # per item: the part left unassigned
    item_rows: list[mathopt.LinearConstraint]  # per item: its options and u sum to one
    # (firm, [(option, energy)], hours available, row) of each energy window
    windows: list[tuple[int, list, int, mathopt.LinearConstraint]]


def assignment_lp(model: Model) -> AssignmentLp:
    """The LP relaxation of the assignment master: one firm per item (none for a locked or
    required item), dependencies, energy windows; the objective of the x and u variables
    and the model's constant."""
    core = model.core
    lp = mathopt.Model(name="assignment master")
    coef = coefficients(model)
    xs = [lp.add_variable(lb=0.0, ub=0.0 if k in model.forbidden else 1.0)
          for k in range(len(model.x))]
    us = [lp.add_variable(lb=0.0, ub=1.0) for _ in model.unassigned]
    must = set(core.must_assign())
    item_rows = [rules.lp_one_option(lp, [xs[k] for k in ks], us[i], i in must,
                                     name=f"item[{i}]")
                 for i, ks in enumerate(core.by_item)]
    for j, preds in enumerate(core.preds):
        for p in preds:
            rules.lp_needs_dependency(lp, us[p], us[j])
    windows = []
    for firm, inside, available in rules.energy_windows(core, model.forbidden):
        row = rules.lp_energy(lp, [(float(energy), xs[k]) for k, energy in inside], available)
        windows.append((firm, inside, available, row))
    for k, var in enumerate(model.x):
        lp.objective.set_linear_coefficient(xs[k], coef.get(var.index, 0))
    for i, var in enumerate(model.unassigned):
        lp.objective.set_linear_coefficient(us[i], coef.get(var.index, 0))
    lp.objective.offset = float(sum(model.constant.values()))
    lp.objective.is_maximize = False
    return AssignmentLp(lp, xs, us, item_rows, windows)


def solve_lp(lp: AssignmentLp, seconds: float,
             stopped: Callable[[], bool] | None = None) -> mathopt.SolveResult | None:
    """GLOP on the LP for at most `seconds`, interrupted when `stopped()`: its optimal
    result, or None."""
    return run_glop(functools.partial(mathopt.solve, lp.model, mathopt.SolverType.GLOP),
                    seconds, stopped)


def run_glop(solve: Callable[..., mathopt.SolveResult], seconds: float,
             stopped: Callable[[], bool] | None = None,
             model_params: mathopt.ModelSolveParameters | None = None,
             **settings) -> mathopt.SolveResult | None:
    """One GLOP solve by `solve` (`mathopt.solve` bound to a model, or an
    `IncrementalSolver`'s) for at most `seconds`, interrupted when `stopped()`, with the
    other `settings` of mathopt.SolveParameters: its optimal result, or None, also when GLOP
    ends abnormally."""
    interrupter = SolveInterrupter()
    params = mathopt.SolveParameters(time_limit=dt.timedelta(seconds=max(0.0, seconds)),
                                     **settings)
    try:
        with watching(interrupter.interrupt, stopped):
            result = solve(params=params, model_params=model_params, interrupter=interrupter)
    except RuntimeError:
        # MathOpt raises GLOP's ABNORMAL end as a RuntimeError (seen in the firm patterns'
        # dives on the generated GAP d20200-s0)
        log.debug("GLOP ended abnormally", exc_info=True)
        return None
    except AttributeError as error:
        # ortools 9.15 fails while converting that error and raises this instead
        # (pybind11_abseil's StatusNotOk has no `canonical_code`); any other is a bug
        if "canonical_code" not in str(error):
            raise
        log.debug("GLOP ended abnormally", exc_info=True)
        return None
    if result.termination.reason != mathopt.TerminationReason.OPTIMAL:
        return None
    return result


def assignment_prices(model: Model, seconds: float,
                      stopped: Callable[[], bool] | None = None) -> list[float] | None:
    """The item rows' duals of the assignment LP, or None when it is not solved within
    `seconds` or `stopped()` interrupts it."""
    lp = assignment_lp(model)
    solved = solve_lp(lp, seconds, stopped)
    return None if solved is None else solved.dual_values(lp.item_rows)


@dataclass
class LpStart:
    incumbent: Incumbent | None  # a complete assignment, if CP-SAT completed the LP in time
    rounded: dict[int, int]  # item -> option: each item's largest LP value
    bound: float | None  # the LP optimum (cents): a lower bound of the whole problem
    prices: list[float] | None = None  # the item rows' duals (the firm patterns' seed)


def lp_start(model: Model, completion: Callable[[], float], workers: int, seed: int, *,
             lp_seconds: Callable[[], float], target: float | None = None,
             bound_seconds: float = 1.0,
             attempt: Callable[[float], float],
             stopped: Callable[[], bool] | None = None) -> LpStart:
    """A first plan near the LP optimum: solve the LP relaxation of the assignment (GLOP),
    keep the items it assigns wholly to one firm, and let CP-SAT place the others. Also
    returns the LP rounded (each item to its largest option, item -> option) for when CP-SAT
    does not complete it in time, and a lower bound (cents) of the whole problem when no
    option is forbidden or pruned; `target` (cents), a known plan's value, steers it and
    `bound_seconds` limits its search. The LP, once built, may be solved and bounded for
    `lp_seconds()`; CP-SAT then gets `completion()` seconds, asked once the LP is solved
    (each asked when its step starts, so that a slow step before it does not eat its time,
    nor a step run past the solve's limit): on a separable model first on the free
    items alone (complete_apart, given all of that time), then on the whole model in up to
    three tries, each given `attempt(seconds left)`."""
    core = model.core
    started = time.monotonic()
    lp = assignment_lp(model)
    built = time.monotonic()
    # asked once built (3-4 s for an 80x1600 GAP), as the completion's time is once solved
    window = lp_seconds()
    if window < 0.1:
        return LpStart(None, {}, None)
    solved = solve_lp(lp, window, stopped)
    if solved is None or (stopped is not None and stopped()):
        return LpStart(None, {}, None)
    bound = solved.objective_value()
    item_prices = solved.dual_values(lp.item_rows)
    lagrangian_seconds = min(bound_seconds, window - (time.monotonic() - built))
    if not model.forbidden and not core.pruned_options and lagrangian_seconds > 0.05:
        # the LP's window prices start a Lagrangian bound that also counts continuity and
        # fairness (solver.bound); it holds for the whole problem, like the LP's
        duals = solved.dual_values([row for *_, row in lp.windows])
        prices = [max(0.0, -dual) / SCALE for dual in duals]
        lagrangian = site_bound(core, [w[:3] for w in lp.windows], prices,
                                None if target is None else target / SCALE,
                                lagrangian_seconds, stopped)
        bound = max(bound, lagrangian * SCALE)
    log.debug("lp: built in %.2fs, solved in %.2fs", built - started, time.monotonic() - built)
    time_limit = completion()
    completing = time.monotonic()
    x_values = solved.variable_values(lp.x)
    u_values = solved.variable_values(lp.unassigned)
    whole, rounded, largest = {}, {}, {}
    for k, value in enumerate(x_values):
        item = core.options[k].item
        if value > 1 - 1e-6:
            whole[item] = k
        if value > largest.get(item, 1e-6) and value >= u_values[item]:
            largest[item], rounded[item] = value, k
    guess = Incumbent([False] * len(model.x), [False] * len(model.unassigned), 0.0)
    for k in whole.values():
        guess.x[k] = True
    free = set(range(len(core.items))) - set(whole)
    if time_limit <= 0.05:
        return LpStart(None, rounded, bound, item_prices)
    if lns.separable(model):
        # all of the completion's time: the small model is quick when it can be, and the
        # whole model's tries after it would not be quicker
        completed = complete_apart(model, guess, free, time_limit, seed, stopped,
                                   windows=[w[:3] for w in lp.windows])
        if completed is not None:
            return LpStart(completed, rounded, bound, item_prices)
    for _ in range(3):
        left = time_limit - (time.monotonic() - completing)
        if left <= 0.05 or (stopped is not None and stopped()):
            return LpStart(None, rounded, bound, item_prices)
        completed = complete(model, guess, free, attempt(left), workers, seed, stopped)
        if completed is not None:
            return LpStart(completed, rounded, bound, item_prices)
        # free the items of every firm that shares a free item, and try again
        firms = {core.options[k].firm for i in free for k in core.by_item[i]}
        free |= {i for i, k in whole.items() if core.options[k].firm in firms}
    return LpStart(None, rounded, bound, item_prices)


def complete_apart(model: Model, guess: Incumbent, free: set[int], time_limit: float,
                   seed: int, stopped: Callable[[], bool] | None = None,
                   windows: list | None = None) -> Incumbent | None:
    """On a separable model (solver.lns): the `free` items as a small CP-SAT model of their
    own (lns.Parts) against the rest fixed where `guess` has it, much faster than presolving
    the whole model (a 60x900 GAP's master has 54,000 options): the best completion within
    `time_limit`, or None when it finds none. `windows`: the model's energy windows, when
    the caller has them (the LP's)."""
    chosen = {model.core.options[k].item for k, on in enumerate(guess.x) if on}
    start = Incumbent(list(guess.x), [i not in chosen for i in range(len(model.unassigned))],
                      0.0)
    parts = lns.Parts(model, start, coefficients(model), windows)
    if not parts.fixed_part_holds():  # the LP has no site rows: its whole items may break one
        return None
    start.objective = parts.value()
    _, change = parts.solve(free, max(0.05, time_limit), seed, stopped, anything=True)
    return None if change is None else parts.apply(change)


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
