"""What every strategy of one solve is given (`Context`) and keeps (`Best`).

A strategy (solver.strategies) gets the prepared problem, the solve's time budget, the
options and the greedy first plan in one `Context`, and asks it to value a plan, to have the
independent checker judge it, and to complete a model's answer into a plan: placed on days,
each firm brought into its share range, what is left unassigned filled in. Each of those
steps asks the budget (solver.budget.SHARES) how long it may run, and ends with the stop
flag or the time limit (`stopped`), what it has done so far kept.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import rules
from .budget import Budget
from .lns import Incumbent
from .outcome import is_valid
from .prepare import Core
from .schedule import Placement, fill, rebalance, schedule
from .types import SolveOptions

# the steps that may make the solve's first valid plan, or place a plan already found and
# reported (the master's or the LNS's answer): like the greedy plan, they still run for the
# grace after a stop or the time limit (Budget.out_of_time), so a stop never loses a better
# plan the solve has reported; the others end at once
GRACE_STEPS = frozenset({"relaxation", "first plan", "completing", "placing",
                         "placing a round"})


@dataclass(frozen=True)
class Context:
    """One solve's prepared problem, time budget, options and greedy first plan."""

    core: Core
    clock: Budget
    options: SolveOptions
    first: Placement  # the greedy plan: the first plan, whether it keeps every rule or not

    def value(self, placement: Placement) -> float:
        """The plan's objective in euros, exactly (whole cents)."""
        cents = rules.plan_cents(self.core, placement.chosen, placement.start)
        return sum(cents.values()) / rules.CENT

    def is_valid(self, placement: Placement) -> bool:
        """The plan keeps every hard rule, by the independent checker (its time noted in
        the budget, which keeps that much for the exit)."""
        started = time.monotonic()
        valid = is_valid(self.core, placement)
        self.clock.checked(time.monotonic() - started)
        return valid

    def better(self, plan: Placement, other: Placement | None) -> Placement:
        """The cheaper of two plans (`other` may be missing)."""
        if other is not None and self.value(other) < self.value(plan):
            return other
        return plan

    def chosen(self, incumbent: Incumbent) -> dict:
        """The options (item -> option) an assignment master's answer takes."""
        options = self.core.options
        return {options[k].item: options[k] for k, on in enumerate(incumbent.x) if on}

    def stopped(self, step: str) -> Callable[[], bool]:
        """What `step` polls to end early: the stop flag or the time limit gone, or for the
        GRACE_STEPS the grace after either."""
        clock = self.clock
        if step in GRACE_STEPS:
            return clock.out_of_time
        return lambda: clock.stopped() or clock.left() <= 0

    def completed(self, placement: Placement, step: str) -> Placement:
        """Bring each firm into its share range (for as long as `step` may run), then place
        what is still unassigned; until `stopped(step)`, what is done by then."""
        stopped = self.stopped(step)
        balanced = rebalance(self.core, placement, self.clock.deadline(step), stopped)
        return fill(self.core, balanced, stopped)

    def placed(self, chosen: dict, step: str) -> Placement:
        """An assignment (item -> option) placed on days, repairing what does not fit,
        then completed; until `stopped(step)`, what is done by then."""
        placement = schedule(self.core, chosen, repair=True, stopped=self.stopped(step))
        return self.completed(placement, step)


@dataclass
class Best:
    """The best plan the checker has passed so far, when the first was found, and the best
    proven bound (euros) of the whole problem."""

    placement: Placement | None = None
    value: float = math.inf
    first_at: float | None = None
    bound: float | None = None

    def offer(self, ctx: Context, placement: Placement) -> bool:
        """Keep the plan when it is cheaper than the best and the checker passes it."""
        value = ctx.value(placement)
        if value < self.value and ctx.is_valid(placement):
            self.placement, self.value = placement, value
            self.first_at = ctx.clock.elapsed() if self.first_at is None else self.first_at
            return True
        return False

    def raise_bound(self, bound: float | None) -> None:
        """Keep the higher of the best bound and `bound` (a bound of the whole problem)."""
        if bound is not None:
            self.bound = bound if self.bound is None else max(self.bound, bound)
