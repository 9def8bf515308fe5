"""Extensions, created unbound; create_app binds them."""

import sqlalchemy as sa
from flask import has_request_context, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

# A naming convention from the first migration, so constraints can be dropped by name later.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
api = Api()
login_manager = LoginManager()
csrf = CSRFProtect()
# sign-in and token creation only (their limits sit on those views); the storage is Redis when
# REDIS_URL is set (shared by every process), else each process's memory
limiter = Limiter(key_func=get_remote_address, default_limits=[])
talisman = Talisman()  # security headers; create_app configures them


SQLITE_BUSY_TIMEOUT_MS = 10_000  # how long a transaction waits for SQLite's write lock


@sa.event.listens_for(sa.engine.Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys and let SQLAlchemy own BEGIN so SAVEPOINTs work."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # first, so that switching to WAL (the first connection to a new file) waits too
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # readers beside one writer: the service's requests while solver processes write
        # their progress (WAL needs a file; an in-memory database keeps its own mode)
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


READ_METHODS = ("GET", "HEAD", "OPTIONS")  # requests that read: BEGIN DEFERRED on SQLite


@sa.event.listens_for(sa.engine.Engine, "begin")
def _begin_sqlite(connection):
    """SQLite: BEGIN DEFERRED for a request that reads, IMMEDIATE for everything else;
    the execution option sqlite_begin="IMMEDIATE NOWAIT" takes the write lock or fails at once.

    IMMEDIATE takes the write lock at the start (waiting up to busy_timeout for it), so a
    transaction never fails at its first write because another process wrote since it began
    reading (WAL's "database is locked" without waiting). A read must not take it: with WAL,
    readers never wait for one another or for the writer, while IMMEDIATE made every reader of
    every worker wait in one queue for the lock. A read writes nothing in its transaction (an
    API token's last use is written after it, in one of its own); one that must (a solve job
    found orphaned, which is rare) can fail with "database is locked" at its first write if
    another process committed since it began, and the dispatcher's sweep fails that job."""
    if connection.dialect.name != "sqlite":
        return
    mode = connection.get_execution_options().get("sqlite_begin")
    if mode is None:
        mode = "DEFERRED" if has_request_context() and request.method in READ_METHODS \
            else "IMMEDIATE"
    if mode != "IMMEDIATE NOWAIT":
        connection.exec_driver_sql(f"BEGIN {mode}")
        return
    connection.exec_driver_sql("PRAGMA busy_timeout=0")
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
