"""The entry point: `solve(problem, options) -> Result`, for the product and the benchmarks.

The portfolio, top to bottom: prepare the problem (every eligible option with its hours, cost
and days), make the greedy first plan, choose the strategy for the problem's shape
(solver.strategies) and return what it finds. Every result leaves through the one exit
(solver.outcome), which has the independent checker judge its plan. The one time budget
(solver.budget) is asked by every step how long it may still run.
"""

from __future__ import annotations

import time

from .budget import Budget
from .context import Context
from .outcome import first_plan_only, infeasible, out_of_time
from .prepare import Core, Interrupted, prepare
from .schedule import greedy
from .strategies import Strategy, decomposed, exact, one_day
from .types import Problem, Result, SolveOptions

EXACT_MAX_OPTIONS = 800  # above this, one model with every option's days is too slow
MAX_OPTIONS_PER_ITEM = 20  # kept per item (the cheapest) once a problem has PRUNE_ABOVE options
PRUNE_ABOVE = 250_000


def solve(problem: Problem, options: SolveOptions | None = None) -> Result:
    """Plan the problem; raise ProblemError on bad input, never on an infeasible one."""
    options = options or SolveOptions()
    clock = Budget(options.time_limit, options.should_stop, options.grace)
    try:
        core = prepare(problem, max_options_per_item=MAX_OPTIONS_PER_ITEM,
                       prune_above=PRUNE_ABOVE, stopped=clock.out_of_time)
    except Interrupted:
        return out_of_time(clock)
    if core.infeasible:
        return infeasible(clock, core.infeasible)
    constructing = time.monotonic()
    first = greedy(core, stopped=clock.out_of_time)
    took = time.monotonic() - constructing
    ctx = Context(core, clock, options, first)
    if clock.out_of_time() or (took > clock.grace
                               and (clock.stopped() or clock.left() < took)):
        # no time for the rest of the first plan (regret, filling, rebalancing: about as
        # long again as the greedy plan took)
        return first_plan_only(ctx, first)
    return strategy(core, options)(ctx)


def strategy(core: Core, options: SolveOptions) -> Strategy:
    """The strategy for the problem's shape, unless the options' mode forces one:
    - several days and at most EXACT_MAX_OPTIONS options: one exact model (`exact`);
    - one working day: the master's capacity is exact there, so no model with days is
      needed (`one_day`: the decomposition with the firm patterns' dive, as for the GAP);
    - otherwise the decomposition (`decomposed`)."""
    if options.mode == "exact" or (
            options.mode == "auto" and core.horizon > 1 and len(core.options) <= EXACT_MAX_OPTIONS):
        return exact.solve
    return one_day.solve if core.horizon == 1 else decomposed.solve
