"""The assignment master's LP (solver.master), built once through MathOpt: the pywraplp
bridge that solver.firm_patterns still reads is the same LP, with the same duals."""

import pytest
from ortools.linear_solver import pywraplp

from solver.generate import generate
from solver.master import assignment_lp, assignment_prices, master_lp, solve_lp
from solver.model import build
from solver.prepare import prepare


def test_the_bridge_is_the_same_lp():
    core = prepare(generate(30, 10, 20, 0))
    model = build(core, exact=False)
    lp = assignment_lp(model)
    solved = solve_lp(lp, seconds=60.0)
    assert solved is not None
    glop, xs, us, windows = master_lp(model)
    assert glop.Solve() == pywraplp.Solver.OPTIMAL
    assert glop.Objective().Value() == pytest.approx(solved.objective_value())
    rows = glop.constraints()
    assert assignment_prices(model, seconds=60.0) == pytest.approx(
        [rows[i].dual_value() for i in range(len(core.items))])
    assert solved.dual_values([row for *_, row in lp.windows]) == pytest.approx(
        [row.dual_value() for *_, row in windows])
    assert len(xs) == len(model.x) and len(us) == len(model.unassigned)
