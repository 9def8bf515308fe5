"""Honouring the stop flag inside one long solver call (a CP-SAT search, a GLOP solve).

Between its steps every search asks `stopped()`; inside a step it cannot, so `watching` runs a
thread that asks every POLL seconds and interrupts the call. It asks again at every poll: a
stop requested before the solver has started is not kept by CP-SAT.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

POLL = 0.1  # seconds between two looks at the stop flag


@contextmanager
def watching(interrupt: Callable[[], object],
             stopped: Callable[[], bool] | None) -> Iterator[None]:
    """Within the block, call `interrupt()` (e.g. CpSolver.stop_search) whenever
    `stopped()` is true; no thread at all without a stop flag."""
    if stopped is None:
        yield
        return
    done = threading.Event()

    def watch() -> None:
        while not done.wait(POLL):
            if stopped():
                interrupt()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()
