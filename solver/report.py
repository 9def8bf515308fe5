"""From a placement to what a coordinator reads: terms, loads, reasons and explanations."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from . import rules
from .prepare import REJECTION_WORDS, Core, item_name
from .rules import HOUR
from .schedule import Placement
from .types import (
    Assignment,
    Explanation,
    FirmReport,
    SiteReport,
    Unassigned,
    WeekLoad,
)

TERMS = rules.TERMS


def plan_terms(core: Core, placement: Placement) -> dict[str, float]:
    """Each objective term of a placement in euros (solver.rules.plan_cents)."""
    return rules.euros(rules.plan_cents(core, placement.chosen, placement.start))


def assignments(core: Core, placement: Placement) -> tuple[Assignment, ...]:
    result = []
    for i in sorted(placement.chosen):
        option, start = placement.chosen[i], placement.start[i]
        days = core.days[start:start + option.days]
        result.append(Assignment(
            item=core.items[i].id, firm=core.firms[option.firm].id, start_on=days[0],
            end_on=days[-1], days=tuple(days), hours=option.hours,
            cost=round(option.cost, 2), travel_cost=round(option.travel, 2)))
    return tuple(result)


def _names(core: Core, firms) -> str:
    ids = [core.firms[f].name or core.firms[f].id for f in firms]
    shown = ", ".join(ids[:3])
    return shown + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")


def _window_words(core: Core, option_indices) -> str:
    first = min(core.options[k].window()[0] for k in option_indices)
    end = max(core.options[k].window()[1] for k in option_indices)
    return f"{core.days[first]:%d %b} to {core.days[min(end, core.horizon) - 1]:%d %b}"


def unassigned_reasons(core: Core, placement: Placement, item: int) -> tuple[str, ...]:
    """Why an item is left out, in a coordinator's words; never a rate or another firm's
    capacity figure, only which firms and what rule."""
    it = core.items[item]
    reasons = []
    need = f"needs {it.skill} at proficiency {it.min_proficiency}"
    options = core.by_item[item]
    if placement.failed.get(item) == "dependency" or any(
            p not in placement.chosen for p in core.preds[item]):
        missing = [item_name(core, p) for p in core.preds[item] if p not in placement.chosen]
        reasons.append(f"depends on {', '.join(missing)}, which is not assigned")
    if not options:
        rejected = core.rejected[item]
        parts = [f"{len(firms)} {REJECTION_WORDS[reason]} ({_names(core, firms)})"
                 for reason, firms in rejected.items() if firms]
        if not parts:
            parts = ["no firm offers it" if not core.explicit_options
                     else "no option is given for it"]
        reasons.append(f"{need}; " + "; ".join(parts))
    elif not reasons:
        firms = sorted({core.options[k].firm for k in options})
        reasons.append(
            f"{need}; the {len(firms)} firm(s) able to do it ({_names(core, firms)}) are full "
            f"between {_window_words(core, options)}, at their maximum share, or kept out by "
            "the site's firm limit")
    for lock in core.problem.locks:
        if lock.item == it.id:
            reasons.append("it is locked, but the lock cannot be kept")
    return tuple(reasons)


def explanations(core: Core, placement: Placement) -> tuple[Explanation, ...]:
    """For each assignment: the next-best eligible firm and what choosing it would add."""
    result = []
    for i, option in sorted(placement.chosen.items()):
        others = sorted((core.options[k] for k in core.by_item[i] if k != option.index),
                        key=lambda o: o.cost)
        firm = core.firms[option.firm]
        if not others:
            result.append(Explanation(core.items[i].id, firm.id, None, None,
                                      f"{firm.name or firm.id} is the only eligible firm"))
            continue
        nxt = others[0]
        extra = round(nxt.cost - option.cost, 2)
        other = core.firms[nxt.firm]
        if extra >= 0:
            text = (f"{firm.name or firm.id} is cheapest; next best {other.name or other.id} "
                    f"would cost {extra:,.2f} EUR more")
        else:
            text = (f"{other.name or other.id} would cost {-extra:,.2f} EUR less but is full, "
                    "at its share limit or kept out by the site's firm limit")
        result.append(Explanation(core.items[i].id, firm.id, other.id, extra, text))
    return tuple(result)


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def firm_reports(core: Core, placement: Placement) -> tuple[FirmReport, ...]:
    booked = defaultdict(lambda: defaultdict(float))
    visits = defaultdict(set)
    totals = defaultdict(lambda: [0.0, 0.0, 0.0])
    for i, option in placement.chosen.items():
        start = placement.start[i]
        for d in range(start, start + option.days):
            booked[option.firm][d] += option.hours / option.days
            visits[option.firm].add((core.item_site[i], d))
        row = totals[option.firm]
        row[0] += option.hours
        row[1] += option.cost
        row[2] += option.travel
    all_hours = sum(row[0] for row in totals.values()) or 1.0
    targets = rules.share_targets(core.firms)
    reports = []
    for f, firm in enumerate(core.firms):
        weeks = defaultdict(lambda: [0.0, 0.0])
        for d, day in enumerate(core.days):
            week = weeks[_week_start(day)]
            week[0] += booked[f].get(d, 0.0)
            week[1] += core.capacity[f][d] / HOUR
        hours, cost, travel = totals[f]
        reports.append(FirmReport(
            firm=firm.id, hours=round(hours, 2), share_percent=round(100 * hours / all_hours, 2),
            min_share_percent=firm.min_share_percent, max_share_percent=firm.max_share_percent,
            cost=round(cost, 2), travel_cost=round(travel, 2), visits=len(visits[f]),
            weeks=tuple(WeekLoad(week, round(h, 2), round(c, 2))
                        for week, (h, c) in sorted(weeks.items())),
            target_share_percent=round(100 * targets[f] / rules.SHARE, 2)))
    return tuple(reports)


def site_reports(core: Core, placement: Placement,
                 faces: dict[int, int]) -> tuple[SiteReport, ...]:
    firms = defaultdict(set)
    visits = defaultdict(set)
    finish = {}
    for i, option in placement.chosen.items():
        site = core.item_site[i]
        end = placement.start[i] + option.days - 1
        firms[site].add(option.firm)
        visits[site].update((option.firm, d) for d in range(placement.start[i], end + 1))
        finish[site] = max(finish.get(site, end), end)
    return tuple(
        SiteReport(site=site_id, firms=tuple(sorted(core.firms[f].id for f in firms[s])),
                   face_firm=core.firms[faces[s]].id if s in faces else None,
                   visits=len(visits[s]),
                   finish_on=core.days[finish[s]] if s in finish else None)
        for s, site_id in enumerate(core.site_ids))


def unassigned(core: Core, placement: Placement) -> tuple[Unassigned, ...]:
    return tuple(Unassigned(core.items[i].id, unassigned_reasons(core, placement, i))
                 for i in range(len(core.items)) if i not in placement.chosen)
