"""The large-neighbourhood search (solver.lns): on a separable model each neighbourhood is a
small model of its own, and the objective it keeps must be the whole model's."""

import time
from dataclasses import replace

from solver import lns, master
from solver.generate import generate
from solver.model import build
from solver.prepare import prepare
from solver.schedule import greedy


def separable_problem(**policy):
    """A generated rollout (sites, dependencies, continuity, firm limits) whose items are tied
    together only in ways the small models keep: no face firm, no shares, no fairness."""
    problem = generate(30, 12, 20, seed=3)
    weights = replace(problem.policy.weights, fairness=0.0)
    policy = {"face_policy": "none", **policy}
    return replace(problem, policy=replace(problem.policy, hard_shares=False, weights=weights,
                                           **policy))


def search(model, seconds=1.5):
    plan = greedy(model.core)
    start = master.evaluate(model, {i: o.index for i, o in plan.chosen.items()}, 5.0, 1, seed=0)
    end = time.monotonic() + seconds
    better = lns.improve(model, start, deadline=lambda: end - time.monotonic(), workers=1,
                         seed=0, stopped=lambda: False)
    return start, better


def test_separable_models_only():
    assert lns.separable(build(prepare(separable_problem()), exact=False))
    assert not lns.separable(build(prepare(generate(30, 12, 20, seed=3)), exact=False))


def test_small_models_keep_the_whole_models_objective():
    for policy in ({}, {"face_policy": "sole"}, {"max_firms_per_site": 1}):
        model = build(prepare(separable_problem(**policy)), exact=False)
        start, better = search(model)
        assert better.objective < start.objective
        chosen = {model.core.options[k].item: k for k, on in enumerate(better.x) if on}
        assert [i for i, out in enumerate(better.unassigned) if not out] == sorted(chosen)
        again = master.evaluate(model, chosen, 5.0, 1, seed=0)
        assert again is not None  # every rule of the whole model holds
        assert abs(again.objective - better.objective) < 0.5
