"""One exception tree and one handler: every error leaves as {code, status, message, errors}."""

import logging
from http import HTTPStatus

from flask import Flask, jsonify, make_response, render_template, request
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from .extensions import db

log = logging.getLogger(__name__)


class StaffingError(Exception):
    """Base of every error the service raises on purpose."""

    status = 400

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(StaffingError):
    """Input is well-formed but breaks a rule; `errors` maps field -> reasons."""

    status = 422

    @classmethod
    def field(cls, field: str, reason: str) -> "InvalidInput":
        return cls(f"{field}: {reason}", {field: [reason]})


class NotAuthenticated(StaffingError):
    status = 401


class Forbidden(StaffingError):
    """The actor can see the object but may not do this to it."""

    status = 403


class NotFound(StaffingError):
    """Unknown, or out of the actor's reach: both answer 404 so nothing leaks."""

    status = 404

    def __init__(self, what: str = "object"):
        super().__init__(f"{what} not found")


class Conflict(StaffingError):
    status = 409


class UnsupportedMediaType(StaffingError):
    status = 415


class PayloadTooLarge(StaffingError):
    status = 413


class UnreadableJson(StaffingError):
    status = 400


def error_body(status: int, message: str, errors: dict | None = None) -> dict:
    """The one shape: errors maps field -> reasons, empty when no field is to blame."""
    return {"code": status, "status": HTTPStatus(status).phrase, "message": message,
            "errors": errors or {}}


def wants_json() -> bool:
    if request.path.startswith("/api/") or request.is_json:
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def render_error(status: int, message: str, errors: dict | None = None):
    """The error as a response: JSON for the API and JSON clients, HTML for browsers."""
    if wants_json():
        return make_response(jsonify(error_body(status, message, errors)), status)
    page = render_template(
        "error.html", status=status, phrase=HTTPStatus(status).phrase,
        message=message, errors=errors or {},
    )
    return make_response(page, status)


REQUEST_LOCATIONS = ("json", "query", "files", "form", "headers", "cookies", "path")


def _by_field(errors: dict | None) -> dict | None:
    """webargs nests errors under the request location ({"json": {"field": [...]}}); merge the
    locations away so every 422 maps field -> reasons, like the operations' own errors."""
    if not isinstance(errors, dict) or not set(errors) <= set(REQUEST_LOCATIONS):
        return errors
    merged: dict = {}
    for location_errors in errors.values():
        merged.update(location_errors if isinstance(location_errors, dict) else {})
    return merged


def database_unavailable(error: DBAPIError):
    """503 with Retry-After: the database away (a restart, a dropped connection) or (SQLite)
    busy past its timeout. Nothing was saved; the statement is not logged, only its kind."""
    log.warning("database unavailable on %s %s: %s", request.method, request.path,
                error.orig.__class__.__name__ if error.orig else error.__class__.__name__)
    response = render_error(503, "the database is busy or unreachable; nothing was saved, "
                                 "try again")
    response.headers["Retry-After"] = "2"
    return response


def register_error_handlers(app: Flask) -> None:
    """Install the one handler for StaffingError, HTTP errors and unexpected failures."""

    @app.errorhandler(StaffingError)
    def handle_staffing_error(error: StaffingError):
        db.session.rollback()
        response = render_error(error.status, error.message, error.errors)
        if getattr(error, "retry_after", None):
            response.headers["Retry-After"] = str(error.retry_after)
        if error.status == 401 and wants_json():
            response.headers["WWW-Authenticate"] = 'Bearer realm="staffing"'
        return response

    @app.errorhandler(IntegrityError)
    def handle_integrity_error(error: IntegrityError):
        # Operations check uniqueness first; this is the backstop for races.
        db.session.rollback()
        log.warning("integrity error: %s", error.orig.__class__.__name__)
        return render_error(409, "the change conflicts with existing data")

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def handle_database_unavailable(error: OperationalError | InterfaceError):
        db.session.rollback()
        return database_unavailable(error)

    @app.errorhandler(HTTPException)
    def handle_http_error(error: HTTPException):
        db.session.rollback()
        data = getattr(error, "data", None) or {}
        errors = _by_field(data.get("messages") or data.get("errors"))
        message = error.description if isinstance(error.description, str) else error.name
        response = render_error(error.code or 500, message, errors)
        # the exception's own headers (Allow on a 405, Retry-After on a 429 or 503), but the
        # body is ours and so is its Content-Type
        for key, value in error.get_headers():
            if key.lower() != "content-type":
                response.headers[key] = value
        for key, value in (data.get("headers") or {}).items():
            response.headers[key] = value
        return response

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        db.session.rollback()
        if isinstance(error, DBAPIError) and error.connection_invalidated:
            return database_unavailable(error)  # the connection died under the statement
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500, "internal error; the change was not saved")
