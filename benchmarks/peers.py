"""Peer baselines for the benchmarks, run in the same process as the planner: plain CP-SAT on
the textbook GAP model and on the monolithic rollout model, and HiGHS (`highspy`, the
`bench` extra) on the GAP as a MIP. Nothing clever: each gets the time limit, the workers
and the seed, and default parameters otherwise. solver/ never imports this module.

A GAP instance is (m, n, cost[agent][job], resource[agent][job], capacity[agent]), as
benchmarks.gap.read_instances and benchmarks.gap_recipes.generate give it; a rollout is a
solver.types.Problem.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from ortools.sat.python import cp_model

from solver.check import check
from solver.instance import Plan
from solver.model import build
from solver.prepare import prepare
from solver.report import assignments, plan_terms
from solver.schedule import Placement, face_firms
from solver.types import Problem

try:
    import highspy
except ImportError:  # only in the bench extra: the HiGHS column needs it
    highspy = None

MIN_SOLVE_SECONDS = 0.05  # a solver is always given this much, even after a slow build


@dataclass(frozen=True)
class Run:
    """One solver's answer on one instance. objective and bound in the instance's units (GAP
    cost; euros for a rollout), None when there is none; seconds of wall time, building the
    model included; status one of optimal, feasible, infeasible, unknown."""

    objective: float | None
    bound: float | None
    status: str
    seconds: float
    unassigned: int | None = None  # rollouts: items the plan leaves out
    violations: int | None = None  # rollouts: hard rules the checker finds broken
    assignments: tuple = ()  # rollouts: the plan's (solver.types.Assignment)


def has_highs() -> bool:
    return highspy is not None


# --- GAP ---------------------------------------------------------------------------------


def cpsat_gap(instance, time_limit: float, workers: int, seed: int) -> Run:
    """Plain CP-SAT on the textbook GAP: x[i,j] booleans, each job exactly once, each agent's
    resource within its capacity, minimise the cost."""
    started = time.monotonic()
    m, n, cost, resource, capacity = instance
    model = cp_model.CpModel()
    x = [[model.new_bool_var(f"x[{i},{j}]") for j in range(n)] for i in range(m)]
    for j in range(n):
        model.add_exactly_one(x[i][j] for i in range(m))
    for i in range(m):
        model.add(cp_model.LinearExpr.weighted_sum(x[i], resource[i]) <= capacity[i])
    model.minimize(cp_model.LinearExpr.weighted_sum(
        [x[i][j] for i in range(m) for j in range(n)],
        [cost[i][j] for i in range(m) for j in range(n)]))
    solver = _cpsat(time_limit - (time.monotonic() - started), workers, seed)
    status = solver.solve(model)
    found = status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    return Run(objective=solver.objective_value if found else None,
               bound=_cpsat_bound(solver, status), status=_cpsat_status(status),
               seconds=time.monotonic() - started)


def highs_gap(instance, time_limit: float, workers: int = 1, seed: int = 0) -> Run:
    """The same GAP as a MIP through HiGHS: time limit, threads and seed set, and the
    relative gap 0 so that, like CP-SAT, it stops at a proof and not 0.01 % before."""
    if highspy is None:
        raise RuntimeError("highspy is not installed: pip install -e '.[bench]'")
    started = time.monotonic()
    m, n, cost, resource, capacity = instance
    # column i*n + j is x[i,j]: a 1 in job j's row, r_ij in agent i's row (n + i)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m * n, n + m
    lp.col_cost_ = [float(cost[i][j]) for i in range(m) for j in range(n)]
    lp.col_lower_ = [0.0] * (m * n)
    lp.col_upper_ = [1.0] * (m * n)
    lp.row_lower_ = [1.0] * n + [-highspy.kHighsInf] * m
    lp.row_upper_ = [1.0] * n + [float(b) for b in capacity]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = list(range(0, 2 * m * n + 1, 2))
    lp.a_matrix_.index_ = [row for i in range(m) for j in range(n) for row in (j, n + i)]
    lp.a_matrix_.value_ = [float(v) for i in range(m) for j in range(n)
                           for v in (1, resource[i][j])]
    lp.integrality_ = [highspy.HighsVarType.kInteger] * (m * n)
    highs = _highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", max(1, workers))
    highs.setOptionValue("random_seed", seed)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("time_limit",
                         max(MIN_SOLVE_SECONDS, time_limit - (time.monotonic() - started)))
    highs.passModel(lp)
    highs.run()
    info, status = highs.getInfo(), highs.getModelStatus()
    found = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else None
    if status == highspy.HighsModelStatus.kOptimal:
        word = "optimal"
    elif status == highspy.HighsModelStatus.kInfeasible:
        word, bound = "infeasible", None
    else:
        word = "feasible" if found else "unknown"
    return Run(objective=info.objective_function_value if found else None, bound=bound,
               status=word, seconds=time.monotonic() - started)


def _highs():
    """A silent Highs object: its log (the banner "Running HiGHS ..." included, which would
    land inside a benchmark's table) is off before HiGHS prints anything."""
    return _QuietHighs()


if highspy is not None:
    class _QuietHighs(highspy.Highs):
        # highspy.Highs() prints the banner in its first call to HiGHS, enableCallbacks,
        # while output_flag is still on: switch it off just before
        def enableCallbacks(self):
            self.setOptionValue("output_flag", False)
            super().enableCallbacks()


# --- rollouts ----------------------------------------------------------------------------


def cpsat_rollout(problem: Problem, time_limit: float, workers: int, seed: int) -> Run:
    """Plain CP-SAT on the monolithic exact model (solver.model.build(core, exact=True)): no
    hint, no heuristic, no decomposition. Its best solution becomes a plan, valued in euros by
    the same terms as the planner's (solver.report.plan_terms) and checked by solver.check;
    preparing and building count against the time limit, as they do for the planner."""
    started = time.monotonic()
    core = prepare(problem)
    model = build(core, exact=True)
    solver = _cpsat(time_limit - (time.monotonic() - started), workers, seed)
    status = solver.solve(model.cp)
    bound = _cpsat_bound(solver, status)
    bound = None if bound is None else bound / 100  # the model's objective is in cents
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return Run(objective=None, bound=bound, status=_cpsat_status(status),
                   seconds=time.monotonic() - started)
    placement = Placement()
    for option in core.options:
        if solver.boolean_value(model.x[option.index]):
            placement.chosen[option.item] = option
            placement.start[option.item] = solver.value(model.start[option.index])
    faces = {site: firm for (site, firm), z in model.face.items() if solver.boolean_value(z)}
    faces = faces or face_firms(core, placement)
    plan = Plan(assignments=assignments(core, placement),
                face_firms={core.site_ids[s]: core.firms[f].id for s, f in faces.items()},
                unassigned=tuple(item.id for i, item in enumerate(core.items)
                                 if i not in placement.chosen))
    seconds = time.monotonic() - started
    return Run(objective=sum(plan_terms(core, placement).values()), bound=bound,
               status=_cpsat_status(status), seconds=seconds,
               unassigned=len(plan.unassigned), violations=len(check(problem, plan)),
               assignments=plan.assignments)


# --- CP-SAT, shared ----------------------------------------------------------------------


def _cpsat(time_limit: float, workers: int, seed: int) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(MIN_SOLVE_SECONDS, time_limit)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    return solver


def _cpsat_bound(solver: cp_model.CpSolver, status: int) -> float | None:
    if status in (cp_model.INFEASIBLE, cp_model.MODEL_INVALID):
        return None
    bound = solver.best_objective_bound
    return bound if math.isfinite(bound) else None


def _cpsat_status(status: int) -> str:
    return {cp_model.OPTIMAL: "optimal", cp_model.FEASIBLE: "feasible",
            cp_model.INFEASIBLE: "infeasible"}.get(status, "unknown")
