"""Browser sign-in, sign-out and the account page."""

import re

import pytest
from flask import g

from staffing.partners.views import safe_next
from staffing.security import issue_token
from tests.conftest import PASSWORD

GENERIC = "email or password is wrong"


def csrf_token(client, path="/login") -> str:
    # the tests' requests share one application context (the db fixture's), and Flask-WTF
    # keeps the token of the session it saw last in `g`: forget it for a second browser
    g.pop("csrf_token", None)
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def without_csrf(page: str) -> str:
    """The page minus its CSRF token, which is random and signed with a timestamp."""
    return re.sub(r'name="csrf_token"[^>]*>', "", page)


def sign_in(client, email, password=PASSWORD, query=""):
    data = {"email": email, "password": password, "csrf_token": csrf_token(client)}
    return client.post("/login" + query, data=data)


def signed_in(client) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def test_login_page_has_a_form_with_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert 'name="email"' in response.text and 'name="password"' in response.text
    assert csrf_token(client)


def test_login_redirects_to_dashboard_and_sets_session(client, create_user):
    user = create_user(email="ada@example.com")
    response = sign_in(client, "Ada@Example.com ")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    assert signed_in(client)
    with client.session_transaction() as session:
        assert session["_user_id"] == str(user.id)


def test_login_follows_a_relative_next(client, create_user):
    user = create_user()
    response = sign_in(client, user.email, query="?next=/account")
    assert response.headers["Location"] == "/account"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "/\t/evil.example",
    "javascript:alert(1)", "evil.example",
])
def test_login_ignores_an_unsafe_next(client, create_user, target):
    user = create_user()
    response = client.post("/login", query_string={"next": target}, data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_safe_next_keeps_paths_with_query():
    assert safe_next("/projects/3?tab=sites") == "/projects/3?tab=sites"
    assert safe_next(None) is None


def test_wrong_password_is_401_with_generic_message(client, create_user):
    user = create_user()
    response = sign_in(client, user.email, password="wrong password")
    assert response.status_code == 401
    assert GENERIC in response.text
    assert not signed_in(client)


def test_unknown_email_gets_the_same_answer(client, create_user):
    user = create_user()
    unknown = sign_in(client, "nobody@example.com")
    wrong = sign_in(client, user.email, password="wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert GENERIC in unknown.text
    assert (without_csrf(unknown.text).replace("nobody@example.com", "")
            == without_csrf(wrong.text).replace(user.email, ""))


def test_deactivated_user_cannot_sign_in(client, create_user):
    user = create_user(is_active=False)
    response = sign_in(client, user.email)
    assert response.status_code == 401
    assert GENERIC in response.text
    assert not signed_in(client)


def test_deactivating_a_user_ends_their_session(client, db, create_user):
    user = create_user()
    sign_in(client, user.email)
    user.is_active = False
    db.session.commit()
    assert client.get("/account").status_code == 302


def test_empty_form_is_422_without_signing_in(client):
    response = client.post("/login", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert not signed_in(client)


def test_login_without_csrf_token_is_rejected(client, create_user):
    user = create_user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert not signed_in(client)


def test_logout_needs_post_and_ends_the_session(client, create_user):
    user = create_user()
    sign_in(client, user.email)
    assert client.get("/logout").status_code == 405
    assert signed_in(client)
    token = csrf_token(client, "/account")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert not signed_in(client)
    assert client.get("/account").status_code == 302


def test_logout_without_csrf_token_keeps_the_session(client, create_user):
    user = create_user()
    sign_in(client, user.email)
    assert client.post("/logout").status_code == 400
    assert signed_in(client)


def test_account_shows_user_firm_role_and_token_names_not_secrets(
        client, db, create_firm, create_user):
    user = create_user(firm=create_firm(name="Nordlicht IT"), role="coordinator",
                       name="Ada Lovelace")
    token, secret = issue_token(user, "laptop script", None)
    db.session.commit()
    sign_in(client, user.email)
    page = client.get("/account")
    assert page.status_code == 200
    for text in ("Ada Lovelace", "Nordlicht IT", "coordinator", "laptop script", token.prefix):
        assert text in page.text
    assert secret not in page.text and token.token_hash not in page.text


def test_account_redirects_anonymous_to_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


def test_session_cookie_does_not_authenticate_the_api(client, create_user):
    user = create_user()
    sign_in(client, user.email)
    assert signed_in(client)
    response = client.get("/api/v1/projects")
    assert response.status_code == 401
    assert response.json["code"] == 401
