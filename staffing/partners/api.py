"""REST resources of the partners domain: parse, call one operation, return."""

from flask import current_app
from flask.views import MethodView

from ..access import get_project_for
from ..extensions import limiter
from ..pagination import SelectPage
from ..schemas import Blueprint
from ..security import authenticate_api_request, current_actor, current_token
from . import operations as ops
from .schemas import (
    CapacityOfferArgs,
    CapacityOfferQueryArgs,
    CapacityOfferSchema,
    CapacityOfferUpdateArgs,
    ExclusionArgs,
    ExclusionQueryArgs,
    ExclusionSchema,
    ExclusionUpdateArgs,
    FirmArgs,
    FirmQueryArgs,
    FirmSchema,
    FirmUpdateArgs,
    MembershipArgs,
    MembershipQueryArgs,
    MembershipSchema,
    MembershipUpdateArgs,
    NewTokenSchema,
    TokenArgs,
    TokenQueryArgs,
    TokenSchema,
    UserArgs,
    UserQueryArgs,
    UserSchema,
    UserUpdateArgs,
)

firms = Blueprint("firms", __name__, url_prefix="/api/v1", description="Firms of the umbrella")
users = Blueprint("users", __name__, url_prefix="/api/v1", description="Users of your firm")
tokens = Blueprint("tokens", __name__, url_prefix="/api/v1", description="Your API tokens")
memberships = Blueprint("memberships", __name__, url_prefix="/api/v1",
                        description="Partner firms invited to a project, and their answers")
offers = Blueprint("capacity_offers", __name__, url_prefix="/api/v1",
                   description="What a firm can do on a project; rates and shares are sealed")
exclusions = Blueprint("exclusions", __name__, url_prefix="/api/v1",
                       description="Firms barred from a site or the client (lead coordinators)")
blueprints = [firms, users, tokens, memberships, offers, exclusions]
for _blp in blueprints:
    _blp.before_request(authenticate_api_request)


@firms.route("/firms")
class Firms(MethodView):
    @firms.arguments(FirmQueryArgs, location="query")
    @firms.response(200, FirmSchema(many=True))
    @firms.paginate()
    def get(self, args, pagination_parameters):
        """List the firm directory (contact details only where you may see them)"""
        actor = current_actor()
        page = SelectPage(ops.list_firms(actor, **args), pagination_parameters)
        return [ops.firm_view(actor, firm) for firm in page.items]

    @firms.arguments(FirmArgs)
    @firms.response(201, FirmSchema)
    def post(self, args):
        """Register a firm (operators)"""
        return ops.create_firm(current_actor(), args)


@firms.route("/firms/<int:firm_id>")
@firms.etag
class FirmById(MethodView):
    @firms.response(200, FirmSchema)
    def get(self, firm_id):
        """Read one firm"""
        actor = current_actor()
        return ops.firm_view(actor, ops.get_firm(actor, firm_id))

    @firms.arguments(FirmUpdateArgs)
    @firms.response(200, FirmSchema)
    def patch(self, args, firm_id):
        """Change a firm (its admins, operators)"""
        actor = current_actor()
        firm = ops.get_firm(actor, firm_id)
        firms.check_if_match(firm, FirmSchema, lambda: ops.firm_view(actor, firm))
        return ops.update_firm(actor, firm, args)

    @firms.response(204)
    def delete(self, firm_id):
        """Remove a firm that leads no project (operators)"""
        actor = current_actor()
        firm = ops.get_firm(actor, firm_id)
        firms.check_if_match(firm, FirmSchema, lambda: ops.firm_view(actor, firm))
        ops.delete_firm(actor, firm)


@users.route("/users")
class Users(MethodView):
    @users.arguments(UserQueryArgs, location="query")
    @users.response(200, UserSchema(many=True))
    @users.paginate(SelectPage)
    def get(self, args):
        """List your firm's users"""
        return ops.list_users(current_actor(), **args)

    @users.arguments(UserArgs)
    @users.response(201, UserSchema)
    def post(self, args):
        """Add a user to your firm (firm admins)"""
        return ops.create_user(current_actor(), args)


@users.route("/users/me")
class Me(MethodView):
    @users.response(200, UserSchema)
    def get(self):
        """Who this token belongs to"""
        return current_actor()


@users.route("/users/<int:user_id>")
@users.etag
class UserById(MethodView):
    @users.response(200, UserSchema)
    def get(self, user_id):
        """Read a user of your firm"""
        return ops.get_user(current_actor(), user_id)

    @users.arguments(UserUpdateArgs)
    @users.response(200, UserSchema)
    def patch(self, args, user_id):
        """Change a user (firm admins; anyone their own name and password)"""
        actor = current_actor()
        user = ops.get_user(actor, user_id)
        users.check_if_match(user, UserSchema)
        return ops.update_user(actor, user, args)

    @users.response(204)
    def delete(self, user_id):
        """Remove a user (firm admins)"""
        actor = current_actor()
        user = ops.get_user(actor, user_id)
        users.check_if_match(user, UserSchema)
        ops.delete_user(actor, user)


@tokens.route("/tokens")
class Tokens(MethodView):
    @tokens.arguments(TokenQueryArgs, location="query")
    @tokens.response(200, TokenSchema(many=True))
    @tokens.paginate(SelectPage)
    def get(self, args):
        """List your API tokens"""
        return ops.list_tokens(current_actor(), **args)

    @tokens.arguments(TokenArgs)
    @tokens.response(201, NewTokenSchema)
    @limiter.limit(lambda: current_app.config["TOKEN_CREATE_LIMIT"],
                   key_func=lambda: f"tokens:{current_actor().id}",
                   error_message="too many tokens created; wait, then try again")
    def post(self, args):
        """Create a token for yourself; the secret is returned only once"""
        token, secret = ops.create_token(current_actor(), parent=current_token(), **args)
        return {field: getattr(token, field) for field in TokenSchema().fields} | {"token": secret}


@tokens.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @tokens.response(204)
    def delete(self, token_id):
        """Revoke one of your tokens"""
        ops.revoke_token(current_actor(), token_id)


@memberships.route("/projects/<int:project_id>/memberships")
class Memberships(MethodView):
    @memberships.arguments(MembershipQueryArgs, location="query")
    @memberships.response(200, MembershipSchema(many=True))
    @memberships.paginate(SelectPage)
    def get(self, args, project_id):
        """List memberships (lead coordinators: all; others: their own firm's)"""
        actor = current_actor()
        return ops.list_memberships(actor, get_project_for(actor, project_id), **args)

    @memberships.arguments(MembershipArgs)
    @memberships.response(201, MembershipSchema)
    def post(self, args, project_id):
        """Invite a partner firm (lead coordinators)"""
        actor = current_actor()
        return ops.invite_firm(actor, get_project_for(actor, project_id), args)


@memberships.route("/memberships/<int:membership_id>")
@memberships.etag
class MembershipById(MethodView):
    @memberships.response(200, MembershipSchema)
    def get(self, membership_id):
        """Read a membership (its firm, lead coordinators)"""
        return ops.get_membership(current_actor(), membership_id)

    @memberships.arguments(MembershipUpdateArgs)
    @memberships.response(200, MembershipSchema)
    def patch(self, args, membership_id):
        """Accept, decline or withdraw (the firm); withdraw or re-invite (the lead)"""
        actor = current_actor()
        membership = ops.get_membership(actor, membership_id)
        memberships.check_if_match(membership, MembershipSchema)
        return ops.update_membership(actor, membership, args)

    @memberships.response(204)
    def delete(self, membership_id):
        """Remove a firm from the project (lead coordinators)"""
        actor = current_actor()
        membership = ops.get_membership(actor, membership_id)
        memberships.check_if_match(membership, MembershipSchema)
        ops.delete_membership(actor, membership)


@offers.route("/projects/<int:project_id>/capacity-offers")
class CapacityOffers(MethodView):
    @offers.arguments(CapacityOfferQueryArgs, location="query")
    @offers.response(200, CapacityOfferSchema(many=True))
    @offers.paginate(SelectPage)
    def get(self, args, project_id):
        """List offers (lead coordinators: all; others: their own firm's)"""
        actor = current_actor()
        return ops.list_offers(actor, get_project_for(actor, project_id), **args)

    @offers.arguments(CapacityOfferArgs)
    @offers.response(201, CapacityOfferSchema)
    def post(self, args, project_id):
        """Declare your firm's capacity (its coordinators; lead coordinators for a partner)"""
        actor = current_actor()
        return ops.create_offer(actor, get_project_for(actor, project_id), args)


@offers.route("/capacity-offers/<int:offer_id>")
@offers.etag
class CapacityOfferById(MethodView):
    @offers.response(200, CapacityOfferSchema)
    def get(self, offer_id):
        """Read an offer (its firm, lead coordinators)"""
        return ops.get_offer(current_actor(), offer_id)

    @offers.arguments(CapacityOfferUpdateArgs)
    @offers.response(200, CapacityOfferSchema)
    def patch(self, args, offer_id):
        """Change an offer; skills and availability, when given, replace the old lists"""
        actor = current_actor()
        offer = ops.get_offer(actor, offer_id)
        offers.check_if_match(offer, CapacityOfferSchema)
        return ops.update_offer(actor, offer, args)

    @offers.response(204)
    def delete(self, offer_id):
        """Withdraw an offer"""
        actor = current_actor()
        offer = ops.get_offer(actor, offer_id)
        offers.check_if_match(offer, CapacityOfferSchema)
        ops.delete_offer(actor, offer)


@exclusions.route("/projects/<int:project_id>/exclusions")
class Exclusions(MethodView):
    @exclusions.arguments(ExclusionQueryArgs, location="query")
    @exclusions.response(200, ExclusionSchema(many=True))
    @exclusions.paginate(SelectPage)
    def get(self, args, project_id):
        """List the project's exclusions (lead coordinators)"""
        actor = current_actor()
        return ops.list_exclusions(actor, get_project_for(actor, project_id), **args)

    @exclusions.arguments(ExclusionArgs)
    @exclusions.response(201, ExclusionSchema)
    def post(self, args, project_id):
        """Bar a firm from a site or, with site_id null, from the whole client"""
        actor = current_actor()
        return ops.create_exclusion(actor, get_project_for(actor, project_id), args)


@exclusions.route("/exclusions/<int:exclusion_id>")
@exclusions.etag
class ExclusionById(MethodView):
    @exclusions.response(200, ExclusionSchema)
    def get(self, exclusion_id):
        """Read an exclusion (lead coordinators)"""
        return ops.get_exclusion(current_actor(), exclusion_id)

    @exclusions.arguments(ExclusionUpdateArgs)
    @exclusions.response(200, ExclusionSchema)
    def patch(self, args, exclusion_id):
        """Change an exclusion (lead coordinators)"""
        actor = current_actor()
        exclusion = ops.get_exclusion(actor, exclusion_id)
        exclusions.check_if_match(exclusion, ExclusionSchema)
        return ops.update_exclusion(actor, exclusion, args)

    @exclusions.response(204)
    def delete(self, exclusion_id):
        """Lift an exclusion (lead coordinators)"""
        actor = current_actor()
        exclusion = ops.get_exclusion(actor, exclusion_id)
        exclusions.check_if_match(exclusion, ExclusionSchema)
        ops.delete_exclusion(actor, exclusion)
