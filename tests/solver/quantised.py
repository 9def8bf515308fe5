"""The planner's quantised arithmetic (issue 14), written out again for the tests, and tiny
random problems to try it on.

Nothing here comes from `solver/` but the dataclasses (and `check`, which the enumeration
uses as the judge of a plan): hours, days, capacity, shares and the objective are derived
below from the problem alone, by the rules of the issue:

- work in hundredths of an hour, halves up: `units = max(1, floor(H x 100 + 0.5))`, H the
  item's hours times the proficiency factor (or an explicit option's hours); a plan's
  `Assignment.hours` is `units / 100`;
- days `max(1, ceil(units / (crew x per_tech_units)))` (or the option's `days`), each day
  carrying `ceil(units / days)` units; capacity per day: the sum over the ranges covering it
  of `floor(technicians x hours_per_technician x 100 + 0.5)` (none on a blackout date);
- shares in thousandths of a percent: `min_q x total <= 100_000 x firm <= max_q x total`;
  the lead face firm: `2 x face >= site`;
- the objective in whole euro cents, term by term (`plan_cents`).

`Spec.broken(plan)` lists the rules a plan breaks by these rules; the exhaustive tests use it
to check the checker, and `check()` to judge the solver.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, replace

from solver.instance import Plan
from solver.types import (
    Assignment,
    Availability,
    Exclusion,
    Firm,
    FirmSkill,
    Lock,
    Option,
    PlannedItem,
    Policy,
    Problem,
    Result,
    Site,
    Weights,
    WorkItem,
)

STATUSES = ("optimal", "feasible", "infeasible", "unknown")  # docs/solver.md, "Results"
HOUR = 100  # units of work in an hour
SHARE = 100_000  # units of share in 100 %
EARTH_RADIUS_KM = 6371.0088
DEFAULT_PER_TECH = 800  # a firm without an availability range: 8 h a technician

Choice = tuple[str, int] | None  # (firm id, index of the first working day), or unassigned


def quantise(value: float, per_unit: int) -> int:
    """`value` in units of 1/per_unit, to the nearest, halves up."""
    return math.floor(value * per_unit + 0.5)


def work_units(hours: float) -> int:
    return max(1, quantise(hours, HOUR))


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance on the sphere of docs/solver.md."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (math.sin((phi2 - phi1) / 2) ** 2
         + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True)
class Way:
    """How a firm does an item: its work in units, days, cost in cents (rates and travel)."""

    units: int
    days: int
    cents: int
    travel: float

    @property
    def load(self) -> int:
        """Units on each day of the run."""
        return -(-self.units // self.days)


class Spec:
    """The quantised rules and objective of one problem."""

    def __init__(self, problem: Problem):
        self.problem = problem
        self.policy = problem.policy
        self.days = problem.working_days
        self.day_index = {day: n for n, day in enumerate(self.days)}
        self.items = {item.id: item for item in problem.items}
        self.sites = {site.id: site for site in problem.sites}
        self.firms = {firm.id: firm for firm in problem.firms}
        self.options = None
        if problem.options is not None:
            self.options = {(o.item, o.firm): o for o in problem.options}
        self.ways: dict[tuple[str, str], Way | None] = {
            (item.id, firm.id): self._way(item, firm)
            for item in problem.items for firm in problem.firms}
        self.capacity = {(firm.id, n): self._capacity(firm, day)
                         for firm in problem.firms for n, day in enumerate(self.days)}

    # -- how an item is done ----------------------------------------------------------------

    def _way(self, item: WorkItem, firm: Firm) -> Way | None:
        per_tech = min((quantise(a.hours_per_technician, HOUR) for a in firm.availability),
                       default=DEFAULT_PER_TECH)
        if any(ban.item == item.id and ban.firm == firm.id for ban in self.problem.bans):
            return None
        if self.options is not None:
            option = self.options.get((item.id, firm.id))
            if option is None:
                return None
            units = work_units(option.hours)
            days = option.days or max(1, -(-units // (item.crew_size * per_tech)))
            return Way(units, days, quantise(option.cost, 100), 0.0)
        offer = next((s for s in firm.skills if s.skill == item.skill), None)
        if offer is None or offer.proficiency < item.min_proficiency:
            return None
        site = self.sites[item.site]
        km = km_between(firm.latitude, firm.longitude, site.latitude, site.longitude)
        if km > firm.travel_radius_km:
            return None
        if any(e.firm == firm.id and e.site in (None, item.site)
               for e in self.problem.exclusions):
            return None
        factor = max(0.5, 1 - self.policy.speedup_per_level
                     * (offer.proficiency - item.min_proficiency))
        units = work_units(item.hours * factor)
        days = max(1, -(-units // (item.crew_size * per_tech)))
        travel = 2 * km * firm.travel_cost_per_km * days
        return Way(units, days, quantise(units / HOUR * offer.hourly_rate + travel, 100),
                   travel)

    @staticmethod
    def _capacity(firm: Firm, day: dt.date) -> int:
        if day in firm.blackout_dates:
            return 0
        return sum(quantise(a.technicians * a.hours_per_technician, HOUR)
                   for a in firm.availability if a.start_on <= day <= a.end_on)

    def way(self, item_id: str, firm_id: str) -> Way | None:
        return self.ways[item_id, firm_id]

    # -- one item on its own ----------------------------------------------------------------

    def run_ok(self, item_id: str, firm_id: str, start: int) -> bool:
        """The rules one item's run keeps or breaks on its own: an option, the days of the
        run (calendars, crew, due date) and the firm's capacity with nothing else booked."""
        way = self.way(item_id, firm_id)
        if way is None or start + way.days > len(self.days):
            return False
        item, firm = self.items[item_id], self.firms[firm_id]
        site = self.sites[item.site]
        run = self.days[start:start + way.days]
        for n, day in enumerate(run, start):
            on_duty = sum(a.technicians for a in firm.availability
                          if a.start_on <= day <= a.end_on)
            if (site.ready_on is not None and day < site.ready_on
                    or item.earliest_on is not None and day < item.earliest_on
                    or day.isoweekday() not in site.access_weekdays
                    or day in site.blackout_dates or day in firm.blackout_dates
                    or on_duty < item.crew_size or way.load > self.capacity[firm_id, n]):
                return False
        due = item.due_on
        return not (self.policy.due_dates_hard and due is not None and run[-1] > due)

    def candidates(self, item_id: str) -> list[Choice]:
        """Unassigned, or each (firm, first day) whose run keeps the one-item rules."""
        return [None] + [(f.id, s) for f in self.problem.firms
                         for s in range(len(self.days)) if self.run_ok(item_id, f.id, s)]

    # -- a whole plan -----------------------------------------------------------------------

    def site_units(self, plan: dict[str, Choice]) -> dict[str, dict[str, int]]:
        units: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for item_id, choice in plan.items():
            if choice is not None:
                units[self.items[item_id].site][choice[0]] += self.way(item_id,
                                                                       choice[0]).units
        return units

    def faces(self, plan: dict[str, Choice]) -> dict[str, str]:
        """A face firm per site with work: the one doing most of it (by units, then by the
        unrounded hours, then the first firm): it keeps the lead rule if any firm does."""
        raw: dict[tuple[str, str], float] = defaultdict(float)
        for item_id, choice in plan.items():
            if choice is not None:
                raw[self.items[item_id].site, choice[0]] += self._raw_hours(item_id, choice[0])
        order = {firm.id: n for n, firm in enumerate(self.problem.firms)}
        return {site: max(by_firm, key=lambda f, s=site: (by_firm[f], raw[s, f], -order[f]))
                for site, by_firm in self.site_units(plan).items()}

    def _raw_hours(self, item_id: str, firm_id: str) -> float:
        item, firm = self.items[item_id], self.firms[firm_id]
        if self.options is not None:
            return self.options[item_id, firm_id].hours
        offer = next(s for s in firm.skills if s.skill == item.skill)
        return item.hours * max(0.5, 1 - self.policy.speedup_per_level
                                * (offer.proficiency - item.min_proficiency))

    def broken(self, plan: dict[str, Choice], faces: dict[str, str] | None = None) -> list[str]:
        """The rules (named as in solver.check) the plan breaks; [] when it keeps them all.
        `plan` maps every item to its choice; `faces` defaults to `self.faces(plan)`."""
        broken = []
        if set(plan) != set(self.items):
            broken.append("missing")
        load: dict[tuple[str, int], int] = defaultdict(int)
        for item_id, choice in plan.items():
            if choice is None:
                continue
            firm_id, start = choice
            way = self.way(item_id, firm_id)
            if way is None:
                broken.append("option")
                continue
            if not self.run_ok(item_id, firm_id, start):
                broken.append("days")
            for n in range(start, min(start + way.days, len(self.days))):
                load[firm_id, n] += way.load
        if any(units > self.capacity[key] for key, units in load.items()):
            broken.append("capacity")
        for item_id, choice in plan.items():
            if choice is None:
                continue
            for dep in self.items[item_id].depends_on:
                before = plan.get(dep)
                if before is None or choice[1] <= before[1] + self.way(dep, before[0]).days - 1:
                    broken.append("precedence")
        faces = self.faces(plan) if faces is None else faces
        for site, by_firm in self.site_units(plan).items():
            if len(by_firm) > self.policy.max_firms_per_site:
                broken.append("max_firms")
            if self.policy.face_policy == "sole" and len(by_firm) > 1:
                broken.append("face_sole")
            if self.policy.face_policy == "lead":
                face = faces.get(site)
                if face not in by_firm or 2 * by_firm[face] < sum(by_firm.values()):
                    broken.append("face_lead")
        for lock in self.problem.locks:
            choice = plan.get(lock.item)
            if (choice is None or lock.firm is not None and choice[0] != lock.firm
                    or lock.start_on is not None and self.days[choice[1]] != lock.start_on):
                broken.append("lock")
        if self.policy.hard_shares:
            units = self.firm_units(plan)
            total = sum(units.values())
            for firm in self.problem.firms:
                low = quantise(firm.min_share_percent, SHARE // 100)
                high = quantise(firm.max_share_percent, SHARE // 100)
                if not low * total <= SHARE * units[firm.id] <= high * total:
                    broken.append("share")
        return broken

    def firm_units(self, plan: dict[str, Choice]) -> dict[str, int]:
        units = dict.fromkeys(self.firms, 0)
        for item_id, choice in plan.items():
            if choice is not None:
                units[choice[0]] += self.way(item_id, choice[0]).units
        return units

    # -- the objective ----------------------------------------------------------------------

    def plan_cents(self, plan: dict[str, Choice]) -> dict[str, int]:
        """Each objective term of the plan in whole cents."""
        w: Weights = self.policy.weights
        terms = dict.fromkeys(("coverage", "cost", "lateness", "fairness", "continuity",
                               "stability"), 0)
        reference = {r.item: r.firm for r in self.problem.reference}
        pairs = set()
        for item_id, choice in plan.items():
            item = self.items[item_id]
            if choice is None:
                terms["coverage"] += quantise(w.coverage * work_units(item.hours), 1)
            else:
                firm_id, start = choice
                way = self.way(item_id, firm_id)
                terms["cost"] += quantise(w.cost * way.cents, 1)
                end = self.days[start + way.days - 1]
                if not self.policy.due_dates_hard and item.due_on is not None:
                    late = sum(1 for day in self.days if item.due_on < day <= end)
                    terms["lateness"] += quantise(w.lateness, 100) * late
                pairs.add((item.site, firm_id))
            if item_id in reference and (choice is None or choice[0] != reference[item_id]):
                terms["stability"] += quantise(w.stability, 100)
        terms["continuity"] = quantise(w.continuity, 100) * len(pairs)
        units = self.firm_units(plan)
        total = sum(units.values())
        middles = [(f.min_share_percent + f.max_share_percent) / 2 for f in self.problem.firms]
        targets = [round(m / sum(middles) * SHARE) for m in middles]
        away = sum(-(-abs(SHARE * units[f.id] - t * total) // SHARE)
                   for f, t in zip(self.problem.firms, targets, strict=True))
        terms["fairness"] = quantise(w.fairness, 1) * away
        return terms

    def cents(self, plan: dict[str, Choice]) -> int:
        return sum(self.plan_cents(plan).values())

    # -- plans as the checker and the solver write them -------------------------------------

    def plan(self, choices: dict[str, Choice], faces: dict[str, str] | None = None) -> Plan:
        """The plan file of `choices`: hours quantised, days from the first day on."""
        assignments = []
        for item_id, choice in choices.items():
            if choice is None:
                continue
            firm_id, start = choice
            way = self.way(item_id, firm_id)
            run = self.days[start:start + way.days]
            assignments.append(Assignment(item_id, firm_id, run[0], run[-1], tuple(run),
                                          way.units / HOUR, way.cents / 100,
                                          round(way.travel, 2)))
        return Plan(assignments=tuple(assignments),
                    face_firms=self.faces(choices) if faces is None else faces,
                    unassigned=tuple(i for i, c in choices.items() if c is None))

    def choices_of(self, result: Result) -> dict[str, Choice]:
        """The (firm, first day) of every item in a solver's result."""
        choices: dict[str, Choice] = dict.fromkeys(self.items)
        for a in result.assignments:
            choices[a.item] = (a.firm, self.day_index[a.start_on])
        return choices


def result_plan(result: Result) -> Plan:
    return Plan(assignments=result.assignments, face_firms=result.face_firms,
                unassigned=tuple(u.item for u in result.unassigned))


def every_plan(spec: Spec):
    """Every plan (item -> choice) whose items each keep the one-item rules."""
    ids = list(spec.items)
    for combo in itertools.product(*(spec.candidates(i) for i in ids)):
        yield dict(zip(ids, combo, strict=True))


# --- tiny random problems ----------------------------------------------------------------

MONDAY = dt.date(2027, 3, 1)
CALENDARS = (
    (MONDAY, MONDAY + dt.timedelta(1), MONDAY + dt.timedelta(2)),  # Mon Tue Wed
    (MONDAY + dt.timedelta(3), MONDAY + dt.timedelta(4), MONDAY + dt.timedelta(7)),  # Thu Fri Mon
)
HAMBURG, ALTONA, LUEBECK, BREMEN = (53.55, 9.99), (53.55, 9.93), (53.87, 10.69), (53.07, 8.80)
SITE_PLACES = (HAMBURG, ALTONA, BREMEN)
FIRM_PLACES = (HAMBURG, LUEBECK)
RADII = (20.0, 100.0, 300.0)  # kilometres: far from every distance between the places above
SKILLS = ("desktop", "server")
EDGE_HOURS = (1.004, 0.996, 1.006, 1.002, 2.004, 3.996, 7.996, 8.004, 0.004, 1.25, 2.0, 4.0,
              1.994, 0.998)
SHARE_PAIRS = (((0, 100), (0, 100)), ((50, 50), (50, 50)), ((40, 60), (0, 100)),
               ((30, 30), (70, 70)), ((49.9, 50.1), (49.9, 50.1)), ((0, 60), (40, 100)),
               ((30, 30), (0, 100)), ((20, 80), (20, 80)), ((50, 50), (0, 100)))
HOURS_PER_TECHNICIAN = (1.5, 2.0, 2.5, 3.25, 4.0, 8.0)


class Draws:
    """A source of choices: `random.Random` for the seeded loops, or hypothesis's draw."""

    def __init__(self, rng=None, draw=None):
        self.rng, self.draw = rng, draw

    def pick(self, values):
        values = tuple(values)
        if self.draw is not None:
            from hypothesis import strategies as st
            return self.draw(st.sampled_from(values))
        return self.rng.choice(values)

    def integer(self, low: int, high: int) -> int:
        if self.draw is not None:
            from hypothesis import strategies as st
            return self.draw(st.integers(low, high))
        return self.rng.randint(low, high)

    def chance(self, p: float) -> bool:
        """True with probability about p (hypothesis: one of 20 steps)."""
        return self.integer(0, 19) < round(20 * p)


def no_half(hours: float, factors=(1.0,)) -> float:
    """Hours moved off a rounding tie: H x 100 never within 1e-6 of a half (for each
    proficiency factor), where the order of a float computation could decide the rounding."""
    while any(abs((hours * f * HOUR) % 1 - 0.5) < 1e-6 for f in factors):
        hours = round(hours + 0.001, 3)
    return hours


def three_decimals(d: Draws, low: float = 0.3, high: float = 7.0) -> float:
    if d.chance(0.5):
        return d.pick(EDGE_HOURS)
    return d.integer(round(low * 1000), round(high * 1000)) / 1000


def tiny_problem(d: Draws, max_items: int = 4) -> Problem:
    """Up to 4 items, 2 firms, 3 working days, 2 sites; fractional hours of three decimals,
    tight share ranges and capacity, locks, dependencies, due dates, every face policy."""
    days = d.pick(CALENDARS)[:d.integer(1, 3)]
    speedup = d.pick((0.05, 0.05, 0.1, 0.0))
    factors = tuple(max(0.5, 1 - speedup * k) for k in range(5))
    sites = []
    for n in range(d.integer(1, 2)):
        where = d.pick(SITE_PLACES)
        sites.append(Site(
            id=f"S{n}", latitude=where[0], longitude=where[1],
            ready_on=days[1] if len(days) > 1 and d.chance(0.15) else None,
            access_weekdays=frozenset({1, 2, 3, 5}) if d.chance(0.15) else
            frozenset({1, 2, 3, 4, 5}),
            blackout_dates=frozenset({d.pick(days)}) if d.chance(0.1) else frozenset()))
    items = []
    for n in range(d.integer(1, max_items)):
        deps = ()
        if n and d.chance(0.3):
            deps = (f"I{d.integer(0, n - 1)}",)
        items.append(WorkItem(
            id=f"I{n}", site=d.pick(s.id for s in sites), skill=d.pick(SKILLS),
            hours=no_half(three_decimals(d), factors), min_proficiency=d.integer(1, 3),
            crew_size=2 if d.chance(0.15) else 1,
            earliest_on=d.pick(days) if d.chance(0.15) else None,
            due_on=d.pick(days) if d.chance(0.3) else None, depends_on=deps))
    for n, it in enumerate(items):  # a due date never before the earliest day
        if it.earliest_on and it.due_on and it.due_on < it.earliest_on:
            items[n] = replace(it, due_on=it.earliest_on)
    shares = d.pick(SHARE_PAIRS)
    firms = []
    for n in range(1 if d.chance(0.1) else 2):
        where = d.pick(FIRM_PLACES)
        skills = tuple(FirmSkill(s, d.integer(1, 5), float(d.integer(30, 90)))
                       for s in SKILLS if d.chance(0.8) or s == "desktop")
        hpt = d.pick(HOURS_PER_TECHNICIAN)
        availability = [Availability(days[0], days[-1], d.integer(1, 2), hpt)]
        if len(days) > 1 and d.chance(0.2):  # a second range, its own hours, on later days
            availability.append(Availability(days[1], days[-1], 1,
                                             d.pick(HOURS_PER_TECHNICIAN)))
        low, high = shares[n] if len(shares) > 1 else shares[0]
        firms.append(Firm(
            id=f"F{n}", latitude=where[0], longitude=where[1], skills=skills,
            availability=tuple(availability), travel_radius_km=d.pick(RADII),
            travel_cost_per_km=d.pick((0.0, 0.3, 0.55)),
            blackout_dates=frozenset({d.pick(days)}) if d.chance(0.1) else frozenset(),
            min_share_percent=float(low), max_share_percent=float(high)))
    if len(firms) == 1:
        firms[0] = replace(firms[0], min_share_percent=0.0,
                           max_share_percent=d.pick((100.0, 100.0, 50.0)))
    options = None
    if d.chance(0.25):
        options = tuple(
            Option(it.id, f.id, no_half(three_decimals(d, 0.2, 6.0)),
                   d.integer(1000, 40000) / 100, d.pick((None, None, 1, 2)))
            for it in items for f in firms if d.chance(0.75))
    locks = []
    if d.chance(0.3):
        it = d.pick(items)
        kind = d.pick(("firm", "start", "both"))
        locks.append(Lock(it.id, firm=d.pick(f.id for f in firms) if kind != "start" else None,
                          start_on=d.pick(days) if kind != "firm" else None))
    reference = ()
    if d.chance(0.2):
        reference = (PlannedItem(d.pick(i.id for i in items), d.pick(f.id for f in firms)),)
    exclusions = ()
    if d.chance(0.1):
        exclusions = (Exclusion(d.pick(f.id for f in firms),
                                d.pick((None, sites[0].id))),)
    weights = Weights(coverage=float(d.pick((1000, 1000, 60, 10))),
                      cost=float(d.pick((1, 1, 2))),
                      lateness=float(d.pick((200, 5))),
                      fairness=float(d.pick((10, 0, 3))),
                      continuity=float(d.pick((300, 0, 20))),
                      stability=float(d.pick((500, 0, 50))))
    policy = Policy(max_firms_per_site=d.integer(1, 2),
                    face_policy=d.pick(("none", "sole", "lead")), weights=weights,
                    due_dates_hard=d.chance(0.6), speedup_per_level=speedup,
                    hard_shares=d.chance(0.85))
    return Problem(working_days=tuple(days), sites=tuple(sites), items=tuple(items),
                   firms=tuple(firms), policy=policy, exclusions=exclusions,
                   locks=tuple(locks), reference=reference, options=options)
