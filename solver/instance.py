"""The planner's JSON files: instances (a Problem), plans (what `solver.check` reads) and results.

Dates are ISO strings (YYYY-MM-DD), sets are sorted lists, tuples are lists, absent values are
null. Keys are the field names of `solver.types`, and a key left out takes the dataclass default.
Reading is strict: an unknown key, a wrong JSON type or a malformed date raises ProblemError whose
field is a JSON path such as `items[3].hours` (`$` for the whole document). What the values
mean (ranges, references, repeats, cycles) is `solver.validate`'s, which every Problem read
passes, as every Problem the solver prepares does. The format is documented in
docs/instance-format.md and described by instance.schema.json.
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
    Assignment,
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
    Result,
    Site,
    Weights,
    WorkItem,
)
from .validate import validate

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
    try:
        number = float(value)  # an integer of 400 digits overflows
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise ProblemError(path, "must be a finite number")
    return number


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


def _nullable(read: Read) -> Read:
    return lambda value, path: None if value is None else read(value, path)


def _list_of(read: Read) -> Read:
    def list_of(value: Any, path: str) -> tuple:
        if not isinstance(value, list):
            raise ProblemError(path, "must be a list")
        return tuple(read(entry, f"{path}[{n}]") for n, entry in enumerate(value))
    return list_of


def _set_of(read: Read) -> Read:
    """A set is written as a list without repeats: a repeat is a syntax error here, since the
    Problem (a frozenset) could not even hold it."""
    def set_of(value: Any, path: str) -> frozenset:
        seen: set = set()
        for n, entry in enumerate(_list_of(read)(value, path)):
            if entry in seen:
                raise ProblemError(f"{path}[{n}]", f"listed twice: {_words(entry)}")
            seen.add(entry)
        return frozenset(seen)
    return set_of


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


# --- the instance format: syntax only, the values are solver.validate's -----------------

_OPTIONAL_DATE = _nullable(_date)

_SITE = _record(Site, {
    "id": _string, "latitude": _number, "longitude": _number, "name": _string,
    "region": _string, "ready_on": _OPTIONAL_DATE, "access_weekdays": _set_of(_integer),
    "blackout_dates": _set_of(_date),
})
_ITEM = _record(WorkItem, {
    "id": _string, "site": _string, "skill": _string, "hours": _number,
    "min_proficiency": _integer, "crew_size": _integer, "earliest_on": _OPTIONAL_DATE,
    "due_on": _OPTIONAL_DATE, "depends_on": _list_of(_string), "kind": _string,
    "label": _string,
})
_FIRM_SKILL = _record(FirmSkill, {
    "skill": _string, "proficiency": _integer, "hourly_rate": _number,
})
_AVAILABILITY = _record(Availability, {
    "start_on": _date, "end_on": _date, "technicians": _integer,
    "hours_per_technician": _number,
})
_FIRM = _record(Firm, {
    "id": _string, "latitude": _number, "longitude": _number,
    "skills": _list_of(_FIRM_SKILL), "availability": _list_of(_AVAILABILITY),
    "name": _string, "travel_radius_km": _number, "travel_cost_per_km": _number,
    "blackout_dates": _set_of(_date), "min_share_percent": _number,
    "max_share_percent": _number, "target_share_percent": _nullable(_number),
})
_WEIGHTS = _record(Weights, dict.fromkeys(
    (f.name for f in dataclasses.fields(Weights)), _number))
_POLICY = _record(Policy, {
    "max_firms_per_site": _integer, "face_policy": _string, "weights": _WEIGHTS,
    "due_dates_hard": _boolean, "speedup_per_level": _number, "hard_shares": _boolean,
})
_PROBLEM = _record(Problem, {
    "working_days": _list_of(_date), "sites": _list_of(_SITE), "items": _list_of(_ITEM),
    "firms": _list_of(_FIRM), "policy": _POLICY,
    "exclusions": _list_of(_record(Exclusion, {"firm": _string, "site": _nullable(_string)})),
    "bans": _list_of(_record(Ban, {"item": _string, "firm": _string})),
    "locks": _list_of(_record(Lock, {
        "item": _string, "firm": _nullable(_string), "start_on": _OPTIONAL_DATE})),
    "reference": _list_of(_record(PlannedItem, {
        "item": _string, "firm": _string, "start_on": _OPTIONAL_DATE})),
    "options": _nullable(_list_of(_record(Option, {
        "item": _string, "firm": _string, "hours": _number, "cost": _number,
        "days": _nullable(_integer)}))),
    "skills": _list_of(_string), "name": _string,
})


def _header(data: Any, formats: tuple[str, ...]) -> str:
    if not isinstance(data, dict):
        raise ProblemError(ROOT, "must be an object")
    if data.get("format") not in formats:
        raise ProblemError("format", f"must be {' or '.join(map(repr, formats))}")
    if isinstance(data.get("version"), bool) or data.get("version") != VERSION:
        raise ProblemError("version", f"must be {VERSION}")
    return data["format"]


def problem_from_dict(data: Any) -> Problem:
    """The Problem of an instance dict, read then validated (solver.validate);
    ProblemError(field, reason) on anything wrong."""
    _header(data, (FORMAT,))
    problem = _PROBLEM({key: value for key, value in data.items()
                        if key not in ("format", "version")}, "")
    validate(problem)
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
