"""The rules kernel: the units every part of the planner judges in, and the objective.

Every number a rule compares is an integer, fixed once when the problem is prepared
(`solver.prepare`), so the model, the heuristics, the bounds, the report and the checker judge
the same numbers (docs/solver.md, "Units"):

- work and capacity in hundredths of an hour (HOUR units), rounded half up; an option's hours
  are the input's hours times the proficiency factor, so rounded (at least one unit);
- money in euro cents (CENT), rounded half up;
- share limits and targets in thousandths of a percent (SHARE units of 100 %);
- the objective in euro cents: each term's price per unit is a whole number of cents.

The independent checker (`solver.check`) implements the same documented rules on its own.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict

HOUR = 100  # units of work in one hour
CENT = 100  # cents in one euro
SHARE = 100_000  # units of share in 100 % (a thousandth of a percent each)
TERMS = ("coverage", "cost", "lateness", "fairness", "continuity", "stability")


def firms_per_site(policy) -> int:
    """Hard: the most firms that may work at one site: one under the sole-firm face policy,
    else the policy's max_firms_per_site."""
    return 1 if policy.face_policy == "sole" else policy.max_firms_per_site


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


def days_needed(units: int, crew: int, per_technician: int) -> int:
    """Working days an item of `units` needs with a crew whose technicians each give
    `per_technician` units a day: ceil(units / (crew x per_technician)), at least 1."""
    return max(1, -(-units // max(1, crew * per_technician)))


def daily_load(units: int, days: int) -> int:
    """Units an item of `units` run over `days` days uses on each of them (rounded up)."""
    return -(-units // days)


def share_range(firm) -> tuple[int, int]:
    """A firm's share limits in SHARE units."""
    return (quantise(firm.min_share_percent, SHARE // 100),
            quantise(firm.max_share_percent, SHARE // 100))


def within_share(firm_units: int, total_units: int, low: int, high: int) -> bool:
    """Hard: low <= share <= high, as low x total <= SHARE x firm <= high x total."""
    return not below_share(firm_units, total_units, low) \
        and not above_share(firm_units, total_units, high)


def below_share(firm_units: int, total_units: int, low: int) -> bool:
    return SHARE * firm_units < low * total_units


def above_share(firm_units: int, total_units: int, high: int) -> bool:
    return SHARE * firm_units > high * total_units


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


def lateness_days(core, item: int, option, start: int) -> int:
    """Working days item `item` done by `option` from day `start` ends past its due date
    (soft due dates only; 0 when they are hard)."""
    due = core.items[item].due_on
    if due is None or core.problem.policy.due_dates_hard:
        return 0
    return max(0, start + option.days - bisect.bisect_right(core.days, due))


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
