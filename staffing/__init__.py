"""staffing: competing IT firms staff one large multi-site rollout together."""

import logging
import os

import sqlalchemy as sa
from flask import Blueprint, Flask, jsonify, send_from_directory
from swagger_ui_bundle import swagger_ui_path
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from .config import DEV_ENVS, load_config
from .errors import database_unavailable, register_error_handlers, render_error
from .extensions import api, csrf, db, limiter, login_manager, migrate, talisman
from .schemas import MAX_ID

MIGRATIONS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                              "migrations")


class DatabaseId(IntegerConverter):
    """<int:...> in URLs: an id the database can hold, 1 .. MAX_ID (any other number matches
    no route: a 404, where PostgreSQL would refuse to compare it with an INTEGER column)."""

    def __init__(self, url_map, **kwargs):
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, **kwargs)


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app from the environment plus `config` overrides; touches no database."""
    app = Flask(__name__, instance_relative_config=True,
                instance_path=os.environ.get("STAFFING_INSTANCE_PATH") or None)
    app.config.update(load_config(app.instance_path, config))
    app.url_map.converters["int"] = DatabaseId  # /plans/99999999999999999999 is a 404
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"))
    _redact_request_logs()

    if app.config["PROXY_COUNT"]:
        count = app.config["PROXY_COUNT"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)

    db.init_app(app)
    migrate.init_app(app, db, directory=app.config.get("MIGRATIONS_DIR", MIGRATIONS_DIR))
    csrf.init_app(app)
    limiter.init_app(app)
    _secure_headers(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    api.init_app(app)
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "bearerFormat": "opaque token"}
    )

    _import_models()
    _watch_planner_inputs()
    _register_blueprints(app)
    _relax_docs_policy(app)
    _register_transaction_boundary(app)
    register_error_handlers(app)
    return app


# The pages load scripts, styles and images from the service itself and nothing inline.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
# Swagger UI (flask-smorest's page) starts itself with an inline script and styles inline.
DOCS_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY | {
    "script-src": "'self' 'unsafe-inline'", "style-src": "'self' 'unsafe-inline'"}


def _secure_headers(app: Flask) -> None:
    """CSP, frame-ancestors and X-Frame-Options, nosniff, Referrer-Policy on every response;
    HSTS on HTTPS requests outside development (TLS ends at the proxy in front)."""
    talisman.init_app(
        app, force_https=False, content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY", referrer_policy="strict-origin-when-cross-origin",
        strict_transport_security=app.config["STAFFING_ENV"] not in DEV_ENVS,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )


def _relax_docs_policy(app: Flask) -> None:
    """The interactive API docs, and only they, may run Swagger UI's inline start-up."""
    endpoint = "api-docs.openapi_swagger_ui"
    view = app.view_functions.get(endpoint)
    if view is None:
        return

    @talisman(content_security_policy=DOCS_CONTENT_SECURITY_POLICY)
    def docs_page(*args, **kwargs):
        return view(*args, **kwargs)

    app.view_functions[endpoint] = docs_page


def _redact_request_logs() -> None:
    from .security import REQUEST_LOGGERS, RedactCredentials

    for name in REQUEST_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactCredentials) for f in logger.filters):
            logger.addFilter(RedactCredentials())


def _import_models() -> None:
    """Every model on the metadata, for the mappers and for Alembic's autogenerate."""
    from .partners import models as partners_models  # noqa: F401
    from .planning import models as planning_models  # noqa: F401
    from .projects import models as projects_models  # noqa: F401


def _watch_planner_inputs() -> None:
    """Renew a project's inputs version with every change the planner would read."""
    from .planning import inputs

    inputs.register()


def _register_blueprints(app: Flask) -> None:
    from .partners import api as partners_api
    from .partners import views as partners_views
    from .planning import api as planning_api
    from .planning import queue
    from .planning import views as planning_views
    from .projects import api as projects_api
    from .projects import views as projects_views
    from .schemas import refuse_unreadable_body
    from .security import (  # importing it registers the login user loader
        forget_actor,
        refuse_credentials_in_url,
    )

    app.before_request(forget_actor)
    app.before_request(refuse_credentials_in_url)
    app.before_request(refuse_unreadable_body)
    app.before_request(lambda: queue.start_embedded(app))  # the solver pool, once a process
    for blp in (*partners_api.blueprints, *projects_api.blueprints, *planning_api.blueprints):
        csrf.exempt(blp)  # bearer tokens only: no cookie, so no cross-site forgery
        api.register_blueprint(blp)
    app.register_blueprint(partners_views.web)
    app.register_blueprint(projects_views.web)
    app.register_blueprint(planning_views.web)
    app.register_blueprint(_service_blueprint())


def _service_blueprint() -> Blueprint:
    service = Blueprint("service", __name__)

    @service.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @service.get("/readyz")
    def readyz():
        try:
            db.session.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError:
            return render_error(503, "database unreachable")
        return jsonify(status="ready", database=db.engine.dialect.name)

    @service.get("/api/v1/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        return send_from_directory(str(swagger_ui_path), filename)

    return service


def _register_transaction_boundary(app: Flask) -> None:
    """One transaction per request: commit a successful response, roll back anything else."""

    @app.after_request
    def commit_or_roll_back(response):
        if response.status_code >= 400:
            db.session.rollback()
            return response
        try:
            db.session.commit()
        except sa.exc.IntegrityError:
            db.session.rollback()
            return render_error(409, "the change conflicts with existing data")
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as error:
            # the database went away (a restart) or stayed busy at the commit: an error
            # raised here would bypass the error handlers and answer 500
            db.session.rollback()
            return database_unavailable(error)
        return response
