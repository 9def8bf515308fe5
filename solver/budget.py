"""The solve's time: one object every step asks "how long may I still run?".

Each step's share is named in SHARES, in one place: a fraction of the time still left when the
step starts, capped by a fraction of the whole limit and by a number of seconds. The stop flag
and the grace a first plan gets after a stop are here too.
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
    # strategies.decomposed (and one_day): site patterns, then the assignment master's rounds
    "columns": Share(0.6, of_limit=0.4),
    "lp start": Share(0.25),
    "lp": Share(0.5),
    "lagrangian": Share(math.inf, of_limit=0.05),
    "evaluate": Share(0.1),
    "dive": Share(0.7),  # strategies.one_day: column generation over firm patterns
    "dive plan": Share(0.05),
    "assign round": Share(0.3),
    # kept back from the rounds: the site search (strategies.finishing), a margin, the exit
    "site search": Share(math.inf, of_limit=0.4),
    "round margin": Share(math.inf, of_limit=0.05),  # no new round with less left
    "lns reserve": Share(math.inf, of_limit=0.15),  # placing the LNS's answer on days
    "lns reserve, one day": Share(math.inf, of_limit=0.02),
    "finish": Share(math.inf, of_limit=0.01),  # checking and reporting: ~1 s on 5,000 sites
}


class Budget:
    def __init__(self, time_limit: float, should_stop: Callable[[], bool] | None,
                 grace: float = 0.5):
        self.started = time.monotonic()
        self.time_limit = time_limit
        self.should_stop = should_stop
        self.grace = grace  # seconds the first plan may still take after a stop or the limit
        self.stop_seen_at: float | None = None  # when out_of_time first saw the stop flag

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def left(self) -> float:
        return max(0.0, self.time_limit - self.elapsed())

    def seconds(self, step: str) -> float:
        """How long `step` may run, starting now (SHARES)."""
        share = SHARES[step]
        return min(share.of_left * self.left() if math.isfinite(share.of_left) else math.inf,
                   share.of_limit * self.time_limit, share.seconds)

    def deadline(self, step: str) -> float:
        """A monotonic time: when `step`, starting now, must end."""
        return time.monotonic() + self.seconds(step)

    def finishing(self) -> Callable[[], float]:
        """Seconds left for a search that ends the solve: the time left less the finish."""
        return lambda: self.left() - self.seconds("finish")

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
