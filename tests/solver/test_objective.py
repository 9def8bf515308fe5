"""The objective is computed in one place: the CP-SAT model's value of a plan is the value
solver.rules gives it, to the cent, on random plans of random problems."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from ortools.sat.python import cp_model

from solver import rules
from solver.generate import generate
from solver.model import build
from solver.prepare import prepare
from solver.types import PlannedItem, Weights


def _problem(seed: int):
    rng = random.Random(seed)
    problem = generate(rng.randint(2, 4), rng.randint(2, 4), rng.randint(4, 8), seed=seed)
    weights = Weights(coverage=rng.choice([60.0, 1000.0]), cost=rng.choice([0.5, 1.0, 2.0]),
                      lateness=rng.choice([0.0, 200.0]), fairness=rng.choice([0.0, 3.0, 10.0]),
                      continuity=rng.choice([0.0, 20.0, 300.0]),
                      stability=rng.choice([0.0, 500.0]))
    policy = replace(problem.policy, weights=weights,
                     due_dates_hard=rng.random() < 0.5, hard_shares=rng.random() < 0.5)
    reference = tuple(PlannedItem(item.id, rng.choice(problem.firms).id)
                      for item in problem.items if rng.random() < 0.3)
    return replace(problem, policy=policy, reference=reference)


def _random_plan(core, seed: int):
    """A plan the exact model allows, found under a random objective."""
    model = build(core, exact=True)
    rng = random.Random(seed)
    model.cp.minimize(sum(rng.randint(-9, 9) * x for x in model.x))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 5
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    status = solver.solve(model.cp)
    assert status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    chosen, start = {}, {}
    for option in core.options:
        if solver.boolean_value(model.x[option.index]):
            chosen[option.item] = option
            start[option.item] = solver.value(model.start[option.index])
    return chosen, start


def _model_value(core, chosen, start) -> int:
    """The model's objective (cents) with its plan fixed to `chosen` and `start`."""
    model = build(core, exact=True)
    picked = {option.index for option in chosen.values()}
    for option in core.options:
        model.cp.add(model.x[option.index] == int(option.index in picked))
        if option.index in picked:
            model.cp.add(model.start[option.index] == start[option.item])
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 10
    solver.parameters.num_workers = 1
    assert solver.solve(model.cp) == cp_model.OPTIMAL
    return round(solver.objective_value)


@pytest.mark.parametrize("seed", range(24))
def test_the_models_value_of_a_random_plan_is_the_kernels(seed):
    core = prepare(_problem(seed))
    chosen, start = _random_plan(core, seed)
    kernel = sum(rules.plan_cents(core, chosen, start).values())
    assert _model_value(core, chosen, start) == kernel


def test_prices_are_whole_cents_per_unit_of_each_term():
    weights = Weights(coverage=1000.0, cost=1.5, lateness=200.0, fairness=10.0,
                      continuity=300.0, stability=500.0)
    prices = rules.Prices(weights, item_units=[123, 1], targets=[50_000, 50_000])
    # 1,000 euros an hour is 10 euros (1,000 cents) a hundredth of an hour
    assert prices.coverage == [123_000, 1_000]
    assert prices.cost(1001) == 1502  # 1.5 x 10.01 euros = 15.015 euros, halves up
    assert (prices.lateness, prices.fairness, prices.continuity, prices.stability) == (
        20_000, 10, 30_000, 50_000)
    # 1.00 h and 3.00 h against targets of half of 4.00 h each: 1 h away each, 2 h in all
    assert prices.fairness_units({0: 100, 1: 300}, 400) == 200


def test_quantities_are_rounded_half_up_once():
    assert rules.work_units(1.004) == 100 and rules.work_units(0.996) == 100
    assert rules.work_units(0.125) == 13 and rules.work_units(0.001) == 1
    assert rules.cents(10.005) in (1000, 1001)  # 10.005 is 10.00499.. as a float
    assert rules.cents(0.125) == 13
    assert rules.days_needed(801, 1, 800) == 2 and rules.days_needed(800, 1, 800) == 1
    assert rules.daily_load(801, 2) == 401
    assert rules.within_share(50, 100, 50_000, 50_000)
    assert not rules.within_share(51, 101, 50_000, 50_000)
