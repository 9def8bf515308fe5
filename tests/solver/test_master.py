"""The assignment master's LP (solver.master, GLOP through MathOpt): its optimum on an
instance solved by hand and against brute force, its duals by the optimality conditions, the
item prices the firm patterns start from, a GLOP solve that fails, and the completion of
the LP's free items on a separable master."""

import dataclasses
import itertools
import math
import random

import pytest
from ortools.math_opt.python import mathopt

from benchmarks.gap import coverage_price, to_problem
from solver.generate import generate
from solver.lns import Incumbent, separable
from solver.master import (
    assignment_lp,
    assignment_prices,
    complete,
    complete_apart,
    evaluate,
    run_glop,
    solve_lp,
)
from solver.model import SCALE, build
from solver.prepare import prepare

TOLERANCE = 1e-6


def _model(cost, resource, capacity):
    m, n = len(cost), len(cost[0])
    return build(prepare(to_problem("t", m, n, cost, resource, capacity)), exact=False)


def test_optimum_and_prices_of_an_lp_solved_by_hand():
    # three jobs of 6 h, two agents of 10 h at 1 and 2 euros a job: agent0 is full with
    # 10/6 jobs, agent1 takes the other 4/3 and has room, so a job is worth what agent1
    # asks (2 euros) and an hour of agent0 saves 1/6 euro
    model = _model([[1, 1, 1], [2, 2, 2]], [[6, 6, 6], [6, 6, 6]], [10, 10])
    lp = assignment_lp(model)
    solved = solve_lp(lp, seconds=60.0)
    assert solved is not None
    assert solved.objective_value() / SCALE == pytest.approx(10 / 6 * 1 + 4 / 3 * 2)
    assert assignment_prices(model, seconds=60.0) == pytest.approx([2 * SCALE] * 3)
    windows = {firm: (available, row) for firm, _, available, row in lp.windows}
    assert solved.dual_values(windows[1][1]) == pytest.approx(0.0, abs=TOLERANCE)
    available, row = windows[0]
    per_hour = available / 10  # the window's units in one hour
    assert solved.dual_values(row) * per_hour == pytest.approx(-SCALE / 6)


def _brute_force(cost, resource, capacity):
    """The least cost in euros: each job to an agent with room, or left out at the
    adapter's coverage price."""
    m, n = len(cost), len(cost[0])
    coverage = coverage_price(cost)
    best = math.inf
    for pick in itertools.product(range(-1, m), repeat=n):
        load = [0] * m
        for j, i in enumerate(pick):
            if i >= 0:
                load[i] += resource[i][j]
        if all(load[i] <= capacity[i] for i in range(m)):
            best = min(best, sum(coverage if i < 0 else cost[i][j] for j, i in enumerate(pick)))
    return best


@pytest.mark.parametrize("seed", range(6))
def test_optimum_against_brute_force(seed):
    rng = random.Random(seed)
    m, n = rng.randint(2, 3), rng.randint(3, 6)
    resource = [[rng.randint(1, 20) for _ in range(n)] for _ in range(m)]
    cost = [[rng.randint(1, 30) for _ in range(n)] for _ in range(m)]
    tight = [max(max(row), sum(row) // m) for row in resource]
    loose = [sum(row) for row in resource]
    # a relaxation: never above the optimum, and the optimum itself when no agent is full
    # (every job then goes to its cheapest agent, an integral plan)
    for capacity, exact in ((tight, False), (loose, True)):
        solved = solve_lp(assignment_lp(_model(cost, resource, capacity)), seconds=60.0)
        assert solved is not None
        value, optimum = solved.objective_value() / SCALE, _brute_force(cost, resource, capacity)
        assert value <= optimum + TOLERANCE
        if exact:
            assert value == pytest.approx(optimum)
            assert optimum == sum(min(column) for column in zip(*cost, strict=True))


def test_duals_meet_the_optimality_conditions():
    """On a rollout: dual feasibility, complementary slackness, and the reduced costs
    MathOpt reports are the objective less the rows' prices (c - y.A)."""
    model = build(prepare(generate(30, 10, 20, 0)), exact=False)
    lp = assignment_lp(model)
    solved = solve_lp(lp, seconds=60.0)
    assert solved is not None
    x = solved.variable_values()
    y = solved.dual_values()
    reported = solved.reduced_costs()
    activity = dict.fromkeys(y, 0.0)
    priced = {term.variable: term.coefficient for term in lp.model.objective.linear_terms()}
    reduced = {var: priced.get(var, 0.0) for var in x}
    for entry in lp.model.linear_constraint_matrix_entries():
        activity[entry.linear_constraint] += entry.coefficient * x[entry.variable]
        reduced[entry.variable] -= y[entry.linear_constraint] * entry.coefficient
    scale = 1e-6 * max(1.0, max(abs(c) for c in priced.values()))
    for row, price in y.items():
        # a price only on a row at its bound, of the bound's sign (minimising)
        if price > scale:
            assert activity[row] == pytest.approx(row.lower_bound, abs=1e-6)
        if price < -scale:
            assert activity[row] == pytest.approx(row.upper_bound, abs=1e-6)
    for var, value in x.items():
        assert reduced[var] == pytest.approx(reported[var], abs=scale)
        if reduced[var] > scale:
            assert value == pytest.approx(var.lower_bound, abs=1e-6)
        if reduced[var] < -scale:
            assert value == pytest.approx(var.upper_bound, abs=1e-6)
    assert any(abs(price) > scale for price in y.values())
    assert assignment_prices(model, seconds=60.0) == pytest.approx(
        solved.dual_values(lp.item_rows), abs=scale)


@pytest.mark.parametrize("error", [
    RuntimeError("Unexpected GLOP termination reason: ABNORMAL"),
    # ortools 9.15, failing while it converts that error
    AttributeError("'StatusNotOk' object has no attribute 'canonical_code'")])
def test_a_failed_glop_solve_gives_no_result(error):
    def failing(**_):
        raise error

    assert run_glop(failing, seconds=1.0) is None
    lp = assignment_lp(_model([[1, 2], [2, 1]], [[1, 1], [1, 1]], [2, 2]))
    solver = mathopt.IncrementalSolver(lp.model, mathopt.SolverType.GLOP)
    solved = run_glop(solver.solve, seconds=60.0)
    assert solved is not None and solved.objective_value() == pytest.approx(2 * SCALE)


def test_any_other_attribute_error_in_a_glop_solve_is_a_bug_and_raised():
    def broken(**_):
        raise AttributeError("'NoneType' object has no attribute 'solve'")

    with pytest.raises(AttributeError, match="NoneType"):
        run_glop(broken, seconds=1.0)


def _separable_rollout(seed, face="none", coverage=None):
    """A generated rollout whose master is separable (solver.lns): no face firm, no
    fairness, share ranges not hard; continuity and the sites' firm limit stay."""
    problem = generate(6, 4, 5, seed=seed)
    weights = dataclasses.replace(problem.policy.weights, fairness=0.0)
    if coverage is not None:
        weights = dataclasses.replace(weights, coverage=coverage)
    policy = dataclasses.replace(problem.policy, face_policy=face, weights=weights,
                                 hard_shares=False)
    model = build(prepare(dataclasses.replace(problem, policy=policy)), exact=False)
    assert separable(model)
    return model


@pytest.mark.parametrize("seed", range(4))
def test_completing_the_free_items_apart_gives_the_models_own_value(seed):
    """complete_apart on a separable master: with every item free it finds the master's
    optimum; with the optimum's other items fixed and a random part free, the optimum again;
    and its value is the model's own (evaluate) for the assignment it returns."""
    model = _separable_rollout(seed)
    items = len(model.unassigned)
    nothing = Incumbent([False] * len(model.x), [False] * items, 0.0)
    optimum = _optimum(model)
    rng = random.Random(seed)
    for free in (set(range(items)), set(rng.sample(range(items), items // 3))):
        guess = nothing if len(free) == items else Incumbent(
            [on and model.core.options[k].item not in free for k, on in enumerate(optimum.x)],
            [False] * items, 0.0)
        found = complete_apart(model, guess, free, 60.0, seed=0)
        assert found is not None
        assert found.objective == pytest.approx(optimum.objective)
        chosen = {model.core.options[k].item: k for k, on in enumerate(found.x) if on}
        assert all(found.unassigned[i] == (i not in chosen) for i in range(items))
        own = evaluate(model, chosen, 60.0, workers=1, seed=0)
        assert own is not None and own.objective == pytest.approx(found.objective)


def _optimum(model):
    items = len(model.unassigned)
    nothing = Incumbent([False] * len(model.x), [False] * items, 0.0)
    optimum = complete(model, nothing, set(range(items)), 60.0, workers=1, seed=0)
    assert optimum is not None
    return optimum


def test_a_dependency_a_fixed_dependent_needs_is_assigned_even_when_dearer_than_leaving_it():
    """With coverage almost free, leaving items out is cheapest; but a free item that a
    fixed assigned item depends on must be done (the completion returns the best it finds,
    not only one better than leaving the free items out)."""
    model = _separable_rollout(1)
    optimum = _optimum(model)
    cheap = _separable_rollout(1, coverage=0.001)
    core = cheap.core
    assigned = {core.options[k].item for k, on in enumerate(optimum.x) if on}
    free = {p for s in assigned for p in core.preds[s]}
    assert free
    guess = Incumbent([on and core.options[k].item not in free
                       for k, on in enumerate(optimum.x)], [False] * len(core.items), 0.0)
    found = complete_apart(cheap, guess, free, 60.0, seed=0)
    assert found is not None
    chosen = {core.options[k].item: k for k, on in enumerate(found.x) if on}
    assert free <= set(chosen)
    own = evaluate(cheap, chosen, 60.0, workers=1, seed=0)
    assert own is not None and own.objective == pytest.approx(found.objective)


def test_no_completion_of_whole_items_that_break_a_sites_firm_limit():
    """The LP has no site rows: whole items of two firms at a site of one firm (the sole
    face policy) are no start to complete apart; the whole model's completion frees them."""
    model = _separable_rollout(1, face="sole")
    core = model.core
    for site_items in core.site_items:
        firms_of = {}
        for i in site_items:
            for k in core.by_item[i]:
                firms_of.setdefault(core.options[k].firm, (i, k))
        pairs = [(i, k) for i, k in firms_of.values()]
        two = [(i, k) for n, (i, k) in enumerate(pairs) if i not in {j for j, _ in pairs[:n]}]
        if len(two) >= 2:
            break
    else:
        pytest.fail("no site with items two firms can do")
    (i1, k1), (i2, k2) = two[:2]
    x = [False] * len(model.x)
    x[k1] = x[k2] = True
    guess = Incumbent(x, [False] * len(core.items), 0.0)
    free = set(range(len(core.items))) - set(site_items)  # nothing more comes to the site
    assert complete_apart(model, guess, free, 60.0, seed=0) is None
    assert complete(model, guess, free, 60.0, workers=1, seed=0) is None  # the limit holds
