"""The portfolio's strategies, one module each, all behind one interface: `Strategy`, a
function from the solve's `Context` (solver.context) to its `Result`, which leaves through
the one exit (solver.outcome). `solver.solve` chooses one from the problem's shape:

- `exact`: problems of several days with at most EXACT_MAX_OPTIONS options (or mode
  "exact"): the relaxation that may prove its plan optimal at once, beside the exact model;
- `decomposed`: larger problems of several days (or mode "decompose"): site patterns, the
  assignment master's rounds with the LNS, plans placed on days;
- `one_day`: one-day problems (the Generalized Assignment Problem's shape): the
  decomposition without days to search, with the firm patterns' dive in its first round.

A plan that is not proven optimal ends with `finishing.finish`: the search over sites for
the time left (on problems of several days), then the exit; a proof (an optimal plan, or
infeasibility on the unrestricted problem) leaves through the exit at once.
"""

from __future__ import annotations

from collections.abc import Callable

from ..context import Context
from ..types import Result

Strategy = Callable[[Context], Result]
