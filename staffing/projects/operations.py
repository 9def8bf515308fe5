"""Operations of the projects domain. They take the actor, check access, flush, never commit."""

import datetime as dt
from collections.abc import Hashable, Iterable, Mapping

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..access import (
    SITE_PLACE_DECIMALS,
    get_project_for,
    require_lead_coordinator,
    sites_in_full,
    visible_project_ids,
)
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..extensions import db
from ..partners.models import User
from .models import Project, Site, Skill, WorkItem, work_item_dependency
from .schemas import project_span_problem


def _merged(obj, fields: dict, names: tuple[str, ...]) -> dict:
    """The values obj would have after the update: for cross-field checks before any change."""
    return {name: fields[name] if name in fields else getattr(obj, name, None) for name in names}


def _apply(obj, fields: dict) -> None:
    for key, value in fields.items():
        setattr(obj, key, value)
    db.session.flush()


def _in_visible_project(actor: User, model, object_id: int, what: str):
    """The object when the actor takes part in its project; NotFound otherwise."""
    obj = db.session.get(model, object_id)
    if obj is None:
        raise NotFound(what)
    get_project_for(actor, obj.project_id)
    return obj


# --- projects ----------------------------------------------------------------------------


def list_projects(actor: User, name: str | None = None, client_name: str | None = None,
                  role: str | None = None, active_on: dt.date | None = None) -> sa.Select:
    """The projects the actor's firm leads or partners on, filtered, newest first."""
    query = sa.select(Project).where(Project.id.in_(visible_project_ids(actor)))
    if name:
        query = query.where(Project.name.ilike(f"%{name}%"))
    if client_name:
        query = query.where(Project.client_name.ilike(f"%{client_name}%"))
    if role == "lead":
        query = query.where(Project.lead_firm_id == actor.firm_id)
    elif role == "partner":
        query = query.where(Project.lead_firm_id != actor.firm_id)
    if active_on:
        query = query.where(Project.start_on <= active_on, Project.end_on >= active_on)
    return query.order_by(Project.start_on.desc(), Project.id.desc())


def get_project(actor: User, project_id: int) -> Project:
    return get_project_for(actor, project_id)


def _check_project_name_free(lead_firm_id: int, name: str, project_id: int | None = None) -> None:
    taken = db.session.scalar(sa.select(Project.id).where(
        Project.lead_firm_id == lead_firm_id, sa.func.lower(Project.name) == name.lower()))
    if taken is not None and taken != project_id:
        raise InvalidInput.field("name", "your firm already has a project with this name")


def create_project(actor: User, fields: dict) -> Project:
    """A new project led by the actor's firm; its admins and coordinators may create one."""
    if not actor.can_coordinate:
        raise Forbidden("only your firm's admins and coordinators create projects")
    _check_project_name_free(actor.firm_id, fields["name"])
    project = Project(lead_firm_id=actor.firm_id, **fields)
    db.session.add(project)
    db.session.flush()
    return project


def update_project(actor: User, project: Project, fields: dict) -> Project:
    require_lead_coordinator(actor, project)
    merged = _merged(project, fields, ("start_on", "end_on"))
    problem = project_span_problem(merged["start_on"], merged["end_on"])
    if problem:
        raise InvalidInput.field("end_on", problem)
    if "name" in fields:
        _check_project_name_free(project.lead_firm_id, fields["name"], project.id)
    _apply(project, fields)
    return project


def delete_project(actor: User, project: Project) -> None:
    """Remove the project with everything in it (sites, items, offers, plans)."""
    require_lead_coordinator(actor, project)
    db.session.delete(project)
    db.session.flush()


# --- skills ------------------------------------------------------------------------------


def list_skills(actor: User, project: Project) -> sa.Select:
    return sa.select(Skill).filter_by(project_id=project.id).order_by(Skill.code)


def get_skill(actor: User, skill_id: int) -> Skill:
    return _in_visible_project(actor, Skill, skill_id, "skill")


def _check_skill_code_free(project_id: int, code: str, skill_id: int | None = None) -> None:
    taken = db.session.scalar(sa.select(Skill.id).filter_by(project_id=project_id, code=code))
    if taken is not None and taken != skill_id:
        raise InvalidInput.field("code", "the project already has a skill with this code")


def create_skill(actor: User, project: Project, fields: dict) -> Skill:
    require_lead_coordinator(actor, project)
    _check_skill_code_free(project.id, fields["code"])
    skill = Skill(project_id=project.id, **fields)
    db.session.add(skill)
    db.session.flush()
    return skill


def update_skill(actor: User, skill: Skill, fields: dict) -> Skill:
    require_lead_coordinator(actor, db.session.get(Project, skill.project_id))
    if "code" in fields:
        _check_skill_code_free(skill.project_id, fields["code"], skill.id)
    _apply(skill, fields)
    return skill


def delete_skill(actor: User, skill: Skill) -> None:
    """Remove a skill no work item needs (offers drop it with it)."""
    require_lead_coordinator(actor, db.session.get(Project, skill.project_id))
    if db.session.scalar(sa.select(WorkItem.id).filter_by(skill_id=skill.id).limit(1)):
        raise Conflict("work items need this skill; change them first")
    db.session.delete(skill)
    db.session.flush()


# --- sites -------------------------------------------------------------------------------


def list_sites(actor: User, project: Project, name: str | None = None,
               region: str | None = None) -> sa.Select:
    query = sa.select(Site).filter_by(project_id=project.id).order_by(Site.name)
    if name:
        query = query.where(Site.name.ilike(f"%{name}%"))
    if region:
        query = query.where(Site.region == region)
    return query


def get_site(actor: User, site_id: int) -> Site:
    return _in_visible_project(actor, Site, site_id, "site")


def sites_view(actor: User, project: Project, sites: list[Site]) -> list:
    """The sites as this reader may see them (access.sites_in_full): the rows themselves
    where it may see everything, else without the street address and with the coordinates
    rounded to the town."""
    full = sites_in_full(actor, project)
    return [site if full is None or site.id in full else _place_only(site) for site in sites]


def _place_only(site: Site) -> dict:
    fields = {column.key: getattr(site, column.key)
              for column in sa.inspect(Site).column_attrs}
    return fields | {"address": None, "details_shown": False,
                     "latitude": round(site.latitude, SITE_PLACE_DECIMALS),
                     "longitude": round(site.longitude, SITE_PLACE_DECIMALS)}


def find_site(project: Project, name: str) -> Site | None:
    return db.session.scalar(sa.select(Site).filter_by(project_id=project.id, name=name))


def _check_site_name_free(project_id: int, name: str, site_id: int | None = None) -> None:
    taken = db.session.scalar(sa.select(Site.id).filter_by(project_id=project_id, name=name))
    if taken is not None and taken != site_id:
        raise InvalidInput.field("name", "the project already has a site with this name")


def create_site(actor: User, project: Project, fields: dict) -> Site:
    require_lead_coordinator(actor, project)
    _check_site_name_free(project.id, fields["name"])
    site = Site(project_id=project.id, **fields)
    db.session.add(site)
    db.session.flush()
    return site


def update_site(actor: User, site: Site, fields: dict) -> Site:
    require_lead_coordinator(actor, site.project)
    if "name" in fields:
        _check_site_name_free(site.project_id, fields["name"], site.id)
    _apply(site, fields)
    return site


def delete_site(actor: User, site: Site) -> None:
    """Remove the site with its work items."""
    require_lead_coordinator(actor, site.project)
    db.session.delete(site)
    db.session.flush()


# --- work items --------------------------------------------------------------------------


def list_work_items(actor: User, project: Project, site_id: int | None = None,
                    skill_id: int | None = None, kind: str | None = None,
                    ref: str | None = None) -> sa.Select:
    # the page's dependencies in one query, not one per item (the schema lists their ids)
    query = (sa.select(WorkItem).filter_by(project_id=project.id).order_by(WorkItem.ref)
             .options(selectinload(WorkItem.depends_on)))
    for column, value in ((WorkItem.site_id, site_id), (WorkItem.skill_id, skill_id),
                          (WorkItem.kind, kind)):
        if value is not None:
            query = query.where(column == value)
    if ref:
        query = query.where(WorkItem.ref.ilike(f"%{ref}%"))
    return query


def get_work_item(actor: User, item_id: int) -> WorkItem:
    return _in_visible_project(actor, WorkItem, item_id, "work item")


def find_work_item(project: Project, ref: str) -> WorkItem | None:
    return db.session.scalar(sa.select(WorkItem).filter_by(project_id=project.id, ref=ref))


def _in_project(model, object_id: int, project: Project, field: str):
    obj = db.session.get(model, object_id)
    if obj is None or obj.project_id != project.id:
        raise InvalidInput.field(field, "no such object in this project")
    return obj


def _dependencies(project: Project, item_id: int | None, ids: list[int]) -> list[WorkItem]:
    """The items ids name, checked: same project, not the item itself, no cycle."""
    items = []
    for dep_id in dict.fromkeys(ids):
        check_not_own_dependency(item_id, dep_id)
        dep = db.session.get(WorkItem, dep_id)
        if dep is None or dep.project_id != project.id:
            raise InvalidInput.field("depends_on_ids",
                                     f"work item {dep_id} is not in this project")
        items.append(dep)
    if item_id is not None and items:
        check_no_cycle(dependency_graph(project, item_id), item_id, [dep.id for dep in items])
    return items


def dependency_graph(project: Project, without: int | None = None) -> dict[int, list[int]]:
    """The project's dependencies, item id -> the ids it depends on (without one item's own)."""
    edges = db.session.execute(
        sa.select(work_item_dependency.c.work_item_id, work_item_dependency.c.depends_on_id)
        .join(WorkItem, WorkItem.id == work_item_dependency.c.work_item_id)
        .where(WorkItem.project_id == project.id, work_item_dependency.c.work_item_id != without)
    )
    graph: dict[int, list[int]] = {}
    for source, target in edges:
        graph.setdefault(source, []).append(target)
    return graph


# The rules below take plain values, so the API's operations (on ids, against the database) and
# the CSV import (on refs, against the upload's picture of the project) apply the same ones.


def check_not_own_dependency(item: Hashable | None, dep: Hashable) -> None:
    """Raise when a work item (its id, or its ref) would depend on itself."""
    if dep == item:
        raise InvalidInput.field("depends_on_ids", "a work item cannot depend on itself")


def check_no_cycle(graph: Mapping[Hashable, Iterable[Hashable]], item: Hashable,
                   new_deps: Iterable[Hashable]) -> None:
    """Raise when item is reachable from its new dependencies through graph (item -> what it
    depends on): it would wait for itself. The item's own entry in graph is never followed."""
    stack, seen = list(new_deps), set()
    while stack:
        current = stack.pop()
        if current == item:
            raise InvalidInput.field("depends_on_ids", "this would make a dependency cycle")
        if current not in seen:
            seen.add(current)
            stack.extend(graph.get(current, ()))


def check_item_dates(merged: dict) -> None:
    """Raise when due_on is before earliest_on (merged: the values after the change)."""
    if merged["earliest_on"] and merged["due_on"] and merged["due_on"] < merged["earliest_on"]:
        raise InvalidInput.field("due_on", "must not be before earliest_on")


def create_work_item(actor: User, project: Project, fields: dict) -> WorkItem:
    require_lead_coordinator(actor, project)
    fields = dict(fields)
    site = _in_project(Site, fields.pop("site_id"), project, "site_id")
    skill = _in_project(Skill, fields.pop("skill_id"), project, "skill_id")
    depends_on = _dependencies(project, None, fields.pop("depends_on_ids", []))
    check_item_dates(_merged(None, fields, ("earliest_on", "due_on")))
    if find_work_item(project, fields["ref"]) is not None:
        raise InvalidInput.field("ref", "the project already has a work item with this ref")
    item = WorkItem(project_id=project.id, site=site, skill=skill, depends_on=depends_on,
                    **fields)
    db.session.add(item)
    db.session.flush()
    return item


def update_work_item(actor: User, item: WorkItem, fields: dict) -> WorkItem:
    project = db.session.get(Project, item.project_id)
    require_lead_coordinator(actor, project)
    fields = dict(fields)
    if "site_id" in fields:
        _in_project(Site, fields["site_id"], project, "site_id")
    if "skill_id" in fields:
        _in_project(Skill, fields["skill_id"], project, "skill_id")
    if "depends_on_ids" in fields:
        item.depends_on = _dependencies(project, item.id, fields.pop("depends_on_ids"))
    check_item_dates(_merged(item, fields, ("earliest_on", "due_on")))
    if "ref" in fields:
        other = find_work_item(project, fields["ref"])
        if other is not None and other.id != item.id:
            raise InvalidInput.field("ref", "the project already has a work item with this ref")
    _apply(item, fields)
    db.session.expire(item, ["site", "skill"])
    return item


def delete_work_item(actor: User, item: WorkItem) -> None:
    """Remove the item; items that depended on it no longer wait for it."""
    require_lead_coordinator(actor, db.session.get(Project, item.project_id))
    db.session.delete(item)
    db.session.flush()
