"""Marshmallow schemas of the planning domain."""

import marshmallow as ma
from marshmallow import validate

from ..schemas import StrictArgs, text
from .models import PLAN_STATUSES


class AssignmentSchema(ma.Schema):
    id = ma.fields.Integer()
    work_item_id = ma.fields.Integer()
    firm_id = ma.fields.Integer()
    start_on = ma.fields.Date()
    end_on = ma.fields.Date()
    hours = ma.fields.Float()
    is_firm_locked = ma.fields.Boolean()
    is_date_locked = ma.fields.Boolean()


class PlanSchema(ma.Schema):
    id = ma.fields.Integer()
    project_id = ma.fields.Integer()
    version = ma.fields.Integer()
    status = ma.fields.String()
    notes = ma.fields.String()
    created_at = ma.fields.DateTime()
    solver_status = ma.fields.String(metadata={"description": "lead coordinators only"})
    objective = ma.fields.Float(allow_none=True, metadata={"description": "lead coordinators "
                                                                          "only; euros"})
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema))
    summary = ma.fields.Dict(metadata={"description": "the solver's report: terms, bound, gap, "
                                                      "unassigned items with reasons, "
                                                      "explanations, per firm and site; "
                                                      "partners get only their own firm's row"})


class PlanListSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()


class PlanArgs(StrictArgs):
    time_limit = ma.fields.Float(load_default=10.0, validate=validate.Range(0.5, 300),
                                 metadata={"description": "seconds the solver may take"})
    base_plan_id = ma.fields.Integer(
        metadata={"description": "re-plan from this plan: its locks are kept and changes "
                                 "from it are kept few"})
    seed = ma.fields.Integer(load_default=0, validate=validate.Range(0, 2**31 - 1))


class PlanUpdateArgs(StrictArgs):
    status = ma.fields.String(validate=validate.OneOf([s for s in PLAN_STATUSES
                                                       if s != "superseded"]))
    notes = text(4000)


class PlanQueryArgs(StrictArgs):
    status = ma.fields.String(validate=validate.OneOf(PLAN_STATUSES))
