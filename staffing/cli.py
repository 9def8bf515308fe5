"""The `staffing` command: Flask's run and db, plus demo, token, user and firm management.

Each command parses its options, calls operations with no actor (the command line is trusted)
and commits; a StaffingError becomes a one-line message and exit status 1.
"""

from collections.abc import Iterator
from contextlib import contextmanager

import click
import flask_migrate
import marshmallow as ma
import sqlalchemy as sa
from flask.cli import FlaskGroup, NoAppException

from . import create_app
from .config import ConfigError
from .demo import DemoCredentials, load_demo
from .errors import InvalidInput, NotFound, StaffingError
from .extensions import db
from .partners import operations as ops
from .partners.models import ROLES, ApiToken, Firm, User
from .partners.schemas import FirmArgs, TokenArgs, UserArgs
from .planning import cli as planning_cli


def _create_app():
    """create_app, with a missing setting reported as a usage error rather than a traceback."""
    try:
        return create_app({"EPHEMERAL_SECRET_OK": True})
    except ConfigError as error:
        raise NoAppException(str(error)) from None


@click.group(cls=FlaskGroup, create_app=_create_app)
def main():
    """staffing: staff one multi-site IT rollout with competing partner firms."""


planning_cli.register(main)
planning_cli.register_jobs(main)


@contextmanager
def _transaction() -> Iterator[None]:
    """Commit what the block did; roll back on any error, reporting the service's own cleanly."""
    try:
        yield
        db.session.commit()
    except StaffingError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from None
    except sa.exc.IntegrityError:
        db.session.rollback()
        raise click.ClickException("the change conflicts with existing data") from None
    except BaseException:
        db.session.rollback()
        raise


def _validated(schema: ma.Schema, values: dict) -> dict:
    """The API's own input rules, applied to command-line options."""
    try:
        return schema.load(values)
    except ma.ValidationError as error:
        reasons = "; ".join(f"{field}: {' '.join(map(str, messages))}"
                            for field, messages in error.normalized_messages().items())
        raise click.ClickException(reasons) from None


def _given(options: dict) -> dict:
    """The options the user gave; click reports the others as None."""
    return {key: value for key, value in options.items() if value is not None}


def _user_by_email(email: str) -> User:
    user = db.session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise InvalidInput.field("email", f"no user with email {email}")
    return user


# --- demo --------------------------------------------------------------------------------


@main.command()
@click.option("--reset", is_flag=True, help="Delete every row of every table first.")
@click.option("--no-migrate", is_flag=True,
              help="Skip `db upgrade` (the schema must already be current).")
def demo(reset: bool, no_migrate: bool):
    """Load the reference rollout: 8 firms, 13 sites, 14 servers, 220 desktops."""
    if not no_migrate:
        flask_migrate.upgrade()
    with _transaction():
        if db.session.scalar(sa.select(sa.func.count()).select_from(Firm)) and not reset:
            raise click.ClickException(
                "the database already holds firms; run `staffing demo --reset` to delete "
                "every row and load the demo again"
            )
        if reset:
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
        credentials = load_demo(db.session)
    _print_credentials(credentials)


def _print_credentials(credentials: DemoCredentials) -> None:
    click.echo(f"Loaded the reference rollout (project {credentials.project_id}).")
    click.echo(f"Every demo user signs in with the password: {credentials.password}\n")
    width = max(len(login.email) for login in credentials.logins)
    click.echo(f"{'email':<{width}}  {'role':<20}  API token")
    for login in credentials.logins:
        role = login.role + (" + operator" if login.is_operator else "")
        click.echo(f"{login.email:<{width}}  {role:<20}  {login.token}")
    click.echo('\nTry: curl -H "Authorization: Bearer <token>" '
               "http://127.0.0.1:5000/api/v1/users/me")


# --- tokens ------------------------------------------------------------------------------


@main.group()
def token():
    """Create, list and revoke a user's API tokens."""


@token.command("create")
@click.option("--email", required=True, help="The user the token acts as.")
@click.option("--name", required=True, help="What the token is for, e.g. 'ci'.")
@click.option("--expires-in-days", type=int, default=90, show_default=True,
              help="0 for a token that never expires.")
def create_token(email: str, name: str, expires_in_days: int):
    """Create a token and print its secret, the only time it is shown."""
    args = _validated(TokenArgs(), {"name": name, "expires_in_days": expires_in_days or None})
    with _transaction():
        api_token, secret = ops.create_token(_user_by_email(email), args["name"],
                                             args["expires_in_days"])
    click.echo(f"token {api_token.id} for {email}; store it now, it is not shown again:")
    click.echo(secret)


@token.command("list")
@click.option("--email", required=True)
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked tokens.")
def list_tokens(email: str, include_revoked: bool):
    """List a user's tokens (never their secrets)."""
    with _transaction():
        tokens = db.session.scalars(ops.list_tokens(_user_by_email(email), include_revoked))
        rows = [(t.id, t.name, t.prefix, t.expires_at, t.revoked_at, t.last_used_at)
                for t in tokens]
    click.echo(f"{'id':>5}  {'name':<20}  {'prefix':<12}  {'expires':<10}  {'revoked':<10}  "
               "last used")
    for token_id, name, prefix, expires_at, revoked_at, last_used_at in rows:
        click.echo(f"{token_id:>5}  {name:<20}  {prefix:<12}  {_on(expires_at):<10}  "
                   f"{_on(revoked_at):<10}  {_on(last_used_at)}")


def _on(moment) -> str:
    return moment.date().isoformat() if moment else "-"


@token.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int):
    """Revoke a token by its id; it stops working at once."""
    with _transaction():
        api_token = db.session.get(ApiToken, token_id)
        if api_token is None:
            raise NotFound(f"token {token_id}")
        ops.revoke_token(api_token.user, token_id)
    click.echo(f"token {token_id} revoked")


# --- users and firms ---------------------------------------------------------------------


@main.group()
def user():
    """Manage users."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", default="", help="Full name.")
@click.option("--firm-id", type=int, help="The firm's id (or give --firm).")
@click.option("--firm", "firm_name", help="The firm's exact name (or give --firm-id).")
@click.option("--role", type=click.Choice(ROLES), default="member", show_default=True)
@click.option("--operator", is_flag=True, help="May register and remove firms.")
@click.password_option(help="At least 12 characters; prompted for when not given.")
def create_user(email, name, firm_id, firm_name, role, operator, password):
    """Add a user to a firm."""
    if (firm_id is None) == (firm_name is None):
        raise click.UsageError("give exactly one of --firm-id and --firm")
    args = _validated(UserArgs(), _given({"email": email, "name": name, "role": role,
                                          "password": password, "firm_id": firm_id}))
    with _transaction():
        if firm_name is not None:
            args["firm_id"] = _firm_id_by_name(firm_name)
        new_user = ops.create_user(None, {**args, "is_operator": operator})
        firm = new_user.firm.name
    click.echo(f"user {new_user.id} {new_user.email} ({role}{', operator' if operator else ''}) "
               f"added to {firm}")


def _firm_id_by_name(name: str) -> int:
    firm_id = db.session.scalar(
        sa.select(Firm.id).where(sa.func.lower(Firm.name) == name.strip().lower()))
    if firm_id is None:
        raise InvalidInput.field("firm", f"no firm named {name!r}")
    return firm_id


@main.group()
def firm():
    """Manage firms."""


@firm.command("create")
@click.option("--name", required=True)
@click.option("--lat", "latitude", type=float, required=True, help="Home base latitude.")
@click.option("--lon", "longitude", type=float, required=True, help="Home base longitude.")
@click.option("--region")
@click.option("--address")
@click.option("--contact-name")
@click.option("--contact-email")
@click.option("--contact-phone")
def create_firm(**options):
    """Register a firm."""
    args = _validated(FirmArgs(), _given(options))
    with _transaction():
        new_firm = ops.create_firm(None, args)
    click.echo(f"firm {new_firm.id} {new_firm.name} registered")
