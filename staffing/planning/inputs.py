"""What the planner reads of a project, kept per process until it changes.

Judging a coordinator's move, ranking who fits an item or telling a stale plan needs the
project as the planner sees it (mapping.problem_for), its fingerprint and its prepared form:
about a second for a 1,000-site rollout. `current(project)` keeps the three per process, under
the project's `inputs_version`, a token that every change to those inputs replaces with a new
random one in the same transaction as the change (random, not a counter: a change rolled back
would leave its number to the next change, and with it what a process kept under it):

- a flush that adds, changes or deletes a row of an input model (the project, its sites, work
  items and skills, capacity offers with their skills and days, memberships, exclusions, bans;
  a firm, for every project it offers to or leads; a plan's status, which moves the fair-share
  targets) renews the version of each project it touches (`_before_flush`, `_after_flush`);
- a bulk statement on an input table (the CSV import) renews every project's version: it
  names no project, and being wrong costs a cache, not a wrong answer (`_on_execute`).

A process reads the version first, builds, and keeps what it built only when the version is
still the same afterwards; so what it keeps is never older than its key.
"""

from __future__ import annotations

import functools
import threading
import uuid
from collections import OrderedDict

import sqlalchemy as sa
import sqlalchemy.orm as so

from solver import types as st

from ..extensions import db
from ..partners.models import Availability, CapacityOffer, Exclusion, Firm, Membership, OfferSkill
from ..projects.models import Project, Site, Skill, WorkItem, work_item_dependency
from . import mapping
from .models import Ban, Plan

BY_PROJECT = (Site, WorkItem, Skill, CapacityOffer, Membership, Exclusion, Ban)
BY_OFFER = (OfferSkill, Availability)
TABLES = frozenset(model.__table__.name for model in (
    Project, Firm, Plan, *BY_PROJECT, *BY_OFFER)) | {work_item_dependency.name}
PROJECT_NOT_READ = frozenset({"description", "client_name", "created_at", "inputs_version"})
KEPT = 4  # projects whose inputs a process keeps (a 1,000-site one: ~1 s to build, ~50 MB)
EVERY = "every project"


class Inputs:
    """A project's problem (no base plan), its input fingerprint and, once asked for, its
    prepared form (solver.prepare.Core: read, never changed, by a review)."""

    def __init__(self, problem: st.Problem, fingerprint: str) -> None:
        self.problem, self.fingerprint = problem, fingerprint

    @functools.cached_property
    def core(self):
        return mapping.solver_review.core_of(self.problem)


_KEPT: OrderedDict[tuple[int, str], Inputs] = OrderedDict()
_LOCK = threading.Lock()


def _read_version(project_id: int) -> str:
    return db.session.scalar(sa.select(Project.inputs_version).where(Project.id == project_id))


def current(project: Project) -> Inputs:
    """The project's inputs as they are now, built once per version and process."""
    key = (project.id, _read_version(project.id))
    with _LOCK:
        found = _KEPT.get(key)
        if found is not None:
            _KEPT.move_to_end(key)
            return found
    problem = mapping.problem_for(project)
    fingerprint = mapping.input_fingerprint(problem)
    built = Inputs(problem, fingerprint)
    if _read_version(project.id) == key[1]:
        with _LOCK:
            _KEPT[key] = built
            while len(_KEPT) > KEPT:
                _KEPT.popitem(last=False)
    return built


# --- renewing the version -------------------------------------------------------------------


def _touched(session: so.Session) -> tuple[set[int], set[int]]:
    """The projects and the firms a flush's changes touch (EVERY among the projects when a
    row names none)."""
    projects: set = set()
    firms: set[int] = set()
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Project):
            if obj.id is not None and (obj in session.deleted or _read_changed(obj)):
                projects.add(obj.id)
        elif isinstance(obj, BY_PROJECT):
            if obj in session.dirty and not session.is_modified(obj):
                continue
            projects.add(obj.project_id if obj.project_id is not None else EVERY)
            projects.update(sa.inspect(obj).attrs.project_id.history.deleted)  # moved
        elif isinstance(obj, BY_OFFER):
            with session.no_autoflush:
                offer = session.get(CapacityOffer, obj.offer_id) if obj.offer_id else None
            projects.add(offer.project_id if offer is not None else EVERY)
        elif isinstance(obj, Firm):
            if obj.id is not None and (obj in session.deleted or session.is_modified(obj)):
                firms.add(obj.id)
        elif isinstance(obj, Plan) and obj.id is not None and (
                obj in session.deleted or sa.inspect(obj).attrs.status.history.has_changes()):
            projects.add(obj.project_id)  # approved plans' hours move fair-share targets
    projects.discard(None)
    return projects, firms


def _read_changed(project: Project) -> bool:
    """Whether a column the planner reads of the project changed (not its description)."""
    attrs = sa.inspect(project).attrs
    return any(getattr(attrs, column.key).history.has_changes()
               for column in sa.inspect(Project).column_attrs
               if column.key not in PROJECT_NOT_READ)


def _before_flush(session: so.Session, _context, _instances) -> None:
    projects, firms = _touched(session)
    if firms:  # before the flush: a firm's offers go with it when it is deleted
        connection = session.connection()
        projects |= set(connection.scalars(
            sa.select(CapacityOffer.project_id).where(CapacityOffer.firm_id.in_(firms))))
        projects |= set(connection.scalars(
            sa.select(Project.id).where(Project.lead_firm_id.in_(firms))))
    if projects:
        session.info.setdefault("inputs_touched", set()).update(projects)


def _after_flush(session: so.Session, _context) -> None:
    projects = session.info.pop("inputs_touched", None)
    if projects:
        _renew(session.connection(), projects)


def _on_execute(state: so.ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if table is not None and table.name in TABLES:
        _renew(state.session.connection(), {EVERY})


def _renew(connection, projects: set) -> None:
    statement = sa.update(Project.__table__).values(inputs_version=uuid.uuid4().hex)
    if EVERY not in projects:
        statement = statement.where(Project.__table__.c.id.in_(sorted(projects)))
    connection.execute(statement)


def register() -> None:
    """Listen to every session's flushes and statements (once per process)."""
    for name, listener in (("before_flush", _before_flush), ("after_flush", _after_flush),
                           ("do_orm_execute", _on_execute)):
        if not sa.event.contains(so.Session, name, listener):
            sa.event.listen(so.Session, name, listener)
