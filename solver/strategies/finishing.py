"""The step every strategy ends with: the search over sites, with days (solver.sites), for
the time left, then the one exit.

The exact model that has not proven its plan optimal, and the decomposition, hand their best
plan here. The search frees a few whole sites at a time and re-plans them with the exact model
against the rest; a step is kept only when the whole plan's value falls. It runs only on
problems of several days, until the time left less what the exit needs (SHARES "finish").
"""

from __future__ import annotations

from .. import sites
from ..context import Context
from ..outcome import proven, result
from ..progress import site_search_reporter
from ..schedule import Placement
from ..types import Result


def finish(ctx: Context, placement: Placement, value: float, bound: float | None,
           first_at: float | None, stats: dict, search: bool) -> Result:
    """The result of a plan worth `value` euros, after the search over sites for the time
    left (when `search`); optimal when it meets the proven `bound`."""
    clock, options = ctx.clock, ctx.options
    if search and not clock.stopped():
        searched = sites.improve(ctx.core, placement, deadline=clock.finishing(),
                                 workers=options.workers, seed=options.seed,
                                 stopped=clock.stopped, stats=stats,
                                 on_better=site_search_reporter(ctx, value, bound))
        if ctx.value(searched) < value and ctx.is_valid(searched):
            placement = searched
    return proven(result(ctx, placement, "feasible", bound, first_at, stats))
