"""Every hard rule and objective term of the solver, satisfied and violated, on 2-5 elements.

No app: the solver is pure. Each test builds a tiny problem with `problem(...)`, solves it and
reads the plan, on both paths: the exact model (`mode="exact"`) and the decomposition
(`mode="decompose"`: assign, then place on days), which must keep the same rules.
"""

import dataclasses
import datetime as dt

import pytest

from solver import rules
from solver.check import check
from solver.instance import Plan
from solver.solve import solve
from solver.types import (
    Availability,
    Ban,
    Exclusion,
    Firm,
    FirmSkill,
    Lock,
    Option,
    PlannedItem,
    Policy,
    Problem,
    ProblemError,
    Site,
    SolveOptions,
    Weights,
    WorkItem,
)

MONDAY = dt.date(2027, 3, 1)
WEEK = tuple(MONDAY + dt.timedelta(days=n) for n in range(5))  # Mon..Fri
HAMBURG = (53.55, 9.99)
MUNICH = (48.14, 11.58)
QUIET = Weights(fairness=0.0, continuity=0.0)


def firm(fid, skills=(("desktop", 3, 50.0),), where=HAMBURG, technicians=2, radius=100.0,
         days=WEEK, **extra):
    return Firm(id=fid, latitude=where[0], longitude=where[1],
                skills=tuple(FirmSkill(s, p, r) for s, p, r in skills),
                availability=(Availability(days[0], days[-1], technicians, 8.0),),
                travel_radius_km=radius, **extra)


def site(sid="S1", where=HAMBURG, **extra):
    return Site(id=sid, latitude=where[0], longitude=where[1], **extra)


def item(iid, hours=8.0, sid="S1", skill="desktop", **extra):
    return WorkItem(id=iid, site=sid, skill=skill, hours=hours, **extra)


def problem(items, firms, sites=None, days=WEEK, weights=QUIET, **policy):
    return Problem(working_days=days, sites=tuple(sites or [site()]), items=tuple(items),
                   firms=tuple(firms), policy=Policy(weights=weights, **policy))


# the exact path stops at its proof; the decomposed one searches until its limit
LIMITS = {"exact": 5.0, "decompose": 1.0}


@pytest.fixture(params=sorted(LIMITS))
def mode(request) -> str:
    return request.param


def run(p, mode, **options):
    return solve(p, SolveOptions(time_limit=LIMITS[mode], workers=1, mode=mode, **options))


def by_item(result):
    return {a.item: a for a in result.assignments}


# --- eligibility -------------------------------------------------------------------------


def test_skill_satisfied_and_violated(mode):
    result = run(problem([item("A"), item("B", skill="sqlserver")], [firm("F")]), mode)
    assert by_item(result)["A"].firm == "F"
    [left] = result.unassigned
    assert left.item == "B" and "needs sqlserver" in left.reasons[0]


def test_proficiency(mode):
    result = run(problem([item("A", min_proficiency=3), item("B", min_proficiency=4)],
                         [firm("F", skills=(("desktop", 3, 50.0),))]), mode)
    assert set(by_item(result)) == {"A"}
    assert "proficiency too low" in result.unassigned[0].reasons[0]


def test_travel_radius(mode):
    far = site("FAR", where=MUNICH)
    result = run(problem([item("A"), item("B", sid="FAR")], [firm("F", radius=200)],
                         sites=[site(), far]), mode)
    assert set(by_item(result)) == {"A"}
    assert "outside its travel radius" in result.unassigned[0].reasons[0]


@pytest.mark.parametrize("exclusion", [Exclusion("CHEAP", "S1"), Exclusion("CHEAP", None)])
def test_exclusions_site_and_client(exclusion, mode):
    firms = [firm("CHEAP", skills=(("desktop", 3, 10.0),)), firm("DEAR")]
    allowed = run(problem([item("A")], firms), mode)
    assert by_item(allowed)["A"].firm == "CHEAP"
    p = problem([item("A")], firms)
    excluded = run(Problem(**{**p.__dict__, "exclusions": (exclusion,)}), mode)
    assert by_item(excluded)["A"].firm == "DEAR"


def plan_of(result) -> Plan:
    return Plan(result.assignments, result.face_firms,
                tuple(entry.item for entry in result.unassigned))


@pytest.mark.parametrize("days", [WEEK, WEEK[:1]], ids=["week", "one-day"])
def test_ban_gives_the_item_to_another_firm(mode, days):
    # one day: the decomposed path is the one-day strategy's (firm patterns, the MIP)
    firms = [firm("CHEAP", skills=(("desktop", 3, 10.0),), days=days), firm("DEAR", days=days)]
    p = problem([item("A"), item("B")], firms, days=days)
    assert {a.firm for a in run(p, mode).assignments} == {"CHEAP"}
    banned = dataclasses.replace(p, bans=(Ban("A", "CHEAP"),))
    result = run(banned, mode)
    plan = by_item(result)
    # the ban is of one item: CHEAP keeps the other item of the same site and skill
    assert plan["A"].firm == "DEAR" and plan["B"].firm == "CHEAP"
    assert check(banned, plan_of(result)) == []


def test_an_item_whose_only_firm_is_banned_is_unassigned_with_the_reason(mode):
    p = problem([item("A"), item("B")], [firm("F", name="Fixit")])
    result = run(dataclasses.replace(p, bans=(Ban("A", "F"), Ban("A", "F"))), mode)
    assert set(by_item(result)) == {"B"}
    [left] = result.unassigned
    assert left.item == "A"
    assert "1 banned from this item (Fixit)" in left.reasons[0]


def test_a_ban_drops_an_explicit_option(mode):
    p = problem([item("A")], [firm("F"), firm("G")])
    options = (Option("A", "F", 8.0, 10.0), Option("A", "G", 8.0, 90.0))
    assert by_item(run(dataclasses.replace(p, options=options), mode))["A"].firm == "F"
    banned = dataclasses.replace(p, options=options, bans=(Ban("A", "F"),))
    result = run(banned, mode)
    assert by_item(result)["A"].firm == "G"
    assert check(banned, plan_of(result)) == []


def test_a_lock_to_a_banned_firm_is_infeasible_with_the_reason(mode):
    p = problem([item("A")], [firm("F"), firm("G")])
    locked = dataclasses.replace(p, bans=(Ban("A", "G"),), locks=(Lock("A", firm="G"),))
    result = run(locked, mode)
    assert result.status == "infeasible"
    assert "locked to G, which cannot do it (banned from this item)" in result.reasons[0]


# --- days --------------------------------------------------------------------------------


def test_site_ready_on_access_days_and_blackouts(mode):
    s = site(ready_on=WEEK[1], access_weekdays=frozenset({2, 3, 4, 5}),
             blackout_dates=frozenset({WEEK[2]}))
    result = run(problem([item("A", hours=16.0, crew_size=1)], [firm("F")], sites=[s]), mode)
    assert by_item(result)["A"].days == (WEEK[3], WEEK[4])  # Thu+Fri: the only 2-day run


def test_item_earliest_and_due_dates(mode):
    result = run(problem([item("A", earliest_on=WEEK[2], due_on=WEEK[3])], [firm("F")]), mode)
    assert WEEK[2] <= by_item(result)["A"].start_on <= WEEK[3]
    impossible = run(problem([item("A", hours=24.0, earliest_on=WEEK[3], due_on=WEEK[4])],
                             [firm("F")]), mode)
    assert not impossible.assignments
    assert "no run of free days" in impossible.unassigned[0].reasons[0]


def test_firm_blackout_and_availability(mode):
    f = firm("F", days=WEEK[1:4], blackout_dates=frozenset({WEEK[2]}))
    result = run(problem([item("A")], [f]), mode)
    assert by_item(result)["A"].start_on in (WEEK[1], WEEK[3])


def test_crew_needs_enough_technicians(mode):
    result = run(problem([item("A", crew_size=3)], [firm("F", technicians=2)]), mode)
    assert not result.assignments and result.unassigned[0].item == "A"


def test_spreading_over_days_and_proficiency_speedup(mode):
    # 20 h at min proficiency 1 by a proficiency-3 firm: 20 x 0.9 = 18 h; crew 1 x 8 h: 3 days
    result = run(problem([item("A", hours=20.0)], [firm("F")]), mode)
    a = by_item(result)["A"]
    assert a.hours == pytest.approx(18.0) and len(a.days) == 3
    assert a.days == WEEK[a.days[0].weekday():a.days[0].weekday() + 3]


def test_runs_skip_weekends_in_the_working_calendar(mode):
    days = WEEK + tuple(d + dt.timedelta(days=7) for d in WEEK)
    f = firm("F", days=days)
    result = run(problem([item("A", hours=16.0, earliest_on=WEEK[4])], [f], days=days), mode)
    assert by_item(result)["A"].days == (WEEK[4], WEEK[0] + dt.timedelta(days=7))


# --- capacity and precedence -------------------------------------------------------------


def test_capacity_per_day(mode):
    # one technician, 8 h a day: two 8-hour items cannot share a day
    result = run(problem([item("A"), item("B")], [firm("F", technicians=1)]), mode)
    days = [a.start_on for a in result.assignments]
    assert len(days) == 2 and len(set(days)) == 2


def test_capacity_violated_leaves_work_unassigned(mode):
    result = run(problem([item(f"I{n}") for n in range(6)],
                         [firm("F", technicians=1)]), mode)
    assert len(result.assignments) == 5 and len(result.unassigned) == 1


def test_precedence_server_before_desktops(mode):
    items = [item("SRV", skill="winserver"), item("DT", depends_on=("SRV",))]
    f = firm("F", skills=(("desktop", 3, 50.0), ("winserver", 3, 70.0)), technicians=4)
    plan = by_item(run(problem(items, [f]), mode))
    assert plan["DT"].start_on > plan["SRV"].end_on


def test_unassigned_dependency_leaves_dependent_out(mode):
    items = [item("SRV", skill="exchange"), item("DT", depends_on=("SRV",))]
    result = run(problem(items, [firm("F")]), mode)
    reasons = {u.item: u.reasons for u in result.unassigned}
    assert set(reasons) == {"SRV", "DT"}
    assert "depends on SRV" in reasons["DT"][0]


# --- sites -------------------------------------------------------------------------------


def test_at_most_k_firms_per_site(mode):
    items = [item(f"I{n}", hours=16.0) for n in range(3)]
    firms = [firm(f"F{n}", technicians=1, days=WEEK[:2]) for n in range(3)]
    loose = run(problem(items, firms, max_firms_per_site=3, face_policy="none"), mode)
    assert len({a.firm for a in loose.assignments}) == 3
    tight = run(problem(items, firms, max_firms_per_site=2, face_policy="none"), mode)
    assert len({a.firm for a in tight.assignments}) == 2 and len(tight.unassigned) == 1


def test_sole_policy_one_firm_per_site(mode):
    items = [item("A", hours=16.0), item("B", hours=16.0)]
    firms = [firm("F1", technicians=1, days=WEEK[:2]), firm("F2", technicians=1, days=WEEK[:2])]
    result = run(problem(items, firms, face_policy="sole"), mode)
    assert len(result.assignments) == 1 and result.face_firms == {
        "S1": result.assignments[0].firm}


def test_lead_policy_face_does_at_least_half(mode):
    items = [item("BIG", hours=16.0), item("SMALL", hours=8.0)]
    cheap = firm("CHEAP", skills=(("desktop", 3, 10.0),), technicians=1, days=WEEK[:2])
    dear = firm("DEAR", technicians=1)
    result = run(problem(items, [cheap, dear], face_policy="lead"), mode)
    plan = by_item(result)
    face = result.face_firms["S1"]
    face_hours = sum(a.hours for a in result.assignments if a.firm == face)
    assert face_hours >= sum(a.hours for a in result.assignments) / 2
    assert plan["BIG"].firm == "CHEAP"


# --- locks and shares --------------------------------------------------------------------


def test_firm_and_date_locks_are_kept(mode):
    firms = [firm("CHEAP", skills=(("desktop", 3, 10.0),)), firm("DEAR")]
    p = problem([item("A"), item("B")], firms)
    locked = Problem(**{**p.__dict__, "locks": (Lock("A", firm="DEAR"),
                                                Lock("B", start_on=WEEK[3]))})
    plan = by_item(run(locked, mode))
    assert plan["A"].firm == "DEAR" and plan["B"].start_on == WEEK[3]


def test_impossible_lock_is_infeasible_with_reasons(mode):
    p = problem([item("A")], [firm("F"), firm("G", skills=(("network", 3, 10.0),))])
    locked = Problem(**{**p.__dict__, "locks": (Lock("A", firm="G"),)})
    result = run(locked, mode)
    assert result.status == "infeasible" and "locked to G" in result.reasons[0]


def test_min_and_max_shares(mode):
    items = [item(f"I{n}") for n in range(4)]
    cheap = firm("CHEAP", skills=(("desktop", 3, 10.0),), max_share_percent=50.0)
    dear = firm("DEAR", min_share_percent=25.0)
    result = run(problem(items, [cheap, dear]), mode)
    hours = {f.firm: f.share_percent for f in result.firms}
    assert hours["CHEAP"] == pytest.approx(50.0) and hours["DEAR"] == pytest.approx(50.0)
    free = run(problem(items, [firm("CHEAP", skills=(("desktop", 3, 10.0),)), firm("DEAR")]), mode)
    assert {a.firm for a in free.assignments} == {"CHEAP"}


# --- objective ---------------------------------------------------------------------------


def test_cost_prefers_the_cheaper_firm_with_travel(mode):
    near = firm("NEAR", skills=(("desktop", 3, 60.0),), travel_cost_per_km=1.0)
    far = firm("FAR", skills=(("desktop", 3, 50.0),), where=(53.0, 10.5), radius=300,
               travel_cost_per_km=5.0)
    result = run(problem([item("A")], [near, far]), mode)
    assert by_item(result)["A"].firm == "NEAR"
    assert result.terms["cost"] == pytest.approx(by_item(result)["A"].cost)


def test_stability_keeps_the_reference_firm(mode):
    firms = [firm("F1", skills=(("desktop", 3, 50.0),)), firm("F2", skills=(("desktop", 3,
                                                                              51.0),))]
    p = problem([item("A")], firms, weights=Weights(fairness=0, continuity=0, stability=500))
    moved = Problem(**{**p.__dict__, "reference": (PlannedItem("A", "F2"),)})
    assert by_item(run(moved, mode))["A"].firm == "F2"


def test_soft_due_dates_count_lateness(mode):
    items = [item("A", hours=32.0, due_on=WEEK[1])]
    strict = run(problem(items, [firm("F", technicians=1)]), mode)
    assert not strict.assignments
    soft = run(problem(items, [firm("F", technicians=1)], due_dates_hard=False), mode)
    assert by_item(soft)["A"].end_on == WEEK[3]
    assert soft.terms["lateness"] == pytest.approx(2 * 200.0)


def test_reference_rollout_solves_to_optimal_with_explanations(mode):
    items = [item("SRV", skill="winserver", hours=12.0),
             item("DT1", hours=16.0, depends_on=("SRV",)), item("DT2", hours=30.0)]
    firms = [firm("F1", skills=(("desktop", 3, 50.0), ("winserver", 4, 80.0))),
             firm("F2", skills=(("desktop", 2, 45.0),), where=(53.6, 10.1))]
    result = run(problem(items, firms), mode)
    assert result.status == "optimal" and result.gap == 0.0
    assert {e.item for e in result.explanations} == {"SRV", "DT1", "DT2"}
    srv = next(e for e in result.explanations if e.item == "SRV")
    assert srv.next_firm is None and "only eligible firm" in srv.text


# --- bad input ---------------------------------------------------------------------------


@pytest.mark.parametrize("change,field", [
    (lambda p: {"items": (item("A", hours=-1.0),)}, "items[0].hours"),
    (lambda p: {"items": (item("A", depends_on=("B",)), item("B", depends_on=("A",)))},
     "depends_on"),
    (lambda p: {"items": ()}, "items"),
    (lambda p: {"firms": ()}, "firms"),
    (lambda p: {"working_days": ()}, "working_days"),
    (lambda p: {"items": (item("A", sid="NOWHERE"),)}, "items[0].site"),
    (lambda p: {"items": (item("A", skill="cobol"),), "skills": ("desktop",)}, "items[0].skill"),
    (lambda p: {"items": (item("A", min_proficiency=6),)}, "items[0].min_proficiency"),
])
def test_bad_input_raises_problem_error(change, field, mode):
    p = problem([item("A")], [firm("F")])
    with pytest.raises(ProblemError) as error:
        run(Problem(**{**p.__dict__, **change(p)}), mode)
    assert field in error.value.field and error.value.reason


# --- fairness targets ----------------------------------------------------------------------


def test_share_targets_take_a_firm_s_own_target_else_the_middle_of_its_range():
    firms = [firm("F1", min_share_percent=0, max_share_percent=100, target_share_percent=20.0),
             firm("F2", min_share_percent=60, max_share_percent=100)]
    # 20 and 80 (the middle of 60-100), rescaled to sum to 100 % (they already do)
    assert rules.share_targets(firms) == [
        rules.quantise(0.2, rules.SHARE), rules.quantise(0.8, rules.SHARE)]


def test_the_fairness_term_aims_at_the_firms_targets(mode):
    """Two firms alike in everything but their target: ten equal items split 2:8 when the
    fairness term costs more than anything else, and 5:5 without targets."""
    items = [item(f"I{n}", hours=4.0) for n in range(10)]
    weights = Weights(fairness=1000.0, continuity=0.0)
    split = {}
    for target in (None, 20.0):
        firms = [firm("F1", technicians=4, min_share_percent=0, max_share_percent=100,
                      target_share_percent=target),
                 firm("F2", technicians=4, min_share_percent=0, max_share_percent=100,
                      target_share_percent=None if target is None else 100 - target)]
        result = run(problem(items, firms, weights=weights), mode)
        assert not check(problem(items, firms, weights=weights), plan_of(result))
        split[target] = sum(a.firm == "F1" for a in result.assignments)
    assert split == {None: 5, 20.0: 2}


@pytest.mark.parametrize("target,reason", [
    (120.0, "must be between 0 and 100"),
    (70.0, "outside min_share_percent-max_share_percent")])
def test_a_target_share_outside_the_range_is_refused(target, reason):
    p = problem([item("A")], [firm("F1", min_share_percent=10, max_share_percent=60,
                                   target_share_percent=target)])
    with pytest.raises(ProblemError) as error:
        solve(p)
    assert error.value.field == "firms[0].target_share_percent"
    assert reason in error.value.reason
