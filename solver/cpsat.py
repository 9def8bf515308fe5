"""One CP-SAT search of a model (solver.model), as every strategy runs it.

The time limit comes from the budget, the workers and the seed from the options; a hint seeds
the search (best effort); each better solution of a model whose solutions are plans is
reported (solver.progress); a watcher thread honours the stop flag while CP-SAT runs.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from . import lns, rules
from .budget import Budget
from .model import Model
from .progress import DETAIL_EVERY, details
from .schedule import Placement
from .types import Progress, SolveOptions


@dataclass(frozen=True)
class Run:
    """What one CP-SAT search left behind."""

    status: int
    values: dict | None  # the best solution: "x", "start", "face", "unassigned"
    bound: float | None  # euros: CP-SAT's bound holds even when it found no solution
    objective: float | None  # euros
    first_at: float | None = None  # seconds into the solve of the first solution


def run(model: Model, clock: Budget, options: SolveOptions, phase: str | None,
        hint: Placement | lns.Incumbent | None, time_limit: float,
        prove: bool = False, cancel: threading.Event | None = None,
        first_plan: bool = False) -> Run:
    """One CP-SAT solve of `model` for at most `time_limit` seconds, reported as `phase`
    (None: a relaxation, whose solutions are not plans). A `prove` run or one of the exact
    model uses the full LP on one worker; `cancel` stops it at once. A `first_plan` run (the
    one that may give the first plan at all) stops `grace` seconds after the stop flag, as
    the first plan's other steps do (Budget.out_of_time), the others at once."""
    model.cp.clear_hints()
    if hint is not None:
        _add_hint(model, hint)
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.05, time_limit)
    params.num_workers = max(1, options.workers)
    params.random_seed = options.seed
    if model.exact or prove:
        # the full LP (with the cumulative and precedence cuts) is what proves small rollouts
        # optimal, on one worker: several times faster on these models than interleaving two
        # (which also stopped early with a hint, on 9.15). A second core runs the other of
        # the relaxation and the exact model (strategies.exact)
        params.num_workers = 1
        params.linearization_level = 2
        if model.exact:
            # branching on the LP's values: faster proofs than the default branching on most
            # generated 13x8x20 rollouts (seeds 0-15, docs/benchmarks.md)
            params.search_branching = params.LP_SEARCH
    elif options.workers > 1 and options.deterministic:
        params.interleave_search = True  # the same plan for the same seed and worker count
    callback = _Reporter(model, clock, phase, options)
    done = threading.Event()
    stopped = clock.out_of_time if first_plan else clock.stopped
    watcher = threading.Thread(target=watch_stop, args=(solver, clock, done, cancel, stopped),
                               daemon=True)
    watcher.start()
    try:
        status = solver.solve(model.cp, callback)
    finally:
        done.set()
        watcher.join()
    values = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = {"x": [solver.boolean_value(v) for v in model.x],
                  "start": {k: solver.value(v) for k, v in model.start.items()},
                  "face": {key: solver.boolean_value(v) for key, v in model.face.items()},
                  "unassigned": [solver.boolean_value(v) for v in model.unassigned]}
    bound = (whole_cents(solver.best_objective_bound) / 100
             if status != cp_model.INFEASIBLE else None)
    if bound is not None and not math.isfinite(bound):
        bound = None
    objective = round(solver.objective_value) / 100 if values is not None else None
    return Run(status, values, bound, objective, callback.first_at)


def watch_stop(solver: cp_model.CpSolver, clock: Budget, done: threading.Event,
               cancel: threading.Event | None, stopped: Callable[[], bool]) -> None:
    """Until `done`: honour the stop flag (polled every tenth of a second) while CP-SAT
    runs, and a cancel (another search has made this one pointless) within a hundredth. The
    stop is asked again at every poll: one asked before CP-SAT has started is not kept."""
    polls = 0
    while not done.wait(0.1 if cancel is None else 0.01):
        polls += 1
        if (cancel is not None and cancel.is_set()) or (
                (cancel is None or polls % 10 == 0) and stopped()):
            solver.stop_search()


def whole_cents(bound: float) -> float:
    """CP-SAT's bound of an objective of whole cents, as whole cents: the float it reports
    may sit a hair above the integer it proves (38000.00000000002)."""
    return math.ceil(bound - 1e-6) if math.isfinite(bound) else bound


def _add_hint(model: Model, hint: Placement | lns.Incumbent) -> None:
    if isinstance(hint, lns.Incumbent):
        for var, value in zip(model.x, hint.x, strict=True):
            model.cp.add_hint(var, value)
        for var, value in zip(model.unassigned, hint.unassigned, strict=True):
            model.cp.add_hint(var, value)
        return
    chosen = {option.index for option in hint.chosen.values()}
    for k, var in enumerate(model.x):
        model.cp.add_hint(var, k in chosen)
    for i, var in enumerate(model.unassigned):
        model.cp.add_hint(var, i not in hint.chosen)
    for i, option in hint.chosen.items():
        if option.index in model.start:
            model.cp.add_hint(model.start[option.index], hint.start[i])


class _Reporter(cp_model.CpSolverSolutionCallback):
    """Reports each better solution of a model whose solutions are plans; a relaxation's
    (phase None) are not, so they only count for the time to the first solution."""

    def __init__(self, model: Model, clock: Budget, phase: str | None,
                 options: SolveOptions):
        super().__init__()
        self.model, self.clock, self.phase, self.options = model, clock, phase, options
        self.first_at: float | None = None
        self.detailed_at = -math.inf

    def on_solution_callback(self) -> None:
        if self.first_at is None:
            self.first_at = self.clock.elapsed()
        if self.options.on_progress and self.phase is not None:
            described = {}
            now = time.monotonic()
            # reading every option's value costs time on large masters: at most every
            # DETAIL_EVERY seconds there, at every solution of the (small) exact model
            if self.model.exact or now - self.detailed_at >= DETAIL_EVERY:
                self.detailed_at = now
                core = self.model.core
                chosen = {core.options[k].item: core.options[k]
                          for k, var in enumerate(self.model.x) if self.boolean_value(var)}
                terms = None
                if self.model.exact:  # the master has no days: its plan is not yet one
                    start = {option.item: self.value(self.model.start[option.index])
                             for option in chosen.values()}
                    terms = rules.euros(rules.plan_cents(core, chosen, start))
                described = details(chosen.values(), terms)
            self.options.on_progress(Progress(
                objective=round(self.objective_value) / 100,
                bound=whole_cents(self.best_objective_bound) / 100,
                elapsed=self.clock.elapsed(), phase=self.phase, **described))
