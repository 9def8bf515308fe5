"""Configuration read from the environment; nothing here touches the database."""

import os
import secrets

DEV_ENVS = {"development", "test"}


class ConfigError(RuntimeError):
    """The environment does not describe a runnable service."""


def default_database_url(instance_path: str) -> str:
    """SQLite file in the instance folder: the embedded default that needs no server."""
    return "sqlite:///" + os.path.join(instance_path, "staffing.sqlite3")


def normalise_database_url(url: str) -> str:
    """Accept the usual postgres:// spellings and route them to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def load_config(instance_path: str, overrides: dict | None = None) -> dict:
    """Return the Flask config mapping from the environment plus explicit overrides.

    Raises ConfigError when SECRET_KEY is missing outside development and tests.
    """
    overrides = dict(overrides or {})
    env = overrides.get("STAFFING_ENV") or os.environ.get("STAFFING_ENV", "production")
    database_url = (
        overrides.get("SQLALCHEMY_DATABASE_URI")
        or os.environ.get("DATABASE_URL")
        or default_database_url(instance_path)
    )
    secret_key = overrides.get("SECRET_KEY") or os.environ.get("SECRET_KEY")
    # The command line signs no cookie (its `run` is the single-process development server),
    # so it may work with a throwaway key; a served app outside development may not.
    ephemeral_ok = overrides.pop("EPHEMERAL_SECRET_OK", False)
    if not secret_key:
        if env not in DEV_ENVS and not ephemeral_ok:
            raise ConfigError(
                "SECRET_KEY must be set outside development "
                "(export SECRET_KEY=... or STAFFING_ENV=development)"
            )
        secret_key = secrets.token_hex(32)
    config = {
        "STAFFING_ENV": env,
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        # pre-ping: a connection the database dropped (a restart) is replaced before use;
        # hide_parameters: a failed statement is logged without its values (token digests)
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # where solve jobs run: embedded (a pool of solver processes in the service), rq
        # (`staffing worker` processes through Redis) or inline (tests); empty: rq when
        # REDIS_URL is set, else embedded
        "SOLVE_BACKEND": os.environ.get("STAFFING_SOLVE_BACKEND") or None,
        "SOLVE_PROCESSES": int(os.environ.get("STAFFING_SOLVE_PROCESSES") or 2),
        "SOLVE_QUEUE": os.environ.get("STAFFING_SOLVE_QUEUE") or "staffing-solve",  # RQ's
        # event streams one service process keeps open at once (each holds a thread)
        "EVENT_STREAMS": int(os.environ.get("STAFFING_EVENT_STREAMS") or 4),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").upper(),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": env not in DEV_ENVS,
        "REMEMBER_COOKIE_SECURE": env not in DEV_ENVS,
        "WTF_CSRF_TIME_LIMIT": None,
        # a browser session ends this long after sign-in (and at sign-out, on the server)
        "SESSION_HOURS": float(os.environ.get("STAFFING_SESSION_HOURS") or 12),
        # proxies in front of the service whose X-Forwarded-For/-Proto are trusted (0: none):
        # the client address the rate limits count by, and HTTPS for HSTS
        "PROXY_COUNT": int(os.environ.get("STAFFING_PROXY_COUNT") or 0),
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": "staffing-limits",
        "RATELIMIT_HEADERS_ENABLED": True,
        # sign-in: attempts per client address, and failed attempts per account
        "LOGIN_LIMIT": os.environ.get("STAFFING_LOGIN_LIMIT") or "30 per minute",
        "LOGIN_FAILURE_LIMIT": os.environ.get("STAFFING_LOGIN_FAILURE_LIMIT")
        or "10 per 15 minutes",
        "TOKEN_CREATE_LIMIT": os.environ.get("STAFFING_TOKEN_CREATE_LIMIT") or "20 per hour",
        "API_TITLE": "staffing",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_SWAGGER_UI_PATH": "docs",
        "OPENAPI_SWAGGER_UI_URL": "/api/v1/docs/assets/",
        "API_SPEC_OPTIONS": {
            "info": {
                "description": (
                    "Staff one multi-site IT rollout with competing partner firms. "
                    "Authenticate with `Authorization: Bearer <token>` "
                    "(create one with `staffing token create`)."
                )
            },
            "security": [{"bearerAuth": []}],
        },
        "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    }
    if os.environ.get("STAFFING_MIGRATIONS_DIR"):
        config["MIGRATIONS_DIR"] = os.environ["STAFFING_MIGRATIONS_DIR"]
    config.update(overrides)
    config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(config["SQLALCHEMY_DATABASE_URI"])
    return config
