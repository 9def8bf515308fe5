"""The one exit: every Result of `solve()` is made here.

A plan leaves only through `result`, which has the independent checker (solver.check) judge
it: a plan it rejects is never returned. `optimal` is kept only when a proven bound of the
whole problem meets the plan's objective to the cent, `infeasible` only with a proof on the
whole problem (prepare's reasoning, or a model of the whole problem or a relaxation of it
found infeasible); a model with options forbidden or pruned proves neither.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ortools.sat.python import cp_model

from . import report, rules
from .budget import Budget
from .check import check
from .instance import Plan
from .prepare import Core, item_name
from .schedule import Placement, face_firms, settle
from .types import Result

if TYPE_CHECKING:  # solver.context builds on this module
    from .context import Context

HALF_CENT = 0.005  # euros: objectives are whole cents, so a bound this close proves optimality
BOUND_NOISE = 1e-7  # relative: a float bound this far above a plan's objective is noise
DOUBLE_NOISE = 1e-6  # euros: a bound this close above a plan is its objective in doubles


def is_valid(core: Core, placement: Placement) -> bool:
    """The plan keeps every hard rule, by the independent checker."""
    return not violations(core, plan_of(core, placement, face_firms(core, placement)))


def violations(core: Core, plan: Plan) -> list:
    """check() of the plan, run once per plan: the plans it passed are kept, so the final
    plan, already checked as a candidate, is not checked again at the exit."""
    key = (plan.assignments, tuple(sorted(plan.face_firms.items())))
    if key in core.checked:
        return []
    found = check(core.problem, plan)
    if not found:
        core.checked.add(key)
    return found


def plan_of(core: Core, placement: Placement, faces: dict[int, int]) -> Plan:
    """The placement as the checker reads a plan: assignments, face firms, unassigned."""
    return Plan(assignments=report.assignments(core, placement),
                face_firms={core.site_ids[s]: core.firms[f].id for s, f in faces.items()},
                unassigned=tuple(core.items[i].id for i in range(len(core.items))
                                 if i not in placement.chosen))


def result(ctx: Context, placement: Placement, status: str, bound: float | None,
           first_at: float | None, stats: dict, faces: dict[int, int] | None = None,
           fallback: Placement | None = None) -> Result:
    """The one exit for a plan. The independent checker judges it: a plan it rejects is never
    returned (the `fallback` plan instead, when given, else no plan and status unknown).
    A re-plan's items kept by their reference firm go back to their reference days where
    every rule allows (schedule.settle: the objective does not rise).
    `optimal` stays only when the proven bound meets the plan's objective; a bound above the
    objective within float noise is the objective, and one beyond it is dropped. `faces`:
    the face firm of each site as a model chose it, else derived from the plan."""
    core = ctx.core
    faces = faces or face_firms(core, placement)
    settled = settle(core, placement)  # a re-plan keeps the reference days where it can
    if settled is not placement and not violations(core, plan_of(core, settled, faces)):
        placement = settled  # days do not change who faces a site: the same faces
    plan = plan_of(core, placement, faces)
    broken = violations(core, plan)
    if broken:
        if fallback is not None and fallback is not placement:
            return result(ctx, fallback, "feasible", bound, first_at,
                          dict(stats, rejected=float(len(broken))))
        return unknown(ctx.clock, "the best plan found breaks a hard rule and was not kept "
                                  f"({broken[0]})")
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
    described = dict(  # before the wall time: on 5,000 sites the reports take ~0.5 s
        unassigned=report.unassigned(core, placement),
        firms=report.firm_reports(core, placement),
        sites=report.site_reports(core, placement, faces),
        explanations=report.explanations(core, placement) if ctx.options.explain else ())
    return Result(
        status=status, objective=objective,
        bound=round(bound, 2) if bound is not None else None, gap=gap,
        time_to_first_plan=first_at, wall_time=ctx.clock.elapsed(),
        terms=rules.euros(cents), assignments=plan.assignments,
        face_firms=dict(plan.face_firms), stats=stats, **described)


def proven(found: Result) -> Result:
    """A feasible result whose proven bound meets its objective to the cent is optimal (not
    when the bound was a float above the plan, cut to its objective: that proves nothing)."""
    if found.status == "feasible" and found.bound is not None \
            and "clipped_bound" not in found.stats \
            and found.objective - found.bound < HALF_CENT:
        return replace(found, status="optimal")
    return found


def first_plan_only(ctx: Context, placement: Placement) -> Result:
    """Stopped or out of time before any search: the greedy plan when it considered every
    item and keeps every rule, else no plan."""
    if placement.stopped or not is_valid(ctx.core, placement):
        return out_of_time(ctx.clock)
    return result(ctx, placement, "feasible", None, ctx.clock.elapsed(), {"mode": 0.0})


def no_plan(ctx: Context, status: int, restricted: bool) -> Result:
    """No plan from a model: infeasible when the model is the whole problem or a relaxation
    of it (`restricted` False: no option forbidden or pruned), else unknown."""
    if status == cp_model.INFEASIBLE and not restricted and not ctx.core.pruned_options:
        return infeasible(ctx.clock, [contradiction(ctx.core)])
    return unknown(ctx.clock, "no plan found in the time given")


def infeasible(clock: Budget, reasons) -> Result:
    """No plan exists: only with a proof on the whole problem (prepare's reasoning, or a
    model of the whole problem, or a relaxation of it, found infeasible)."""
    return Result(status="infeasible", objective=None, bound=None, gap=None,
                  time_to_first_plan=None, wall_time=clock.elapsed(), terms={},
                  reasons=tuple(reasons))


def out_of_time(clock: Budget) -> Result:
    """No plan: stopped, or out of time, before the first plan was made."""
    why = "stopped" if clock.stopped() else "out of time"
    return unknown(clock, f"no plan found in the time given ({why} while preparing the "
                          "options and the first plan)")


def unknown(clock: Budget, reason: str) -> Result:
    return Result(status="unknown", objective=None, bound=None, gap=None,
                  time_to_first_plan=None, wall_time=clock.elapsed(), terms={},
                  reasons=(reason,))


def contradiction(core: Core) -> str:
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
