"""Schema pieces shared by every domain: strict input, common field rules, the guard that
refuses request bodies the API would not read, and the blueprint that reads them."""

import datetime as dt
import json
import re
from decimal import Decimal

import flask_smorest
import marshmallow as ma
from flask import request
from marshmallow import validate
from webargs.flaskparser import FlaskParser

from .concurrency import ConcurrencyMixin
from .errors import PayloadTooLarge, UnreadableJson, UnsupportedMediaType
from .pagination import PAGINATION_HEADER

MAX_ID = 2**31 - 1  # every id column is an INTEGER: 32 bits on PostgreSQL
FIRST_DATE, LAST_DATE = dt.date(2000, 1, 1), dt.date(2100, 12, 31)  # any date the API takes
JSON_BODY_LIMIT = 1024 * 1024  # bytes of a JSON request body
JSON_DEPTH_LIMIT = 32  # arrays and objects within each other in a JSON request body
# NUL, which PostgreSQL cannot store in text, and halves of a UTF-16 pair, which no database
# can store as UTF-8
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def refuse_unreadable_body() -> None:
    """A request body the API would not read (JSON without its Content-Type, say) is refused
    rather than ignored: ignored, its fields would silently fall back to their defaults. A JSON
    body must be valid, at most JSON_BODY_LIMIT bytes and JSON_DEPTH_LIMIT levels deep."""
    if not request.path.startswith("/api/"):
        return
    if request.is_json:
        _check_json_body()
        return
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length \
            or request.mimetype == "multipart/form-data":
        return
    raise UnsupportedMediaType(
        f"send the body as JSON with Content-Type: application/json (got "
        f"{request.mimetype or 'no Content-Type'})", {"Content-Type": ["application/json"]})


def _check_json_body() -> None:
    if (request.content_length or 0) > JSON_BODY_LIMIT:
        raise PayloadTooLarge(f"a JSON body may have at most {JSON_BODY_LIMIT} bytes")
    body = request.get_data(cache=True)
    if not body:
        return
    if len(body) > JSON_BODY_LIMIT:
        raise PayloadTooLarge(f"a JSON body may have at most {JSON_BODY_LIMIT} bytes")
    try:
        value = json.loads(body)
    except RecursionError:
        raise UnreadableJson(f"the JSON body is nested more than {JSON_DEPTH_LIMIT} levels "
                             f"deep") from None
    except ValueError as error:
        raise UnreadableJson(f"the body is not valid JSON: {error}") from None
    if _depth(value) > JSON_DEPTH_LIMIT:
        raise UnreadableJson(f"the JSON body is nested more than {JSON_DEPTH_LIMIT} levels deep")


def _depth(value) -> int:
    """How many arrays and objects are within each other in a parsed JSON value."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        value, level = todo.pop()
        children = value.values() if isinstance(value, dict) else \
            value if isinstance(value, list) else None
        if children is not None:
            deepest = max(deepest, level)
            todo.extend((child, level + 1) for child in children)
    return deepest


def json_type_errors(schema: ma.Schema, data) -> dict:
    """field -> reasons where a JSON value has not the JSON type its field documents (marshmallow
    would take "5" as an integer and 1 as true, as forms need; JSON says what it means)."""
    if not isinstance(data, dict):
        return {}
    errors = {}
    for field in schema.load_fields.values():
        key = field.data_key or field.name
        if key in data:
            reasons = _value_type_errors(field, data[key])
            if reasons:
                errors[key] = reasons
    return errors


def _value_type_errors(field: ma.fields.Field, value):
    if value is None:
        return None  # allow_none decides
    if isinstance(field, ma.fields.Boolean) and not isinstance(value, bool):
        return ["Not a valid boolean."]
    if isinstance(field, ma.fields.Integer) and (isinstance(value, bool)
                                                  or not isinstance(value, int)):
        return ["Not a valid integer."]
    if isinstance(field, ma.fields.Float) and (isinstance(value, bool)
                                                or not isinstance(value, int | float)):
        return ["Not a valid number."]
    if isinstance(field, ma.fields.Nested) and isinstance(value, list | dict):
        values = value if field.many and isinstance(value, list) else [value]
        found = {n: json_type_errors(field.schema, item) for n, item in enumerate(values)}
        found = {n: reasons for n, reasons in found.items() if reasons}
        return (found if field.many else found.get(0)) or None
    if isinstance(field, ma.fields.List) and isinstance(value, list):
        found = {n: _value_type_errors(field.inner, item) for n, item in enumerate(value)}
        return {n: reasons for n, reasons in found.items() if reasons} or None
    return None


class JsonTypeParser(FlaskParser):
    """webargs' parser, refusing a JSON body whose values have not their fields' JSON types."""

    def pre_load(self, location_data, *, schema, req, location):
        if location == "json":
            errors = json_type_errors(schema, location_data)
            if errors:
                raise ma.ValidationError(errors)
        return super().pre_load(location_data, schema=schema, req=req, location=location)


class Blueprint(ConcurrencyMixin, flask_smorest.Blueprint):
    """flask-smorest's Blueprint, with JSON bodies typed as documented, X-Pagination
    documented as the JSON it is, and If-Match checked after the access rules
    (concurrency.py)."""

    ARGUMENTS_PARSER = JsonTypeParser()

    def _document_pagination_metadata(self, spec, resp_doc):
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = PAGINATION_HEADER


class StrictArgs(ma.Schema):
    """Input schemas reject unknown fields, so a typo is a 422 and not silently ignored."""

    class Meta:
        unknown = ma.RAISE


class UpdateArgs(StrictArgs):
    """Input of a PATCH: at least one field to change (flags with a default do not count)."""

    @ma.validates_schema
    def check_something_to_change(self, data, **kwargs):
        if not any(name in data and field.load_default is ma.missing
                   for name, field in self.load_fields.items()):
            raise ma.ValidationError("nothing to change: give at least one field")


class _Storable:
    """A string field whose value a database can store: no NUL character, no lone surrogate."""

    default_error_messages = {"unstorable": "must not contain NUL characters or unpaired "
                                            "surrogates"}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if UNSTORABLE.search(value):
            raise self.make_error("unstorable")
        return value


class Text(_Storable, ma.fields.String):
    """A string a database can store."""


class Email(_Storable, ma.fields.Email):
    """An email address a database can store (the Email validator lets a lone surrogate
    through in the domain)."""


class DecimalText(ma.fields.Decimal):
    """A decimal of two places as a JSON string, in and out ("58.50"): exact, as a float is
    not. A JSON number is refused, so that no client rounds money on the way."""

    default_error_messages = {"not_text": "a decimal as a string, e.g. \"58.50\"",
                              "out_of_range": "must be from 0 to {high}"}

    def __init__(self, high: int, description: str = "", **kwargs):
        self.high = Decimal(high)
        digits = len(str(high))
        self.pattern = rf"^[0-9]{{1,{digits}}}(\.[0-9]{{1,2}})?$"
        note = f"a decimal string, 0 to {high}, at most 2 places"
        metadata = {"type": "string", "pattern": self.pattern, "example": "12.50",
                    "description": f"{description}; {note}" if description else note}
        super().__init__(places=2, as_string=True, allow_nan=False, metadata=metadata,
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(self.pattern, value):
            raise self.make_error("not_text")
        number = super()._deserialize(value, attr, data, **kwargs)
        if number > self.high:
            raise self.make_error("out_of_range", high=self.high)
        return number


def database_id(**kwargs) -> ma.fields.Integer:
    """The id of a row: 1 .. MAX_ID (a larger one cannot exist, and PostgreSQL would refuse
    to even compare it with an id column)."""
    return ma.fields.Integer(validate=validate.Range(1, MAX_ID), **kwargs)


def date(**kwargs) -> ma.fields.Date:
    """A date from FIRST_DATE to LAST_DATE: beyond, no rollout is planned."""
    return ma.fields.Date(validate=validate.Range(FIRST_DATE, LAST_DATE), **kwargs)


def dates(max_length: int = 1000, **kwargs) -> ma.fields.List:
    return ma.fields.List(date(), validate=validate.Length(max=max_length), **kwargs)


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


def text(max_length: int, **kwargs) -> Text:
    return Text(validate=validate.Length(max=max_length), **kwargs)


def name(max_length: int = 200, **kwargs) -> Text:
    return Text(validate=validate.Length(min=1, max=max_length), **kwargs)


def search(**kwargs) -> Text:
    """A query filter's text, e.g. a case-insensitive substring."""
    return Text(validate=validate.Length(max=200), **kwargs)
