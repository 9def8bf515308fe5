"""HTML pages of the partners domain: sign in and out, and the signed-in user's account."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db, limiter
from ..security import current_actor, end_session, start_session, verify_password
from .forms import LoginForm
from .models import User
from .operations import list_tokens

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


def _login_email() -> str:
    """The account a sign-in attempt is for: failed attempts are counted per account."""
    return "login:" + (request.form.get("email") or "").strip().lower()[:254]


TOO_MANY_ATTEMPTS = "too many sign-in attempts; wait a few minutes, then try again"


@web.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT"], methods=["POST"],
               error_message=TOO_MANY_ATTEMPTS)
@limiter.limit(lambda: current_app.config["LOGIN_FAILURE_LIMIT"], methods=["POST"],
               key_func=_login_email, deduct_when=lambda response: response.status_code == 401,
               error_message=TOO_MANY_ATTEMPTS)
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
    if not verify_password(user, form.password.data):
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


@web.get("/account")
@login_required
def account():
    """The signed-in user's name, firm and role, and their API tokens (never the secrets)."""
    actor = current_actor()
    tokens = db.session.scalars(list_tokens(actor)).all()
    return render_template("account.html", user=actor, tokens=tokens)
