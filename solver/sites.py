"""Large-neighbourhood search over whole sites, with days: free every item of a few sites,
keep the rest of the plan where it is, and let the exact model (firms and days together)
re-plan the freed part against the firms' remaining hours.

The assignment master reasons about energy over windows of days, so its answer can leave items
that no day-by-day placement fits (a site's servers booked late, a firm full on the days a
desktop batch could run). This search works on the real calendar: it places what is left
unassigned, moves work between firms and days to make room, and lowers the cost and the number
of firms per site. Each step keeps a complete plan; a step is kept only when it is better.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, replace

from ortools.sat.python import cp_model

from . import rules
from .model import build
from .prepare import Core, Opt, bits
from .schedule import Calendar, Placement
from .stopping import watching


@dataclass
class Part:
    """The freed items as a core of their own, and the way back to the whole problem."""

    core: Core
    items: list[int]  # part item -> whole item
    options: list[Opt]  # part option -> whole option
    sites: list[int]


class Plan:
    """The search's current plan, with what each step needs kept up to date: the firms'
    remaining hours per day, each firm's hours, the firms at each site."""

    def __init__(self, core: Core, placement: Placement):
        self.core = core
        self.placement = Placement(chosen=dict(placement.chosen), start=dict(placement.start))
        self.calendar = Calendar(core)
        self.units = defaultdict(int)  # firm -> work (HOUR units)
        self.site_firms: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        for i, option in self.placement.chosen.items():
            self._book(i, option, self.placement.start[i])

    def _book(self, i: int, option: Opt, start: int) -> None:
        self.calendar.book(option, start)
        self.units[option.firm] += option.units
        self.site_firms[self.core.item_site[i]][option.firm] += 1

    def _unbook(self, i: int) -> None:
        option, start = self.placement.chosen[i], self.placement.start[i]
        self.calendar.unbook(option, start)
        self.units[option.firm] -= option.units
        firms = self.site_firms[self.core.item_site[i]]
        firms[option.firm] -= 1
        if not firms[option.firm]:
            del firms[option.firm]

    def value_of(self, part: Part, answer: dict[int, tuple[Opt, int]] | None = None) -> float:
        """The whole plan's value less what the part cannot change (the items outside it),
        with the part's items as now or as in `answer` (item -> option, start)."""
        core = self.core
        terms = dict.fromkeys(rules.TERMS, 0)
        units = dict(self.units)
        for i in part.items:
            now = self.placement.chosen.get(i)
            if now is not None:
                units[now.firm] -= now.units
        continuity = 0
        for site in part.sites:
            firms = set()
            for i in core.site_items[site]:
                option, start = self._answer(i, answer)
                rules.item_cents(core, terms, i, option, start)
                if option is not None:
                    firms.add(option.firm)
                    units[option.firm] = units.get(option.firm, 0) + option.units
            continuity += len(firms)
        terms["continuity"] = core.prices.continuity_cents(continuity)
        terms["fairness"] = core.prices.fairness_cents(units, sum(units.values()))
        return sum(terms.values()) / rules.CENT

    def _answer(self, i: int, answer):
        if answer is not None:
            return answer.get(i, (None, None))
        return self.placement.chosen.get(i), self.placement.start.get(i)

    def replace(self, part: Part, answer: dict[int, tuple[Opt, int]]) -> None:
        for i in part.items:
            if i in self.placement.chosen:
                self._unbook(i)
                del self.placement.chosen[i], self.placement.start[i]
        for i, (option, start) in answer.items():
            self.placement.chosen[i], self.placement.start[i] = option, start
            self._book(i, option, start)

    def part_of(self, sites: list[int]) -> Part:
        """The items of `sites` as a core whose firms have only the hours the rest of the
        plan leaves, whose days keep every dependency on the rest, and whose firm hours count
        the rest's hours (so share ranges and fairness are judged on the whole plan)."""
        core, placement = self.core, self.placement
        freed = [i for s in sites for i in core.site_items[s]]
        position = {i: n for n, i in enumerate(freed)}
        booked = [i for i in freed if i in placement.chosen]
        for i in booked:
            self.calendar.unbook(placement.chosen[i], placement.start[i])
        try:
            options, whole, by_item, required = self._options(freed, position)
            firms = {o.firm for o in options}
            capacity = [list(self.calendar.residual[f]) if f in firms else []
                        for f in range(len(core.firms))]
        finally:
            for i in booked:
                self.calendar.book(placement.chosen[i], placement.start[i])
        fixed = dict(self.units)
        for i in booked:
            option = placement.chosen[i]
            fixed[option.firm] -= option.units
        site_items: list[list[int]] = [[] for _ in core.site_ids]
        for n, i in enumerate(freed):
            site_items[core.item_site[i]].append(n)
        part = Core(
            problem=core.problem, days=core.days, items=tuple(core.items[i] for i in freed),
            firms=core.firms, item_site=[core.item_site[i] for i in freed],
            site_ids=core.site_ids, capacity=capacity, options=options, by_item=by_item,
            preds=[[position[p] for p in core.preds[i] if p in position] for i in freed],
            succs=[[position[s] for s in core.succs[i] if s in position] for i in freed],
            topo=[position[i] for i in core.topo if i in position],
            reference={position[i]: f for i, f in core.reference.items() if i in position},
            reference_start={position[i]: d for i, d in core.reference_start.items()
                             if i in position},
            site_items=site_items, required=required,
            fixed_hours=[fixed.get(f, 0) for f in range(len(core.firms))],
            prices=rules.Prices(core.problem.policy.weights, [core.item_units[i] for i in freed],
                               core.prices.targets),
            item_units=[core.item_units[i] for i in freed],
            share_ranges=core.share_ranges)
        return Part(part, freed, whole, list(sites))

    def _options(self, freed: list[int], position: dict[int, int]):
        core, placement = self.core, self.placement
        options: list[Opt] = []
        whole: list[Opt] = []
        by_item: list[list[int]] = [[] for _ in freed]
        required = set()
        for n, i in enumerate(freed):
            ready, until, possible = _bounds(core, placement, position, i)
            if rules.needed_by((s for s in core.succs[i] if s not in position),
                               placement.chosen):
                required.add(n)  # an assigned dependent outside keeps this item assigned
            if not possible:
                continue
            for k in core.by_item[i]:
                option = core.options[k]
                last = until - option.days
                if last < ready:
                    continue
                room = self.calendar.residual[option.firm]
                starts = option.starts >> ready << ready & ((1 << (last + 1)) - 1)
                starts = sum(1 << d for d in bits(starts)
                             if rules.run_fits(room, option.load, d, option.days))
                if starts:
                    by_item[n].append(len(options))
                    options.append(replace(option, index=len(options), item=n, starts=starts,
                                           prefer=starts))
                    whole.append(option)
        return options, whole, by_item, required


def _bounds(core: Core, placement: Placement, position: dict[int, int],
            i: int) -> tuple[int, int, bool]:
    """First day and day-after-last the item may use given the fixed rest of the plan, and
    whether it may be assigned at all (every fixed dependency assigned)."""
    ready = rules.ready_day(placement.start[p] + placement.chosen[p].days
                            if p in placement.chosen else None
                            for p in core.preds[i] if p not in position)
    if ready is None:
        return 0, 0, False
    until = rules.latest_end((placement.start[s] for s in core.succs[i]
                              if s not in position and s in placement.chosen), core.horizon)
    return ready, until, True


def solve_part(part: Part, placement: Placement, time_limit: float, workers: int,
               seed: int, stopped: Callable[[], bool] | None = None
               ) -> dict[int, tuple[Opt, int]] | None:
    """Re-plan the part with the exact model, hinted with the current plan: item -> (option,
    first day) for the part's assigned items, or None when CP-SAT found nothing in time."""
    model = build(part.core, exact=True)
    cp = model.cp
    for k, option in enumerate(part.options):
        current = placement.chosen.get(option.item)
        taken = current is not None and current.index == option.index
        cp.add_hint(model.x[k], taken)
        if taken:
            cp.add_hint(model.start[k], placement.start[option.item])
    for n, i in enumerate(part.items):
        cp.add_hint(model.unassigned[n], i not in placement.chosen)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, time_limit)
    solver.parameters.num_workers = max(1, workers)
    solver.parameters.random_seed = seed
    with watching(solver.stop_search, stopped):
        status = solver.solve(cp)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    return {option.item: (option, solver.value(model.start[k]))
            for k, option in enumerate(part.options) if solver.boolean_value(model.x[k])}


class SiteNeighbourhoods:
    """Which sites to free. First each site with unassigned work on its own (re-planning one
    site with the firms that still have room is often enough), then such a site with the
    sites whose firms could make room for it, then a random site and those sites, until the
    part has about `budget` options."""

    def __init__(self, core: Core, seed: int, budget: int):
        self.core, self.budget = core, budget
        self.rng = random.Random(seed)
        self.firms_of_site = [sorted({core.options[k].firm for i in items
                                      for k in core.by_item[i]})
                              for items in core.site_items]
        self.size_of_site = [sum(len(core.by_item[i]) for i in items)
                             for items in core.site_items]
        self.sites = [s for s, items in enumerate(core.site_items) if items]
        self.tried_alone: set[int] = set()
        self.tried_together: set[int] = set()

    def pick(self, plan: Plan) -> list[int]:
        core, placement = self.core, plan.placement
        open_sites = sorted({core.item_site[i] for i in range(len(core.items))
                             if i not in placement.chosen and core.by_item[i]})
        alone = [s for s in open_sites if s not in self.tried_alone]
        if alone:
            self.tried_alone.add(alone[0])
            return [alone[0]]
        together = [s for s in open_sites if s not in self.tried_together]
        if together:
            seed = together[0]
            self.tried_together.add(seed)
        else:
            seed = self.rng.choice(self.sites)
        chosen = [seed]
        size = self.size_of_site[seed]
        nearby = sorted({s for f in self.firms_of_site[seed] for s, firms in
                         plan.site_firms.items() if f in firms} - {seed})
        self.rng.shuffle(nearby)
        for s in nearby:
            if size + self.size_of_site[s] > self.budget:
                continue
            chosen.append(s)
            size += self.size_of_site[s]
        return chosen

    def forget(self) -> None:
        """Sites left with unassigned work may fit once others have moved: try them again."""
        self.tried_together.clear()


def improve(core: Core, placement: Placement, deadline: Callable[[], float], workers: int,
            seed: int, stopped: Callable[[], bool], budget: int = 300,
            step_limit: float = 0.5, stats: dict | None = None,
            on_better: Callable[[float, Placement], None] | None = None) -> Placement:
    """The search: free sites, re-plan them exactly, keep the answer when the plan gets
    better (telling `on_better` how much, in euros, and the plan now); until `deadline()`
    seconds are left or the stop flag. The caller checks the result with the independent checker."""
    neighbourhoods = SiteNeighbourhoods(core, seed, budget)
    plan = Plan(core, placement)
    step = kept = 0
    while deadline() > 0.1 and not stopped():
        step += 1
        part = plan.part_of(neighbourhoods.pick(plan))
        if not part.options:
            continue
        before = plan.value_of(part)
        answer = solve_part(part, plan.placement, min(step_limit, deadline()), workers,
                            seed + step, stopped)
        after = plan.value_of(part, answer) if answer is not None else before
        if after < before - 1e-6:
            plan.replace(part, answer)
            neighbourhoods.forget()
            kept += 1
            if on_better:
                on_better(before - after, plan.placement)
    if stats is not None:
        stats.update(site_steps=float(step), site_steps_kept=float(kept))
    return plan.placement
