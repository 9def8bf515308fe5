"""Marshmallow schemas of the partners domain: XSchema for output, XArgs for input."""

import marshmallow as ma
from marshmallow import validate

from ..schemas import StrictArgs, latitude, longitude, name, text
from .models import MEMBERSHIP_STATUSES, ROLES  # noqa: F401


class FirmSchema(ma.Schema):
    """A firm. Contact and home-base fields appear only for the firm itself, the lead
    coordinators of a project it is in, and operators; others get id, name and region."""

    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String()
    region = ma.fields.String()
    contact_name = ma.fields.String()
    contact_email = ma.fields.String()
    contact_phone = ma.fields.String()
    address = ma.fields.String()
    latitude = ma.fields.Float()
    longitude = ma.fields.Float()
    created_at = ma.fields.DateTime(dump_only=True)


class FirmArgs(StrictArgs):
    name = name(required=True)
    region = text(100, load_default="")
    contact_name = text(200, load_default="")
    contact_email = ma.fields.Email(load_default="")
    contact_phone = text(50, load_default="")
    address = text(300, load_default="")
    latitude = latitude(required=True)
    longitude = longitude(required=True)


class FirmUpdateArgs(StrictArgs):
    name = name()
    region = text(100)
    contact_name = text(200)
    contact_email = ma.fields.Email()
    contact_phone = text(50)
    address = text(300)
    latitude = latitude()
    longitude = longitude()


class FirmQueryArgs(StrictArgs):
    name = ma.fields.String(metadata={"description": "case-insensitive substring of the name"})
    region = ma.fields.String()


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.String()
    name = ma.fields.String()
    firm_id = ma.fields.Integer()
    role = ma.fields.String()
    is_active = ma.fields.Boolean()
    created_at = ma.fields.DateTime(dump_only=True)


class UserArgs(StrictArgs):
    email = ma.fields.Email(required=True)
    name = text(200, load_default="")
    password = ma.fields.String(required=True, load_only=True, validate=validate.Length(12, 200))
    role = ma.fields.String(load_default="member", validate=validate.OneOf(ROLES))
    firm_id = ma.fields.Integer(
        metadata={"description": "operators only: the firm to add the user to"}
    )


class UserUpdateArgs(StrictArgs):
    name = text(200)
    password = ma.fields.String(load_only=True, validate=validate.Length(12, 200))
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    is_active = ma.fields.Boolean()


class UserQueryArgs(StrictArgs):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    email = ma.fields.String(metadata={"description": "case-insensitive substring"})


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    name = ma.fields.String()
    prefix = ma.fields.String(metadata={"description": "first characters, to recognise it"})
    created_at = ma.fields.DateTime()
    expires_at = ma.fields.DateTime(allow_none=True)
    revoked_at = ma.fields.DateTime(allow_none=True)
    last_used_at = ma.fields.DateTime(allow_none=True)


class NewTokenSchema(TokenSchema):
    token = ma.fields.String(metadata={"description": "the secret; shown only this once"})


class TokenArgs(StrictArgs):
    name = name(100, required=True)
    expires_in_days = ma.fields.Integer(
        load_default=90, allow_none=True, validate=validate.Range(1, 3650),
        metadata={"description": "null for a token that never expires"},
    )


class TokenQueryArgs(StrictArgs):
    include_revoked = ma.fields.Boolean(load_default=False)


