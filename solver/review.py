"""What if: a plan given item by item (firm and first day), judged by the independent checker
and described as the planner describes its own plans.

A coordinator's manual change (move an item to another firm or day), a comparison of two
plans and the ranking of the firms that could take an item all ask the same question: given
who does what from which day, which hard rules break, and what does it cost? `review`
answers it with the planner's own pieces (solver.prepare's options, solver.report's
figures, solver.rules' objective) and the checker (solver.check) as the judge, so a plan
reviewed here is judged exactly as one the planner returns.

A pair of item and firm with no option (the firm lacks the skill, is out of reach, banned,
or has no run of free days in the item's window) cannot be placed at all: it is listed in
`Review.not_eligible` with the reason in words, and the item counts as unassigned.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from . import report, rules
from .check import Violation, check
from .instance import Plan
from .prepare import Core, firm_name, firm_reason, lowest_bit, prepare
from .schedule import Placement, face_firms
from .types import (
    Assignment,
    FirmReport,
    PlannedItem,
    Problem,
    ProblemError,
    SiteReport,
    Unassigned,
)


@dataclass(frozen=True)
class Review:
    """A plan given by hand, as the checker judges it and the planner reports it."""

    assignments: tuple[Assignment, ...]
    violations: tuple[Violation, ...]  # the checker's, on every placed item
    not_eligible: dict[str, str]  # item -> why its firm cannot take it, in words
    terms: dict[str, float]  # each objective term in euros (solver.rules)
    objective: float
    firms: tuple[FirmReport, ...]
    sites: tuple[SiteReport, ...]
    unassigned: tuple[Unassigned, ...]
    face_firms: dict[str, str] = field(default_factory=dict)

    @property
    def cost(self) -> float:
        """Rates and travel in euros."""
        return round(sum(a.cost for a in self.assignments), 2)


def core_of(problem: Problem) -> Core:
    """The prepared problem a review reads (prepare once, review many times)."""
    return prepare(problem)


def option_for(core: Core, item_id: str, firm_id: str, index: _Index | None = None):
    """The firm's option for the item (its cheapest, when options are given explicitly), or
    None when it has none."""
    index = index or _Index(core)
    i, f = index.item(item_id), index.firm(firm_id)
    options = [core.options[k] for k in core.by_item[i] if core.options[k].firm == f]
    return min(options, key=lambda o: o.cents) if options else None


def start_days(core: Core, item_id: str, firm_id: str) -> tuple[dt.date, ...]:
    """The days the firm may start the item on by the calendars alone (working days, the
    site's access, the firm's crew and blackouts, the item's window); capacity and
    dependencies are the checker's to judge in the whole plan."""
    option = option_for(core, item_id, firm_id)
    if option is None:
        return ()
    return tuple(core.days[d] for d in range(core.horizon) if option.starts >> d & 1)


def first_start(core: Core, item_id: str, firm_id: str, near: dt.date | None) -> dt.date | None:
    """Of the firm's start days for the item, `near` itself, else the first after it, else
    the last before it; the first of all when `near` is None. None when there is none."""
    days = start_days(core, item_id, firm_id)
    if not days:
        return None
    if near is None:
        return days[0]
    later = [day for day in days if day >= near]
    return later[0] if later else days[-1]


def review(problem: Problem, placed: Sequence[PlannedItem], core: Core | None = None,
           describe: bool = True) -> Review:
    """Judge and describe the plan `placed` (each item once; a missing start_on: the option's
    first allowed day); without `describe`, judged and priced only (no firm, site and
    unassigned reports). Raises ProblemError for an unknown item or firm, an item placed
    twice, or a start that is not a working day."""
    core = core or core_of(problem)
    index = _Index(core)
    placement = Placement()
    not_eligible = {}
    for entry in placed:
        i = index.item(entry.item)
        if i in placement.chosen or entry.item in not_eligible:
            raise ProblemError(entry.item, "the item is placed twice")
        option = option_for(core, entry.item, entry.firm, index)
        if option is None:
            f = index.firm(entry.firm)
            not_eligible[entry.item] = (f"{firm_name(core.firms[f])} cannot take it: "
                                        f"{firm_reason(core, i, f)}")
            continue
        placement.chosen[i] = option
        placement.start[i] = (_day_index(core, entry.start_on) if entry.start_on is not None
                              else lowest_bit(option.starts) if option.starts else 0)
        if placement.start[i] + option.days > core.horizon:
            raise ProblemError("start_on", f"from {entry.start_on} the item would run "
                                           "past the project's last working day")
    faces = face_firms(core, placement)
    plan = Plan(assignments=report.assignments(core, placement),
                face_firms={core.site_ids[s]: core.firms[f].id for s, f in faces.items()},
                unassigned=tuple(item.id for i, item in enumerate(core.items)
                                 if i not in placement.chosen))
    cents = rules.plan_cents(core, placement.chosen, placement.start)
    return Review(
        assignments=plan.assignments, violations=tuple(check(problem, plan)),
        not_eligible=not_eligible, terms=rules.euros(cents),
        objective=sum(cents.values()) / rules.CENT,
        firms=report.firm_reports(core, placement) if describe else (),
        sites=report.site_reports(core, placement, faces) if describe else (),
        unassigned=report.unassigned(core, placement) if describe else (),
        face_firms=dict(plan.face_firms))


class _Index:
    """Positions of the core's items and firms by id."""

    def __init__(self, core: Core) -> None:
        self.items = {item.id: i for i, item in enumerate(core.items)}
        self.firms = {firm.id: f for f, firm in enumerate(core.firms)}

    def item(self, item_id: str) -> int:
        if item_id not in self.items:
            raise ProblemError("item", f"unknown item {item_id}")
        return self.items[item_id]

    def firm(self, firm_id: str) -> int:
        if firm_id not in self.firms:
            raise ProblemError("firm", f"unknown firm {firm_id} (it takes no part in the plan)")
        return self.firms[firm_id]


def _day_index(core: Core, day: dt.date) -> int:
    try:
        return core.days.index(day)
    except ValueError:
        raise ProblemError("start_on", f"{day} is not a working day of the project") from None


@dataclass(frozen=True)
class Candidate:
    """A firm that could take an item in a plan, and what giving it the item would do."""

    firm: str
    eligible: bool
    reason: str = ""  # why not, in words, when not eligible
    start_on: dt.date | None = None
    end_on: dt.date | None = None
    hours: float | None = None
    cost: float | None = None  # of the item with this firm, euros
    cost_delta: float | None = None  # of the whole plan, euros
    objective_delta: float | None = None
    violations: tuple[str, ...] = ()  # hard rules it would break: what else would have to move

    @property
    def fits(self) -> bool:
        return self.eligible and not self.violations


def candidates(problem: Problem, placed: Sequence[PlannedItem], item_id: str,
               core: Core | None = None) -> tuple[Candidate, ...]:
    """Every firm of the problem for the item, ranked: those that take it keeping every hard
    rule, by the plan's extra cost; then those that would break rules (by how many); then the
    ineligible, with the reason. Each is reviewed with the item moved to it (or added, when
    the plan leaves it out) from the day nearest its current start that the firm may start
    on."""
    core = core or core_of(problem)
    index = _Index(core)
    i = index.item(item_id)
    current = next((entry for entry in placed if entry.item == item_id), None)
    others = [entry for entry in placed if entry.item != item_id]
    base = review(problem, placed, core, describe=False)
    had = {(v.rule, v.message) for v in base.violations}
    found = []
    for f, firm in enumerate(core.firms):
        if firm_reason_or_none(core, i, f) is not None:
            found.append(Candidate(firm.id, False, firm_reason(core, i, f)))
            continue
        start = first_start(core, item_id, firm.id, current.start_on if current else None)
        if current is not None and firm.id == current.firm:
            start = current.start_on or start
        after = review(problem, [*others, PlannedItem(item_id, firm.id, start)], core,
                       describe=False)
        moved = next((a for a in after.assignments if a.item == item_id), None)
        caused = tuple(v.message for v in after.violations if (v.rule, v.message) not in had)
        found.append(Candidate(
            firm.id, True, start_on=moved.start_on if moved else start,
            end_on=moved.end_on if moved else None, hours=moved.hours if moved else None,
            cost=moved.cost if moved else None,
            cost_delta=round(after.cost - base.cost, 2),
            objective_delta=round(after.objective - base.objective, 2), violations=caused))
    return tuple(sorted(found, key=lambda c: (
        not c.eligible, len(c.violations), c.cost_delta if c.cost_delta is not None else 0.0,
        firm_name(core.firms[index.firm(c.firm)]))))


def firm_reason_or_none(core: Core, i: int, f: int) -> str | None:
    """Why firm f has no option for item i, or None when it has one."""
    if any(core.options[k].firm == f for k in core.by_item[i]):
        return None
    return firm_reason(core, i, f)
