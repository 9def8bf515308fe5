"""solver.check: every hard rule of docs/solver.md, kept and broken, on 2-5 element problems."""

import ast
import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest

from solver.check import RULES, Violation, check, distance_km, main
from solver.instance import Plan, plan_from_dict, plan_to_dict, problem_from_dict, save_problem
from solver.types import (
    Assignment,
    Availability,
    Ban,
    Exclusion,
    Firm,
    FirmSkill,
    Lock,
    Option,
    Policy,
    Problem,
    Site,
    WorkItem,
)

MON = dt.date(2025, 3, 3)
# two working weeks, Monday 3 to Friday 14 March 2025; DAY[4] is a Friday, DAY[5] a Monday
DAY = tuple(MON + dt.timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8, 9, 10, 11))
SATURDAY = dt.date(2025, 3, 8)


def site(id="S1", **changes) -> Site:
    return Site(id=id, latitude=52.52, longitude=13.405, **changes)  # Berlin


def item(id="I1", hours=8.0, **changes) -> WorkItem:
    fields = {"site": "S1", "skill": "net", "min_proficiency": 3} | changes
    return WorkItem(id=id, hours=hours, **fields)


def firm(id="A", proficiency=3, technicians=2, **changes) -> Firm:
    fields = {
        "latitude": 52.50, "longitude": 13.40, "travel_radius_km": 50.0,
        "skills": (FirmSkill("net", proficiency, 50.0),),
        "availability": (Availability(DAY[0], DAY[-1], technicians, 8.0),),
    } | changes
    return Firm(id=id, **fields)


def problem(items=None, firms=None, sites=None, policy=None, working_days=DAY,
            **changes) -> Problem:
    """One site, one item of 8 h, one firm of two technicians; no face policy."""
    return Problem(
        working_days=working_days, sites=sites or (site(),), items=items or (item(),),
        firms=firms or (firm(),), policy=policy or Policy(face_policy="none"), **changes)


def assign(item_id="I1", firm_id="A", days=(DAY[0],), hours=8.0, **changes) -> Assignment:
    fields = {"start_on": days[0] if days else MON, "end_on": days[-1] if days else MON,
              "cost": 0.0, "travel_cost": 0.0} | changes
    return Assignment(item=item_id, firm=firm_id, days=tuple(days), hours=hours, **fields)


def plan(*assignments, unassigned=(), face_firms=None) -> Plan:
    return Plan(assignments=assignments, face_firms=face_firms or {}, unassigned=unassigned)


def rules(problem_, plan_) -> list[str]:
    return [violation.rule for violation in check(problem_, plan_)]


def test_rules_are_named_once():
    assert len(RULES) == len(set(RULES))


def test_violation_says_rule_and_message():
    violations = check(problem(), plan())
    assert violations == [Violation("missing", "I1", None, None, None,
                                    "I1 is neither assigned nor listed unassigned")]
    assert str(violations[0]) == "missing: I1 is neither assigned nor listed unassigned"


# --- rule 1: every item once, to a known firm, or listed unassigned ------------------------


def test_unknown_item_kept():
    assert rules(problem(), plan(assign())) == []


def test_unknown_item_broken():
    assert rules(problem(), plan(assign(), assign("I9"))) == ["unknown_item"]
    assert rules(problem(), plan(assign(), unassigned=("I9",))) == ["unknown_item"]


def test_unknown_firm_kept():
    assert rules(problem(), plan(assign(firm_id="A"))) == []


def test_unknown_firm_broken():
    assert rules(problem(), plan(assign(firm_id="Z"))) == ["unknown_firm"]


def test_duplicate_kept():
    two = problem(items=(item("I1"), item("I2")))
    assert rules(two, plan(assign("I1"), assign("I2", days=(DAY[1],)))) == []


def test_duplicate_broken():
    assert rules(problem(), plan(assign(), assign(days=(DAY[1],)))) == ["duplicate"]
    assert rules(problem(), plan(unassigned=("I1", "I1"))) == ["duplicate"]


def test_assigned_and_unassigned_kept():
    two = problem(items=(item("I1"), item("I2")))
    assert rules(two, plan(assign("I1"), unassigned=("I2",))) == []


def test_assigned_and_unassigned_broken():
    assert rules(problem(), plan(assign(), unassigned=("I1",))) == ["assigned_and_unassigned"]


def test_missing_kept():
    assert rules(problem(), plan(unassigned=("I1",))) == []


def test_missing_broken():
    two = problem(items=(item("I1"), item("I2")))
    assert rules(two, plan(assign("I1"))) == ["missing"]


# --- rule 2: eligibility, or the explicit options ------------------------------------------


def test_skill_kept():
    assert rules(problem(items=(item(skill="net"),)), plan(assign())) == []


def test_skill_broken():
    assert rules(problem(items=(item(skill="server"),)), plan(assign())) == ["skill"]


def test_proficiency_kept():
    assert rules(problem(items=(item(min_proficiency=3),)), plan(assign())) == []


def test_proficiency_broken():
    assert rules(problem(items=(item(min_proficiency=4),)), plan(assign())) == ["proficiency"]


def test_radius_kept():
    near = problem(firms=(firm(travel_radius_km=2.5),))  # the site is 2.25 km away
    assert rules(near, plan(assign())) == []


def test_radius_broken():
    munich = problem(sites=(Site("S1", latitude=48.137, longitude=11.575),))
    assert rules(munich, plan(assign())) == ["radius"]
    assert rules(problem(firms=(firm(travel_radius_km=2.0),)), plan(assign())) == ["radius"]


def test_excluded_kept():
    other_site = problem(sites=(site("S1"), site("S2")), exclusions=(Exclusion("A", "S2"),))
    assert rules(other_site, plan(assign())) == []


def test_excluded_broken():
    at_site = problem(exclusions=(Exclusion("A", "S1"),))
    whole_client = problem(exclusions=(Exclusion("A"),))
    assert rules(at_site, plan(assign())) == ["excluded"]
    assert rules(whole_client, plan(assign())) == ["excluded"]


def test_banned_kept():
    # the ban is of I2 alone: A may still do I1, and I2 left out breaks nothing
    other_item = problem(items=(item("I1"), item("I2")), bans=(Ban("I2", "A"),))
    assert rules(other_item, plan(assign("I1"), unassigned=("I2",))) == []


def test_banned_broken():
    banned = problem(bans=(Ban("I1", "A"),))
    assert check(banned, plan(assign())) == [
        Violation("banned", "I1", "A", "S1", None, "A is banned from I1")]
    # explicit options replace skill and radius, not a ban
    gap = problem(options=(Option("I1", "A", hours=8.0, cost=0.0),), bans=(Ban("I1", "A"),))
    assert rules(gap, plan(assign())) == ["banned"]


def test_option_kept():
    # explicit options replace skill, proficiency and radius: firm A lacks all three here
    gap = problem(items=(item(skill="server", min_proficiency=5),),
                  firms=(firm(travel_radius_km=0.0),),
                  options=(Option("I1", "A", hours=6.0, cost=90.0),))
    assert rules(gap, plan(assign(hours=6.0))) == []


def test_option_broken():
    gap = problem(firms=(firm("A"), firm("B")), options=(Option("I1", "B", 6.0, 90.0),))
    assert rules(gap, plan(assign(firm_id="A"))) == ["option"]


# --- how the item is done: hours, days, start and end --------------------------------------


def test_hours_kept():
    # proficiency 5 for a minimum of 3: two levels, 10 % fewer hours
    faster = problem(firms=(firm(proficiency=5),))
    assert rules(faster, plan(assign(hours=7.2))) == []
    assert rules(faster, plan(assign(hours=7.2 * (1 + 1e-7)))) == []
    floor = problem(firms=(firm(proficiency=5),), policy=Policy(face_policy="none",
                                                                speedup_per_level=0.4))
    assert rules(floor, plan(assign(hours=4.0))) == []  # never below half


def test_hours_broken():
    assert rules(problem(firms=(firm(proficiency=5),)), plan(assign(hours=8.0))) == ["hours"]
    assert rules(problem(), plan(assign(hours=8.001))) == ["hours"]


def test_hours_of_an_option_kept_and_broken():
    gap = problem(options=(Option("I1", "A", hours=6.0, cost=90.0),))
    assert rules(gap, plan(assign(hours=6.0))) == []
    assert rules(gap, plan(assign(hours=8.0))) == ["hours"]


def test_duration_kept():
    # 24 h, one technician of 8 h: three days; a crew of two: two days (16 h a day)
    assert rules(problem(items=(item(hours=24.0),)),
                 plan(assign(days=DAY[:3], hours=24.0))) == []
    assert rules(problem(items=(item(hours=24.0, crew_size=2),)),
                 plan(assign(days=DAY[:2], hours=24.0))) == []


def test_duration_broken():
    assert rules(problem(items=(item(hours=24.0),)),
                 plan(assign(days=DAY[:2], hours=24.0))) == ["duration"]
    assert rules(problem(), plan(assign(days=()))) == ["duration"]


def test_duration_of_an_option_kept_and_broken():
    gap = problem(options=(Option("I1", "A", hours=6.0, cost=90.0, days=2),))
    assert rules(gap, plan(assign(days=DAY[:2], hours=6.0))) == []
    assert rules(gap, plan(assign(days=DAY[:1], hours=6.0))) == ["duration"]


def test_consecutive_kept():
    # Friday then Monday: consecutive working days across the weekend
    two_days = problem(items=(item(hours=16.0),))
    assert rules(two_days, plan(assign(days=(DAY[4], DAY[5]), hours=16.0))) == []


def test_consecutive_broken():
    two_days = problem(items=(item(hours=16.0),))
    assert rules(two_days, plan(assign(days=(DAY[0], DAY[2]), hours=16.0))) == ["consecutive"]
    assert rules(two_days, plan(assign(days=(DAY[1], DAY[0]), hours=16.0,
                                       start_on=DAY[1], end_on=DAY[0]))) == ["consecutive"]


def test_start_end_kept():
    assert rules(problem(), plan(assign(days=(DAY[3],)))) == []


def test_start_end_broken():
    assert rules(problem(), plan(assign(days=(DAY[3],), start_on=DAY[2]))) == ["start_end"]
    assert rules(problem(), plan(assign(days=(DAY[3],), end_on=DAY[4]))) == ["start_end"]


# --- rule 3: every day of the run ----------------------------------------------------------


def test_working_day_kept():
    assert rules(problem(working_days=DAY[:2] + DAY[3:]), plan(assign(days=(DAY[1],)))) == []


def test_working_day_broken():
    holiday = problem(working_days=DAY[:2] + DAY[3:])
    assert rules(holiday, plan(assign(days=(DAY[2],)))) == ["working_day"]


def test_ready_on_kept():
    assert rules(problem(sites=(site(ready_on=DAY[1]),)), plan(assign(days=(DAY[1],)))) == []


def test_ready_on_broken():
    assert rules(problem(sites=(site(ready_on=DAY[1]),)),
                 plan(assign(days=(DAY[0],)))) == ["ready_on"]


def test_earliest_on_kept():
    assert rules(problem(items=(item(earliest_on=DAY[1]),)), plan(assign(days=(DAY[1],)))) == []


def test_earliest_on_broken():
    assert rules(problem(items=(item(earliest_on=DAY[1]),)),
                 plan(assign(days=(DAY[0],)))) == ["earliest_on"]


def test_access_weekday_kept():
    no_monday = problem(sites=(site(access_weekdays=frozenset({2, 3, 4, 5})),))
    assert rules(no_monday, plan(assign(days=(DAY[1],)))) == []


def test_access_weekday_broken():
    no_monday = problem(sites=(site(access_weekdays=frozenset({2, 3, 4, 5})),))
    assert rules(no_monday, plan(assign(days=(DAY[0],)))) == ["access_weekday"]


def test_site_blackout_kept():
    closed = problem(sites=(site(blackout_dates=frozenset({DAY[0]})),))
    assert rules(closed, plan(assign(days=(DAY[1],)))) == []


def test_site_blackout_broken():
    closed = problem(sites=(site(blackout_dates=frozenset({DAY[0]})),))
    assert rules(closed, plan(assign(days=(DAY[0],)))) == ["site_blackout"]


def test_firm_blackout_kept():
    away = problem(firms=(firm(blackout_dates=frozenset({DAY[0]})),))
    assert rules(away, plan(assign(days=(DAY[1],)))) == []


def test_firm_blackout_broken():
    away = problem(firms=(firm(blackout_dates=frozenset({DAY[0]})),))
    assert rules(away, plan(assign(days=(DAY[0],)))) == ["firm_blackout"]


def test_availability_kept():
    later = problem(firms=(firm(availability=(Availability(DAY[1], DAY[-1], 2),)),))
    assert rules(later, plan(assign(days=(DAY[1],)))) == []
    crew = problem(items=(item(crew_size=2),))
    assert rules(crew, plan(assign())) == []


def test_availability_broken():
    later = problem(firms=(firm(availability=(Availability(DAY[1], DAY[-1], 2),)),))
    assert rules(later, plan(assign(days=(DAY[0],)))) == ["availability"]
    crew = problem(items=(item(crew_size=3),))  # the firm has two technicians
    assert rules(crew, plan(assign())) == ["availability"]


def test_due_on_kept():
    assert rules(problem(items=(item(due_on=DAY[1]),)), plan(assign(days=(DAY[1],)))) == []
    soft = problem(items=(item(due_on=DAY[0]),),
                   policy=Policy(face_policy="none", due_dates_hard=False))
    assert rules(soft, plan(assign(days=(DAY[1],)))) == []


def test_due_on_broken():
    assert rules(problem(items=(item(due_on=DAY[0]),)),
                 plan(assign(days=(DAY[1],)))) == ["due_on"]


# --- rule 4: capacity ----------------------------------------------------------------------


def two_full_days() -> Problem:
    """Two items of 16 h for a crew of two: each fills the firm's day (2 x 8 h)."""
    return problem(items=(item("I1", 16.0, crew_size=2), item("I2", 16.0, crew_size=2)))


def test_capacity_kept():
    assert rules(two_full_days(), plan(assign("I1", days=(DAY[0],), hours=16.0),
                                       assign("I2", days=(DAY[1],), hours=16.0))) == []


def test_capacity_broken():
    assert rules(two_full_days(), plan(assign("I1", days=(DAY[0],), hours=16.0),
                                       assign("I2", days=(DAY[0],), hours=16.0))) == ["capacity"]


def test_capacity_adds_overlapping_ranges():
    both = problem(items=(item("I1", 16.0, crew_size=2), item("I2", 16.0, crew_size=2)),
                   firms=(firm(availability=(Availability(DAY[0], DAY[-1], 2),
                                             Availability(DAY[0], DAY[0], 2))),))
    assert rules(both, plan(assign("I1", days=(DAY[0],), hours=16.0),
                            assign("I2", days=(DAY[0],), hours=16.0))) == []


# --- rule 5: precedence --------------------------------------------------------------------


def chain() -> Problem:
    return problem(items=(item("I1"), item("I2", depends_on=("I1",))))


def test_precedence_kept():
    assert rules(chain(), plan(assign("I1", days=(DAY[0],)), assign("I2", days=(DAY[1],)))) == []
    assert rules(chain(), plan(unassigned=("I1", "I2"))) == []


def test_precedence_broken():
    assert rules(chain(), plan(assign("I1", days=(DAY[1],)),
                               assign("I2", days=(DAY[1],)))) == ["precedence"]
    assert rules(chain(), plan(assign("I2", days=(DAY[1],)),
                               unassigned=("I1",))) == ["precedence"]


# --- rule 6: firms per site and the face policy --------------------------------------------


def two_firms(face_policy="none", max_firms=2, items=None, **changes) -> Problem:
    return problem(items=items or (item("I1"), item("I2")), firms=(firm("A"), firm("B")),
                   policy=Policy(face_policy=face_policy, max_firms_per_site=max_firms),
                   **changes)


def test_max_firms_kept():
    assert rules(two_firms(max_firms=2), plan(assign("I1", "A"), assign("I2", "B"))) == []
    assert rules(two_firms(max_firms=1), plan(assign("I1", "A"), assign("I2", "A"))) == []


def test_max_firms_broken():
    assert rules(two_firms(max_firms=1),
                 plan(assign("I1", "A"), assign("I2", "B"))) == ["max_firms"]


def test_face_sole_kept():
    assert rules(two_firms("sole"), plan(assign("I1", "A"), assign("I2", "A"))) == []
    two_sites = two_firms("sole", sites=(site("S1"), site("S2")),
                          items=(item("I1"), item("I2", site="S2")))
    assert rules(two_sites, plan(assign("I1", "A"), assign("I2", "B"))) == []


def test_face_sole_broken():
    assert rules(two_firms("sole"), plan(assign("I1", "A"), assign("I2", "B"))) == ["face_sole"]


def test_face_lead_kept():
    both = plan(assign("I1", "A"), assign("I2", "B"), face_firms={"S1": "A"})
    assert rules(two_firms("lead"), both) == []  # half of the hours is enough
    assert rules(two_firms("lead"), plan(unassigned=("I1", "I2"))) == []  # no work, no face


def test_face_lead_broken():
    lead = two_firms("lead", items=(item("I1", 4.0), item("I2")))
    split = (assign("I1", "A", hours=4.0), assign("I2", "B"))
    assert rules(lead, plan(*split)) == ["face_lead"]  # no face firm
    assert rules(lead, plan(assign("I1", "A", hours=4.0), assign("I2", "A"),
                            face_firms={"S1": "B"})) == ["face_lead"]  # B does no work there
    assert rules(lead, plan(*split, face_firms={"S1": "A"})) == ["face_lead"]  # 4 of 12 h


# --- rule 7: locks -------------------------------------------------------------------------


def test_lock_kept():
    locked = two_firms(items=(item("I1"),), locks=(Lock("I1", firm="B", start_on=DAY[2]),))
    assert rules(locked, plan(assign("I1", "B", days=(DAY[2],)))) == []


def test_locked_item_left_unassigned_is_broken():
    locked = two_firms(items=(item("I1"),), locks=(Lock("I1", firm="B"),))
    assert rules(locked, plan(unassigned=("I1",))) == ["lock"]


def test_overlapping_ranges_add_technicians_for_the_crew():
    ranges = (Availability(DAY[0], DAY[-1], 1, 8.0), Availability(DAY[0], DAY[-1], 1, 8.0))
    two = problem(firms=(firm(availability=ranges),), items=(item("I1", crew_size=2),))
    assert "availability" not in rules(two, plan(assign("I1")))


def test_lock_broken():
    by_firm = two_firms(items=(item("I1"),), locks=(Lock("I1", firm="B"),))
    by_date = two_firms(items=(item("I1"),), locks=(Lock("I1", start_on=DAY[2]),))
    assert rules(by_firm, plan(assign("I1", "A"))) == ["lock"]
    assert rules(by_date, plan(assign("I1", "B", days=(DAY[3],)))) == ["lock"]


# --- rule 8: shares ------------------------------------------------------------------------


def shared(a_share=(0.0, 50.0), b_share=(0.0, 100.0), hard=True) -> Problem:
    return problem(items=(item("I1"), item("I2")),
                   firms=(firm("A", min_share_percent=a_share[0], max_share_percent=a_share[1]),
                          firm("B", min_share_percent=b_share[0], max_share_percent=b_share[1])),
                   policy=Policy(face_policy="none", hard_shares=hard))


def test_share_kept():
    half = plan(assign("I1", "A"), assign("I2", "B"))
    assert rules(shared(a_share=(50.0, 50.0)), half) == []
    assert rules(shared(hard=False), plan(assign("I1", "A"), assign("I2", "A"))) == []
    assert rules(shared(b_share=(30.0, 100.0)), plan(unassigned=("I1", "I2"))) == []


def test_share_broken():
    assert rules(shared(), plan(assign("I1", "A"), assign("I2", "A"))) == ["share"]  # A 100 %
    assert rules(shared(b_share=(60.0, 100.0)),
                 plan(assign("I1", "A"), assign("I2", "B"))) == ["share"]  # B 50 %


# --- a whole plan, the docs example, the command line, independence -----------------------


def test_distance_is_great_circle():
    assert distance_km(52.52, 13.405, 48.137, 11.575) == pytest.approx(504.4, abs=0.5)
    assert distance_km(0.0, 0.0, 0.0, 180.0) == pytest.approx(6371.0088 * 3.141592653589793)


def test_every_rule_at_once_is_reported_independently():
    broken = two_firms("lead", max_firms=1, items=(item("I1"), item("I2", depends_on=("I1",))))
    violations = check(broken, plan(assign("I1", "A", days=(DAY[1],)),
                                    assign("I2", "B", days=(DAY[0],))))
    assert {v.rule for v in violations} == {"precedence", "max_firms", "face_lead"}


def docs_examples() -> list[dict]:
    text = (Path(__file__).parents[2] / "docs" / "instance-format.md").read_text("utf-8")
    return [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]


def test_docs_example_plan_keeps_every_rule():
    instance, plan_file = docs_examples()
    assert check(problem_from_dict(instance), plan_from_dict(plan_file)) == []


def write_files(tmp_path, plan_file) -> tuple[str, str]:
    save_problem(chain(), tmp_path / "problem.json")
    (tmp_path / "plan.json").write_text(json.dumps(plan_file))
    return str(tmp_path / "problem.json"), str(tmp_path / "plan.json")


def test_command_line_without_violation(tmp_path, capsys):
    good = plan_to_dict([assign("I1", days=(DAY[0],)), assign("I2", days=(DAY[1],))])
    assert main(write_files(tmp_path, good)) == 0
    assert capsys.readouterr().out == "no violation\n"


def test_command_line_with_violations(tmp_path, capsys):
    bad = plan_to_dict([assign("I2", days=(DAY[1],))])
    assert main(write_files(tmp_path, bad)) == 1
    assert capsys.readouterr().out.splitlines() == [
        "missing: I1 is neither assigned nor listed unassigned",
        "precedence: I2 depends on I1, which is not assigned",
    ]


def test_command_line_unreadable_input(tmp_path, capsys):
    problem_path, plan_path = write_files(tmp_path, {"format": "staffing-plan", "version": 1})
    assert main([problem_path, plan_path]) == 2
    assert capsys.readouterr().err == f"{plan_path}: assignments: missing\n"
    (tmp_path / "broken.json").write_text("{not json")
    assert main([str(tmp_path / "broken.json"), plan_path]) == 2
    assert main([str(tmp_path / "absent.json"), plan_path]) == 2
    assert main([problem_path]) == 2
    assert "usage" in capsys.readouterr().err


def test_checker_shares_no_code_with_the_model():
    # the instance reader and the one validator of its input are the checker's as much as
    # the solver's: what a problem is, not how a plan is found
    allowed = {"solver.types", "solver.instance", "solver.validate"}
    for name in ("check.py", "instance.py", "validate.py"):
        tree = ast.parse((Path(__file__).parents[2] / "solver" / name).read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert f"solver.{node.module}" in allowed - {f"solver.{name[:-3]}"}
            elif isinstance(node, ast.ImportFrom | ast.Import):
                modules = [node.module] if isinstance(node, ast.ImportFrom) else [
                    alias.name for alias in node.names]
                assert all(m.split(".")[0] not in ("solver", "ortools") for m in modules)


def test_violation_is_frozen():
    violation = check(problem(), plan())[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        violation.rule = "other"  # type: ignore[misc]
