"""Optimistic concurrency: an ETag on every editable resource, If-Match on every change.

GET (and the answer to a PATCH) carries the ETag of the representation this reader sees:
flask-smorest hashes the dumped response, so an ETag tells nothing that the body does not.
PATCH, PUT and DELETE of such a resource need `If-Match` with that ETag: 428 without it, 412
when it is no longer current. The check runs after the access rules (an object out of reach
stays a 404, one visible but not changeable a 403 or this) and under a row lock, so two
changes made from the same ETag cannot both pass: the second waits for the first to commit,
then sees a different ETag.
"""

from collections.abc import Callable

from flask import request
from werkzeug.exceptions import PreconditionFailed

from .errors import StaffingError
from .extensions import db


class PreconditionRequired(StaffingError):
    status = 428


class StaleVersion(StaffingError):
    status = 412


class ConcurrencyMixin:
    """For flask-smorest's Blueprint: ETags where `@blp.etag` decorates a resource, and
    `check_if_match` in each of its PATCH, PUT and DELETE."""

    def _check_precondition(self):
        """flask-smorest checks If-Match before the view, before the access rules: here it
        waits for check_if_match, which the view calls once it has found the object."""

    def check_if_match(self, obj, schema, view: Callable[[], object] | None = None) -> None:
        """Lock obj's row, then compare If-Match with the ETag of what GET answers now: the
        object dumped by schema, or view() (what the reader sees) dumped by it."""
        if request.if_match.star_tag:
            raise PreconditionRequired(
                "send the ETag itself: If-Match: * matches any version, so it would overwrite "
                "changes you have not seen", {"If-Match": ["* is not accepted"]})
        if not request.if_match:
            raise PreconditionRequired(
                "send If-Match with the ETag of your last GET (or PATCH) of this resource, so "
                "that no one else's change is overwritten unseen",
                {"If-Match": ["required"]})
        db.session.refresh(obj, with_for_update=True)  # SQLite: the transaction holds it
        try:
            self.check_etag(view() if view is not None else obj, schema)
        except PreconditionFailed:
            raise StaleVersion(
                "the resource changed since you read it: GET it again, check the change "
                "still makes sense, and send it with the new ETag",
                {"If-Match": ["not the current ETag"]}) from None
