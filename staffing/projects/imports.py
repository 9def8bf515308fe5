"""Bulk entry from the lead firm's spreadsheets: sites and work items as CSV (docs/csv-import.md).

Every row is parsed by a marshmallow schema and checked, in file order, by the rules of the API's
operations (operations.check_*) against a picture of the project held in memory: its sites, or its
work items with their dates and dependencies, as the rows so far leave them. Only when every row
is good is the upload written, in a few bulk statements inside a savepoint; any bad row imports
nothing, and a dry run writes and rolls back. Rows are keyed by site name or work item ref: a
known key updates. One query per row made 20,000 rows take 20 s (docs/benchmarks.md).
"""

import csv
import io
from collections.abc import Callable

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import validate

from ..access import require_lead_coordinator
from ..errors import InvalidInput, StaffingError
from ..extensions import db
from ..partners.models import User
from ..schemas import StrictArgs, date, dates, latitude, longitude, text, weekdays
from ..schemas import name as name_field
from . import operations as ops
from .models import WORK_KINDS, Project, Site, Skill, WorkItem, work_item_dependency

MAX_ROWS = 20_000
CHUNK = 1_000  # ids in one IN (...): far below every database's limit of bound parameters
DATES = ("earliest_on", "due_on")
COLUMN_OF = {"site_id": "site", "skill_id": "skill", "depends_on_ids": "depends_on"}


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
    """Empty cells mean 'not given' so defaults and stored values apply. Cross-field rules are
    the operations' (operations.check_*), applied by the import, not schema validators here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._required = {name for name, field in self.load_fields.items() if field.required}
        self._outcomes: dict[str, dict[str, tuple[bool, object]]] = {
            name: {} for name in self.load_fields}

    @ma.pre_load
    def drop_empty_cells(self, data, **kwargs):
        return {key.strip(): value.strip() for key, value in data.items()
                if key is not None and value is not None and value.strip() != ""}

    def load_row(self, row: dict) -> dict:
        """What load(row) returns, or raises, only faster for a good row: each field parses a
        text once per upload (spreadsheets repeat their dates, weekdays, kinds, skills), and a
        row that is not plainly good goes through load() itself, for marshmallow's messages."""
        cells = self.drop_empty_cells(row)
        if not self._required <= cells.keys() or not cells.keys() <= self._outcomes.keys():
            return self.load(row)
        fields = {}
        for name, cell in cells.items():
            outcomes = self._outcomes[name]
            outcome = outcomes.get(cell)
            if outcome is None:
                try:
                    outcome = (True, self.load_fields[name].deserialize(cell, name, cells))
                except ma.ValidationError:
                    outcome = (False, None)
                outcomes[cell] = outcome
            is_valid, value = outcome
            if not is_valid:
                return self.load(row)
            fields[name] = list(value) if isinstance(value, list) else value  # its own list
        return fields


def _cells(api_list: ma.fields.List) -> ListCell:
    """The API's list field (its items' and its own rules) read from one cell."""
    return ListCell(api_list.inner, validate=api_list.validators)


class SiteRow(_Row):
    name = name_field(required=True)
    address = text(300)
    region = text(100)
    latitude = latitude(required=True)
    longitude = longitude(required=True)
    ready_on = date()
    access_weekdays = _cells(weekdays())
    blackout_dates = _cells(dates())


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
    earliest_on = date()
    due_on = date()
    depends_on = ListCell(ma.fields.String())


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


def _check_rows(rows: list[dict], check_row: Callable[[dict], str]) -> dict:
    """Check every row in file order with check_row(row) -> 'created' or 'updated'; raise
    InvalidInput with the bad rows by 'row N' (N is the spreadsheet line), else the counts."""
    errors: dict[str, dict] = {}
    counts = {"created": 0, "updated": 0}
    for line, row in enumerate(rows, start=2):
        if None in row:
            errors[f"row {line}"] = {"row": ["more cells than columns"]}
            continue
        try:
            counts[check_row(row)] += 1
        except ma.ValidationError as error:
            errors[f"row {line}"] = error.normalized_messages()
        except StaffingError as error:
            errors[f"row {line}"] = _by_column(error.errors) or {"row": [error.message]}
    if errors:
        first = next(iter(errors))
        raise InvalidInput(f"{len(errors)} bad row(s), nothing imported; first: {first} "
                           f"{errors[first]}", errors)
    return counts


def _by_column(errors: dict) -> dict:
    """The operations' rules name the API's fields; a spreadsheet's reader wants its columns."""
    return {COLUMN_OF.get(field, field): reasons for field, reasons in errors.items()}


def _write(write: Callable[[], None], dry_run: bool) -> None:
    """Run write in a savepoint: kept, or rolled back for a dry run (which so meets every
    constraint of the database that a real upload would)."""
    savepoint = db.session.begin_nested()
    try:
        write()
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
    else:
        savepoint.commit()


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _insert(table: sa.Table, records: list[dict]) -> None:
    """INSERT records in one executemany. Each gets every key any has, a key it lacks taking
    its column's default (the ORM's bulk insert makes a statement per key set and per None:
    one per row in a mixed file). No RETURNING: on PostgreSQL it made SQLAlchemy render
    multi-row VALUES in Python, slower here than psycopg's pipelined executemany."""
    keys = set().union(*records)
    for record in records:
        for key in keys - record.keys():
            record[key] = _column_default(table.c[key])
    db.session.execute(sa.insert(table), records)


def _column_default(column: sa.Column):
    default = column.default
    if default is None:
        return None
    return default.arg(None) if default.is_callable else default.arg


def _update(model, changes: list[dict]) -> None:
    """UPDATE by id, one executemany per set of columns changed (changes: id and values)."""
    table = model.__table__
    by_keys: dict[frozenset, list[dict]] = {}
    for change in changes:
        by_keys.setdefault(frozenset(change), []).append(change)
    for keys, group in by_keys.items():
        names = sorted(keys - {"id"})
        statement = sa.update(table).where(table.c.id == sa.bindparam("row_id")).values(
            {name: sa.bindparam(f"new_{name}", type_=table.c[name].type) for name in names})
        db.session.execute(statement, [
            {"row_id": change["id"], **{f"new_{name}": change[name] for name in names}}
            for change in group])


# --- sites -------------------------------------------------------------------------------


def import_sites(actor: User, project: Project, content: bytes, dry_run: bool = False) -> dict:
    """Create or update the project's sites from CSV; all rows or none (InvalidInput)."""
    require_lead_coordinator(actor, project)
    rows = _read_rows(content, SITE_COLUMNS, {"name", "latitude", "longitude"})
    schema = SiteRow()
    stored = dict(db.session.execute(
        sa.select(Site.name, Site.id).filter_by(project_id=project.id)).all())
    new: dict[str, dict] = {}  # name -> fields of a site the upload creates
    changes: dict[int, dict] = {}  # id -> fields the upload sets on a stored site

    def check_row(row: dict) -> str:
        # a site's name is its key, so a row never takes another site's name (the API's rule)
        fields = schema.load_row(row)
        name = fields["name"]
        if name in stored:
            changes.setdefault(stored[name], {}).update(fields)
            return "updated"
        if name in new:
            new[name].update(fields)
            return "updated"
        new[name] = fields
        return "created"

    counts = _check_rows(rows, check_row)

    def write() -> None:
        if new:
            _insert(Site.__table__, [{"project_id": project.id, **fields}
                                     for fields in new.values()])
        if changes:
            _update(Site, [{"id": site_id, **fields} for site_id, fields in changes.items()])

    _write(write, dry_run)
    return {"dry_run": dry_run, "rows": len(rows), **counts}


# --- work items --------------------------------------------------------------------------


class _WorkItems:
    """The project's work items as the upload leaves them, row by row, keyed by ref: the
    stored ones' ids, everyone's dates and dependencies, and what the upload sets."""

    def __init__(self, project: Project):
        self.project = project
        self.ids: dict[str, int] = {}
        self.dates: dict[str, dict] = {}  # ref -> earliest_on and due_on, of every item
        for ref, item_id, earliest_on, due_on in db.session.execute(
                sa.select(WorkItem.ref, WorkItem.id, WorkItem.earliest_on, WorkItem.due_on)
                .filter_by(project_id=project.id)):
            self.ids[ref] = item_id
            self.dates[ref] = {"earliest_on": earliest_on, "due_on": due_on}
        ref_of = {item_id: ref for ref, item_id in self.ids.items()}
        self.stored_graph: dict[str, list[str]] = {
            ref_of[item_id]: [ref_of[dep_id] for dep_id in dep_ids if dep_id in ref_of]
            for item_id, dep_ids in ops.dependency_graph(project).items() if item_id in ref_of}
        self.graph: dict[str, list[str]] = dict(self.stored_graph)
        self.fields: dict[str, dict] = {}  # ref -> the fields the upload sets
        self.created: list[str] = []

    def knows(self, ref: str) -> bool:
        return ref in self.dates

    def check(self, fields: dict, deps: list[str]) -> str:
        """Apply the API's rules to one row (fields with ids, deps as known refs); raise
        InvalidInput, or take the row in and say whether it creates or updates."""
        ref = fields["ref"]
        known = self.knows(ref)  # the ref is the key: a row never takes another item's ref
        if known:
            for dep in deps:
                ops.check_not_own_dependency(ref, dep)
            # the picture has no cycle, so only a dependency the item lacks so far can close one
            current = set(self.graph.get(ref, ()))
            ops.check_no_cycle(self.graph, ref, [dep for dep in deps if dep not in current])
        stored = self.dates.get(ref, {})
        merged = {name: fields.get(name, stored.get(name)) for name in DATES}
        ops.check_item_dates(merged)
        self.dates[ref] = merged
        self.graph[ref] = deps  # the cell lists every dependency: an empty one clears them
        self.fields.setdefault(ref, {}).update(fields)
        if not known:
            self.created.append(ref)
        return "updated" if known else "created"

    def write(self) -> None:
        """The upload in bulk: new items, changed items, changed dependency lists."""
        project_id = self.project.id
        if self.created:
            _insert(WorkItem.__table__, [{"project_id": project_id, **self.fields[ref]}
                                         for ref in self.created])
        changes = [{"id": self.ids[ref], **fields} for ref, fields in self.fields.items()
                   if ref in self.ids]
        if changes:
            _update(WorkItem, changes)
        ids = dict(db.session.execute(
            sa.select(WorkItem.ref, WorkItem.id).filter_by(project_id=project_id)).all())
        replaced = [ref for ref in self.fields
                    if set(self.graph[ref]) != set(self.stored_graph.get(ref, ()))]
        stored = [ids[ref] for ref in replaced if ref in self.ids]
        for chunk in _chunks(stored):
            db.session.execute(sa.delete(work_item_dependency)
                               .where(work_item_dependency.c.work_item_id.in_(chunk)))
        edges = [{"work_item_id": ids[ref], "depends_on_id": ids[dep]}
                 for ref in replaced for dep in self.graph[ref]]
        if edges:
            _insert(work_item_dependency, edges)


def import_work_items(actor: User, project: Project, content: bytes,
                      dry_run: bool = False) -> dict:
    """Create or update work items from CSV; depends_on may name refs of earlier rows or
    stored items; all rows or none (InvalidInput)."""
    require_lead_coordinator(actor, project)
    rows = _read_rows(content, WORK_ITEM_COLUMNS,
                      {"ref", "site", "kind", "skill", "effort_hours"})
    schema = WorkItemRow()
    sites = dict(db.session.execute(
        sa.select(Site.name, Site.id).filter_by(project_id=project.id)).all())
    skills = dict(db.session.execute(
        sa.select(Skill.code, Skill.id).filter_by(project_id=project.id)).all())
    items = _WorkItems(project)

    def check_row(row: dict) -> str:
        fields = schema.load_row(row)
        ops.check_item_dates({name: fields.get(name) for name in DATES})  # the row's own
        site = sites.get(fields.pop("site"))
        if site is None:
            raise InvalidInput.field("site", "no site of this name in the project")
        skill_code = fields.pop("skill")
        if skill_code not in skills:
            raise InvalidInput.field("skill", f"unknown skill code {skill_code!r}")
        deps = list(dict.fromkeys(fields.pop("depends_on", [])))
        for ref in deps:
            if not items.knows(ref):
                raise InvalidInput.field("depends_on", f"no work item {ref!r} (in an earlier "
                                                       "row or the project)")
        return items.check(fields | {"site_id": site, "skill_id": skills[skill_code]}, deps)

    counts = _check_rows(rows, check_row)
    _write(items.write, dry_run)
    return {"dry_run": dry_run, "rows": len(rows), **counts}
