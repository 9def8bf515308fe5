"""Rule 4: capacity, per firm and day."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from .units import lp_row, weighted


def fits(room: int, load: int) -> bool:
    """A day with `room` units left takes a run's daily `load`."""
    return load <= room


def run_fits(room: Sequence[int], load: int, start: int, days: int) -> bool:
    """Every day of the run from `start` has room for its daily load."""
    return all(fits(room[d], load) for d in range(start, start + days))


def last_full_day(room: Sequence[int], load: int, start: int, days: int) -> int | None:
    """The run's last day without room for its load, or None when every day has room.
    `fits` written out: the list scheduler asks this about a million times on 5,000 sites."""
    for d in range(start + days - 1, start - 1, -1):
        if room[d] < load:
            return d
    return None


def encode_item_run(cp: cp_model.CpModel, start, end, option_start, days: int, chosen
                    ) -> None:
    """The item's run is its chosen option's: from `option_start` for `days` working days."""
    cp.add(start == option_start).only_enforce_if(chosen)
    cp.add(end == option_start + days).only_enforce_if(chosen)


def encode_daily_capacity(cp: cp_model.CpModel, runs: Sequence[tuple[object, int]],
                          capacity: Sequence[int], name: str) -> None:
    """The firm's optional runs (interval, daily load) fit its capacity on every day: one
    cumulative at the peak, with fixed blockers taking the difference on lower days."""
    peak = max(capacity)
    blockers = [(cp.new_fixed_size_interval_var(d, 1, f"off[{name},{d}]"), peak - capacity[d])
                for d in range(len(capacity)) if capacity[d] < peak]
    if sum(load for _, load in runs) > min(capacity) or blockers:
        cp.add_cumulative([r for r, _ in runs] + [b for b, _ in blockers],
                          [load for _, load in runs] + [load for _, load in blockers], peak)


def energy_windows(core, forbidden: set[int] = frozenset()):
    """Capacity relaxed to energy (a valid relaxation): (firm, [(option, energy)], units
    available) for every window of days worth a constraint: the whole horizon, and each prefix
    and suffix ending at a cut day (every fifth day). An option lies inside a window when every
    day it may use does."""
    horizon = core.horizon
    cuts = sorted(set(range(5, horizon, 5)))
    per_firm = defaultdict(list)
    for option in core.options:
        if option.index not in forbidden:
            per_firm[option.firm].append(option)
    for f, options in sorted(per_firm.items()):
        prefix = [0]
        for units in core.capacity[f]:
            prefix.append(prefix[-1] + units)
        windows = [(0, horizon)] + [(0, c) for c in cuts] + [(c, horizon) for c in cuts]
        spans = [(option, option.window()) for option in options]
        for lo, hi in windows:
            inside = [(option.index, option.energy) for option, (first, end) in spans
                      if first >= lo and end <= hi]
            available = prefix[hi] - prefix[lo]
            if inside and sum(e for _, e in inside) > available:
                yield f, inside, available


def encode_energy(cp: cp_model.CpModel, terms: Sequence[tuple[int, object]], available: int
                  ) -> None:
    """The energy of the chosen options inside a window fits what the window has left."""
    if sum(e for e, _ in terms) > available:
        cp.add(weighted(terms) <= available)


def lp_energy(lp: mathopt.Model, terms: Sequence[tuple[float, object]], available: int,
              name: str = "") -> mathopt.LinearConstraint:
    """The LP form of encode_energy: sum(energy x the option's share) <= what the window has
    (a pattern master's columns join the row later)."""
    return lp_row(lp, terms, ub=float(available), name=name)
