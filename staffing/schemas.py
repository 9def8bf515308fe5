"""Schema pieces shared by every domain: strict input, common field rules."""

import marshmallow as ma
from marshmallow import validate


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


