"""Bulk entry from the lead firm's spreadsheets: sites and work items as CSV (docs/csv-import.md).

Every row is parsed by a marshmallow schema and written through the same operations as the API,
inside a savepoint. Any bad row rolls the whole upload back, so an upload imports all or nothing;
a dry run always rolls back. Rows are keyed by site name or work item ref: a known key updates.
"""

import csv
import io

import marshmallow as ma
from marshmallow import validate

from ..access import require_lead_coordinator
from ..errors import InvalidInput, StaffingError
from ..extensions import db
from ..partners.models import User
from ..schemas import StrictArgs, latitude, longitude, text
from ..schemas import name as name_field
from . import operations as ops
from .models import WORK_KINDS, Project, Skill

MAX_ROWS = 20_000


class ListCell(ma.fields.List):
    """A spreadsheet cell holding several values separated by ';' (e.g. '2027-04-01;2027-04-02').

    Integer ranges such as '1-5' are accepted for weekdays."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str):
            parts = [part.strip() for part in value.split(";") if part.strip()]
            if isinstance(self.inner, ma.fields.Integer) and len(parts) == 1 and "-" in parts[0]:
                low, _, high = parts[0].partition("-")
                if low.isdigit() and high.isdigit():
                    parts = [str(day) for day in range(int(low), int(high) + 1)]
            value = parts
        return super()._deserialize(value, attr, data, **kwargs)


class _Row(StrictArgs):
    """Empty cells mean 'not given' so defaults and stored values apply."""

    @ma.pre_load
    def drop_empty_cells(self, data, **kwargs):
        return {key.strip(): value.strip() for key, value in data.items()
                if key is not None and value is not None and value.strip() != ""}


class SiteRow(_Row):
    name = name_field(required=True)
    address = text(300)
    region = text(100)
    latitude = latitude(required=True)
    longitude = longitude(required=True)
    ready_on = ma.fields.Date()
    access_weekdays = ListCell(ma.fields.Integer(validate=validate.Range(1, 7)),
                               validate=validate.Length(min=1, max=7))
    blackout_dates = ListCell(ma.fields.Date())


class WorkItemRow(_Row):
    ref = name_field(50, required=True)
    site = name_field(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(WORK_KINDS))
    label = text(200)
    skill = ma.fields.String(required=True)
    min_proficiency = ma.fields.Integer(validate=validate.Range(1, 5))
    effort_hours = ma.fields.Float(required=True, allow_nan=False,
                                   validate=validate.Range(0, 10_000, min_inclusive=False))
    quantity = ma.fields.Integer(validate=validate.Range(1, 100_000))
    crew_size = ma.fields.Integer(validate=validate.Range(1, 50))
    earliest_on = ma.fields.Date()
    due_on = ma.fields.Date()
    depends_on = ListCell(ma.fields.String())

    @ma.validates_schema
    def check_dates(self, data, **kwargs):
        if data.get("earliest_on") and data.get("due_on") and data["due_on"] < data["earliest_on"]:
            raise ma.ValidationError("must not be before earliest_on", "due_on")


SITE_COLUMNS = tuple(SiteRow().fields)
WORK_ITEM_COLUMNS = tuple(WorkItemRow().fields)


def _read_rows(content: bytes, columns: tuple[str, ...], required: set[str]) -> list[dict]:
    try:
        text_content = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput.field("file", "the file is not UTF-8 text") from error
    sample = text_content[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text_content), dialect=dialect)
    header = [column.strip() for column in reader.fieldnames or []]
    unknown = [column for column in header if column not in columns]
    missing = sorted(required - set(header))
    if not header or unknown or missing:
        reasons = [f"unknown column {column!r}" for column in unknown]
        reasons += [f"missing column {column!r}" for column in missing]
        raise InvalidInput("the header row does not match the documented columns",
                           {"header": reasons or ["the file is empty"]})
    rows = list(reader)
    if len(rows) > MAX_ROWS:
        raise InvalidInput.field("file", f"at most {MAX_ROWS} rows per upload")
    if not rows:
        raise InvalidInput.field("file", "the file holds a header but no rows")
    return rows


def _run(rows: list[dict], write_row, dry_run: bool) -> dict:
    """Write every row in a savepoint; collect errors by 'row N' (N is the spreadsheet line)."""
    errors: dict[str, dict] = {}
    counts = {"created": 0, "updated": 0}
    savepoint = db.session.begin_nested()
    for line, row in enumerate(rows, start=2):
        if None in row:
            errors[f"row {line}"] = {"row": ["more cells than columns"]}
            continue
        try:
            counts[write_row(row)] += 1
        except ma.ValidationError as error:
            errors[f"row {line}"] = error.normalized_messages()
        except StaffingError as error:
            errors[f"row {line}"] = error.errors or {"row": [error.message]}
    if errors or dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()
    if errors:
        first = next(iter(errors))
        raise InvalidInput(f"{len(errors)} bad row(s), nothing imported; first: {first} "
                           f"{errors[first]}", errors)
    return {"dry_run": dry_run, "rows": len(rows), **counts}


def import_sites(actor: User, project: Project, content: bytes, dry_run: bool = False) -> dict:
    """Create or update the project's sites from CSV; all rows or none."""
    require_lead_coordinator(actor, project)
    schema = SiteRow()

    def write_row(row: dict) -> str:
        fields = schema.load(row)
        site = ops.find_site(project, fields["name"])
        if site is None:
            ops.create_site(actor, project, fields)
            return "created"
        ops.update_site(actor, site, fields)
        return "updated"

    rows = _read_rows(content, SITE_COLUMNS, {"name", "latitude", "longitude"})
    return _run(rows, write_row, dry_run)


def import_work_items(actor: User, project: Project, content: bytes,
                      dry_run: bool = False) -> dict:
    """Create or update work items from CSV; depends_on may name refs of earlier rows."""
    require_lead_coordinator(actor, project)
    schema = WorkItemRow()
    skills = {skill.code: skill.id for skill in db.session.scalars(
        db.select(Skill).filter_by(project_id=project.id))}

    def write_row(row: dict) -> str:
        fields = schema.load(row)
        site = ops.find_site(project, fields.pop("site"))
        if site is None:
            raise InvalidInput.field("site", "no site of this name in the project")
        skill_code = fields.pop("skill")
        if skill_code not in skills:
            raise InvalidInput.field("skill", f"unknown skill code {skill_code!r}")
        dep_ids = []
        for ref in fields.pop("depends_on", []):
            dep = ops.find_work_item(project, ref)
            if dep is None:
                raise InvalidInput.field("depends_on", f"no work item {ref!r} (in an earlier row "
                                                       "or the project)")
            dep_ids.append(dep.id)
        fields |= {"site_id": site.id, "skill_id": skills[skill_code], "depends_on_ids": dep_ids}
        item = ops.find_work_item(project, fields["ref"])
        if item is None:
            ops.create_work_item(actor, project, fields)
            return "created"
        ops.update_work_item(actor, item, fields)
        return "updated"

    rows = _read_rows(content, WORK_ITEM_COLUMNS,
                      {"ref", "site", "kind", "skill", "effort_hours"})
    return _run(rows, write_row, dry_run)
