"""Placing items on days: a list scheduler over the firms' remaining hours per day.

`schedule` places items whose firm is already chosen (the master's answer), in dependency
order, each on its earliest possible run of days. `greedy` also chooses the firm: the cheapest
that can still take the item, as a coordinator would by hand; it is the construction heuristic
(the first plan and the hint) and the greedy baseline of the benchmarks.

Each of them, and `regret`, `fill` and `rebalance`, takes an optional `stopped()`, polled
every POLL_EVERY items (or per site or move): on 5,000 sites each runs for seconds, which
must not outlast the solve's stop flag. Stopped, it returns what it has done so far: each
item placed whole or not at all, the others unassigned.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from . import rules
from .prepare import Core, Opt, highest_bit

POLL_EVERY = 64  # items between two looks at the stop flag: a look costs next to nothing


@dataclass
class Placement:
    """Chosen options and first days; items missing from `chosen` are unassigned."""

    chosen: dict[int, Opt] = field(default_factory=dict)
    start: dict[int, int] = field(default_factory=dict)
    failed: dict[int, str] = field(default_factory=dict)  # item -> why it could not be placed
    stopped: bool = False  # stopped before it considered every item (greedy, schedule)


class Calendar:
    """The firms' remaining hours per day."""

    def __init__(self, core: Core):
        self.core = core
        self.residual = [list(days) for days in core.capacity]
        # a re-plan's items: (item, reference firm) -> the reference's first day
        self.wanted = {(i, core.reference[i]): day for i, day in core.reference_start.items()
                       if i in core.reference}

    def earliest(self, option: Opt, ready: int) -> int | None:
        """The first allowed start >= ready whose days all have room for the option: among
        the preferred starts (room for every dependent) first, then among all. In a re-plan,
        the item's reference day instead when its reference firm does it, the day is >=
        ready and has room, and it ends no later past the due date."""
        found = self._first(option, ready)
        day = self.wanted.get((option.item, option.firm)) if self.wanted else None
        if day is None or day == found or day < ready or not option.starts >> day & 1 \
                or day + option.days > self.core.horizon \
                or rules.last_full_day(self.residual[option.firm], option.load, day,
                                       option.days) is not None:
            return found
        if found is not None and rules.lateness_days(self.core, option.item, option, day) \
                > rules.lateness_days(self.core, option.item, option, found):
            return found
        return day

    def _first(self, option: Opt, ready: int) -> int | None:
        if option.prefer and option.prefer != option.starts:
            found = self._earliest(option, option.prefer, ready)
            if found is not None:
                return found
        return self._earliest(option, option.starts, ready)

    def _earliest(self, option: Opt, allowed: int, ready: int) -> int | None:
        room, load, days = self.residual[option.firm], option.load, option.days
        starts = allowed >> ready << ready
        while starts:
            start = (starts & -starts).bit_length() - 1
            # the run's last day without room: no start up to it can work either
            full = rules.last_full_day(room, load, start, days)
            if full is None:
                return start
            starts &= ~((1 << (full + 1)) - 1)
        return None

    def book(self, option: Opt, start: int) -> None:
        room = self.residual[option.firm]
        for d in range(start, start + option.days):
            room[d] -= option.load

    def unbook(self, option: Opt, start: int) -> None:
        room = self.residual[option.firm]
        for d in range(start, start + option.days):
            room[d] += option.load


def _priority(core: Core, item: int) -> tuple:
    """Tightest first: the latest possible start, then the longest work."""
    latest = max((highest_bit(core.options[k].prefer or core.options[k].starts)
                  for k in core.by_item[item]), default=-1)
    return (latest, -core.items[item].hours, item)


def _in_order(core: Core):
    """Yield items so that each comes after its dependencies, tightest ready item first."""
    waiting = [len(p) for p in core.preds]
    heap = [(_priority(core, i), i) for i in range(len(core.items)) if not waiting[i]]
    heapq.heapify(heap)
    while heap:
        _, i = heapq.heappop(heap)
        yield i
        for j in core.succs[i]:
            waiting[j] -= 1
            if not waiting[j]:
                heapq.heappush(heap, (_priority(core, j), j))


def _ready_day(core: Core, placement: Placement, item: int) -> int | None:
    """The first day after every dependency ends; None when a dependency is unassigned."""
    return rules.ready_day(placement.start[p] + placement.chosen[p].days
                           if p in placement.start else None for p in core.preds[item])


def schedule(core: Core, chosen: dict[int, Opt], calendar: Calendar | None = None,
             repair: bool = False, stopped: Callable[[], bool] | None = None) -> Placement:
    """Place the items of `chosen` on their firm's days; report those that do not fit.
    With `repair`, an item that does not fit with its firm tries the item's other firms,
    cheapest first, within the site's firm limit, the sole-firm policy and the firms'
    maximum shares of the chosen hours. When `stopped()` turns true (polled every
    POLL_EVERY items): the items placed so far, the rest unassigned, marked `stopped`."""
    stopped = stopped or (lambda: False)
    calendar = calendar or Calendar(core)
    placement = Placement()
    policy = core.problem.policy
    sites: dict[int, _SiteState] = defaultdict(_SiteState)
    shares = _ShareRoom(core, chosen)
    for n, i in enumerate(_in_order(core)):
        if n % POLL_EVERY == 0 and stopped():
            placement.stopped = True
            break
        option = chosen.get(i)
        if option is None:
            continue
        ready = _ready_day(core, placement, i)
        if ready is None:
            placement.failed[i] = "dependency"
            continue
        allowed = _site_allows(policy, sites[core.item_site[i]], option.firm)
        start = calendar.earliest(option, ready) if allowed else None
        if start is None and repair:
            option, start = _other_firm(core, calendar, sites[core.item_site[i]], i, ready,
                                        option, policy, shares)
            if start is not None:
                shares.move(chosen[i], option)
        if start is None:
            placement.failed[i] = "capacity"
            continue
        calendar.book(option, start)
        placement.chosen[i], placement.start[i] = option, start
        sites[core.item_site[i]].firms[option.firm] += option.units
    return placement


class _ShareRoom:
    """Each firm's work in a chosen assignment against its maximum share of it."""

    def __init__(self, core: Core, chosen: dict[int, Opt]):
        self.units: dict[int, int] = defaultdict(int)
        for option in chosen.values():
            self.units[option.firm] += option.units
        self.cap = rules.share_caps(core, sum(self.units.values()))

    def allows(self, option: Opt, instead_of: Opt) -> bool:
        """Whether the firm of `option` stays within its cap when it replaces `instead_of`."""
        units = self.units[option.firm] + option.units
        if instead_of.firm == option.firm:
            units -= instead_of.units
        return units <= self.cap[option.firm]

    def move(self, before: Opt, after: Opt) -> None:
        self.units[before.firm] -= before.units
        self.units[after.firm] += after.units


def _other_firm(core: Core, calendar: Calendar, state: _SiteState, item: int, ready: int,
                failed: Opt, policy, shares: _ShareRoom) -> tuple[Opt, int | None]:
    for option in _site_firms_first(core, state, item):
        if option.index == failed.index or not _site_allows(policy, state, option.firm) \
                or not shares.allows(option, failed):
            continue
        start = calendar.earliest(option, ready)
        if start is not None:
            return option, start
    return failed, None


def _site_firms_first(core: Core, state: _SiteState, item: int) -> list[Opt]:
    """The item's options, firms already at the site first (they keep the site within its
    firm limit), then cheapest."""
    return [core.options[k] for k in sorted(
        core.by_item[item], key=lambda k: (core.options[k].firm not in state.firms,
                                           core.options[k].cents, k))]


@dataclass
class _SiteState:
    firms: dict[int, int] = field(default_factory=lambda: defaultdict(int))  # firm -> units


def greedy(core: Core, stopped: Callable[[], bool] | None = None) -> Placement:
    """The greedy plan, twice: the first pass learns how many hours end up assigned, so
    the second can hold each firm's maximum share against that total, not all the work.
    When `stopped()` turns true (polled every POLL_EVERY items): the first pass when it was
    whole, else the part of it done so far, marked `stopped`."""
    stopped = stopped or (lambda: False)
    first = _greedy(core, sum(core.item_units), stopped)
    if not rules.shares_hard(core.problem.policy) or first.stopped or stopped():
        return first
    assigned = sum(option.units for option in first.chosen.values())
    second = _greedy(core, assigned * 98 // 100, stopped)
    return first if second.stopped else second  # a whole plan rather than a part


def _greedy(core: Core, total: int, stopped: Callable[[], bool]) -> Placement:
    """Cheapest firm that can still take each item, tightest items first.

    Keeps the calendar, precedence, at most K firms per site, the sole-firm policy and each
    firm's maximum share of all the work (estimated on the items' hours). It does not chase
    minimum shares or the lead firm's half of a site: the model's job."""
    policy = core.problem.policy
    calendar = Calendar(core)
    placement = Placement()
    sites: dict[int, _SiteState] = defaultdict(_SiteState)
    cap = rules.share_caps(core, total)
    firm_units = defaultdict(int)
    locked = {lock.item for lock in core.problem.locks}
    for n, i in enumerate(_in_order(core)):
        if n % POLL_EVERY == 0 and stopped():
            placement.stopped = True
            break
        ready = _ready_day(core, placement, i)
        if ready is None:
            placement.failed[i] = "dependency"
            continue
        state = sites[core.item_site[i]]
        best = None
        for k in sorted(core.by_item[i], key=_greedy_cost(core, state)):
            option = core.options[k]
            if core.items[i].id not in locked and not (
                    _site_allows(policy, state, option.firm)
                    and _leaves_site_coverable(core, placement, i, state, option.firm)):
                continue
            if firm_units[option.firm] + option.units > cap[option.firm]:
                continue
            start = calendar.earliest(option, ready)
            if start is not None:
                best = (option, start)
                break
        if best is None:
            placement.failed[i] = "capacity"
            continue
        option, start = best
        calendar.book(option, start)
        placement.chosen[i], placement.start[i] = option, start
        state.firms[option.firm] += option.units
        firm_units[option.firm] += option.units
    return placement


def _greedy_cost(core: Core, state: _SiteState) -> Callable[[int], tuple]:
    """Option k -> what it adds to the objective's cost and continuity terms (cents) at the
    site, then its firm."""
    options, firms = core.options, state.firms
    charge = [core.prices.continuity_cents(0), core.prices.continuity_cents(1)]

    def cost(k: int) -> tuple:
        option = options[k]
        return (option.price + charge[option.firm not in firms], option.firm)
    return cost


def _leaves_site_coverable(core: Core, placement: Placement, item: int, state: _SiteState,
                           firm: int) -> bool:
    """A firm that fills the site's last free place must leave every item of the site still
    to be placed to a firm at the site (by hand: don't let the server firm lock out the
    desktops)."""
    limit = rules.firms_per_site(core.problem.policy)
    if firm in state.firms or not rules.site_full(set(state.firms) | {firm}, limit):
        return True
    firms = set(state.firms) | {firm}
    site = core.item_site[item]
    return all(any(core.options[k].firm in firms for k in core.by_item[j])
               for j in core.site_items[site]
               if j != item and j not in placement.chosen and core.by_item[j])


def _site_allows(policy, state: _SiteState, firm: int) -> bool:
    return rules.site_admits(state.firms, firm, rules.firms_per_site(policy))


def site_units(core: Core, placement: Placement) -> dict[int, dict[int, int]]:
    """Work (HOUR units) per site and firm of a placement."""
    result: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for i, option in placement.chosen.items():
        result[core.item_site[i]][option.firm] += option.units
    return result


def face_firms(core: Core, placement: Placement) -> dict[int, int]:
    """The firm facing the client at each site with work (rules.face_firm)."""
    return {site: rules.face_firm(firms) for site, firms in site_units(core, placement).items()}


def regret(core: Core, stopped: Callable[[], bool] | None = None) -> dict[int, Opt]:
    """Firms by regret (Martello and Toth): repeatedly give the item that would lose most by
    not getting its cheapest firm that firm, against each firm's hours over the whole
    horizon. Keeps at most K firms per site and the sole-firm policy; days come later.
    When `stopped()` turns true (polled every POLL_EVERY items): the firms given so far."""
    stopped = stopped or (lambda: False)
    policy = core.problem.policy
    residual = [sum(days) for days in core.capacity]
    site_firms: dict[int, set[int]] = defaultdict(set)
    ordered = [sorted((core.options[k] for k in ks), key=lambda o: (o.cents, o.firm))
               for ks in core.by_item]

    def best_two(i: int):
        state = _SiteState()
        state.firms.update(dict.fromkeys(site_firms[core.item_site[i]], 1))
        found = []
        for option in ordered[i]:
            if rules.fits(residual[option.firm], option.energy) and _site_allows(
                    policy, state, option.firm):
                found.append(option)
                if len(found) == 2:
                    break
        return found

    def key(found) -> float:
        if not found:
            return 0.0
        return found[1].cost - found[0].cost if len(found) > 1 else float("inf")

    heap = []
    for i in range(len(core.items)):
        if i % POLL_EVERY == 0 and stopped():
            return {}
        found = best_two(i)
        if found:
            heap.append((-key(found), i))
    heapq.heapify(heap)
    chosen: dict[int, Opt] = {}
    pops = 0
    while heap:
        if pops % POLL_EVERY == 0 and stopped():
            break
        pops += 1
        neg, i = heapq.heappop(heap)
        found = best_two(i)
        if not found:
            continue
        if -key(found) != neg:  # stale: capacity or site firms changed since it was pushed
            heapq.heappush(heap, (-key(found), i))
            continue
        option = found[0]
        chosen[i] = option
        residual[option.firm] -= option.energy
        site_firms[core.item_site[i]].add(option.firm)
    for i in core.topo:  # an item whose dependency is left out is left out too
        if i in chosen and not rules.dependencies_assigned(core.preds[i], chosen):
            del chosen[i]
    return chosen


def rebalance(core: Core, placement: Placement, deadline: float | None = None,
              stopped: Callable[[], bool] | None = None) -> Placement:
    """Move items between firms until every firm's hours lie in its share range (when shares
    are hard): from a firm above its maximum, or to a firm below its minimum, each move onto
    days where the new firm has room, between the item's dependencies and dependents, within
    the site's firm limit; until the monotonic `deadline` or `stopped()` (both looked at
    before each move). Best effort; the checker decides whether the result is valid."""
    if not rules.shares_hard(core.problem.policy):
        return placement
    stopped = stopped or (lambda: False)
    # moves change a copy: the plan given (the greedy first plan, say) stays as it was
    placement = Placement(dict(placement.chosen), dict(placement.start),
                          dict(placement.failed), placement.stopped)
    calendar = Calendar(core)
    units = defaultdict(int)
    for i, option in placement.chosen.items():
        calendar.book(option, placement.start[i])
        units[option.firm] += option.units
    stuck: set[int] = set()
    for _ in range(20 * len(core.items) + 100):
        if (deadline is not None and time.monotonic() > deadline) or stopped():
            break
        total = sum(units.values())
        # outside the range by the rule itself (solver.rules.within_share)
        over = [f for f, (_, high) in enumerate(core.share_ranges) if f not in stuck
                and rules.above_share(units[f], total, high)]
        under = [f for f, (low, _) in enumerate(core.share_ranges) if f not in stuck
                 and rules.below_share(units[f], total, low)]
        if not over and not under:
            break
        firm = over[0] if over else under[0]
        keeps_range = _keeps_ranges(core, units, total, firm)
        move = (_move_away(core, placement, calendar, firm, set(over), keeps_range) if over
                else _move_to(core, placement, calendar, firm, keeps_range))
        if move is None and over:
            # above its maximum and no firm can take one item alone (the site's firm
            # limit, days): leave one out, for fill to place within the share ranges
            move = _leave_out(core, placement, calendar, firm)
        if move is None:
            stuck.add(firm)  # nothing more to move for this firm: let the checker judge
            continue
        before, after = move
        units[before.firm] -= before.units
        if after is not None:
            units[after.firm] += after.units
    return placement


def _keeps_ranges(core: Core, units, total: int, firm: int):
    """Whether a move (the option an item leaves, the one it takes) takes no firm but `firm`
    out of its share range: the one that gives stays at or above its minimum, the one that
    takes at or below its maximum. Moves that pushed another firm out let two firms trade
    the same hours back and forth until the deadline (5,000x400x90, docs/benchmarks.md)."""
    def keeps(before: Opt, after: Opt) -> bool:
        moved = total - before.units + after.units
        low = core.share_ranges[before.firm][0]
        high = core.share_ranges[after.firm][1]
        return (before.firm == firm
                or not rules.below_share(units[before.firm] - before.units, moved, low)) \
            and (after.firm == firm
                 or not rules.above_share(units[after.firm] + after.units, moved, high))
    return keeps


def _leave_out(core: Core, placement: Placement, calendar: Calendar,
               firm: int) -> tuple[Opt, None] | None:
    """Unassign the firm's smallest item that is not locked or required and that no
    assigned item depends on."""
    must = core.must_assign()
    items = [i for i, o in placement.chosen.items() if o.firm == firm and i not in must
             and not rules.needed_by(core.succs[i], placement.chosen)]
    if not items:
        return None
    item = min(items, key=lambda i: (placement.chosen[i].hours, i))
    option = placement.chosen.pop(item)
    calendar.unbook(option, placement.start.pop(item))
    return option, None


def _bounds(core: Core, placement: Placement, item: int) -> tuple[int, int]:
    """First day after the item's dependencies end; day after which dependents start."""
    ready = rules.ready_day(placement.start[p] + placement.chosen[p].days
                            for p in core.preds[item] if p in placement.chosen)
    until = rules.latest_end((placement.start[s] for s in core.succs[item]
                              if s in placement.chosen), core.horizon)
    return ready, until


def _try_move(core: Core, placement: Placement, calendar: Calendar, item: int,
              option: Opt) -> tuple[Opt, Opt] | None:
    current = placement.chosen[item]
    site_firms = {placement.chosen[i].firm for i in core.site_items[core.item_site[item]]
                  if i != item and i in placement.chosen}
    if not rules.site_admits(site_firms, option.firm,
                             rules.firms_per_site(core.problem.policy)):
        return None
    ready, until = _bounds(core, placement, item)
    calendar.unbook(current, placement.start[item])
    start = calendar.earliest(option, ready)
    if start is None or not rules.precedes(start + option.days, until):
        calendar.book(current, placement.start[item])
        return None
    calendar.book(option, start)
    placement.chosen[item], placement.start[item] = option, start
    return current, option


def _move_away(core, placement, calendar, firm: int, over: set[int], allowed):
    items = sorted((i for i, o in placement.chosen.items() if o.firm == firm),
                   key=lambda i: placement.chosen[i].hours)
    for i in items:
        for k in sorted(core.by_item[i], key=lambda k: core.options[k].cents):
            option = core.options[k]
            if option.firm not in over and allowed(placement.chosen[i], option):
                move = _try_move(core, placement, calendar, i, option)
                if move is not None:
                    return move
    return None


def _move_to(core, placement, calendar, firm: int, allowed) -> bool:
    candidates = []
    for i, current in placement.chosen.items():
        for k in core.by_item[i]:
            option = core.options[k]
            if option.firm == firm and current.firm != firm and allowed(current, option):
                candidates.append((option.cost - current.cost, i, option))
    for _, i, option in sorted(candidates, key=lambda c: (c[0], c[1])):
        move = _try_move(core, placement, calendar, i, option)
        if move is not None:
            return move
    return None


def fill(core: Core, placement: Placement,
         stopped: Callable[[], bool] | None = None) -> Placement:
    """Place what is left unassigned: first each such item with the cheapest firm that has
    room between its dependencies and its dependents, preferring firms already at the site;
    then each site still short re-planned whole with the one or two firms that can take all
    of it. Keeps the site's firm limit and the sole-firm policy; a new placement; shares are
    left to `rebalance` and the checker. When `stopped()` turns true (polled every
    POLL_EVERY items, and before each site it re-plans): the plan as it is then, every item
    of `placement` still assigned."""
    stopped = stopped or (lambda: False)
    result = Placement(chosen=dict(placement.chosen), start=dict(placement.start))
    calendar = Calendar(core)
    sites: dict[int, _SiteState] = defaultdict(_SiteState)
    for i, option in result.chosen.items():
        calendar.book(option, result.start[i])
        sites[core.item_site[i]].firms[option.firm] += option.units
    policy = core.problem.policy
    shares = Shares(core, result)
    for n, i in enumerate(core.topo):
        if n % POLL_EVERY == 0 and stopped():
            return result
        if i in result.chosen or not core.by_item[i]:
            continue
        state = sites[core.item_site[i]]
        placed = _place_one(core, result, calendar, i,
                            [option for option in _site_firms_first(core, state, i)
                             if _site_allows(policy, state, option.firm)], shares)
        if placed is not None:
            state.firms[placed.firm] += placed.units
    short = sorted({core.item_site[i] for i in range(len(core.items))
                    if i not in result.chosen and core.by_item[i]})
    for site in short:
        if stopped():  # a site is re-planned whole or not at all
            break
        _replan_site(core, result, calendar, sites, shares, site)
    return result


class Shares:
    """Each firm's work against its share range (hard shares): whether one more option
    keeps every firm inside, by the rule itself (solver.rules.within_share)."""

    def __init__(self, core: Core, placement: Placement):
        self.core = core
        self.hard = rules.shares_hard(core.problem.policy)
        self.units = defaultdict(int)
        for option in placement.chosen.values():
            self.units[option.firm] += option.units
        self.total = sum(self.units.values())
        self.lows = [(f, low) for f, (low, _) in enumerate(core.share_ranges) if low > 0]
        self._refresh()

    def _refresh(self) -> None:
        # the largest total at which every firm with a minimum share still has it
        self.room = min((rules.largest_total(self.units[f], low) for f, low in self.lows),
                        default=float("inf"))

    def allows(self, option: Opt) -> bool:
        if not self.hard:
            return True
        total = self.total + option.units
        high = self.core.share_ranges[option.firm][1]
        if rules.above_share(self.units[option.firm] + option.units, total, high):
            return False
        if total <= self.room:
            return True
        return not any(rules.below_share(
            self.units[f] + (option.units if f == option.firm else 0), total, low)
            for f, low in self.lows)

    def add(self, option: Opt, sign: int = 1) -> None:
        self.units[option.firm] += sign * option.units
        self.total += sign * option.units
        self._refresh()


def _place_one(core: Core, placement: Placement, calendar: Calendar, item: int,
               options: list[Opt], shares: Shares) -> Opt | None:
    """Book the item with the first of `options` that has room between its dependencies and
    its dependents and keeps the share ranges; the option, or None."""
    ready = _ready_day(core, placement, item)
    if ready is None:
        return None
    until = _bounds(core, placement, item)[1]
    for option in options:
        if not shares.allows(option):
            continue
        start = calendar.earliest(option, ready)
        if start is not None and rules.precedes(start + option.days, until):
            calendar.book(option, start)
            shares.add(option)
            placement.chosen[item], placement.start[item] = option, start
            return option
    return None


def _replan_site(core: Core, placement: Placement, calendar: Calendar,
                 sites: dict[int, _SiteState], shares: Shares, site: int) -> None:
    """Take the site's items off the plan and place them all again with one firm, or two,
    that can do all of them, cheapest first; keep the old placement unless more is placed."""
    items = [i for i in core.topo if core.item_site[i] == site]
    before = {i: (placement.chosen[i], placement.start[i]) for i in items
              if i in placement.chosen}
    if any(rules.needed_by((s for s in core.succs[i] if core.item_site[s] != site),
                           placement.chosen) for i in items if i not in before):
        return
    for i, (option, start) in before.items():
        calendar.unbook(option, start)
        shares.add(option, -1.0)
        del placement.chosen[i], placement.start[i]
    for firms in _firm_sets(core, items):
        booked = []
        for i in items:
            options = sorted((core.options[k] for k in core.by_item[i]
                              if core.options[k].firm in firms), key=lambda o: (o.cents, o.firm))
            if _place_one(core, placement, calendar, i, options, shares) is None:
                break
            booked.append(i)
        if len(booked) == len(items) and len(booked) > len(before):
            sites[site].firms = defaultdict(int)
            for i in booked:
                sites[site].firms[placement.chosen[i].firm] += placement.chosen[i].units
            return
        for i in booked:
            calendar.unbook(placement.chosen[i], placement.start[i])
            shares.add(placement.chosen[i], -1.0)
            del placement.chosen[i], placement.start[i]
    for i, (option, start) in before.items():
        calendar.book(option, start)
        shares.add(option)
        placement.chosen[i], placement.start[i] = option, start


def _firm_sets(core: Core, items: list[int], tries: int = 12):
    """Sets of firms (one firm, or two if the policy allows) that between them can do every
    item of a site, cheapest first; at most `tries` of them."""
    policy = core.problem.policy
    cost: dict[int, dict[int, float]] = defaultdict(dict)  # firm -> item -> cost
    for i in items:
        for k in core.by_item[i]:
            cost[core.options[k].firm][i] = core.options[k].cost
    need = set(items)
    singles = sorted((sum(c.values()), f) for f, c in cost.items() if set(c) >= need)
    found = [({f}, total) for total, f in singles[:tries]]
    if rules.firms_per_site(policy) >= 2 and len(found) < tries:
        ranked = sorted(cost, key=lambda f: (-len(cost[f]), sum(cost[f].values()), f))[:tries]
        for a, b in itertools.combinations(ranked, 2):
            if set(cost[a]) | set(cost[b]) >= need:
                total = sum(min(cost[a].get(i, float("inf")), cost[b].get(i, float("inf")))
                            for i in items)
                found.append(({a, b}, total))
    found.sort(key=lambda pair: (pair[1], sorted(pair[0])))
    return [firms for firms, _ in found[:tries]]


def from_reference(core: Core, stopped: Callable[[], bool] | None = None) -> Placement:
    """A re-plan's reference as far as it still holds: each reference item with its
    reference firm (the cheapest such option), on its reference day where it fits (the
    Calendar prefers it), the items that no longer fit left out for the completion."""
    chosen = {}
    for i, f in core.reference.items():
        options = [core.options[k] for k in core.by_item[i] if core.options[k].firm == f]
        if options:
            chosen[i] = min(options, key=lambda o: o.cents)
    return schedule(core, chosen, stopped=stopped)


def settle(core: Core, placement: Placement) -> Placement:
    """A re-plan's plan with each item its reference firm keeps moved back to its reference
    first day, where that keeps every rule on days: an allowed first day of the option (the
    calendars, the site's access, the item's window), room in the firm's hours on each day
    of the run, dependencies ending before it and dependents starting after it; and it ends
    no later past its due date. Days weigh in the objective only through lateness, so the
    objective does not rise, and the people doing the work keep the dates they were given.
    Repeated until nothing moves (one move back can make room for another). The placement
    itself when nothing moves."""
    wanted = {i: day for i, day in core.reference_start.items()
              if i in placement.chosen and placement.chosen[i].firm == core.reference.get(i)
              and placement.start[i] != day}
    if not wanted:
        return placement
    calendar = Calendar(core)
    for i, option in placement.chosen.items():
        calendar.book(option, placement.start[i])
    chosen, start = placement.chosen, dict(placement.start)
    count, moved = len(wanted), True
    while moved and wanted:
        moved = False
        for i in sorted(wanted):
            day, option = wanted[i], chosen[i]
            if not _may_start(core, chosen, start, i, option, day):
                continue
            calendar.unbook(option, start[i])
            if rules.last_full_day(calendar.residual[option.firm], option.load, day,
                                   option.days) is None:
                start[i] = day
                del wanted[i]
                moved = True
            calendar.book(option, start[i])
    if len(wanted) == count:
        return placement
    return Placement(chosen=dict(chosen), start=start, failed=dict(placement.failed),
                     stopped=placement.stopped)


def _may_start(core: Core, chosen: dict[int, Opt], start: dict[int, int], item: int,
               option: Opt, day: int) -> bool:
    """Whether item `item` may run from `day` with `option`, all else in the plan as it is,
    by every rule on days but the firm's room (settle books that)."""
    if not option.starts >> day & 1 or day + option.days > core.horizon:
        return False
    ready = rules.ready_day(start[p] + chosen[p].days if p in chosen else None
                            for p in core.preds[item])
    if ready is None or day < ready:
        return False
    if any(s in chosen and not rules.precedes(day + option.days, start[s])
           for s in core.succs[item]):
        return False
    return (rules.lateness_days(core, item, option, day)
            <= rules.lateness_days(core, item, option, start[item]))
