"""HTML pages of the partners domain: sign in and out, and the signed-in user's account."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..dbtypes import utcnow
from ..errors import InvalidInput
from ..extensions import db, limiter
from ..security import (
    TooManyAttempts,
    check_password_attempt,
    current_actor,
    current_session,
    end_session,
    end_sessions,
    start_session,
)
from .forms import EndSessionsForm, LoginForm, PasswordForm
from .models import User, UserSession
from .operations import list_tokens, update_user

web = Blueprint("accounts", __name__)

# One message for an unknown email, a wrong password and a deactivated user alike.
LOGIN_FAILED = "email or password is wrong"


def safe_next(target: str | None) -> str | None:
    """target when it is a path on this host ("/projects/1"), else None: no open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers drop tabs and newlines and read "\" as "/", so "/\t/evil" would leave the host.
    if "\\" in target or any(char.isspace() or not char.isprintable() for char in target):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@web.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"],
               error_message="too many sign-in attempts from your address; wait a minute, "
                             "then try again")
def login():
    """Sign in with email and password; redirect to a safe `next` or the dashboard."""
    next_url = safe_next(request.args.get("next"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url or url_for("web.dashboard"))
    form = LoginForm()
    if not form.validate_on_submit():
        status = 422 if form.errors else 200
        return render_template("login.html", form=form, next_url=next_url), status
    email = form.email.data.strip().lower()
    user = db.session.scalar(sa.select(User).filter_by(email=email))
    try:
        signed_in = check_password_attempt(email, user, form.password.data)
    except TooManyAttempts as error:
        page = render_template("login.html", form=form, next_url=next_url,
                               failure=error.message)
        return page, 429, {"Retry-After": str(error.retry_after)}
    if not signed_in:
        page = render_template("login.html", form=form, next_url=next_url, failure=LOGIN_FAILED)
        return page, 401
    end_session()  # signing in again, as someone else say: the earlier session ends
    login_user(user)
    start_session(user, request.user_agent.string)
    return redirect(next_url or url_for("web.dashboard"))


@web.post("/logout")
def logout():
    """End the browser session, on the server too: a copy of the cookie no longer signs in.
    The app-wide CSRFProtect has checked the form's token."""
    end_session()
    logout_user()
    return redirect(url_for("accounts.login"))


def _account_page(password_form: PasswordForm | None = None, status: int = 200):
    actor = current_actor()
    tokens = db.session.scalars(list_tokens(actor)).all()
    sessions = db.session.scalars(
        sa.select(UserSession).where(UserSession.user_id == actor.id,
                                     UserSession.ended_at.is_(None))
        .order_by(UserSession.created_at.desc())).all()
    now = utcnow()
    page = render_template(
        "account.html", user=actor, tokens=tokens,
        sessions=[row for row in sessions if row.is_usable(now)], this_session=current_session(),
        password_form=password_form or PasswordForm(), end_form=EndSessionsForm())
    return page, status


@web.get("/account")
@login_required
def account():
    """The signed-in user's name, firm and role, their API tokens (never the secrets), where
    they are signed in, and a form to change their password."""
    return _account_page()


@web.post("/account/password")
@login_required
def change_password():
    """Change one's password: the API's rule (current password, the policy); the other
    sessions end and the tokens are revoked. Errors are shown beside the fields."""
    form = PasswordForm()
    if not form.validate_on_submit():
        return _account_page(form, 422)
    actor = current_actor()
    try:
        update_user(actor, actor, {"password": form.new_password.data,
                                   "current_password": form.current_password.data})
    except TooManyAttempts as error:
        db.session.rollback()
        form.current_password.errors = [error.message]
        page, _ = _account_page(form)
        return page, 429, {"Retry-After": str(error.retry_after)}
    except InvalidInput as error:
        fields = {"password": form.new_password, "current_password": form.current_password}
        for name, reasons in error.errors.items():
            fields.get(name, form.new_password).errors = list(reasons)
        db.session.rollback()
        return _account_page(form, 422)
    flash("Password changed. You were signed out everywhere else, and your API tokens were "
          "revoked.")
    return redirect(url_for("accounts.account"), 303)


@web.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    """Sign out every other browser of this user (a lost laptop, a shared computer)."""
    if not EndSessionsForm().validate_on_submit():
        return _account_page(status=400)
    end_sessions(current_actor(), keep=current_session())
    flash("Signed out everywhere else.")
    return redirect(url_for("accounts.account"), 303)
