"""The objective (soft terms, whole cents)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from .units import CENT, HOUR, SHARE, TERMS, lp_row, quantise

REDATING = 0.2  # of the stability weight: a move to other days is a smaller change than
# a move to another firm, and a change all the same to those who planned the work


def share_targets(firms) -> list[int]:
    """Each firm's target share in SHARE units: its target_share_percent, else the middle
    of its range; rescaled so the targets of all firms sum to 100 %."""
    middles = [(f.min_share_percent + f.max_share_percent) / 2
               if f.target_share_percent is None else f.target_share_percent for f in firms]
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
    - stability, soft: per reference item not left with its reference firm, and a fifth of
      that (REDATING) per reference item its firm keeps but on another first day.
    """

    def __init__(self, weights, item_units: list[int], targets: list[int]):
        self.coverage_weight = weights.coverage  # cents per HOUR unit
        self.coverage = [quantise(weights.coverage * units, 1) for units in item_units]
        self.cost_weight = weights.cost
        self.lateness = quantise(weights.lateness, CENT)
        self.fairness = quantise(weights.fairness, CENT // HOUR)
        self.continuity = quantise(weights.continuity, CENT)
        self.stability = quantise(weights.stability, CENT)
        self.redating = quantise(weights.stability * REDATING, CENT)
        self.targets = targets

    def cost(self, option_cents: int) -> int:
        return quantise(self.cost_weight * option_cents, 1)

    def continuity_cents(self, site_firms: int) -> int:
        """The continuity term of `site_firms` (firm, site) pairs with work."""
        return self.continuity * site_firms

    def fairness_cents(self, units_by_firm, total: int) -> int:
        """The fairness term of the firms' hours (HOUR units, firm -> units) of `total`."""
        return self.fairness * self.fairness_units(units_by_firm, total)

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
    elif reference is not None and redated(core, i, start):
        terms["stability"] += sign * prices.redating


def redated(core, i: int, start: int | None) -> bool:
    """Whether item i, kept by its reference firm, starts on another day than in the
    reference (which may give no day: then no day is a change)."""
    day = core.reference_start.get(i)
    return day is not None and start is not None and start != day


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
    terms["fairness"] = core.prices.fairness_cents(units, sum(units.values()))
    terms["continuity"] = core.prices.continuity_cents(len(pairs))
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


def encode_redating(cp: cp_model.CpModel, core, x: Sequence, start: dict) -> list:
    """The stability term's part for days over a model with days (`start`: option -> its
    first day): per option of a reference item's reference firm, what choosing it charges
    when it starts on another day than the reference's, as [(cents, variable)]."""
    price, entries = core.prices.redating, []
    if price <= 0:
        return entries
    for i, day in core.reference_start.items():
        for k in core.by_item[i]:
            option = core.options[k]
            if option.firm != core.reference.get(i):
                continue
            if not option.starts >> day & 1:  # it cannot start on that day at all
                entries.append((price, x[k]))
                continue
            moved = cp.new_bool_var(f"redated[{core.items[i].id}]")
            cp.add(start[k] == day).only_enforce_if([x[k], ~moved])
            cp.add_implication(moved, x[k])
            entries.append((price, moved))
    return entries


def lp_fairness(lp: mathopt.Model, deviation, firm_hours, total, target: float
                ) -> tuple[mathopt.LinearConstraint, mathopt.LinearConstraint]:
    """The LP form of encode_fairness in fractions: deviation >= |firm - target x total|, as
    (the row above the target, the row below it)."""
    return (lp_row(lp, [(1.0, deviation), (-1.0, firm_hours), (target, total)], lb=0.0),
            lp_row(lp, [(1.0, deviation), (1.0, firm_hours), (-target, total)], lb=0.0))


def fairness_gap(firm_hours: float, total: float, target: float) -> float:
    """A relaxation's hours of a firm beyond its target share (negative: below it)."""
    return firm_hours - target * total
