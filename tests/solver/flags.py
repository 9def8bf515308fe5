"""Stop flags for the tests: a flag that is down for a number of looks, then up, stands in
for a stop requested part-way through a step, without patching the step or timing it.

Only the looks of the thread that runs the step are counted: the watcher threads that
interrupt a CP-SAT or GLOP call (solver.stopping) look every tenth of a second, so how often
they look depends on the machine. They see the same flag.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Flag:
    """Down for its first `down` looks (None: for ever), then up; counts its looks."""

    def __init__(self, down: int | None = None):
        self.down = down
        self.looks = 0
        self.thread = threading.current_thread()

    def __call__(self) -> bool:
        if threading.current_thread() is self.thread:
            self.looks += 1
        return self.down is not None and self.looks > self.down

    @property
    def up(self) -> bool:
        return self.down is not None and self.looks > self.down


def looks(run: Callable[[Flag], object]) -> int:
    """How often `run(flag)` looks at a flag that stays down."""
    flag = Flag()
    run(flag)
    return flag.looks
