"""From a Problem to the solver's core: validated input, eligible options, allowed start days.

Days are indices into `problem.working_days`. Sets of days are Python ints used as bitsets
(bit d set = day d allowed), which keeps a 90-day calendar test to a few machine operations.
Hours, money and shares are quantised here, once, to the integer units of `solver.rules`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from . import rules
from .rules import HOUR
from .types import Firm, Problem, WorkItem
from .validate import validate

EARTH_RADIUS_KM = 6371.0088


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
    """One way to do an item: a firm, its work, cost and the days it may start on. `units`
    and `cents` are what every rule judges (solver.rules); `hours` and `cost` are the same
    numbers in hours and euros, `travel` (euros) is the part of the cost for the report."""

    index: int
    item: int
    firm: int
    units: int  # work in HOUR units
    cents: int  # cost of rates and travel
    price: int  # what the cost term charges for it, in cents
    travel: float
    days: int
    load: int  # units used on each of its days
    starts: int  # bitset of allowed first days
    prefer: int = -1  # of those, the ones that leave room for every dependent (heuristics)

    @property
    def hours(self) -> float:
        return self.units / HOUR

    @property
    def cost(self) -> float:
        return self.cents / rules.CENT

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
    capacity: list[list[int]]  # [firm][day] HOUR units
    prices: rules.Prices | None = None
    item_units: list[int] = field(default_factory=list)  # per item, its work as listed
    share_ranges: list[tuple[int, int]] = field(default_factory=list)  # per firm, SHARE units
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
    checked: set = field(default_factory=set)  # plans the checker passed (outcome.violations)

    @property
    def horizon(self) -> int:
        return len(self.days)

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


# --- calendars ---------------------------------------------------------------------------


def _day_mask(days, keep) -> int:
    mask = 0
    for d, day in enumerate(days):
        if keep(day):
            mask |= 1 << d
    return mask


def firm_calendar(firm: Firm, days) -> tuple[list[int], list[int], int]:
    """Technicians and capacity (HOUR units) per day, and the units one technician gives a
    day (the smallest of its ranges; 8 h without any): each range gives its technicians x
    hours per technician, rounded to a unit."""
    technicians, capacity = [0] * len(days), [0] * len(days)
    for d, day in enumerate(days):
        technicians[d], capacity[d] = rules.firm_day(firm, day)
    return technicians, capacity, rules.technician_units(firm)


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
        self.bans: dict[int, set[int]] = {}  # item -> the firms banned from it
        for ban in problem.bans:
            self.bans.setdefault(self.item_pos[ban.item], set()).add(self.firm_pos[ban.firm])
        self._by_latitude = sorted(range(len(problem.firms)),
                                   key=lambda f: problem.firms[f].latitude)
        self._latitudes = [problem.firms[f].latitude for f in self._by_latitude]
        self._max_radius = max(rules.reach_km(f) for f in problem.firms)
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
        return _day_mask(self.days, lambda day: rules.site_open(site, day))

    def crew_mask(self, firm: int, crew: int) -> int:
        key = (firm, crew)
        if key not in self._crew_masks:
            techs = self.technicians[firm]
            self._crew_masks[key] = sum(1 << d for d, n in enumerate(techs)
                                        if rules.crew_available(n, crew))
        return self._crew_masks[key]

    def firms_near(self, site) -> list[tuple[int, float]]:
        """Firms whose radius reaches the site, with the distance: a latitude band, then a
        longitude band, then the haversine with the firm's side computed once."""
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
            if rules.within_radius(km, self.problem.firms[f]):
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
        return rules.item_window(item, self.days, self.problem.policy)


def _derived_options(builder: _Builder, core: Core, stopped: Callable[[], bool]) -> None:
    """Options from skills, radius, exclusions, bans and calendars; rejections kept for reasons
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
    proficient: dict[tuple[str, int], tuple[list, list]] = {}  # by skill and minimum
    for i, item in enumerate(problem.items):
        if i % CHECK_EVERY == 0 and stopped():
            raise Interrupted
        key = (item.site, item.skill, item.min_proficiency)
        if key not in candidates:
            if item.site not in near_cache:
                near_cache[item.site] = dict(builder.firms_near(builder.sites[item.site]))
            level = (item.skill, item.min_proficiency)
            if level not in proficient:
                proficient[level] = _proficient(skill_firms.get(item.skill, ()), item)
            candidates[key] = _candidates(near_cache[item.site], proficient[level], item,
                                          excluded_client, excluded_site)
        refused, eligible = candidates[key]
        rejected: dict[str, list[int]] = defaultdict(list)
        for reason, firms in refused.items():
            rejected[reason].extend(firms)
        if i in builder.bans:  # a ban is per item, the candidates are shared by a site's items
            eligible = _unbanned(i, eligible, builder.bans, rejected)
        window = builder.window(item)
        # the firms of an item share a few proficiencies and technician days: each work
        # and each run length computed once per item (1M options on 5,000 sites)
        units_at: dict[int, int] = {}
        days_of: dict[tuple[int, int], int] = {}
        for f, offer, km in eligible:
            firm = problem.firms[f]
            units = units_at.get(offer.proficiency)
            if units is None:
                units = units_at[offer.proficiency] = rules.option_units(
                    item, offer.proficiency, speedup)
            per_tech = builder.per_tech[f]
            days = days_of.get((units, per_tech))
            if days is None:
                days = days_of[units, per_tech] = rules.days_needed(units, item.crew_size,
                                                                    per_tech)
            cost, travel = rules.option_cents(units, offer.hourly_rate, km,
                                              firm.travel_cost_per_km, days)
            _add_option(builder, core, i, f, units, cost, travel, days, rejected, window)
        # reasons in one fixed order (REJECTION_WORDS), whatever the order of the firms
        core.rejected.append({reason: rejected[reason] for reason in REJECTION_WORDS
                              if reason in rejected})


def _proficient(offers, item: WorkItem) -> tuple[list, list]:
    """Of the offers of the item's skill, those (firm, offer) proficient enough for it, and
    the firms that are not (in the order of the offers); the rule asked once per level."""
    levels = {offer.proficiency for _, offer in offers}
    enough = {level for level in levels if rules.proficient(level, item)}
    return ([(f, offer) for f, offer in offers if offer.proficiency in enough],
            [f for f, offer in offers if offer.proficiency not in enough])


def _candidates(near: dict[int, float], proficient: tuple[list, list], item: WorkItem,
                excluded_client: set[int], excluded_site: set[tuple[int, str]]
                ) -> tuple[dict, list]:
    """For the item's site, skill and minimum proficiency: the firms refused (by reason, in
    the order of the offers) and the eligible (firm, offer, km)."""
    able, unable = proficient
    reach = [(f, offer) for f, offer in able if f in near]
    refused = {"proficiency": unable,
               "radius": [f for f, _ in able if f not in near],
               "excluded": [f for f, _ in reach
                            if rules.excluded(f, item.site, excluded_client, excluded_site)]}
    out = set(refused["excluded"])
    eligible = [(f, offer, near[f]) for f, offer in reach if f not in out]
    return {reason: firms for reason, firms in refused.items() if firms}, eligible


def _unbanned(i: int, eligible: list, bans: dict[int, set[int]],
              rejected: dict[str, list[int]]) -> list:
    """The eligible (firm, offer, km) of item i that no ban names; the banned firms are
    listed in `rejected` under "banned"."""
    out = [f for f, _, _ in eligible if rules.banned(i, f, bans)]
    if not out:
        return eligible
    rejected["banned"].extend(out)
    return [candidate for candidate in eligible if candidate[0] not in out]


def _explicit_options(builder: _Builder, core: Core) -> None:
    """The problem's own options, but none of a pair a ban names."""
    problem = builder.problem
    core.rejected = [defaultdict(list) for _ in problem.items]
    for option in problem.options:
        i, f = builder.item_pos[option.item], builder.firm_pos[option.firm]
        if rules.banned(i, f, builder.bans):
            core.rejected[i]["banned"].append(f)
            continue
        item = problem.items[i]
        units = rules.work_units(option.hours)
        days = option.days or rules.days_needed(units, item.crew_size, builder.per_tech[f])
        _add_option(builder, core, i, f, units, rules.cents(option.cost), 0.0, days,
                    core.rejected[i])


def _add_option(builder, core, i, f, units, cost, travel, days, rejected,
                window: tuple[int, int] | None = None) -> None:
    item = core.items[i]
    starts = builder.starts(item, window or builder.window(item), f, days)
    load = rules.daily_load(units, days)
    if not rules.fits(builder.peak[f], load):
        rejected["capacity"].append(f)
        return
    if not starts:
        rejected["calendar"].append(f)
        return
    core.options.append(Opt(len(core.options), i, f, units, cost, core.prices.cost(cost),
                            travel, days, load, starts))


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
    finishes before the latest start of its dependents that must be assigned (locked, or
    needed by a locked one); any other dependent may be left out instead, so it constrains
    nothing, but the heuristics prefer (Opt.prefer) the starts that leave room for every
    dependent. Options left without a start are dropped."""
    by_item = [[core.options[k] for k in ks] for ks in core.by_item]
    required = set()
    pending = [i for i, item in enumerate(core.items)
               if item.id in {lock.item for lock in core.problem.locks}]
    while pending:
        i = pending.pop()
        if i not in required:
            required.add(i)
            pending.extend(core.preds[i])
    for i in core.topo:
        if not core.preds[i]:
            continue
        # each dependency's earliest end (None: it cannot be done, nor can this item)
        ready = rules.ready_day(min((o.window()[0] + o.days for o in by_item[p] if o.starts),
                                    default=None) for p in core.preds[i])
        ready = core.horizon if ready is None else ready
        for option in by_item[i]:
            option.starts &= ~((1 << ready) - 1)
            option.prefer &= option.starts
    for i in reversed(core.topo):
        if not core.succs[i]:
            continue
        # dependents that cannot be done at all will be unassigned and constrain nothing
        for field_name, succs in (("starts", [j for j in core.succs[i] if j in required]),
                                  ("prefer", core.succs[i])):
            # each dependent's latest start (one that cannot start constrains nothing)
            starts = [max(highest_bit(getattr(o, field_name)) for o in by_item[j]
                          if getattr(o, field_name))
                      for j in succs if any(getattr(o, field_name) for o in by_item[j])]
            if not starts:
                continue
            end = rules.latest_end(starts, core.horizon)
            for option in by_item[i]:
                mask = (1 << max(0, end - option.days + 1)) - 1
                setattr(option, field_name, getattr(option, field_name) & mask)
        for option in by_item[i]:
            option.prefer &= option.starts
    for i, options in enumerate(by_item):
        for option in options:
            option.prefer &= option.starts
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
                    f"{item_name(core, i)} is locked to "
                    f"{firm_name(core.firms[f])}, which cannot do it "
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
                    f"{item_name(core, i)} is locked to start on "
                    f"{lock.start_on:%a %d %b %Y}, which is not a possible first day for it "
                    "(the site's access days, the firms' calendars and the item's dates)")


def item_name(core: Core, i: int) -> str:
    """Item i as a coordinator knows it: its label (or id) and its site's name."""
    item, site = core.items[i], core.problem.sites[core.item_site[i]]
    return f"{item.label or item.id} at {site.name or site.id}"


def firm_name(firm: Firm) -> str:
    return firm.name or firm.id


def firm_reason(core: Core, i: int, f: int) -> str:
    """Why firm f has no option for item i, in words."""
    for reason, firms in core.rejected[i].items():
        if f in firms:
            return _with_figures(core, i, f, reason)
    if core.explicit_options:
        return "not among the item's options"
    return _with_figures(core, i, f, "skill")


def _with_figures(core: Core, i: int, f: int, reason: str) -> str:
    """The rejection in words with the figures that decide it: the skill, the levels, the
    distance and the radius (the firm's own figures: for the lead's eyes, never a partner's)."""
    item, firm, words = core.items[i], core.firms[f], REJECTION_WORDS[reason]
    if reason == "skill":
        return f"{words} {item.skill}"
    if reason == "proficiency":
        level = max((s.proficiency for s in firm.skills if s.skill == item.skill), default=0)
        return f"{words}: {item.skill} at level {level}, the item needs {item.min_proficiency}"
    if reason == "radius":
        site = core.problem.sites[core.item_site[i]]
        phi1, phi2 = math.radians(firm.latitude), math.radians(site.latitude)
        km = _haversine_km(phi1, math.cos(phi1), phi2, math.cos(phi2),
                           site.longitude - firm.longitude)
        return f"{words}: {rules.beyond_radius_words(km, firm)}"
    return words


REJECTION_WORDS = {
    "skill": "lacks the skill", "proficiency": "proficiency too low",
    "radius": "site outside its travel radius", "excluded": "excluded from the site or client",
    "banned": "banned from this item",
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
        item_units=[rules.work_units(item.hours) for item in problem.items],
        share_ranges=[rules.share_range(firm) for firm in problem.firms],
    )
    core.prices = rules.Prices(problem.policy.weights, core.item_units,
                               rules.share_targets(problem.firms))
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
                    covered[option.firm][1] += option.cents
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
            options.sort(key=lambda o: (o.cents, o.firm))
            wanted = site_firms.get(core.item_site[i], set()) | {core.reference.get(i)}
            kept = [o for o in options if o.firm in wanted]
            cheapest = [o for o in options if o.firm not in wanted]
            kept += cheapest[:max(0, limit - len(kept))]
            core.pruned_options += len(options) - len(kept)
            options = sorted(kept, key=lambda o: (o.cents, o.firm))
        keep.extend(options)
    core.options = []
    core.by_item = [[] for _ in core.items]
    core.by_firm = [[] for _ in core.firms]
    for option in sorted(keep, key=lambda o: (o.item, o.firm)):
        option.index = len(core.options)
        core.options.append(option)
        core.by_item[option.item].append(option.index)
        core.by_firm[option.firm].append(option.index)
