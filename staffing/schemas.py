"""Schema pieces shared by every domain: strict input, common field rules."""

import marshmallow as ma
from flask import request
from marshmallow import validate

from .errors import StaffingError


class UnsupportedMediaType(StaffingError):
    status = 415


def refuse_unreadable_body() -> None:
    """A request body the API would not read (JSON without its Content-Type, say) is refused
    rather than ignored: ignored, its fields would silently fall back to their defaults."""
    if not request.path.startswith("/api/") or request.method not in ("POST", "PUT", "PATCH") \
            or not request.content_length:
        return
    if request.is_json or request.mimetype == "multipart/form-data":
        return
    raise UnsupportedMediaType(
        f"send the body as JSON with Content-Type: application/json (got "
        f"{request.mimetype or 'no Content-Type'})", {"Content-Type": ["application/json"]})


class StrictArgs(ma.Schema):
    """Input schemas reject unknown fields, so a typo is a 422 and not silently ignored."""

    class Meta:
        unknown = ma.RAISE


def latitude(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(validate=validate.Range(-90, 90), allow_nan=False, **kwargs)


def longitude(**kwargs) -> ma.fields.Float:
    return ma.fields.Float(validate=validate.Range(-180, 180), allow_nan=False, **kwargs)


def weekdays(**kwargs) -> ma.fields.List:
    """ISO weekdays, Monday=1 .. Sunday=7."""
    return ma.fields.List(
        ma.fields.Integer(validate=validate.Range(1, 7)),
        validate=validate.Length(min=1, max=7),
        metadata={"description": "ISO weekdays, Monday=1 .. Sunday=7"},
        **kwargs,
    )


def text(max_length: int, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(max=max_length), **kwargs)


def name(max_length: int = 200, **kwargs) -> ma.fields.String:
    return ma.fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


