"""Extensions, created unbound; create_app binds them."""

import sqlalchemy as sa
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
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


@sa.event.listens_for(sa.engine.Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys and let SQLAlchemy own BEGIN so SAVEPOINTs work."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # readers beside one writer: the service's requests while solver processes write
        # their progress (WAL needs a file; an in-memory database keeps its own mode)
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@sa.event.listens_for(sa.engine.Engine, "begin")
def _begin_sqlite(connection):
    # IMMEDIATE: take the write lock at the start (waiting up to busy_timeout for it), so a
    # transaction never fails at its first write because another process wrote since it
    # began reading (WAL's "database is locked" without waiting)
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")
