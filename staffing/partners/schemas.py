"""Marshmallow schemas of the partners domain: XSchema for output, XArgs for input."""

from decimal import Decimal

import marshmallow as ma
from marshmallow import validate, validates_schema

from ..schemas import (
    DecimalText,
    Email,
    StrictArgs,
    Text,
    UpdateArgs,
    database_id,
    date,
    dates,
    latitude,
    longitude,
    name,
    search,
    text,
)
from .models import MEMBERSHIP_STATUSES, ROLES


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
    # a callable default stays out of the OpenAPI, where "" would not be an email
    contact_email = Email(load_default=lambda: "", metadata={"description": "default: none"})
    contact_phone = text(50, load_default="")
    address = text(300, load_default="")
    latitude = latitude(required=True)
    longitude = longitude(required=True)


class FirmUpdateArgs(UpdateArgs):
    name = name()
    region = text(100)
    contact_name = text(200)
    contact_email = Email()
    contact_phone = text(50)
    address = text(300)
    latitude = latitude()
    longitude = longitude()


class FirmQueryArgs(StrictArgs):
    name = search(metadata={"description": "case-insensitive substring of the name"})
    region = search()


class UserSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    email = ma.fields.String()
    name = ma.fields.String()
    firm_id = ma.fields.Integer()
    role = ma.fields.String()
    is_active = ma.fields.Boolean()
    created_at = ma.fields.DateTime(dump_only=True)


class UserArgs(StrictArgs):
    email = Email(required=True)
    name = text(200, load_default="")
    password = Text(
        required=True, load_only=True, validate=validate.Length(max=200),
        metadata={"description": "at least 12 characters, and not common or easy to guess"})
    role = ma.fields.String(load_default="member", validate=validate.OneOf(ROLES))
    firm_id = database_id(
        metadata={"description": "operators only: the firm to add the user to"}
    )


class UserUpdateArgs(UpdateArgs):
    name = text(200)
    password = Text(
        load_only=True, validate=validate.Length(max=200),
        metadata={"description": "the new password; ends the user's other sessions and "
                                 "revokes their tokens (but the one of this request)"})
    current_password = Text(
        load_only=True, validate=validate.Length(max=1024),
        metadata={"description": "required to change your own password"})
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    is_active = ma.fields.Boolean(
        metadata={"description": "false ends the user's sessions and revokes their tokens"})

    @validates_schema
    def check_password(self, data, **kwargs):
        if "current_password" in data and "password" not in data:
            raise ma.ValidationError("only with a new password", "current_password")


class UserQueryArgs(StrictArgs):
    role = ma.fields.String(validate=validate.OneOf(ROLES))
    email = search(metadata={"description": "case-insensitive substring"})


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
        allow_none=True, validate=validate.Range(1, 3650),
        metadata={"description": "default 90, and never beyond the expiry of the token "
                                 "that creates it; null for a token that never expires "
                                 "(only with a token that never expires)"},
    )


class TokenQueryArgs(StrictArgs):
    include_revoked = ma.fields.Boolean(load_default=False)


# --- memberships -------------------------------------------------------------------------


class MembershipSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    project_id = ma.fields.Integer()
    firm_id = ma.fields.Integer()
    firm_name = ma.fields.Function(lambda membership: membership.firm.name)
    status = ma.fields.String()
    message = ma.fields.String()
    invited_at = ma.fields.DateTime()
    responded_at = ma.fields.DateTime(allow_none=True)


class MembershipArgs(StrictArgs):
    firm_id = database_id(required=True)
    message = text(1000, load_default="")


class MembershipUpdateArgs(UpdateArgs):
    status = ma.fields.String(
        validate=validate.OneOf(MEMBERSHIP_STATUSES),
        metadata={"description": "partners: invited->accepted|declined, accepted->withdrawn; "
                                 "lead: ->withdrawn, declined|withdrawn->invited"},
    )
    message = text(1000)


class MembershipQueryArgs(StrictArgs):
    status = ma.fields.String(validate=validate.OneOf(MEMBERSHIP_STATUSES))


# --- capacity offers ---------------------------------------------------------------------


def money(description: str = "", **kwargs) -> DecimalText:
    return DecimalText(100_000, description, **kwargs)


def percent(description: str = "", **kwargs) -> DecimalText:
    return DecimalText(100, description, **kwargs)


class OfferSkillSchema(StrictArgs):
    skill_id = database_id(required=True)
    proficiency = ma.fields.Integer(required=True, validate=validate.Range(1, 5),
                                    metadata={"description": "1 (novice) .. 5 (expert)"})
    hourly_rate = money("sealed; EUR per hour", required=True)


class AvailabilitySchema(StrictArgs):
    start_on = date(required=True)
    end_on = date(required=True)
    technicians = ma.fields.Integer(required=True, validate=validate.Range(1, 1000),
                                    metadata={"description": "technicians per working day"})
    hours_per_technician = ma.fields.Float(
        load_default=8.0, allow_nan=False,
        validate=validate.Range(0.01, 24, error="must be at least 0.01 (a hundredth of an hour) "
                                                "and at most 24"))

    @validates_schema
    def check_range(self, data, **kwargs):
        if data["end_on"] < data["start_on"]:
            raise ma.ValidationError("must not be before start_on", "end_on")


class CapacityOfferSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    project_id = ma.fields.Integer()
    firm_id = ma.fields.Integer()
    travel_radius_km = ma.fields.Float()
    travel_cost_per_km = money("EUR per km driven")
    min_share_percent = percent("of the project's hours")
    max_share_percent = percent("of the project's hours")
    blackout_dates = ma.fields.List(ma.fields.Date())
    notes = ma.fields.String()
    skills = ma.fields.List(ma.fields.Nested(OfferSkillSchema))
    availability = ma.fields.List(ma.fields.Nested(AvailabilitySchema))
    updated_at = ma.fields.DateTime()


class _OfferFields(StrictArgs):
    travel_radius_km = ma.fields.Float(allow_nan=False, validate=validate.Range(0, 5000),
                                       metadata={"description": "from the firm's home base"})
    travel_cost_per_km = money("sealed; EUR per km driven")
    min_share_percent = percent("sealed; of the project's hours")
    max_share_percent = percent("sealed; of the project's hours")
    blackout_dates = dates()
    notes = text(2000)
    skills = ma.fields.List(ma.fields.Nested(OfferSkillSchema), validate=validate.Length(max=200))
    availability = ma.fields.List(ma.fields.Nested(AvailabilitySchema),
                                  validate=validate.Length(max=500))

    @validates_schema
    def check_shares(self, data, **kwargs):
        low, high = data.get("min_share_percent"), data.get("max_share_percent")
        if low is not None and high is not None and high < low:
            raise ma.ValidationError("must not be below min_share_percent", "max_share_percent")


class CapacityOfferArgs(_OfferFields):
    firm_id = database_id(metadata={"description": "default: your firm; lead "
                                                         "coordinators may enter a partner's"})
    travel_radius_km = ma.fields.Float(required=True, allow_nan=False,
                                       validate=validate.Range(0, 5000))
    travel_cost_per_km = money("sealed; EUR per km driven", load_default=Decimal("0.00"))
    skills = ma.fields.List(ma.fields.Nested(OfferSkillSchema), required=True,
                            validate=validate.Length(min=1, max=200))
    availability = ma.fields.List(ma.fields.Nested(AvailabilitySchema), required=True,
                                  validate=validate.Length(min=1, max=500))


class CapacityOfferUpdateArgs(_OfferFields, UpdateArgs):
    pass


class CapacityOfferQueryArgs(StrictArgs):
    firm_id = database_id()


# --- exclusions --------------------------------------------------------------------------


class ExclusionSchema(ma.Schema):
    id = ma.fields.Integer(dump_only=True)
    project_id = ma.fields.Integer()
    firm_id = ma.fields.Integer()
    site_id = ma.fields.Integer(allow_none=True,
                                metadata={"description": "null: barred from the whole client"})
    reason = ma.fields.String()
    created_by_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.DateTime()


class ExclusionArgs(StrictArgs):
    firm_id = database_id(required=True)
    site_id = database_id(load_default=None, allow_none=True,
                                metadata={"description": "null: the whole client"})
    reason = text(1000, load_default="")


class ExclusionUpdateArgs(UpdateArgs):
    firm_id = database_id()
    site_id = database_id(allow_none=True)
    reason = text(1000)


class ExclusionQueryArgs(StrictArgs):
    firm_id = database_id()
    site_id = database_id()
