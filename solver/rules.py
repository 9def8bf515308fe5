"""The rules kernel: every hard rule and every objective term of docs/solver.md, once.

Read it top to bottom: the units, then one section per hard rule, then the objective. Each
section holds the rule's arithmetic, the test the heuristics ask ("may this firm still take
this item?") and the rule's CP-SAT encoding; the CP-SAT models (the exact model, the
assignment master, the LNS and site parts), the list scheduler and its repairs and prepare's
options ask here. Not yet here: the rules' LP rows (solver.master, solver.columns,
solver.firm_patterns) and the Lagrangian's priced rows (solver.bound), which still write
the item, energy, share and site rules in their own LP form. The independent checker
(`solver.check`) implements the same documented rules on its own, sharing no code with this
module.

Units. Every number a rule compares is an integer, fixed once when the problem is prepared
(`solver.prepare`), so every part judges the same numbers (docs/solver.md, "Units"):

- work and capacity in hundredths of an hour (HOUR units), rounded half up; an option's hours
  are the input's hours times the proficiency factor, so rounded (at least one unit);
- money in euro cents (CENT), rounded half up;
- share limits and targets in thousandths of a percent (SHARE units of 100 %);
- the objective in euro cents: each term's price per unit is a whole number of cents.

A new rule: its section here (arithmetic, heuristic test, encoding), its rule in the checker,
its tests (tests/solver/test_rules.py runs every rule on the exact and the decomposed path).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from ortools.sat.python import cp_model

HOUR = 100  # units of work in one hour
CENT = 100  # cents in one euro
SHARE = 100_000  # units of share in 100 % (a thousandth of a percent each)
TERMS = ("coverage", "cost", "lateness", "fairness", "continuity", "stability")
RADIUS_TOLERANCE = 1e-6  # km: a site this far beyond a radius is within it (the checker's)


# --- units -------------------------------------------------------------------------------


def quantise(value: float, per_unit: int) -> int:
    """`value` in units of 1/per_unit, rounded to the nearest, halves up."""
    return math.floor(value * per_unit + 0.5)


def work_units(hours: float) -> int:
    """Hours of work in HOUR units: at least one unit (a positive item is never free)."""
    return max(1, quantise(hours, HOUR))


def hours_of(units: int) -> float:
    return units / HOUR


def cents(euros: float) -> int:
    return quantise(euros, CENT)


def weighted(terms: Sequence[tuple[int, object]]):
    """sum(coefficient x variable) as one CP-SAT expression (much faster than Python's sum)."""
    if not terms:
        return 0
    return cp_model.LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms])


# --- rule 1: each item once, or unassigned; locked and required items assigned ------------


def encode_one_option(cp: cp_model.CpModel, options: Sequence, unassigned, required: bool
                      ) -> None:
    """Exactly one of the item's options or its `unassigned` literal; a required item (locked,
    or needed by an assigned dependent) is assigned."""
    cp.add_exactly_one(list(options) + [unassigned])
    if required:
        cp.add(unassigned == 0)


# --- rule 2: eligibility (which options exist; solver.prepare derives them) ---------------


def proficient(offer_proficiency: int, item) -> bool:
    """The firm's proficiency in the item's skill is at least the item's minimum."""
    return offer_proficiency >= item.min_proficiency


def reach_km(firm) -> float:
    """How far from its base a firm's sites may lie (its radius, RADIUS_TOLERANCE as the
    checker's)."""
    return firm.travel_radius_km + RADIUS_TOLERANCE


def within_radius(km: float, firm) -> bool:
    """The site lies within the firm's travel radius."""
    return km <= reach_km(firm)


def excluded(firm_index: int, site_id: str, whole_client: set[int],
             by_site: set[tuple[int, str]]) -> bool:
    """An exclusion names the firm with this site, or with no site (the whole client)."""
    return firm_index in whole_client or (firm_index, site_id) in by_site


# --- rule 3: days (how an item is done, and on which days it may run) ---------------------


def option_units(item, proficiency: int, speedup: float) -> int:
    """An option's work H: the item's hours, fewer by `speedup` per proficiency level above
    the item's minimum (at most halved), in HOUR units."""
    factor = max(0.5, 1 - speedup * (proficiency - item.min_proficiency))
    return work_units(item.hours * factor)


def option_cents(units: int, hourly_rate: float, km: float, cost_per_km: float, days: int
                 ) -> tuple[int, float]:
    """An option's cost in cents (rates for its work and a return trip per visit-day) and
    its travel in euros."""
    travel = 2 * km * cost_per_km * days
    return cents(hours_of(units) * hourly_rate + travel), travel


def firm_day(firm, day) -> tuple[int, int]:
    """The firm's technicians and capacity (HOUR units) on `day`: nothing on a blackout,
    else the sum over the availability ranges covering the day, each range giving its
    technicians x hours per technician rounded to a unit."""
    technicians = units = 0
    if day not in firm.blackout_dates:
        for slot in firm.availability:
            if slot.start_on <= day <= slot.end_on:
                technicians += slot.technicians
                units += quantise(slot.technicians * slot.hours_per_technician, HOUR)
    return technicians, units


def technician_units(firm) -> int:
    """The HOUR units one of the firm's technicians gives a day: the smallest hours per
    technician of its availability ranges (8 h without any)."""
    return min((quantise(slot.hours_per_technician, HOUR) for slot in firm.availability),
               default=8 * HOUR)


def days_needed(units: int, crew: int, per_technician: int) -> int:
    """Working days an item of `units` needs with a crew whose technicians each give
    `per_technician` units a day: ceil(units / (crew x per_technician)), at least 1."""
    return max(1, -(-units // max(1, crew * per_technician)))


def daily_load(units: int, days: int) -> int:
    """Units an item of `units` run over `days` days uses on each of them (rounded up)."""
    return -(-units // days)


def crew_available(technicians: int, crew: int) -> bool:
    """A firm with `technicians` on a day can send an item's crew that day."""
    return technicians >= crew


def site_open(site, day) -> bool:
    """The site may be worked on `day`: an access weekday, no blackout, ready."""
    return (day.isoweekday() in site.access_weekdays and day not in site.blackout_dates
            and (site.ready_on is None or day >= site.ready_on))


def item_window(item, days: Sequence, policy) -> tuple[int, int]:
    """The first working day the item may use and the day after its last (earliest_on, and
    due_on when due dates are hard)."""
    lo = bisect.bisect_left(days, item.earliest_on) if item.earliest_on else 0
    hi = len(days)
    if item.due_on and policy.due_dates_hard:
        hi = bisect.bisect_right(days, item.due_on)
    return lo, hi


# --- rule 4: capacity, per firm and day ---------------------------------------------------


def fits(room: int, load: int) -> bool:
    """A day with `room` units left takes a run's daily `load`."""
    return load <= room


def run_fits(room: Sequence[int], load: int, start: int, days: int) -> bool:
    """Every day of the run from `start` has room for its daily load."""
    return all(fits(room[d], load) for d in range(start, start + days))


def last_full_day(room: Sequence[int], load: int, start: int, days: int) -> int | None:
    """The run's last day without room for its load, or None when every day has room."""
    return next((d for d in range(start + days - 1, start - 1, -1) if not fits(room[d], load)),
                None)


def encode_item_run(cp: cp_model.CpModel, start, end, option_start, days: int, chosen
                    ) -> None:
    """The item's run is its chosen option's: from `option_start` for `days` working days."""
    cp.add(start == option_start).only_enforce_if(chosen)
    cp.add(end == option_start + days).only_enforce_if(chosen)


def encode_daily_capacity(cp: cp_model.CpModel, runs: Sequence[tuple[object, int]],
                          capacity: Sequence[int], name: str) -> None:
    """The firm's optional runs (interval, daily load) fit its capacity on every day: one
    cumulative at the peak, with fixed blockers taking the difference on lower days."""
    peak = max(capacity)
    blockers = [(cp.new_fixed_size_interval_var(d, 1, f"off[{name},{d}]"), peak - capacity[d])
                for d in range(len(capacity)) if capacity[d] < peak]
    if sum(load for _, load in runs) > min(capacity) or blockers:
        cp.add_cumulative([r for r, _ in runs] + [b for b, _ in blockers],
                          [load for _, load in runs] + [load for _, load in blockers], peak)


def energy_windows(core, forbidden: set[int] = frozenset()):
    """Capacity relaxed to energy (a valid relaxation): (firm, [(option, energy)], units
    available) for every window of days worth a constraint: the whole horizon, and each prefix
    and suffix ending at a cut day (every fifth day). An option lies inside a window when every
    day it may use does."""
    horizon = core.horizon
    cuts = sorted(set(range(5, horizon, 5)))
    per_firm = defaultdict(list)
    for option in core.options:
        if option.index not in forbidden:
            per_firm[option.firm].append(option)
    for f, options in sorted(per_firm.items()):
        prefix = [0]
        for units in core.capacity[f]:
            prefix.append(prefix[-1] + units)
        windows = [(0, horizon)] + [(0, c) for c in cuts] + [(c, horizon) for c in cuts]
        spans = [(option, option.window()) for option in options]
        for lo, hi in windows:
            inside = [(option.index, option.energy) for option, (first, end) in spans
                      if first >= lo and end <= hi]
            available = prefix[hi] - prefix[lo]
            if inside and sum(e for _, e in inside) > available:
                yield f, inside, available


def encode_energy(cp: cp_model.CpModel, terms: Sequence[tuple[int, object]], available: int
                  ) -> None:
    """The energy of the chosen options inside a window fits what the window has left."""
    if sum(e for e, _ in terms) > available:
        cp.add(weighted(terms) <= available)


# --- rule 5: precedence -------------------------------------------------------------------


def ready_day(pred_ends: Iterable[int | None]) -> int | None:
    """The first day an item may start: after every dependency ends (None: a dependency is
    unassigned, so the item must be unassigned too)."""
    ready = 0
    for end in pred_ends:
        if end is None:
            return None
        ready = max(ready, end)
    return ready


def precedes(end: int, start: int) -> bool:
    """A run ending before day `end` (exclusive) may come before one starting on `start`."""
    return end <= start


def dependencies_assigned(preds: Iterable[int], assigned) -> bool:
    """An item may be assigned only when every item it depends on is (`assigned`: the
    assigned items, a set or a mapping)."""
    return all(p in assigned for p in preds)


def latest_end(dependent_starts: Iterable[int], horizon: int) -> int:
    """The day after the last day an item may use: its assigned dependents' first start."""
    return min(dependent_starts, default=horizon)


def encode_needs_dependency(cp: cp_model.CpModel, pred_unassigned, unassigned) -> None:
    """An item whose dependency is unassigned is unassigned (`pred_unassigned` a literal, or
    True or False for a dependency the rest of a plan fixes)."""
    if pred_unassigned is True:
        cp.add(unassigned == 1)
    elif pred_unassigned is not False:
        cp.add_implication(pred_unassigned, unassigned)


def encode_precedence(cp: cp_model.CpModel, start, pred_end, assigned) -> None:
    """An assigned item starts on or after the day its dependency's run ends."""
    cp.add(start >= pred_end).only_enforce_if(assigned)


# --- rule 6: sites (firms per site, the face firm) ----------------------------------------


def firms_per_site(policy) -> int:
    """The most firms that may work at one site: one under the sole-firm face policy, else
    the policy's max_firms_per_site."""
    return 1 if policy.face_policy == "sole" else policy.max_firms_per_site


def site_full(firms_there: Iterable[int], limit: int) -> bool:
    """No new firm may come to a site whose work is done by `firms_there`."""
    return len(set(firms_there)) >= limit


def site_admits(firms_there: Iterable[int], firm: int, limit: int) -> bool:
    """A site whose work is done by `firms_there` may take work of `firm`."""
    firms_there = set(firms_there)
    return firm in firms_there or not site_full(firms_there, limit)


def encode_works_at(cp: cp_model.CpModel, works, options: Sequence) -> None:
    """`works` (the firm works at the site) is true exactly when one of its options there is."""
    for var in options:
        cp.add_implication(var, works)
    cp.add_bool_or(list(options)).only_enforce_if(works)


def encode_site_firms(cp: cp_model.CpModel, works: Sequence, limit: int) -> None:
    """At most `limit` of the site's firms work there (`limit` less the firms the fixed rest
    of a plan has there, for a part of a plan)."""
    if len(works) > limit:
        cp.add(cp_model.LinearExpr.sum(list(works)) <= limit)


def lead_face(policy) -> bool:
    """Whether sites need a face firm with half of their hours (the lead policy)."""
    return policy.face_policy == "lead"


def face_firm(units_by_firm: dict[int, int]) -> int:
    """The firm facing the client at a site: the one with the most hours there (the lowest
    index among equals); under the lead policy it must have half of them (face_holds)."""
    return max(units_by_firm.items(), key=lambda kv: (kv[1], -kv[0]))[0]


def face_holds(face_units: int, site_units: int) -> bool:
    """Lead policy: the face firm does at least half of the site's hours."""
    return 2 * face_units >= site_units


def encode_face(cp: cp_model.CpModel, site_units, firms: Sequence[tuple[object, object,
                                                                            object]]) -> None:
    """Lead policy, one site: `firms` as (faces, works, its units there); one face firm,
    among those that work there, whenever any does, with half of the site's units."""
    faces = []
    for face, works, units in firms:
        cp.add_implication(face, works)
        cp.add(face_holds(units, site_units)).only_enforce_if(face)
        faces.append(face)
    cp.add_at_most_one(faces)
    for _, works, _ in firms:
        cp.add_bool_or(faces).only_enforce_if(works)


# --- rule 7: locks (solver.prepare turns each lock into the item's options and starts) -----


# --- rule 8: shares -----------------------------------------------------------------------


def share_range(firm) -> tuple[int, int]:
    """A firm's share limits in SHARE units."""
    return (quantise(firm.min_share_percent, SHARE // 100),
            quantise(firm.max_share_percent, SHARE // 100))


def shares_hard(policy) -> bool:
    """Whether the share ranges are hard rules (else only fairness counts them)."""
    return policy.hard_shares


def share_fraction(share: int) -> float:
    """A share in SHARE units as a fraction of all hours (for the LPs and bounds)."""
    return share / SHARE


def unlimited(share_range: tuple[int, int]) -> bool:
    """A share range of 0-100 %: it limits nothing."""
    return share_range == (0, SHARE)


def within_share(firm_units: int, total_units: int, low: int, high: int) -> bool:
    """low <= share <= high, as low x total <= SHARE x firm <= high x total."""
    return not below_share(firm_units, total_units, low) \
        and not above_share(firm_units, total_units, high)


def below_share(firm_units: int, total_units: int, low: int) -> bool:
    return SHARE * firm_units < low * total_units


def above_share(firm_units: int, total_units: int, high: int) -> bool:
    return SHARE * firm_units > high * total_units


def share_cap(total_units: int, high: int) -> int | float:
    """The most units a firm may do within its maximum share of `total_units` (infinite at
    100 %): the largest u with not above_share(u, total, high)."""
    return math.inf if high >= SHARE else high * total_units // SHARE


def share_caps(core, total_units) -> list:
    """Each firm's share_cap of `total_units` when shares are hard (infinite otherwise)."""
    hard = shares_hard(core.problem.policy)
    return [share_cap(total_units, high) if hard else math.inf for _, high in core.share_ranges]


def largest_total(firm_units: int, low: int) -> int | float:
    """The largest total at which a firm doing `firm_units` keeps its minimum share `low`
    (infinite without one): the largest t with not below_share(firm_units, t, low)."""
    return math.inf if low <= 0 else SHARE * firm_units // low


def encode_share_range(cp: cp_model.CpModel, firm_units, total_units, low: int, high: int
                       ) -> None:
    """low x total <= SHARE x firm <= high x total; either side may be a constant (a firm
    whose hours the rest of a plan fixes)."""
    if low > 0:
        cp.add(SHARE * firm_units >= low * total_units)
    if high < SHARE:
        cp.add(SHARE * firm_units <= high * total_units)


# --- the objective (soft terms, whole cents) -----------------------------------------------


def share_targets(firms) -> list[int]:
    """Each firm's target share in SHARE units: the middle of its range, rescaled so the
    targets of all firms sum to 100 %."""
    middles = [(f.min_share_percent + f.max_share_percent) / 2 for f in firms]
    total = sum(middles) or 1.0
    return [quantise(m / total, SHARE) for m in middles]


class Prices:
    """What each objective term costs, in whole cents (docs/solver.md), rounded half up once:
    per item (coverage) or assignment (cost) from the weight times its quantity, per unit for
    the others (fairness: whole cents per hundredth of an hour, so whole euros per hour):

    - coverage, soft: per item left unassigned, weight x its hours (HOUR units);
    - cost, soft: per assignment, weight x its cost in cents (rates and travel);
    - lateness, soft when due dates are: per working day an item ends past its due date;
    - fairness, soft: per HOUR unit a firm's hours lie from its target share of all hours;
    - continuity, soft: per firm doing work at a site (each firm at each site, the first too);
    - stability, soft: per reference item not left with its reference firm.
    """

    def __init__(self, weights, item_units: list[int], targets: list[int]):
        self.coverage_weight = weights.coverage  # cents per HOUR unit
        self.coverage = [quantise(weights.coverage * units, 1) for units in item_units]
        self.cost_weight = weights.cost
        self.lateness = quantise(weights.lateness, CENT)
        self.fairness = quantise(weights.fairness, CENT // HOUR)
        self.continuity = quantise(weights.continuity, CENT)
        self.stability = quantise(weights.stability, CENT)
        self.targets = targets

    def cost(self, option_cents: int) -> int:
        return quantise(self.cost_weight * option_cents, 1)

    def fairness_units(self, units_by_firm, total: int) -> int:
        """sum over firms of ceil(|SHARE x hours - target x total| / SHARE), in HOUR units."""
        return sum(-(-abs(SHARE * units_by_firm.get(f, 0) - target * total) // SHARE)
                   for f, target in enumerate(self.targets))


def due_day(core, item: int) -> int:
    """The number of working days on or before the item's due date (its run should end by
    then)."""
    return bisect.bisect_right(core.days, core.items[item].due_on)


def late_possible(core, item: int) -> bool:
    """Whether the item can be late: it has a due date and due dates are soft (hard ones
    limit its days instead, item_window)."""
    return core.items[item].due_on is not None and not core.problem.policy.due_dates_hard


def lateness_days(core, item: int, option, start: int) -> int:
    """Working days item `item` done by `option` from day `start` ends past its due date
    (soft due dates only; 0 when they are hard)."""
    if not late_possible(core, item):
        return 0
    return max(0, start + option.days - due_day(core, item))


def item_cents(core, terms: dict[str, int], i: int, option, start, sign: int = 1) -> None:
    """Add (sign -1: take away) what item i done by `option` from day `start` (None: left
    unassigned) adds to the coverage, cost, lateness and stability terms, in cents."""
    prices = core.prices
    if option is None:
        terms["coverage"] += sign * prices.coverage[i]
    else:
        terms["cost"] += sign * option.price
        late = lateness_days(core, i, option, start)
        if late:
            terms["lateness"] += sign * prices.lateness * late
    reference = core.reference.get(i)
    if reference is not None and (option is None or option.firm != reference):
        terms["stability"] += sign * prices.stability


def plan_cents(core, chosen: dict, start: dict) -> dict[str, int]:
    """Each objective term of a plan (item -> option, item -> first day) in cents."""
    terms = dict.fromkeys(TERMS, 0)
    units: dict[int, int] = defaultdict(int)
    pairs = set()
    for i in range(len(core.items)):
        option = chosen.get(i)
        item_cents(core, terms, i, option, start.get(i))
        if option is not None:
            units[option.firm] += option.units
            pairs.add((core.item_site[i], option.firm))
    terms["fairness"] = core.prices.fairness * core.prices.fairness_units(
        units, sum(units.values()))
    terms["continuity"] = core.prices.continuity * len(pairs)
    return terms


def euros(terms: dict[str, int]) -> dict[str, float]:
    return {term: value / CENT for term, value in terms.items()}


def encode_fairness(cp: cp_model.CpModel, deviation, firm_units, total_units, target: int
                    ) -> None:
    """deviation >= |SHARE x firm - target x total| / SHARE (minimised, so ceil of it)."""
    gap = SHARE * firm_units - target * total_units
    cp.add(SHARE * deviation >= gap)
    cp.add(SHARE * deviation >= -gap)


def encode_fixed_fairness(cp: cp_model.CpModel, total_units,
                          fixed: Sequence[tuple[str, int, int]],
                          lowest: int, upper: int, name: str) -> list:
    """Fairness of firms whose hours a part of a plan fixes, `fixed` as (firm id, units,
    target), with the total between `lowest` and `upper`: deviation variables whose sum
    bounds theirs. Where the sign of SHARE x units - target x total cannot change over that
    range, |gap| is linear in the total, and those firms are summed into one variable."""
    deviations = []
    signed_units, signed_targets = 0, 0
    for firm, units, target in fixed:
        at_low = SHARE * units - target * lowest
        at_high = SHARE * units - target * upper
        if (at_low >= 0) == (at_high >= 0):
            sign = 1 if at_low >= 0 else -1
            signed_units += sign * SHARE * units
            signed_targets += sign * target
            continue
        dev = cp.new_int_var(0, upper, f"fairness[{firm}]")
        encode_fairness(cp, dev, units, total_units, target)
        deviations.append(dev)
    if signed_units or signed_targets:
        width = upper * max(1, len(fixed))
        dev = cp.new_int_var(-width, width, f"fairness[{name}]")
        cp.add(SHARE * dev >= signed_units - signed_targets * total_units)
        deviations.append(dev)
    return deviations


def encode_lateness(cp: cp_model.CpModel, late, end, due: int, assigned) -> None:
    """late >= the days an assigned item's run ends past `due` (due_day)."""
    cp.add(late >= end - due).only_enforce_if(assigned)


def objective_terms(core, x: Sequence, unassigned: Sequence, works: dict
                    ) -> tuple[dict[str, list], dict[str, int]]:
    """The coverage, cost, continuity and stability terms over a model's variables (options,
    items' unassigned literals, (site, firm) works-there literals), as term -> [(cents,
    variable)] and term -> constant cents; fairness and lateness come with their encodings."""
    prices = core.prices
    terms: dict[str, list] = defaultdict(list)
    constant: dict[str, int] = defaultdict(int)
    for i in range(len(core.items)):
        terms["coverage"].append((prices.coverage[i], unassigned[i]))
    for option in core.options:
        terms["cost"].append((option.price, x[option.index]))
    if prices.continuity > 0:
        for var in works.values():
            terms["continuity"].append((prices.continuity, var))
    if prices.stability > 0:
        for i, f in core.reference.items():
            constant["stability"] += prices.stability
            for k in core.by_item[i]:
                if core.options[k].firm == f:
                    terms["stability"].append((-prices.stability, x[k]))
    return terms, constant
