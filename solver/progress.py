"""Progress reports: every better plan a strategy finds goes to `SolveOptions.on_progress`.

A report describes its plan (items assigned, euros of rates and travel, the objective's terms)
when the step has it at hand; describing a large plan reads every item, so the large masters
and the site search do it at most every DETAIL_EVERY seconds. CP-SAT's own reports come from
solver.cpsat's solution callback, with the same `details`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

from .context import Context
from .lns import Incumbent
from .report import plan_terms
from .schedule import Placement
from .types import Progress

DETAIL_EVERY = 0.25  # seconds between two progress reports that describe the plan


def details(chosen: Iterable, terms: dict[str, float] | None) -> dict:
    """What a progress report says of a plan: items assigned, euros of rates and travel,
    and the objective's terms (None when not at hand)."""
    chosen = list(chosen)
    return {"assigned": len(chosen), "cost": round(sum(o.cost for o in chosen), 2),
            "terms": terms}


def report(ctx: Context, objective: float, bound: float | None, phase: str,
           plan: Placement | Incumbent | None = None) -> None:
    """A better plan for on_progress; with `plan` the report describes it (an assignment
    master's answer has no days yet, so no terms)."""
    if ctx.options.on_progress:
        described = {}
        if isinstance(plan, Placement):
            described = details(plan.chosen.values(), plan_terms(ctx.core, plan))
        elif plan is not None:
            described = details(ctx.chosen(plan).values(), None)
        ctx.options.on_progress(Progress(objective=objective,
                                         bound=bound if bound is not None else float("nan"),
                                         elapsed=ctx.clock.elapsed(), phase=phase,
                                         **described))


def lns_reporter(ctx: Context, bound: float | None,
                 rounds: int) -> Callable[[Incumbent], None]:
    """The LNS's reporter in the master's round `rounds`."""
    def tell(incumbent: Incumbent) -> None:
        report(ctx, incumbent.objective / 100, bound, f"lns round {rounds}", incumbent)
    return tell


def site_search_reporter(ctx: Context, value: float,
                         bound: float | None) -> Callable[[float, Placement], None]:
    """The site search's reporter, from a plan worth `value` euros: the value falls by the
    euros each kept step saves."""
    described_at = -math.inf

    def tell(saved: float, placement: Placement) -> None:
        nonlocal value, described_at
        value -= saved
        now = time.monotonic()
        if now - described_at >= DETAIL_EVERY:  # describing the plan reads every item
            described_at = now
            report(ctx, value, bound, "site search", placement)
        else:
            report(ctx, value, bound, "site search")
    return tell
