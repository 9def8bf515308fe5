"""Sign-in hardening: rate limits, security headers, the password policy, password changes,
server-side sessions, token lineage and credentials kept out of URLs and logs."""

import datetime as dt
import http.cookiejar
import logging
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
import sqlalchemy as sa

from staffing import create_app
from staffing.dbtypes import utcnow
from staffing.extensions import limiter
from staffing.partners.models import ApiToken, UserSession
from staffing.security import RedactCredentials, digest_token, issue_token, password_problem
from tests.conftest import PASSWORD, Matching
from tests.live import WAIT, free_port, get, join_all, serve, until
from tests.partners.test_views import csrf_token, sign_in

NEW_PASSWORD = "tangerine orbit lantern 42"
GUNICORN_CONF = os.path.join(os.path.dirname(__file__), "..", "..", "gunicorn.conf.py")


@pytest.fixture
def fresh_limits(app):
    """Counters from zero, and put back afterwards."""
    limiter.reset()
    yield app
    limiter.reset()


def signed_in_page(client) -> int:
    """The status of the account page: 200 signed in, 302 to the sign-in page otherwise."""
    return client.get("/account").status_code


# --- rate limits -----------------------------------------------------------------------------


def test_failed_sign_ins_lock_the_account_for_a_while_even_with_the_right_password(
        client, create_user, fresh_limits):
    user, bystander = create_user(), create_user()
    for _ in range(10):
        assert sign_in(client, user.email, password="wrong password!").status_code == 401
    locked = sign_in(client, user.email)
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert re.search(r"password: try again in about 1[0-5] minutes",
                     locked.get_data(as_text=True))
    assert signed_in_page(client) == 302, "the right password did not get through"
    assert sign_in(client, bystander.email).status_code == 302, "other accounts sign in"


def test_successful_sign_ins_do_not_count_towards_the_lockout(app, create_user, db,
                                                              fresh_limits):
    user = create_user()
    for _ in range(12):
        assert sign_in(app.test_client(), user.email).status_code == 302


def test_sign_ins_per_client_address_are_limited(app, client, create_user, fresh_limits,
                                                 monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_LIMIT", "5 per minute")
    users = [create_user() for _ in range(6)]
    statuses = [sign_in(client, user.email, password="wrong password!").status_code
                for user in users]
    assert statuses == [401] * 5 + [429]
    page = client.get("/login")
    assert page.status_code == 200, "reading the form is not limited"


def test_token_creation_is_limited_per_user_in_the_one_error_shape(client, create_user, auth,
                                                                   fresh_limits):
    user = create_user()
    headers = auth(user)
    statuses = [client.post("/api/v1/tokens", json={"name": f"t{n}"},
                            headers=headers).status_code for n in range(21)]
    assert statuses == [201] * 20 + [429]
    refused = client.post("/api/v1/tokens", json={"name": "again"}, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert set(refused.json) == {"code", "status", "message", "errors"}
    other = create_user()
    assert client.post("/api/v1/tokens", json={"name": "x"},
                       headers=auth(other)).status_code == 201


# --- security headers ------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/login", "/healthz", "/api/v1/openapi.json",
                                  "/api/v1/projects"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    policy = headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_only_the_api_docs_may_run_inline_scripts(client):
    assert "'unsafe-inline'" in client.get("/api/v1/docs").headers["Content-Security-Policy"]


def test_hsts_in_production_over_https_only(database_url, tmp_path):
    production = create_app({"STAFFING_ENV": "production", "SECRET_KEY": "k" * 32,
                             "SQLALCHEMY_DATABASE_URI": database_url})
    client = production.test_client()
    secure = client.get("/healthz", base_url="https://staffing.example")
    assert "max-age=" in secure.headers["Strict-Transport-Security"]
    assert "Strict-Transport-Security" not in client.get("/healthz").headers
    development = create_app({"STAFFING_ENV": "development", "SECRET_KEY": "k" * 32,
                              "SQLALCHEMY_DATABASE_URI": database_url})
    assert "Strict-Transport-Security" not in development.test_client().get(
        "/healthz", base_url="https://localhost").headers


def test_behind_a_trusted_proxy_https_is_seen_from_x_forwarded_proto(database_url):
    production = create_app({"STAFFING_ENV": "production", "SECRET_KEY": "k" * 32,
                             "SQLALCHEMY_DATABASE_URI": database_url, "PROXY_COUNT": 1})
    response = production.test_client().get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


# --- password policy -------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["aaaaaaaaaaaa", "password1234", "qwertyuiop12",
                                      "123456789012", "short"])
def test_common_and_trivial_passwords_are_refused(client, create_user, auth, password):
    admin = create_user(role="admin")
    response = client.post("/api/v1/users", headers=auth(admin), json={
        "email": "new@example.com", "password": password})
    assert response.status_code == 422
    assert response.json["errors"]["password"]


def test_a_password_made_of_the_users_own_email_is_refused(client, create_user, auth):
    admin = create_user(role="admin")
    response = client.post("/api/v1/users", headers=auth(admin), json={
        "email": "gretchen.mueller@example.com", "password": "gretchen.mueller"})
    assert response.status_code == 422


def test_a_strong_password_is_accepted_and_the_policy_explains_itself():
    assert password_problem(NEW_PASSWORD) is None
    assert password_problem("aaaaaaaaaaaa").startswith("too easy to guess")
    assert password_problem("abc") == "use at least 12 characters"


# --- password changes and sessions -----------------------------------------------------------


def test_changing_ones_password_needs_the_current_one(client, create_user, auth):
    user = create_user()
    headers = auth(user)
    url = f"/api/v1/users/{user.id}"
    missing = Matching(client).patch(url, json={"password": NEW_PASSWORD}, headers=headers)
    assert missing.status_code == 422 and "current_password" in missing.json["errors"]
    wrong = Matching(client).patch(url, json={"password": NEW_PASSWORD,
                                    "current_password": "not it at all"}, headers=headers)
    assert wrong.status_code == 422 and "current_password" in wrong.json["errors"]
    changed = Matching(client).patch(url, headers=headers, json={
        "password": NEW_PASSWORD, "current_password": PASSWORD})
    assert changed.status_code == 200
    assert sign_in(client, user.email, password=NEW_PASSWORD).status_code == 302


def test_a_password_change_ends_other_sessions_and_tokens_but_this_one(app, create_user, db):
    user = create_user()
    laptop, phone = app.test_client(), app.test_client()
    for browser in (laptop, phone):
        assert sign_in(browser, user.email).status_code == 302
    _, old_secret = issue_token(user, "old script", None)
    _, this_secret = issue_token(user, "this request", None)
    db.session.commit()
    changed = phone.get("/account")
    assert changed.status_code == 200
    this = {"Authorization": f"Bearer {this_secret}"}
    assert Matching(phone).patch(f"/api/v1/users/{user.id}", headers=this, json={
        "password": NEW_PASSWORD, "current_password": PASSWORD}).status_code == 200
    assert signed_in_page(laptop) == 302 and signed_in_page(phone) == 302, \
        "browser sessions end: the change came with a token, not from a browser"
    assert phone.get("/api/v1/users/me", headers={
        "Authorization": f"Bearer {old_secret}"}).status_code == 401
    assert phone.get("/api/v1/users/me", headers=this).status_code == 200


def test_an_admin_resetting_a_password_or_deactivating_ends_all_of_the_users_access(
        app, client, create_user, auth, db):
    admin = create_user(role="admin")
    for change in ({"password": NEW_PASSWORD}, {"is_active": False}):
        user = create_user(firm=admin.firm)
        browser = app.test_client()
        assert sign_in(browser, user.email).status_code == 302
        headers = auth(user)
        assert Matching(client).patch(f"/api/v1/users/{user.id}", json=change,
                            headers=auth(admin)).status_code == 200
        assert signed_in_page(browser) == 302, change
        assert client.get("/api/v1/users/me", headers=headers).status_code == 401, change


def test_sign_out_ends_the_session_on_the_server(app, client, create_user):
    user = create_user()
    assert sign_in(client, user.email).status_code == 302
    saved = client.get_cookie("session").value
    assert client.post("/logout", data={"csrf_token": csrf_token(client, "/account")}
                       ).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", saved)
    assert signed_in_page(replay) == 302, "a cookie saved before sign-out no longer works"


def test_the_session_row_holds_a_digest_and_expires(app, client, create_user, db, monkeypatch):
    user = create_user()
    assert sign_in(client, user.email).status_code == 302
    row = db.session.scalars(sa.select(UserSession).filter_by(user_id=user.id)).one()
    with client.session_transaction() as session:
        secret = session["sid"]
    assert row.token_hash == digest_token(secret) and secret not in row.token_hash
    lifetime = row.expires_at - row.created_at
    assert abs(lifetime - dt.timedelta(hours=app.config["SESSION_HOURS"])) < dt.timedelta(
        seconds=5)
    row.expires_at = utcnow() - dt.timedelta(seconds=1)
    db.session.commit()
    assert signed_in_page(client) == 302


def test_a_cookie_without_a_server_side_session_signs_nobody_in(app, client, create_user):
    user = create_user()
    with client.session_transaction() as session:  # a forged or pre-upgrade cookie
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert signed_in_page(client) == 302


# --- tokens ----------------------------------------------------------------------------------


def _token_headers(client, headers, **body):
    response = client.post("/api/v1/tokens", json={"name": "child", **body}, headers=headers)
    return response, ({"Authorization": f"Bearer {response.json['token']}"}
                      if response.status_code == 201 else None)


def test_a_token_never_outlives_the_token_that_creates_it(client, create_user, db):
    user = create_user()
    parent, secret = issue_token(user, "parent", utcnow() + dt.timedelta(days=7))
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    for body in ({"expires_in_days": 30}, {"expires_in_days": None}):
        refused, _ = _token_headers(client, headers, **body)
        assert refused.status_code == 422, body
        assert "outlive" in refused.json["errors"]["expires_in_days"][0]
    created, _ = _token_headers(client, headers)  # the default 90 days: capped to 7
    assert created.status_code == 201
    assert dt.datetime.fromisoformat(created.json["expires_at"]) <= parent.expires_at
    shorter, _ = _token_headers(client, headers, expires_in_days=3)
    assert shorter.status_code == 201


def test_revoking_a_token_revokes_the_tokens_made_with_it(client, create_user, db):
    user = create_user()
    _, secret = issue_token(user, "root", None)
    db.session.commit()
    root = {"Authorization": f"Bearer {secret}"}
    child_response, child = _token_headers(client, root)
    _, grandchild = _token_headers(client, child)
    _, sibling_secret = issue_token(user, "unrelated", None)
    db.session.commit()
    root_id = db.session.scalar(sa.select(ApiToken.id).filter_by(token_hash=digest_token(
        secret)))
    assert client.delete(f"/api/v1/tokens/{root_id}", headers=child).status_code == 204
    for headers in (root, child, grandchild):
        assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert client.get("/api/v1/users/me", headers={
        "Authorization": f"Bearer {sibling_secret}"}).status_code == 200


# --- credentials out of URLs and logs ----------------------------------------------------


@pytest.mark.parametrize("name", ["access_token", "token", "api_key"])
def test_a_token_in_the_query_string_is_refused(client, create_user, auth, name):
    headers = auth(create_user())
    secret = headers["Authorization"].split()[1]
    response = client.get(f"/api/v1/users/me?{name}={secret}")
    assert response.status_code == 400
    assert set(response.json) == {"code", "status", "message", "errors"}
    assert name in response.json["errors"]


def test_a_token_in_the_query_string_is_refused_whatever_its_case(client, create_user, auth):
    headers = auth(create_user())
    secret = headers["Authorization"].split()[1]
    response = client.get(f"/api/v1/users/me?ACCESS_TOKEN={secret}", headers=headers)
    assert response.status_code == 400 and "ACCESS_TOKEN" in response.json["errors"]


def test_a_failing_statement_is_logged_without_its_parameters(client, create_user, auth,
                                                              monkeypatch, caplog):
    """A broken query during the token look-up (as a bug or a schema drift would make it):
    the 500's log entry names the statement, never the token's digest or the secret."""
    from staffing import security
    from staffing.extensions import db

    headers = auth(create_user())
    secret = headers["Authorization"].split()[1]

    def broken_lookup(token_secret, now=None):
        # a value the driver cannot bind: the error message would list every parameter
        db.session.execute(sa.text("SELECT id FROM api_token WHERE token_hash = :digest "
                                   "AND id = :broken"),
                           {"digest": digest_token(token_secret), "broken": object()})

    monkeypatch.setattr(security, "user_for_token", broken_lookup)
    with caplog.at_level(logging.DEBUG):
        response = client.get("/api/v1/users/me", headers=headers)
        failed_sign_in = client.post("/login", data={"email": "x@example.com",
                                                     "password": "my secret words"})
    assert response.status_code == 500
    assert "FROM api_token WHERE token_hash" in caplog.text, "the failure is logged"
    assert "parameters hidden" in caplog.text
    for secret_text in (secret, digest_token(secret), "my secret words"):
        assert secret_text not in caplog.text
    assert failed_sign_in.status_code in (400, 401, 422)


def test_request_logs_never_show_a_token_from_a_url():
    record = logging.LogRecord("gunicorn.access", logging.INFO, __file__, 1,
                               '%(h)s "%(r)s" %(s)s', {"h": "10.0.0.1", "s": "400", "r":
                               "GET /api/v1/users/me?page=2&access_token=stf_secret HTTP/1.1"},
                               None)
    assert RedactCredentials().filter(record)
    assert record.getMessage() == \
        '10.0.0.1 "GET /api/v1/users/me?page=2&access_token=[redacted] HTTP/1.1" 400'


def test_gunicorn_access_log_has_no_token_from_a_url(live, tmp_path):
    """The service under gunicorn, as in production: a request with ?access_token= is
    refused, and its line in the access log has the value redacted."""
    log_file, port = tmp_path / "access.log", free_port()
    process = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", GUNICORN_CONF,
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", str(log_file),
         "staffing:create_app()"], env=live["env"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True)
    live["started"].append(process)
    until(lambda: get(port, "/healthz", live)[0] == 200, "gunicorn answers")
    status, body = get(port, f"/api/v1/users/me?access_token={live['token']}", live)
    assert status == 400 and "access_token" in body["errors"]
    until(lambda: "access_token" in log_file.read_text(), "the access log line")
    assert live["token"] not in log_file.read_text()
    assert "access_token=[redacted]" in log_file.read_text()


# --- the account page ------------------------------------------------------------------------


def _change_password(client, current, new, repeat=None):
    return client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account"), "current_password": current,
        "new_password": new, "repeat_password": new if repeat is None else repeat})


def test_the_account_page_changes_the_password_and_ends_the_other_sessions(
        app, client, create_user, db):
    user = create_user()
    other = app.test_client()
    for browser in (client, other):
        assert sign_in(browser, user.email).status_code == 302
    _, secret = issue_token(user, "script", None)
    db.session.commit()
    page = client.get("/account").get_data(as_text=True)
    assert "(this browser)" in page and "Sign out everywhere else" in page
    changed = _change_password(client, PASSWORD, NEW_PASSWORD)
    assert changed.status_code == 303
    assert "Password changed" in client.get("/account").get_data(as_text=True)
    assert signed_in_page(other) == 302
    assert client.get("/api/v1/users/me", headers={
        "Authorization": f"Bearer {secret}"}).status_code == 401
    assert sign_in(app.test_client(), user.email, password=NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("current,new,repeat,field,reason", [
    ("wrong password!", NEW_PASSWORD, None, "current_password", "is not your current"),
    (PASSWORD, "aaaaaaaaaaaa", None, "new_password", "too easy to guess"),
    (PASSWORD, NEW_PASSWORD, "something else entirely", "repeat_password", "differ"),
])
def test_a_refused_password_change_says_why_beside_the_field(client, create_user, current,
                                                              new, repeat, field, reason):
    user = create_user()
    assert sign_in(client, user.email).status_code == 302
    refused = _change_password(client, current, new, repeat)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert f'id="{field}-error"' in page and reason in page
    assert f'id="{field}" ' in page and 'aria-invalid="true"' in page
    assert sign_in(client.application.test_client(), user.email).status_code == 302, \
        "the old password still works"


def test_sign_out_everywhere_else_keeps_this_browser(app, client, create_user):
    user = create_user()
    other = app.test_client()
    for browser in (client, other):
        assert sign_in(browser, user.email).status_code == 302
    ended = client.post("/account/sessions/end-others",
                        data={"csrf_token": csrf_token(client, "/account")})
    assert ended.status_code == 303
    assert signed_in_page(client) == 200 and signed_in_page(other) == 302


SIGN_IN_ATTEMPTS = """
import re, sys
from flask_migrate import upgrade
from staffing import create_app
from staffing.extensions import db
from staffing.partners.models import Firm, User
from staffing.security import hash_password

app = create_app({"STAFFING_ENV": "test", "SECRET_KEY": "k", "SOLVE_BACKEND": "inline",
                  "SQLALCHEMY_DATABASE_URI": sys.argv[1], "RATELIMIT_KEY_PREFIX": sys.argv[2]})
with app.app_context():
    upgrade()
    if db.session.scalar(db.select(User).filter_by(email="victim@example.com")) is None:
        firm = Firm(name="Victim AG", latitude=50.0, longitude=8.0)
        db.session.add(User(firm=firm, email="victim@example.com",
                            password_hash=hash_password("the right one, surely")))
        db.session.commit()
client = app.test_client()
statuses = []
for password in sys.argv[3:]:
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    statuses.append(client.post("/login", data={"csrf_token": token, "password": password,
                                                "email": "victim@example.com"}).status_code)
print(" ".join(map(str, statuses)))
"""


def test_with_redis_every_process_counts_the_same_failed_sign_ins(tmp_path):
    """Two service processes sharing Redis: ten failures through the first lock the account
    in the second too (in memory, each process would count its own ten)."""
    from tests.live import redis_url

    url = redis_url()
    database = f"sqlite:///{tmp_path / 'limits.sqlite3'}"
    prefix = f"staffing-test-limits-{os.getpid()}-{tmp_path.name}"
    env = {**os.environ, "REDIS_URL": url}

    def attempts(*passwords):
        done = subprocess.run([sys.executable, "-c", SIGN_IN_ATTEMPTS, database, prefix,
                               *passwords], env=env, capture_output=True, text=True,
                              timeout=120, check=True)
        return done.stdout.split()

    assert attempts(*["wrong guess"] * 10) == ["401"] * 10
    assert attempts("the right one, surely") == ["429"], "the other process knows"
    from redis import Redis
    client = Redis.from_url(url)
    keys = list(client.scan_iter(f"*{prefix}*"))
    assert keys
    client.delete(*keys)


def test_a_password_change_keeps_the_token_that_made_it_even_a_grandchild(client, create_user,
                                                                         db):
    """The request's token lives on although it descends from tokens the change revokes."""
    user = create_user()
    _, root_secret = issue_token(user, "root", None)
    db.session.commit()
    root = {"Authorization": f"Bearer {root_secret}"}
    _, child = _token_headers(client, root)
    _, grandchild = _token_headers(client, child)
    changed = Matching(client).patch(f"/api/v1/users/{user.id}", headers=grandchild, json={
        "password": NEW_PASSWORD, "current_password": PASSWORD})
    assert changed.status_code == 200
    assert client.get("/api/v1/users/me", headers=grandchild).status_code == 200
    for revoked in (root, child):
        assert client.get("/api/v1/users/me", headers=revoked).status_code == 401
    kept = db.session.scalar(sa.select(ApiToken).filter_by(token_hash=digest_token(
        grandchild["Authorization"].split()[1])))
    assert kept.parent_id is None, "it no longer descends from revoked tokens"


def test_wrong_current_passwords_count_towards_the_accounts_lockout(client, create_user,
                                                                    auth, fresh_limits):
    """A stolen token cannot guess the password through a password change either."""
    user = create_user()
    headers, url = auth(user), f"/api/v1/users/{user.id}"
    for _ in range(10):
        wrong = Matching(client).patch(url, headers=headers, json={
            "password": NEW_PASSWORD, "current_password": "a wrong guess!"})
        assert wrong.status_code == 422
    locked = Matching(client).patch(url, headers=headers, json={
        "password": NEW_PASSWORD, "current_password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert set(locked.json) == {"code", "status", "message", "errors"}
    assert sign_in(client, user.email).status_code == 429, "the same account, the same count"


def test_the_locked_sign_in_page_is_the_form_with_the_reason(client, create_user,
                                                              fresh_limits):
    user = create_user()
    for _ in range(10):
        sign_in(client, user.email, password="wrong password!")
    locked = sign_in(client, user.email)
    assert locked.status_code == 429 and 'name="password"' in locked.get_data(as_text=True)


def _login_attempt(port: int, email: str, password: str, start: threading.Barrier) -> int:
    """One browser: read the sign-in form (its cookie and CSRF token), wait for the others,
    then post."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"http://127.0.0.1:{port}/login", timeout=60).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf_token": token, "email": email,
                                   "password": password}).encode()
    start.wait()
    try:
        return opener.open(f"http://127.0.0.1:{port}/login", data=body, timeout=60).status
    except urllib.error.HTTPError as error:
        return error.code


def test_guesses_sent_at_once_cannot_beat_the_lockout(live):
    """25 wrong passwords at the same moment: 10 are checked, the others are refused."""
    port = serve(live)
    start, statuses = threading.Barrier(25, timeout=WAIT), []
    threads = [threading.Thread(target=lambda: statuses.append(_login_attempt(
        port, live["email"], "a wrong guess!", start)), daemon=True) for _ in range(25)]
    for thread in threads:
        thread.start()
    join_all(threads, "the 25 sign-in attempts", timeout=120)
    assert sorted(statuses) == [401] * 10 + [429] * 15
