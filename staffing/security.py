"""Passwords (Argon2id), API tokens and browser sessions (random, stored as SHA-256) and who
is asking."""

import datetime as dt
import hashlib
import logging
import re
import secrets
import time

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, request, session
from flask_login import current_user
from limits import parse as parse_limit
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from zxcvbn import zxcvbn

from .dbtypes import utcnow
from .errors import NotAuthenticated, StaffingError
from .extensions import db, limiter, login_manager
from .partners.models import ApiToken, User, UserSession

TOKEN_PREFIX = "stf_"
_hasher = PasswordHasher()
# Verifying against this keeps the timing of "no such user" close to "wrong password".
_DUMMY_HASH = _hasher.hash("not-a-real-password")


PASSWORD_MIN_LENGTH = 12
PASSWORD_MIN_SCORE = 3  # zxcvbn's 0-4: 3 is "safely unguessable: moderate protection"


def password_problem(password: str, user_inputs: tuple[str, ...] = ()) -> str | None:
    """Why the password may not be used, or None. Common, trivial and guessable passwords are
    refused (zxcvbn's estimate, which also knows the user's own email and name)."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"use at least {PASSWORD_MIN_LENGTH} characters"
    if len(password) > 200:
        return "use at most 200 characters"
    # zxcvbn reads at most 72 characters (its cost grows with the length): those decide
    verdict = zxcvbn(password[:72], user_inputs=[value for value in user_inputs if value])
    if verdict["score"] >= PASSWORD_MIN_SCORE:
        return None
    feedback = verdict["feedback"]
    hints = " ".join(filter(None, [feedback.get("warning"), *feedback.get("suggestions", [])]))
    return "too easy to guess" + (f": {hints}" if hints else "")


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


class TooManyAttempts(StaffingError):
    """The account's password was tried too often: 429 until the window passes."""

    status = 429

    def __init__(self, retry_after: int):
        minutes = max(1, round(retry_after / 60))
        super().__init__(f"too many attempts at this account's password: try again in about "
                         f"{minutes} minute{'s' if minutes > 1 else ''}")
        self.retry_after = retry_after


def check_password_attempt(email: str, user: User | None, password: str) -> bool:
    """verify_password, counted per account: every attempt at an account's password (signing
    in, or `current_password` on a change) takes one of its LOGIN_FAILURE_LIMIT attempts,
    atomically before the check, so that guesses sent at once cannot all pass; a right
    password gives them back. TooManyAttempts once they are used up, whatever the password."""
    limit = parse_limit(current_app.config["LOGIN_FAILURE_LIMIT"])
    key = ("password-attempts", email.strip().lower())
    if not limiter.limiter.hit(limit, *key):
        reset_at = limiter.limiter.get_window_stats(limit, *key).reset_time
        raise TooManyAttempts(max(1, int(reset_at - time.time()) + 1))
    if not verify_password(user, password):
        return False
    limiter.limiter.clear(limit, *key)
    return True


def digest_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(user: User, name: str, expires_at: dt.datetime | None,
                parent: ApiToken | None = None) -> tuple[ApiToken, str]:
    """Create a token row for user; return it and the only copy of the secret. `parent`: the
    token that authenticated the request creating it (revoking that one revokes this one)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user, name=name, prefix=secret[:12], token_hash=digest_token(secret),
        expires_at=expires_at, parent_id=parent.id if parent is not None else None,
    )
    db.session.add(token)
    db.session.flush()
    return token, secret


def revoke_tokens(tokens: sa.Select, now: dt.datetime | None = None,
                  keep: ApiToken | None = None) -> None:
    """Revoke the selected tokens and every token created with them, down the lineage; but
    `keep` (the token of the request), which then descends from none of them."""
    now = now or utcnow()
    ids = set(db.session.scalars(tokens.with_only_columns(ApiToken.id)))
    frontier = set(ids)
    while frontier:  # children, grandchildren, ...: each round one level down
        frontier = set(db.session.scalars(
            sa.select(ApiToken.id).where(ApiToken.parent_id.in_(frontier)))) - ids
        ids |= frontier
    if keep is not None and keep.id in ids:
        ids.discard(keep.id)
        keep.parent_id = None
    if ids:
        db.session.execute(sa.update(ApiToken).where(
            ApiToken.id.in_(ids), ApiToken.revoked_at.is_(None)).values(revoked_at=now))


LAST_USED_EVERY = dt.timedelta(minutes=1)  # how precisely a token's last use is kept


def user_for_token(secret: str, now: dt.datetime | None = None) -> User | None:
    """The active user a usable token belongs to, or None (one query). The token's last use
    is written at most once a minute, and never in the session's transaction: once that
    transaction ends, in a short one of its own (record_token_use)."""
    token = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.user))
                              .filter_by(token_hash=digest_token(secret)))
    now = now or utcnow()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    # to the minute: a client polling a job every 50 ms would otherwise write at every
    # request; outside the request's transaction: a read takes no lock (on SQLite none on
    # the database, on PostgreSQL none on the row that a long request would hold)
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        set_committed_value(token, "last_used_at", now)  # as the request sees it, unflushed
        _record_token_use_after(db.session(), token.id, now)
    g.token = token  # the request's credential: what a token created with it may not outlive
    return token.user


def _record_token_use_after(session: Session, token_id: int, now: dt.datetime) -> None:
    """Have record_token_use run once session's transaction has ended, committed or not."""
    uses = session.info.get("staffing_token_uses")
    if uses is None:  # one listener per session: a session lives for one request
        uses = session.info["staffing_token_uses"] = {}
        bind = db.engine

        @sa.event.listens_for(session, "after_transaction_end")
        def record(_, transaction):
            if transaction.parent is None:  # the session's own, not a savepoint's
                while uses:
                    record_token_use(bind, *uses.popitem())

    uses[token_id] = now


def record_token_use(bind: sa.Engine | sa.Connection, token_id: int, now: dt.datetime) -> bool:
    """Write a token's last use in a short transaction of its own on bind (on a Connection,
    in a savepoint of the caller's transaction); True when written. It never waits and never
    raises: a token row that another transaction holds (PostgreSQL), or a database another
    writer holds (SQLite), is skipped, and the token's next request tries again."""
    due = sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USED_EVERY)
    free = sa.select(ApiToken.id).where(ApiToken.id == token_id, due).with_for_update(
        skip_locked=True)  # SQLite has no row locks: its write lock is taken without waiting
    write = sa.update(ApiToken).where(ApiToken.id.in_(free)).values(last_used_at=now)
    try:
        if isinstance(bind, sa.Connection):
            with bind.begin_nested():
                return bind.execute(write).rowcount > 0
        with bind.connect() as connection:
            connection.execution_options(sqlite_begin="IMMEDIATE NOWAIT")
            with connection.begin():
                return connection.execute(write).rowcount > 0
    except sa.exc.SQLAlchemyError as error:  # locked, or the database is away: next time
        logging.getLogger(__name__).debug("token %s: last use not recorded: %s", token_id,
                                          error.__class__.__name__)
        return False


CREDENTIAL_PARAMETERS = ("access_token", "token", "api_key")
_CREDENTIAL_IN_URL = re.compile(
    r"([?&;](?:" + "|".join(CREDENTIAL_PARAMETERS) + r")=)[^&;\s\"']*", re.IGNORECASE)


def redact_credentials(text: str) -> str:
    """The text with the value of every credential query parameter replaced."""
    return _CREDENTIAL_IN_URL.sub(r"\1[redacted]", text)


class RedactCredentials(logging.Filter):
    """On the loggers of request lines (gunicorn's access log, the development server's):
    a token someone put into a URL is refused, and not written to the log either."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_credentials(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REQUEST_LOGGERS = ("gunicorn.access", "werkzeug")


def refuse_credentials_in_url() -> None:
    """before_request for the whole app: a token in the query string ends up in access logs,
    proxies and browser history, so it is refused (400) before anything reads it."""
    named = [name for name in request.args if name.lower() in CREDENTIAL_PARAMETERS]
    if named:
        raise StaffingError(f"send the token in the Authorization header, never in the URL "
                         f"(got ?{named[0]}=)", {named[0]: ["not accepted in the URL"]})


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
    g.pop("token", None)
    g.pop("_login_user", None)


def current_token() -> ApiToken | None:
    """The API token that authenticated this request (None for a browser session)."""
    return g.get("token")


def current_actor() -> User:
    """The authenticated user of this request (API token or browser session)."""
    actor = g.get("actor")
    if actor is not None:
        return actor
    if current_user.is_authenticated:
        return current_user._get_current_object()
    raise NotAuthenticated("sign in first")


# --- browser sessions ----------------------------------------------------------------------

SESSION_KEY = "sid"  # where the session's secret lives in Flask's signed cookie


def start_session(user: User, user_agent: str = "") -> None:
    """Record a new browser session for user and put its secret into the cookie (after
    Flask-Login's login_user). Only the digest is stored: a database dump opens no session."""
    secret = secrets.token_urlsafe(32)
    hours = current_app.config["SESSION_HOURS"]
    db.session.add(UserSession(user=user, token_hash=digest_token(secret),
                               expires_at=utcnow() + dt.timedelta(hours=hours),
                               user_agent=user_agent[:200]))
    db.session.flush()
    session[SESSION_KEY] = secret


def current_session() -> UserSession | None:
    """The server-side row of this request's browser session, when there is one."""
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str):
        return None
    return db.session.scalar(sa.select(UserSession).filter_by(token_hash=digest_token(secret)))


def end_session() -> None:
    """Sign-out: end this request's session on the server, so a saved cookie stops working."""
    row = current_session()
    if row is not None and row.ended_at is None:
        row.ended_at = utcnow()
    session.pop(SESSION_KEY, None)


def end_sessions(user: User, keep: UserSession | None = None) -> None:
    """End every open session of user but `keep` (a password change, a deactivation)."""
    query = sa.update(UserSession).where(UserSession.user_id == user.id,
                                         UserSession.ended_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep.id)
    db.session.execute(query.values(ended_at=utcnow()))


def end_access(user: User, keep_current: bool) -> None:
    """End user's browser sessions and revoke their tokens: after a password change or when
    an admin deactivates them. keep_current: the credential of this request (its token, or
    else its browser session) lives on."""
    keep_token = current_token() if keep_current else None
    keep_session = current_session() if keep_current and keep_token is None else None
    end_sessions(user, keep_session if keep_session and keep_session.user_id == user.id
                 else None)
    keep_token = keep_token if keep_token is not None and keep_token.user_id == user.id \
        else None
    revoke_tokens(sa.select(ApiToken).where(ApiToken.user_id == user.id), keep=keep_token)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The session's user, while its server-side session is open and the user active."""
    row = current_session()
    if row is None or not user_id.isdigit() or row.user_id != int(user_id) \
            or not row.is_usable(utcnow()):
        return None
    user = db.session.get(User, row.user_id)
    return user if user is not None and user.is_active else None
