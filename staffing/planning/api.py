"""REST resources of the planning domain: parse, call one operation, return."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..access import get_project_for
from ..pagination import SelectPage
from ..security import authenticate_api_request, current_actor
from . import operations as ops
from .schemas import PlanArgs, PlanListSchema, PlanQueryArgs, PlanSchema, PlanUpdateArgs

plans = Blueprint("plans", __name__, url_prefix="/api/v1",
                  description="Plans: who does what, where and when, proposed by the solver")
blueprints = [plans]
plans.before_request(authenticate_api_request)


@plans.route("/projects/<int:project_id>/plans")
class Plans(MethodView):
    @plans.arguments(PlanQueryArgs, location="query")
    @plans.response(200, PlanListSchema(many=True))
    @plans.paginate(SelectPage)
    def get(self, args, project_id):
        """List plans (partners: proposed and approved ones)"""
        actor = current_actor()
        return ops.list_plans(actor, get_project_for(actor, project_id), **args)

    @plans.arguments(PlanArgs)
    @plans.response(201, PlanSchema)
    def post(self, args, project_id):
        """Run the solver and store the next draft plan (lead coordinators)"""
        actor = current_actor()
        plan = ops.create_plan(actor, get_project_for(actor, project_id), **args)
        return ops.plan_view(actor, plan)


@plans.route("/plans/<int:plan_id>")
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
        plan = ops.update_plan(actor, ops.get_plan(actor, plan_id), args)
        return ops.plan_view(actor, plan)
