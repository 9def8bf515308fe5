"""Passwords (Argon2id), API tokens (random, stored as SHA-256) and who is asking."""

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import g, request
from flask_login import current_user

from .dbtypes import utcnow
from .errors import NotAuthenticated
from .extensions import db, login_manager
from .partners.models import ApiToken, User

TOKEN_PREFIX = "stf_"
_hasher = PasswordHasher()
# Verifying against this keeps the timing of "no such user" close to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """True when the password matches the active user's hash; rehashes outdated parameters."""
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    if user is None or not user.is_active:
        return False
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return True


def digest_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, name: str, expires_at: dt.datetime | None) -> tuple[ApiToken, str]:
    """Create a token row for user; return it and the only copy of the secret."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, prefix=secret[:12], token_hash=digest_token(secret),
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


LAST_USED_EVERY = dt.timedelta(minutes=1)  # how precisely a token's last use is kept


def user_for_token(secret: str, now: dt.datetime | None = None) -> User | None:
    """The active user a usable token belongs to, or None."""
    token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=digest_token(secret)))
    now = now or utcnow()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    # to the minute: a client polling a job every 50 ms would otherwise write (and on SQLite
    # lock the database) at every request
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
    return token.user


def authenticate_api_request() -> None:
    """before_request for API blueprints: require a Bearer token and set g.actor."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise NotAuthenticated("send 'Authorization: Bearer <token>'")
    user = user_for_token(secret.strip())
    if user is None:
        raise NotAuthenticated("the token is unknown, expired or revoked")
    g.actor = user


def forget_actor() -> None:
    """before_request for the whole app: every request starts unauthenticated.

    A request context normally brings a fresh `g`; this also holds when a test keeps one
    application context across many requests.
    """
    g.pop("actor", None)
    g.pop("_login_user", None)


def current_actor() -> User:
    """The authenticated user of this request (API token or browser session)."""
    actor = g.get("actor")
    if actor is not None:
        return actor
    if current_user.is_authenticated:
        return current_user._get_current_object()
    raise NotAuthenticated("sign in first")


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.is_active else None
