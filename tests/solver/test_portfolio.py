"""The portfolio (solver.solve.strategy): the strategy follows the problem's shape, unless the
options' mode forces one."""

import pytest

from benchmarks.gap import to_problem
from solver.generate import generate
from solver.prepare import prepare
from solver.solve import EXACT_MAX_OPTIONS, solve, strategy
from solver.strategies import decomposed, exact, one_day
from solver.types import SolveOptions

SHAPES = {
    "small": generate(4, 3, 10, 2),  # several days, few options
    "large": generate(60, 15, 20, 0),  # several days, more than EXACT_MAX_OPTIONS options
    # one day: a GAP of 2 agents and 3 jobs
    "one day": to_problem("t", 2, 3, [[4, 2, 5], [3, 6, 1]], [[2, 3, 1], [1, 2, 3]], [4, 4]),
}


def test_the_shapes_are_what_their_names_say():
    small, large, one_day_ = (prepare(SHAPES[name]) for name in ("small", "large", "one day"))
    assert small.horizon > 1 and len(small.options) <= EXACT_MAX_OPTIONS
    assert large.horizon > 1 and len(large.options) > EXACT_MAX_OPTIONS
    assert one_day_.horizon == 1


@pytest.mark.parametrize(("shape", "mode", "chosen"), [
    ("small", "auto", exact.solve),
    ("small", "decompose", decomposed.solve),
    ("large", "auto", decomposed.solve),
    ("large", "exact", exact.solve),
    ("one day", "auto", one_day.solve),
    ("one day", "decompose", one_day.solve),
    ("one day", "exact", exact.solve),
])
def test_the_strategy_follows_the_shape_unless_the_mode_forces_one(shape, mode, chosen):
    assert strategy(prepare(SHAPES[shape]), SolveOptions(mode=mode)) is chosen


def test_a_one_day_problem_is_solved_to_its_optimum():
    # by the one-day strategy (the portfolio's choice above): each job with its cheapest
    # agent (3 + 2 + 1 euros) fits the agents' capacity (agent0 3 of 4 h, agent1 4 of 4 h),
    # so no plan costs less
    result = solve(SHAPES["one day"], SolveOptions(time_limit=5, workers=1, explain=False))
    assert result.status == "optimal" and result.objective == pytest.approx(6.0)
    assert sorted((a.item, a.firm) for a in result.assignments) == [
        ("job0", "agent1"), ("job1", "agent0"), ("job2", "agent1")]
