"""Rule 5: precedence."""

from __future__ import annotations

from collections.abc import Iterable

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from .units import lp_row


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


def needed_by(dependents: Iterable[int], assigned) -> bool:
    """An item must stay assigned while an assigned item depends on it (`dependents`: the
    items that depend on it, or those of them that count; `assigned` a set or a mapping)."""
    return any(s in assigned for s in dependents)


def latest_end(dependent_starts: Iterable[int], horizon: int) -> int:
    """The day after the last day an item may use: its assigned dependents' first start."""
    return min(dependent_starts, default=horizon)


def encode_needs_dependency(cp: cp_model.CpModel, pred_unassigned, unassigned) -> None:
    """An item whose dependency is unassigned is unassigned (either a literal, or True or
    False for an item the rest of a plan fixes: a fixed assigned dependent needs its
    dependency assigned)."""
    if pred_unassigned is False or unassigned is True:
        return
    if pred_unassigned is True:
        cp.add(unassigned == 1)
    elif unassigned is False:
        cp.add(pred_unassigned == 0)
    else:
        cp.add_implication(pred_unassigned, unassigned)


def encode_precedence(cp: cp_model.CpModel, start, pred_end, assigned) -> None:
    """An assigned item starts on or after the day its dependency's run ends."""
    cp.add(start >= pred_end).only_enforce_if(assigned)


def lp_needs_dependency(lp: mathopt.Model, pred_unassigned, unassigned
                        ) -> mathopt.LinearConstraint:
    """The LP form of encode_needs_dependency: an item is at least as unassigned as its
    dependency."""
    return lp_row(lp, [(1.0, pred_unassigned), (-1.0, unassigned)], ub=0.0)
