"""The exact strategy, for small problems of several days (at most EXACT_MAX_OPTIONS options,
or mode "exact"): one CP-SAT model of firms and days together proves the optimum.

First the assignment master (capacity as energy, no days: a relaxation) is solved to
optimality and its answer placed on days: a plan that meets the relaxation's optimum is
optimal for the whole problem, and the exact model is not needed. With two or more workers
and cores the exact model runs at once beside the relaxation, one core each, and the
relaxation's proof cancels it; otherwise they run in turn, the relaxation's plan (placed on
days and completed) the exact model's hint when it beats the greedy plan. Either way the
result depends only on the seed, not on which finishes first. An exact model that has not
proven its plan hands it to the search over sites (strategies.finishing).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import replace

from ortools.sat.python import cp_model

from .. import cpsat
from ..context import Context
from ..model import Model, build
from ..outcome import HALF_CENT, no_plan, result
from ..prepare import Core
from ..schedule import Placement, schedule
from ..types import Result
from .finishing import finish


def solve(ctx: Context) -> Result:
    """The relaxation that may prove at once, and the exact model."""
    if ctx.options.workers > 1 and _cores() > 1:
        return _beside_relaxation(ctx, build(ctx.core, exact=True))
    proven, placed = proven_by_relaxation(ctx)
    if proven is not None:
        return proven  # the exact model is not even built
    hint = ctx.better(ctx.first, placed)  # the relaxed optimum on days: usually near it
    model = build(ctx.core, exact=True)
    ready_at = ctx.clock.elapsed()
    found = cpsat.run(model, ctx.clock, ctx.options, "exact", hint, _proving_time(ctx))
    return _from_exact(ctx, found, hint, ready_at)


def _beside_relaxation(ctx: Context, model: Model) -> Result:
    """The exact model on one core, the relaxation on another; the relaxation's proof
    cancels the exact model. An error in either reaches the caller, and no search is left
    running."""
    # the exact model without a hint: a poor hint (the greedy plan, or the relaxed optimum
    # repaired on days) slowed its proof on generated rollouts (docs/benchmarks.md)
    clock = ctx.clock
    ready_at = clock.elapsed()
    one_core = replace(ctx, options=replace(ctx.options, workers=1))
    cancel = threading.Event()
    exact: dict = {}

    def run_exact() -> None:
        try:
            exact["run"] = cpsat.run(model, clock, one_core.options, "exact", None,
                                     _proving_time(ctx), cancel=cancel)
        except BaseException as error:  # re-raised below, in the caller's thread
            exact["error"] = error

    worker = threading.Thread(target=run_exact, daemon=True)
    worker.start()
    try:
        proven, placed = proven_by_relaxation(one_core, on_proof=cancel.set)
        placed_at = clock.elapsed()
        worker.join()
    except BaseException:  # an error, or an interrupt while waiting: no search left behind
        cancel.set()
        worker.join()
        raise
    if "error" in exact:
        raise exact["error"]
    found = exact["run"]
    if proven is not None:
        # the exact model may have found (and reported) plans before the proof
        if found.first_at is not None and proven.time_to_first_plan is not None:
            proven = replace(proven, time_to_first_plan=min(found.first_at,
                                                            proven.time_to_first_plan))
        return proven
    fallback = ctx.better(ctx.first, placed)
    return _from_exact(ctx, found, fallback, placed_at if fallback is placed else ready_at)


def proven_by_relaxation(ctx: Context, on_proof: Callable[[], object] | None = None
                         ) -> tuple[Result | None, Placement | None]:
    """Solve the assignment master (capacity as energy, no days: a relaxation), hinted with
    the first plan, and place its answer on days: (the optimal result, None) when that plan
    meets the master's proven optimum, else (None, that plan repaired and completed, or None
    without an answer). `on_proof` is called as soon as the plan is known optimal, before its
    report is built."""
    core, clock = ctx.core, ctx.clock
    model = build(core, exact=False)
    found = cpsat.run(model, clock, ctx.options, None, ctx.first,
                      clock.seconds("relaxation"), prove=True, first_plan=True)
    if found.values is None:
        return None, None
    chosen = {core.options[k].item: core.options[k]
              for k, on in enumerate(found.values["x"]) if on}
    placement = schedule(core, chosen, stopped=ctx.stopped("relaxation"))
    value = ctx.value(placement)
    if (found.status == cp_model.OPTIMAL and found.bound is not None and not placement.failed
            and len(placement.chosen) == len(chosen)
            and value - found.bound < HALF_CENT and ctx.is_valid(placement)
            and not core.pruned_options):
        if on_proof is not None:
            on_proof()
        return result(ctx, placement, "optimal", found.bound, clock.elapsed(),
                      {"mode": 1.0, "proof": 1.0}), None
    placed = ctx.placed(chosen, "completing")
    return None, placed if ctx.is_valid(placed) else None


def _from_exact(ctx: Context, found: cpsat.Run, fallback: Placement,
                ready_at: float) -> Result:
    """The result of the exact model's run; `fallback`, a plan found before it, when the
    run ended before its first plan or found a worse one."""
    core = ctx.core
    if core.pruned_options:  # a model of what pruning left proves nothing of the whole
        found = replace(found, bound=None, status=cp_model.FEASIBLE
                        if found.status == cp_model.OPTIMAL else found.status)
    if found.values is None:
        if not ctx.is_valid(fallback):
            # the greedy plan may leave a firm below its share: bring it into its range
            fallback = ctx.completed(fallback, "completing")
        if ctx.is_valid(fallback):
            # stopped or out of time before CP-SAT's first plan: the fallback is a plan (and
            # should the model say infeasible, a checked plan outweighs it)
            return _improved(ctx, fallback, found.bound
                             if found.status != cp_model.INFEASIBLE else None, ready_at)
        return no_plan(ctx, found.status, restricted=False)
    placement = _placement_of(core, found.values)
    if found.status == cp_model.OPTIMAL:
        return result(ctx, placement, "optimal", found.bound, found.first_at, {"mode": 1.0},
                      faces=_faces(found.values),
                      fallback=fallback if ctx.is_valid(fallback) else None)
    if ctx.value(fallback) < ctx.value(placement) and ctx.is_valid(fallback):
        placement = fallback
    return _improved(ctx, placement, found.bound, found.first_at)


def _improved(ctx: Context, placement: Placement, bound: float | None,
              first_at: float | None) -> Result:
    """The exact model's unproven plan after the search over sites, for the time left."""
    return finish(ctx, placement, ctx.value(placement), bound, first_at, {"mode": 1.0},
                  search=ctx.core.horizon > 1)


def _proving_time(ctx: Context) -> float:
    # most of the time to prove; what an unproven search leaves goes to the site search,
    # which improves a plan faster than one CP-SAT worker on the whole model
    return ctx.clock.seconds("exact, one day" if ctx.core.horizon == 1 else "exact")


def _cores() -> int:
    """The cores this process may run on (two solves on one core would only slow both)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


def _placement_of(core: Core, values: dict) -> Placement:
    """The exact model's solution as a plan: each chosen option on its first day."""
    placement = Placement()
    for k, taken in enumerate(values["x"]):
        if taken:
            option = core.options[k]
            placement.chosen[option.item] = option
            placement.start[option.item] = values["start"][k]
    return placement


def _faces(values: dict) -> dict[int, int]:
    """The face firm of each site the model chose (lead policy); others are derived."""
    return {site: firm for (site, firm), taken in values["face"].items() if taken}
