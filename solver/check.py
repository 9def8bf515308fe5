"""An independent checker: does a plan keep every hard rule of docs/solver.md?

It shares no code with the model. Distances, hours, days and calendars are derived here again
from the problem alone, so a mistake in one is not silently repeated in the other; only
`solver.types` and the file format of `solver.instance` (itself types and stdlib) are imported.

Numbers are judged in the units of docs/solver.md ("Units"), exactly, as integers: work in
hundredths of an hour (an assignment's hours are the derived hours rounded half up to a
hundredth, at least one), each day of a run carrying its hours divided by its days rounded up to
a hundredth; capacity per availability range rounded half up to a hundredth; share limits in
thousandths of a percent, rounded half up. There is no other tolerance, except 1e-6 km on the
travel radius and 1e-6 h on reading a plan's hours.

Command line: `python -m solver.check PROBLEM.json PLAN.json` prints one violation per line, or
"no violation"; exit status 0, 1 on any violation, 2 on input it cannot read.
"""

from __future__ import annotations

import datetime as dt
import math
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from .instance import Plan, load_plan, load_problem
from .types import Assignment, Firm, Problem, ProblemError, WorkItem

EARTH_RADIUS_KM = 6371.0088
TOLERANCE = 1e-6  # km on the radius; hours (in hundredths) on reading a plan's hours
DEFAULT_HOURS_PER_TECHNICIAN = 8.0  # Availability's default, for a firm with no range at all
PER_HOUR = 100  # work is judged in hundredths of an hour
PER_PERCENT = 1000  # share limits in thousandths of a percent

RULES = (
    # 1. each item assigned once to a known firm, or listed unassigned
    "unknown_item", "unknown_firm", "duplicate", "assigned_and_unassigned", "missing",
    # 2. eligibility (derived options), or membership of the explicit options
    "skill", "proficiency", "radius", "excluded", "option",
    # 2. a ban of the firm from the item (derived and explicit options alike)
    "banned",
    # how the item is done: hours H, d consecutive working days, start and end
    "hours", "duration", "consecutive", "start_end",
    # 3. every day of the run
    "working_day", "ready_on", "earliest_on", "access_weekday", "site_blackout",
    "firm_blackout", "availability", "due_on",
    # 4.-8.
    "capacity", "precedence", "max_firms", "face_sole", "face_lead", "lock", "share",
)


@dataclass(frozen=True)
class Violation:
    rule: str  # one of RULES
    item: str | None
    firm: str | None
    site: str | None
    day: dt.date | None
    message: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass(frozen=True)
class _Placed:
    """An item's (first) assignment to a known firm and the hours it really takes."""

    assignment: Assignment
    item: WorkItem
    firm: Firm
    units: int  # hundredths of an hour as derived, or the plan's own when not derivable
    days: int | None  # d as derived, None when there is no way to derive it


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of radius EARTH_RADIUS_KM (haversine, atan2 form)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.atan2(math.sqrt(h), math.sqrt(max(0.0, 1 - h)))


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def _hundredths(hours: float) -> int:
    """Hours of work in hundredths, rounded half up, at least one."""
    return max(1, _round_half_up(hours * PER_HOUR))


def _h(units: int) -> str:
    return f"{units / PER_HOUR:g}"


class _Checker:
    def __init__(self, problem: Problem, plan: Plan):
        self.problem, self.plan = problem, plan
        self.items = {item.id: item for item in problem.items}
        self.sites = {site.id: site for site in problem.sites}
        self.firms = {firm.id: firm for firm in problem.firms}
        self.day_index = {day: n for n, day in enumerate(problem.working_days)}
        self.options = None
        if problem.options is not None:
            self.options = {(o.item, o.firm): o for o in problem.options}
        self.bans = {(ban.item, ban.firm) for ban in problem.bans}
        self.violations: list[Violation] = []

    # messages name firms, sites and items by their names (ids where they have none): a
    # coordinator reads them; the violation's fields keep the ids
    def f(self, firm_id: str) -> str:
        firm = self.firms.get(firm_id)
        return (firm.name or firm.id) if firm else firm_id

    def i(self, item_id: str) -> str:
        item = self.items.get(item_id)
        return (item.label or item.id) if item else item_id

    def s(self, site_id: str) -> str:
        site = self.sites.get(site_id)
        return (site.name or site.id) if site else site_id

    def report(self, rule: str, message: str, item: str | None = None, firm: str | None = None,
               site: str | None = None, day: dt.date | None = None) -> None:
        self.violations.append(Violation(rule, item, firm, site, day, message))

    # -- rule 1: every item once, or unassigned ---------------------------------------------

    def placements(self) -> dict[str, _Placed]:
        placed: dict[str, _Placed] = {}
        assigned: set[str] = set()
        for a in self.plan.assignments:
            if a.item not in self.items:
                self.report("unknown_item", f"assignment of unknown item {a.item}",
                            item=a.item, firm=a.firm)
                continue
            if a.item in assigned:
                self.report("duplicate", f"{self.i(a.item)} is assigned more than once",
                            item=a.item, firm=a.firm)
                continue
            assigned.add(a.item)
            if a.firm not in self.firms:
                self.report("unknown_firm",
                            f"{self.i(a.item)} is assigned to unknown firm {a.firm}",
                            item=a.item, firm=a.firm)
                continue
            placed[a.item] = self.place(a)
        listed: set[str] = set()
        for item_id in self.plan.unassigned:
            if item_id not in self.items:
                self.report("unknown_item", f"unknown item {item_id} listed unassigned",
                            item=item_id)
            elif item_id in listed:
                self.report("duplicate",
                            f"{self.i(item_id)} is listed unassigned twice", item=item_id)
            elif item_id in assigned:
                self.report("assigned_and_unassigned",
                            f"{self.i(item_id)} is assigned and listed unassigned", item=item_id)
            listed.add(item_id)
        for item in self.problem.items:
            if item.id not in assigned and item.id not in listed:
                self.report("missing",
                            f"{self.i(item.id)} is neither assigned nor listed unassigned",
                            item=item.id)
        return placed

    def place(self, a: Assignment) -> _Placed:
        item, firm = self.items[a.item], self.firms[a.firm]
        derived = self.derive(item, firm)
        if derived is None:
            return _Placed(a, item, firm, _hundredths(a.hours), None)
        return _Placed(a, item, firm, derived[0], derived[1])

    def derive(self, item: WorkItem, firm: Firm) -> tuple[int, int] | None:
        """(H in hundredths, d) of the item done by the firm, None when the firm has no way
        to do it."""
        per_technician = _round_half_up(PER_HOUR * min(
            (slot.hours_per_technician for slot in firm.availability),
            default=DEFAULT_HOURS_PER_TECHNICIAN))
        per_day = per_technician * item.crew_size
        if self.options is not None:
            option = self.options.get((item.id, firm.id))
            if option is None:
                return None
            units = _hundredths(option.hours)
            return units, option.days or _days_needed(units, per_day)
        offer = next((s for s in firm.skills if s.skill == item.skill), None)
        if offer is None or offer.proficiency < item.min_proficiency:
            return None
        levels = offer.proficiency - item.min_proficiency
        units = _hundredths(
            item.hours * max(0.5, 1 - self.problem.policy.speedup_per_level * levels))
        return units, _days_needed(units, per_day)

    # -- rule 2: eligibility ----------------------------------------------------------------

    def eligibility(self, p: _Placed) -> None:
        item, firm = p.item, p.firm
        who = {"item": item.id, "firm": firm.id, "site": item.site}
        if (item.id, firm.id) in self.bans:
            self.report("banned", f"{self.f(firm.id)} is banned from {self.i(item.id)}", **who)
        if self.options is not None:
            if (item.id, firm.id) not in self.options:
                self.report("option",
                            f"{self.f(firm.id)} is not an option for {self.i(item.id)}", **who)
            return
        offer = next((s for s in firm.skills if s.skill == item.skill), None)
        if offer is None:
            self.report("skill",
                        f"{self.f(firm.id)} does not offer {item.skill} for {self.i(item.id)}",
                        **who)
        elif offer.proficiency < item.min_proficiency:
            self.report("proficiency",
                        f"{self.f(firm.id)} has {item.skill} at {offer.proficiency}, "
                        f"{self.i(item.id)} needs {item.min_proficiency}", **who)
        site = self.sites.get(item.site)
        if site is not None:
            km = distance_km(firm.latitude, firm.longitude, site.latitude, site.longitude)
            if km > firm.travel_radius_km + TOLERANCE:
                self.report("radius",
                            f"{self.s(site.id)} is {km:.1f} km from {self.f(firm.id)}, beyond "
                            f"its radius of {firm.travel_radius_km:g} km ({self.i(item.id)})",
                            **who)
        for exclusion in self.problem.exclusions:
            if exclusion.firm == firm.id and exclusion.site in (None, item.site):
                scope = "the client" if exclusion.site is None else self.s(item.site)
                self.report("excluded",
                            f"{self.f(firm.id)} is excluded from {scope} ({self.i(item.id)})",
                            **who)
                break

    # -- how the item is done, and rule 3: every day ----------------------------------------

    def run(self, p: _Placed) -> None:
        a, item = p.assignment, p.item
        who = {"item": item.id, "firm": p.firm.id, "site": item.site}
        if p.days is not None and abs(a.hours * PER_HOUR - p.units) > TOLERANCE * PER_HOUR:
            self.report("hours",
                        f"{self.i(item.id)} takes {_h(p.units)} h with {self.f(p.firm.id)}, "
                        f"the plan says {a.hours:.10g} h", **who)
        if p.days is not None and len(a.days) != p.days:
            self.report("duration", f"{self.i(item.id)} needs {p.days} working day(s) with "
                        f"{self.f(p.firm.id)}, the plan gives {len(a.days)}", **who)
        if not a.days:
            return
        if a.start_on != a.days[0] or a.end_on != a.days[-1]:
            self.report("start_end",
                        f"{self.i(item.id)} runs {a.days[0]} to {a.days[-1]}, the plan "
                        f"says {a.start_on} to {a.end_on}", **who)
        indices = [self.day_index.get(day) for day in a.days]
        if None not in indices and indices != list(range(indices[0], indices[0] + len(a.days))):
            self.report("consecutive", f"the days of {self.i(item.id)} are not consecutive working "
                        "days", **who)
        for day in a.days:
            self.day_rules(p, day, who)
        due = item.due_on
        if self.problem.policy.due_dates_hard and due is not None and max(a.days) > due:
            self.report("due_on",
                        f"{self.i(item.id)} ends on {max(a.days)}, after its due date {due}",
                        day=max(a.days), **who)

    def day_rules(self, p: _Placed, day: dt.date, who: dict) -> None:
        item, firm, site = p.item, p.firm, self.sites.get(p.item.site)
        broken = []
        if day not in self.day_index:
            broken.append(("working_day", "is not a working day"))
        if site is not None and site.ready_on is not None and day < site.ready_on:
            broken.append(("ready_on", f"is before {self.s(site.id)} is ready on {site.ready_on}"))
        if item.earliest_on is not None and day < item.earliest_on:
            broken.append(("earliest_on", f"is before its earliest day {item.earliest_on}"))
        if site is not None and day.isoweekday() not in site.access_weekdays:
            broken.append(("access_weekday", f"is a weekday {self.s(site.id)} gives no access on"))
        if site is not None and day in site.blackout_dates:
            broken.append(("site_blackout", f"is a blackout date of {self.s(site.id)}"))
        if day in firm.blackout_dates:
            broken.append(("firm_blackout", f"is a blackout date of {self.f(firm.id)}"))
        on_duty = sum(slot.technicians for slot in firm.availability
                      if slot.start_on <= day <= slot.end_on)
        if on_duty < item.crew_size:
            broken.append(("availability", f"finds {on_duty} technician(s) of {self.f(firm.id)} on "
                           f"duty, the crew needs {item.crew_size}"))
        for rule, words in broken:
            self.report(rule, f"{day} of {self.i(item.id)} {words}", day=day, **who)

    # -- rule 4: capacity -------------------------------------------------------------------

    def capacity(self, placed: dict[str, _Placed]) -> None:
        load: dict[tuple[str, dt.date], int] = defaultdict(int)
        for p in placed.values():
            days = p.assignment.days
            for day in days:
                load[p.firm.id, day] += -(-p.units // len(days))  # per day, rounded up
        for (firm_id, day), units in sorted(load.items()):
            firm = self.firms[firm_id]
            limit = _capacity(firm, day)
            # a day without capacity is already a firm_blackout or availability violation
            if limit > 0 and units > limit:
                self.report("capacity", f"{self.f(firm_id)} runs {_h(units)} h on {day}, more than "
                            f"its {_h(limit)} h", firm=firm_id, day=day)

    # -- rule 5: precedence -----------------------------------------------------------------

    def precedence(self, placed: dict[str, _Placed]) -> None:
        for p in placed.values():
            if not p.assignment.days:
                continue
            first = min(p.assignment.days)
            for dep in p.item.depends_on:
                before = placed.get(dep)
                if before is None:
                    self.report("precedence",
                                f"{self.i(p.item.id)} depends on {self.i(dep)}, which is not "
                                "assigned", item=p.item.id, site=p.item.site)
                elif before.assignment.days and first <= max(before.assignment.days):
                    self.report("precedence", f"{self.i(p.item.id)} starts on {first}, not after "
                                f"{self.i(dep)} ends on {max(before.assignment.days)}",
                                item=p.item.id, site=p.item.site, day=first)

    # -- rule 6: sites ----------------------------------------------------------------------

    def sites_and_faces(self, placed: dict[str, _Placed]) -> None:
        policy = self.problem.policy
        hours: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for p in placed.values():
            hours[p.item.site][p.firm.id] += p.units
        for site_id, by_firm in hours.items():
            names = ", ".join(sorted(self.f(firm) for firm in by_firm))
            if len(by_firm) > policy.max_firms_per_site:
                self.report("max_firms",
                            f"{len(by_firm)} firms work at {self.s(site_id)} ({names}), "
                            f"at most {policy.max_firms_per_site} may", site=site_id)
            if policy.face_policy == "sole" and len(by_firm) > 1:
                self.report("face_sole", f"{self.s(site_id)} must have one firm, it has {names}",
                            site=site_id)
            if policy.face_policy == "lead":
                self.lead(site_id, by_firm)

    def lead(self, site_id: str, by_firm: dict[str, int]) -> None:
        face = self.plan.face_firms.get(site_id)
        total = sum(by_firm.values())
        if face is None:
            self.report("face_lead", f"{self.s(site_id)} has work but no face firm", site=site_id)
        elif face not in by_firm:
            self.report("face_lead", f"face firm {self.f(face)} does no work at {self.s(site_id)}",
                        firm=face, site=site_id)
        elif 2 * by_firm[face] < total:
            self.report("face_lead",
                        f"face firm {self.f(face)} does {_h(by_firm[face])} of the "
                        f"{_h(total)} h at {self.s(site_id)}, less than half",
                        firm=face, site=site_id)

    # -- rule 7: locks ----------------------------------------------------------------------

    def locks(self, placed: dict[str, _Placed]) -> None:
        for lock in self.problem.locks:
            p = placed.get(lock.item)
            if p is None:
                self.report("lock", f"{self.i(lock.item)} is locked but left unassigned",
                            item=lock.item)
                continue
            a = p.assignment
            if lock.firm is not None and a.firm != lock.firm:
                self.report("lock",
                            f"{self.i(lock.item)} is locked to {self.f(lock.firm)}, the plan "
                            f"gives it to {self.f(a.firm)}", item=lock.item, firm=a.firm)
            start = a.days[0] if a.days else a.start_on
            if lock.start_on is not None and start != lock.start_on:
                self.report("lock",
                            f"{self.i(lock.item)} is locked to start on {lock.start_on}, the "
                            f"plan starts it on {start}", item=lock.item, firm=a.firm,
                            day=start)

    # -- rule 8: shares ---------------------------------------------------------------------

    def shares(self, placed: dict[str, _Placed]) -> None:
        if not self.problem.policy.hard_shares:
            return
        units: dict[str, int] = defaultdict(int)
        for p in placed.values():
            units[p.firm.id] += p.units
        total = sum(units.values())
        whole = 100 * PER_PERCENT
        for firm in self.problem.firms:
            low = _round_half_up(firm.min_share_percent * PER_PERCENT)
            high = _round_half_up(firm.max_share_percent * PER_PERCENT)
            done = units[firm.id]
            if not low * total <= whole * done <= high * total:
                share = 100 * done / total if total else 0.0
                self.report("share", f"{self.f(firm.id)} does {_h(done)} of {_h(total)} h "
                            f"({share:.3f} %), outside {firm.min_share_percent:g}-"
                            f"{firm.max_share_percent:g} %", firm=firm.id)


def _days_needed(units: int, per_day: int) -> int:
    """ceil(H / (crew x h)) in hundredths, at least 1."""
    return max(1, math.ceil(units / max(1, per_day)))


def _capacity(firm: Firm, day: dt.date) -> int:
    """Hundredths of an hour the firm can work on a day: every range covering it (its
    technicians x hours, rounded half up), none on a blackout date."""
    if day in firm.blackout_dates:
        return 0
    return sum(_round_half_up(slot.technicians * slot.hours_per_technician * PER_HOUR)
               for slot in firm.availability if slot.start_on <= day <= slot.end_on)


def check(problem: Problem, plan: Plan) -> list[Violation]:
    """Every hard rule of docs/solver.md the plan breaks; an empty list when it keeps them all."""
    checker = _Checker(problem, plan)
    placed = checker.placements()
    for p in placed.values():
        checker.eligibility(p)
        checker.run(p)
    checker.capacity(placed)
    checker.precedence(placed)
    checker.sites_and_faces(placed)
    checker.locks(placed)
    checker.shares(placed)
    return checker.violations


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m solver.check PROBLEM.json PLAN.json`: 0 no violation, 1 some, 2 unreadable."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m solver.check PROBLEM.json PLAN.json", file=sys.stderr)
        return 2
    try:
        problem = load_problem(args[0])
    except (ProblemError, OSError, UnicodeDecodeError) as error:
        print(f"{args[0]}: {error}", file=sys.stderr)
        return 2
    try:
        plan = load_plan(args[1])
    except (ProblemError, OSError, UnicodeDecodeError) as error:
        print(f"{args[1]}: {error}", file=sys.stderr)
        return 2
    violations = check(problem, plan)
    for violation in violations:
        print(violation)
    if not violations:
        print("no violation")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
