"""The decomposed strategy, for problems of several days too large for one exact model (more
than EXACT_MAX_OPTIONS options, or mode "decompose"); `strategies.one_day` runs it too.

Firms are chosen first, days after. On many small sites, column generation over site
patterns (solver.columns) gives a bound and a plan. When it gives none, the assignment
master's rounds follow: the master (solver.model, capacity relaxed to energy over windows of
days) starts from its LP (solver.master), CP-SAT and the large-neighbourhood search
(solver.lns) improve the assignment, and the list scheduler places it on days; options it
cannot place are forbidden in the next round. Every candidate plan passes the independent
checker before it is kept; the best one goes to the search over sites (strategies.finishing).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from .. import columns, cpsat, lns, master
from ..context import Best, Context
from ..model import Model, build
from ..outcome import first_plan_only, no_plan
from ..progress import lns_reporter, report
from ..rules import energy_windows
from ..schedule import Placement, from_reference, regret, schedule
from ..types import Result
from .finishing import finish

MAX_ROUNDS = 6  # of the assignment master; each forbids the options that could not be placed

# a step of the first round, after the LP start: (context, the master, the best plan so far,
# the master's incumbent, the LP's item prices) -> the incumbent, maybe better
FirstRound = Callable[[Context, Model, Best, lns.Incumbent | None, list[float] | None],
                      lns.Incumbent | None]


@dataclass(frozen=True)
class Shape:
    """What the problem's shape changes in the decomposition."""

    days: bool  # several days: the site search finishes; a site-pattern plan ends the master
    lns_reserve: str  # the budget step kept back from the LNS for placing its answer
    first_round: FirstRound | None = None  # an extra step of the master's first round


SEVERAL_DAYS = Shape(days=True, lns_reserve="lns reserve")


def solve(ctx: Context) -> Result:
    """The decomposition of a problem of several days, finished by the site search."""
    return decompose(ctx, SEVERAL_DAYS)


def decompose(ctx: Context, shape: Shape) -> Result:
    """The first plans, the site patterns when the problem falls apart into small sites,
    then the assignment master's rounds, and the best checked plan through the finish."""
    core, clock = ctx.core, ctx.clock
    hint = ctx.completed(_best_start(ctx), "first plan")
    # time kept for the search over sites with days (none on one day), then for placing the
    # LNS's answer on days
    site_time = clock.seconds("site search") if shape.days else 0.0
    reserve = site_time + clock.seconds(shape.lns_reserve)
    best = Best()
    if best.offer(ctx, hint):
        report(ctx, best.value, None, "first plan", hint)
    if clock.left() <= 0 or clock.out_of_time():  # the first plans took the time
        return first_plan_only(ctx, best.placement or ctx.first)
    patterns = None
    if _by_sites(core):
        patterns, best.bound = _from_columns(ctx, best.placement)
        if patterns is not None and best.offer(ctx, patterns):
            hint = patterns
            report(ctx, best.value, best.bound, "columns", patterns)
    rounds = 0
    forbidden: set[int] = set()
    # the assignment master's rounds: when the site patterns gave no plan, or on one day,
    # where no search over sites follows (the master's capacity is then exact)
    while ((patterns is None or not shape.days)
           and clock.left() > site_time + clock.seconds("round margin")
           and not clock.stopped() and rounds < MAX_ROUNDS):
        rounds += 1
        model = build(core, exact=False, forbidden=forbidden)
        incumbent, prices = _lp_start(ctx, model, best, first=rounds == 1)
        if rounds == 1 and shape.first_round is not None:
            incumbent = shape.first_round(ctx, model, best, incumbent, prices)
        found = None  # no CP-SAT round when the LP start took the round's time
        if clock.left() > site_time + clock.seconds("round margin") and not clock.stopped():
            found = cpsat.run(model, clock, ctx.options, f"assign round {rounds}",
                              incumbent or hint, clock.seconds("assign round"))
            if found.values is not None and (incumbent is None
                                             or round(found.objective * 100)
                                             < incumbent.objective):
                incumbent = lns.Incumbent(found.values["x"], found.values["unassigned"],
                                          round(found.objective * 100))
            if rounds == 1 and not core.pruned_options:
                # forbidding options later only raises the master's bound: keep the first's
                best.raise_bound(found.bound)
        if incumbent is None:
            if found is not None and found.status == cp_model.INFEASIBLE \
                    and best.placement is None:
                return no_plan(ctx, found.status, restricted=bool(forbidden))
            break
        if (found is None or found.status != cp_model.OPTIMAL) and not clock.stopped() \
                and clock.left() - reserve > clock.seconds("round margin"):
            bound = best.bound if best.bound is not None or found is None else found.bound
            incumbent = _improve(ctx, model, incumbent, reserve, rounds, bound)
        chosen = ctx.chosen(incumbent)
        placement = ctx.placed(chosen, "placing a round")
        best.offer(ctx, placement)
        if not placement.failed and all(chosen[i] is placement.chosen.get(i) for i in chosen):
            break
        forbidden |= {chosen[i].index for i in chosen
                      if placement.chosen.get(i) is not chosen[i]}
        hint = placement
    if best.placement is None:
        return no_plan(ctx, cp_model.UNKNOWN, restricted=True)
    return finish(ctx, best.placement, best.value, best.bound, best.first_at,
                  {"mode": 2.0, "rounds": float(rounds)}, search=bool(site_time))


def _improve(ctx: Context, model: Model, incumbent: lns.Incumbent, reserve: float,
             rounds: int, bound: float | None) -> lns.Incumbent:
    """The LNS on the master's incumbent until `reserve` seconds are left; when it stalls
    (Budget.patience) with time to spare, CP-SAT from no hint for the rest of that time,
    which searches elsewhere than the hinted plan (the better of the two is kept)."""
    clock, options = ctx.clock, ctx.options
    patience = clock.patience()
    report = lns_reporter(ctx, bound, rounds)

    def better(found: lns.Incumbent) -> None:
        patience.better()
        report(found)

    incumbent = lns.improve(model, incumbent,
                            deadline=lambda: patience.seconds(clock.left() - reserve),
                            workers=options.workers, seed=options.seed, stopped=clock.stopped,
                            on_better=better)
    left = clock.left() - reserve
    if patience.stalled and left > clock.seconds("round margin") and not clock.stopped():
        # not reported as it runs (phase None): its first solutions are dearer than the best.
        # Not interleaved: the interleaved workers check the limit only between batches, and
        # one batch ran 4 s, past the solve's limit (the GAP c10400 at 10 s); its plan
        # depends on where the clock ends it anyway
        fresh = cpsat.run(model, clock, dataclasses.replace(options, deterministic=False),
                          None, None, min(left, clock.seconds("fresh round")))
        if fresh.values is not None and round(fresh.objective * 100) < incumbent.objective:
            incumbent = lns.Incumbent(fresh.values["x"], fresh.values["unassigned"],
                                      round(fresh.objective * 100))
            report(incumbent)
    return incumbent


def _lp_start(ctx: Context, model: Model, best: Best, first: bool
              ) -> tuple[lns.Incumbent | None, list[float] | None]:
    """The master's LP start (solver.master): its plan placed on days and offered as the
    best, and the master's incumbent (the LP completed by CP-SAT, or the best plan so far
    in the master's terms); with the LP's item prices. The `first` round's LP (and its
    Lagrangian) is a bound of the whole problem."""
    core, clock, options = ctx.core, ctx.clock, ctx.options
    # the LP is the first plan's guide and the proven bound: it may take half the time
    # left (it stops when solved, in about a second for a thousand sites)
    start = master.lp_start(model, functools.partial(clock.seconds, "lp completion"),
                            options.workers, options.seed,
                            target=best.value * 100 if best.placement is not None else None,
                            bound_seconds=clock.seconds("lagrangian"),
                            lp_seconds=functools.partial(clock.seconds, "lp"),
                            stopped=clock.stopped,
                            attempt=functools.partial(clock.part, "lp completion try"))
    if first and start.bound is not None and not core.pruned_options:
        best.raise_bound(start.bound / 100)  # the master's LP or Lagrangian
    incumbent = start.incumbent
    if incumbent is not None:
        early = ctx.placed(ctx.chosen(incumbent), "placing")
    else:  # CP-SAT did not complete the LP in time: place the rounded LP, repairing
        early = ctx.placed({i: core.options[k] for i, k in start.rounded.items()}, "placing")
    best.offer(ctx, early)
    if incumbent is None and best.placement is not None \
            and clock.left() > clock.seconds("round margin"):
        incumbent = master.evaluate(model, {i: o.index for i, o in best.placement.chosen.items()
                                            if o.index not in model.forbidden},
                                    clock.seconds("evaluate"), options.workers, options.seed,
                                    clock.stopped)
    return incumbent, start.prices


def _best_start(ctx: Context) -> Placement:
    """The best first plan of the calendar greedy, regret-then-schedule and, in a re-plan,
    the reference as far as it still holds (completed)."""
    stopped = ctx.stopped("first plan")
    starts = [ctx.first, schedule(ctx.core, regret(ctx.core, stopped), stopped=stopped)]
    if ctx.core.reference:
        starts.append(ctx.completed(from_reference(ctx.core, stopped), "first plan"))
    return min(starts, key=ctx.value)


def _by_sites(core) -> bool:
    """Whether the problem falls apart into many small sites (column generation prices
    each site exactly); a one-site problem such as the GAP does not."""
    sizes = [len(items) for items in core.site_items if items]
    return len(sizes) > 1 and sum(sizes) <= columns.EXACT_ITEMS * len(sizes)


def _from_columns(ctx: Context, start: Placement | None
                  ) -> tuple[Placement | None, float | None]:
    """Column generation over site patterns: the LP's mix rounded to a plan (each site's
    heaviest pattern), placed on days and completed, or None when that plan breaks a rule;
    and its bound of the whole problem (None when options were pruned)."""
    core, clock = ctx.core, ctx.clock
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
    placement = ctx.placed(chosen, "placing columns")
    bound = None if core.pruned_options else found.bound
    return (placement if ctx.is_valid(placement) else None), bound
