"""The one-day strategy, for problems of one working day (the shape of the Generalized
Assignment Problem, whatever the mode but "exact").

On one day the assignment master's capacity is exact, so there are no days to search: the
decomposition (strategies.decomposed) runs its master's rounds even after a site-pattern
plan, keeps only a little time back for placing, and ends without the site search. Its
first round adds the firm patterns' dive (solver.firm_patterns): column generation where a
column is the set of items one firm does that day, a bound as strong as the knapsack
relaxation, and dives to a plan. The dive runs only where it applies (the model separable
by firm: no dependencies, no continuity price, no binding site limit, one option per item
and firm) and where it can converge in the time it gets (firm_patterns.affordable). Beside it, on a
second core, HiGHS solves the assignment master as a MIP (solver.mip) for the same time; the
better of the two plans goes on to the master's rounds.
"""

from __future__ import annotations

import logging

from .. import firm_patterns, lns, master, mip
from ..context import Best, Context
from ..model import Model, coefficients
from ..progress import report
from ..types import Result
from .decomposed import Shape, decompose

log = logging.getLogger(__name__)


def solve(ctx: Context) -> Result:
    """The decomposition of a one-day problem, with the firm patterns' dive."""
    return decompose(ctx, ONE_DAY)


def dive(ctx: Context, model: Model, best: Best, incumbent: lns.Incumbent | None,
         prices: list[float] | None) -> lns.Incumbent | None:
    """Column generation over firm patterns and its dives, from the incumbent's patterns
    and the LP's item `prices`: the better incumbent. The patterns' bound raises the best
    bound (unless options were pruned: it then bounds only what is left)."""
    core, clock, options = ctx.core, ctx.clock, ctx.options
    if clock.stopped():
        return incumbent
    coef = coefficients(model)
    seconds = clock.seconds("dive")
    if not firm_patterns.applies(model, coef) or not firm_patterns.affordable(model, seconds):
        return incumbent
    start = None if incumbent is None else {
        i: option.index for i, option in ctx.chosen(incumbent).items()}
    # HiGHS on the second core, where there is one, for the dive's time (the rounds' time
    # as well gained nothing on the generated e10100-s0, docs/benchmarks.md). The dive
    # stops when HiGHS proves optimality
    side = None
    if options.workers > 1:
        try:
            side = mip.AssignmentMip(model, seconds, options.seed)
        except OSError:  # no child process to be had: the dive alone
            log.warning("HiGHS's child process did not start", exc_info=True)
    stopped = clock.stopped if side is None else (lambda: clock.stopped() or side.proved())
    try:
        found = firm_patterns.dive(model, coef, start, seconds, stopped, options.seed, prices,
                                   root_seconds=clock.part("dive root", seconds))
        answers = [(found.chosen, found.bound, "firm patterns")]
        if side is not None:
            highs = side.answer(clock.stopped)
            answers.append((highs.chosen, highs.bound, "assignment MIP"))
    finally:
        if side is not None:
            side.cancel()
    for chosen, bound, source in answers:
        if bound is not None and not core.pruned_options:
            best.raise_bound(bound / 100)
        if chosen is None or clock.stopped():
            continue
        plan = master.evaluate(model, chosen, clock.seconds("dive plan"), options.workers,
                               options.seed, clock.stopped)
        if plan is not None and (incumbent is None or plan.objective < incumbent.objective):
            incumbent = plan
            if plan.objective / 100 < best.value:
                report(ctx, plan.objective / 100, best.bound, source, plan)
    return incumbent


ONE_DAY = Shape(days=False, lns_reserve="lns reserve, one day", first_round=dive)
