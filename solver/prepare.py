"""From a Problem to the solver's core: validated input, eligible options, allowed start days.

Days are indices into `problem.working_days`. Sets of days are Python ints used as bitsets
(bit d set = day d allowed), which keeps a 90-day calendar test to a few machine operations.
Hours are scaled to integers (HOUR = 100 units) for CP-SAT; money is kept in euros here.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from .types import FACE_POLICIES, Firm, Problem, ProblemError, WorkItem

HOUR = 100  # CP-SAT works on integers: one hour is 100 units
EARTH_RADIUS_KM = 6371.0088


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    return _haversine_km(phi1, math.cos(phi1), phi2, math.cos(phi2), lon2 - lon1)


def _haversine_km(phi1: float, cos1: float, phi2: float, cos2: float, dlon: float) -> float:
    """The haversine distance from latitudes in radians with their cosines (computed once
    per firm by firms_near) and the longitude difference in degrees."""
    dphi, dlam = phi2 - phi1, math.radians(dlon)
    a = math.sin(dphi / 2) ** 2 + cos1 * cos2 * math.sin(dlam / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class Interrupted(Exception):
    """Preparing was stopped (the stop flag, or the solve's time ran out): no plan."""


CHECK_EVERY = 256  # items between two polls of the stop flag while deriving options


@dataclass(slots=True)
class Opt:
    """One way to do an item: a firm, its hours, cost and the days it may start on."""

    index: int
    item: int
    firm: int
    hours: float
    cost: float
    travel: float
    days: int
    load: int  # scaled hours used on each of its days
    starts: int  # bitset of allowed first days

    @property
    def model_hours(self) -> float:
        """Hours as the model counts them (whole hundredths), for shares and fairness."""
        return round(self.hours * HOUR) / HOUR

    @property
    def energy(self) -> int:
        return self.load * self.days

    def window(self) -> tuple[int, int]:
        """First possible day and the day after the last possible day."""
        return lowest_bit(self.starts), highest_bit(self.starts) + self.days


@dataclass
class Core:
    problem: Problem
    days: tuple[dt.date, ...]
    items: tuple[WorkItem, ...]
    firms: tuple[Firm, ...]
    item_site: list[int]
    site_ids: list[str]
    capacity: list[list[int]]  # [firm][day] scaled hours
    options: list[Opt] = field(default_factory=list)
    by_item: list[list[int]] = field(default_factory=list)
    preds: list[list[int]] = field(default_factory=list)
    succs: list[list[int]] = field(default_factory=list)
    topo: list[int] = field(default_factory=list)
    rejected: list[dict[str, list[int]]] = field(default_factory=list)  # reason -> firms
    infeasible: list[str] = field(default_factory=list)
    reference: dict[int, int] = field(default_factory=dict)  # item -> firm
    reference_start: dict[int, int] = field(default_factory=dict)
    explicit_options: bool = False
    pruned_options: int = 0
    site_items: list[list[int]] = field(default_factory=list)  # per site, its items
    by_firm: list[list[int]] = field(default_factory=list)  # per firm, its options
    # a part of a plan (solver.sites): hours the rest of the plan gives each firm (scaled),
    # and items the rest needs assigned (an assigned dependent)
    fixed_hours: list[int] = field(default_factory=list)
    required: set[int] = field(default_factory=set)

    @property
    def horizon(self) -> int:
        return len(self.days)

    def item_hours(self, item: int) -> float:
        return self.items[item].hours

    def must_assign(self) -> set[int]:
        """The items a plan must assign: the locked ones and those the rest needs."""
        locked = {lock.item for lock in self.problem.locks}
        return {i for i, item in enumerate(self.items) if item.id in locked} | self.required


def lowest_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1


def highest_bit(mask: int) -> int:
    return mask.bit_length() - 1


def bits(mask: int):
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def runs_of(ok: int, length: int) -> int:
    """Bitset of days d such that d, d+1, .., d+length-1 are all in ok."""
    starts = ok
    for shift in range(1, length):
        starts &= ok >> shift
        if not starts:
            break
    return starts


# --- validation --------------------------------------------------------------------------


def _unique(ids, what: str) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, key in enumerate(ids):
        if key in index:
            raise ProblemError(f"{what}[{position}].id", f"duplicate id {key!r}")
        index[key] = position
    return index


def validate(problem: Problem) -> None:
    """Raise ProblemError on anything the model cannot make sense of."""
    if not problem.working_days:
        raise ProblemError("working_days", "no working day")
    if list(problem.working_days) != sorted(set(problem.working_days)):
        raise ProblemError("working_days", "must be increasing, without repeats")
    if not problem.items:
        raise ProblemError("items", "no work item")
    if not problem.firms:
        raise ProblemError("firms", "no firm")
    policy = problem.policy
    if policy.face_policy not in FACE_POLICIES:
        raise ProblemError("policy.face_policy", f"one of {', '.join(FACE_POLICIES)}")
    if policy.max_firms_per_site < 1:
        raise ProblemError("policy.max_firms_per_site", "at least 1")
    for term, weight in policy.weights.as_dict().items():
        if weight < 0 or math.isnan(weight):
            raise ProblemError(f"policy.weights.{term}", "must not be negative")
    sites = _unique((s.id for s in problem.sites), "sites")
    items = _unique((i.id for i in problem.items), "items")
    firms = _unique((f.id for f in problem.firms), "firms")
    for n, site in enumerate(problem.sites):
        if not (-90 <= site.latitude <= 90 and -180 <= site.longitude <= 180):
            raise ProblemError(f"sites[{n}].latitude", "latitude/longitude out of range")
    for n, item in enumerate(problem.items):
        _validate_item(n, item, sites, items)
    for n, firm in enumerate(problem.firms):
        _validate_firm(n, firm)
    _check_skills(problem)
    for n, exclusion in enumerate(problem.exclusions):
        if exclusion.firm not in firms:
            raise ProblemError(f"exclusions[{n}].firm", f"unknown firm {exclusion.firm!r}")
        if exclusion.site is not None and exclusion.site not in sites:
            raise ProblemError(f"exclusions[{n}].site", f"unknown site {exclusion.site!r}")
    for name, entries in (("locks", problem.locks), ("reference", problem.reference)):
        for n, entry in enumerate(entries):
            if entry.item not in items:
                raise ProblemError(f"{name}[{n}].item", f"unknown item {entry.item!r}")
            if entry.firm is not None and entry.firm not in firms:
                raise ProblemError(f"{name}[{n}].firm", f"unknown firm {entry.firm!r}")
    for n, option in enumerate(problem.options or ()):
        if option.item not in items or option.firm not in firms:
            raise ProblemError(f"options[{n}]", "unknown item or firm")
        if not option.hours > 0 or math.isnan(option.cost) or option.cost < 0:
            raise ProblemError(f"options[{n}].hours", "hours must be positive, cost >= 0")
        if option.days is not None and option.days < 1:
            raise ProblemError(f"options[{n}].days", "at least 1")
    _check_acyclic(problem.items, items)


def _validate_item(n: int, item: WorkItem, sites: dict, items: dict) -> None:
    where = f"items[{n}]"
    if item.site not in sites:
        raise ProblemError(f"{where}.site", f"unknown site {item.site!r}")
    if not item.hours > 0 or math.isinf(item.hours):
        raise ProblemError(f"{where}.hours", "must be positive")
    if not 1 <= item.min_proficiency <= 5:
        raise ProblemError(f"{where}.min_proficiency", "must be 1 to 5")
    if item.crew_size < 1:
        raise ProblemError(f"{where}.crew_size", "at least 1")
    if item.earliest_on and item.due_on and item.due_on < item.earliest_on:
        raise ProblemError(f"{where}.due_on", "before earliest_on")
    for dep in item.depends_on:
        if dep not in items:
            raise ProblemError(f"{where}.depends_on", f"unknown item {dep!r}")
        if dep == item.id:
            raise ProblemError(f"{where}.depends_on", "an item cannot depend on itself")


def _validate_firm(n: int, firm: Firm) -> None:
    where = f"firms[{n}]"
    if not (-90 <= firm.latitude <= 90 and -180 <= firm.longitude <= 180):
        raise ProblemError(f"{where}.latitude", "latitude/longitude out of range")
    if firm.travel_radius_km < 0 or firm.travel_cost_per_km < 0:
        raise ProblemError(f"{where}.travel_radius_km", "radius and travel cost must be >= 0")
    if not 0 <= firm.min_share_percent <= firm.max_share_percent <= 100:
        raise ProblemError(f"{where}.min_share_percent", "need 0 <= min <= max <= 100")
    seen = set()
    for k, skill in enumerate(firm.skills):
        if not 1 <= skill.proficiency <= 5:
            raise ProblemError(f"{where}.skills[{k}].proficiency", "must be 1 to 5")
        if skill.hourly_rate < 0:
            raise ProblemError(f"{where}.skills[{k}].hourly_rate", "must be >= 0")
        if skill.skill in seen:
            raise ProblemError(f"{where}.skills[{k}].skill", "listed twice")
        seen.add(skill.skill)
    for k, slot in enumerate(firm.availability):
        if slot.end_on < slot.start_on:
            raise ProblemError(f"{where}.availability[{k}].end_on", "before start_on")
        if slot.technicians < 1 or not 0 < slot.hours_per_technician <= 24:
            raise ProblemError(f"{where}.availability[{k}]",
                               "technicians >= 1 and 0 < hours_per_technician <= 24")


def _check_skills(problem: Problem) -> None:
    """With a catalogue, every item's and firm's skill must be in it."""
    if not problem.skills:
        return
    known = set(problem.skills)
    for n, item in enumerate(problem.items):
        if item.skill not in known:
            raise ProblemError(f"items[{n}].skill", f"unknown skill {item.skill!r}")
    for n, firm in enumerate(problem.firms):
        for k, offer in enumerate(firm.skills):
            if offer.skill not in known:
                raise ProblemError(f"firms[{n}].skills[{k}].skill",
                                   f"unknown skill {offer.skill!r}")


def _check_acyclic(items, index: dict[str, int]) -> None:
    state = [0] * len(items)  # 0 new, 1 on the path, 2 done
    for root in range(len(items)):
        if state[root]:
            continue
        stack = [(root, iter(items[root].depends_on))]
        state[root] = 1
        while stack:
            node, deps = stack[-1]
            dep = next(deps, None)
            if dep is None:
                state[node] = 2
                stack.pop()
                continue
            other = index[dep]
            if state[other] == 1:
                raise ProblemError(f"items[{node}].depends_on",
                                   f"dependency cycle through {items[node].id!r}")
            if state[other] == 0:
                state[other] = 1
                stack.append((other, iter(items[other].depends_on)))


# --- calendars ---------------------------------------------------------------------------


def _day_mask(days, keep) -> int:
    mask = 0
    for d, day in enumerate(days):
        if keep(day):
            mask |= 1 << d
    return mask


def firm_calendar(firm: Firm, days) -> tuple[list[int], list[int], float]:
    """Technicians and scaled hours capacity per day, and the technicians' hours per day."""
    technicians, capacity = [0] * len(days), [0] * len(days)
    for d, day in enumerate(days):
        if day in firm.blackout_dates:
            continue
        for slot in firm.availability:
            if slot.start_on <= day <= slot.end_on:
                technicians[d] += slot.technicians
                capacity[d] += int(round(slot.technicians * slot.hours_per_technician * HOUR))
    per_tech = min((slot.hours_per_technician for slot in firm.availability), default=8.0)
    return technicians, capacity, per_tech


# --- options -----------------------------------------------------------------------------


class _Builder:
    def __init__(self, problem: Problem):
        self.problem = problem
        self.days = problem.working_days
        self.day_index = {day: d for d, day in enumerate(self.days)}
        self.sites = {site.id: site for site in problem.sites}
        self.site_pos = {site.id: n for n, site in enumerate(problem.sites)}
        self.item_pos = {item.id: n for n, item in enumerate(problem.items)}
        self.firm_pos = {firm.id: n for n, firm in enumerate(problem.firms)}
        self.site_masks = {site.id: self._site_mask(site) for site in problem.sites}
        calendars = [firm_calendar(firm, self.days) for firm in problem.firms]
        self.technicians = [c[0] for c in calendars]
        self.capacity = [c[1] for c in calendars]
        self.per_tech = [c[2] for c in calendars]
        self._crew_masks: dict[tuple[int, int], int] = {}
        self.excluded_client = {e.firm for e in problem.exclusions if e.site is None}
        self.excluded_site = {(e.firm, e.site) for e in problem.exclusions if e.site}
        self.distances: dict[tuple[str, int], float] = {}
        self._by_latitude = sorted(range(len(problem.firms)),
                                   key=lambda f: problem.firms[f].latitude)
        self._latitudes = [problem.firms[f].latitude for f in self._by_latitude]
        self._max_radius = max(f.travel_radius_km for f in problem.firms)
        self._firm_angles = [(math.radians(f.latitude), f.longitude,
                              math.cos(math.radians(f.latitude))) for f in problem.firms]
        self.peak = [max(c, default=0) for c in self.capacity]
        self._runs: dict[tuple[int, int], int] = {}

    def starts(self, item: WorkItem, window: tuple[int, int], firm: int, days: int) -> int:
        """The days a run of `days` of the firm's crew at the item's site may start on."""
        ok = self.site_masks[item.site] & self.crew_mask(firm, item.crew_size)
        key = (ok, days)
        runs = self._runs.get(key)
        if runs is None:
            runs = self._runs[key] = runs_of(ok, days)
        lo, hi = window
        return runs & ((1 << max(0, hi - days + 1)) - 1) & ~((1 << lo) - 1)

    def _site_mask(self, site) -> int:
        def keep(day):
            return (day.isoweekday() in site.access_weekdays
                    and day not in site.blackout_dates
                    and (site.ready_on is None or day >= site.ready_on))
        return _day_mask(self.days, keep)

    def crew_mask(self, firm: int, crew: int) -> int:
        key = (firm, crew)
        if key not in self._crew_masks:
            techs = self.technicians[firm]
            self._crew_masks[key] = sum(1 << d for d, n in enumerate(techs) if n >= crew)
        return self._crew_masks[key]

    def firms_near(self, site) -> list[tuple[int, float]]:
        """Firms whose radius reaches the site, with the distance: a latitude band, then a
        longitude band, then distance_km's haversine with the firm's side computed once."""
        band = self._max_radius / 110.5 + 0.01
        lo = bisect.bisect_left(self._latitudes, site.latitude - band)
        hi = bisect.bisect_right(self._latitudes, site.latitude + band)
        span = self._longitude_span(site.latitude, band)
        phi2 = math.radians(site.latitude)
        cos2 = math.cos(phi2)
        near = []
        for f in self._by_latitude[lo:hi]:
            phi1, longitude, cos1 = self._firm_angles[f]
            apart = abs(site.longitude - longitude)
            if min(apart, 360.0 - apart) > span:
                continue
            km = _haversine_km(phi1, cos1, phi2, cos2, site.longitude - longitude)
            if km <= self.problem.firms[f].travel_radius_km + 1e-9:
                near.append((f, km))
        return near

    def _longitude_span(self, latitude: float, band: float) -> float:
        """Degrees of longitude beyond which no firm within `band` degrees of latitude is
        within the largest radius: the haversine's a >= cos(phi1) cos(phi2) sin^2(dlam / 2),
        with the smallest cosine in the band."""
        if not abs(latitude) + band < 90.0:  # the band reaches a pole (or is infinite)
            return 180.0
        smallest = math.cos(math.radians(abs(latitude) + band))
        reach = math.sin((self._max_radius + 1.0) / (2 * EARTH_RADIUS_KM))
        if smallest <= reach:
            return 180.0
        return math.degrees(2 * math.asin(reach / smallest))

    def window(self, item: WorkItem) -> tuple[int, int]:
        """First allowed day and the day after the last allowed day of the item."""
        lo = 0
        if item.earliest_on:
            lo = bisect.bisect_left(self.days, item.earliest_on)
        hi = len(self.days)
        if item.due_on and self.problem.policy.due_dates_hard:
            hi = bisect.bisect_right(self.days, item.due_on)
        return lo, hi


def _option_days(hours: float, crew: int, per_tech: float) -> int:
    return max(1, math.ceil(hours / (crew * per_tech) - 1e-9))


def _derived_options(builder: _Builder, core: Core, stopped: Callable[[], bool]) -> None:
    """Options from skills, radius, exclusions and calendars; rejections kept for reasons
    (firm indices by reason; firms without the skill are not listed). Raises Interrupted
    when `stopped()` (polled every CHECK_EVERY items)."""
    problem = builder.problem
    speedup = problem.policy.speedup_per_level
    skill_firms: dict[str, list] = defaultdict(list)
    for f, firm in enumerate(problem.firms):
        for offer in firm.skills:
            skill_firms[offer.skill].append((f, offer))
    excluded_client = {builder.firm_pos[firm_id] for firm_id in builder.excluded_client}
    excluded_site = {(builder.firm_pos[firm_id], site) for firm_id, site in builder.excluded_site}
    near_cache: dict[str, dict[int, float]] = {}
    # items of a site that share a skill and a minimum proficiency share their candidates
    candidates: dict[tuple[str, str, int], tuple[dict, list]] = {}
    for i, item in enumerate(problem.items):
        if i % CHECK_EVERY == 0 and stopped():
            raise Interrupted
        key = (item.site, item.skill, item.min_proficiency)
        if key not in candidates:
            if item.site not in near_cache:
                near_cache[item.site] = dict(builder.firms_near(builder.sites[item.site]))
            candidates[key] = _candidates(near_cache[item.site], skill_firms.get(item.skill, ()),
                                          item, excluded_client, excluded_site)
        refused, eligible = candidates[key]
        rejected: dict[str, list[int]] = defaultdict(list)
        for reason, firms in refused.items():
            rejected[reason].extend(firms)
        window = builder.window(item)
        for f, offer, km in eligible:
            firm = problem.firms[f]
            factor = max(0.5, 1 - speedup * (offer.proficiency - item.min_proficiency))
            hours = item.hours * factor
            days = _option_days(hours, item.crew_size, builder.per_tech[f])
            travel = 2 * km * firm.travel_cost_per_km * days
            _add_option(builder, core, i, f, hours, hours * offer.hourly_rate + travel,
                        travel, days, rejected, window)
        # reasons in one fixed order (REJECTION_WORDS), whatever the order of the firms
        core.rejected.append({reason: rejected[reason] for reason in REJECTION_WORDS
                              if reason in rejected})


def _candidates(near: dict[int, float], offers, item: WorkItem, excluded_client: set[int],
                excluded_site: set[tuple[int, str]]) -> tuple[dict, list]:
    """For the item's site, skill and minimum proficiency: the firms refused (by reason, in
    the order of the offers) and the eligible (firm, offer, km)."""
    need = item.min_proficiency
    able = [(f, offer) for f, offer in offers if offer.proficiency >= need]
    reach = [(f, offer) for f, offer in able if f in near]
    refused = {"proficiency": [f for f, offer in offers if offer.proficiency < need],
               "radius": [f for f, _ in able if f not in near],
               "excluded": [f for f, _ in reach
                            if f in excluded_client or (f, item.site) in excluded_site]}
    out = set(refused["excluded"])
    eligible = [(f, offer, near[f]) for f, offer in reach if f not in out]
    return {reason: firms for reason, firms in refused.items() if firms}, eligible


def _explicit_options(builder: _Builder, core: Core) -> None:
    problem = builder.problem
    core.rejected = [defaultdict(list) for _ in problem.items]
    for option in problem.options:
        i, f = builder.item_pos[option.item], builder.firm_pos[option.firm]
        item = problem.items[i]
        days = option.days or _option_days(option.hours, item.crew_size, builder.per_tech[f])
        _add_option(builder, core, i, f, option.hours, option.cost, 0.0, days, core.rejected[i])


def _add_option(builder, core, i, f, hours, cost, travel, days, rejected,
                window: tuple[int, int] | None = None) -> None:
    item = core.items[i]
    starts = builder.starts(item, window or builder.window(item), f, days)
    load = math.ceil(hours * HOUR / days - 1e-9)
    if load > builder.peak[f]:
        rejected["capacity"].append(f)
        return
    if not starts:
        rejected["calendar"].append(f)
        return
    core.options.append(Opt(len(core.options), i, f, hours, cost, travel, days, load, starts))


# --- dependencies and locks --------------------------------------------------------------


def _dependencies(core: Core, item_pos: dict[str, int]) -> None:
    n = len(core.items)
    core.preds = [[item_pos[d] for d in item.depends_on] for item in core.items]
    core.succs = [[] for _ in range(n)]
    for j, preds in enumerate(core.preds):
        for i in preds:
            core.succs[i].append(j)
    indegree = [len(p) for p in core.preds]
    ready = [i for i in range(n) if indegree[i] == 0]
    order = []
    while ready:
        i = ready.pop()
        order.append(i)
        for j in core.succs[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                ready.append(j)
    core.topo = order


def _tighten_windows(core: Core) -> None:
    """Forward: an item starts after its dependencies' earliest finish. Backward: a dependency
    finishes before its dependents' latest start. Options left without a start are dropped."""
    by_item = [[core.options[k] for k in ks] for ks in core.by_item]
    for i in core.topo:
        if not core.preds[i]:
            continue
        ready = max((min((o.window()[0] + o.days for o in by_item[p]), default=core.horizon)
                     for p in core.preds[i]), default=0)
        for option in by_item[i]:
            option.starts &= ~((1 << ready) - 1)
    for i in reversed(core.topo):
        if not core.succs[i]:
            continue
        # dependents that cannot be done at all will be unassigned and constrain nothing
        starts = [max(highest_bit(o.starts) for o in by_item[j] if o.starts)
                  for j in core.succs[i] if any(o.starts for o in by_item[j])]
        if not starts:
            continue
        latest = min(starts)
        for option in by_item[i]:
            option.starts &= (1 << max(0, latest - option.days + 1)) - 1
    for i, options in enumerate(by_item):
        for option in options:
            if not option.starts:
                core.rejected[i].setdefault("dependencies", []).append(option.firm)


def _apply_locks(core: Core, builder: _Builder) -> None:
    for lock in core.problem.locks:
        i = builder.item_pos[lock.item]
        item_options = [core.options[k] for k in core.by_item[i]]
        if lock.firm is not None:
            f = builder.firm_pos[lock.firm]
            kept = [o for o in item_options if o.firm == f]
            if not kept:
                core.infeasible.append(
                    f"{lock.item} is locked to {lock.firm}, which cannot do it "
                    f"({firm_reason(core, i, f)})")
            for option in item_options:
                if option.firm != f:
                    option.starts = 0
        if lock.start_on is not None:
            d = builder.day_index.get(lock.start_on)
            for option in item_options:
                option.starts &= (1 << d) if d is not None else 0
            if not any(o.starts for o in item_options):
                core.infeasible.append(
                    f"{lock.item} is locked to start on {lock.start_on}, which is not a "
                    "possible first day for it")


def firm_reason(core: Core, i: int, f: int) -> str:
    """Why firm f has no option for item i, in words."""
    for reason, firms in core.rejected[i].items():
        if f in firms:
            return REJECTION_WORDS[reason]
    if core.explicit_options:
        return "not among the item's options"
    return REJECTION_WORDS["skill"]


REJECTION_WORDS = {
    "skill": "lacks the skill", "proficiency": "proficiency too low",
    "radius": "site outside its travel radius", "excluded": "excluded from the site or client",
    "calendar": "no run of free days in the item's window",
    "capacity": "fewer hours a day than the item needs",
    "dependencies": "no days left after the items it depends on",
}


def prepare(problem: Problem, max_options_per_item: int | None = None,
            prune_above: int = 0, stopped: Callable[[], bool] | None = None) -> Core:
    """Validate the problem and derive its options; raise ProblemError on bad input, and
    Interrupted when `stopped()` turns true while the options are derived (a 5,000-site
    problem takes seconds there). With more than `prune_above` options, keep the
    `max_options_per_item` cheapest per item."""
    stopped = stopped or (lambda: False)
    validate(problem)
    builder = _Builder(problem)
    core = Core(
        problem=problem, days=problem.working_days, items=problem.items, firms=problem.firms,
        item_site=[builder.site_pos[item.site] for item in problem.items],
        site_ids=[site.id for site in problem.sites], capacity=builder.capacity,
    )
    if problem.options is not None:
        core.explicit_options = True
        _explicit_options(builder, core)
    else:
        _derived_options(builder, core, stopped)
    core.by_item = [[] for _ in problem.items]
    for option in core.options:
        core.by_item[option.item].append(option.index)
    core.site_items = [[] for _ in core.site_ids]
    for i, site in enumerate(core.item_site):
        core.site_items[site].append(i)
    _dependencies(core, builder.item_pos)
    _apply_locks(core, builder)
    _tighten_windows(core)
    for entry in problem.reference:
        i, f = builder.item_pos[entry.item], builder.firm_pos[entry.firm]
        core.reference[i] = f
        if entry.start_on in builder.day_index:
            core.reference_start[i] = builder.day_index[entry.start_on]
    if stopped():
        raise Interrupted
    many = len(core.options) > prune_above
    _compact(core, max_options_per_item if many else None, stopped)
    return core


SITE_FIRMS_KEPT = 8  # when pruning: firms kept for every item of a site (see _site_firms)


def _site_firms(core: Core) -> dict[int, set[int]]:
    """Per site, the firms that can do most of its items, cheapest for them first: kept for
    every item of the site, so one or two firms can still take a whole site after pruning
    (the site's firm limit), instead of each item keeping a different cheapest few."""
    result = {}
    for site, items in enumerate(core.site_items):
        if len(items) < 2:
            continue
        covered: dict[int, list] = defaultdict(lambda: [0, 0.0])
        for i in items:
            for k in core.by_item[i]:
                option = core.options[k]
                if option.starts:
                    covered[option.firm][0] += 1
                    covered[option.firm][1] += option.cost
        ranked = sorted(covered, key=lambda f: (-covered[f][0], covered[f][1], f))
        result[site] = set(ranked[:SITE_FIRMS_KEPT])
    return result


def _compact(core: Core, limit: int | None, stopped: Callable[[], bool]) -> None:
    """Drop options without a start; above `limit` per item keep the firms best placed to do
    the whole site, then the cheapest (and any reference or locked firm), counting what was
    pruned. Raises Interrupted when `stopped()`."""
    keep = []
    locked = {core.problem.locks[n].item for n in range(len(core.problem.locks))}
    site_firms = _site_firms(core) if limit else {}
    for i, indices in enumerate(core.by_item):
        if i % (4 * CHECK_EVERY) == 0 and stopped():
            raise Interrupted
        options = [core.options[k] for k in indices if core.options[k].starts]
        if limit and len(options) > limit and core.items[i].id not in locked:
            options.sort(key=lambda o: (o.cost, o.firm))
            wanted = site_firms.get(core.item_site[i], set()) | {core.reference.get(i)}
            kept = [o for o in options if o.firm in wanted]
            cheapest = [o for o in options if o.firm not in wanted]
            kept += cheapest[:max(0, limit - len(kept))]
            core.pruned_options += len(options) - len(kept)
            options = sorted(kept, key=lambda o: (o.cost, o.firm))
        keep.extend(options)
    core.options = []
    core.by_item = [[] for _ in core.items]
    core.by_firm = [[] for _ in core.firms]
    for option in sorted(keep, key=lambda o: (o.item, o.firm)):
        option.index = len(core.options)
        core.options.append(option)
        core.by_item[option.item].append(option.index)
        core.by_firm[option.firm].append(option.index)
