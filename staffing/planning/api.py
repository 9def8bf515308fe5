"""REST resources of the planning domain: parse, call one operation, return."""

from flask import jsonify, url_for
from flask.views import MethodView

from ..access import get_project_for
from ..extensions import db
from ..pagination import SelectPage, Viewed
from ..schemas import Blueprint
from ..security import authenticate_api_request, current_actor
from . import operations as ops
from . import queue
from .events import event_response
from .schemas import (
    AdjustmentSchema,
    AssignmentChangeSchema,
    AssignmentSchema,
    AssignmentUpdateArgs,
    BanArgs,
    BanQueryArgs,
    BanSchema,
    CancelArgs,
    CandidatesSchema,
    CompareArgs,
    ComparisonSchema,
    PlanListSchema,
    PlanQueryArgs,
    PlanSchema,
    PlanUpdateArgs,
    SolveJobArgs,
    SolveJobQueryArgs,
    SolveJobSchema,
)

plans = Blueprint("plans", __name__, url_prefix="/api/v1",
                  description="Plans: who does what, where and when, proposed by the solver")
solve_jobs = Blueprint("solve_jobs", __name__, url_prefix="/api/v1",
                       description="Solve jobs: the planner running in the background, with "
                                   "live progress and cancel (lead coordinators only)")
bans = Blueprint("bans", __name__, url_prefix="/api/v1",
                 description="Bans: a firm barred from one work item (lead coordinators only; "
                             "the planner keeps them in every plan made after)")
blueprints = [plans, solve_jobs, bans]
# one event of the stream (OpenAPI 3.0 describes the events, not the stream)
SSE_EVENT = {"type": "object", "properties": {
    "event": {"type": "string", "enum": ["progress", "end"]},
    "id": {"type": "string"},
    "data": {"type": "string", "description": "the job as JSON, as GET on it answers"},
    "retry": {"type": "integer", "description": "milliseconds before reconnecting"}}}
for _blueprint in blueprints:
    _blueprint.before_request(authenticate_api_request)


@plans.route("/projects/<int:project_id>/plans")
class Plans(MethodView):
    @plans.arguments(PlanQueryArgs, location="query")
    @plans.response(200, PlanListSchema(many=True))
    @plans.paginate(SelectPage)
    def get(self, args, project_id):
        """List plans (partners: the approved one and the current proposal)"""
        actor = current_actor()
        project = get_project_for(actor, project_id)
        return Viewed(ops.list_plans(actor, project, **args),
                      lambda rows: ops.plan_list_view(actor, project, rows))


@plans.route("/plans/<int:plan_id>")
@plans.etag
class PlanById(MethodView):
    @plans.response(200, PlanSchema)
    def get(self, plan_id):
        """Read a plan: lead coordinators all of it, others their own firm's slice"""
        actor = current_actor()
        return ops.plan_view(actor, ops.get_plan(actor, plan_id))

    @plans.arguments(PlanUpdateArgs)
    @plans.response(200, PlanSchema)
    def patch(self, args, plan_id):
        """Propose or approve a plan (lead coordinators)"""
        actor = current_actor()
        plan = ops.get_plan(actor, plan_id)
        plans.check_if_match(plan, PlanSchema, lambda: ops.plan_view(actor, plan))
        return ops.plan_view(actor, ops.update_plan(actor, plan, args))


@plans.route("/plans/<int:plan_id>/comparison")
class PlanComparison(MethodView):
    @plans.arguments(CompareArgs, location="query")
    @plans.response(200, ComparisonSchema)
    def get(self, args, plan_id):
        """What changed from another plan of the project to this one: assignments, key
        figures, each firm's hours and share (partners: their own slice only)"""
        actor = current_actor()
        plan = ops.get_plan(actor, plan_id)
        return ops.compare_plans(actor, ops.base_of(actor, plan, args.get("other_plan_id")),
                                 plan)


@plans.route("/plans/<int:plan_id>/work-items/<int:work_item_id>/candidates")
class ItemCandidates(MethodView):
    @plans.response(200, CandidatesSchema)
    def get(self, plan_id, work_item_id):
        """Who fits this work item best in the plan: every firm ranked by the extra cost and
        the hard rules giving it the item would break, the ineligible with the reason (lead
        coordinators)"""
        actor = current_actor()
        return ops.candidates(actor, ops.get_plan(actor, plan_id), work_item_id)


@plans.route("/plans/<int:plan_id>/adjustments")
class PlanAdjustments(MethodView):
    @plans.response(200, AdjustmentSchema(many=True))
    @plans.paginate(SelectPage)
    def get(self, plan_id):
        """The plan's manual changes, newest first: who, when, before and after (lead
        coordinators)"""
        actor = current_actor()
        return ops.list_adjustments(actor, ops.get_plan(actor, plan_id))


@plans.route("/assignments/<int:assignment_id>")
@plans.etag
class AssignmentById(MethodView):
    @plans.response(200, AssignmentSchema)
    def get(self, assignment_id):
        """Read an assignment (lead coordinators any; others their own firm's)"""
        return ops.get_assignment(current_actor(), assignment_id)

    @plans.arguments(AssignmentUpdateArgs)
    @plans.response(200, AssignmentChangeSchema)
    @plans.alt_response(409, description="the plan is approved or superseded: re-plan")
    def patch(self, args, assignment_id):
        """Lock, unlock or move an assignment (lead coordinators). A move is judged by the
        independent checker first: one that breaks a hard rule answers 422 with every
        violation it causes, and nothing is saved; `dry_run` shows them without saving"""
        actor = current_actor()
        assignment = ops.get_assignment(actor, assignment_id)
        plans.check_if_match(assignment, AssignmentSchema)
        result = ops.change_assignment(actor, assignment, args)
        # the ETag of the assignment (as GET answers it), not of this answer's envelope: it
        # is what the next PATCH sends
        plans.set_etag(assignment, AssignmentSchema)
        return result


@bans.route("/projects/<int:project_id>/bans")
class Bans(MethodView):
    @bans.arguments(BanQueryArgs, location="query")
    @bans.response(200, BanSchema(many=True))
    @bans.paginate(SelectPage)
    def get(self, args, project_id):
        """List the project's bans (lead coordinators)"""
        actor = current_actor()
        return ops.list_bans(actor, get_project_for(actor, project_id), **args)

    @bans.arguments(BanArgs)
    @bans.response(201, BanSchema)
    @bans.alt_response(409, description="the firm is already banned from the item")
    def post(self, args, project_id):
        """Bar a firm from one work item"""
        actor = current_actor()
        return ops.create_ban(actor, get_project_for(actor, project_id), args)


@bans.route("/bans/<int:ban_id>")
@bans.etag
class BanById(MethodView):
    @bans.response(200, BanSchema)
    def get(self, ban_id):
        """Read a ban (lead coordinators)"""
        return ops.get_ban(current_actor(), ban_id)

    @bans.response(204)
    def delete(self, ban_id):
        """Lift a ban (lead coordinators)"""
        actor = current_actor()
        ban = ops.get_ban(actor, ban_id)
        bans.check_if_match(ban, BanSchema)
        ops.delete_ban(actor, ban)


@solve_jobs.route("/projects/<int:project_id>/solve-jobs")
class SolveJobs(MethodView):
    @solve_jobs.arguments(SolveJobQueryArgs, location="query")
    @solve_jobs.response(200, SolveJobSchema(many=True))
    @solve_jobs.paginate(SelectPage)
    def get(self, args, project_id):
        """List the project's solve jobs, newest first"""
        actor = current_actor()
        query = ops.list_jobs(actor, get_project_for(actor, project_id), **args)
        return Viewed(query, lambda rows: [ops.job_view(job) for job in rows])

    @solve_jobs.arguments(SolveJobArgs, required=False)  # no body: every default
    @solve_jobs.response(202, SolveJobSchema)
    @solve_jobs.alt_response(409, description="a solve is already queued or running for "
                                              "the project (errors.job_id names it)")
    def post(self, args, project_id):
        """Start a solve: answers at once with the queued job; its plan arrives as a draft"""
        actor = current_actor()
        project = get_project_for(actor, project_id)
        job = ops.start_solve(actor, project, queue.backend_name_here(), **args)
        db.session.commit()
        queue.dispatch(job)
        db.session.refresh(job)
        location = url_for("solve_jobs.SolveJobById", job_id=job.id)
        return ops.job_view(job), 202, {"Location": location}


@solve_jobs.route("/solve-jobs/<int:job_id>")
class SolveJobById(MethodView):
    @solve_jobs.response(200, SolveJobSchema)
    def get(self, job_id):
        """A job's status and live progress (poll it, or read .../events)"""
        return ops.job_view(ops.get_job(current_actor(), job_id))

    @solve_jobs.response(200, SolveJobSchema)
    def delete(self, job_id):
        """Cancel: a queued job at once; a running one stops within a second and keeps its
        best plan so far as a draft marked as stopped early"""
        return _cancel(job_id)


@solve_jobs.route("/solve-jobs/<int:job_id>/cancel")
class SolveJobCancel(MethodView):
    @solve_jobs.arguments(CancelArgs, required=False)
    @solve_jobs.response(200, SolveJobSchema)
    def post(self, args, job_id):
        """Cancel (the same as DELETE on the job)"""
        return _cancel(job_id)


def _cancel(job_id: int) -> dict:
    actor = current_actor()
    job = ops.cancel_job(actor, ops.get_job(actor, job_id))
    db.session.commit()
    if job.status == "cancelled":
        queue.cancel_queued(job)
    return ops.job_view(job)


@solve_jobs.route("/solve-jobs/<int:job_id>/instance")
class SolveJobInstance(MethodView):
    @solve_jobs.doc(responses={"200": {
        "description": "the instance file the planner read (`staffing solve` reproduces the "
                       "plan from it; its JSON Schema: solver/instance.schema.json)",
        "content": {"application/json": {"schema": {"type": "object"}}}}})
    def get(self, job_id):
        """The input of a job as an instance file (docs/instance-format.md)"""
        actor = current_actor()
        return jsonify(ops.get_job(actor, job_id).instance)


@solve_jobs.route("/solve-jobs/<int:job_id>/events")
class SolveJobEvents(MethodView):
    @solve_jobs.doc(responses={"200": {
        "description": "server-sent events: `progress` with the job (as GET on it) at least "
                       "once a second while it is queued or running, then one `end` with "
                       "its final state",
        "content": {"text/event-stream": {"schema": SSE_EVENT}}}})
    def get(self, job_id):
        """The job's progress as a server-sent event stream"""
        return event_response(ops.get_job(current_actor(), job_id))
