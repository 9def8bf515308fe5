"""The entry point: `solve(problem, options) -> Result`, for the product and the benchmarks.

Small problems get one exact CP-SAT model (firms and days together), proven optimal when time
allows. Larger ones are decomposed: CP-SAT assigns firms under relaxed (energy) capacity, the
list scheduler places the items on days, and options it cannot place are forbidden before the
next round. The greedy plan is the first plan and the hint (hints are best effort).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from . import columns, firm_patterns, lns, master, report, rules, sites
from .budget import Budget
from .check import check
from .instance import Plan
from .model import Model, build, coefficients, energy_windows
from .prepare import Core, Interrupted, item_name, prepare
from .schedule import Placement, face_firms, fill, greedy, rebalance, regret, schedule
from .types import Problem, Progress, Result, SolveOptions

EXACT_MAX_OPTIONS = 800  # above this, one model with every option's days is too slow
MAX_OPTIONS_PER_ITEM = 20  # kept per item (the cheapest) once a problem has PRUNE_ABOVE options
PRUNE_ABOVE = 250_000
DETAIL_EVERY = 0.25  # seconds between two progress reports that describe the plan
HALF_CENT = 0.005  # euros: objectives are whole cents, so a bound this close proves optimality
BOUND_NOISE = 1e-7  # relative: a float bound this far above a plan's objective is noise
DOUBLE_NOISE = 1e-6  # euros: a bound this close above a plan is its objective in doubles


@dataclass
class _Run:
    """What one CP-SAT solve left behind."""

    status: int
    values: dict | None  # var index -> value of the best solution
    bound: float | None
    objective: float | None


class _Progress(cp_model.CpSolverSolutionCallback):
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
            details = {}
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
                details = _details(chosen.values(), terms)
            self.options.on_progress(Progress(
                objective=round(self.objective_value) / 100,
                bound=_whole_cents(self.best_objective_bound) / 100,
                elapsed=self.clock.elapsed(), phase=self.phase, **details))


def _watch_stop(solver: cp_model.CpSolver, clock: Budget, done: threading.Event,
                cancel: threading.Event | None, stopped: Callable[[], bool]) -> None:
    """Honour the stop flag (polled every tenth of a second) while CP-SAT runs, and a
    cancel (another solve has made this one pointless) within a hundredth. The stop is
    asked again at every poll: one asked before CP-SAT has started is not kept."""
    polls = 0
    while not done.wait(0.1 if cancel is None else 0.01):
        polls += 1
        if (cancel is not None and cancel.is_set()) or (
                (cancel is None or polls % 10 == 0) and stopped()):
            solver.stop_search()


def _run(model: Model, clock: Budget, options: SolveOptions, phase: str | None,
         hint: Placement | lns.Incumbent | None, time_limit: float,
         prove: bool = False, cancel: threading.Event | None = None,
         first_plan: bool = False) -> tuple[_Run, float | None]:
    """One CP-SAT solve of `model` for at most `time_limit` seconds. A `first_plan` run (the
    one that may give the first plan at all) stops `grace` seconds after the stop flag, as the
    first plan's other steps do (Budget.out_of_time), the others at once."""
    cp = model.cp
    cp.clear_hints()
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
        # the relaxation and the exact model (_exact_beside_relaxation)
        params.num_workers = 1
        params.linearization_level = 2
        if model.exact:
            # branching on the LP's values: faster proofs than the default branching on most
            # generated 13x8x20 rollouts (seeds 0-15, docs/benchmarks.md)
            params.search_branching = params.LP_SEARCH
    elif options.workers > 1 and options.deterministic:
        params.interleave_search = True  # the same plan for the same seed and worker count
    callback = _Progress(model, clock, phase, options)
    done = threading.Event()
    stopped = clock.out_of_time if first_plan else clock.stopped
    watcher = threading.Thread(target=_watch_stop, args=(solver, clock, done, cancel, stopped),
                               daemon=True)
    watcher.start()
    try:
        status = solver.solve(cp, callback)
    finally:
        done.set()
        watcher.join()
    values = None
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        values = {"x": [solver.boolean_value(v) for v in model.x],
                  "start": {k: solver.value(v) for k, v in model.start.items()},
                  "face": {key: solver.boolean_value(v) for key, v in model.face.items()},
                  "unassigned": [solver.boolean_value(v) for v in model.unassigned]}
    # CP-SAT's bound holds even when it found no solution in time
    bound = (_whole_cents(solver.best_objective_bound) / 100
             if status != cp_model.INFEASIBLE else None)
    if bound is not None and not math.isfinite(bound):
        bound = None
    objective = round(solver.objective_value) / 100 if values is not None else None
    return _Run(status, values, bound, objective), callback.first_at


def _whole_cents(bound: float) -> float:
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


def _placement_from_exact(core: Core, values: dict) -> Placement:
    placement = Placement()
    for k, taken in enumerate(values["x"]):
        if taken:
            option = core.options[k]
            placement.chosen[option.item] = option
            placement.start[option.item] = values["start"][k]
    return placement


def solve(problem: Problem, options: SolveOptions | None = None) -> Result:
    """Plan the problem; raise ProblemError on bad input, never on an infeasible one."""
    options = options or SolveOptions()
    clock = Budget(options.time_limit, options.should_stop, options.grace)
    try:
        core = prepare(problem, max_options_per_item=MAX_OPTIONS_PER_ITEM,
                       prune_above=PRUNE_ABOVE, stopped=clock.out_of_time)
    except Interrupted:
        return _out_of_time(clock)
    if core.infeasible:
        return _infeasible(core, clock, core.infeasible)
    constructing = time.monotonic()
    first = greedy(core, stopped=clock.out_of_time)
    took = time.monotonic() - constructing
    if clock.out_of_time() or (took > clock.grace
                               and (clock.stopped() or clock.left() < took)):
        # no time for the rest of the first plan (regret, filling, rebalancing: about as
        # long again as the greedy plan took)
        return _first_plan_only(core, clock, options, first)
    # With one working day the master's energy rule is the exact capacity: no intervals needed.
    exact = options.mode == "exact" or (
        options.mode == "auto" and core.horizon > 1 and len(core.options) <= EXACT_MAX_OPTIONS)
    if exact:
        return _solve_exact(core, clock, options, first)
    return _solve_decomposed(core, clock, options, first)


def _solve_exact(core: Core, clock: Budget, options: SolveOptions,
                 greedy_plan: Placement) -> Result:
    """The relaxation first (its optimum placed on days may prove itself optimal at once),
    then the exact model. With two or more workers both start together, one core each: the
    exact model without a hint, the relaxation's answer taken when it proves optimality.
    Either way the result depends only on the seed, not on which finishes first."""
    if options.workers > 1 and _cores() > 1:
        return _exact_beside_relaxation(core, clock, options, greedy_plan,
                                        build(core, exact=True))
    proven, placed = _proven_by_relaxation(core, clock, options, greedy_plan)
    if proven is not None:
        return proven  # the exact model is not even built
    hint = _better(core, greedy_plan, placed)
    model = build(core, exact=True)
    ready_at = clock.elapsed()
    run, first_at = _run(model, clock, options, "exact", hint, _proving_time(core, clock))
    return _from_exact(core, clock, options, run, first_at, hint, ready_at)


def _exact_beside_relaxation(core: Core, clock: Budget, options: SolveOptions,
                             greedy_plan: Placement, model: Model) -> Result:
    # the exact model without a hint: a poor hint (the greedy plan, or the relaxed optimum
    # repaired on days) slowed its proof on generated rollouts (docs/benchmarks.md)
    ready_at = clock.elapsed()
    one_core = replace(options, workers=1)
    cancel = threading.Event()
    exact: dict = {}

    def run_exact() -> None:
        try:
            exact["run"] = _run(model, clock, one_core, "exact", None,
                                _proving_time(core, clock), cancel=cancel)
        except BaseException as error:  # re-raised below, in the caller's thread
            exact["error"] = error

    worker = threading.Thread(target=run_exact, daemon=True)
    worker.start()
    try:
        proven, placed = _proven_by_relaxation(core, clock, one_core, greedy_plan,
                                               on_proof=cancel.set)
        placed_at = clock.elapsed()
        worker.join()
    except BaseException:  # an error, or an interrupt while waiting: no search left behind
        cancel.set()
        worker.join()
        raise
    if "error" in exact:
        raise exact["error"]
    run, first_at = exact["run"]
    if proven is not None:
        # the exact model may have found (and reported) plans before the proof
        if first_at is not None and proven.time_to_first_plan is not None:
            proven = replace(proven, time_to_first_plan=min(first_at,
                                                            proven.time_to_first_plan))
        return proven
    fallback = _better(core, greedy_plan, placed)
    return _from_exact(core, clock, options, run, first_at, fallback,
                       placed_at if fallback is placed else ready_at)


def _cores() -> int:
    """The cores this process may run on (two solves on one core would only slow both)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _proving_time(core: Core, clock: Budget) -> float:
    # most of the time to prove; what an unproven search leaves goes to the site search,
    # which improves a plan faster than one CP-SAT worker on the whole model
    return clock.seconds("exact, one day" if core.horizon == 1 else "exact")


def _better(core: Core, plan: Placement, other: Placement | None) -> Placement:
    """The cheaper of two plans (`other` may be missing)."""
    if other is not None and _value(core, other) < _value(core, plan):
        return other  # the relaxed optimum on days: usually near the optimum
    return plan


def _from_exact(core: Core, clock: Budget, options: SolveOptions, run: _Run,
                first_at: float | None, fallback: Placement, ready_at: float) -> Result:
    """The result of the exact model's run; `fallback`, a plan found before it, when the
    run ended before its first plan or found a worse one."""
    if core.pruned_options:  # a model of what pruning left proves nothing of the whole
        run = replace(run, bound=None, status=cp_model.FEASIBLE
                      if run.status == cp_model.OPTIMAL else run.status)
    if run.values is None:
        if not _is_valid(core, fallback):
            # the greedy plan may leave a firm below its share: bring it into its range
            fallback = _complete(core, fallback, clock.deadline("completing"))
        if _is_valid(core, fallback):
            # stopped or out of time before CP-SAT's first plan: the fallback is a plan (and
            # should the model say infeasible, a checked plan outweighs it)
            return _improved(core, clock, options, fallback,
                             run.bound if run.status != cp_model.INFEASIBLE else None, ready_at)
        return _no_plan(core, clock, run.status, restricted=False)
    placement = _placement_from_exact(core, run.values)
    if run.status == cp_model.OPTIMAL:
        return _result(core, clock, placement, _faces(run.values), "optimal", run.bound,
                       first_at, options, {"mode": 1.0},
                       fallback=fallback if _is_valid(core, fallback) else None)
    if _value(core, fallback) < _value(core, placement) and _is_valid(core, fallback):
        placement = fallback
    return _improved(core, clock, options, placement, run.bound, first_at)


def _improved(core: Core, clock: Budget, options: SolveOptions, placement: Placement,
              bound: float | None, first_at: float | None) -> Result:
    """The exact model's unproven plan after the search over sites, for the time left."""
    return _searched(core, clock, options, placement, _value(core, placement), bound,
                     first_at, {"mode": 1.0}, search=core.horizon > 1)


def _searched(core: Core, clock: Budget, options: SolveOptions, placement: Placement,
              value: float, bound: float | None, first_at: float | None, stats: dict,
              search: bool) -> Result:
    """The result of a plan worth `value`, after the search over sites for the time left
    (when `search`); optimal when it meets the proven bound."""
    if search and not clock.stopped():
        searched = sites.improve(core, placement, deadline=clock.finishing(),
                                 workers=options.workers, seed=options.seed,
                                 stopped=clock.stopped, stats=stats,
                                 on_better=_falling(core, options, clock, value, bound))
        if _value(core, searched) < value and _is_valid(core, searched):
            placement = searched
    result = _result(core, clock, placement, {}, "feasible", bound, first_at, options, stats)
    if result.status == "feasible" and result.bound is not None \
            and "clipped_bound" not in result.stats \
            and result.objective - result.bound < HALF_CENT:
        result = replace(result, status="optimal")
    return result


def _proven_by_relaxation(core: Core, clock: Budget, options: SolveOptions,
                          hint: Placement, on_proof: Callable[[], object] | None = None
                          ) -> tuple[Result | None, Placement | None]:
    """Solve the assignment master (capacity as energy, no days: a relaxation) and place its
    answer on days: (the optimal result, None) when that plan meets the master's proven
    optimum, else (None, that plan repaired and completed, or None without an answer).
    `on_proof` is called as soon as the plan is known optimal, before its report is built."""
    model = build(core, exact=False)
    run, _ = _run(model, clock, options, None, hint,
                  clock.seconds("relaxation"), prove=True, first_plan=True)
    if run.values is None:
        return None, None
    chosen = {core.options[k].item: core.options[k] for k, on in enumerate(run.values["x"])
              if on}
    placement = schedule(core, chosen)
    value = _value(core, placement)
    if (run.status == cp_model.OPTIMAL and run.bound is not None and not placement.failed
            and len(placement.chosen) == len(chosen)
            and value - run.bound < HALF_CENT and _is_valid(core, placement)
            and not core.pruned_options):
        if on_proof is not None:
            on_proof()
        return _result(core, clock, placement, {}, "optimal", run.bound, clock.elapsed(),
                       options, {"mode": 1.0, "proof": 1.0}), None
    placed = _complete(core, schedule(core, chosen, repair=True), clock.deadline("completing"))
    return None, placed if _is_valid(core, placed) else None


def _faces(values: dict) -> dict[int, int]:
    """The face firm of each site the model chose (lead policy); others are derived."""
    return {site: firm for (site, firm), taken in values["face"].items() if taken}


def _solve_decomposed(core: Core, clock: Budget, options: SolveOptions,
                      calendar_greedy: Placement) -> Result:
    """Assign (LP start, CP-SAT, LNS), place on days (repairing what does not fit), forbid
    what could not be placed, repeat. Every candidate plan passes the independent checker
    before it is kept; the best one is returned."""
    forbidden: set[int] = set()
    hint = _complete(core, _best_start(core, calendar_greedy), clock.deadline("first plan"))
    # time kept for placing items on days (one-day problems place trivially), then for the
    # search over sites with days
    site_time = 0.0 if core.horizon == 1 else clock.seconds("site search")
    reserve = site_time + clock.seconds(
        "lns reserve, one day" if core.horizon == 1 else "lns reserve")
    best: Placement | None = None
    best_value = float("inf")
    first_at = None
    bound = None
    if _is_valid(core, hint):
        best, best_value, first_at = hint, _value(core, hint), clock.elapsed()
        _report(options, clock, best_value, None, "first plan", core, hint)
    if clock.left() <= 0 or clock.out_of_time():  # the first plans took the time
        return _first_plan_only(core, clock, options, best or calendar_greedy)
    patterns = None
    if _by_sites(core):
        patterns, bound = _from_columns(core, clock, options, best)
        value = _value(core, patterns) if patterns is not None else math.inf
        if value < best_value:
            best, best_value = patterns, value
            first_at = clock.elapsed() if first_at is None else first_at
            hint = patterns
            _report(options, clock, best_value, bound, "columns", core, patterns)
    rounds = 0
    # the assignment master's rounds: when the site patterns gave no plan, or on one day,
    # where no search over sites follows (the master's capacity is then exact)
    while ((patterns is None or core.horizon == 1)
           and clock.left() > site_time + clock.seconds("round margin")
           and not clock.stopped() and rounds < 6):
        rounds += 1
        model = build(core, exact=False, forbidden=forbidden)
        # the LP is the first plan's guide and the proven bound: it may take half the time
        # left (it stops when solved, in about a second for a thousand sites)
        start = master.lp_start(model, clock.seconds("lp start"), options.workers, options.seed,
                             target=best_value * 100 if best is not None else None,
                             bound_seconds=clock.seconds("lagrangian"),
                             lp_seconds=clock.seconds("lp"), stopped=clock.stopped)
        incumbent, rounded = start.incumbent, start.rounded
        if rounds == 1 and start.bound is not None and not core.pruned_options:
            # the master's LP or Lagrangian: a bound of the whole
            bound = max(bound if bound is not None else -math.inf, start.bound / 100)
        if incumbent is not None:
            early = _place(core, incumbent, clock.deadline("placing"))
        else:  # CP-SAT did not complete the LP in time: place the rounded LP, repairing
            early = _complete(core, schedule(
                core, {i: core.options[k] for i, k in rounded.items()}, repair=True),
                clock.deadline("placing"))
        early_value = _value(core, early)
        if early_value < best_value and _is_valid(core, early):
            best, best_value = early, early_value
            first_at = clock.elapsed() if first_at is None else first_at
        if incumbent is None and best is not None:
            incumbent = master.evaluate(model, {i: o.index for i, o in best.chosen.items()
                                             if o.index not in forbidden},
                                     clock.seconds("evaluate"), options.workers, options.seed,
                                     clock.stopped)
        if rounds == 1:
            incumbent, dived = _dive(core, model, clock, options, incumbent, bound,
                                     best_value, start.prices)
            if dived is not None:
                bound = max(bound if bound is not None else dived, dived)
        run, _ = _run(model, clock, options, f"assign round {rounds}", incumbent or hint,
                      clock.seconds("assign round"))
        if run.values is not None and (incumbent is None
                                       or run.objective * 100 < incumbent.objective):
            incumbent = lns.Incumbent(run.values["x"], run.values["unassigned"],
                                      run.objective * 100)
        if rounds == 1 and run.bound is not None and not core.pruned_options:
            # forbidding options later only raises the master's bound: keep the first round's
            bound = max(bound if bound is not None else run.bound, run.bound)
        if incumbent is None:
            if run.status == cp_model.INFEASIBLE and best is None:
                return _no_plan(core, clock, run.status, restricted=bool(forbidden))
            break
        if run.status != cp_model.OPTIMAL:
            incumbent = lns.improve(
                model, incumbent, deadline=lambda: clock.left() - reserve,
                workers=options.workers, seed=options.seed, stopped=clock.stopped,
                on_better=_reporter(core, clock, options,
                                     bound if bound is not None else run.bound, rounds))
        chosen = _chosen(core, incumbent)
        placement = _complete(core, schedule(core, chosen, repair=True),
                              clock.deadline("placing a round"))
        value = _value(core, placement)
        if value < best_value and _is_valid(core, placement):
            best, best_value = placement, value
            first_at = clock.elapsed() if first_at is None else first_at
        if not placement.failed and all(chosen[i] is placement.chosen.get(i) for i in chosen):
            break
        forbidden |= {chosen[i].index for i in chosen
                      if placement.chosen.get(i) is not chosen[i]}
        hint = placement
    if best is None:
        return _no_plan(core, clock, cp_model.UNKNOWN, restricted=True)
    return _searched(core, clock, options, best, best_value, bound, first_at,
                     {"mode": 2.0, "rounds": float(rounds)}, search=bool(site_time))


def _dive(core: Core, model: Model, clock: Budget, options: SolveOptions,
          incumbent: lns.Incumbent | None, bound: float | None, best_value: float,
          prices: list[float] | None) -> tuple[lns.Incumbent | None, float | None]:
    """On a one-day problem shaped like the GAP: column generation over firm patterns and
    its dives, from the incumbent's patterns. The better incumbent, and the patterns' bound
    of the whole problem (euros; None when they do not apply, found none, or options were
    pruned, when it bounds only what is left)."""
    if core.horizon != 1 or clock.stopped():
        return incumbent, None
    coef = coefficients(model)
    seconds = clock.seconds("dive")
    if not firm_patterns.applies(model, coef) or not firm_patterns.affordable(model, seconds):
        return incumbent, None
    start = None if incumbent is None else {
        i: option.index for i, option in _chosen(core, incumbent).items()}
    found = firm_patterns.dive(model, coef, start, seconds, clock.stopped, options.seed,
                               prices)
    dived = None
    if found.bound is not None and not core.pruned_options:
        dived = found.bound / 100
    if found.chosen is not None:
        plan = master.evaluate(model, found.chosen, clock.seconds("dive plan"), options.workers,
                               options.seed, clock.stopped)
        if plan is not None and (incumbent is None or plan.objective < incumbent.objective):
            incumbent = plan
            if plan.objective / 100 < best_value:
                best_bound = max(b for b in (bound, dived, -math.inf) if b is not None)
                _report(options, clock, plan.objective / 100,
                        best_bound if math.isfinite(best_bound) else None, "firm patterns",
                        model.core, plan)
    return incumbent, dived


def _by_sites(core: Core) -> bool:
    """Whether the problem falls apart into many small sites (column generation prices
    each site exactly); a one-site problem such as the GAP does not."""
    sizes = [len(items) for items in core.site_items if items]
    return len(sizes) > 1 and sum(sizes) <= columns.EXACT_ITEMS * len(sizes)


def _from_columns(core: Core, clock: Budget, options: SolveOptions,
                  start: Placement | None) -> tuple[Placement | None, float | None]:
    """Column generation over site patterns: the LP's mix rounded to a plan (each site's
    heaviest pattern), placed on days and completed, or None when that plan breaks a rule;
    and its bound of the whole problem (None when options were pruned)."""
    seconds = clock.seconds("columns")
    known = {i: o.index for i, o in start.chosen.items()} if start is not None else None

    def stopped() -> bool:
        # the stop flag, or the solve's whole time gone: setting up the master of 5,000
        # sites takes seconds, more than a first plan found near the limit leaves
        return clock.stopped() or clock.left() <= 0

    windows = []
    for window in energy_windows(core):
        windows.append(window)
        if len(windows) % 64 == 0 and stopped():
            return None, None
    found = columns.column_bound(core, windows, known, seconds, stopped=stopped)
    if found is None:
        return None, None
    chosen = {i: core.options[k] for i, k in columns.rounded(core, found.mix).items()}
    placement = _complete(core, schedule(core, chosen, repair=True), clock.deadline("placing"))
    bound = None if core.pruned_options else found.bound
    return (placement if _is_valid(core, placement) else None), bound


def _report(options: SolveOptions, clock: Budget, objective: float, bound: float | None,
            phase: str, core: Core | None = None, plan: Placement | lns.Incumbent | None = None
            ) -> None:
    """A better plan for on_progress; with `plan` (and its core) the report describes it."""
    if options.on_progress:
        details = {}
        if isinstance(plan, Placement):
            details = _details(plan.chosen.values(), report.plan_terms(core, plan))
        elif plan is not None:
            details = _details(_chosen(core, plan).values(), None)
        options.on_progress(Progress(objective=objective,
                                     bound=bound if bound is not None else float("nan"),
                                     elapsed=clock.elapsed(), phase=phase, **details))


def _details(chosen, terms: dict[str, float] | None) -> dict:
    """What a progress report says of a plan: items assigned, euros of rates and travel,
    and the objective's terms (None when not at hand)."""
    chosen = list(chosen)
    return {"assigned": len(chosen), "cost": round(sum(o.cost for o in chosen), 2),
            "terms": terms}


def _falling(core: Core, options: SolveOptions, clock: Budget, value: float,
             bound: float | None):
    """A progress reporter for the site search, from a plan worth `value` euros: the value
    falls by the euros each kept step saves."""

    described_at = -math.inf

    def report(saved: float, placement: Placement) -> None:
        nonlocal value, described_at
        value -= saved
        now = time.monotonic()
        if now - described_at >= DETAIL_EVERY:  # describing the plan reads every item
            described_at = now
            _report(options, clock, value, bound, "site search", core, placement)
        else:
            _report(options, clock, value, bound, "site search")
    return report


def _chosen(core: Core, incumbent: lns.Incumbent) -> dict:
    return {core.options[k].item: core.options[k] for k, on in enumerate(incumbent.x) if on}


def _place(core: Core, incumbent: lns.Incumbent, deadline: float) -> Placement:
    return _complete(core, schedule(core, _chosen(core, incumbent), repair=True), deadline)


def _complete(core: Core, placement: Placement, deadline: float) -> Placement:
    """Bring each firm into its share range, then place what is still unassigned."""
    return fill(core, rebalance(core, placement, deadline))


def _value(core: Core, placement: Placement) -> float:
    """The plan's objective in euros, exactly (whole cents)."""
    return sum(rules.plan_cents(core, placement.chosen, placement.start).values()) / rules.CENT


def _is_valid(core: Core, placement: Placement) -> bool:
    """The plan keeps every hard rule, by the independent checker."""
    return not _violations(core, _plan(core, placement, face_firms(core, placement)))


def _violations(core: Core, plan: Plan) -> list:
    """check() of the plan, run once per plan: the plans it passed are kept, so the final
    plan, already checked as a candidate, is not checked again at the exit."""
    key = (plan.assignments, tuple(sorted(plan.face_firms.items())))
    if key in core.checked:
        return []
    violations = check(core.problem, plan)
    if not violations:
        core.checked.add(key)
    return violations


def _reporter(core: Core, clock: Budget, options: SolveOptions, bound: float | None,
              rounds: int):
    def report(incumbent: lns.Incumbent) -> None:
        _report(options, clock, incumbent.objective / 100, bound, f"lns round {rounds}",
                core, incumbent)
    return report


def _best_start(core: Core, calendar_greedy: Placement) -> Placement:
    """The better first plan of the calendar greedy and regret-then-schedule."""
    by_regret = schedule(core, regret(core))
    candidates = [calendar_greedy, by_regret]
    return min(candidates, key=lambda p: _value(core, p))


def _infeasible(core: Core, clock: Budget, reasons) -> Result:
    """No plan exists: only with a proof on the whole problem (prepare's reasoning, or a
    model of the whole problem, or a relaxation of it, found infeasible)."""
    return Result(status="infeasible", objective=None, bound=None, gap=None,
                  time_to_first_plan=None, wall_time=clock.elapsed(), terms={},
                  reasons=tuple(reasons))


def _first_plan_only(core: Core, clock: Budget, options: SolveOptions,
                     placement: Placement) -> Result:
    """Stopped or out of time before any search: the greedy plan when it considered every
    item and keeps every rule, else no plan."""
    if placement.stopped or not _is_valid(core, placement):
        return _out_of_time(clock)
    return _result(core, clock, placement, {}, "feasible", None, clock.elapsed(), options,
                   {"mode": 0.0})


def _out_of_time(clock: Budget) -> Result:
    why = "stopped" if clock.stopped() else "out of time"
    return _unknown(clock, f"no plan found in the time given ({why} while preparing the "
                           "options and the first plan)")


def _unknown(clock: Budget, reason: str) -> Result:
    return Result(status="unknown", objective=None, bound=None, gap=None,
                  time_to_first_plan=None, wall_time=clock.elapsed(), terms={},
                  reasons=(reason,))


def _no_plan(core: Core, clock: Budget, status: int, restricted: bool) -> Result:
    """No plan from a model: infeasible when the model is the whole problem or a relaxation
    of it (`restricted` False: no option forbidden or pruned), else unknown."""
    if status == cp_model.INFEASIBLE and not restricted and not core.pruned_options:
        return _infeasible(core, clock, [_contradiction(core)])
    return _unknown(clock, "no plan found in the time given")


def _contradiction(core: Core) -> str:
    """Why no plan keeps the hard rules, in the coordinator's words."""
    locked = [lock.item for lock in core.problem.locks]
    rules_words = "the calendars, the firms' capacity, the site rules and the share ranges"
    if not locked:
        return f"no plan keeps every hard rule: {rules_words} contradict each other"
    position = {item.id: i for i, item in enumerate(core.items)}
    names = [item_name(core, position[i]) for i in locked]
    shown = "; ".join(names[:5]) + (f"; and {len(names) - 5} more" if len(names) > 5 else "")
    return (f"the locked items ({shown}) cannot all be kept together with {rules_words}: "
            "unlock some of them or widen what blocks them")


def _plan(core: Core, placement: Placement, faces: dict[int, int]) -> Plan:
    return Plan(assignments=report.assignments(core, placement),
                face_firms={core.site_ids[s]: core.firms[f].id for s, f in faces.items()},
                unassigned=tuple(core.items[i].id for i in range(len(core.items))
                                 if i not in placement.chosen))


def _result(core: Core, clock: Budget, placement: Placement, faces: dict[int, int],
            status: str, bound: float | None, first_at: float | None,
            options: SolveOptions, stats: dict, fallback: Placement | None = None) -> Result:
    """The one exit for a plan. The independent checker judges it: a plan it rejects is never
    returned (the `fallback` plan instead, when given, else no plan and status unknown).
    `optimal` stays only when the proven bound meets the plan's objective; a bound above the
    objective within float noise is the objective, and one beyond it is dropped."""
    faces = faces or face_firms(core, placement)
    plan = _plan(core, placement, faces)
    violations = _violations(core, plan)
    if violations:
        if fallback is not None and fallback is not placement:
            return _result(core, clock, fallback, {}, "feasible", bound, first_at, options,
                           dict(stats, rejected=float(len(violations))))
        return _unknown(clock, "the best plan found breaks a hard rule and was not kept "
                               f"({violations[0]})")
    cents = rules.plan_cents(core, placement.chosen, placement.start)
    objective = sum(cents.values()) / rules.CENT
    if bound is not None and bound - objective > DOUBLE_NOISE:
        # a float bound (LP, Lagrangian) above the plan: beyond the doubles' rounding of a
        # sum of cents, so the plan is near the optimum, but the noise proves nothing
        stats = dict(stats, dropped_bound=bound) if bound - objective > BOUND_NOISE * max(
            1.0, objective) else dict(stats, clipped_bound=bound)
        bound = None if "dropped_bound" in stats else objective
        status = "feasible" if status == "optimal" else status
    elif bound is not None:
        bound = min(bound, objective)
    if status == "optimal" and (bound is None or objective - bound >= HALF_CENT):
        status = "feasible"
    gap = None
    if bound is not None:
        gap = max(0.0, (objective - bound) / objective) if objective > 0 else 0.0
    stats = dict(stats, options=float(len(core.options)), items=float(len(core.items)),
                 pruned_options=float(core.pruned_options))
    return Result(
        status=status, objective=objective,
        bound=round(bound, 2) if bound is not None else None, gap=gap,
        time_to_first_plan=first_at, wall_time=clock.elapsed(),
        terms=rules.euros(cents),
        assignments=plan.assignments,
        unassigned=report.unassigned(core, placement),
        firms=report.firm_reports(core, placement),
        sites=report.site_reports(core, placement, faces),
        explanations=report.explanations(core, placement) if options.explain else (),
        face_firms=dict(plan.face_firms),
        stats=stats)
