"""Column generation over firm patterns, for one-day assignment problems (the shape of the
Generalized Assignment Problem): a column is the set of items one firm does that day.

The master LP (GLOP through MathOpt, one incremental solver) takes at most one pattern per
firm and covers each item once, or leaves it unassigned at its price. Pricing a firm is a 0-1
knapsack over its options, solved by OR-Tools' knapsack solver. The Lagrangian of this
master, computed at every pricing round, is a bound of the whole problem as strong as the
knapsack relaxation: on tight instances it closes most of the gap the assignment LP leaves.
Pricing happens at a mix of the best Lagrangian point so far and the LP duals (Wentges
smoothing); started from the assignment LP's item duals (`master.assignment_prices`), that
cut the root's rounds two to four times on OR-Library gapd.

A price-and-dive turns the LP into a plan: fix the pattern the LP uses most, re-price, and
repeat until every firm is fixed or the LP is integral. When the fixed patterns leave items
that no remaining firm can take, CP-SAT re-plans the items of the last few firms fixed and
every item still open, the earlier patterns kept.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from ortools.algorithms.python import knapsack_solver
from ortools.math_opt.python import mathopt

from . import rules
from .lns import Incumbent, separable
from .master import assignment_prices, complete, run_glop
from .model import Model
from .rules import energy_windows

log = logging.getLogger(__name__)

SMOOTHING = 0.9  # weight of the best Lagrangian point in the duals a round prices at
PROFIT_SCALE = 1000  # knapsack profits are integers: reduced costs in thousandths of a cent
MAX_DIVES = 8  # dives from the root, the first by the most used column, the others at random
ROOT_TOLERANCE = 1e-4  # relative LP-Lagrangian gap at which the root counts as converged
DIVE_TOLERANCE = 3e-4  # the same after each fixing: a dive needs a good LP, not the best
# LPs solved after each fixing, at most: a dive then fixes every firm in the time (OR-Library
# gapd at 10 s: mean 0.14-0.16 % against 0.16-0.17 % uncapped; at 5 s, as on a machine half
# as fast, 0.24 % against 0.39 %, where d20200's uncapped dive fixed too few firms in time)
DIVE_ROUNDS = 5
SEED_FACTORS = (1.0, 0.99, 1.01, 0.97, 1.03)
# items x items per firm the patterns can afford per second given: the root LP converges
# in about 3.4 s on d10200 (4,000), admitted at 10 s with the capped dives (d10200 0.17 %
# against 0.47 % with the LNS alone; c10200 0.64 % against 0.29 %, docs/benchmarks.md).
# Measured before the master moved to MathOpt, which reads every variable's basis status
# back after each solve: d10200's root (seeded as in a solve) now takes 4.3 s against
# 3.85 s, past the 4.15 s that 0.6 of the phase gave it at 10 s (budget "dive root")
WORK_PER_SECOND = 700
CELLS_PER_ROUND = 50_000_000  # knapsack cells a pricing round may take (about 50 ms)
REPLAN = (3, 6, 12)  # last fixed firms re-planned by CP-SAT when a dive gets stuck
REPLAN_STEP = 0.5  # seconds at most for each re-plan
DIVE_RESERVE = 0.2  # of the time left when a dive starts, kept for its re-plan
REPLAN_LEAST = 0.1  # seconds: the least a re-plan is kept (it does not start below 0.05)


@dataclass(frozen=True)
class Dive:
    """What the column generation and its dive found."""

    chosen: dict[int, int] | None  # item -> option of a complete plan, None without one
    bound: float | None  # a lower bound of the model's objective (cents), None if none
    root: float | None  # the root LP's value (cents) when it converged
    rounds: int  # pricing rounds, root and dive together
    columns: int
    dives: int


def applies(model: Model, coef: dict[int, int]) -> bool:
    """Whether a firm's part of a plan costs the sum of its options and fits one knapsack:
    one working day, items tied only by firm capacity (`lns.separable`, no dependencies),
    no continuity price and no site whose firm limit binds, one option per item and firm."""
    core = model.core
    if core.horizon != 1 or not separable(model) or any(core.preds):
        return False
    if any(coef.get(y.index, 0) for y in model.y.values()):
        return False
    policy = core.problem.policy
    limit = rules.firms_per_site(policy)
    if any(rules.limit_binds(n, limit) for n in Counter(site for site, _ in model.y).values()):
        return False
    pairs = Counter((o.item, o.firm) for o in core.options if o.index not in model.forbidden)
    return not pairs or max(pairs.values()) == 1


def affordable(model: Model, seconds: float) -> bool:
    """Whether the root LP likely converges with time to dive, in `seconds`: the LP's size
    grows with items x items per firm (measured on the GAP tables: 2,000 in about 2 s,
    4,000 in 3.4-5 s, 8,000 not in 10 s; 2 cores). And whether a round's knapsacks stay
    small: the dynamic programming does not stop at its time limit, and takes about a
    nanosecond per cell (options x capacity in units of the weights' gcd)."""
    core = model.core
    firms = {o.firm for o in core.options}
    items = len(core.items)
    if items * items / max(1, len(firms)) > WORK_PER_SECOND * seconds:
        return False
    cells = 0
    for _, inside, available in energy_windows(core, model.forbidden):
        divisor = math.gcd(int(available), *(e for _, e in inside)) or 1
        cells += len(inside) * (int(available) // divisor)
    return cells <= CELLS_PER_ROUND


class _Data:
    """The model's costs and each firm's knapsack, from the model's own coefficients."""

    def __init__(self, model: Model, coef: dict[int, int]):
        core = model.core
        self.n_items, self.n_firms = len(core.items), len(core.firms)
        self.x_coef = [coef.get(v.index, 0) for v in model.x]
        self.u_coef = [coef.get(v.index, 0) for v in model.unassigned]
        self.constant = float(sum(model.constant.values()))
        self.must = core.must_assign()
        self.item_of = [o.item for o in core.options]
        self.firm_options: list[list[int]] = [[] for _ in core.firms]
        for o in core.options:
            if o.index not in model.forbidden:
                self.firm_options[o.firm].append(o.index)
        # one working day: at most one window per firm, and only where the capacity binds
        self.capacity: list[int | None] = [None] * self.n_firms
        self.energy: dict[int, int] = {}
        for firm, inside, available in energy_windows(core, model.forbidden):
            self.capacity[firm] = int(available)
            self.energy.update(inside)


class _Knapsacks:
    """Pricing: per firm, the items whose reduced profit is positive, packed into its
    capacity by dynamic programming (`exact` tells whether every knapsack of a round was
    solved to optimality).

    One firm's dynamic programming is one call that ignores any time limit (measured: 10^9
    cells took 0.7 s under a limit of 0.05 s), so the stop flag and the deadline are polled
    between firms (`_Search._price`): `affordable` keeps a whole round within 50 million
    cells, so a stop waits for one firm's table at most, tens of milliseconds."""

    def __init__(self, data: _Data):
        self.data = data
        self.solver = knapsack_solver.KnapsackSolver(
            knapsack_solver.SolverType.KNAPSACK_DIVIDE_AND_CONQUER_SOLVER, "pricing")
        self.exact = True  # every knapsack so far solved to optimality

    def best(self, firm: int, prices: list[float],
             open_items: list[bool]) -> tuple[float, list[int]]:
        """The firm's most negative pattern cost at the item prices (0 for the empty
        pattern) and the pattern's options."""
        data = self.data
        chosen = [(k, prices[data.item_of[k]] - data.x_coef[k]) for k in data.firm_options[firm]
                  if open_items[data.item_of[k]]]
        chosen = [(k, p) for k, p in chosen if p > 1e-9]
        capacity = data.capacity[firm]
        if capacity is not None and chosen:
            weights = [data.energy.get(k, 0) for k, _ in chosen]
            if not rules.fits(capacity, sum(weights)):
                chosen = self._pack(chosen, weights, capacity)
        value = -sum(p for _, p in chosen)
        return value, [k for k, _ in chosen]

    def _pack(self, chosen, weights, capacity):
        # dynamic programming over the capacity (divide and conquer keeps one row of the
        # table): branch and bound took seconds per firm on tight GAP instances
        divisor = math.gcd(capacity, *weights) or 1
        weights = [w // divisor for w in weights]
        self.solver.init([max(1, int(p * PROFIT_SCALE)) for _, p in chosen], [weights],
                         [capacity // divisor])
        self.solver.solve()
        self.exact = self.exact and self.solver.is_solution_optimal()
        return [chosen[n] for n in range(len(chosen)) if self.solver.best_solution_contains(n)]


class _Master:
    """The restricted master LP: GLOP through MathOpt, one incremental solver, so each
    re-solve after new columns or a fixing starts from GLOP's last basis."""

    def __init__(self, data: _Data, stopped: Callable[[], bool]):
        self.data, self.stopped = data, stopped
        lp = self.lp = mathopt.Model(name="firm patterns")
        lp.objective.is_maximize = False
        lp.objective.offset = data.constant  # as the Lagrangian counts it
        # leaving an item out (never a locked or required one); an artificial at a high
        # price keeps the LP feasible for any set of columns. The Lagrangian leaves the
        # artificials out, so it stays a bound of the problem without them.
        high = 10.0 * max([1.0] + [abs(c) for c in data.x_coef] + [abs(c) for c in data.u_coef])
        self.cover, self.leave, self.artificial = [], [], []
        for i in range(data.n_items):
            leave = lp.add_variable(lb=0.0, ub=1.0, name=f"leave[{i}]")
            lp.objective.set_linear_coefficient(leave, float(data.u_coef[i]))
            artificial = lp.add_variable(lb=0.0, name=f"artificial[{i}]")
            lp.objective.set_linear_coefficient(artificial, high)
            cover = rules.lp_one_option(lp, [], leave, i in data.must, name=f"cover[{i}]")
            cover.set_coefficient(artificial, 1.0)
            self.cover.append(cover)
            self.leave.append(leave)
            self.artificial.append(artificial)
        self.convexity = [rules.lp_one_pattern(lp, at_most=True, name=f"convexity[{f}]")
                          for f in range(data.n_firms)]
        self.solver = mathopt.IncrementalSolver(lp, mathopt.SolverType.GLOP)
        # only the nonzero values and duals, no reduced costs: reading a result costs time
        # in every variable it lists, and most columns are at zero
        self.filters = mathopt.ModelSolveParameters(
            variable_values_filter=mathopt.SparseVectorFilter(skip_zero_values=True),
            dual_values_filter=mathopt.SparseVectorFilter(skip_zero_values=True),
            reduced_costs_filter=mathopt.SparseVectorFilter(filtered_items=()))
        self.primal: dict[mathopt.Variable, float] = {}  # the last optimal LP's nonzeros
        self.dual: dict[mathopt.LinearConstraint, float] = {}
        self.objective = math.nan
        self.columns: list[tuple[int, tuple[int, ...], float, mathopt.Variable]] = []
        self.seen: set[tuple[int, tuple[int, ...]]] = set()
        self.fixed: dict[int, int] = {}  # firm -> column index, in the order fixed
        self.open = [True] * data.n_items
        self.undo: list[tuple[mathopt.Variable, float]] = []  # (variable, its upper bound)

    def add(self, firm: int, options: list[int]) -> bool:
        key = (firm, tuple(sorted(options)))
        if key in self.seen:
            return False
        self.seen.add(key)
        var = self.lp.add_variable(lb=0.0, name=f"pattern[{len(self.columns)}]")
        self.convexity[firm].set_coefficient(var, 1.0)
        for k in options:
            self.cover[self.data.item_of[k]].set_coefficient(var, 1.0)
        cost = float(sum(self.data.x_coef[k] for k in options))
        self.lp.objective.set_linear_coefficient(var, cost)
        self.columns.append((firm, key[1], cost, var))
        return True

    def solve(self, deadline: float) -> bool:
        """Re-solve until `deadline`, interrupted when `stopped()`; False unless optimal
        (the values and duals read then stay the last optimal LP's)."""
        result = run_glop(self.solver.solve, deadline - time.monotonic(), self.stopped,
                          self.filters)
        if result is None:
            # the next solve starts afresh: after GLOP ended abnormally, the incremental
            # solver failed every solve after it
            self.solver = mathopt.IncrementalSolver(self.lp, mathopt.SolverType.GLOP)
            return False
        solution = result.solutions[0]
        self.primal = solution.primal_solution.variable_values
        self.dual = solution.dual_solution.dual_values
        self.objective = result.objective_value()
        return True

    def value(self) -> float:
        """The last optimal LP's objective (cents, the constant included)."""
        return self.objective

    def duals(self) -> tuple[list[float], list[float]]:
        """The last optimal LP's duals: of the item rows, of the firms' convexity rows."""
        return ([self.dual.get(row, 0.0) for row in self.cover],
                [self.dual.get(row, 0.0) for row in self.convexity])

    def column_values(self) -> list[float]:
        """Each column's value in the last optimal LP (0 for a column added since)."""
        return [self.primal.get(var, 0.0) for *_, var in self.columns]

    def leave_values(self) -> list[float]:
        return [self.primal.get(var, 0.0) for var in self.leave]

    def fix(self, c: int) -> None:
        """Fix column c: its firm does exactly its items; no other column takes them."""
        firm, options, _, _ = self.columns[c]
        self.fixed[firm] = c
        items = {self.data.item_of[k] for k in options}
        for i in items:
            self.open[i] = False
            self._close(self.leave[i])
            self._close(self.artificial[i])
        kept = set(self.fixed.values())
        for d, (other, opts, _, var) in enumerate(self.columns):
            if d not in kept and (other == firm
                                  or any(self.data.item_of[k] in items for k in opts)):
                self._close(var)

    def _close(self, var: mathopt.Variable) -> None:
        if var.upper_bound > 0.0:
            self.undo.append((var, var.upper_bound))
            var.upper_bound = 0.0

    def unfix(self) -> None:
        """Back to the root: every column and item open again (new columns kept)."""
        for var, upper in reversed(self.undo):
            var.upper_bound = upper
        self.undo.clear()
        self.fixed.clear()
        self.open = [True] * self.data.n_items

    def placed(self) -> int:
        """The items the last optimal LP places (neither left out nor artificial)."""
        return round(self.data.n_items - sum(self.primal.get(var, 0.0) for var in
                                             self.leave + self.artificial))

    def uses_artificials(self) -> bool:
        return any(self.primal.get(a, 0.0) > 1e-6 for a in self.artificial)


class _Search:
    """The master, its pricing and the dives, within a deadline and the stop flag."""

    def __init__(self, model: Model, coef: dict[int, int], deadline: float,
                 stopped: Callable[[], bool]):
        self.model = model
        self.random_seed = 0  # CP-SAT's seed in the re-plans (dive sets the options' seed)
        self.data = _Data(model, coef)
        self.master = _Master(self.data, stopped)
        self.pricing = _Knapsacks(self.data)
        self.deadline, self.stopped = deadline, stopped
        self.rounds = 0
        self.bound = -math.inf
        self.start_center: list[float] | None = None
        self.start_value = -math.inf
        self.last_center: list[float] | None = None
        self.covered = 0  # items the root LP places (the rest it leaves out)
        self.converging = 0.0  # seconds in `converge` (its rounds): their pace

    def out_of_time(self) -> bool:
        return time.monotonic() >= self.deadline or self.stopped()

    def extend(self, deadline: float) -> None:
        self.deadline = deadline

    def seed(self, prices: list[float]) -> None:
        """Start the pool and the smoothing's center from item prices (the assignment LP's
        duals): each firm's best patterns at them and at slightly lower and higher ones."""
        data = self.data
        free_firms = list(range(data.n_firms))
        open_items = list(range(data.n_items))
        zeros = [0.0] * data.n_firms
        for factor in SEED_FACTORS:
            if self.out_of_time():
                return
            point = [factor * p for p in prices]
            _, lagrangian = self._price(point, point, zeros, free_firms, open_items, 0.0,
                                        add_all=True)
            if lagrangian > self.start_value:
                self.start_center, self.start_value = point, lagrangian

    def converge(self, tolerance: float, max_rounds: int | None = None) -> float | None:
        """Price until the LP and the best Lagrangian meet within `tolerance` (relative), no
        column prices out, or `max_rounds` LPs have been solved; the LP's value, or None
        when out of time."""
        began = time.monotonic()
        try:
            return self._converge(tolerance, max_rounds)
        finally:
            self.converging += time.monotonic() - began

    def _converge(self, tolerance: float, max_rounds: int | None) -> float | None:
        data, master = self.data, self.master
        # the root starts from the seed's point and value; a dive's step from the last
        # step's point (its value changes with the fixing, so it is priced again)
        center, best = self.last_center, -math.inf
        if not master.fixed and self.start_center is not None:
            center, best = self.start_center, self.start_value
        fixed_cost = sum(master.columns[c][2] for c in master.fixed.values())
        free_firms = [f for f in range(data.n_firms) if f not in master.fixed]
        open_items = [i for i in range(data.n_items) if master.open[i]]
        solved = 0
        while not self.out_of_time():
            self.rounds += 1
            if not master.solve(self.deadline):
                return None
            solved += 1
            value = master.value()
            if max_rounds is not None and solved >= max_rounds:
                return value
            duals, firm_duals = master.duals()
            points = [duals] if center is None else [
                [SMOOTHING * c + (1 - SMOOTHING) * d
                 for c, d in zip(center, duals, strict=True)], duals]
            added = 0
            for point in points:
                more, lagrangian = self._price(point, duals, firm_duals, free_firms,
                                               open_items, fixed_cost)
                added += more
                if lagrangian > best:
                    best, center = lagrangian, point
                    self.last_center = point
                if added:
                    break
            if not master.fixed:
                self.bound = max(self.bound, best)
            if not added:
                # also when the deadline cut the pricing short: the LP so far is then the
                # dives' start (a heuristic's; the bound is the best Lagrangian, valid anyway)
                return value
            if value - best <= tolerance * max(1.0, abs(value)):
                # close enough; re-solve so the LP's values include the new columns
                return master.value() if master.solve(self.deadline) else None
        return None

    def _price(self, point, duals, firm_duals, free_firms, open_items,
               fixed_cost, add_all: bool = False) -> tuple[int, float]:
        """Price every free firm at `point`: the columns added (reduced cost negative at the
        LP duals) and the Lagrangian at `point` (less the integer profits' rounding)."""
        data, master = self.data, self.master
        lagrangian = data.constant + fixed_cost
        for i in open_items:
            lagrangian += rules.lagrangian_item(point[i], data.u_coef[i], i in data.must)
        added = 0
        self.pricing.exact = True
        for f in free_firms:
            if self.out_of_time():
                return added, -math.inf  # not every firm priced: no bound
            value, options = self.pricing.best(f, point, master.open)
            # integer profits (truncated to thousandths, at least one): the knapsack's
            # optimum may miss the true one by at most two thousandths per item
            lagrangian += value - 2 * len(data.firm_options[f]) / PROFIT_SCALE
            reduced = sum(data.x_coef[k] - duals[data.item_of[k]] for k in options) \
                - firm_duals[f]
            if options and (add_all or reduced < -1e-6) and master.add(f, options):
                added += 1
        return added, lagrangian if self.pricing.exact else -math.inf

    def value(self, chosen: dict[int, int]) -> float:
        """The model's objective (cents) of a plan: its options, the items it leaves out."""
        data = self.data
        return data.constant + sum(data.x_coef[k] for k in chosen.values()) + sum(
            data.u_coef[i] for i in range(data.n_items) if i not in chosen)

    def dive(self, rng: random.Random | None) -> dict[int, int] | None:
        """Fix the most used column (with `rng`, one of the most used at random, by how
        much the LP uses it) until the plan is whole; item -> option, or None. The fixing
        ends early enough for CP-SAT to re-plan what it leaves open (`replan`), and its
        steps re-solve fewer LPs when the time left would not see every free firm fixed."""
        deadline = self.deadline
        left = deadline - time.monotonic()
        self.deadline -= max(0.0, min(left, REPLAN_STEP, max(REPLAN_LEAST, DIVE_RESERVE * left)))
        try:
            plan = self._fix_until_whole(rng)
        finally:
            self.deadline = deadline
        if plan is not None and len(plan) >= self.covered:
            return plan
        # stuck, out of time, or leaving out items the root LP placed: CP-SAT may fit them
        replanned = self.replan()
        if plan is None or (replanned is not None and self.value(replanned) < self.value(plan)):
            return replanned
        return plan

    def _fix_until_whole(self, rng: random.Random | None) -> dict[int, int] | None:
        master = self.master
        while not self.out_of_time():
            if master.uses_artificials():
                return None
            values = [(value, -cost, c) for c, ((firm, _, cost, _), value)
                      in enumerate(zip(master.columns, master.column_values(), strict=True))
                      if firm not in master.fixed]
            values = [v for v in values if v[0] > 1e-6]
            fractional = any(1e-6 < v[0] < 1 - 1e-6 for v in values) or any(
                1e-6 < leave < 1 - 1e-6 for leave in master.leave_values())
            if not fractional or not values:
                for _, _, c in values:
                    master.fixed[master.columns[c][0]] = c
                return self._plan(master.fixed.values())
            if rng is None:
                master.fix(max(values)[2])
            else:
                top = sorted(values, reverse=True)[:3]
                master.fix(rng.choices(top, [v[0] for v in top])[0][2])
            if self.converge(DIVE_TOLERANCE, self._step_rounds()) is None:
                break
        return None

    def _step_rounds(self) -> int:
        """The LPs a dive's step may re-solve: DIVE_ROUNDS, fewer (at least one) when the
        time left, at the pace of the rounds so far, would not see every free firm fixed."""
        if not self.rounds:
            return DIVE_ROUNDS
        pace = self.converging / self.rounds
        free = self.data.n_firms - len(self.master.fixed)
        fit = (self.deadline - time.monotonic()) / max(1e-9, pace * max(1, free))
        return max(1, min(DIVE_ROUNDS, int(fit)))

    def _plan(self, columns) -> dict[int, int]:
        chosen = {}
        for c in columns:
            for k in self.master.columns[c][1]:
                chosen[self.data.item_of[k]] = k
        return chosen

    def replan(self) -> dict[int, int] | None:
        """CP-SAT re-plans every item outside the patterns fixed first, dropping more of
        the last fixed patterns until it finds a plan."""
        order = list(self.master.fixed.values())
        model = self.model
        for count in [*REPLAN, len(order)]:
            left = self.deadline - time.monotonic()
            if left <= 0.05 or self.stopped():
                return None
            kept = self._plan(order[:max(0, len(order) - count)])
            guess = Incumbent([False] * len(model.x), [False] * len(model.unassigned), 0.0)
            for k in kept.values():
                guess.x[k] = True
            free = set(range(self.data.n_items)) - set(kept)
            # short steps, as in the other searches: a stop is honoured within half a second
            completed = complete(model, guess, free, min(left, REPLAN_STEP), 1,
                                 self.random_seed, self.stopped)
            if completed is not None:
                return {model.core.options[k].item: k for k, on in enumerate(completed.x)
                        if on}
            if count >= len(order):
                return None
        return None


def dive(model: Model, coef: dict[int, int], start: dict[int, int] | None, seconds: float,
         stopped: Callable[[], bool], seed: int = 0,
         prices: list[float] | None = None, root_seconds: float | None = None) -> Dive:
    """Column generation from the patterns of `start` (item -> option), then dives from its
    root, within `seconds`: the best plan they find. `prices`: the assignment LP's item duals
    (`master.lp_start` has them), solved here when not given. The root LP gets `root_seconds`
    of the time (all of it when None); when it has not converged by then, the first dive
    starts from its last optimal LP (`Dive.root` stays None), and the root converges on
    between dives, in the dives' time. Deterministic but for where the time limit cuts it."""
    started = time.monotonic()
    root = seconds if root_seconds is None else min(seconds, root_seconds)
    search = _Search(model, coef, started + root, stopped)
    search.random_seed = seed  # the options' seed, for CP-SAT's re-plans
    if start:
        per_firm: dict[int, list[int]] = {}
        for k in start.values():
            per_firm.setdefault(model.core.options[k].firm, []).append(k)
        for firm, options in sorted(per_firm.items()):
            search.master.add(firm, options)
    if prices is None and not stopped():
        prices = assignment_prices(model, max(0.01, search.deadline - time.monotonic()),
                                   stopped)
    if prices is not None and not stopped():
        search.seed(prices)
    root = search.converge(ROOT_TOLERANCE)
    # a root that has not converged in its time is still the dives' start when one of its
    # LPs was solved: each step of a dive prices again, and a plan from a weaker LP beats
    # none (e20200-s0 at 10 s: the root converged in some runs and not in others)
    start_lp = root if root is not None else search.master.value()
    if not math.isnan(start_lp):
        search.covered = search.master.placed()
    search.extend(started + seconds)
    chosen, best = None, math.inf
    rng = random.Random(seed)
    dives = 0
    while not math.isnan(start_lp) and dives < MAX_DIVES and not search.out_of_time():
        found = search.dive(rng if dives else None)
        dives += 1
        if found is not None and search.value(found) < best - 1e-6:
            chosen, best = found, search.value(found)
        search.master.unfix()
        if search.converge(ROOT_TOLERANCE) is None:
            break
        search.covered = search.master.placed()  # the root converges on between dives
    bound = search.bound if math.isfinite(search.bound) else None
    log.debug("firm patterns: root %s, bound %s, best %s, %d dives, %d rounds, %d columns",
              root, bound, best, dives, search.rounds, len(search.master.columns))
    return Dive(chosen, bound, root, search.rounds, len(search.master.columns), dives)
