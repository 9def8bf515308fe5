"""solver.validate: each rule refused with its field, and the file and the Problem paths agree."""

import dataclasses
import datetime as dt
import math

import pytest

from solver.instance import problem_from_dict, problem_to_dict
from solver.prepare import prepare
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
from solver.validate import validate

DAYS = tuple(dt.date(2025, 3, 3) + dt.timedelta(days=n) for n in range(5))
NAN = math.nan


def valid() -> Problem:
    """Two sites, three items (one chain), two firms, and one of every cross-reference."""
    return Problem(
        working_days=DAYS,
        sites=(Site("s1", 52.5, 13.4), Site("s2", 52.4, 13.1)),
        items=(WorkItem("a", "s1", "net", 8.0, earliest_on=DAYS[0], due_on=DAYS[3]),
               WorkItem("b", "s1", "net", 4.0, depends_on=("a",)),
               WorkItem("c", "s2", "srv", 6.0, min_proficiency=2, depends_on=("a", "b"))),
        firms=(Firm("f1", 52.5, 13.4, (FirmSkill("net", 3, 50.0), FirmSkill("srv", 2, 60.0)),
                    (Availability(DAYS[0], DAYS[4], 2),), travel_radius_km=50.0,
                    min_share_percent=10.0, max_share_percent=90.0),
               Firm("f2", 52.4, 13.1, (FirmSkill("net", 2, 40.0),), ())),
        exclusions=(Exclusion("f2", "s1"), Exclusion("f2")),
        bans=(Ban("c", "f1"),),
        locks=(Lock("a", firm="f1"), Lock("b", start_on=DAYS[2])),
        reference=(PlannedItem("c", "f1", DAYS[3]),),
        skills=("net", "srv", "wifi"),
    )


def gap() -> Problem:
    return dataclasses.replace(valid(), options=(Option("a", "f1", 8.0, 400.0),
                                                 Option("a", "f2", 9.0, 360.0, days=2)))


# --- changes to a valid problem ------------------------------------------------------------


def top(**changes):
    return lambda p: dataclasses.replace(p, **changes)


def _in(records: tuple, n: int, **changes) -> tuple:
    return records[:n] + (dataclasses.replace(records[n], **changes),) + records[n + 1:]


def site(n, **changes):
    return lambda p: dataclasses.replace(p, sites=_in(p.sites, n, **changes))


def item(n, **changes):
    return lambda p: dataclasses.replace(p, items=_in(p.items, n, **changes))


def firm(n, **changes):
    return lambda p: dataclasses.replace(p, firms=_in(p.firms, n, **changes))


def skill(n, k, **changes):
    return lambda p: dataclasses.replace(
        p, firms=_in(p.firms, n, skills=_in(p.firms[n].skills, k, **changes)))


def slot(n, k, **changes):
    return lambda p: dataclasses.replace(
        p, firms=_in(p.firms, n, availability=_in(p.firms[n].availability, k, **changes)))


def policy(**changes):
    return lambda p: dataclasses.replace(p, policy=dataclasses.replace(p.policy, **changes))


def weights(**changes):
    return policy(weights=dataclasses.replace(Weights(), **changes))


def option(n, **changes):
    return lambda p: dataclasses.replace(p, options=_in(p.options, n, **changes))


# (the problem, a change, the field named, words of the reason): one case per rule
CASES = [
    # the calendar
    (valid, top(working_days=()), "working_days", "no working day"),
    (valid, top(working_days=(DAYS[1], DAYS[0])), "working_days[1]", "not after"),
    (valid, top(working_days=(DAYS[0], DAYS[0], DAYS[1])), "working_days[1]", "not after"),
    # the skill catalogue
    (valid, top(skills=("net", "srv", "net")), "skills[2]", "listed twice"),
    (valid, top(skills=("net", "")), "skills[1]", "must not be empty"),
    (valid, item(2, skill="cobol"), "items[2].skill", "unknown skill 'cobol'"),
    (valid, skill(1, 0, skill="cobol"), "firms[1].skills[0].skill", "unknown skill 'cobol'"),
    # the policy
    (valid, policy(max_firms_per_site=0), "policy.max_firms_per_site", "1 or more"),
    (valid, policy(face_policy="boss"), "policy.face_policy", "none, sole, lead"),
    (valid, weights(cost=-1.0), "policy.weights.cost", "0 or more"),
    (valid, weights(fairness=NAN), "policy.weights.fairness", "finite"),
    (valid, policy(speedup_per_level=1.5), "policy.speedup_per_level", "between 0 and 1"),
    # records at all, and their ids
    (valid, top(items=()), "items", "no work item"),
    (valid, top(firms=()), "firms", "no firm"),
    (valid, site(1, id="s1"), "sites[1].id", "duplicate id 's1'"),
    (valid, item(1, id="a"), "items[1].id", "duplicate id 'a'"),
    (valid, firm(1, id="f1"), "firms[1].id", "duplicate id 'f1'"),
    (valid, item(0, id=""), "items[0].id", "must not be empty"),
    (valid, site(0, id=1), "sites[0].id", "must be a string"),
    # sites
    (valid, site(0, latitude=91.0), "sites[0].latitude", "between -90 and 90"),
    (valid, site(0, longitude=-180.5), "sites[0].longitude", "between -180 and 180"),
    (valid, site(0, latitude=NAN), "sites[0].latitude", "finite"),
    (valid, site(0, access_weekdays=frozenset({1, 8})), "sites[0].access_weekdays", "8 is not"),
    # items
    (valid, item(0, site="nowhere"), "items[0].site", "unknown site 'nowhere'"),
    (valid, item(0, hours=0.0), "items[0].hours", "more than 0"),
    (valid, item(0, hours=math.inf), "items[0].hours", "finite"),
    (valid, item(0, hours=NAN), "items[0].hours", "finite"),
    (valid, item(0, hours="8"), "items[0].hours", "must be a number"),
    (valid, item(0, min_proficiency=6), "items[0].min_proficiency", "1 to 5"),
    (valid, item(0, min_proficiency=2.5), "items[0].min_proficiency", "integer"),
    (valid, item(0, crew_size=0), "items[0].crew_size", "1 or more"),
    (valid, item(0, due_on=dt.date(2025, 3, 2)), "items[0].due_on", "before earliest_on"),
    (valid, item(1, depends_on=("ghost",)), "items[1].depends_on[0]", "unknown item 'ghost'"),
    (valid, item(1, depends_on=("a", "b")), "items[1].depends_on[1]", "depend on itself"),
    (valid, item(2, depends_on=("a", "a")), "items[2].depends_on[1]", "listed twice: 'a'"),
    (valid, item(0, depends_on=("c",)), "items[0].depends_on", "dependency cycle"),
    # firms
    (valid, firm(0, latitude=-90.5), "firms[0].latitude", "between -90 and 90"),
    (valid, firm(0, longitude=181.0), "firms[0].longitude", "between -180 and 180"),
    (valid, firm(0, travel_radius_km=-1.0), "firms[0].travel_radius_km", "0 or more"),
    (valid, firm(0, travel_radius_km=NAN), "firms[0].travel_radius_km", "finite"),
    (valid, firm(0, travel_cost_per_km=-0.5), "firms[0].travel_cost_per_km", "0 or more"),
    (valid, firm(0, min_share_percent=-1.0), "firms[0].min_share_percent", "0 and 100"),
    (valid, firm(0, max_share_percent=101.0), "firms[0].max_share_percent", "0 and 100"),
    (valid, firm(0, min_share_percent=95.0), "firms[0].min_share_percent", "above max"),
    (valid, skill(0, 1, proficiency=0), "firms[0].skills[1].proficiency", "1 to 5"),
    (valid, skill(0, 1, hourly_rate=-5.0), "firms[0].skills[1].hourly_rate", "0 or more"),
    (valid, skill(0, 1, skill="net"), "firms[0].skills[1]", "skill listed twice: 'net'"),
    (valid, slot(0, 0, end_on=dt.date(2025, 3, 1)), "firms[0].availability[0].end_on",
     "before start_on"),
    (valid, slot(0, 0, technicians=0), "firms[0].availability[0].technicians", "1 or more"),
    (valid, slot(0, 0, hours_per_technician=0.0),
     "firms[0].availability[0].hours_per_technician", "at least 0.01"),
    # below a hundredth of an hour a technician's day would round to no work at all
    (valid, slot(0, 0, hours_per_technician=0.004),
     "firms[0].availability[0].hours_per_technician", "at least 0.01"),
    (valid, slot(0, 0, hours_per_technician=24.5),
     "firms[0].availability[0].hours_per_technician", "at most 24"),
    (valid, slot(0, 0, hours_per_technician=NAN),
     "firms[0].availability[0].hours_per_technician", "finite"),
    # exclusions
    (valid, top(exclusions=(Exclusion("f9", "s1"),)), "exclusions[0].firm", "unknown firm 'f9'"),
    (valid, top(exclusions=(Exclusion("f1", "s9"),)), "exclusions[0].site", "unknown site 's9'"),
    # bans
    (valid, top(bans=(Ban("c", "f1"), Ban("z", "f1"))), "bans[1].item", "unknown item 'z'"),
    (valid, top(bans=(Ban("a", "f9"),)), "bans[0].firm", "unknown firm 'f9'"),
    (valid, top(bans=(Ban("", "f1"),)), "bans[0].item", "must not be empty"),
    # locks
    (valid, top(locks=(Lock("z", firm="f1"),)), "locks[0].item", "unknown item 'z'"),
    (valid, top(locks=(Lock("a", firm="f9"),)), "locks[0].firm", "unknown firm 'f9'"),
    (valid, top(locks=(Lock("a"),)), "locks[0]", "neither a firm nor a start date"),
    (valid, top(locks=(Lock("a", firm="f1"), Lock("a", start_on=DAYS[1]))), "locks[1]",
     "item named twice: 'a'"),
    # the reference plan
    (valid, top(reference=(PlannedItem("z", "f1"),)), "reference[0].item", "unknown item"),
    (valid, top(reference=(PlannedItem("a", "f9"),)), "reference[0].firm", "unknown firm"),
    (valid, top(reference=(PlannedItem("a", "f1"), PlannedItem("a", "f2"))), "reference[1]",
     "item named twice: 'a'"),
    # explicit options
    (gap, option(0, item="z"), "options[0].item", "unknown item 'z'"),
    (gap, option(1, firm="f9"), "options[1].firm", "unknown firm 'f9'"),
    (gap, option(0, hours=0.0), "options[0].hours", "more than 0"),
    (gap, option(0, cost=-1.0), "options[0].cost", "0 or more"),
    (gap, option(0, cost=NAN), "options[0].cost", "finite"),
    (gap, option(1, days=0), "options[1].days", "1 or more"),
    (gap, option(1, firm="f1"), "options[1]", "item and firm listed twice: ('a', 'f1')"),
]


def refused(problem: Problem) -> ProblemError:
    with pytest.raises(ProblemError) as raised:
        validate(problem)
    return raised.value


@pytest.mark.parametrize("make", [valid, gap])
def test_a_valid_problem_passes(make):
    validate(make())


@pytest.mark.parametrize(("make", "change", "field", "words"), CASES,
                         ids=[f"{field}-{words}" for _, _, field, words in CASES])
def test_each_broken_rule_names_its_field(make, change, field, words):
    error = refused(change(make()))
    assert error.field == field
    assert words in error.reason
    assert str(error) == f"{field}: {error.reason}"


# --- edges that are not errors -------------------------------------------------------------


@pytest.mark.parametrize("change", [
    # an empty catalogue checks nothing: any skill will do
    top(skills=(), items=(WorkItem("a", "s1", "cobol", 8.0),), bans=(), locks=(),
        reference=()),
    item(0, due_on=DAYS[0]),  # due on the day it may start
    top(exclusions=(Exclusion("f1"), Exclusion("f1"))),  # said twice, barred once
    top(bans=(Ban("a", "f2"), Ban("a", "f2"))),  # said twice, banned once
    top(bans=(Ban("a", "f1"),)),  # banned from a locked item with its firm: infeasible
    top(locks=(Lock("a", start_on=dt.date(2024, 1, 1)),)),  # not a working day: infeasible
    top(options=()),  # nothing possible: every item unassigned, not an error
    site(0, access_weekdays=frozenset()),
    firm(0, min_share_percent=100.0, max_share_percent=100.0),
    policy(speedup_per_level=0.0, max_firms_per_site=1, face_policy="none"),
    slot(0, 0, end_on=DAYS[0], hours_per_technician=24.0),
])
def test_the_edge_of_a_rule_passes(change):
    validate(change(valid()))


# --- the one cycle check -------------------------------------------------------------------


def chain(n: int, back: bool) -> Problem:
    """Items x0 <- x1 <- ... <- x(n-1), each depending on the one before; `back`: x0 on the
    last, which closes a cycle through all of them."""
    items = tuple(WorkItem(f"x{k}", "s1", "net", 1.0, depends_on=(f"x{k - 1}",) if k else ())
                  for k in range(n))
    if back:
        items = (dataclasses.replace(items[0], depends_on=(f"x{n - 1}",)),) + items[1:]
    return dataclasses.replace(valid(), items=items, bans=(), locks=(), reference=())


def test_a_cycle_is_named_by_its_items_from_the_first_in_the_problem():
    p = item(0, depends_on=("b",))(item(1, depends_on=("c",))(item(2, depends_on=("a",))(
        valid())))  # a -> b -> c -> a
    error = refused(p)
    assert error.field == "items[0].depends_on"
    assert error.reason == "dependency cycle 'a' -> 'b' -> 'c' -> 'a' (each depends on the next)"


def test_a_cycle_found_from_later_items_still_starts_at_its_first():
    # a -> c -> b -> c: the walk from a enters the cycle at c, the message starts at b
    p = item(0, depends_on=("c",))(item(1, depends_on=("c",))(item(2, depends_on=("b",))(
        valid())))
    error = refused(p)
    assert error.field == "items[1].depends_on"
    assert "'b' -> 'c' -> 'b'" in error.reason


def test_a_long_cycle_is_named_in_part():
    error = refused(chain(20, back=True))
    assert error.field == "items[0].depends_on"
    assert error.reason.startswith("dependency cycle 'x0' -> 'x19' -> 'x18'")
    assert "... (12 more) -> 'x0'" in error.reason


def test_a_long_chain_without_a_cycle_passes():
    validate(chain(20_000, back=False))  # no recursion limit


# --- one validator, two ways in ------------------------------------------------------------


SAME_ON_BOTH_PATHS = {
    "duplicate option": option(1, firm="f1"),
    "empty lock": top(locks=(Lock("a", firm=None, start_on=None),)),
    "dependency cycle": item(0, depends_on=("c",)),
    "unknown firm in an exclusion": top(exclusions=(Exclusion("nobody", "s1"),)),
    "unknown item in a ban": top(bans=(Ban("nobody", "f1"),)),
    "unknown firm in a ban": top(bans=(Ban("a", "nobody"),)),
}


@pytest.mark.parametrize("change", SAME_ON_BOTH_PATHS.values(), ids=SAME_ON_BOTH_PATHS.keys())
def test_the_file_and_the_service_paths_refuse_alike(change):
    bad = change(gap())
    errors = []
    for way_in in (
        lambda: problem_from_dict(problem_to_dict(bad)),  # an instance file
        lambda: prepare(bad),  # a Problem built in Python, as staffing.planning.mapping does
        lambda: solve(bad, SolveOptions(time_limit=1.0, workers=1)),
    ):
        with pytest.raises(ProblemError) as raised:
            way_in()
        errors.append((raised.value.field, raised.value.reason))
    assert errors[0] == errors[1] == errors[2]


def test_policy_defaults_are_valid():
    validate(dataclasses.replace(valid(), policy=Policy()))
