"""Marshmallow schemas of the planning domain."""

import marshmallow as ma
from marshmallow import validate

from ..schemas import StrictArgs, UpdateArgs, database_id, date, text
from .models import JOB_STATUSES, PLAN_STATUSES

LEAD_ONLY = {"description": "lead coordinators only"}
TIME_LIMITS = (0.5, 3600)  # seconds a solve may be given
SEEDS = (0, 2**31 - 1)
WORKERS = (1, 16)  # CP-SAT threads


def stored_date(**kwargs) -> ma.fields.String:
    """A date the plan's stored report already holds as an ISO string."""
    return ma.fields.String(metadata={"format": "date"}, **kwargs)


class AssignmentSchema(ma.Schema):
    id = ma.fields.Integer()
    work_item_id = ma.fields.Integer()
    firm_id = ma.fields.Integer()
    start_on = ma.fields.Date()
    end_on = ma.fields.Date()
    hours = ma.fields.Float()
    is_firm_locked = ma.fields.Boolean()
    is_date_locked = ma.fields.Boolean()


class AssignmentUpdateArgs(UpdateArgs):
    """Lock or unlock an assignment's firm or dates, or move its item to another firm or
    first day. A move is judged by the checker before it is saved."""

    firm_id = database_id(metadata={"description": "move the item to this firm"})
    start_on = date(metadata={"description": "move the item to start on this working day"})
    is_firm_locked = ma.fields.Boolean(metadata={
        "description": "a re-plan keeps the item with its firm"})
    is_date_locked = ma.fields.Boolean(metadata={
        "description": "a re-plan keeps the item's first day"})
    dry_run = ma.fields.Boolean(load_default=False, metadata={
        "description": "judge the change and show its violations and cost, save nothing"})


class ViolationSchema(ma.Schema):
    rule = ma.fields.String(metadata={"description": "the hard rule (solver.check.RULES)"})
    message = ma.fields.String()
    item = ma.fields.String(allow_none=True)
    firm = ma.fields.String(allow_none=True)
    site = ma.fields.String(allow_none=True)
    day = stored_date(allow_none=True)


class MovedSchema(ma.Schema):
    firm_id = ma.fields.Integer()
    start_on = stored_date()
    end_on = stored_date()
    hours = ma.fields.Float()
    cost = ma.fields.Float(metadata={"description": "euros of rates and travel"})
    travel_cost = ma.fields.Float()


class PreviewSchema(ma.Schema):
    """The plan after the move, as the independent checker judges it."""

    assignment = ma.fields.Nested(MovedSchema, allow_none=True, metadata={
        "description": "the item's firm, days, hours and cost after the move (none when "
                       "the firm cannot take it)"})
    not_eligible = ma.fields.String(allow_none=True, metadata={
        "description": "why the firm cannot take the item at all"})
    caused = ma.fields.List(ma.fields.Nested(ViolationSchema), metadata={
        "description": "hard rules the move breaks"})
    existing = ma.fields.List(ma.fields.Nested(ViolationSchema), metadata={
        "description": "hard rules the plan already broke before the move (its inputs "
                       "changed since it was made)"})
    cost_delta = ma.fields.Float(metadata={"description": "euros of rates and travel"})
    objective_delta = ma.fields.Float()


class AssignmentChangeSchema(ma.Schema):
    assignment = ma.fields.Nested(AssignmentSchema)
    saved = ma.fields.Boolean(metadata={"description": "false for a dry run or no change"})
    preview = ma.fields.Nested(PreviewSchema, allow_none=True, metadata={
        "description": "for a move"})


class AdjustmentSchema(ma.Schema):
    id = ma.fields.Integer()
    plan_id = ma.fields.Integer()
    assignment_id = ma.fields.Integer(allow_none=True)
    work_item_id = ma.fields.Integer()
    user_id = ma.fields.Integer(allow_none=True)
    action = ma.fields.String(metadata={"description": "lock (the locks only) or move"})
    before = ma.fields.Dict()
    after = ma.fields.Dict()
    created_at = ma.fields.DateTime()


class CompareArgs(StrictArgs):
    other_plan_id = database_id(data_key="with", metadata={
        "description": "the plan to compare with (default: the plan this one was re-planned "
                       "from, else the version before it)"})


class ComparedSideSchema(ma.Schema):
    firm_id = ma.fields.Integer()
    firm = ma.fields.String()
    start_on = ma.fields.Date()
    end_on = ma.fields.Date()
    hours = ma.fields.Float()


class ComparedItemSchema(ma.Schema):
    work_item_id = ma.fields.Integer()
    item = ma.fields.String()
    site = ma.fields.String()
    change = ma.fields.String(metadata={"description": "firm, dates, added or removed (for a "
                                                       "partner: to or from its own firm)"})
    before = ma.fields.Nested(ComparedSideSchema, allow_none=True)
    after = ma.fields.Nested(ComparedSideSchema, allow_none=True)
    why = ma.fields.String(allow_none=True, metadata=LEAD_ONLY)


class DeltaSchema(ma.Schema):
    before = ma.fields.Float(allow_none=True)
    after = ma.fields.Float(allow_none=True)
    delta = ma.fields.Float(allow_none=True)


class FirmFiguresSchema(ma.Schema):
    hours = ma.fields.Float()
    share_percent = ma.fields.Float()
    cost = ma.fields.Float()


class FirmDeltaSchema(ma.Schema):
    firm_id = ma.fields.Integer()
    firm = ma.fields.String()
    before = ma.fields.Nested(FirmFiguresSchema)
    after = ma.fields.Nested(FirmFiguresSchema)
    delta = ma.fields.Nested(FirmFiguresSchema)


class OwnDeltaSchema(ma.Schema):
    hours_before = ma.fields.Float()
    hours_after = ma.fields.Float()
    cost_before = ma.fields.Float()
    cost_after = ma.fields.Float()


class ComparisonSchema(ma.Schema):
    plan_id = ma.fields.Integer()
    with_plan_id = ma.fields.Integer()
    version = ma.fields.Integer()
    with_version = ma.fields.Integer()
    changes = ma.fields.List(ma.fields.Nested(ComparedItemSchema))
    counts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    kpis = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Nested(DeltaSchema),
                          metadata=LEAD_ONLY)
    firms = ma.fields.List(ma.fields.Nested(FirmDeltaSchema), metadata=LEAD_ONLY)
    own = ma.fields.Nested(OwnDeltaSchema, metadata={
        "description": "partners and lead members: their own firm's hours and cost"})


class CandidateSchema(ma.Schema):
    firm_id = ma.fields.Integer()
    firm = ma.fields.String()
    eligible = ma.fields.Boolean(metadata={"description": "has the skill, reach and calendar"})
    fits = ma.fields.Boolean(metadata={"description": "takes it keeping every hard rule"})
    reason = ma.fields.String(allow_none=True, metadata={"description": "why not eligible"})
    start_on = ma.fields.Date(allow_none=True)
    end_on = ma.fields.Date(allow_none=True)
    hours = ma.fields.Float(allow_none=True)
    cost = ma.fields.Float(allow_none=True, metadata={"description": "euros for the item"})
    cost_delta = ma.fields.Float(allow_none=True, metadata={
        "description": "euros the whole plan would cost more (less when negative)"})
    objective_delta = ma.fields.Float(allow_none=True)
    violations = ma.fields.List(ma.fields.String(), metadata={
        "description": "hard rules it would break: what else would have to move"})
    is_current = ma.fields.Boolean()


class CandidatesSchema(ma.Schema):
    work_item_id = ma.fields.Integer()
    item = ma.fields.String()
    plan_id = ma.fields.Integer()
    assigned_to = ma.fields.Integer(allow_none=True)
    candidates = ma.fields.List(ma.fields.Nested(CandidateSchema))


class BanArgs(StrictArgs):
    work_item_id = database_id(required=True)
    firm_id = database_id(required=True)
    reason = text(1000)


class BanQueryArgs(StrictArgs):
    work_item_id = database_id()
    firm_id = database_id()


class BanSchema(ma.Schema):
    id = ma.fields.Integer()
    project_id = ma.fields.Integer()
    work_item_id = ma.fields.Integer()
    firm_id = ma.fields.Integer()
    reason = ma.fields.String()
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class WeekLoadSchema(ma.Schema):
    week_start = stored_date()
    hours = ma.fields.Float()
    capacity = ma.fields.Float(metadata={"description": "hours the firm offered that week"})


class FirmReportSchema(ma.Schema):
    firm = ma.fields.String(metadata={"description": "firm id"})
    hours = ma.fields.Float()
    share_percent = ma.fields.Float(metadata=LEAD_ONLY)
    min_share_percent = ma.fields.Float(metadata=LEAD_ONLY)
    max_share_percent = ma.fields.Float(metadata=LEAD_ONLY)
    target_share_percent = ma.fields.Float(metadata={
        "description": "lead coordinators only; the share the fairness term aimed at"})
    cost = ma.fields.Float(metadata={"description": "euros of rates and travel"})
    travel_cost = ma.fields.Float(metadata={"description": "euros"})
    visits = ma.fields.Integer(metadata={"description": "site-days"})
    weeks = ma.fields.List(ma.fields.Nested(WeekLoadSchema))


class SiteReportSchema(ma.Schema):
    site = ma.fields.String(metadata={"description": "site id"})
    firms = ma.fields.List(ma.fields.String())
    face_firm = ma.fields.String(allow_none=True)
    visits = ma.fields.Integer()
    finish_on = stored_date(allow_none=True)


class UnassignedSchema(ma.Schema):
    item = ma.fields.String(metadata={"description": "work item id"})
    reasons = ma.fields.List(ma.fields.String())


class ExplanationSchema(ma.Schema):
    item = ma.fields.String()
    firm = ma.fields.String()
    next_firm = ma.fields.String(allow_none=True)
    extra_cost = ma.fields.Float(allow_none=True, metadata={"description": "euros"})
    text = ma.fields.String()


class PlannedCostSchema(ma.Schema):
    item = ma.fields.String()
    firm = ma.fields.String()
    days = ma.fields.List(stored_date())
    cost = ma.fields.Float(metadata={"description": "euros of rates and travel"})
    travel_cost = ma.fields.Float()


class TermsSchema(ma.Schema):
    """The objective's terms, each weighted by the project's priorities (docs/solver.md):
    their sum is the weighted objective; the cost term is the plan's euros times the cost
    weight."""

    coverage = ma.fields.Float()
    cost = ma.fields.Float()
    lateness = ma.fields.Float()
    fairness = ma.fields.Float()
    continuity = ma.fields.Float()
    stability = ma.fields.Float()


class PlanSummarySchema(ma.Schema):
    """The solver's report. Partners get only `firms` (their own row, without shares) and
    `face_firms` (the sites their firm faces)."""

    status = ma.fields.String(metadata=LEAD_ONLY)
    objective = ma.fields.Float(allow_none=True, metadata=LEAD_ONLY)
    bound = ma.fields.Float(allow_none=True, metadata=LEAD_ONLY)
    gap = ma.fields.Float(allow_none=True, metadata=LEAD_ONLY)
    time_to_first_plan = ma.fields.Float(allow_none=True, metadata=LEAD_ONLY)
    wall_time = ma.fields.Float(metadata=LEAD_ONLY)
    terms = ma.fields.Nested(TermsSchema, metadata=LEAD_ONLY)
    unassigned = ma.fields.List(ma.fields.Nested(UnassignedSchema), metadata=LEAD_ONLY)
    firms = ma.fields.List(ma.fields.Nested(FirmReportSchema))
    sites = ma.fields.List(ma.fields.Nested(SiteReportSchema), metadata=LEAD_ONLY)
    explanations = ma.fields.List(ma.fields.Nested(ExplanationSchema), metadata=LEAD_ONLY)
    face_firms = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(),
                                metadata={"description": "site id -> firm id"})
    reasons = ma.fields.List(ma.fields.String(), metadata=LEAD_ONLY)
    stats = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float(),
                           metadata=LEAD_ONLY)
    assignments = ma.fields.List(ma.fields.Nested(PlannedCostSchema), metadata=LEAD_ONLY)


class PlanSchema(ma.Schema):
    id = ma.fields.Integer()
    project_id = ma.fields.Integer()
    version = ma.fields.Integer()
    status = ma.fields.String()
    notes = ma.fields.String()
    created_at = ma.fields.DateTime()
    approved_at = ma.fields.DateTime(allow_none=True)
    is_stale = ma.fields.Boolean(metadata={"description": "lead coordinators only; the "
                                                         "project's inputs changed "
                                                         "since the plan was made"})
    solver_status = ma.fields.String(metadata=LEAD_ONLY)
    objective = ma.fields.Float(allow_none=True, metadata={
        "description": "lead coordinators only; the weighted objective (cost and penalties, "
                       "each times its weight)"})
    cost = ma.fields.Float(allow_none=True, metadata={
        "description": "lead coordinators only; euros of rates and travel"})
    travel_cost = ma.fields.Float(allow_none=True, metadata=LEAD_ONLY)
    author_id = ma.fields.Integer(allow_none=True, metadata=LEAD_ONLY)
    approved_by_id = ma.fields.Integer(allow_none=True, metadata=LEAD_ONLY)
    is_stopped_early = ma.fields.Boolean(metadata={
        "description": "lead coordinators only; the best plan of a solve that was stopped"})
    assignments = ma.fields.List(ma.fields.Nested(AssignmentSchema))
    summary = ma.fields.Nested(PlanSummarySchema)


class PlanListSchema(ma.Schema):
    id = ma.fields.Integer()
    version = ma.fields.Integer()
    status = ma.fields.String()
    created_at = ma.fields.DateTime()
    approved_at = ma.fields.DateTime(allow_none=True)
    is_stale = ma.fields.Boolean(metadata=LEAD_ONLY)
    solver_status = ma.fields.String(metadata=LEAD_ONLY)
    cost = ma.fields.Float(allow_none=True, metadata=LEAD_ONLY)
    objective = ma.fields.Float(allow_none=True, metadata=LEAD_ONLY)
    author_id = ma.fields.Integer(allow_none=True, metadata=LEAD_ONLY)
    assigned = ma.fields.Integer(metadata={"description": "lead coordinators only; "
                                                          "work items assigned"})
    is_stopped_early = ma.fields.Boolean(metadata=LEAD_ONLY)


class PlanUpdateArgs(UpdateArgs):
    status = ma.fields.String(validate=validate.OneOf([s for s in PLAN_STATUSES
                                                       if s != "superseded"]))
    notes = text(4000)
    confirm_stale = ma.fields.Boolean(load_default=False, metadata={
        "description": "approve although the project's inputs changed since the plan"})
    confirm_older = ma.fields.Boolean(load_default=False, metadata={
        "description": "approve although a newer version is approved"})


class PlanPageArgs(StrictArgs):
    """The plan page's filters."""

    firm_id = database_id()
    site_id = database_id()
    region = text(100)
    start_on = date()
    end_on = date()
    group = ma.fields.String(load_default="firm", validate=validate.OneOf(("firm", "site")))

    @ma.validates_schema
    def check_span(self, data, **kwargs):
        if data.get("start_on") and data.get("end_on") and data["end_on"] < data["start_on"]:
            raise ma.ValidationError("the span ends before it starts", "end_on")


class PlanQueryArgs(StrictArgs):
    status = ma.fields.String(validate=validate.OneOf(PLAN_STATUSES))


# --- solve jobs ----------------------------------------------------------------------------


class SolveJobArgs(StrictArgs):
    time_limit = ma.fields.Float(load_default=10.0, validate=validate.Range(*TIME_LIMITS),
                                 metadata={"description": "seconds the planner may take"})
    base_plan_id = database_id(
        metadata={"description": "re-plan from this plan: its locks are kept and changes "
                                 "from it are kept few"})
    seed = ma.fields.Integer(load_default=0, validate=validate.Range(*SEEDS))
    workers = ma.fields.Integer(load_default=2, validate=validate.Range(*WORKERS),
                                metadata={"description": "CP-SAT threads"})


class CancelArgs(StrictArgs):
    """No fields: the request is the cancel (an empty body or {})."""


class SolveJobQueryArgs(StrictArgs):
    status = ma.fields.String(validate=validate.OneOf(JOB_STATUSES))


class JobProgressSchema(ma.Schema):
    """The best plan so far (or, once finished, the final one)."""

    phase = ma.fields.String(metadata={"description": "the planner's step that found it; "
                                                      "'finished' at the end"})
    elapsed = ma.fields.Float(metadata={"description": "planner seconds when it was found"})
    objective = ma.fields.Float(allow_none=True, metadata={
        "description": "the weighted objective: cost and penalties, each times its weight "
                       "(euros only where every weight is 1)"})
    bound = ma.fields.Float(allow_none=True, metadata={"description": "proven lower bound"})
    gap = ma.fields.Float(allow_none=True, metadata={"description": "(objective - bound) / "
                                                                    "objective"})
    assigned = ma.fields.Integer(allow_none=True, metadata={"description": "work items"})
    cost = ma.fields.Float(allow_none=True, metadata={"description": "euros of rates and "
                                                                    "travel"})
    terms = ma.fields.Nested(TermsSchema, allow_none=True)
    solver_status = ma.fields.String(metadata={"description": "once finished"})


class JobOptionsSchema(ma.Schema):
    time_limit = ma.fields.Float()
    seed = ma.fields.Integer()
    workers = ma.fields.Integer()
    base_plan_id = ma.fields.Integer(allow_none=True)


class SolveJobSchema(ma.Schema):
    id = ma.fields.Integer()
    project_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "queued, running, done, failed or "
                                                       "cancelled"})
    author_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    cancel_requested_at = ma.fields.DateTime(allow_none=True)
    elapsed = ma.fields.Float(allow_none=True, metadata={"description": "seconds running"})
    queue_position = ma.fields.Integer(allow_none=True, metadata={
        "description": "while queued: 1 runs next"})
    backend = ma.fields.String(metadata={"description": "inline, embedded or rq"})
    options = ma.fields.Nested(JobOptionsSchema)
    progress = ma.fields.Nested(JobProgressSchema, allow_none=True)
    plan_id = ma.fields.Integer(allow_none=True, metadata={
        "description": "the draft plan it stored, once finished"})
    error = ma.fields.String(allow_none=True, metadata={"description": "why it failed"})
    input_fingerprint = ma.fields.String()
