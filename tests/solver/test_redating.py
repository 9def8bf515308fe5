"""A re-plan keeps days too: the stability term charges a reference item its firm keeps on
another first day (rules.REDATING of the weight), the exact model prices it over its start
variables, the list scheduler prefers the reference day, and at the exit schedule.settle moves
kept items back to their reference days where every rule on days allows it."""

from dataclasses import replace

import pytest

from solver import rules
from solver.check import check
from solver.generate import generate
from solver.instance import Plan
from solver.outcome import plan_of
from solver.prepare import prepare
from solver.schedule import Placement, face_firms, settle
from solver.solve import solve
from solver.types import Lock, PlannedItem, SolveOptions, Weights

from .test_rules import LIMITS, WEEK, by_item, firm, item, problem, run

STABLE = Weights(fairness=0.0, continuity=0.0, stability=500.0)
REDATED = 500.0 * rules.REDATING  # euros for an item kept by its firm on another day


@pytest.fixture(params=sorted(LIMITS))
def mode(request) -> str:
    return request.param


def _placed(core, starts: dict[str, int]) -> Placement:
    """Each named item with its only option, from the given day index."""
    index = {it.id: i for i, it in enumerate(core.items)}
    placement = Placement()
    for name, day in starts.items():
        i = index[name]
        [k] = core.by_item[i]
        placement.chosen[i], placement.start[i] = core.options[k], day
    return placement


def _starts(core, placement: Placement) -> dict[str, int]:
    return {core.items[i].id: d for i, d in placement.start.items()}


def _valid(core, placement: Placement) -> bool:
    return not check(core.problem, plan_of(core, placement, face_firms(core, placement)))


def _replan(items, firms, reference, **policy):
    return replace(problem(items, firms, weights=STABLE, **policy), reference=tuple(
        PlannedItem(i, f, WEEK[d]) for i, f, d in reference))


def test_the_term_charges_a_kept_item_on_other_days():
    core = prepare(_replan([item("A"), item("B")], [firm("F", technicians=1)],
                           [("A", "F", 3), ("B", "F", 0)]))
    at_reference = _placed(core, {"A": 3, "B": 0})
    elsewhere = _placed(core, {"A": 1, "B": 0})
    assert rules.plan_cents(core, at_reference.chosen, at_reference.start)["stability"] == 0
    assert rules.plan_cents(core, elsewhere.chosen, elsewhere.start)["stability"] \
        == REDATED * rules.CENT
    left_out = _placed(core, {"B": 0})
    assert rules.plan_cents(core, left_out.chosen, left_out.start)["stability"] \
        == 500.0 * rules.CENT


def test_settle_moves_kept_items_back_making_room_as_it_goes():
    # one technician: A on day 0 blocks B's reference day until A goes back to day 3
    core = prepare(_replan([item("A"), item("B")], [firm("F", technicians=1)],
                           [("A", "F", 3), ("B", "F", 0)]))
    moved = _placed(core, {"A": 0, "B": 1})
    settled = settle(core, moved)
    assert _starts(core, settled) == {"A": 3, "B": 0}
    assert _valid(core, settled)
    before = sum(rules.plan_cents(core, moved.chosen, moved.start).values())
    assert sum(rules.plan_cents(core, settled.chosen, settled.start).values()) < before


def test_settle_leaves_an_item_whose_reference_day_is_full():
    # C, placed on day 3 (say locked there), takes the one technician A's reference day needs
    core = prepare(_replan([item("A"), item("C")], [firm("F", technicians=1)],
                           [("A", "F", 3)]))
    placement = _placed(core, {"A": 0, "C": 3})
    assert _starts(core, settle(core, placement)) == {"A": 0, "C": 3}


def test_settle_keeps_dependencies_and_due_dates():
    # B depends on A and starts on day 1: A cannot go back to day 2; D would end late there
    due = WEEK[1]
    core = prepare(_replan(
        [item("A"), item("B", depends_on=("A",)), item("D", due_on=due)],
        [firm("F", technicians=3)], [("A", "F", 2), ("D", "F", 4)]))
    placement = _placed(core, {"A": 0, "B": 1, "D": 0})
    settled = settle(core, placement)
    assert settled is placement  # nothing could move: the plan itself
    assert _starts(core, settled) == {"A": 0, "B": 1, "D": 0}


def test_settle_leaves_plans_without_reference_days_alone():
    core = prepare(problem([item("A")], [firm("F")]))
    placement = _placed(core, {"A": 2})
    assert settle(core, placement) is placement


def test_a_replan_keeps_the_reference_days(mode):
    # the list scheduler and the exact model would both start everything on Monday
    reference = [("A", "F", 2), ("B", "F", 4), ("C", "G", 1)]
    result = run(_replan([item("A"), item("B"), item("C")],
                         [firm("F"), firm("G")], reference), mode)
    placed = by_item(result)
    assert {i: (placed[i].firm, placed[i].start_on) for i in placed} == {
        i: (f, WEEK[d]) for i, f, d in reference}
    assert result.terms["stability"] == 0


def test_a_replan_moves_days_only_where_it_must(mode):
    # a lock puts X on A's reference day with the one technician: A moves, B keeps its day
    items = [item("A"), item("B"), item("X")]
    p = replace(_replan(items, [firm("F", technicians=1)], [("A", "F", 2), ("B", "F", 3)]),
                locks=(Lock("X", "F", WEEK[2]),))
    result = run(p, mode)
    placed = by_item(result)
    assert placed["X"].start_on == WEEK[2] and placed["B"].start_on == WEEK[3]
    assert placed["A"].firm == "F" and placed["A"].start_on not in (WEEK[2], WEEK[3])
    assert result.terms["stability"] == pytest.approx(REDATED)
    if mode == "exact":
        assert result.status == "optimal"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_unchanged_replan_keeps_what_it_started_from(seed):
    # generated rollouts on the decomposed path: the re-plan starts from its reference
    p = generate(80, 15, 20, seed=seed)
    options = SolveOptions(time_limit=4, workers=1, mode="decompose", explain=False)
    first = solve(p, options)
    reference = tuple(PlannedItem(a.item, a.firm, a.start_on) for a in first.assignments)
    again = solve(replace(p, reference=reference, policy=replace(
        p.policy, weights=replace(p.policy.weights, stability=500.0))), options)
    assert not check(p, _plan(again))
    # never worse than the plan it started from: a firm or a day changes only where that
    # saves more than it charges (the full weight, a fifth of it), which is rare
    assert again.objective <= first.objective + 0.005
    was = {a.item: (a.firm, a.start_on) for a in first.assignments}
    kept = [a for a in again.assignments if was.get(a.item, (None,))[0] == a.firm]
    redated = [a.item for a in kept if a.start_on != was[a.item][1]]
    assert len(kept) >= 0.9 * len(was) and len(redated) <= 0.05 * len(was)
    assert again.terms["stability"] == pytest.approx(
        500.0 * (len(was) - len(kept)) + REDATED * len(redated))


def _plan(result) -> Plan:
    return Plan(assignments=result.assignments, face_firms=result.face_firms,
                unassigned=tuple(u.item for u in result.unassigned))
