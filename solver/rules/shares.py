"""Rule 8: shares."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from .units import SHARE, lp_row, quantise


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


def lp_share_range(lp: mathopt.Model, firm_hours, total, low: float, high: float
                   ) -> tuple[mathopt.LinearConstraint, mathopt.LinearConstraint]:
    """The LP form in fractions (share_fraction; 0 and 1 when shares are soft): firm >= low x
    total and firm <= high x total, both rows always made (their duals price the
    Lagrangian)."""
    return (lp_row(lp, [(1.0, firm_hours), (-low, total)], lb=0.0),
            lp_row(lp, [(1.0, firm_hours), (-high, total)], ub=0.0))


def share_gaps(firm_hours: float, total: float, low: float, high: float
               ) -> tuple[float, float]:
    """How far a relaxation's hours break the range, in fractions: (below the low share,
    above the high one), each positive when broken."""
    return low * total - firm_hours, firm_hours - high * total


def lagrangian_hour_prices(lows: Sequence[float], highs: Sequence[float],
                           fair: Sequence[float], low: Sequence[float], high: Sequence[float],
                           target: Sequence[float]) -> list[float]:
    """Rule 8 and the fairness term relaxed: what an hour of each firm adds to the
    Lagrangian at the multipliers `lows` (of low x total <= firm), `highs` (of firm <= high
    x total) and `fair` (of the distance from the target share), every share a fraction.
    An hour of firm f raises its own rows and, through the total, every firm's."""
    common = sum(fair[g] * target[g] + highs[g] * high[g] - lows[g] * low[g]
                 for g in range(len(low)))
    return [fair[f] + highs[f] - lows[f] - common for f in range(len(low))]
