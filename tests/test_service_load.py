"""No write on a read (issue 12, item 5): an API token's last use is written at most once a
minute, after the request's transaction and in one of its own that never waits for a lock;
readers on SQLite never meet "database is locked". The load figures are in
benchmarks/load.py and docs/benchmarks.md; these tests time nothing."""

import os
import threading

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from staffing import create_app
from staffing.dbtypes import utcnow
from staffing.extensions import db as _db
from staffing.partners.models import ApiToken, Firm, User
from staffing.security import LAST_USED_EVERY, issue_token
from tests.conftest import PASSWORD_HASH, _throwaway_postgres
from tests.live import join_all

READERS, READS = 4, 5


def _token_writes(connection: sa.Connection) -> list[str]:
    """The UPDATE statements on api_token that connection runs from now on."""
    writes: list[str] = []

    @sa.event.listens_for(connection, "before_cursor_execute")
    def record(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("UPDATE API_TOKEN"):
            writes.append(statement)

    return writes


def _last_used(db, token_id: int):
    db.session.expire_all()
    return db.session.get(ApiToken, token_id).last_used_at


def test_an_authenticated_get_writes_the_token_row_at_most_once_a_minute(client, db,
                                                                          create_user):
    token, secret = issue_token(create_user(), "poller", None)
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    writes = _token_writes(db.engine)  # the tests' one connection (tests/conftest.py)

    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert len(writes) == 1 and _last_used(db, token.id) is not None
    for _ in range(5):  # polls within the minute
        assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert len(writes) == 1

    earlier = utcnow() - LAST_USED_EVERY - LAST_USED_EVERY
    db.session.execute(sa.update(ApiToken).where(ApiToken.id == token.id)
                       .values(last_used_at=earlier))
    db.session.commit()
    writes.clear()
    assert client.get("/api/v1/users/me", headers=headers).status_code == 200
    assert len(writes) == 1 and _last_used(db, token.id) > earlier


def test_a_request_that_fails_and_rolls_back_still_records_the_token_s_use(client, db,
                                                                            create_user):
    """The last use is not part of the request's transaction: a 404 rolls that back."""
    token, secret = issue_token(create_user(), "ci", None)
    db.session.commit()
    response = client.get("/api/v1/projects/999999",
                          headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 404
    assert _last_used(db, token.id) is not None


@pytest.fixture
def served(tmp_path):
    """An app on a database of its own with a real engine, as a gunicorn worker has it (the
    `db` fixture's one connection cannot show two transactions meeting), and three users
    with a token each: (app, [(token id, secret)])."""
    url, drop = os.environ.get("DATABASE_URL"), None
    if url and not url.startswith("sqlite"):
        url, drop = _throwaway_postgres(url)
        # before the fix a read waited for a locked token row without end: make it fail
        options = {"connect_args": {"options": "-c lock_timeout=5000"}}
    else:
        url, options = "sqlite:///" + str(tmp_path / "served.sqlite3"), {}
    app = create_app({"STAFFING_ENV": "test", "TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": url, "SOLVE_BACKEND": "inline",
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, **options},
                      "RATELIMIT_STORAGE_URI": "memory://"})
    app.instance_path = str(tmp_path)
    with app.app_context():
        upgrade()
        firm = Firm(name="Lead IT", region="North", latitude=52.5, longitude=13.4)
        tokens = []
        for n in range(READERS):
            user = User(firm=firm, email=f"reader{n}@lead.example", name=f"Reader {n}",
                        role="coordinator", password_hash=PASSWORD_HASH)
            token, secret = issue_token(user, "reader", None)
            tokens.append((token.id, secret))
        _db.session.commit()
    yield app, tokens
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
    if drop is not None:
        drop()


def _hold_token_row(app, token_id: int) -> sa.Connection:
    """Another transaction that changed the token's row and has not committed: on
    PostgreSQL it holds the row's lock, on SQLite the database's write lock."""
    with app.app_context():
        holder = _db.engine.connect()
    holder.execute(sa.update(ApiToken).where(ApiToken.id == token_id).values(name="held"))
    return holder


def _read_last_used(app, token_id: int):
    with app.app_context(), _db.engine.connect() as connection:
        connection.execution_options(sqlite_begin="DEFERRED")  # a reader: no write lock
        return connection.scalar(sa.select(ApiToken.last_used_at)
                                 .where(ApiToken.id == token_id))


def test_a_token_row_held_by_another_transaction_does_not_hold_up_a_read(served):
    app, [(token_id, secret), *_] = served
    holder = _hold_token_row(app, token_id)
    try:
        response = app.test_client().get("/api/v1/users/me",
                                         headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200, response.json
        assert _read_last_used(app, token_id) is None  # skipped, not waited for
    finally:
        holder.rollback()
        holder.close()
    response = app.test_client().get("/api/v1/users/me",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert _read_last_used(app, token_id) is not None  # the next request records it


def test_concurrent_readers_beside_a_writer_never_meet_a_locked_database(served):
    """Threads, each with its own connection (as workers have), read the list while another
    transaction writes; each reader's token is due for its last-use write."""
    app, tokens = served
    holder = _hold_token_row(app, tokens[0][0])
    statuses: list[int] = []

    def read(secret: str) -> None:
        client = app.test_client()
        for _ in range(READS):
            response = client.get("/api/v1/users",
                                  headers={"Authorization": f"Bearer {secret}"})
            statuses.append(response.status_code)

    try:
        readers = [threading.Thread(target=read, args=(secret,), daemon=True)
                   for _, secret in tokens]
        for reader in readers:
            reader.start()
        join_all(readers, "the readers beside the writer")
    finally:
        holder.rollback()
        holder.close()
    assert statuses == [200] * (READERS * READS)
