"""The search over whole sites with days (solver.sites), the pass that places what is left
unassigned (schedule.fill), and the proof of optimality by the assignment relaxation."""

import datetime as dt
from dataclasses import replace

import pytest

from solver.budget import Budget
from solver.check import check
from solver.context import Context
from solver.generate import generate
from solver.instance import Plan
from solver.prepare import prepare
from solver.report import assignments, plan_terms
from solver.schedule import Placement, face_firms, fill, rebalance, schedule
from solver.sites import Plan as SearchPlan
from solver.sites import improve, solve_part
from solver.solve import solve
from solver.strategies.exact import proven_by_relaxation
from solver.types import (
    Availability,
    Firm,
    FirmSkill,
    Lock,
    Policy,
    Problem,
    Site,
    SolveOptions,
    Weights,
    WorkItem,
)

MONDAY = dt.date(2027, 3, 1)
WEEK = tuple(MONDAY + dt.timedelta(days=n) for n in range(5))
HAMBURG = (53.55, 9.99)
QUIET = Weights(fairness=0.0, continuity=0.0)


def firm(fid, rate=50.0, technicians=1, skills=("desktop", "winserver")):
    return Firm(id=fid, latitude=HAMBURG[0], longitude=HAMBURG[1],
                skills=tuple(FirmSkill(s, 3, rate) for s in skills),
                availability=(Availability(WEEK[0], WEEK[-1], technicians, 8.0),),
                travel_radius_km=100.0)


def problem(items, firms, sites=("S1",), weights=QUIET, **policy):
    return Problem(working_days=WEEK,
                   sites=tuple(Site(id=s, latitude=HAMBURG[0], longitude=HAMBURG[1])
                               for s in sites),
                   items=tuple(items), firms=tuple(firms),
                   policy=Policy(weights=weights, **policy))


def item(iid, site="S1", hours=8.0, **extra):
    return WorkItem(id=iid, site=site, skill="desktop", hours=hours, **extra)


def placed(core, choices):
    """A placement from {item id: (firm id, day)}."""
    placement = Placement()
    items = {it.id: n for n, it in enumerate(core.items)}
    for iid, (fid, day) in choices.items():
        i = items[iid]
        [option] = [core.options[k] for k in core.by_item[i]
                    if core.firms[core.options[k].firm].id == fid]
        placement.chosen[i], placement.start[i] = option, day
    return placement


def violations(core, placement):
    faces = face_firms(core, placement)
    plan = Plan(assignments=assignments(core, placement),
                face_firms={core.site_ids[s]: core.firms[f].id for s, f in faces.items()},
                unassigned=tuple(core.items[i].id for i in range(len(core.items))
                                 if i not in placement.chosen))
    return check(core.problem, plan)


def steps(n):
    """A deadline for `improve` that allows n steps."""
    left = iter(range(n))
    return lambda: 1.0 if next(left, None) is not None else 0.0


def value(core, placement):
    return sum(plan_terms(core, placement).values())


def test_part_keeps_the_rest_of_the_plan():
    # B (site S2) depends on A (site S1); F is full on Monday with C
    core = prepare(problem([item("A"), item("B", site="S2", depends_on=("A",)),
                            item("C", site="S3")], [firm("F")], sites=("S1", "S2", "S3")))
    plan = SearchPlan(core, placed(core, {"A": ("F", 1), "B": ("F", 3), "C": ("F", 0)}))
    part = plan.part_of([1])  # site S2: only B is free
    [option] = part.core.options
    starts = [d for d in range(5) if option.starts >> d & 1]
    assert starts == [2, 3, 4]  # after A ends (day 1), never on C's Monday
    rest = plan.placement.chosen[0].hours + plan.placement.chosen[2].hours
    assert part.core.fixed_hours[0] == round(rest * 100)  # A and C stay with F
    # freeing S1 alone: A must stay assigned (B depends on it) and end before B starts
    first = plan.part_of([0])
    assert first.core.required == {0}
    assert [d for d in range(5) if first.core.options[0].starts >> d & 1] == [1, 2]


def test_search_places_what_the_plan_left_out_and_keeps_the_rules():
    # the plan left Y out although the cheap firm still has Thursday and Friday
    items = [item("X", hours=24.0), item("Y", site="S2", hours=16.0)]
    firms = [firm("Cheap", rate=40.0), firm("Dear", rate=80.0)]
    core = prepare(problem(items, firms, sites=("S1", "S2"), max_firms_per_site=1))
    start = placed(core, {"X": ("Cheap", 0)})  # X on Mon-Wed; Y fits Cheap only Thu-Fri
    stats = {}
    better = improve(core, start, deadline=steps(4), workers=1, seed=0,
                     stopped=lambda: False, stats=stats)
    assert len(better.chosen) == 2
    assert not violations(core, better)
    assert value(core, better) < value(core, start)
    assert stats["site_steps_kept"] >= 1


def test_search_never_makes_a_plan_worse():
    items = [item("A"), item("B"), item("C", site="S2")]
    core = prepare(problem(items, [firm("F", technicians=2), firm("G", rate=90.0)],
                           sites=("S1", "S2")))
    start = placed(core, {"A": ("F", 0), "B": ("F", 0), "C": ("F", 1)})  # already optimal
    result = improve(core, start, deadline=steps(6), workers=1, seed=0,
                     stopped=lambda: False)
    assert value(core, result) == value(core, start)
    assert not violations(core, result)


def test_fill_places_a_left_out_item_with_the_site_firm():
    items = [item("A"), item("B", depends_on=("A",)), item("C", site="S2")]
    core = prepare(problem(items, [firm("F"), firm("G", rate=45.0)], sites=("S1", "S2"),
                           max_firms_per_site=1))
    start = placed(core, {"A": ("F", 0)})
    filled = fill(core, start)
    assert {core.items[i].id: core.firms[o.firm].id for i, o in filled.chosen.items()} == \
        {"A": "F", "B": "F", "C": "G"}  # B stays with the site's firm although G is cheaper
    assert filled.start[1] >= 1 and not violations(core, filled)
    assert 1 not in start.chosen  # a new placement; the old one is untouched


def test_relaxation_proves_the_plan_optimal_when_days_do_not_bind():
    items = [item("A"), item("B", site="S2"), item("C", site="S2", depends_on=("B",))]
    result = solve(problem(items, [firm("F"), firm("G", rate=60.0)], sites=("S1", "S2")),
                   SolveOptions(time_limit=5, workers=1))
    assert result.status == "optimal" and result.stats.get("proof") == 1.0
    assert result.gap == 0.0 and not result.unassigned


def test_exact_model_decides_when_days_bind():
    # both items can only run on Monday (due Monday); energy over the week fits one firm,
    # the days do not: the relaxation's answer cannot be placed, the exact model decides
    monday = WEEK[0]
    items = [item("A", due_on=monday), item("B", due_on=monday)]
    result = solve(problem(items, [firm("F"), firm("G", rate=60.0)], due_dates_hard=True),
                   SolveOptions(time_limit=5, workers=1))
    assert result.status == "optimal" and "proof" not in result.stats
    assert sorted(a.firm for a in result.assignments) == ["F", "G"]


def test_relaxed_answer_placed_on_days_becomes_the_exact_models_hint():
    # as above: the relaxation's answer (both on F) cannot be placed as it is; repaired on
    # days it is a complete, valid plan that seeds the exact model
    monday = WEEK[0]
    items = [item("A", due_on=monday), item("B", due_on=monday)]
    core = prepare(problem(items, [firm("F"), firm("G", rate=60.0)], due_dates_hard=True))
    options = SolveOptions(time_limit=5, workers=1)
    proven, placed = proven_by_relaxation(Context(core, Budget(options.time_limit, None),
                                                  options, first=Placement()))
    assert proven is None and placed is not None
    assert len(placed.chosen) == 2 and not violations(core, placed)
    assert sorted(core.firms[o.firm].id for o in placed.chosen.values()) == ["F", "G"]


@pytest.mark.parametrize("size", [(4, 3, 10, 2), (6, 4, 10, 4)])
def test_exact_solve_gives_the_same_plan_for_the_same_seed_and_workers(size):
    problem_ = generate(*size)
    options = SolveOptions(time_limit=10, workers=2, seed=3, explain=False)
    first, second = solve(problem_, options), solve(problem_, options)
    assert first.status == "optimal" and first.stats["mode"] == 1.0
    assert first.assignments == second.assignments
    assert first.objective == second.objective


def test_part_value_moves_with_the_whole_plan_value():
    # fairness and continuity on: the part's value must change exactly as the whole plan's
    items = [item("A"), item("B"), item("C", site="S2"), item("D", site="S3")]
    firms = [firm("F", technicians=2), firm("G", rate=55.0), firm("H", rate=70.0)]
    core = prepare(problem(items, firms, sites=("S1", "S2", "S3"),
                           weights=Weights(fairness=10.0, continuity=300.0)))
    plan = SearchPlan(core, placed(core, {"A": ("F", 0), "B": ("G", 0), "C": ("F", 1),
                                          "D": ("H", 2)}))
    old = value(core, plan.placement)
    part = plan.part_of([0, 2])  # S1 and S3
    answer = solve_part(part, plan.placement, 2.0, 1, 0)
    assert answer is not None
    delta = plan.value_of(part, answer) - plan.value_of(part)
    plan.replace(part, answer)
    assert value(core, plan.placement) - old == pytest.approx(delta, abs=1e-6)
    assert delta < 0  # one firm at S1 instead of two, H's dearer day gone
    assert not violations(core, plan.placement)



def _firm_with_share(fid, max_share, **extra):
    return replace(firm(fid, **extra), max_share_percent=max_share)


def _on(core, fid):
    """Every item on firm `fid` (item -> option)."""
    return {i: core.options[k] for i in range(len(core.items)) for k in core.by_item[i]
            if core.firms[core.options[k].firm].id == fid}


def test_repair_never_moves_an_item_onto_a_firm_at_its_maximum_share():
    # A and B must both run on Monday; F has room for one of them that day
    monday = WEEK[0]
    items = [item("A", due_on=monday), item("B", due_on=monday)]
    capped = prepare(problem(items, [firm("F"), _firm_with_share("G", 10.0)],
                             due_dates_hard=True))
    placement = schedule(capped, _on(capped, "F"), repair=True)
    assert 0 in placement.chosen and placement.failed == {1: "capacity"}  # not onto G
    free = prepare(problem(items, [firm("F"), firm("G")], due_dates_hard=True))
    placement = schedule(free, _on(free, "F"), repair=True)
    assert free.firms[placement.chosen[1].firm].id == "G"


def test_rebalance_leaves_out_an_item_no_firm_can_take_when_a_firm_is_over_its_share():
    # F (max 60 %) does A and B at S1, G does C at S2: F has 2/3 of the hours. One firm per
    # site, so neither A nor B can move to G alone: B (nothing depends on it) is left out
    items = [item("A"), item("B", depends_on=("A",)), item("C", site="S2")]
    core = prepare(problem(items, [_firm_with_share("F", 60.0), firm("G")],
                           sites=("S1", "S2"), max_firms_per_site=1))
    start = placed(core, {"A": ("F", 0), "B": ("F", 1), "C": ("G", 0)})
    balanced = rebalance(core, start)
    assert sorted(balanced.chosen) == [0, 2] and not violations(core, balanced)
    assert sorted(start.chosen) == [0, 1, 2]  # the plan given is left as it was


def test_rebalance_keeps_a_firm_at_exactly_its_maximum_or_with_no_maximum():
    # F at exactly 50 % (its maximum) and G (no maximum) cannot swap anything: unchanged
    items = [item("A"), item("C", site="S2")]
    core = prepare(problem(items, [_firm_with_share("F", 50.0), firm("G")],
                           sites=("S1", "S2"), max_firms_per_site=1))
    start = placed(core, {"A": ("F", 0), "C": ("G", 0)})
    assert sorted(rebalance(core, start).chosen) == [0, 1]
    alone = prepare(problem([item("A"), item("B")], [firm("F")]))
    assert sorted(rebalance(alone, placed(alone, {"A": ("F", 0), "B": ("F", 1)})).chosen) \
        == [0, 1]


def test_rebalance_never_leaves_out_a_locked_item():
    # F does 12 of 16 hours (75 %, max 60 %) and A is locked to F: B goes, though A is
    # smaller; then F does 4 of 8 hours
    items = [item("A", hours=4.0), item("B"), item("C", site="S2", hours=4.0)]
    core = prepare(replace(problem(items, [_firm_with_share("F", 60.0), firm("G")],
                                   sites=("S1", "S2"), max_firms_per_site=1),
                           locks=(Lock(item="A", firm="F"),)))
    start = placed(core, {"A": ("F", 0), "B": ("F", 1), "C": ("G", 0)})
    balanced = rebalance(core, start)
    assert sorted(balanced.chosen) == [0, 2] and not violations(core, balanced)
    assert sorted(start.chosen) == [0, 1, 2]  # the plan given is left as it was


def test_rebalance_moves_no_firm_out_of_its_range_and_so_ends_balanced():
    # F and G (max 40 % each, cheap) and H (no maximum, dear); F does three of five equal
    # items, G two. F's cheapest way out is G, which would then do three: before, the two
    # traded an item back and forth until the moves ran out, ending with one above its
    # maximum. G may not take it, so H does: 40, 40, 20 %
    items = [item(f"I{n}", site=f"S{n}") for n in range(5)]
    core = prepare(problem(items, [_firm_with_share("F", 40.0), _firm_with_share("G", 40.0),
                                   firm("H", rate=90.0)],
                           sites=tuple(f"S{n}" for n in range(5))))
    start = placed(core, {"I0": ("F", 0), "I1": ("F", 1), "I2": ("F", 2),
                          "I3": ("G", 0), "I4": ("G", 1)})
    balanced = rebalance(core, start)
    firms = sorted(core.firms[option.firm].id for option in balanced.chosen.values())
    assert firms == ["F", "F", "G", "G", "H"]
    assert not violations(core, balanced)
