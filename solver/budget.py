"""The solve's time: one object every step asks "how long may I still run?".

Each step's share is named in SHARES, in one place: a fraction of the time still left when the
step starts, capped by a fraction of the whole limit and by a number of seconds. A search that
improves a plan also ends on `Patience`: when it has gone without a better plan for a part of
its own time so far, its time goes to the next step. The stop flag and the grace a first plan
gets after a stop are here too.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Share:
    of_left: float  # of the time still left when the step starts
    of_limit: float = math.inf  # at most this fraction of the whole time limit
    seconds: float = math.inf  # and at most this many seconds


SHARES = {
    # strategies.exact: the relaxation that may prove a plan optimal at once, then the model
    "relaxation": Share(0.25, seconds=1.0),
    "exact": Share(0.6),  # the rest goes to the site search, which improves faster
    "exact, one day": Share(1.0),  # no site search follows on one day
    # plans completed from a model's answer (Context.completed): rebalancing the shares
    "first plan": Share(0.1),
    "completing": Share(0.05),
    "placing": Share(0.1),
    "placing a round": Share(0.5),
    # the site patterns' plan, which often needs rebalancing into the share ranges: it is
    # the best plan there will be, so it gets more (rebalance stops once balanced: 0.1-0.6 s
    # on 5,000 sites, where 0.1 of the time left gave it 0.2-0.4 s on a slow machine)
    "placing columns": Share(0.3),
    # strategies.decomposed (and one_day): site patterns, then the assignment master's rounds
    "columns": Share(0.6, of_limit=0.4),
    "lp": Share(0.5),  # the assignment LP (it stops when solved: ~1 s on 1,000 sites)
    # CP-SAT completing the LP's plan, asked once the LP is solved, in up to three tries
    "lp completion": Share(0.25),
    "lp completion try": Share(0.5),  # of what the completion has left
    "lagrangian": Share(math.inf, of_limit=0.05),
    "evaluate": Share(0.1),
    "dive": Share(0.7),  # strategies.one_day: column generation over firm patterns
    # of the dive's own time, at most, for the root LP to converge: 0.6 through pywraplp;
    # MathOpt's slower re-solves needed 0.7 for OR-Library d10200's root to converge at 10 s
    # again (0.17 % as before; c10200, d05200, d20200 unchanged, docs/benchmarks.md)
    "dive root": Share(0.7),
    "dive plan": Share(0.05),
    "assign round": Share(0.3),
    "fresh round": Share(1.0),  # after the LNS has stalled: CP-SAT from no hint, to the end
    # kept back from the rounds: the site search (strategies.finishing), a margin, the exit
    "site search": Share(math.inf, of_limit=0.4),
    "round margin": Share(math.inf, of_limit=0.05),  # no new round with less left
    "lns reserve": Share(math.inf, of_limit=0.15),  # placing the LNS's answer on days
    "lns reserve, one day": Share(math.inf, of_limit=0.02),
    "finish": Share(math.inf, of_limit=0.01),  # checking and reporting: ~1 s on 5,000 sites
}


# what the exit does after a search that ends the solve, in checks of a plan: the checker
# on the search's plan, then the exit's plan and reports (5,000x400x90: checks of 0.5 s
# before, then 0.9 s and 0.35 s at the exit)
EXIT_CHECKS = 3

PATIENCE = 0.5  # of a search's own time so far, without a better plan: it has stalled
PATIENCE_SECONDS = 1.0  # and at least this long


class Patience:
    """When a search has stalled: no better plan for PATIENCE of its time so far (and at
    least PATIENCE_SECONDS). `better()` on each better plan; `seconds(left)` wraps the
    search's own deadline (seconds left), ending it at 0 once it has stalled."""

    def __init__(self, now: Callable[[], float] = time.monotonic) -> None:
        self.now = now
        self.started = self.improved = now()
        self.stalled = False

    def better(self) -> None:
        self.improved = self.now()

    def seconds(self, left: float) -> float:
        now = self.now()
        if now - self.improved > max(PATIENCE_SECONDS, PATIENCE * (now - self.started)):
            self.stalled = True
        return 0.0 if self.stalled else left


class Budget:
    def __init__(self, time_limit: float, should_stop: Callable[[], bool] | None,
                 grace: float = 0.5):
        self.started = time.monotonic()
        self.time_limit = time_limit
        self.should_stop = should_stop
        self.grace = grace  # seconds the first plan may still take after a stop or the limit
        self.stop_seen_at: float | None = None  # when out_of_time first saw the stop flag
        self.check_seconds = 0.0  # the longest the checker has taken on one of the plans

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return max(0.0, self.time_limit - self.elapsed())

    def seconds(self, step: str) -> float:
        """How long `step` may run, starting now (SHARES)."""
        return self.part(step, self.left())

    def part(self, step: str, seconds: float) -> float:
        """How long `step`, a part of another step that has `seconds` left, may run (its
        SHARES entry's of_left is of those seconds; `seconds` asks it of the time left)."""
        share = SHARES[step]
        return min(share.of_left * seconds if math.isfinite(share.of_left) else math.inf,
                   share.of_limit * self.time_limit, share.seconds)

    def deadline(self, step: str) -> float:
        """A monotonic time: when `step`, starting now, must end."""
        return time.monotonic() + self.seconds(step)

    def patience(self) -> Patience:
        """A new search's patience (Patience), from now."""
        return Patience()

    def checked(self, seconds: float) -> None:
        """The checker took `seconds` on a plan of this problem (the exit's own time)."""
        self.check_seconds = max(self.check_seconds, seconds)

    def finishing(self) -> Callable[[], float]:
        """Seconds left for a search that ends the solve: the time left less the finish,
        which is at least EXIT_CHECKS times the longest check so far (on 5,000 sites one
        takes 0.5-1 s, more than the finish's share of a 60 s limit)."""
        return lambda: self.left() - max(self.seconds("finish"),
                                         EXIT_CHECKS * self.check_seconds)

    def stopped(self) -> bool:
        return bool(self.should_stop and self.should_stop())

    def out_of_time(self) -> bool:
        """For the steps before any plan: `grace` seconds past the time limit, or since the
        stop flag was first seen (a small problem still gets its first plan; a 5,000-site
        one stops preparing within about a second)."""
        if self.time_limit - self.elapsed() <= -self.grace:
            return True
        if not self.stopped():
            return False
        if self.stop_seen_at is None:
            self.stop_seen_at = time.monotonic()
        return time.monotonic() - self.stop_seen_at >= self.grace
