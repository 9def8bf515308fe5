"""solver.instance: instance, plan and result files; round trips, the schema and bad input."""

import copy
import datetime as dt
import json
import math
import re
from pathlib import Path

import jsonschema
import pytest

from solver.instance import (
    Plan,
    load_plan,
    load_problem,
    plan_from_dict,
    plan_to_dict,
    problem_from_dict,
    problem_to_dict,
    result_to_dict,
    save_problem,
    schema,
)
from solver.types import (
    Assignment,
    Availability,
    Ban,
    Exclusion,
    Explanation,
    Firm,
    FirmReport,
    FirmSkill,
    Lock,
    Option,
    PlannedItem,
    Policy,
    Problem,
    ProblemError,
    Result,
    Site,
    SiteReport,
    Unassigned,
    WeekLoad,
    Weights,
    WorkItem,
)

DAYS = tuple(dt.date(2025, 3, 3) + dt.timedelta(days=n) for n in (0, 1, 2, 3, 4, 7, 8))


def full_problem() -> Problem:
    """Every field away from its default somewhere."""
    return Problem(
        name="Branch refresh",
        working_days=DAYS,
        sites=(
            Site("hq", 52.52, 13.405, name="Head office", region="Berlin"),
            Site("dc", 52.3906, 13.0645, ready_on=DAYS[2],
                 access_weekdays=frozenset({1, 3, 5}),
                 blackout_dates=frozenset({DAYS[4], DAYS[3]})),
        ),
        items=(
            WorkItem("net", "hq", "network", 12.5, min_proficiency=2, kind="network",
                     label="Switches"),
            WorkItem("srv", "hq", "server", 16.0, min_proficiency=3, crew_size=2,
                     earliest_on=DAYS[1], due_on=DAYS[5], depends_on=("net",), kind="server"),
            WorkItem("rack", "dc", "server", 24.0, depends_on=("net", "srv")),
        ),
        firms=(
            Firm("netco", 52.5, 13.4,
                 skills=(FirmSkill("network", 4, 60.0), FirmSkill("server", 3, 70.5)),
                 availability=(Availability(DAYS[0], DAYS[-1], 2),
                               Availability(DAYS[2], DAYS[3], 1, 6.5)),
                 name="NetCo", travel_radius_km=50.0, travel_cost_per_km=0.5,
                 blackout_dates=frozenset({DAYS[1]}), min_share_percent=10.0,
                 max_share_percent=90.0),
            Firm("srvco", 52.4, 13.07, skills=(FirmSkill("server", 5, 90.0),),
                 availability=()),
        ),
        policy=Policy(max_firms_per_site=1, face_policy="sole",
                      weights=Weights(coverage=900.0, stability=0.0), due_dates_hard=False,
                      speedup_per_level=0.1, hard_shares=False),
        exclusions=(Exclusion("srvco", "hq"), Exclusion("netco")),
        bans=(Ban("rack", "netco"), Ban("net", "srvco")),
        locks=(Lock("net", firm="netco"), Lock("srv", start_on=DAYS[3]),
               Lock("rack", firm="srvco", start_on=DAYS[4])),
        reference=(PlannedItem("net", "netco", DAYS[0]), PlannedItem("srv", "srvco")),
        skills=("server", "network", "cabling"),
    )


def gap_problem() -> Problem:
    """Explicit options (a Generalized Assignment Problem of one day)."""
    return Problem(
        working_days=DAYS[:1], sites=(Site("s", 0.0, 0.0),),
        items=(WorkItem("j1", "s", "any", 5.0), WorkItem("j2", "s", "any", 7.0)),
        firms=(Firm("m1", 0.0, 0.0, (), (Availability(DAYS[0], DAYS[0], 1, 12.0),)),
               Firm("m2", 0.0, 0.0, (), (Availability(DAYS[0], DAYS[0], 1, 12.0),))),
        options=(Option("j1", "m1", 5.0, 10.0), Option("j1", "m2", 4.0, 12.5, days=1),
                 Option("j2", "m2", 7.0, 3.0)),
    )


def through_json(data):
    return json.loads(json.dumps(data, allow_nan=False))


# --- round trips ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [full_problem, gap_problem])
def test_problem_round_trip(make):
    problem = make()
    data = through_json(problem_to_dict(problem))
    assert problem_from_dict(data) == problem
    assert problem_to_dict(problem_from_dict(data)) == data


def test_options_none_and_empty_stay_apart():
    none = full_problem()
    empty = Problem(none.working_days, none.sites, none.items, none.firms, options=())
    assert problem_to_dict(none)["options"] is None
    assert problem_from_dict(through_json(problem_to_dict(empty))).options == ()


def test_save_and_load(tmp_path):
    save_problem(full_problem(), tmp_path / "problem.json")
    assert load_problem(tmp_path / "problem.json") == full_problem()


def test_written_form():
    data = problem_to_dict(full_problem())
    assert list(data)[:5] == ["format", "version", "name", "skills", "working_days"]
    assert data["format"] == "staffing-instance" and data["version"] == 1
    assert data["skills"] == ["server", "network", "cabling"]
    assert data["working_days"][0] == "2025-03-03"
    assert data["sites"][1]["access_weekdays"] == [1, 3, 5]
    assert data["sites"][1]["blackout_dates"] == ["2025-03-06", "2025-03-07"]
    assert data["items"][2]["depends_on"] == ["net", "srv"]
    assert data["exclusions"][1] == {"firm": "netco", "site": None}
    assert data["bans"] == [{"item": "rack", "firm": "netco"}, {"item": "net", "firm": "srvco"}]
    assert list(data).index("bans") == list(data).index("exclusions") + 1


def test_bans_left_out_take_the_default():
    data = through_json(problem_to_dict(full_problem()))
    del data["bans"]
    assert problem_from_dict(data).bans == ()


def test_left_out_keys_take_the_dataclass_defaults():
    data = {"format": "staffing-instance", "version": 1, "working_days": ["2025-03-03"],
            "sites": [{"id": "s", "latitude": 1, "longitude": 2}],
            "items": [{"id": "i", "site": "s", "skill": "k", "hours": 3}],
            "firms": [{"id": "f", "latitude": 1, "longitude": 2, "skills": [],
                       "availability": [{"start_on": "2025-03-03", "end_on": "2025-03-03",
                                         "technicians": 2.0}]}]}
    problem = problem_from_dict(data)
    assert problem == Problem(
        working_days=(dt.date(2025, 3, 3),), sites=(Site("s", 1.0, 2.0),),
        items=(WorkItem("i", "s", "k", 3.0),),
        firms=(Firm("f", 1.0, 2.0, (), (Availability(DAYS[0], DAYS[0], 2),)),))
    assert isinstance(problem.sites[0].latitude, float)
    assert isinstance(problem.firms[0].availability[0].technicians, int)


# --- the schema ----------------------------------------------------------------------------


def validator() -> jsonschema.Draft202012Validator:
    """The schema, with `format: date` asserted (a format is only an annotation otherwise)."""
    jsonschema.Draft202012Validator.check_schema(schema())
    return jsonschema.Draft202012Validator(
        schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def docs_example() -> dict:
    text = (Path(__file__).parents[2] / "docs" / "instance-format.md").read_text("utf-8")
    blocks = [json.loads(b) for b in re.findall(r"```json\n(.*?)```", text, re.DOTALL)]
    return next(b for b in blocks if b.get("format") == "staffing-instance")


def test_docs_example_validates_and_loads():
    example = docs_example()
    validator().validate(example)
    problem = problem_from_dict(example)
    assert (len(problem.sites), len(problem.items), len(problem.firms)) == (2, 3, 2)
    assert any(item.depends_on for item in problem.items)
    assert problem_from_dict(through_json(problem_to_dict(problem))) == problem


@pytest.mark.parametrize("make", [full_problem, gap_problem])
def test_round_tripped_problem_validates(make):
    validator().validate(through_json(problem_to_dict(make())))


def test_schema_defaults_are_the_dataclass_defaults():
    defs = schema()["$defs"]
    assert defs["policy"]["properties"]["face_policy"]["default"] == Policy().face_policy
    assert defs["policy"]["properties"]["speedup_per_level"]["default"] == \
        Policy().speedup_per_level
    for term, weight in Weights().as_dict().items():
        assert defs["weights"]["properties"][term]["default"] == weight
    assert defs["site"]["properties"]["access_weekdays"]["default"] == [1, 2, 3, 4, 5]


# --- bad input -----------------------------------------------------------------------------


def small() -> dict:
    """Two sites, two items, two firms, a lock, a reference entry, an exclusion and a ban."""
    return through_json(problem_to_dict(Problem(
        working_days=DAYS[:3],
        sites=(Site("s1", 52.5, 13.4, blackout_dates=frozenset({DAYS[0], DAYS[1]})),
               Site("s2", 52.4, 13.1)),
        items=(WorkItem("i1", "s1", "net", 8.0, earliest_on=DAYS[0]),
               WorkItem("i2", "s2", "net", 4.0, depends_on=("i1",))),
        firms=(Firm("f1", 52.5, 13.4, (FirmSkill("net", 3, 50.0),),
                    (Availability(DAYS[0], DAYS[2], 1),)),
               Firm("f2", 52.4, 13.1, (FirmSkill("net", 2, 40.0),), ())),
        exclusions=(Exclusion("f2", "s1"),), bans=(Ban("i2", "f1"),), locks=(Lock("i1", "f1"),),
        reference=(PlannedItem("i2", "f2"),), skills=("net", "wifi"),
    )))


def with_options(data):
    data["options"] = [{"item": "i1", "firm": "f1", "hours": 8, "cost": 10}]


def put(path: str, value):
    """A change to small(): set the value at a dotted path such as items.0.hours."""
    *parents, last = path.split(".")

    def change(data):
        for key in parents:
            data = data[int(key)] if key.isdigit() else data[key]
        data[int(last) if last.isdigit() else last] = value
    return change


def drop(path: str):
    *parents, last = path.split(".")

    def change(data):
        for key in parents:
            data = data[int(key)] if key.isdigit() else data[key]
        del data[last]
    return change


def both(*changes):
    def change(data):
        for one in changes:
            one(data)
    return change


# (change to small(), the field named): the reader (syntax) or solver.validate (values)
# refuses these, and so does the schema
SHAPES = [
    (put("format", "other"), "format"),
    (put("version", 2), "version"),
    (drop("version"), "version"),
    (put("colour", "red"), "colour"),
    (put("items.0.hour", 8), "items[0].hour"),
    (put("policy.weights.speed", 1), "policy.weights.speed"),
    (drop("items.0.hours"), "items[0].hours"),
    (drop("firms.1.availability"), "firms[1].availability"),
    (put("items.0.hours", "8"), "items[0].hours"),
    (put("items.0.hours", True), "items[0].hours"),
    (put("items.0.hours", -1), "items[0].hours"),
    (put("items.0.hours", 0), "items[0].hours"),
    (put("items.0.min_proficiency", 6), "items[0].min_proficiency"),
    (put("items.0.min_proficiency", 2.5), "items[0].min_proficiency"),
    (put("firms.0.skills.0.proficiency", 0), "firms[0].skills[0].proficiency"),
    (put("firms.0.skills.0.hourly_rate", -5), "firms[0].skills[0].hourly_rate"),
    (put("items.0.crew_size", 0), "items[0].crew_size"),
    (put("items.0.depends_on", "i1"), "items[0].depends_on"),
    (put("items.1.depends_on", ["i1", "i1"]), "items[1].depends_on[1]"),
    (put("items.0", "i1"), "items[0]"),
    (put("sites", {}), "sites"),
    (put("name", None), "name"),
    (put("items.0.earliest_on", "03/03/2025"), "items[0].earliest_on"),
    (put("working_days.0", "20250303"), "working_days[0]"),
    (put("working_days.1", 20250304), "working_days[1]"),
    (put("sites.0.ready_on", "tomorrow"), "sites[0].ready_on"),
    (put("sites.0.blackout_dates", ["2025-03-03", "2025-03-03"]), "sites[0].blackout_dates[1]"),
    (put("sites.0.access_weekdays", [0, 1]), "sites[0].access_weekdays"),
    (put("sites.0.access_weekdays", [1, 8]), "sites[0].access_weekdays"),
    (put("sites.0.latitude", 91), "sites[0].latitude"),
    (put("firms.0.longitude", -180.5), "firms[0].longitude"),
    (put("firms.0.travel_radius_km", -1), "firms[0].travel_radius_km"),
    (put("firms.0.max_share_percent", 120), "firms[0].max_share_percent"),
    (put("firms.0.availability.0.technicians", 0), "firms[0].availability[0].technicians"),
    (put("firms.0.availability.0.hours_per_technician", 0),
     "firms[0].availability[0].hours_per_technician"),
    (put("firms.0.availability.0.hours_per_technician", 25),
     "firms[0].availability[0].hours_per_technician"),
    (put("policy.face_policy", "boss"), "policy.face_policy"),
    (put("policy.max_firms_per_site", 0), "policy.max_firms_per_site"),
    (put("policy.due_dates_hard", "yes"), "policy.due_dates_hard"),
    (put("policy.speedup_per_level", 1.5), "policy.speedup_per_level"),
    (put("policy.weights.cost", -1), "policy.weights.cost"),
    (put("working_days", []), "working_days"),
    (put("items", []), "items"),
    (put("firms", []), "firms"),
    (put("locks.0", {"item": "i1", "firm": None, "start_on": None}), "locks[0]"),
    (put("exclusions.0.site", 3), "exclusions[0].site"),
    (put("bans", {}), "bans"),
    (put("bans.0.firm", 3), "bans[0].firm"),
    (put("bans.0.item", None), "bans[0].item"),
    (put("bans.0", {"item": "i2"}), "bans[0].firm"),
    (put("bans.0.site", "s1"), "bans[0].site"),
    (put("bans.0.item", ""), "bans[0].item"),
    (both(with_options, put("options.0.days", 0)), "options[0].days"),
    (both(with_options, put("options.0.cost", -1)), "options[0].cost"),
    (put("skills", ["net", "net"]), "skills[1]"),
    (put("items.0.id", ""), "items[0].id"),
    (put("items.0.site", ""), "items[0].site"),
    (put("working_days", ["2025-03-03", "2025-03-03"]), "working_days[1]"),
    (put("working_days.2", "2025-02-30"), "working_days[2]"),
    (put("firms.0.skills.0.proficiency", 3.5), "firms[0].skills[0].proficiency"),
    (put("policy.weights.cost", "1"), "policy.weights.cost"),
    (put("locks.0", {"item": "i1"}), "locks[0]"),
    (both(with_options, put("options.0.hours", 0)), "options[0].hours"),
]

# the schema cannot see these: references, order, cycles, repeats of records, ranges across
# fields; solver.validate refuses them
RULES = [
    (put("items.0.site", "nowhere"), "items[0].site"),
    (put("items.0.skill", "cobol"), "items[0].skill"),
    (put("firms.1.skills.0.skill", "cobol"), "firms[1].skills[0].skill"),
    (put("items.0.depends_on", ["ghost"]), "items[0].depends_on[0]"),
    (put("items.0.depends_on", ["i1"]), "items[0].depends_on[0]"),
    (put("items.0.depends_on", ["i2"]), "items[0].depends_on"),
    (put("exclusions.0.firm", "f9"), "exclusions[0].firm"),
    (put("exclusions.0.site", "s9"), "exclusions[0].site"),
    (put("bans.0.item", "i9"), "bans[0].item"),
    (put("bans.0.firm", "f9"), "bans[0].firm"),
    (put("locks.0.firm", "f9"), "locks[0].firm"),
    (put("locks.0.item", "i9"), "locks[0].item"),
    (put("reference.0.firm", "f9"), "reference[0].firm"),
    (put("reference.0.item", "i9"), "reference[0].item"),
    (both(with_options, put("options.0.firm", "f9")), "options[0].firm"),
    (both(with_options, put("options.0.item", "i9")), "options[0].item"),
    (put("sites.1.id", "s1"), "sites[1].id"),
    (put("items.1.id", "i1"), "items[1].id"),
    (put("firms.1.id", "f1"), "firms[1].id"),
    (both(put("firms.0.min_share_percent", 60), put("firms.0.max_share_percent", 50)),
     "firms[0].min_share_percent"),
    (put("working_days", ["2025-03-04", "2025-03-03"]), "working_days[1]"),
    (put("items.0.due_on", "2025-03-02"), "items[0].due_on"),
    (put("firms.0.availability.0.end_on", "2025-03-02"), "firms[0].availability[0].end_on"),
    (put("firms.0.skills", [{"skill": "net", "proficiency": 3, "hourly_rate": 1}] * 2),
     "firms[0].skills[1]"),
    (put("locks", [{"item": "i1", "firm": "f1"}, {"item": "i1", "start_on": "2025-03-04"}]),
     "locks[1]"),
    (put("reference", [{"item": "i2", "firm": "f2"}, {"item": "i2", "firm": "f1"}]),
     "reference[1]"),
    (both(with_options, lambda data: data["options"].append(dict(data["options"][0]))),
     "options[1]"),
    (put("items.0.depends_on", ["i2"]), "items[0].depends_on"),
]

# changes to small() at the edges of the rules: the schema and the reader both accept them
VALID = [
    put("sites.0.latitude", 90), put("sites.0.latitude", -90),
    put("firms.0.longitude", 180), put("firms.0.longitude", -180),
    put("items.0.hours", 0.01), put("items.0.min_proficiency", 5), put("items.0.crew_size", 2.0),
    put("items.0.due_on", "2025-03-03"), put("items.1.depends_on", []),
    put("firms.0.availability.0.hours_per_technician", 24),
    put("firms.0.availability.0.end_on", "2025-03-03"),
    both(put("firms.0.min_share_percent", 100), put("firms.0.max_share_percent", 100)),
    put("firms.1.skills", []), put("firms.1.availability", []),
    put("policy.speedup_per_level", 0), put("policy.speedup_per_level", 1),
    put("policy.weights.coverage", 0), put("policy.max_firms_per_site", 1),
    put("sites.0.access_weekdays", []), put("sites.0.access_weekdays", [7, 1]),
    put("skills", []), put("sites", [{"id": "s1", "latitude": 0, "longitude": 0},
                                     {"id": "s2", "latitude": 0, "longitude": 0}]),
    put("exclusions.0.site", None), put("exclusions", [{"firm": "f1"}, {"firm": "f1"}]),
    put("bans", []), drop("bans"), put("bans", [{"item": "i2", "firm": "f1"}] * 2),
    put("bans", [{"item": "i1", "firm": "f1"}]),  # the locked item and firm: infeasible
    put("locks.0", {"item": "i1", "start_on": "2025-03-05"}),
    put("locks.0", {"item": "i1", "firm": "f1", "start_on": "2024-01-01"}),
    put("locks", []), put("reference.0.start_on", "2025-03-04"),
    put("options", None), put("options", []),
    both(with_options, put("options.0.days", None)), both(with_options, put("options.0.cost", 0)),
    put("working_days", ["2025-03-03"]),
]


def named_field(change) -> str:
    data = small()
    change(data)
    with pytest.raises(ProblemError) as raised:
        problem_from_dict(data)
    assert str(raised.value) == f"{raised.value.field}: {raised.value.reason}"
    return raised.value.field


def test_small_is_valid():
    validator().validate(small())
    problem_from_dict(small())


@pytest.mark.parametrize(("change", "field"), SHAPES, ids=[field for _, field in SHAPES])
def test_bad_shape_names_the_field_and_the_schema_refuses_it(change, field):
    assert named_field(change) == field
    data = small()
    change(data)
    assert not validator().is_valid(data)


@pytest.mark.parametrize(("change", "field"), RULES, ids=[field for _, field in RULES])
def test_bad_rule_names_the_field_and_the_schema_cannot_see_it(change, field):
    # a case the schema learns to refuse belongs in SHAPES
    assert named_field(change) == field
    data = small()
    change(data)
    assert validator().is_valid(data)


@pytest.mark.parametrize("change", VALID)
def test_edge_of_a_rule_is_valid_to_the_schema_and_the_reader(change):
    data = small()
    change(data)
    validator().validate(data)
    problem_from_dict(data)


def test_an_empty_skill_catalogue_checks_nothing():
    data = small()
    data["skills"] = []
    data["items"][0]["skill"] = "cobol"
    assert problem_from_dict(data).items[0].skill == "cobol"
    del data["skills"]
    assert problem_from_dict(data).skills == ()


def test_dependency_cycle_is_named():
    data = small()
    data["items"][0]["depends_on"] = ["i2"]
    with pytest.raises(ProblemError, match="dependency cycle"):
        problem_from_dict(data)


@pytest.mark.parametrize("data", [[], "instance", None, 3])
def test_not_an_object(data):
    with pytest.raises(ProblemError) as raised:
        problem_from_dict(data)
    assert raised.value.field == "$"


@pytest.mark.parametrize("text", ["{not json", '{"format": NaN}', "[1, Infinity]"])
def test_unreadable_file(tmp_path, text):
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(ProblemError) as raised:
        load_problem(tmp_path / "bad.json")
    assert raised.value.field == "$"


@pytest.mark.parametrize("number", ["1e400", "1" + "0" * 400])
def test_a_number_beyond_a_float_is_refused(tmp_path, number):
    # JSON (and its schema) has no largest number; the planner's numbers are floats
    text = json.dumps(small()).replace('"hours": 8.0', f'"hours": {number}', 1)
    (tmp_path / "big.json").write_text(text)
    with pytest.raises(ProblemError) as raised:
        load_problem(tmp_path / "big.json")
    assert (raised.value.field, raised.value.reason) == ("items[0].hours",
                                                          "must be a finite number")


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        load_problem(tmp_path / "absent.json")


# --- plans and results ---------------------------------------------------------------------


def assignment(item="net", firm="netco", days=DAYS[:2]) -> Assignment:
    return Assignment(item, firm, days[0], days[-1], days, hours=10.8, cost=652.5,
                      travel_cost=4.5)


def result() -> Result:
    return Result(
        status="feasible", objective=1234.5, bound=1000.0, gap=0.19, time_to_first_plan=0.1,
        wall_time=1.5, terms={"coverage": 0.0, "cost": 1234.5},
        assignments=(assignment(), assignment("srv", days=DAYS[2:3])),
        unassigned=(Unassigned("rack", ("no firm reaches dc",)),),
        firms=(FirmReport("netco", 26.8, 100.0, 0.0, 100.0, 1774.75, 6.75, 3,
                          (WeekLoad(DAYS[0], 26.8, 80.0),)),),
        sites=(SiteReport("hq", ("netco",), "netco", 3, DAYS[2]),),
        explanations=(Explanation("net", "netco", None, None, "the only firm"),),
        face_firms={"hq": "netco"}, reasons=(), stats={"options": 4.0, "nodes": math.inf},
    )


def test_plan_round_trip():
    plan = Plan((assignment(), assignment("srv", days=DAYS[2:3])), {"hq": "netco"}, ("rack",))
    data = through_json(plan_to_dict(plan))
    assert data["format"] == "staffing-plan"
    assert plan_from_dict(data) == plan


def test_plan_from_parts_and_from_a_result():
    parts = plan_to_dict([assignment()], {"hq": "netco"}, unassigned=["srv"])
    assert plan_from_dict(through_json(parts)) == Plan((assignment(),), {"hq": "netco"}, ("srv",))
    whole = plan_from_dict(through_json(plan_to_dict(result())))
    assert whole == Plan(result().assignments, {"hq": "netco"}, ("rack",))
    assert plan_from_dict(plan_to_dict([])) == Plan((), {}, ())


def test_result_to_dict_is_json_and_reads_as_a_plan(tmp_path):
    data = result_to_dict(result())
    text = json.dumps(data, allow_nan=False)
    assert data["format"] == "staffing-result"
    assert data["stats"]["nodes"] is None  # infinity has no JSON number
    assert data["unassigned"] == [{"item": "rack", "reasons": ["no firm reaches dc"]}]
    assert data["firms"][0]["weeks"] == [{"week_start": "2025-03-03", "hours": 26.8,
                                          "capacity": 80.0}]
    assert data["sites"][0]["finish_on"] == "2025-03-05"
    assert set(data) >= {"status", "objective", "bound", "gap", "time_to_first_plan",
                         "wall_time", "terms", "assignments", "explanations", "face_firms",
                         "reasons"}
    (tmp_path / "result.json").write_text(text)
    assert load_plan(tmp_path / "result.json") == Plan(
        result().assignments, {"hq": "netco"}, ("rack",))


PLAN_SHAPES = [
    (lambda d: d.update(format="staffing-instance"), "format"),
    (lambda d: d.pop("assignments"), "assignments"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d["assignments"][0].update(days=["2025-3-3"]), "assignments[0].days[0]"),
    (lambda d: d["assignments"][0].pop("hours"), "assignments[0].hours"),
    (lambda d: d["assignments"][0].update(firm=None), "assignments[0].firm"),
    (lambda d: d.update(face_firms=["netco"]), "face_firms"),
    (lambda d: d.update(face_firms={"hq": 3}), "face_firms.hq"),
    (lambda d: d.update(unassigned=[3]), "unassigned[0]"),
]


@pytest.mark.parametrize(("change", "field"), PLAN_SHAPES,
                         ids=[field for _, field in PLAN_SHAPES])
def test_bad_plan_names_the_field(change, field):
    data = through_json(plan_to_dict(Plan((assignment(),), {"hq": "netco"}, ())))
    change(data)
    with pytest.raises(ProblemError) as raised:
        plan_from_dict(copy.deepcopy(data))
    assert raised.value.field == field


def test_plan_keeps_what_the_checker_must_judge():
    # duplicates and unknown ids are the checker's to report, not the reader's
    twice = Plan((assignment(), assignment(), assignment("ghost", "nobody")), {}, ("net",))
    assert plan_from_dict(through_json(plan_to_dict(twice))) == twice
