"""Large-neighbourhood search on the assignment model: free the items of a few related firms,
a random spread of items, or a few neighbouring sites, keep every other item where the
incumbent has it, and let CP-SAT re-solve that part; keep the result when it is better. Each
step is a complete, feasible plan, so stopping at any time leaves the best plan found so far.

When the model ties items together only through firm capacity, the sites' firm limits and
continuity, and dependencies (`separable`), each neighbourhood is a small CP-SAT model of its
own (`Parts`): much faster than presolving the whole model with the rest fixed."""

from __future__ import annotations

import logging
import random
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from ortools.sat.python import cp_model

from . import rules
from .model import Model, coefficients, windows_by_option
from .rules import energy_windows
from .stopping import watching

log = logging.getLogger(__name__)

RELATED = 3  # an item relates the firms of its cheapest this many options
SITE_SHARE = 0.5  # of the neighbourhoods, when there are several sites
FIRM_SHARE = 0.3  # of the others on a separable model, related firms; the rest random items
PART_STEP = 0.03  # seconds per separate small model: most solve to optimality in that time


@dataclass
class Incumbent:
    x: list[bool]
    unassigned: list[bool]
    objective: float  # in the model's units (cents)


def incumbent_of(solver: cp_model.CpSolver, model: Model) -> Incumbent:
    return Incumbent([solver.boolean_value(v) for v in model.x],
                     [solver.boolean_value(v) for v in model.unassigned],
                     solver.objective_value)


def _chosen(model: Model, incumbent: Incumbent) -> list[int | None]:
    """Each item's option in the incumbent, None when unassigned."""
    chosen: list[int | None] = [None] * len(model.unassigned)
    for k, on in enumerate(incumbent.x):
        if on:
            chosen[model.core.options[k].item] = k
    return chosen


class Neighbourhoods:
    """Which items to free: the items of a site and its neighbours, of a few related firms,
    or (`spread`, for the small separate models) a random spread of items."""

    def __init__(self, model: Model, seed: int, coef: dict[int, int], spread: bool):
        core = model.core
        self.core, self.spread = core, spread
        self.rng = random.Random(seed)
        self.firms_of_item = [{core.options[k].firm for k in ks} for ks in core.by_item]
        self.items_of_site: dict[int, list[int]] = {}
        for i, site in enumerate(core.item_site):
            self.items_of_site.setdefault(site, []).append(i)
        self.sites = sorted(self.items_of_site)
        self.related = _related_firms(model, coef)

    def pick(self, chosen: list[int | None], size: int) -> set[int]:
        """About `size` items to free, given each item's option in the incumbent."""
        if len(self.sites) >= 2 and self.rng.random() < SITE_SHARE:
            return self._sites(size)
        if not self.spread or self.rng.random() < FIRM_SHARE:
            return self._firms(chosen, size)
        return set(self.rng.sample(range(len(chosen)), min(size, len(chosen))))

    def _firms(self, chosen: list[int | None], size: int) -> set[int]:
        """The items of a random firm and of firms related to it (sharing cheap options),
        and the unassigned items they could take."""
        core = self.core
        in_use = sorted({core.options[k].firm for k in chosen if k is not None})
        if not in_use:
            return set()
        count = max(2, round(size * len(in_use) / len(chosen)))
        picked = [self.rng.choice(in_use)]
        while len(picked) < min(count, len(in_use)):
            weights: Counter = Counter()
            for f in picked:
                weights.update(self.related[f])
            # every firm in use stays possible, so the search can leave a cluster
            candidates = [g for g in in_use if g not in picked]
            picked.append(self.rng.choices(
                candidates, [1 + weights[g] for g in candidates])[0])
        firms = set(picked)
        items = {core.options[k].item for k in chosen
                 if k is not None and core.options[k].firm in firms}
        items |= {i for i, k in enumerate(chosen) if k is None and firms & self.firms_of_item[i]}
        return items

    def _sites(self, size: int) -> set[int]:
        """The items of a random site and of the sites next to it, about `size` of them."""
        free: set[int] = set()
        start = self.rng.choice(self.sites)
        for site in sorted(self.sites, key=lambda s: abs(s - start)):
            free.update(self.items_of_site[site])
            if len(free) >= size:
                break
        return free


def _related_firms(model: Model, coef: dict[int, int]) -> list[Counter]:
    """Per firm, how many items have it and another firm among their cheapest options:
    firms that could swap work with each other."""
    core = model.core
    related = [Counter() for _ in core.firms]
    for ks in core.by_item:
        cheap = sorted((k for k in ks if k not in model.forbidden),
                       key=lambda k: coef.get(model.x[k].index, 0))[:RELATED]
        firms = {core.options[k].firm for k in cheap}
        for f in firms:
            related[f].update(firms - {f})
    return related


def separable(model: Model) -> bool:
    """Whether items are tied together only by firm capacity, the sites' firm limits and
    continuity, and dependencies: no face firm needing half a site's hours, no share range
    and no fairness (they weigh every firm's hours against the total)."""
    core = model.core
    shares = model.hard_shares and not all(rules.unlimited(r) for r in core.share_ranges)
    return (not model.exact and not rules.lead_face(core.problem.policy) and not shares
            and not model.terms.get("fairness") and not core.fixed_hours)


@dataclass
class Change:
    """A better assignment of a neighbourhood's items, found by `Parts.solve`."""

    items: set[int]
    taken: list[int]  # the options chosen for them
    delta: float  # the change of the objective (cents, negative)


class Parts:
    """Neighbourhoods of a separable model as small CP-SAT models of their own: the freed
    items' options against what the fixed rest of the incumbent leaves of each firm's
    energy windows and each site's firm limit, with continuity only for firms new at a site.
    Tracks the incumbent as each item's option."""

    def __init__(self, model: Model, incumbent: Incumbent, coef: dict[int, int],
                 windows: list | None = None):
        """`windows`: the model's energy windows (firm, [(option, energy)], available) when
        the caller has them already (rules.energy_windows, with the model's forbidden)."""
        core = self.core = model.core
        self.model = model
        if windows is None:
            windows = list(energy_windows(core, model.forbidden))
        self.available = [available for *_, available in windows]
        self.windows_of = windows_by_option(len(core.options), windows)
        self.x_coef = [coef.get(v.index, 0) for v in model.x]
        self.u_coef = [coef.get(v.index, 0) for v in model.unassigned]
        self.y_coef = {key: coef.get(y.index, 0) for key, y in model.y.items()}
        policy = core.problem.policy
        limit = rules.firms_per_site(policy)
        pairs = Counter(site for site, _ in model.y)
        # the model limits the firms of a site only where more could come
        self.limit = {site: limit for site, count in pairs.items()
                      if rules.limit_binds(count, limit)}
        self.must = core.must_assign()
        self.incumbent = incumbent
        self.chosen = _chosen(model, incumbent)
        self.load = [0] * len(self.available)
        self.at_pair: Counter = Counter()  # (site, firm) -> items the incumbent has there
        for k in self.chosen:
            if k is not None:
                self._count(k, 1)

    def fixed_part_holds(self) -> bool:
        """Whether the incumbent's assigned items keep every energy window and site limit on
        their own (true of a plan; the LP start's whole items need not keep the limits)."""
        firms: dict = defaultdict(set)
        for site, firm in self._pairs():
            firms[site].add(firm)
        return all(rules.fits(available, load) for load, available in zip(
            self.load, self.available, strict=True)) \
            and all(rules.within_limit(firms[site], limit) for site, limit in self.limit.items())

    def value(self) -> float:
        """The incumbent's objective (cents), counted on the separable model: its options,
        its unassigned items, the (site, firm) pairs it uses, and the model's constant."""
        return float(sum(self.model.constant.values())
                     + sum(self.u_coef[i] if k is None else self.x_coef[k]
                           for i, k in enumerate(self.chosen))
                     + sum(self.y_coef.get(key, 0) for key in self._pairs()))

    def _pairs(self) -> set[tuple[int, int]]:
        """The (site, firm) pairs the incumbent uses."""
        return {key for key, n in self.at_pair.items() if n > 0}

    def _count(self, k: int, sign: int) -> None:
        option = self.core.options[k]
        for w, energy in self.windows_of[k]:
            self.load[w] += sign * energy
        self.at_pair[(self.core.item_site[option.item], option.firm)] += sign

    def solve(self, free: set[int], time_limit: float, seed: int,
              stopped: Callable[[], bool] | None = None, anything: bool = False
              ) -> tuple[int, Change | None]:
        """Re-solve the freed items against the incumbent (not changed here): CP-SAT's
        status and the better assignment of the items, if any (`anything`: the best it
        found, better or not, for an incumbent that does not hold without it)."""
        core, chosen = self.core, self.chosen
        cp = cp_model.CpModel()
        x = {k: cp.new_bool_var("") for i in sorted(free) for k in core.by_item[i]
             if k not in self.model.forbidden}
        u = {i: cp.new_bool_var("") for i in sorted(free)}
        for i in u:
            cp.add_hint(u[i], chosen[i] is None)
        for k, var in x.items():
            cp.add_hint(var, chosen[core.options[k].item] == k)
        self._rules(cp, free, x, u)
        self._capacity(cp, free, x)
        y, before = self._sites(cp, free, x)
        cp.minimize(rules.weighted([(self.x_coef[k], v) for k, v in x.items()]
                                   + [(self.u_coef[i], v) for i, v in u.items()]
                                   + [(self.y_coef[key], v) for key, v in y.items()]))
        before += sum(self.u_coef[i] if chosen[i] is None else self.x_coef[chosen[i]]
                      for i in free)
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = time_limit
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = seed
        with watching(solver.stop_search, stopped):
            status = solver.solve(cp)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE) \
                or (not anything and solver.objective_value > before - 0.5):
            return status, None
        taken = [k for k, v in x.items() if solver.boolean_value(v)]
        return status, Change(set(free), taken, solver.objective_value - before)

    def _rules(self, cp: cp_model.CpModel, free: set[int], x: dict, u: dict) -> None:
        """Rules 1 and 5 on the freed items: one option each, locked and required items
        assigned; dependencies, also between a freed and a fixed item (a fixed unassigned
        dependency leaves the item unassigned, a fixed assigned dependent needs it)."""
        core, chosen = self.core, self.chosen
        for i in free:
            rules.encode_one_option(cp, [x[k] for k in core.by_item[i] if k in x], u[i],
                                    required=i in self.must)
            for p in core.preds[i]:
                rules.encode_needs_dependency(cp, u[p] if p in free else chosen[p] is None,
                                              u[i])
            for s in core.succs[i]:
                if s not in free:
                    rules.encode_needs_dependency(cp, u[i], chosen[s] is None)

    def _capacity(self, cp: cp_model.CpModel, free: set[int], x: dict) -> None:
        """Each energy window holds what the fixed items leave of it."""
        freed: dict[int, int] = defaultdict(int)
        inside: dict[int, list] = defaultdict(list)
        for i in free:
            if self.chosen[i] is not None:
                for w, energy in self.windows_of[self.chosen[i]]:
                    freed[w] += energy
        for k, var in x.items():
            for w, energy in self.windows_of[k]:
                inside[w].append((energy, var))
        for w, terms in inside.items():
            rules.encode_energy(cp, terms, self.available[w] - self.load[w] + freed[w])

    def _sites(self, cp: cp_model.CpModel, free: set[int], x: dict) -> tuple[dict, int]:
        """A variable per (site, firm) the fixed items do not use yet, under the site's
        limit; returns them and the continuity the incumbent pays for them."""
        core, chosen = self.core, self.chosen
        leaving = Counter((core.item_site[i], core.options[chosen[i]].firm) for i in free
                          if chosen[i] is not None)
        fixed = {key for key, n in self.at_pair.items() if n > leaving[key]}
        options: dict = defaultdict(list)
        for k, var in x.items():
            key = (core.item_site[core.options[k].item], core.options[k].firm)
            if key not in fixed:
                options[key].append(var)
        y: dict = {}
        for key, xs in options.items():
            y[key] = cp.new_bool_var("")
            cp.add_hint(y[key], leaving[key] > 0)
            rules.encode_works_at(cp, y[key], xs)
        for site, limit in self.limit.items():
            new = [v for (s, _), v in y.items() if s == site]
            if new:  # rule 6: the new firms within what the fixed firms leave of the limit
                rules.encode_site_firms(cp, new, limit - sum(1 for s, _ in fixed if s == site))
        return y, sum(self.y_coef[key] for key in leaving if key not in fixed)

    def apply(self, change: Change) -> Incumbent:
        """Put the changed items where the change has them; the new incumbent."""
        core = self.core
        x, unassigned = list(self.incumbent.x), list(self.incumbent.unassigned)
        for i in change.items:
            if self.chosen[i] is not None:
                self._count(self.chosen[i], -1)
                x[self.chosen[i]] = False
            self.chosen[i] = None
            unassigned[i] = True
        for k in change.taken:
            i = core.options[k].item
            self.chosen[i] = k
            self._count(k, 1)
            x[k], unassigned[i] = True, False
        self.incumbent = Incumbent(x, unassigned, self.incumbent.objective + change.delta)
        return self.incumbent


def improve(model: Model, incumbent: Incumbent, deadline: Callable[[], float],
            workers: int, seed: int, stopped: Callable[[], bool],
            on_better: Callable[[Incumbent], None] | None = None) -> Incumbent:
    """Improve the incumbent until the deadline (seconds left) runs out or stop is asked."""
    coef = coefficients(model)
    spread = separable(model)
    neighbourhoods = Neighbourhoods(model, seed, coef, spread)
    if spread:
        return _improve_parts(model, incumbent, deadline, seed, stopped, on_better,
                              neighbourhoods, Parts(model, incumbent, coef))
    size = max(10, len(model.core.items) // 10)
    # short steps: many small re-solves beat a few long ones; longer for big models,
    # whose presolve alone takes a while
    step_limit = 0.25 + len(model.x) / 100_000
    step = 0
    while deadline() > 0.2 and not stopped():
        step += 1
        free = neighbourhoods.pick(_chosen(model, incumbent), size)
        status, better = _solve_fixed(model, incumbent, free, min(deadline(), step_limit),
                                      workers, seed + step, stopped)
        if better is not None:
            incumbent = better
            if on_better:
                on_better(incumbent)
        size = _resize(size, status, len(model.core.items))
    return incumbent


def _improve_parts(model: Model, incumbent: Incumbent, deadline: Callable[[], float],
                   seed: int, stopped: Callable[[], bool],
                   on_better: Callable[[Incumbent], None] | None,
                   neighbourhoods: Neighbourhoods, parts: Parts) -> Incumbent:
    """The search on a separable model, one small model at a time: one CP-SAT worker solves
    such a model fastest (two prove fewer of them optimal in the same time)."""
    size = max(10, len(model.core.items) // 10)
    step = 0
    while deadline() > 0.2 and not stopped():
        step += 1
        free = neighbourhoods.pick(parts.chosen, size)
        status, change = parts.solve(free, min(deadline(), PART_STEP), seed + step, stopped)
        if change is not None:
            incumbent = parts.apply(change)
            if on_better:
                on_better(incumbent)
        size = _resize(size, status, len(model.core.items))
    return incumbent


def _resize(size: int, status: int, most: int) -> int:
    """Grow the neighbourhood while sub-problems solve to optimality, shrink it otherwise."""
    if status == cp_model.OPTIMAL:
        return min(most, int(size * 1.2) + 1)
    return max(5, int(size * 0.7))


def _solve_fixed(model: Model, incumbent: Incumbent, free: set[int], time_limit: float,
                 workers: int, seed: int, stopped: Callable[[], bool] | None = None
                 ) -> tuple[int, Incumbent | None]:
    """Re-solve the freed items in the whole model, every other item fixed by its hint:
    CP-SAT's status and the better incumbent, if any."""
    fix_all_but(model, incumbent, free, [v.index for v in model.x],
                 [v.index for v in model.unassigned])
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = time_limit
    params.num_workers = max(1, workers)
    params.random_seed = seed
    params.fix_variables_to_their_hinted_value = True
    with watching(solver.stop_search, stopped):
        status = solver.solve(model.cp)
    model.cp.clear_hints()
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) \
            and solver.objective_value < incumbent.objective - 0.5:
        return status, incumbent_of(solver, model)
    return status, None


def fix_all_but(model: Model, incumbent: Incumbent, free: set[int], x_index, u_index) -> None:
    """Hint (and so fix) every assignment variable of the items not in `free`."""
    core = model.core
    model.cp.clear_hints()
    hint = model.cp.proto.solution_hint
    variables, values = [], []
    for k, option in enumerate(core.options):
        if option.item not in free:
            variables.append(x_index[k])
            values.append(int(incumbent.x[k]))
    for i, out in enumerate(incumbent.unassigned):
        if i not in free:
            variables.append(u_index[i])
            values.append(int(out))
    hint.vars.extend(variables)
    hint.values.extend(values)
