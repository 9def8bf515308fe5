"""The list scheduler, its completion and the regret heuristic (solver.schedule) under the stop
flag: stopped, each returns what it has done so far, every item placed whole or not at all,
so its plan still passes the independent checker; never stopped, the plan is the same as
without a flag. And the plans a strategy completes (solver.context) stop with the solve."""

from dataclasses import replace

import pytest

from solver.budget import Budget
from solver.check import check
from solver.context import Context
from solver.generate import generate
from solver.outcome import plan_of
from solver.prepare import prepare
from solver.schedule import (
    POLL_EVERY,
    Placement,
    face_firms,
    fill,
    greedy,
    rebalance,
    regret,
    schedule,
)
from solver.types import SolveOptions

from .flags import Flag, looks

PROBLEM = generate(100, 20, 30, seed=3)  # hard shares: only a whole plan may keep them
# the same without hard shares: a part of a plan keeps every other rule
SOFT = replace(PROBLEM, policy=replace(PROBLEM.policy, hard_shares=False))


def _violations(core, placement: Placement) -> list:
    return check(core.problem, plan_of(core, placement, face_firms(core, placement)))


def _plan(placement: Placement) -> dict:
    return {i: (option.index, placement.start[i]) for i, option in placement.chosen.items()}


def _without_sites(core, placement: Placement, every: int) -> Placement:
    """The plan less every `every`-th site's items (a whole site out keeps its rules)."""
    out = {i for i in placement.chosen if core.item_site[i] % every == 0}
    return Placement(chosen={i: o for i, o in placement.chosen.items() if i not in out},
                     start={i: d for i, d in placement.start.items() if i not in out})


@pytest.mark.parametrize("problem", [PROBLEM, SOFT], ids=["hard shares", "soft shares"])
def test_stopped_from_the_start_each_returns_at_once_a_plan_the_checker_passes(problem):
    core = prepare(problem)
    chosen = regret(core)
    assert regret(core, stopped=lambda: True) == {}
    placed = schedule(core, chosen, repair=True, stopped=lambda: True)
    assert placed.stopped and not placed.chosen and _violations(core, placed) == []
    # filling, and bringing shares into range: the plan it was given, as it was
    start = _without_sites(core, schedule(core, chosen, repair=True), 5)
    assert _plan(fill(core, start, stopped=lambda: True)) == _plan(start)
    balanced = rebalance(core, fill(core, start), stopped=lambda: True)
    assert _plan(balanced) == _plan(fill(core, start))


def test_a_schedule_stopped_at_any_look_places_part_of_its_whole_plan():
    core = prepare(SOFT)
    chosen = regret(core)
    whole = schedule(core, chosen, repair=True)
    assert not whole.stopped and len(whole.chosen) > 100
    total = looks(lambda flag: schedule(core, chosen, repair=True, stopped=flag))
    for down in range(total):
        part = schedule(core, chosen, repair=True, stopped=Flag(down))
        # each item it placed is placed as in the whole plan, the others left unassigned
        assert _plan(part).items() <= _plan(whole).items()
        assert part.stopped or _plan(part) == _plan(whole)
        assert _violations(core, part) == []
    part = schedule(core, chosen, repair=True, stopped=Flag(1))
    assert 0 < len(part.chosen) < len(whole.chosen)
    # it looks at the flag up to the end: stopped at its last look, little is left undone
    last = schedule(core, chosen, repair=True, stopped=Flag(total - 1))
    assert len(whole.chosen) - len(last.chosen) <= POLL_EVERY


def test_fill_stopped_at_any_look_keeps_what_it_had_and_every_rule():
    core = prepare(SOFT)
    start = _without_sites(core, schedule(core, regret(core), repair=True), 5)
    assert _violations(core, start) == []
    whole = fill(core, start)
    assert len(whole.chosen) > len(start.chosen)
    for down in range(looks(lambda flag: fill(core, start, stopped=flag))):
        part = fill(core, start, stopped=Flag(down))
        assert set(start.chosen) <= set(part.chosen)
        assert _violations(core, part) == []
    assert _plan(fill(core, start, stopped=Flag())) == _plan(whole)


def test_regret_stopped_at_any_look_gives_part_of_its_whole_assignment():
    core = prepare(SOFT)
    whole = regret(core)
    total = looks(lambda flag: regret(core, flag))
    for down in range(total):
        part = regret(core, Flag(down))
        assert all(whole.get(i) is option for i, option in part.items())
        # an item whose dependency is left out is left out too
        assert all(p in part for i in part for p in core.preds[i])
        assert _violations(core, schedule(core, part)) == []
    # it looks at the flag up to the end: stopped at its last look, little is left undone
    assert len(whole) - len(regret(core, Flag(total - 1))) <= POLL_EVERY


def test_a_flag_that_stays_down_changes_no_plan():
    core = prepare(PROBLEM)
    down = Flag()  # looked at, never up
    chosen = regret(core)
    assert regret(core, down) == chosen
    placed = schedule(core, chosen, repair=True)
    again = schedule(core, chosen, repair=True, stopped=down)
    assert _plan(again) == _plan(placed) and again.failed == placed.failed and not again.stopped
    assert _plan(fill(core, placed, down)) == _plan(fill(core, placed))
    assert _plan(rebalance(core, fill(core, placed), stopped=down)) \
        == _plan(rebalance(core, fill(core, placed)))
    assert down.looks > 0


def _context(core, time_limit=60.0, should_stop=None, grace=0.5) -> Context:
    return Context(core, Budget(time_limit, should_stop, grace), SolveOptions(explain=False),
                   greedy(core))


def test_a_plan_completed_after_the_stop_is_what_was_done_by_then():
    core = prepare(SOFT)  # hard shares could leave an empty plan empty, stopped or not
    # a step outside context.GRACE_STEPS (placing a found plan keeps the grace: test_solve)
    chosen = regret(core)
    assert _context(core).placed(chosen, "evaluate").chosen  # not stopped, it is placed
    placed = _context(core, should_stop=lambda: True).placed(chosen, "evaluate")
    assert not placed.chosen and _violations(core, placed) == []
    # a time limit already gone stops it the same way
    assert not _context(core, time_limit=0.0).placed(chosen, "evaluate").chosen


def test_the_steps_that_may_make_the_first_plan_run_on_for_the_grace():
    # as the greedy plan does (Budget.out_of_time): a stop gives them `grace` seconds more,
    # here more than they take; with no grace they stop at once
    core = prepare(SOFT)
    chosen = regret(core)
    calm = _context(core)
    graced = _context(core, should_stop=lambda: True, grace=600.0)
    for step in ("first plan", "completing"):
        assert _plan(graced.placed(chosen, step)) == _plan(calm.placed(chosen, step))
    assert _plan(graced.completed(graced.first, "first plan")) \
        == _plan(calm.completed(calm.first, "first plan"))
    hurried = _context(core, should_stop=lambda: True, grace=0.0)
    assert not hurried.placed(chosen, "completing").chosen
