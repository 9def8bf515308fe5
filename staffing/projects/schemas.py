"""Marshmallow schemas of the projects domain: XSchema for output, XArgs for input."""

import datetime as dt

import marshmallow as ma
from marshmallow import validate, validates_schema

from ..schemas import (
    StrictArgs,
    UpdateArgs,
    database_id,
    date,
    dates,
    latitude,
    longitude,
    search,
    text,
    weekdays,
)
from ..schemas import name as name_field
from .models import OBJECTIVE_TERMS, SITE_FACE_POLICIES, WORK_KINDS

SKILL_CODE = validate.Regexp(r"^[a-z0-9][a-z0-9_.-]{0,49}$",
                             error="lower-case letters, digits, '_', '.', '-' (at most 50)")
MAX_PROJECT_DAYS = 3 * 366  # from start_on to end_on: the planner's horizon stays small


def _ordered(data: dict, first: str, second: str, reason: str) -> None:
    """Raise on data[second] < data[first] when both are given."""
    if data.get(first) is not None and data.get(second) is not None \
            and data[second] < data[first]:
        raise ma.ValidationError(reason, second)


def project_span_problem(start_on: dt.date, end_on: dt.date) -> str | None:
    """Why a project cannot run from start_on to end_on, or None."""
    if end_on < start_on:
        return "must not be before start_on"
    if (end_on - start_on).days >= MAX_PROJECT_DAYS:
        return f"a project lasts at most {MAX_PROJECT_DAYS} days"
    return None


# --- projects ----------------------------------------------------------------------------


class ProjectSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    lead_firm_id = ma.fields.Integer()
    name = ma.fields.String()
    client_name = ma.fields.String()
    description = ma.fields.String()
    start_on = ma.fields.Date()
    end_on = ma.fields.Date()
    working_weekdays = ma.fields.List(ma.fields.Integer())
    holidays = ma.fields.List(ma.fields.Date())
    max_firms_per_site = ma.fields.Integer()
    site_face_policy = ma.fields.String()
    objective_priorities = ma.fields.List(ma.fields.String())
    carries_fair_share = ma.fields.Boolean()
    created_at = ma.fields.DateTime(dump_only=True)


def _objective_priorities(**kwargs) -> ma.fields.List:
    return ma.fields.List(
        ma.fields.String(validate=validate.OneOf(OBJECTIVE_TERMS)),
        validate=validate.Length(min=1, max=len(OBJECTIVE_TERMS)),
        metadata={"description": "objective terms, most important first; terms left out "
                                 "are ignored by the planner"},
        **kwargs,
    )


class _ProjectFields(StrictArgs):
    description = text(4000)
    holidays = dates()
    max_firms_per_site = ma.fields.Integer(validate=validate.Range(1, 50))
    site_face_policy = ma.fields.String(
        validate=validate.OneOf(SITE_FACE_POLICIES),
        metadata={"description": "none: any firms; sole: one firm does all of a site's work; "
                                 "lead: one firm faces the client, others may help"},
    )
    carries_fair_share = ma.fields.Boolean(metadata={
        "description": "each firm's share of hours in the plans approved so far moves its "
                       "target in the next plan: a firm given less is favoured "
                       "(docs/solver.md, fair share across plans)"})

    @validates_schema
    def check_dates(self, data, **kwargs):
        if data.get("start_on") is not None and data.get("end_on") is not None:
            problem = project_span_problem(data["start_on"], data["end_on"])
            if problem:
                raise ma.ValidationError(problem, "end_on")
        if len(set(data.get("objective_priorities") or [])) != \
                len(data.get("objective_priorities") or []):
            raise ma.ValidationError("each term at most once", "objective_priorities")


class ProjectArgs(_ProjectFields):
    name = name_field(required=True)
    client_name = name_field(required=True)
    start_on = date(required=True)
    end_on = date(required=True, metadata={
        "description": f"on or after start_on, less than {MAX_PROJECT_DAYS} days later"})
    working_weekdays = weekdays()
    objective_priorities = _objective_priorities()


class ProjectUpdateArgs(_ProjectFields, UpdateArgs):
    name = name_field()
    client_name = name_field()
    start_on = date()
    end_on = date()
    working_weekdays = weekdays()
    objective_priorities = _objective_priorities()


class ProjectQueryArgs(StrictArgs):
    name = search(metadata={"description": "case-insensitive substring"})
    client_name = search(metadata={"description": "case-insensitive substring"})
    role = ma.fields.String(validate=validate.OneOf(("lead", "partner")),
                            metadata={"description": "projects your firm leads or partners on"})
    active_on = date(metadata={"description": "projects running on this date"})


# --- skills ------------------------------------------------------------------------------


class SkillSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    project_id = ma.fields.Integer()
    code = ma.fields.String()
    name = ma.fields.String()


class SkillArgs(StrictArgs):
    code = ma.fields.String(required=True, validate=SKILL_CODE)
    name = name_field(required=True)


class SkillUpdateArgs(UpdateArgs):
    code = ma.fields.String(validate=SKILL_CODE)
    name = name_field()


# --- sites -------------------------------------------------------------------------------


class SiteSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    project_id = ma.fields.Integer()
    name = ma.fields.String()
    address = ma.fields.String(allow_none=True, metadata={
        "description": "null for a partner until its firm has work at the site in a plan it "
                       "may read (proposed or approved)"})
    region = ma.fields.String()
    latitude = ma.fields.Float(metadata={
        "description": "to one decimal (about 10 km) for a partner without work there"})
    longitude = ma.fields.Float()
    ready_on = ma.fields.Date(allow_none=True)
    access_weekdays = ma.fields.List(ma.fields.Integer())
    blackout_dates = ma.fields.List(ma.fields.Date())
    details_shown = ma.fields.Boolean(dump_default=True, metadata={
        "description": "false: the street address is withheld and the place rounded"})


class SiteArgs(StrictArgs):
    name = name_field(required=True)
    address = text(300)
    region = text(100)
    latitude = latitude(required=True)
    longitude = longitude(required=True)
    ready_on = date(allow_none=True, metadata={"description": "work may start from"})
    access_weekdays = weekdays()
    blackout_dates = dates()


class SiteUpdateArgs(UpdateArgs):
    name = name_field()
    address = text(300)
    region = text(100)
    latitude = latitude()
    longitude = longitude()
    ready_on = date(allow_none=True)
    access_weekdays = weekdays()
    blackout_dates = dates()


class SiteQueryArgs(StrictArgs):
    name = search(metadata={"description": "case-insensitive substring"})
    region = search()


# --- work items --------------------------------------------------------------------------


class WorkItemSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    project_id = ma.fields.Integer()
    site_id = ma.fields.Integer()
    ref = ma.fields.String()
    kind = ma.fields.String()
    label = ma.fields.String()
    skill_id = ma.fields.Integer()
    min_proficiency = ma.fields.Integer()
    effort_hours = ma.fields.Float()
    quantity = ma.fields.Integer()
    crew_size = ma.fields.Integer()
    earliest_on = ma.fields.Date(allow_none=True)
    due_on = ma.fields.Date(allow_none=True)
    depends_on_ids = ma.fields.Method("_depends_on_ids")
    total_hours = ma.fields.Float(metadata={"description": "effort_hours x quantity"})

    def _depends_on_ids(self, item) -> list[int]:
        return [other.id for other in item.depends_on]


def _effort_hours(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(
        allow_nan=False, validate=validate.Range(0, 10_000, min_inclusive=False),
        metadata={"description": "hours per unit, e.g. 1.5 per desktop"}, **kwargs,
    )


class _WorkItemFields(StrictArgs):
    label = text(200)
    min_proficiency = ma.fields.Integer(validate=validate.Range(1, 5),
                                        metadata={"description": "1 (novice) .. 5 (expert)"})
    effort_hours = _effort_hours()
    quantity = ma.fields.Integer(validate=validate.Range(1, 100_000))
    crew_size = ma.fields.Integer(validate=validate.Range(1, 50),
                                  metadata={"description": "technicians working together"})
    earliest_on = date(allow_none=True)
    due_on = date(allow_none=True)
    depends_on_ids = ma.fields.List(
        database_id(), validate=validate.Length(max=500),
        metadata={"description": "work items of the same project that must finish first"},
    )

    @validates_schema
    def check_dates(self, data, **kwargs):
        _ordered(data, "earliest_on", "due_on", "must not be before earliest_on")


class WorkItemArgs(_WorkItemFields):
    site_id = database_id(required=True)
    ref = name_field(50, required=True,
                     metadata={"description": "your reference, unique in the project"})
    kind = ma.fields.String(required=True, validate=validate.OneOf(WORK_KINDS))
    label = text(200, load_default="", metadata={"description": "what the work is, in words"})
    skill_id = database_id(required=True)
    effort_hours = _effort_hours(required=True)


class WorkItemUpdateArgs(_WorkItemFields, UpdateArgs):
    site_id = database_id()
    ref = name_field(50)
    kind = ma.fields.String(validate=validate.OneOf(WORK_KINDS))
    skill_id = database_id()


class WorkItemQueryArgs(StrictArgs):
    site_id = database_id()
    skill_id = database_id()
    kind = ma.fields.String(validate=validate.OneOf(WORK_KINDS))
    ref = search(metadata={"description": "case-insensitive substring"})


# --- CSV import --------------------------------------------------------------------------


class CsvUploadArgs(StrictArgs):
    file = ma.fields.Raw(required=True, metadata={"type": "string", "format": "binary"})


class CsvImportQueryArgs(StrictArgs):
    dry_run = ma.fields.Boolean(load_default=False,
                                metadata={"description": "validate every row, change nothing"})


class CsvImportResultSchema(ma.Schema):
    dry_run = ma.fields.Boolean()
    rows = ma.fields.Integer()
    created = ma.fields.Integer()
    updated = ma.fields.Integer()
