"""Rule 1: each item once, or unassigned; locked and required items assigned."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from .units import lp_row


def encode_one_option(cp: cp_model.CpModel, options: Sequence, unassigned, required: bool
                      ) -> None:
    """Exactly one of the item's options or its `unassigned` literal; a required item (locked,
    or needed by an assigned dependent) is assigned."""
    cp.add_exactly_one(list(options) + [unassigned])
    if required:
        cp.add(unassigned == 0)


def lp_one_option(lp: mathopt.Model, options: Sequence, unassigned, required: bool,
                  name: str = "") -> mathopt.LinearConstraint:
    """The LP form: the item's options (MathOpt variables; a pattern master's columns join
    the row later) and its `unassigned` variable sum to one; a required item's `unassigned`
    is held at zero."""
    if required:
        unassigned.upper_bound = 0.0
    return lp_row(lp, [(1.0, var) for var in options] + [(1.0, unassigned)], 1.0, 1.0, name)


def lp_one_pattern(lp: mathopt.Model, at_most: bool = False, name: str = ""
                   ) -> mathopt.LinearConstraint:
    """A pattern master's convexity row, the same rule over patterns (each pattern holds each
    of its items once): its columns sum to one (one pattern per site), or to at most one
    (`at_most`: one pattern per firm and day)."""
    # at most one: no lower bound (the columns are at least 0 anyway), so the row's dual
    # keeps the sign of a <= row
    return lp_row(lp, [], -math.inf if at_most else 1.0, 1.0, name)


def leaving_out(coverage: float, required: bool) -> float:
    """What leaving the item out costs in a relaxation: its `coverage`, or infinitely much
    for a required item, which is never left out."""
    return math.inf if required else coverage


def lagrangian_item(price: float, coverage: float, required: bool) -> float:
    """Rule 1 relaxed at `price` (the item row's multiplier): the item's own term of the
    Lagrangian, its price less what leaving it out at its `coverage` would save (nothing
    for a required item)."""
    return price + min(0.0, leaving_out(coverage, required) - price)
