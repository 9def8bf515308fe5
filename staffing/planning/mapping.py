"""The one bridge between the database and the solver: rows -> Problem, Result -> plan rows.

Solver ids are the database ids as strings. Only firms that accepted the project (and the lead
firm) and declared a capacity offer take part.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

import solver.types as st
from solver import review as solver_review
from solver.instance import problem_to_dict

from ..extensions import db
from ..partners.models import (
    Availability,
    CapacityOffer,
    Exclusion,
    Firm,
    Membership,
    OfferSkill,
)
from ..projects.models import OBJECTIVE_TERMS, Project, Site, Skill, WorkItem
from .models import Assignment, Ban, Plan

UNIT_WEIGHTS = st.Weights()
FRESH = {"populate_existing": True}  # rows as the database has them now, loaded or not


def weights_for(priorities: list[str], replan: bool = False) -> st.Weights:
    """Ranked objective terms -> weights: each listed term keeps its unit weight times 2 per
    rank below it; unlisted terms weigh 0, except coverage (never below its unit weight)
    and, in a re-plan (`replan`), stability: a re-plan moves as little as it can."""
    ranked = [term for term in priorities if term in OBJECTIVE_TERMS]
    values = {}
    for term in OBJECTIVE_TERMS:
        unit = getattr(UNIT_WEIGHTS, term)
        if term in ranked:
            values[term] = unit * 2 ** (len(ranked) - 1 - ranked.index(term))
        else:
            values[term] = 0.0
    values["coverage"] = max(values["coverage"], UNIT_WEIGHTS.coverage)
    if replan:
        values["stability"] = max(values["stability"], UNIT_WEIGHTS.stability)
    return st.Weights(**values)


def working_days(project: Project) -> tuple[dt.date, ...]:
    holidays = set(project.holidays)
    days, day = [], project.start_on
    while day <= project.end_on:
        if day.isoweekday() in project.working_weekdays and day not in holidays:
            days.append(day)
        day += dt.timedelta(days=1)
    return tuple(days)


def participating_offers(project: Project) -> list[CapacityOffer]:
    accepted = sa.select(Membership.firm_id).where(
        Membership.project_id == project.id, Membership.status == "accepted")
    query = sa.select(CapacityOffer).where(
        CapacityOffer.project_id == project.id,
        sa.or_(CapacityOffer.firm_id.in_(accepted),
               CapacityOffer.firm_id == project.lead_firm_id),
    ).options(so.selectinload(CapacityOffer.skills), so.selectinload(CapacityOffer.availability),
              so.joinedload(CapacityOffer.firm)).order_by(CapacityOffer.firm_id) \
        .execution_options(**FRESH)
    return list(db.session.scalars(query))


def _site(site: Site) -> st.Site:
    return st.Site(id=str(site.id), name=site.name, region=site.region,
                   latitude=site.latitude, longitude=site.longitude, ready_on=site.ready_on,
                   access_weekdays=frozenset(site.access_weekdays),
                   blackout_dates=frozenset(site.blackout_dates))


def _item(item: WorkItem, skill_codes: dict[int, str]) -> st.WorkItem:
    return st.WorkItem(
        id=str(item.id), site=str(item.site_id), skill=skill_codes[item.skill_id],
        hours=item.effort_hours * item.quantity, min_proficiency=item.min_proficiency,
        crew_size=item.crew_size, earliest_on=item.earliest_on, due_on=item.due_on,
        depends_on=tuple(str(dep.id) for dep in item.depends_on), kind=item.kind,
        label=f"{item.ref} {item.label}".strip())


def carried_targets(project: Project) -> dict[int, float]:
    """Fair share across plans (docs/solver.md): firm id -> its target share of hours in the
    next plan, from its share s of all hours in the plans approved so far (approved now or
    before being superseded). A firm's target is the middle m of its range moved by what it
    was short or over, 2m - s, kept within its range: a firm given less than its middle is
    aimed higher next time, one given more lower. Empty when nothing was approved yet."""
    approved = sa.select(Plan.id).where(Plan.project_id == project.id,
                                        Plan.approved_at.is_not(None))
    hours = dict(db.session.execute(
        sa.select(Assignment.firm_id, sa.func.sum(Assignment.hours))
        .where(Assignment.plan_id.in_(approved)).group_by(Assignment.firm_id)).all())
    total = sum(hours.values())
    if not total:
        return {}
    targets = {}
    for offer in participating_offers(project):
        low, high = float(offer.min_share_percent), float(offer.max_share_percent)
        share = 100 * hours.get(offer.firm_id, 0.0) / total
        targets[offer.firm_id] = round(min(high, max(low, (low + high) - share)), 3)
    return targets


def _firm(offer: CapacityOffer, skill_codes: dict[int, str],
          target: float | None = None) -> st.Firm:
    firm = offer.firm
    return st.Firm(
        id=str(firm.id), name=firm.name, latitude=firm.latitude, longitude=firm.longitude,
        skills=tuple(st.FirmSkill(skill_codes[s.skill_id], s.proficiency, float(s.hourly_rate))
                     for s in offer.skills),
        availability=tuple(st.Availability(a.start_on, a.end_on, a.technicians,
                                           a.hours_per_technician)
                           for a in offer.availability),
        travel_radius_km=offer.travel_radius_km,
        travel_cost_per_km=float(offer.travel_cost_per_km),
        blackout_dates=frozenset(offer.blackout_dates),
        min_share_percent=float(offer.min_share_percent),
        max_share_percent=float(offer.max_share_percent), target_share_percent=target)


def problem_for(project: Project, base: Plan | None = None) -> st.Problem:
    """The project as a solver problem; `base` (a previous plan) gives the locks it holds and
    the reference for stability. Every row is read from the database as it is now, also those
    the session loaded before (PostgreSQL reads each statement's own snapshot: a row loaded
    earlier in the request may be older than the rest; planning.inputs relies on this)."""
    project = db.session.scalars(sa.select(Project).where(Project.id == project.id)
                                 .execution_options(**FRESH)).one()
    skills = list(db.session.scalars(sa.select(Skill).filter_by(project_id=project.id)
                                     .execution_options(**FRESH)))
    codes = {skill.id: skill.code for skill in skills}
    sites = db.session.scalars(sa.select(Site).filter_by(project_id=project.id)
                               .order_by(Site.id).execution_options(**FRESH))
    items = db.session.scalars(sa.select(WorkItem).filter_by(project_id=project.id)
                               .options(so.selectinload(WorkItem.depends_on))
                               .order_by(WorkItem.id).execution_options(**FRESH))
    offers = participating_offers(project)
    offering = {offer.firm_id for offer in offers}
    targets = carried_targets(project) if project.carries_fair_share else {}
    exclusions = db.session.scalars(sa.select(Exclusion).filter_by(project_id=project.id)
                                    .execution_options(**FRESH))
    bans = db.session.scalars(sa.select(Ban).filter_by(project_id=project.id)
                              .order_by(Ban.work_item_id, Ban.firm_id)
                              .execution_options(**FRESH))
    locks, reference = (), ()
    if base is not None:
        # a firm that no longer takes part (it left, or withdrew its offer) keeps nothing:
        # its items move, its locks keep their dates only
        locks = tuple(
            st.Lock(item=str(a.work_item_id),
                    firm=str(a.firm_id) if a.is_firm_locked and a.firm_id in offering
                    else None,
                    start_on=a.start_on if a.is_date_locked else None)
            for a in base.assignments
            if a.is_date_locked or (a.is_firm_locked and a.firm_id in offering))
        reference = tuple(st.PlannedItem(str(a.work_item_id), str(a.firm_id), a.start_on)
                          for a in base.assignments if a.firm_id in offering)
    return st.Problem(
        working_days=working_days(project), sites=tuple(_site(s) for s in sites),
        items=tuple(_item(i, codes) for i in items),
        firms=tuple(_firm(offer, codes, targets.get(offer.firm_id)) for offer in offers),
        policy=st.Policy(max_firms_per_site=project.max_firms_per_site,
                         face_policy=project.site_face_policy,
                         weights=weights_for(project.objective_priorities,
                                             replan=base is not None)),
        # a firm barred before it offered anything is not in the problem: nothing to bar
        exclusions=tuple(st.Exclusion(str(e.firm_id), str(e.site_id) if e.site_id else None)
                         for e in exclusions if e.firm_id in offering),
        bans=tuple(st.Ban(str(b.work_item_id), str(b.firm_id)) for b in bans
                   if b.firm_id in offering),
        locks=locks, reference=reference, skills=tuple(codes.values()), name=project.name)


def _jsonable(value):
    """Dataclasses, dates and tuples as JSON values."""
    if dataclasses.is_dataclass(value):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, tuple | list | frozenset | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, float) and value != value:  # NaN
        return None
    return value


def input_fingerprint(problem: st.Problem) -> str:
    """SHA-256 of what the planner reads of the project (calendar, sites, work items, offers,
    exclusions, bans, policy), without the locks and reference of a base plan, the project's
    name and the fair-share targets (carried from approved plans): a plan whose fingerprint
    differs from the project's now is stale. A re-plan's problem (stability raised) is not
    what to fingerprint: the project's is."""
    inputs = problem_to_dict(dataclasses.replace(problem, locks=(), reference=(), name=""))
    if not inputs.get("bans"):  # as before bans existed: the plans made then stay current
        inputs.pop("bans", None)
    for firm in inputs["firms"]:  # derived from the approved plans, not an input
        firm.pop("target_share_percent", None)
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def save_plan(project: Project, problem: st.Problem, result: st.Result, author_id: int | None,
              fingerprint: str, is_stopped_early: bool = False) -> Plan:
    """Store the result as the project's next plan version (a draft), with its assignments,
    its cost in euros and its report; what the problem locked stays locked."""
    version = (db.session.scalar(sa.select(sa.func.max(Plan.version))
                                 .filter_by(project_id=project.id)) or 0) + 1
    locks = {lock.item: lock for lock in problem.locks}
    plan = Plan(project_id=project.id, version=version, status="draft", author_id=author_id,
                solver_status=result.status, objective=result.objective,
                cost=round(sum(a.cost for a in result.assignments), 2),
                travel_cost=round(sum(a.travel_cost for a in result.assignments), 2),
                input_fingerprint=fingerprint, is_stopped_early=is_stopped_early,
                summary=_summary(result))
    db.session.add(plan)
    db.session.flush()
    rows = []
    for a in result.assignments:
        lock = locks.get(a.item)
        rows.append({"plan_id": plan.id, "work_item_id": int(a.item), "firm_id": int(a.firm),
                     "start_on": a.start_on, "end_on": a.end_on, "hours": a.hours,
                     "is_firm_locked": bool(lock and lock.firm is not None),
                     "is_date_locked": bool(lock and lock.start_on is not None)})
    if rows:  # one multi-row insert: thousands of assignments in a fraction of a second
        db.session.execute(sa.insert(Assignment), rows)
    db.session.expire(plan, ["assignments"])
    return plan


def placed_items(plan: Plan, changes: dict[int, tuple[int, dt.date]] | None = None
                 ) -> tuple[st.PlannedItem, ...]:
    """The plan's assignments as the solver reads a plan given by hand; `changes` (work item
    id -> firm id, first day) replace what the plan says of those items."""
    changes = changes or {}
    placed = []
    rows = db.session.execute(  # columns, not objects: a 1,000-site plan has 3,000 rows
        sa.select(Assignment.work_item_id, Assignment.firm_id, Assignment.start_on)
        .where(Assignment.plan_id == plan.id).order_by(Assignment.id))
    for item_id, firm_id, start_on in rows:
        firm_id, start_on = changes.get(item_id, (firm_id, start_on))
        placed.append(st.PlannedItem(str(item_id), str(firm_id), start_on))
    return tuple(placed)


def review_plan(problem: st.Problem, plan: Plan,
                changes: dict[int, tuple[int, dt.date]] | None = None,
                core=None) -> solver_review.Review:
    """The plan (with `changes`) judged by the checker against `problem` (the project as it
    is now, without locks: a plan given by hand keeps its own locks by definition)."""
    return solver_review.review(problem, placed_items(plan, changes), core)


def summary_of_review(review: solver_review.Review, previous: dict | None) -> dict:
    """The stored report of a plan changed by hand: the review's figures, the planner's
    search figures of the plan it was (bound, times, stats) kept as they were; explanations
    of items whose firm changed are dropped (they described the planner's choice)."""
    data = _jsonable(review)
    previous = previous or {}
    kept = {a["item"]: a["firm"] for a in data["assignments"]}
    summary = {key: previous.get(key) for key in ("status", "bound", "gap",
                                                  "time_to_first_plan", "wall_time",
                                                  "reasons", "stats")}
    summary |= {key: data[key] for key in ("objective", "terms", "unassigned", "firms",
                                           "sites", "face_firms")}
    bound, objective = summary["bound"], summary["objective"]
    if bound is not None:  # the inputs are the plan's: its bound still holds
        summary["gap"] = max(0.0, (objective - bound) / objective) if objective > 0 else 0.0
    summary["explanations"] = [e for e in previous.get("explanations", [])
                               if kept.get(e["item"]) == e["firm"]]
    summary["assignments"] = [
        {"item": a["item"], "firm": a["firm"], "days": a["days"], "cost": a["cost"],
         "travel_cost": a["travel_cost"]} for a in data["assignments"]]
    return summary


def _summary(result: st.Result) -> dict:
    keep = ("status", "objective", "bound", "gap", "time_to_first_plan", "wall_time", "terms",
            "unassigned", "firms", "sites", "explanations", "face_firms", "reasons", "stats")
    data = _jsonable(result)
    summary = {key: data[key] for key in keep}
    summary["assignments"] = [
        {"item": a["item"], "firm": a["firm"], "days": a["days"], "cost": a["cost"],
         "travel_cost": a["travel_cost"]} for a in data["assignments"]]
    return summary


# --- instance files ----------------------------------------------------------------------


def import_problem(problem: st.Problem, lead_firm_id: int, name: str | None = None) -> Project:
    """A new project led by `lead_firm_id` from a solver instance: its calendar, skills,
    sites and work items; firms matched by name (or registered), invited as accepted
    partners with their capacity offers; exclusions. Options, locks and the reference plan
    of the file are not imported (they belong to plans, not to the project)."""
    days = problem.working_days
    weekdays = sorted({day.isoweekday() for day in days})
    all_days = {days[0] + dt.timedelta(n) for n in range((days[-1] - days[0]).days + 1)}
    holidays = sorted(d for d in all_days - set(days) if d.isoweekday() in weekdays)
    project = Project(
        lead_firm_id=lead_firm_id, name=name or problem.name or "Imported rollout",
        client_name=name or problem.name or "Imported client", start_on=days[0],
        end_on=days[-1], working_weekdays=weekdays, holidays=holidays,
        max_firms_per_site=problem.policy.max_firms_per_site,
        site_face_policy=problem.policy.face_policy)
    db.session.add(project)
    db.session.flush()
    codes = sorted(set(problem.skills) | {i.skill for i in problem.items}
                   | {s.skill for f in problem.firms for s in f.skills})
    skills = {code: Skill(project_id=project.id, code=code, name=code) for code in codes}
    db.session.add_all(skills.values())
    sites = {s.id: Site(project_id=project.id, name=s.name or s.id, region=s.region,
                        latitude=s.latitude, longitude=s.longitude, ready_on=s.ready_on,
                        access_weekdays=sorted(s.access_weekdays),
                        blackout_dates=sorted(s.blackout_dates)) for s in problem.sites}
    db.session.add_all(sites.values())
    db.session.flush()
    items = {}
    for item in problem.items:
        items[item.id] = WorkItem(
            project_id=project.id, site_id=sites[item.site].id, ref=item.id[:50],
            kind=item.kind if item.kind in ("server", "desktop_batch", "network") else "other",
            label=item.label[:200], skill=skills[item.skill], min_proficiency=item.min_proficiency,
            effort_hours=item.hours, quantity=1, crew_size=item.crew_size,
            earliest_on=item.earliest_on, due_on=item.due_on)
    for item in problem.items:
        items[item.id].depends_on = [items[dep] for dep in item.depends_on]
    db.session.add_all(items.values())
    firms = {}
    for f in problem.firms:
        firm = db.session.scalar(sa.select(Firm).filter_by(name=f.name or f.id))
        if firm is None:
            firm = Firm(name=f.name or f.id, latitude=f.latitude, longitude=f.longitude)
            db.session.add(firm)
            db.session.flush()
        firms[f.id] = firm
        if firm.id != lead_firm_id:
            db.session.add(Membership(project_id=project.id, firm_id=firm.id,
                                      status="accepted"))
        db.session.add(CapacityOffer(
            project_id=project.id, firm_id=firm.id, travel_radius_km=f.travel_radius_km,
            travel_cost_per_km=Decimal(str(round(f.travel_cost_per_km, 2))),
            min_share_percent=Decimal(str(round(f.min_share_percent, 2))),
            max_share_percent=Decimal(str(round(f.max_share_percent, 2))),
            blackout_dates=sorted(f.blackout_dates),
            skills=[OfferSkill(skill_id=skills[s.skill].id, proficiency=s.proficiency,
                               hourly_rate=Decimal(str(round(s.hourly_rate, 2))))
                    for s in f.skills],
            availability=[Availability(start_on=a.start_on, end_on=a.end_on,
                                       technicians=a.technicians,
                                       hours_per_technician=a.hours_per_technician)
                          for a in f.availability]))
    for e in problem.exclusions:
        db.session.add(Exclusion(project_id=project.id, firm_id=firms[e.firm].id,
                                 site_id=sites[e.site].id if e.site else None))
    db.session.flush()
    return project
