"""The coordinator's desk: a plan as its pages show it. Names instead of ids, figures in
euros, hours and per cent, the assignments a filter picks, and the geometry of the timeline
(an SVG drawn by the template: the CSP allows no inline style, and attributes are not style).

Lead coordinators read everything; everyone else reads their own firm's slice (the same
rule as plans.plan_view, which this builds on: never another firm's cost, hours or share).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
import sqlalchemy.orm as so

from ...access import is_lead_coordinator, partner_visible_ids
from ...extensions import db
from ...partners.models import Firm, User
from ...projects.models import Project, Site, WorkItem
from .. import mapping
from ..models import Adjustment, Assignment, Plan, SolveJob
from .plans import current_fingerprint, is_stale

MAX_BARS = 400  # bars one timeline draws; beyond, the page asks for a narrower filter
MAX_ROWS = 500  # rows of the assignments table, likewise
TIMELINE_WIDTH = 1000  # SVG user units of the days axis
ROW_HEIGHT = 22
LABEL_WIDTH = 180


@dataclass(frozen=True)
class Filters:
    """What the plan page shows: one firm, one site, one region, a span of days, and whether
    the timeline's rows are firms or sites."""

    firm_id: int | None = None
    site_id: int | None = None
    region: str | None = None
    start_on: dt.date | None = None
    end_on: dt.date | None = None
    group: str = "firm"  # firm | site

    def keeps(self, row: dict) -> bool:
        return ((self.firm_id is None or row["firm_id"] == self.firm_id)
                and (self.site_id is None or row["site_id"] == self.site_id)
                and (not self.region or row["region"] == self.region)
                and (self.start_on is None or row["end_on"] >= self.start_on)
                and (self.end_on is None or row["start_on"] <= self.end_on))


@dataclass
class Names:
    """The project's firms, sites and items by id, for words instead of ids."""

    firms: dict[int, str] = field(default_factory=dict)
    sites: dict[int, Site] = field(default_factory=dict)
    items: dict[int, WorkItem] = field(default_factory=dict)

    @classmethod
    def of(cls, project: Project, firm_ids) -> Names:
        sites = {s.id: s for s in db.session.scalars(
            sa.select(Site).filter_by(project_id=project.id))}
        items = {i.id: i for i in db.session.scalars(
            sa.select(WorkItem).filter_by(project_id=project.id)
            .options(so.selectinload(WorkItem.depends_on)))}
        firms = dict(db.session.execute(sa.select(Firm.id, Firm.name).where(
            Firm.id.in_(set(firm_ids) | {project.lead_firm_id}))).all())
        return cls(firms=firms, sites=sites, items=items)

    def firm(self, firm_id) -> str:
        return self.firms.get(int(firm_id), f"firm {firm_id}")

    def item(self, item_id) -> str:
        item = self.items.get(int(item_id))
        return f"{item.ref} {item.label}".strip() if item else f"item {item_id}"

    def site(self, site_id) -> str:
        site = self.sites.get(int(site_id))
        return site.name if site else f"site {site_id}"


def participating_firms(project: Project) -> list[Firm]:
    """The firms the planner may give work to (accepted, with a capacity offer), by name."""
    return sorted((offer.firm for offer in mapping.participating_offers(project)),
                  key=lambda firm: firm.name)


def plan_page(actor: User, plan: Plan, filters: Filters, results_only: bool = False) -> dict:
    """Everything the plan page shows to this reader; with `results_only`, only what the
    filter's results show (the timeline and the assignments: htmx swaps them in place)."""
    project = db.session.get(Project, plan.project_id)
    lead = is_lead_coordinator(actor, project)
    own = None if lead else actor.firm_id
    assignments = [a for a in plan.assignments if own is None or a.firm_id == own]
    summary = plan.summary or {}
    names = Names.of(project, {a.firm_id for a in assignments}
                     | {int(row["firm"]) for row in summary.get("firms", []) if lead})
    costs = {row["item"]: row for row in summary.get("assignments", [])}
    rows = [_row(a, names, costs.get(str(a.work_item_id), {})) for a in assignments]
    rows.sort(key=lambda r: (r["start_on"], r["site"], r["item"]))
    shown = [row for row in rows if filters.keeps(row)]
    page = {
        "project": project, "plan": plan, "lead": lead, "filters": filters, "names": names,
        "rows": shown[:MAX_ROWS], "shown_rows": len(shown), "total_rows": len(rows),
        "max_rows": MAX_ROWS,
        "timeline": timeline(project, shown[:MAX_BARS], filters, names),
        "too_many": len(shown) > MAX_BARS, "max_bars": MAX_BARS,
        "regions": sorted({s.region for s in names.sites.values() if s.region}),
        "firm_choices": sorted({(r["firm_id"], r["firm"]) for r in rows}, key=lambda f: f[1]),
        "site_choices": sorted({(r["site_id"], r["site"]) for r in rows}, key=lambda s: s[1]),
    }
    if results_only:
        return page
    firm_rows = [row for row in summary.get("firms", [])
                 if lead or row.get("firm") == str(actor.firm_id)]
    page["firms"] = [_firm_row(row, names, lead) for row in firm_rows
                     if lead or row["hours"] > 0]
    page["heatmap"] = _heatmap(page["firms"])
    page["own_cost"] = sum(r["cost"] or 0 for r in rows)
    page["own_hours"] = sum(r["hours"] for r in rows)
    base = db.session.execute(sa.select(Plan.id, Plan.version).join(
        SolveJob, SolveJob.base_plan_id == Plan.id).where(SolveJob.plan_id == plan.id)).first()
    page["base_plan_id"], page["base_version"] = base if base and lead else (None, None)
    if lead:
        page |= _lead_figures(project, plan, summary, rows, names)
    else:
        readable = partner_visible_ids(project) if actor.firm_id != project.lead_firm_id \
            else sa.select(Plan.id).where(Plan.project_id == project.id)
        page["has_earlier"] = db.session.scalar(sa.select(sa.func.count()).where(
            Plan.id.in_(readable), Plan.version < plan.version)) > 0
    return page


def assignment_row(actor: User, a: Assignment) -> tuple[dict, Names, str | None]:
    """One assignment as its page shows it, the names it needs, and (lead coordinators) the
    planner's explanation of its firm."""
    plan = a.plan
    project = db.session.get(Project, plan.project_id)
    summary = plan.summary or {}
    lead = is_lead_coordinator(actor, project)
    names = Names.of(project, {a.firm_id} | ({int(row["firm"]) for row in summary.get(
        "firms", [])} if lead else set()))
    cost = next((row for row in summary.get("assignments", [])
                 if row["item"] == str(a.work_item_id)), {})
    explanation = None
    if lead:
        explanation = next((e["text"] for e in summary.get("explanations", [])
                            if e["item"] == str(a.work_item_id)), None)
    return _row(a, names, cost), names, explanation


def _row(a: Assignment, names: Names, cost: dict) -> dict:
    item = names.items.get(a.work_item_id)
    site = names.sites.get(item.site_id) if item else None
    late = bool(item and item.due_on and a.end_on > item.due_on)
    return {"id": a.id, "item_id": a.work_item_id, "item": names.item(a.work_item_id),
            "kind": item.kind if item else "", "site_id": site.id if site else None,
            "site": site.name if site else "", "region": site.region if site else "",
            "firm_id": a.firm_id, "firm": names.firm(a.firm_id), "start_on": a.start_on,
            "end_on": a.end_on, "hours": a.hours, "cost": cost.get("cost"),
            "travel_cost": cost.get("travel_cost"), "days": len(cost.get("days", [])) or None,
            "is_firm_locked": a.is_firm_locked, "is_date_locked": a.is_date_locked,
            "late": late, "due_on": item.due_on if item else None,
            "depends_on": [dep.id for dep in item.depends_on] if item else []}


def _firm_row(row: dict, names: Names, lead: bool) -> dict:
    weeks = [{"week_start": dt.date.fromisoformat(w["week_start"]), "hours": w["hours"],
              "capacity": w["capacity"],
              "percent": round(100 * w["hours"] / w["capacity"]) if w["capacity"] else None}
             for w in row.get("weeks", [])]
    offered = sum(w["capacity"] for w in weeks)
    out = {"firm_id": int(row["firm"]), "firm": names.firm(row["firm"]), "hours": row["hours"],
           "cost": row["cost"], "travel_cost": row["travel_cost"], "visits": row["visits"],
           "weeks": weeks,
           "utilisation": round(100 * row["hours"] / offered) if offered else None}
    if lead:
        low, high = row["min_share_percent"], row["max_share_percent"]
        out |= {"share": row["share_percent"], "min_share": low, "max_share": high,
                # plans stored before targets were reported: the middle, as then
                "target": row.get("target_share_percent", (low + high) / 2),
                "outside": not (low - 0.005 <= row["share_percent"] <= high + 0.005)}
    return out


def _heatmap(firms: list[dict]) -> dict:
    """Firms x weeks of utilisation in per cent, with a shade class of ten steps each."""
    weeks = sorted({w["week_start"] for f in firms for w in f["weeks"]})
    cells = []
    for f in firms:
        by_week = {w["week_start"]: w for w in f["weeks"]}
        cells.append((f["firm"], [(by_week.get(week), _shade(by_week.get(week)))
                                  for week in weeks]))
    return {"weeks": weeks, "rows": cells}


def _shade(week: dict | None) -> str:
    if week is None or week["percent"] is None:
        return "u-none"
    return f"u{min(10, (week['percent'] + 9) // 10)}"


def _lead_figures(project: Project, plan: Plan, summary: dict, rows: list[dict],
                  names: Names) -> dict:
    sites = defaultdict(lambda: {"cost": 0.0, "travel_cost": 0.0, "hours": 0.0})
    for row in rows:
        site = sites[row["site"]]
        site["cost"] += row["cost"] or 0
        site["travel_cost"] += row["travel_cost"] or 0
        site["hours"] += row["hours"]
    site_rows = [{"site": names.site(s["site"]), "firms": [names.firm(f) for f in s["firms"]],
                  "face": names.firm(s["face_firm"]) if s.get("face_firm") else None,
                  "finish_on": s.get("finish_on"), "visits": s["visits"]}
                 for s in summary.get("sites", [])]
    unassigned = [{"item_id": int(u["item"]), "item": names.item(u["item"]),
                   "site": names.site(names.items[int(u["item"])].site_id)
                   if int(u["item"]) in names.items else "", "reasons": u["reasons"]}
                  for u in summary.get("unassigned", [])]
    explanations = {int(e["item"]): e["text"] for e in summary.get("explanations", [])}
    adjustments = db.session.scalar(sa.select(sa.func.count()).select_from(Adjustment).where(
        Adjustment.plan_id == plan.id))
    cost = plan.cost or 0.0
    travel = plan.travel_cost or 0.0
    return {
        "kpis": {"cost": cost, "travel_cost": travel, "rates": round(cost - travel, 2),
                 "objective": plan.objective, "bound": summary.get("bound"),
                 "gap": summary.get("gap"), "hours": round(sum(r["hours"] for r in rows), 2),
                 "assigned": len(rows),
                 # a plan without one (infeasible, unknown) lists no unassigned item
                 "unassigned": max(len(unassigned), len(names.items) - len(rows)),
                 "late": sum(r["late"] for r in rows),
                 "max_firms_at_a_site": max((len(s["firms"]) for s in site_rows), default=0),
                 "firms_limit": project.max_firms_per_site,
                 "locked": sum(r["is_firm_locked"] or r["is_date_locked"] for r in rows),
                 "adjustments": adjustments, "terms": summary.get("terms", {})},
        "is_stale": is_stale(plan, current_fingerprint(project)),
        "site_rows": site_rows, "unassigned": unassigned, "explanations": explanations,
        "reasons": summary.get("reasons", []),
        "site_costs": sorted(({"site": k, **{n: round(v, 2) for n, v in s.items()}}
                              for k, s in sites.items()), key=lambda s: -s["cost"]),
    }


def timeline(project: Project, rows: list[dict], filters: Filters, names: Names) -> dict:
    """Bars of the rows over their days, a row per firm (or site); dependencies as lines
    from the end of an item's bar to the start of its dependent's, where both are drawn."""
    if not rows:
        return {"bars": [], "lanes": [], "links": [], "ticks": [], "height": 0}
    first = filters.start_on or min(r["start_on"] for r in rows)
    last = filters.end_on or max(r["end_on"] for r in rows)
    first, last = max(first, project.start_on), min(last, project.end_on)
    span = max(1, (last - first).days + 1)
    scale = TIMELINE_WIDTH / span
    key = "site" if filters.group == "site" else "firm"
    lanes = sorted({r[key] for r in rows})
    # within a lane, bars that overlap in time go to rows of their own (first fit by start)
    sub_row, rows_in = {}, {}
    for lane in lanes:
        ends_at: list[dt.date] = []
        for r in sorted((r for r in rows if r[key] == lane), key=lambda r: r["start_on"]):
            n = next((k for k, end in enumerate(ends_at) if end < r["start_on"]), len(ends_at))
            ends_at[n:n + 1] = [r["end_on"]]
            sub_row[r["id"]] = n
        rows_in[lane] = max(1, len(ends_at))
    top, lane_top = 0, {}
    for lane in lanes:
        lane_top[lane] = top
        top += rows_in[lane] * ROW_HEIGHT
    bars, ends = [], {}
    for r in rows:
        start = max(r["start_on"], first)
        end = min(r["end_on"], last)
        x = LABEL_WIDTH + (start - first).days * scale
        width = max(2.0, ((end - start).days + 1) * scale - 1)
        y = lane_top[r[key]] + sub_row[r["id"]] * ROW_HEIGHT + 4
        bars.append({"row": r, "x": round(x, 1), "y": y, "width": round(width, 1),
                     "height": ROW_HEIGHT - 8,
                     "locked": r["is_firm_locked"] or r["is_date_locked"],
                     "label": f"{r['item']} at {r['site']}, {r['firm']}, "
                              f"{r['start_on']:%d %b} to {r['end_on']:%d %b}"})
        ends[r["item_id"]] = (x + width, y + (ROW_HEIGHT - 8) / 2, x, y)
    links = []
    for r in rows:
        for dep in r["depends_on"]:
            if dep in ends and r["item_id"] in ends:
                x1, y1 = ends[dep][0], ends[dep][1]
                x2, y2 = ends[r["item_id"]][2], ends[r["item_id"]][1]
                links.append({"x1": round(x1, 1), "y1": y1, "x2": round(x2, 1), "y2": y2})
    ticks, day = [], first - dt.timedelta(days=first.weekday())
    step = 7 if span <= 120 else 28
    while day <= last:
        if day >= first:
            ticks.append({"x": round(LABEL_WIDTH + (day - first).days * scale, 1),
                          "label": f"{day:%d %b}"})
        day += dt.timedelta(days=step)
    return {"bars": bars, "lanes": [{"name": lane, "y": lane_top[lane],
                                     "height": rows_in[lane] * ROW_HEIGHT}
                                    for lane in lanes],
            "links": links, "ticks": ticks, "height": top + 24,
            "width": LABEL_WIDTH + TIMELINE_WIDTH, "first": first, "last": last}
