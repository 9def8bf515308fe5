"""Faults of the database: unreachable, dropping connections, failing at the commit. The
answer is a 503 with Retry-After in the one error shape, never a 500, and nothing is saved."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from staffing import create_app

from .live import request, serve


def _is_postgres() -> bool:
    url = os.environ.get("DATABASE_URL") or ""
    return url.startswith("postgres")


def assert_unavailable(response) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0
    assert set(response.json) == {"code", "status", "message", "errors"}


def test_an_unreachable_database_answers_503_with_retry_after(tmp_path):
    app = create_app({"STAFFING_ENV": "test", "SECRET_KEY": "k",
                      "SQLALCHEMY_DATABASE_URI": "postgresql://nobody@127.0.0.1:1/none",
                      "SOLVE_BACKEND": "inline"})
    client = app.test_client()
    assert_unavailable(client.get("/api/v1/projects",
                                  headers={"Authorization": "Bearer stf_whatever"}))
    assert client.get("/readyz").status_code == 503
    assert client.get("/healthz").status_code == 200, "the process itself is alive"


def test_a_commit_that_fails_for_the_database_answers_503_and_saves_nothing(
        client, db, create_user, auth, monkeypatch):
    user = create_user(role="admin", is_operator=True)
    headers = auth(user)

    def database_gone():
        raise sa.exc.OperationalError("COMMIT", {}, ConnectionError("server closed"))

    monkeypatch.setattr(db.session, "commit", database_gone)
    response = client.post("/api/v1/firms", headers=headers, json={
        "name": "Never Saved GmbH", "latitude": 50.0, "longitude": 8.0})
    assert_unavailable(response)
    monkeypatch.undo()
    listed = client.get("/api/v1/firms?name=never", headers=headers)
    assert listed.status_code == 200 and listed.json == []


def test_connections_the_server_dropped_are_replaced_before_use(live):
    """PostgreSQL ends every connection of the service (as a restart does): the next
    requests are answered normally, because each pooled connection is checked before use."""
    if not _is_postgres():
        pytest.skip("PostgreSQL only: SQLite has no server to drop connections")
    port = serve(live)
    for _ in range(5):
        assert request(port, "GET", "/api/v1/projects", live)[0] == 200
    admin = sa.create_engine(live["env"]["DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    with admin.connect() as connection:
        ended = connection.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    admin.dispose()
    assert ended >= 1, "the service held connections"
    statuses = [request(port, "GET", "/api/v1/projects", live)[0] for _ in range(20)]
    assert statuses == [200] * 20
