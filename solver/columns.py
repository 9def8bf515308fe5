"""Column generation over site patterns (Dantzig-Wolfe): a lower bound of the whole problem,
and an LP mix of patterns that rounds to a plan (`rounded`).

A *pattern* of a site says which firm does each of its items (or nobody). The master LP (GLOP)
mixes patterns, one unit per site, under the rows that tie the sites together: each firm's
energy windows (rules.energy_windows), its hours, the total, the share ranges and fairness
(a deviation variable per firm, as in the model). Pricing finds, for every site, the pattern
of least reduced cost with at most K firms, each paying its continuity: exactly, by dynamic
programming over subsets of the site's items, for sites of at most EXACT_ITEMS items; larger
sites get a closed-form lower bound. At any duals y (signs clipped to the rows' senses) the
Lagrangian

    L(y) = constant + y.b + sum over sites of min over patterns (c_p - y.A_p)
           + sum over the other variables of min(0, their reduced cost) x their upper bound

is a lower bound of every plan; it is computed at every iteration and the best one is kept.
When no site has a pattern of negative reduced cost, L(y) is the LP optimum (the
Dantzig-Wolfe bound, at least as strong as the Lagrangian of solver.bound).

Dropped (each only lowers the bound): the days beyond the energy windows, precedence, the
face rules, lateness. Money in euros, hours in the model's scaled units (prepare.HOUR).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ortools.math_opt.python import mathopt

from . import rules
from .bound import SiteCosts, priced_rows
from .master import run_glop
from .model import windows_by_option
from .prepare import Core

EXACT_ITEMS = 10  # sites with more items get the closed-form lower bound in pricing
TOLERANCE = 1e-6  # euros: a reduced cost above -TOLERANCE adds no column


@dataclass(frozen=True)
class Pattern:
    """One way to staff a site: its chosen options (items left out are not listed)."""

    site: int
    options: tuple[int, ...]
    items: tuple[int, ...]  # the item of each option
    cost: float  # euros: rates, travel, coverage of the items left out, continuity


@dataclass
class ColumnBound:
    """What the column generation left: the best bound and the LP's mix of patterns."""

    bound: float | None  # None when stopped before the first pricing was done
    iterations: int
    converged: bool  # no new column priced out: `bound` is the LP optimum (for sites of at
    # most EXACT_ITEMS items, whose pricing is exact)
    mix: list[tuple[Pattern, float]] = field(default_factory=list)


def column_bound(core: Core, windows, start: dict[int, int] | None, seconds: float,
                 stopped: Callable[[], bool] = lambda: False) -> ColumnBound | None:
    """Run column generation for at most `seconds`, or until `stopped()` (polled after
    each LP and each hundred sites priced). `windows` are rules.energy_windows;
    `start` a plan (item -> option) whose patterns seed the LP, or None. Returns the best
    Lagrangian bound found (euros) and the last LP's mix; None when a site has no pattern
    at all or the LP fails."""
    started = time.monotonic()
    try:
        master = _Master(core, windows, stopped)
    except _Stopped:
        return None
    plain = master.data.cost  # reduced costs at zero duals
    for site, items in enumerate(master.sites):
        master.add(master.pattern_of(site, start or {}))
        master.add(master.pattern_of(site, {}))  # nobody: skipped when an item must be done
        master.add(master.price(site, items, plain)[1])
        if not master.has_column[site] or (site % 100 == 99 and stopped()):
            return None
    if stopped():  # before the first LP, which may take a while on thousands of sites
        return None
    best, iterations, converged, solved = -math.inf, 0, False, 0
    while iterations == 0 or (time.monotonic() - started < seconds and not stopped()):
        # the first LP may take a little longer than `seconds`: without it there is nothing
        if not master.solve(max(0.5, seconds - (time.monotonic() - started))):
            return _result(master, best, iterations, False, solved) if solved else None
        solved = len(master.columns)  # the columns the LP's values cover
        iterations += 1
        duals = master.duals()
        reduced = master.reduced_option_costs(duals)
        value = master.fixed_part(duals)
        added = 0
        for site, items in enumerate(master.sites):
            if site % 100 == 99 and stopped():
                return _result(master, best, iterations, False, solved)
            least, pattern = master.price(site, items, reduced)
            value += least
            if pattern is not None and least - duals.convexity[site] < -TOLERANCE:
                # a large site's closed-form bound may point at a pattern already there
                added += master.add(pattern)
        best = max(best, value)
        if not added:
            converged = True
            break
    return _result(master, best, iterations, converged, solved)


def _result(master: _Master, best: float, iterations: int, converged: bool,
            solved: int) -> ColumnBound:
    values = master.result.variable_values([var for _, var in master.columns[:solved]])
    mix = [(p, value) for (p, _), value in zip(master.columns[:solved], values, strict=True)
           if value > 1e-9]
    return ColumnBound(bound=best if math.isfinite(best) else None, iterations=iterations,
                       converged=converged, mix=mix)


def rounded(core: Core, mix: list[tuple[Pattern, float]]) -> dict[int, int]:
    """A plan from the LP's mix (item -> option): each site one of its patterns, the
    heaviest that keeps every firm within its maximum share of the mix's hours, the sites
    the LP is surest of first; a site none of whose patterns fits takes its heaviest."""
    by_site: dict[int, list[tuple[float, Pattern]]] = {}
    for pattern, weight in mix:
        by_site.setdefault(pattern.site, []).append((weight, pattern))
    total = sum(weight * core.options[k].units for pattern, weight in mix
                for k in pattern.options)
    cap = rules.share_caps(core, total)
    load = [0] * len(core.firms)
    chosen: dict[int, int] = {}
    order = sorted(by_site, key=lambda s: (-max(w for w, _ in by_site[s]), s))
    for site in order:
        candidates = [p for _, p in sorted(by_site[site], key=lambda c: (-c[0], c[1].options))]
        pick = next((p for p in candidates if _fits(core, p, load, cap)), candidates[0])
        for item, k in zip(pick.items, pick.options, strict=True):
            chosen[item] = k
            load[core.options[k].firm] += core.options[k].units
    return chosen


def _fits(core: Core, pattern: Pattern, load: list[int], cap: list[float]) -> bool:
    extra: dict[int, int] = {}
    for k in pattern.options:
        option = core.options[k]
        extra[option.firm] = extra.get(option.firm, 0) + option.units
    return all(load[f] + h <= cap[f] for f, h in extra.items())


class _Stopped(Exception):
    """The stop flag was seen while the master was being set up."""


def _poll(stopped: Callable[[], bool]) -> None:
    if stopped():
        raise _Stopped


@dataclass
class _Duals:
    convexity: list[float]
    windows: list[float]  # <= rows: at most 0
    hours: list[float]  # per firm, equality rows
    total: float
    above: list[float]  # dev_f >= H_f - t_f T: at least 0
    below: list[float]  # dev_f >= t_f T - H_f: at least 0
    low: list[float]  # H_f >= low_f T: at least 0
    high: list[float]  # H_f <= high_f T: at most 0


class _Master:
    """The restricted master LP and the pricing of its columns: GLOP through MathOpt,
    each re-solve started from the last optimal basis (presolve off, as a basis needs)."""

    def __init__(self, core: Core, windows, stopped: Callable[[], bool] = lambda: False):
        # each step of the set-up takes up to a second or two on 5,000 sites: the stop flag
        # (and the solve's time limit, through it) is polled between them
        self.core = core
        self.stopped = stopped
        self.data = SiteCosts(core)
        _poll(stopped)
        self.rows = priced_rows(core, windows)
        self.sites = self.data.sites
        n_firms = len(core.firms)
        _poll(stopped)
        self.option_windows = windows_by_option(len(core.options), self.rows.windows)
        _poll(stopped)
        # upper bounds of the other variables: all hours of the problem, scaled
        self.upper = float(sum(max((self.data.hours[k] for k in ks), default=0)
                               for ks in core.by_item)) + 1.0
        lp = mathopt.Model(name="site patterns")
        self.lp = lp
        self.convexity = [rules.lp_one_pattern(lp) for _ in self.sites]
        self.window_rows = [rules.lp_energy(lp, [], available)
                            for _, available in self.rows.windows]
        self.hours = [lp.add_variable(lb=0.0, ub=self.upper) for _ in range(n_firms)]
        self.total = lp.add_variable(lb=0.0, ub=self.upper)
        self.dev = [lp.add_variable(lb=0.0, ub=self.upper) for _ in range(n_firms)]
        # each firm's hours (its patterns' hours, as they are added) and their total
        self.hour_rows = [rules.lp_row(lp, [(-1.0, self.hours[f])], 0.0, 0.0)
                          for f in range(n_firms)]
        self.total_row = rules.lp_row(lp, [(1.0, h) for h in self.hours] + [(-1.0, self.total)],
                                      0.0, 0.0)
        self.above, self.below, self.low, self.high = [], [], [], []
        for f in range(n_firms):
            above, below = rules.lp_fairness(lp, self.dev[f], self.hours[f], self.total,
                                             self.rows.target[f])
            low, high = rules.lp_share_range(lp, self.hours[f], self.total, self.rows.low[f],
                                             self.rows.high[f])
            self.above.append(above)
            self.below.append(below)
            self.low.append(low)
            self.high.append(high)
            lp.objective.set_linear_coefficient(self.dev[f], self.data.fairness_weight)
        lp.objective.offset = self.data.constant
        lp.objective.is_maximize = False
        self.solver = mathopt.IncrementalSolver(lp, mathopt.SolverType.GLOP)
        self.result = None
        self.basis = None
        self._add_slacks()
        self.columns: list[tuple[Pattern, object]] = []
        self.seen: set[tuple[int, tuple[int, ...]]] = set()
        self.has_column = [False] * len(self.sites)

    def _add_slacks(self) -> None:
        """Let the energy and share rows be broken at a high price, so that any first set
        of columns gives a feasible LP. The Lagrangian is computed without the slacks, so
        it stays a bound of the problem without them."""
        price = 10 * max(self.data.cover_per_hour, self.data.fairness_weight, 1.0)
        for row, sign in [(r, -1.0) for r in self.window_rows + self.high] \
                + [(r, 1.0) for r in self.low]:
            slack = self.lp.add_variable(lb=0.0)
            row.set_coefficient(slack, sign)
            self.lp.objective.set_linear_coefficient(slack, price)

    def solve(self, seconds: float) -> bool:
        """Re-solve the master LP from the last optimal basis (new columns at zero, so it
        stays primal feasible) within `seconds`; False unless optimal, and then `result`
        is still the last optimal one."""
        model_params = None
        if self.basis is not None:
            for _, var in self.columns:
                self.basis.variable_status.setdefault(var, mathopt.BasisStatus.AT_LOWER_BOUND)
            model_params = mathopt.ModelSolveParameters(initial_basis=self.basis)
        # measured on 1,000 and 5,000 sites: the dual simplex from the last basis is the
        # fastest re-solve (the primal one, or either from scratch, 1.5-4x slower); the stop
        # flag interrupts it (a re-solve of 5,000 sites takes seconds)
        result = run_glop(self.solver.solve, seconds, self.stopped, model_params,
                          presolve=mathopt.Emphasis.OFF,
                          lp_algorithm=mathopt.LPAlgorithm.DUAL_SIMPLEX)
        if result is None:
            return False  # self.result stays the last optimal LP, whose mix is returned
        self.result = result
        if result.solutions and result.solutions[0].basis is not None:
            self.basis = result.solutions[0].basis
        return True

    def pattern_of(self, site: int, chosen: dict[int, int]) -> Pattern:
        """The site's pattern in a plan (item -> option); items not in it are left out."""
        return self._pattern(site, tuple(chosen[i] for i in self.sites[site] if i in chosen))

    def _pattern(self, site: int, options: tuple[int, ...]) -> Pattern:
        data, core = self.data, self.core
        options = tuple(sorted(options))
        done = {core.options[k].item for k in options}
        firms = {core.options[k].firm for k in options}
        cost = sum(data.cost[k] for k in options) + data.pairs_euros(len(firms)) \
            + sum(data.cover[i] for i in self.sites[site] if i not in done)
        return Pattern(site, options, tuple(core.options[k].item for k in options), cost)

    def add(self, pattern: Pattern | None) -> bool:
        """Add the pattern as a column; False when it is there already (or impossible)."""
        key = None if pattern is None else (pattern.site, pattern.options)
        if pattern is None or key in self.seen or not math.isfinite(pattern.cost):
            return False
        self.seen.add(key)
        self.has_column[pattern.site] = True
        var = self.lp.add_variable(lb=0.0)  # the convexity row bounds it
        self.convexity[pattern.site].set_coefficient(var, 1.0)
        energy: dict[int, float] = {}
        hours: dict[int, float] = {}
        for k in pattern.options:
            for w, e in self.option_windows[k]:
                energy[w] = energy.get(w, 0.0) + e
            firm = self.core.options[k].firm
            hours[firm] = hours.get(firm, 0.0) + self.data.hours[k]
        for w, e in energy.items():
            self.window_rows[w].set_coefficient(var, e)
        for f, h in hours.items():
            self.hour_rows[f].set_coefficient(var, h)
        self.lp.objective.set_linear_coefficient(var, pattern.cost)
        self.columns.append((pattern, var))
        return True

    def duals(self) -> _Duals:
        """The LP's duals, clipped to the signs that keep the Lagrangian a lower bound."""
        def values(rows):
            return self.result.dual_values(rows) if rows else []

        def at_most_0(rows):
            return [min(0.0, y) for y in values(rows)]

        def at_least_0(rows):
            return [max(0.0, y) for y in values(rows)]
        return _Duals(convexity=values(self.convexity),
                      windows=at_most_0(self.window_rows),
                      hours=values(self.hour_rows),
                      total=self.result.dual_values([self.total_row])[0],
                      above=at_least_0(self.above), below=at_least_0(self.below),
                      low=at_least_0(self.low), high=at_most_0(self.high))

    def reduced_option_costs(self, duals: _Duals) -> list[float]:
        """Each option's share of a pattern's reduced cost (c - y.A), convexity aside."""
        data, core = self.data, self.core
        reduced = []
        for k, option in enumerate(core.options):
            value = data.cost[k] - duals.hours[option.firm] * data.hours[k]
            for w, e in self.option_windows[k]:
                value -= duals.windows[w] * e
            reduced.append(value)
        return reduced

    def fixed_part(self, duals: _Duals) -> float:
        """L(y) less its sum over sites: the constant, y.b and the other variables'
        least contribution within their bounds."""
        rows = self.rows
        value = self.data.constant + sum(y * available for y, (_, available)
                                         in zip(duals.windows, rows.windows, strict=True))
        # reduced costs of H_f, T and dev_f (c - y.A), each at its best bound
        total = duals.total  # T: -1 in the total row
        total_rc = total
        for f in range(len(self.core.firms)):
            hours_rc = duals.hours[f] - duals.total + duals.above[f] - duals.below[f] \
                - duals.low[f] - duals.high[f]
            dev_rc = self.data.fairness_weight - duals.above[f] - duals.below[f]
            value += min(0.0, hours_rc) * self.upper + min(0.0, dev_rc) * self.upper
            total_rc += -rows.target[f] * duals.above[f] + rows.target[f] * duals.below[f] \
                + rows.low[f] * duals.low[f] + rows.high[f] * duals.high[f]
        return value + min(0.0, total_rc) * self.upper

    def price(self, site: int, items: list[int],
              reduced: list[float]) -> tuple[float, Pattern | None]:
        """The least value of c_p - y.A_p over the site's patterns with at most K firms (a
        lower bound of it for large sites), and a pattern that reaches it (or comes close)."""
        data, core = self.data, self.core
        nobody = sum(data.cover[i] for i in items)
        cell: dict[int, dict[int, tuple[float, int]]] = {}  # firm -> item position -> best
        for n, i in enumerate(items):
            for k in core.by_item[i]:
                f = core.options[k].firm
                now = cell.setdefault(f, {}).get(n)
                if now is None or reduced[k] < now[0]:
                    cell[f][n] = (reduced[k], k)
        if not cell:
            return nobody, Pattern(site, (), (), nobody)
        limit = min(data.limit, len(cell))
        if len(items) > EXACT_ITEMS:
            return self._price_large(site, items, reduced, cell, nobody)
        least, options = _best_split(items, [data.cover[i] for i in items], cell, limit,
                                     data.continuity)
        if nobody <= least:
            return nobody, Pattern(site, (), (), nobody)
        return least, self._pattern(site, options)

    def _price_large(self, site, items, reduced, cell, nobody) -> tuple[float, Pattern | None]:
        data = self.data
        cheapest = sum(min([data.cover[i]] + [by_item[n][0] for by_item in cell.values()
                                              if n in by_item])
                       for n, i in enumerate(items))
        least = min(nobody, cheapest + data.continuity)
        firm = min(cell, key=lambda f: sum(cell[f][n][0] if n in cell[f] else data.cover[i]
                                           for n, i in enumerate(items)))
        options = tuple(cell[firm][n][1] for n in range(len(items))
                        if n in cell[firm] and cell[firm][n][0] < data.cover[items[n]])
        return least, self._pattern(site, options)


def _best_split(items: list[int], cover: list[float], cell, limit: int,
                continuity: float) -> tuple[float, tuple[int, ...]]:
    """The least reduced cost of the site's items split among at most `limit` firms, each
    group done by one firm (an item of a group may be left out at its cover), plus the
    continuity of each group: dynamic programming over subsets of the items."""
    n = len(items)
    full = (1 << n) - 1

    group = [math.inf] * (full + 1)  # subset -> best one firm for it (with continuity)
    group_firm = [-1] * (full + 1)
    for f, by_item in cell.items():
        values = [min(by_item[m][0], cover[m]) if m in by_item else cover[m] for m in range(n)]
        sums = [0.0] * (full + 1)
        for subset in range(1, full + 1):
            low = subset & -subset
            sums[subset] = sums[subset ^ low] + values[low.bit_length() - 1]
            if sums[subset] + continuity < group[subset]:
                group[subset], group_firm[subset] = sums[subset] + continuity, f
    # levels[j][subset]: the first group of the best split of subset among j + 1 firms
    # (0: one group); each level may also keep the previous level's split
    best, levels = list(group), [[0] * (full + 1)]
    for _ in range(limit - 1):
        nxt, split = list(best), [-1] * (full + 1)  # -1: as on the previous level
        for subset in range(1, full + 1):
            low = subset & -subset
            rest = subset ^ low
            part = rest
            while True:  # every first group that holds the subset's lowest item
                first = part | low
                if first != subset:
                    value = group[first] + best[subset ^ first]
                    if value < nxt[subset]:
                        nxt[subset], split[subset] = value, first
                if not part:
                    break
                part = (part - 1) & rest
        best = nxt
        levels.append(split)
    if not math.isfinite(best[full]):
        return best[full], ()
    return best[full], _options_of_split(levels, group_firm, cell, cover, full)


def _options_of_split(levels, group_firm, cell, cover, full: int) -> tuple[int, ...]:
    """The options of the best split found by _best_split, walked back level by level."""
    options = []
    subset, level = full, len(levels) - 1
    while subset:
        while level > 0 and levels[level][subset] == -1:
            level -= 1
        first = levels[level][subset] if level > 0 else subset
        firm = cell[group_firm[first]]
        for m in firm:
            if first >> m & 1 and firm[m][0] < cover[m]:
                options.append(firm[m][1])
        subset ^= first
        level -= 1
    return tuple(sorted(options))
