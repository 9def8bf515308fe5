"""Two plans of a project side by side: the assignments that differ (firm, dates, assigned or
not), the key figures' deltas and, per firm, what changed for it. A partner compares only
its own slices: what it gained, lost or saw moved, its own hours and cost, never to which
firm an item went or another firm's figures."""

from __future__ import annotations

import sqlalchemy as sa

from solver.types import ProblemError

from ...access import is_lead_coordinator, partner_visible_ids
from ...errors import InvalidInput, NotFound
from ...extensions import db
from ...partners.models import User
from ...projects.models import Project
from .. import inputs, mapping
from ..models import Plan, SolveJob
from .desk import Names
from .plans import get_plan

CHANGES = ("firm", "dates", "added", "removed")  # what happened to an item from `before`


def compare_plans(actor: User, before: Plan, after: Plan) -> dict:
    """What changed from `before` to `after` (both already readable by the actor)."""
    if before.project_id != after.project_id:
        raise InvalidInput.field("with", "the two plans belong to different projects")
    project = db.session.get(Project, after.project_id)
    lead = is_lead_coordinator(actor, project)
    own = None if lead else actor.firm_id
    old = {a.work_item_id: a for a in before.assignments}
    new = {a.work_item_id: a for a in after.assignments}
    firm_ids = {a.firm_id for a in (*old.values(), *new.values()) if lead or a.firm_id == own}
    if lead:  # the firms of the reports too, those without work included
        firm_ids |= {int(row["firm"]) for plan in (before, after)
                     for row in (plan.summary or {}).get("firms", [])}
    names = Names.of(project, firm_ids)
    explanations = {int(e["item"]): e["text"]
                    for e in (after.summary or {}).get("explanations", [])} if lead else {}
    broken = _no_longer_standing(project, before, after, names) if lead else {}
    rows = []
    for item_id in sorted(set(old) | set(new), key=names.item):
        a, b = old.get(item_id), new.get(item_id)
        if own is not None:  # a partner: only what is or was its own, seen from its side
            a = a if a is not None and a.firm_id == own else None
            b = b if b is not None and b.firm_id == own else None
        change = _change(a, b)
        if change is None:
            continue
        rows.append({
            "work_item_id": item_id, "item": names.item(item_id),
            "site": names.site(names.items[item_id].site_id) if item_id in names.items else "",
            "change": change, "before": _side(a, names), "after": _side(b, names),
            "why": _why(change, broken.get(item_id), explanations.get(item_id),
                        before.version)})
    result = {"plan_id": after.id, "with_plan_id": before.id, "version": after.version,
              "with_version": before.version, "changes": rows,
              "counts": {kind: sum(r["change"] == kind for r in rows) for kind in CHANGES}}
    if lead:
        result["kpis"] = _kpis(before, after, len(old), len(new))
        result["firms"] = _firm_deltas(before, after, names)
    else:
        costs_before, costs_after = _costs(before), _costs(after)
        mine = [(a.hours, costs_before.get(a.work_item_id, 0.0)) for a in old.values()
                if a.firm_id == own]
        theirs = [(b.hours, costs_after.get(b.work_item_id, 0.0)) for b in new.values()
                  if b.firm_id == own]
        result["own"] = {
            "hours_before": round(sum(h for h, _ in mine), 2),
            "hours_after": round(sum(h for h, _ in theirs), 2),
            "cost_before": round(sum(c for _, c in mine), 2),
            "cost_after": round(sum(c for _, c in theirs), 2)}
    return result


def _why(change: str, broken: list[str] | None, explanation: str | None,
         version: int) -> str | None:
    """Why the item changed, for the lead: what of the earlier plan no longer stands under
    the inputs the later one was made with (a ban, a blackout, a firm that left), then the
    planner's reason for where it is now."""
    parts = []
    if broken:
        parts.append(f"version {version}'s placement no longer stands: " + "; ".join(broken))
    if explanation and change in ("firm", "added"):
        parts.append(f"Now: {explanation}" if parts else explanation)
    return ". ".join(parts) or None


def _no_longer_standing(project: Project, before: Plan, after: Plan, names: Names
                        ) -> dict[int, list[str]]:
    """Work item id -> what breaks when the earlier plan's placement of the item is judged
    by the checker against the project's inputs now, when the later plan was made with
    them (no reasons otherwise: the inputs it was made with are gone)."""
    now = inputs.current(project)
    if after.input_fingerprint != now.fingerprint or before.id == after.id:
        return {}
    firms = {f.id for f in now.problem.firms}
    reasons: dict[int, list[str]] = {}
    placed = []
    for entry in mapping.placed_items(before):  # a deleted item takes its assignments along
        if entry.firm in firms:
            placed.append(entry)
        else:
            reasons[int(entry.item)] = [f"{names.firm(entry.firm)} no longer takes part in "
                                        "the project"]
    try:
        judged = mapping.solver_review.review(now.problem, placed, now.core, describe=False)
    except ProblemError:
        return reasons
    for item, why in judged.not_eligible.items():
        reasons.setdefault(int(item), []).append(why)
    for v in judged.violations:
        if v.item is not None:
            reasons.setdefault(int(v.item), []).append(v.message)
    return reasons


def _change(a, b) -> str | None:
    if a is None and b is None:
        return None
    if a is None:
        return "added"
    if b is None:
        return "removed"
    if a.firm_id != b.firm_id:
        return "firm"
    if (a.start_on, a.end_on) != (b.start_on, b.end_on):
        return "dates"
    return None


def _side(a, names: Names) -> dict | None:
    if a is None:
        return None
    return {"firm_id": a.firm_id, "firm": names.firm(a.firm_id), "start_on": a.start_on,
            "end_on": a.end_on, "hours": a.hours}


def _costs(plan: Plan) -> dict[int, float]:
    """Work item id -> its cost in the plan, euros."""
    return {int(row["item"]): row["cost"]
            for row in (plan.summary or {}).get("assignments", [])}


def _kpis(before: Plan, after: Plan, assigned_before: int, assigned_after: int) -> dict:
    def figures(plan: Plan, assigned: int) -> dict:
        summary = plan.summary or {}
        return {"cost": plan.cost, "travel_cost": plan.travel_cost,
                "objective": plan.objective, "assigned": assigned,
                "unassigned": len(summary.get("unassigned", []))}
    one, two = figures(before, assigned_before), figures(after, assigned_after)
    return {key: {"before": one[key], "after": two[key],
                  "delta": None if one[key] is None or two[key] is None
                  else round(two[key] - one[key], 2)} for key in one}


def _firm_deltas(before: Plan, after: Plan, names: Names) -> list[dict]:
    rows = {}
    for side, plan in (("before", before), ("after", after)):
        for row in (plan.summary or {}).get("firms", []):
            entry = rows.setdefault(row["firm"], {"firm_id": int(row["firm"]),
                                                  "firm": names.firm(row["firm"])})
            entry[side] = {"hours": row["hours"], "share_percent": row["share_percent"],
                           "cost": row["cost"]}
    empty = {"hours": 0.0, "share_percent": 0.0, "cost": 0.0}
    out = []
    for entry in rows.values():
        one, two = entry.setdefault("before", empty), entry.setdefault("after", empty)
        entry["delta"] = {key: round(two[key] - one[key], 2) for key in empty}
        out.append(entry)
    return sorted(out, key=lambda e: e["firm"])


def previous_plan(plan: Plan, readable: sa.Select | None = None) -> Plan | None:
    """The version before this one (among those `readable`, a select of plan ids)."""
    query = sa.select(Plan).where(Plan.project_id == plan.project_id,
                                  Plan.version < plan.version)
    if readable is not None:
        query = query.where(Plan.id.in_(readable))
    return db.session.scalar(query.order_by(Plan.version.desc()).limit(1))


def base_of(actor: User, plan: Plan, other_plan_id: int | None) -> Plan:
    """The plan to compare `plan` with: `other_plan_id` when given (readable by the actor,
    else 422), else the plan its solve re-planned from, else the version before it (among
    the actor's readable plans); 422 when there is none."""
    if other_plan_id is not None:
        try:
            return get_plan(actor, other_plan_id)
        except NotFound:
            raise InvalidInput.field("with", "no such plan") from None
    project = db.session.get(Project, plan.project_id)
    base_id = db.session.scalar(sa.select(SolveJob.base_plan_id).where(
        SolveJob.plan_id == plan.id))
    if base_id is not None:
        try:
            return get_plan(actor, base_id)
        except NotFound:
            pass
    readable = None if actor.firm_id == project.lead_firm_id else partner_visible_ids(project)
    found = previous_plan(plan, readable)
    if found is None:
        raise InvalidInput.field("with", "there is no earlier plan to compare with")
    return found
