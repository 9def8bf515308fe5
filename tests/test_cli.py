"""The `staffing` command: demo data, tokens, users and firms, and clean errors."""

import re

import pytest
import sqlalchemy as sa

from staffing import create_app
from staffing.cli import _create_app, main
from staffing.config import ConfigError
from staffing.partners.models import ROLES, ApiToken, Exclusion, Firm, Membership, User
from staffing.projects.models import Project, Site, WorkItem
from staffing.security import verify_password

PASSWORD = "a long enough password"
LOGIN_LINE = re.compile(r"^(\S+@\S+)\s.*\s(stf_\S+)$", re.MULTILINE)


def assert_clean_failure(result, message: str, exit_code: int = 1) -> None:
    """A non-zero exit with the message and no traceback."""
    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture
def invoke(runner):
    def run(*args: str, **kwargs):
        return runner.invoke(main, list(args), **kwargs)

    return run


@pytest.fixture
def demo(invoke):
    """Load the demo (the test database is migrated already) and return its output."""
    result = invoke("demo", "--no-migrate")
    assert result.exit_code == 0, result.output
    return result.output


def count(db, query) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))


def test_help_lists_every_command(invoke):
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("run", "db", "demo", "token", "user", "firm"):
        assert re.search(rf"^\s+{command}\s", result.output, re.MULTILINE), command


def test_served_app_needs_a_secret_key_but_the_command_line_does_not(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("STAFFING_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        create_app()  # what gunicorn serves
    assert _create_app().config["SECRET_KEY"]  # the CLI signs no cookie


# --- demo --------------------------------------------------------------------------------


def test_demo_loads_the_reference_rollout(db, demo):
    assert count(db, sa.select(Firm)) == 8
    assert count(db, sa.select(Project)) == 1
    assert count(db, sa.select(Site)) == 13
    assert count(db, sa.select(WorkItem).filter_by(kind="server")) == 14
    desktops = db.session.scalar(
        sa.select(sa.func.sum(WorkItem.quantity)).filter_by(kind="desktop_batch"))
    assert desktops == 220
    project = db.session.scalar(sa.select(Project))
    assert project.max_firms_per_site == 2 and project.site_face_policy == "lead"


def test_demo_orders_the_work_at_every_site(db, demo):
    for site in db.session.scalars(sa.select(Site)):
        by_kind = {kind: {item for item in site.work_items if item.kind == kind}
                   for kind in ("network", "server", "desktop_batch")}
        assert by_kind["server"] and by_kind["desktop_batch"], site.name
        for batch in by_kind["desktop_batch"]:
            assert by_kind["server"] <= set(batch.depends_on), batch.ref
        for server in by_kind["server"]:
            assert by_kind["network"] <= set(server.depends_on), server.ref


def test_demo_has_partners_offers_and_exclusions(db, demo):
    project = db.session.scalar(sa.select(Project))
    assert count(db, sa.select(Membership).filter_by(status="accepted")) == 7
    offering = set(db.session.scalars(sa.text("SELECT firm_id FROM capacity_offer")))
    assert len(offering) == 8 and project.lead_firm_id in offering
    exclusions = db.session.scalars(sa.select(Exclusion)).all()
    assert sorted(e.site_id is None for e in exclusions) == [False, True]


def test_demo_has_a_user_for_every_role(db, demo):
    users = db.session.scalars(sa.select(User)).all()
    assert {user.role for user in users} == set(ROLES)
    assert any(user.is_operator for user in users)
    for firm in db.session.scalars(sa.select(Firm)):
        assert {user.role for user in firm.users} == set(ROLES), firm.name


def test_demo_prints_working_credentials(db, client, demo):
    logins = LOGIN_LINE.findall(demo)
    assert len(logins) == count(db, sa.select(User))
    password = re.search(r"password: (\S+)", demo).group(1)
    for email, secret in logins:
        response = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, email
        assert response.json["email"] == email
    user = db.session.scalar(sa.select(User).filter_by(email=logins[0][0]))
    assert verify_password(user, password)


def test_demo_refuses_a_database_with_firms(db, invoke, demo):
    result = invoke("demo", "--no-migrate")
    assert_clean_failure(result, "already holds firms")
    assert count(db, sa.select(Firm)) == 8


def test_demo_reset_replaces_everything(db, invoke, demo, create_firm):
    create_firm(name="Left over GmbH")
    result = invoke("demo", "--no-migrate", "--reset")
    assert result.exit_code == 0, result.output
    assert count(db, sa.select(Firm)) == 8
    assert count(db, sa.select(Firm).filter_by(name="Left over GmbH")) == 0


# --- tokens ------------------------------------------------------------------------------


def test_token_create_list_revoke(db, client, invoke, create_user):
    user = create_user(email="ops@example.com")
    created = invoke("token", "create", "--email", "OPS@example.com", "--name", "ci")
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200

    token = db.session.scalar(sa.select(ApiToken).filter_by(user_id=user.id))
    assert token.expires_at is not None
    listed = invoke("token", "list", "--email", "ops@example.com")
    assert listed.exit_code == 0 and "ci" in listed.output and secret not in listed.output

    revoked = invoke("token", "revoke", str(token.id))
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/users/me", headers=headers).status_code == 401
    assert " ci " not in invoke("token", "list", "--email", "ops@example.com").output
    assert " ci " in invoke("token", "list", "--email", "ops@example.com", "--all").output


def test_token_without_expiry(db, invoke, create_user):
    user = create_user()
    result = invoke("token", "create", "--email", user.email, "--name", "forever",
                    "--expires-in-days", "0")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(ApiToken.expires_at).filter_by(user_id=user.id)) is None


def test_token_errors_are_clean(invoke, create_user):
    assert_clean_failure(invoke("token", "create", "--email", "nobody@example.com",
                                "--name", "ci"), "no user with email nobody@example.com")
    assert_clean_failure(invoke("token", "revoke", "999999"), "token 999999 not found")
    user = create_user()
    assert_clean_failure(invoke("token", "create", "--email", user.email, "--name", "ci",
                                "--expires-in-days", "9999"), "expires_in_days")


# --- users and firms ---------------------------------------------------------------------


def test_user_create_by_firm_name(db, invoke, create_firm):
    firm = create_firm(name="Nordlicht IT GmbH")
    result = invoke("user", "create", "--email", "Ops@Nordlicht.example", "--firm",
                    "nordlicht it gmbh", "--role", "admin", "--operator", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).filter_by(email="ops@nordlicht.example"))
    assert (user.firm_id, user.role, user.is_operator) == (firm.id, "admin", True)
    assert verify_password(user, PASSWORD)


def test_user_create_prompts_for_the_password(db, invoke, create_firm):
    firm = create_firm()
    result = invoke("user", "create", "--email", "new@example.com", "--firm-id", str(firm.id),
                    input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).filter_by(email="new@example.com"))
    assert user.role == "member" and not user.is_operator
    assert verify_password(user, PASSWORD)


@pytest.mark.parametrize("args, message, exit_code", [
    (["--firm-id", "{firm}", "--role", "boss"], "Invalid value for '--role'", 2),
    (["--firm", "No Such Firm GmbH"], "no firm named 'No Such Firm GmbH'", 1),
    (["--firm-id", "999999"], "firm_id: no such firm", 1),
    ([], "give exactly one of --firm-id and --firm", 2),
    (["--firm-id", "{firm}", "--password", "short"], "password: use at least 12 characters", 1),
])
def test_user_create_errors_are_clean(db, invoke, create_firm, args, message, exit_code):
    firm = create_firm()
    args = [arg.format(firm=firm.id) for arg in args]
    if "--password" not in args:
        args += ["--password", PASSWORD]
    result = invoke("user", "create", "--email", "new@example.com", *args)
    assert_clean_failure(result, message, exit_code)
    assert count(db, sa.select(User).filter_by(email="new@example.com")) == 0


def test_user_create_refuses_a_taken_email(invoke, create_user):
    user = create_user()
    result = invoke("user", "create", "--email", user.email, "--firm-id", str(user.firm_id),
                    "--password", PASSWORD)
    assert_clean_failure(result, "a user with this email already exists")


def test_firm_create(db, invoke):
    result = invoke("firm", "create", "--name", "Spree Digital GmbH", "--lat", "52.52",
                    "--lon", "13.405", "--region", "Berlin")
    assert result.exit_code == 0, result.output
    firm = db.session.scalar(sa.select(Firm).filter_by(name="Spree Digital GmbH"))
    assert (firm.region, firm.latitude, firm.longitude) == ("Berlin", 52.52, 13.405)
    again = invoke("firm", "create", "--name", "spree digital gmbh", "--lat", "52", "--lon", "13")
    assert_clean_failure(again, "a firm with this name already exists")


def test_firm_create_checks_coordinates(db, invoke):
    result = invoke("firm", "create", "--name", "Nowhere GmbH", "--lat", "91", "--lon", "13")
    assert_clean_failure(result, "latitude")
    assert count(db, sa.select(Firm)) == 0


def test_user_create_refuses_a_guessable_password(db, invoke, create_firm):
    firm = create_firm()
    result = invoke("user", "create", "--email", "cli@example.com", "--firm-id", str(firm.id),
                    "--password", "aaaaaaaaaaaa")
    assert_clean_failure(result, "password: too easy to guess")
