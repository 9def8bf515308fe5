"""The planner's JSON files: instances (a Problem), plans (what `solver.check` reads) and results.

Dates are ISO strings (YYYY-MM-DD), sets are sorted lists, tuples are lists, absent values are
null. Keys are the field names of `solver.types`, and a key left out takes the dataclass default.
Reading is strict: an unknown key, a wrong type or a value the rules cannot make sense of raises
ProblemError whose field is a JSON path such as `items[3].hours` (`$` for the whole document).
The format is documented in docs/instance-format.md and described by instance.schema.json.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from .types import (
    FACE_POLICIES,
    Assignment,
    Availability,
    Exclusion,
    Firm,
    FirmSkill,
    Lock,
    Option,
    PlannedItem,
    Policy,
    Problem,
    ProblemError,
    Result,
    Site,
    Weights,
    WorkItem,
)

FORMAT = "staffing-instance"
PLAN_FORMAT = "staffing-plan"
RESULT_FORMAT = "staffing-result"
VERSION = 1
ROOT = "$"
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

Read = Callable[[Any, str], Any]  # (JSON value, its path) -> Python value, or ProblemError


@dataclass(frozen=True)
class Plan:
    """What a plan file holds: the assignments, the face firm of each site, the items left out."""

    assignments: tuple[Assignment, ...]
    face_firms: dict[str, str] = field(default_factory=dict)
    unassigned: tuple[str, ...] = ()


# --- writing -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A dataclass, date, set, tuple or dict of them as JSON values (non-finite floats: null)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.compare}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, frozenset | set):
        return [_plain(v) for v in sorted(value)]
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def problem_to_dict(problem: Problem) -> dict:
    """A Problem as the JSON-able dict of an instance file, every field written out."""
    body = _plain(problem)
    head = {"format": FORMAT, "version": VERSION, "name": body.pop("name"),
            "skills": body.pop("skills")}
    return head | body


def plan_to_dict(result_or_assignments: Result | Plan | Iterable[Assignment],
                 face_firms: dict[str, str] | None = None,
                 unassigned: Iterable[str] | None = None) -> dict:
    """A plan file from a Result, a Plan or assignments; face_firms and unassigned, when
    given, replace those of the Result or Plan."""
    source = result_or_assignments
    if isinstance(source, Result):
        assignments, faces = source.assignments, source.face_firms
        left_out: Iterable[str] = [entry.item for entry in source.unassigned]
    elif isinstance(source, Plan):
        assignments, faces, left_out = source.assignments, source.face_firms, source.unassigned
    else:
        assignments, faces, left_out = tuple(source), {}, ()
    faces = faces if face_firms is None else face_firms
    left_out = left_out if unassigned is None else unassigned
    return {"format": PLAN_FORMAT, "version": VERSION,
            "assignments": [_plain(a) for a in assignments],
            "face_firms": dict(sorted(faces.items())), "unassigned": list(left_out)}


def result_to_dict(result: Result) -> dict:
    """A Result as a JSON-able dict; `plan_from_dict` reads it as a plan too."""
    return {"format": RESULT_FORMAT, "version": VERSION} | _plain(result)


def save_problem(problem: Problem, path: str | Path) -> None:
    Path(path).write_text(json.dumps(problem_to_dict(problem), indent=2, allow_nan=False) + "\n",
                          encoding="utf-8")


def schema() -> dict:
    """The JSON Schema (draft 2020-12) of instance files, shipped with the package."""
    text = resources.files(__package__).joinpath("instance.schema.json").read_text("utf-8")
    return json.loads(text)


# --- reading values ----------------------------------------------------------------------


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ProblemError(path, "must be a string")
    return value


def _id(value: Any, path: str) -> str:
    if not _string(value, path):
        raise ProblemError(path, "must not be empty")
    return value


def _boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise ProblemError(path, "must be true or false")
    return value


def _number(value: Any, path: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProblemError(path, "must be a number")
    if not math.isfinite(value):
        raise ProblemError(path, "must be a finite number")
    return float(value)


def _integer(value: Any, path: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema counts 2.0 as an integer too
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(path, "must be an integer")
    return value


def _date(value: Any, path: str) -> dt.date:
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ProblemError(path, "must be an ISO date (YYYY-MM-DD)")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ProblemError(path, f"no such date {value!r}") from None


def _within(read: Read, low: float, high: float, reason: str, above: bool = False) -> Read:
    """`read`, then low <= value <= high (low < value when `above`)."""
    def within(value: Any, path: str):
        number = read(value, path)
        if number < low or number > high or (above and number == low):
            raise ProblemError(path, reason)
        return number
    return within


def _nullable(read: Read) -> Read:
    return lambda value, path: None if value is None else read(value, path)


def _list_of(read: Read) -> Read:
    def list_of(value: Any, path: str) -> tuple:
        if not isinstance(value, list):
            raise ProblemError(path, "must be a list")
        return tuple(read(entry, f"{path}[{n}]") for n, entry in enumerate(value))
    return list_of


def _unique_list_of(read: Read) -> Read:
    def unique_list_of(value: Any, path: str) -> tuple:
        entries = _list_of(read)(value, path)
        _no_repeats(entries, path)
        return entries
    return unique_list_of


def _set_of(read: Read) -> Read:
    return lambda value, path: frozenset(_unique_list_of(read)(value, path))


def _no_repeats(entries: Iterable, path: str, what: str = "listed twice") -> None:
    seen = set()
    for n, entry in enumerate(entries):
        if entry in seen:
            raise ProblemError(f"{path}[{n}]", f"{what}: {_words(entry)}")
        seen.add(entry)


def _words(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else repr(value)


def _keys(value: Any, path: str, known: Iterable[str]) -> dict:
    """The JSON object at `path`, refused when it is not one or has a key not in `known`."""
    if not isinstance(value, dict):
        raise ProblemError(path or ROOT, "must be an object")
    known = set(known)
    for key in value:
        if key not in known:
            raise ProblemError(_join(path, str(key)), "unknown key")
    return value


def _record(cls: type, spec: dict[str, Read]) -> Read:
    """A reader of one dataclass: a key per field, defaults from the dataclass itself."""
    def record(value: Any, path: str):
        data = _keys(value, path, spec)
        values = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                values[f.name] = spec[f.name](data[f.name], _join(path, f.name))
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ProblemError(_join(path, f.name), "missing")
        return cls(**values)
    return record


# --- the instance format -----------------------------------------------------------------

_LATITUDE = _within(_number, -90, 90, "must be between -90 and 90")
_LONGITUDE = _within(_number, -180, 180, "must be between -180 and 180")
_NOT_NEGATIVE = _within(_number, 0, math.inf, "must be 0 or more")
_POSITIVE = _within(_number, 0, math.inf, "must be more than 0", above=True)
_PROFICIENCY = _within(_integer, 1, 5, "must be 1 to 5")
_AT_LEAST_ONE = _within(_integer, 1, math.inf, "must be 1 or more")
_PERCENT = _within(_number, 0, 100, "must be between 0 and 100")
_OPTIONAL_DATE = _nullable(_date)

_SITE = _record(Site, {
    "id": _id, "latitude": _LATITUDE, "longitude": _LONGITUDE, "name": _string,
    "region": _string, "ready_on": _OPTIONAL_DATE,
    "access_weekdays": _set_of(_within(_integer, 1, 7, "must be 1 (Monday) to 7 (Sunday)")),
    "blackout_dates": _set_of(_date),
})
_ITEM = _record(WorkItem, {
    "id": _id, "site": _id, "skill": _id, "hours": _POSITIVE, "min_proficiency": _PROFICIENCY,
    "crew_size": _AT_LEAST_ONE, "earliest_on": _OPTIONAL_DATE, "due_on": _OPTIONAL_DATE,
    "depends_on": _list_of(_id), "kind": _string, "label": _string,
})
_FIRM_SKILL = _record(FirmSkill, {
    "skill": _id, "proficiency": _PROFICIENCY, "hourly_rate": _NOT_NEGATIVE,
})
_AVAILABILITY = _record(Availability, {
    "start_on": _date, "end_on": _date, "technicians": _AT_LEAST_ONE,
    "hours_per_technician": _within(_number, 0, 24, "must be more than 0 and at most 24",
                                    above=True),
})
_FIRM = _record(Firm, {
    "id": _id, "latitude": _LATITUDE, "longitude": _LONGITUDE,
    "skills": _list_of(_FIRM_SKILL), "availability": _list_of(_AVAILABILITY),
    "name": _string, "travel_radius_km": _NOT_NEGATIVE, "travel_cost_per_km": _NOT_NEGATIVE,
    "blackout_dates": _set_of(_date), "min_share_percent": _PERCENT,
    "max_share_percent": _PERCENT,
})
_WEIGHTS = _record(Weights, dict.fromkeys(
    (f.name for f in dataclasses.fields(Weights)), _NOT_NEGATIVE))
_POLICY = _record(Policy, {
    "max_firms_per_site": _AT_LEAST_ONE,
    "face_policy": lambda value, path: _one_of(value, path, FACE_POLICIES),
    "weights": _WEIGHTS, "due_dates_hard": _boolean,
    "speedup_per_level": _within(_number, 0, 1, "must be between 0 and 1"),
    "hard_shares": _boolean,
})
_PROBLEM = _record(Problem, {
    "working_days": _list_of(_date), "sites": _list_of(_SITE), "items": _list_of(_ITEM),
    "firms": _list_of(_FIRM), "policy": _POLICY,
    "exclusions": _list_of(_record(Exclusion, {"firm": _id, "site": _nullable(_id)})),
    "locks": _list_of(_record(Lock, {
        "item": _id, "firm": _nullable(_id), "start_on": _OPTIONAL_DATE})),
    "reference": _list_of(_record(PlannedItem, {
        "item": _id, "firm": _id, "start_on": _OPTIONAL_DATE})),
    "options": _nullable(_list_of(_record(Option, {
        "item": _id, "firm": _id, "hours": _POSITIVE, "cost": _NOT_NEGATIVE,
        "days": _nullable(_AT_LEAST_ONE)}))),
    "skills": _unique_list_of(_id), "name": _string,
})


def _one_of(value: Any, path: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ProblemError(path, f"must be one of {', '.join(choices)}")
    return value


def _header(data: Any, formats: tuple[str, ...]) -> str:
    if not isinstance(data, dict):
        raise ProblemError(ROOT, "must be an object")
    if data.get("format") not in formats:
        raise ProblemError("format", f"must be {' or '.join(map(repr, formats))}")
    if isinstance(data.get("version"), bool) or data.get("version") != VERSION:
        raise ProblemError("version", f"must be {VERSION}")
    return data["format"]


def problem_from_dict(data: Any) -> Problem:
    """The Problem of an instance dict; ProblemError(field, reason) on anything wrong."""
    _header(data, (FORMAT,))
    problem = _PROBLEM({key: value for key, value in data.items()
                        if key not in ("format", "version")}, "")
    _check_problem(problem)
    return problem


def load_problem(path: str | Path) -> Problem:
    """The Problem of an instance file; ProblemError on bad content, OSError if unreadable."""
    return problem_from_dict(_load_json(path))


def _load_json(path: str | Path) -> Any:
    text = Path(path).read_text(encoding="utf-8")
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ProblemError(ROOT, f"not JSON: {error}") from None


def _refuse_constant(name: str):
    raise ProblemError(ROOT, f"{name} is not a JSON number")


# --- rules across fields -----------------------------------------------------------------


def _ids(records, path: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for n, record in enumerate(records):
        if record.id in index:
            raise ProblemError(f"{path}[{n}].id", f"duplicate id {record.id!r}")
        index[record.id] = n
    return index


def _check_problem(problem: Problem) -> None:
    """References, order and emptiness: what no single field can tell."""
    if not problem.working_days:
        raise ProblemError("working_days", "no working day")
    for n in range(1, len(problem.working_days)):
        if problem.working_days[n] <= problem.working_days[n - 1]:
            raise ProblemError(f"working_days[{n}]", "not after the day before it")
    if not problem.items:
        raise ProblemError("items", "no work item")
    if not problem.firms:
        raise ProblemError("firms", "no firm")
    sites = _ids(problem.sites, "sites")
    items = _ids(problem.items, "items")
    firms = _ids(problem.firms, "firms")
    skills = frozenset(problem.skills) or None  # an empty catalogue checks nothing

    def known(key, index, path, what):
        if key is not None and key not in index:
            raise ProblemError(path, f"unknown {what} {key!r}")

    for n, item in enumerate(problem.items):
        where = f"items[{n}]"
        known(item.site, sites, f"{where}.site", "site")
        if skills is not None:
            known(item.skill, skills, f"{where}.skill", "skill")
        if item.earliest_on and item.due_on and item.due_on < item.earliest_on:
            raise ProblemError(f"{where}.due_on", "before earliest_on")
        for k, dep in enumerate(item.depends_on):
            known(dep, items, f"{where}.depends_on[{k}]", "item")
            if dep == item.id:
                raise ProblemError(f"{where}.depends_on[{k}]", "an item cannot depend on itself")
        _no_repeats(item.depends_on, f"{where}.depends_on")
    for n, firm in enumerate(problem.firms):
        _check_firm(firm, f"firms[{n}]", skills)
    for n, exclusion in enumerate(problem.exclusions):
        known(exclusion.firm, firms, f"exclusions[{n}].firm", "firm")
        known(exclusion.site, sites, f"exclusions[{n}].site", "site")
    for name, entries in (("locks", problem.locks), ("reference", problem.reference)):
        for n, entry in enumerate(entries):
            known(entry.item, items, f"{name}[{n}].item", "item")
            known(entry.firm, firms, f"{name}[{n}].firm", "firm")
        _no_repeats([entry.item for entry in entries], name, "item named twice")
    for n, lock in enumerate(problem.locks):
        if lock.firm is None and lock.start_on is None:
            raise ProblemError(f"locks[{n}]", "locks neither a firm nor a start date")
    for n, option in enumerate(problem.options or ()):
        known(option.item, items, f"options[{n}].item", "item")
        known(option.firm, firms, f"options[{n}].firm", "firm")
    _no_repeats([(o.item, o.firm) for o in problem.options or ()], "options",
                "item and firm listed twice")
    _check_acyclic(problem.items, items)


def _check_firm(firm: Firm, where: str, skills: frozenset[str] | None) -> None:
    if firm.min_share_percent > firm.max_share_percent:
        raise ProblemError(f"{where}.min_share_percent", "above max_share_percent")
    for k, offer in enumerate(firm.skills):
        if skills is not None and offer.skill not in skills:
            raise ProblemError(f"{where}.skills[{k}].skill", f"unknown skill {offer.skill!r}")
    _no_repeats([offer.skill for offer in firm.skills], f"{where}.skills", "skill listed twice")
    for k, slot in enumerate(firm.availability):
        if slot.end_on < slot.start_on:
            raise ProblemError(f"{where}.availability[{k}].end_on", "before start_on")


def _check_acyclic(items: tuple[WorkItem, ...], index: dict[str, int]) -> None:
    """Kahn's algorithm: whatever keeps a dependency after the queue runs dry is on a cycle."""
    waiting = [len(item.depends_on) for item in items]
    dependents: list[list[int]] = [[] for _ in items]
    for n, item in enumerate(items):
        for dep in item.depends_on:
            dependents[index[dep]].append(n)
    ready = [n for n, count in enumerate(waiting) if count == 0]
    while ready:
        for n in dependents[ready.pop()]:
            waiting[n] -= 1
            if waiting[n] == 0:
                ready.append(n)
    for n, count in enumerate(waiting):
        if count:
            raise ProblemError(f"items[{n}].depends_on",
                               f"dependency cycle through {items[n].id!r}")


# --- the plan format ---------------------------------------------------------------------

_ASSIGNMENT = _record(Assignment, {
    "item": _id, "firm": _id, "start_on": _date, "end_on": _date, "days": _list_of(_date),
    "hours": _number, "cost": _number, "travel_cost": _number,
})
_PLAN_KEYS = ("format", "version", "assignments", "face_firms", "unassigned")


def _face_firms(value: Any, path: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ProblemError(path, "must be an object")
    return {site: _id(firm, f"{path}.{site}") for site, firm in value.items()}


def _unassigned_entry(value: Any, path: str) -> str:
    """An item id; a result file writes {"item", "reasons"} objects instead."""
    if isinstance(value, dict):
        data = _keys(value, path, ("item", "reasons"))
        _list_of(_string)(data.get("reasons", []), _join(path, "reasons"))
        if "item" not in data:
            raise ProblemError(_join(path, "item"), "missing")
        return _id(data["item"], _join(path, "item"))
    return _id(value, path)


def plan_from_dict(data: Any) -> Plan:
    """The Plan of a plan dict, or of a result dict (its other keys are ignored)."""
    kind = _header(data, (PLAN_FORMAT, RESULT_FORMAT))
    if kind == PLAN_FORMAT:
        _keys(data, "", _PLAN_KEYS)
    if "assignments" not in data:
        raise ProblemError("assignments", "missing")
    return Plan(
        assignments=_list_of(_ASSIGNMENT)(data["assignments"], "assignments"),
        face_firms=_face_firms(data.get("face_firms", {}), "face_firms"),
        unassigned=_list_of(_unassigned_entry)(data.get("unassigned", []), "unassigned"),
    )


def load_plan(path: str | Path) -> Plan:
    """The Plan of a plan or result file; ProblemError on bad content, OSError if unreadable."""
    return plan_from_dict(_load_json(path))
