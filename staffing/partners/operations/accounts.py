"""Firms, their users and API tokens."""

import datetime as dt

import sqlalchemy as sa

from ...dbtypes import utcnow
from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...extensions import db
from ...projects.models import Project
from ...security import (
    check_password_attempt,
    end_access,
    hash_password,
    issue_token,
    password_problem,
    revoke_tokens,
)
from ..models import ApiToken, Firm, Membership, User

FIRM_PRIVATE_FIELDS = (
    "contact_name", "contact_email", "contact_phone", "address", "latitude", "longitude",
)
FIRM_PUBLIC_FIELDS = ("id", "name", "region")


# --- firms -------------------------------------------------------------------------------


def can_see_firm_details(actor: User, firm: Firm) -> bool:
    """Own firm, operators, and the lead coordinators of a project in which the firm has
    accepted a membership, for as long as it stays accepted. An invitation alone reveals
    nothing: any coordinator can make a project and invite any firm."""
    if actor.firm_id == firm.id or actor.is_operator:
        return True
    if not actor.can_coordinate:
        return False
    led_with_firm = sa.select(Project).join(
        Membership, Membership.project_id == Project.id
    ).where(Membership.firm_id == firm.id, Membership.status == "accepted",
            Project.lead_firm_id == actor.firm_id)
    return db.session.scalar(sa.select(led_with_firm.exists()))


def firm_view(actor: User, firm: Firm) -> Firm | dict:
    """The firm itself when the actor may see its details, else only its public fields."""
    if can_see_firm_details(actor, firm):
        return firm
    return {field: getattr(firm, field) for field in FIRM_PUBLIC_FIELDS}


def list_firms(actor: User, name: str | None = None, region: str | None = None) -> sa.Select:
    """Every firm of the directory (public fields), filtered; firm_view redacts each."""
    query = sa.select(Firm).order_by(Firm.name)
    if name:
        query = query.where(Firm.name.ilike(f"%{name}%"))
    if region:
        query = query.where(Firm.region == region)
    return query


def get_firm(actor: User, firm_id: int) -> Firm:
    firm = db.session.get(Firm, firm_id)
    if firm is None:
        raise NotFound("firm")
    return firm


def _check_firm_name_free(name: str, firm_id: int | None = None) -> None:
    taken = db.session.scalar(sa.select(Firm.id).where(sa.func.lower(Firm.name) == name.lower()))
    if taken is not None and taken != firm_id:
        raise InvalidInput.field("name", "a firm with this name already exists")


def create_firm(actor: User | None, fields: dict) -> Firm:
    """Operators register firms (actor None: the command line)."""
    if actor is not None and not actor.is_operator:
        raise Forbidden("only operators register firms")
    _check_firm_name_free(fields["name"])
    firm = Firm(**fields)
    db.session.add(firm)
    db.session.flush()
    return firm


def update_firm(actor: User, firm: Firm, fields: dict) -> Firm:
    if not (actor.is_operator or (actor.firm_id == firm.id and actor.is_firm_admin)):
        raise Forbidden("only the firm's admins may change it")
    if "name" in fields:
        _check_firm_name_free(fields["name"], firm.id)
    for key, value in fields.items():
        setattr(firm, key, value)
    db.session.flush()
    return firm


def delete_firm(actor: User, firm: Firm) -> None:
    if not actor.is_operator:
        raise Forbidden("only operators remove firms")
    if db.session.scalar(sa.select(Project.id).filter_by(lead_firm_id=firm.id).limit(1)):
        raise Conflict("the firm leads projects; delete or hand them over first")
    if actor.firm_id == firm.id:
        raise Conflict("operators cannot remove their own firm")
    db.session.delete(firm)
    db.session.flush()


# --- users -------------------------------------------------------------------------------


def list_users(actor: User, role: str | None = None, email: str | None = None) -> sa.Select:
    """The actor's own firm's users: other firms' staff are contact details."""
    query = sa.select(User).where(User.firm_id == actor.firm_id).order_by(User.email)
    if role:
        query = query.where(User.role == role)
    if email:
        query = query.where(User.email.ilike(f"%{email}%"))
    return query


def get_user(actor: User, user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or (user.firm_id != actor.firm_id and not actor.is_operator):
        raise NotFound("user")
    return user


def _require_user_admin(actor: User, firm_id: int) -> None:
    if not (actor.is_operator or (actor.firm_id == firm_id and actor.is_firm_admin)):
        raise Forbidden("only the firm's admins manage its users")


def create_user(actor: User | None, fields: dict) -> User:
    """Firm admins add users to their firm; operators (or the CLI, actor None) to any firm."""
    fields = dict(fields)
    firm_id = fields.pop("firm_id", None)
    if actor is not None and not actor.is_operator:
        if firm_id not in (None, actor.firm_id):
            raise InvalidInput.field("firm_id", "you can only add users to your own firm")
        firm_id = actor.firm_id
    if firm_id is None:
        raise InvalidInput.field("firm_id", "required")
    if db.session.get(Firm, firm_id) is None:
        raise InvalidInput.field("firm_id", "no such firm")
    if actor is not None:
        _require_user_admin(actor, firm_id)
    email = fields.pop("email").strip().lower()
    if db.session.scalar(sa.select(User.id).filter_by(email=email)) is not None:
        raise InvalidInput.field("email", "a user with this email already exists")
    password = fields.pop("password")
    _check_password_policy(password, email, fields.get("name", ""))
    user = User(email=email, firm_id=firm_id, password_hash=hash_password(password), **fields)
    db.session.add(user)
    db.session.flush()
    return user


def _check_password_policy(password: str, email: str, name: str) -> None:
    """The one password policy (security.password_problem), told the user's email and name."""
    problem = password_problem(password, (email, *email.split("@"), name))
    if problem:
        raise InvalidInput.field("password", problem)


def _check_last_admin(user: User, new_role: str | None, new_active: bool | None) -> None:
    demoted = new_role is not None and new_role != "admin"
    deactivated = new_active is False
    if user.role != "admin" or not (demoted or deactivated):
        return
    admins = db.session.scalar(
        sa.select(sa.func.count()).select_from(User).where(
            User.firm_id == user.firm_id, User.role == "admin", User.is_active.is_(True)
        )
    )
    if admins <= 1:
        raise Conflict("a firm keeps at least one active admin")


def update_user(actor: User, user: User, fields: dict) -> User:
    """Admins change their firm's users; anyone changes their own name and password.

    Changing one's own password needs the current one. A new password ends the user's other
    browser sessions and revokes their tokens, but for the session or token of this request
    when the user changes their own; deactivating a user ends all of them."""
    fields = dict(fields)
    current_password = fields.pop("current_password", None)
    own = user.id == actor.id
    if not (own and set(fields) <= {"name", "password"}):
        _require_user_admin(actor, user.firm_id)
    _check_last_admin(user, fields.get("role"), fields.get("is_active"))
    if "password" in fields:
        if own and current_password is None:
            raise InvalidInput.field("current_password", "required to change your password")
        if own and not check_password_attempt(user.email, user, current_password):
            raise InvalidInput.field("current_password", "is not your current password")
        password = fields.pop("password")
        _check_password_policy(password, user.email, fields.get("name", user.name))
        user.password_hash = hash_password(password)
        end_access(user, keep_current=own)
    if fields.get("is_active") is False and user.is_active:
        end_access(user, keep_current=False)
    for key, value in fields.items():
        setattr(user, key, value)
    db.session.flush()
    return user


def delete_user(actor: User, user: User) -> None:
    _require_user_admin(actor, user.firm_id)
    if user.id == actor.id:
        raise Conflict("you cannot delete yourself")
    _check_last_admin(user, None, False)
    db.session.delete(user)
    db.session.flush()


# --- API tokens --------------------------------------------------------------------------


def list_tokens(actor: User, include_revoked: bool = False) -> sa.Select:
    query = sa.select(ApiToken).filter_by(user_id=actor.id).order_by(ApiToken.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return query


DEFAULT_TOKEN_DAYS = 90


DEFAULT_EXPIRY = object()  # expires_in_days not given: DEFAULT_TOKEN_DAYS, or the parent's


def create_token(actor: User, name: str, expires_in_days: int | None | object = DEFAULT_EXPIRY,
                 parent: ApiToken | None = None) -> tuple[ApiToken, str]:
    """A new token for the actor; returns it and its secret, which is never stored.

    expires_in_days: None never expires; missing: DEFAULT_TOKEN_DAYS. parent: the token of
    the request creating it. The new token never outlives it: without an explicit expiry it
    expires with the parent at the latest; asking for more is refused. Revoking the parent
    revokes it too."""
    now = utcnow()
    given = expires_in_days is not DEFAULT_EXPIRY
    days = expires_in_days if given else DEFAULT_TOKEN_DAYS
    expires_at = now + dt.timedelta(days=days) if days else None
    limit = parent.expires_at if parent is not None else None
    if limit is not None and (expires_at is None or expires_at > limit):
        if given:
            days = max((limit - now).days, 0)
            raise InvalidInput.field(
                "expires_in_days", f"a token cannot outlive the token that creates it, which "
                f"expires on {limit:%Y-%m-%d %H:%M} UTC (at most {days} days from now)")
        expires_at = limit
    return issue_token(actor, name, expires_at, parent=parent)


def revoke_token(actor: User, token_id: int) -> ApiToken:
    """Revoke one of the actor's tokens, and the tokens created with it."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("token")
    revoke_tokens(sa.select(ApiToken).where(ApiToken.id == token.id))
    db.session.flush()
    db.session.refresh(token)
    return token
