"""REST resources of the partners domain: parse, call one operation, return."""

from flask.views import MethodView
from flask_smorest import Blueprint

from ..pagination import SelectPage
from ..security import authenticate_api_request, current_actor
from . import operations as ops
from .schemas import (
    FirmArgs,
    FirmQueryArgs,
    FirmSchema,
    FirmUpdateArgs,
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
blueprints = [firms, users, tokens]
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
        return ops.update_firm(actor, ops.get_firm(actor, firm_id), args)

    @firms.response(204)
    def delete(self, firm_id):
        """Remove a firm that leads no project (operators)"""
        actor = current_actor()
        ops.delete_firm(actor, ops.get_firm(actor, firm_id))


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
        return ops.update_user(actor, ops.get_user(actor, user_id), args)

    @users.response(204)
    def delete(self, user_id):
        """Remove a user (firm admins)"""
        actor = current_actor()
        ops.delete_user(actor, ops.get_user(actor, user_id))


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
    def post(self, args):
        """Create a token for yourself; the secret is returned only once"""
        token, secret = ops.create_token(current_actor(), **args)
        return {field: getattr(token, field) for field in TokenSchema().fields} | {"token": secret}


@tokens.route("/tokens/<int:token_id>")
class TokenById(MethodView):
    @tokens.response(204)
    def delete(self, token_id):
        """Revoke one of your tokens"""
        ops.revoke_token(current_actor(), token_id)
