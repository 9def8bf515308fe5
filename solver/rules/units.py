"""Units."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

HOUR = 100  # units of work in one hour
CENT = 100  # cents in one euro
SHARE = 100_000  # units of share in 100 % (a thousandth of a percent each)
TERMS = ("coverage", "cost", "lateness", "fairness", "continuity", "stability")


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


def lp_row(lp: mathopt.Model, terms: Sequence[tuple[float, object]], lb: float = -math.inf,
           ub: float = math.inf, name: str = "") -> mathopt.LinearConstraint:
    """lb <= sum(coefficient x variable) <= ub as one MathOpt row: the LP's `weighted`. A
    pattern master's columns set their own coefficients in it as they are added."""
    row = lp.add_linear_constraint(lb=lb, ub=ub, name=name)
    for coefficient, var in terms:
        row.set_coefficient(var, coefficient)
    return row
