"""The CP-SAT model. Read in order: data, variables, constraints, objective.

Two shapes share the assignment part:
- exact: one model with an optional interval per option (who, and on which days), for
  problems small enough to prove optimal;
- master: assignment only, with the firms' capacity relaxed to energy over windows of days
  (a valid relaxation, so its bound is a bound of the whole problem); schedule.py then places
  the items on days.
Every number is an integer in the units of solver.rules (work in HOUR units, the objective in
cents, shares in SHARE units), the numbers prepare fixed once.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from . import rules
from .prepare import Core, bits
from .rules import CENT, SHARE

SCALE = CENT  # euros -> cents in the objective


@dataclass
class Model:
    core: Core
    exact: bool
    cp: cp_model.CpModel = field(default_factory=cp_model.CpModel)
    x: list = field(default_factory=list)  # per option
    unassigned: list = field(default_factory=list)  # per item
    y: dict = field(default_factory=dict)  # (site, firm) -> works there
    face: dict = field(default_factory=dict)  # (site, firm) -> faces the client
    firm_hours: list = field(default_factory=list)
    total_hours: object = None
    start: dict = field(default_factory=dict)  # option -> first day (exact)
    item_start: dict = field(default_factory=dict)
    item_end: dict = field(default_factory=dict)
    late: dict = field(default_factory=dict)
    deviation: list = field(default_factory=list)
    terms: dict = field(default_factory=lambda: defaultdict(list))  # term -> [(coef, var)]
    constant: dict = field(default_factory=lambda: defaultdict(int))
    forbidden: set = field(default_factory=set)  # options a schedule could not place
    hard_shares: bool = True  # share ranges are hard rules


def build(core: Core, exact: bool, forbidden: set[int] | None = None,
          hard_shares: bool | None = None) -> Model:
    """The CP-SAT model of the core; `forbidden` options are fixed to 0."""
    if hard_shares is None:
        hard_shares = core.problem.policy.hard_shares
    model = Model(core=core, exact=exact, forbidden=set(forbidden or ()), hard_shares=hard_shares)
    add_variables(model)
    add_one_firm_per_item(model)
    add_dependencies_need_assignment(model)
    add_sites(model)
    add_face_policy(model)
    add_shares(model, hard_shares)
    if exact:
        add_days_and_capacity(model)
        add_precedence(model)
        add_lateness(model)
    else:
        add_energy(model)
    add_objective(model)
    return model


# --- variables ---------------------------------------------------------------------------


def add_variables(model: Model) -> None:
    core, cp = model.core, model.cp
    for option in core.options:
        var = cp.new_bool_var(f"x[{core.items[option.item].id},{core.firms[option.firm].id}]")
        if option.index in model.forbidden:
            cp.add(var == 0)
        model.x.append(var)
    model.unassigned = [cp.new_bool_var(f"u[{item.id}]") for item in core.items]
    for option in core.options:
        key = (core.item_site[option.item], option.firm)
        if key not in model.y:
            model.y[key] = cp.new_bool_var(f"y[{core.site_ids[key[0]]},{core.firms[key[1]].id}]")


def _weighted(terms: list[tuple[int, object]]):
    """sum(coefficient x variable), built in one call (much faster than Python's sum)."""
    if not terms:
        return 0
    return cp_model.LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms])


# --- hard rules --------------------------------------------------------------------------


def add_one_firm_per_item(model: Model) -> None:
    """Hard: each item goes to exactly one firm or is unassigned; a locked item is assigned."""
    for i, options in enumerate(model.core.by_item):
        model.cp.add_exactly_one([model.x[k] for k in options] + [model.unassigned[i]])
    for i in sorted(model.core.must_assign()):
        model.cp.add(model.unassigned[i] == 0)


def add_dependencies_need_assignment(model: Model) -> None:
    """Hard: an item whose dependency is unassigned is unassigned too."""
    for j, preds in enumerate(model.core.preds):
        for p in preds:
            model.cp.add_implication(model.unassigned[p], model.unassigned[j])


def add_sites(model: Model) -> None:
    """Hard: at most rules.firms_per_site firms per site (one when the face policy is sole);
    y[s,f] is 1 exactly when f does work at s."""
    core, cp = model.core, model.cp
    per_pair = defaultdict(list)
    for option in core.options:
        per_pair[(core.item_site[option.item], option.firm)].append(model.x[option.index])
    per_site = defaultdict(list)
    for key, xs in per_pair.items():
        y = model.y[key]
        for var in xs:
            cp.add_implication(var, y)
        cp.add_bool_or(xs).only_enforce_if(y)
        per_site[key[0]].append(y)
    limit = rules.firms_per_site(core.problem.policy)
    for ys in per_site.values():
        if len(ys) > limit:
            cp.add(cp_model.LinearExpr.sum(ys) <= limit)


def add_face_policy(model: Model) -> None:
    """Hard: lead - a face firm with at least half the site's hours (sole: add_sites)."""
    core, cp = model.core, model.cp
    policy = core.problem.policy.face_policy
    per_site = defaultdict(list)
    for (site, firm), y in model.y.items():
        per_site[site].append((firm, y))
    if policy != "lead":
        return
    site_hours = defaultdict(list)
    pair_hours = defaultdict(list)
    for option in core.options:
        site = core.item_site[option.item]
        term = (option.units, model.x[option.index])
        site_hours[site].append(term)
        pair_hours[(site, option.firm)].append(term)
    for site, pairs in per_site.items():
        faces = []
        everyone = cp.new_int_var(0, sum(c for c, _ in site_hours[site]),
                                  f"site_hours[{core.site_ids[site]}]")
        cp.add(everyone == _weighted(site_hours[site]))
        for firm, y in pairs:
            z = cp.new_bool_var(f"face[{core.site_ids[site]},{core.firms[firm].id}]")
            model.face[(site, firm)] = z
            cp.add_implication(z, y)
            cp.add(2 * _weighted(pair_hours[(site, firm)]) >= everyone).only_enforce_if(z)
            faces.append(z)
        cp.add_at_most_one(faces)
        for _, y in pairs:
            cp.add_bool_or(faces).only_enforce_if(y)


def add_shares(model: Model, hard: bool) -> None:
    """Hard (if the policy says so): each firm's hours within its share range of all hours.
    Soft: fairness, hours away from the firm's target share (euros per hour)."""
    core, cp = model.core, model.cp
    per_firm = defaultdict(list)
    for option in core.options:
        per_firm[option.firm].append((option.units, model.x[option.index]))
    fixed = core.fixed_hours or [0] * len(core.firms)
    upper = sum(max((core.options[k].units for k in ks), default=0)
                for ks in core.by_item) + sum(fixed)
    # in a part of a plan (solver.sites), firms without an option there keep fixed hours:
    # they are handled through the total alone (_add_fixed_firms)
    active = [f for f in range(len(core.firms)) if per_firm[f] or not core.fixed_hours]
    model.firm_hours = [None] * len(core.firms)
    for f in active:
        hours = cp.new_int_var(0, upper, f"hours[{core.firms[f].id}]")
        cp.add(hours == _weighted(per_firm[f]) + fixed[f])
        model.firm_hours[f] = hours
    model.total_hours = cp.new_int_var(sum(fixed), upper, "hours_total")
    cp.add(model.total_hours == cp_model.LinearExpr.sum([model.firm_hours[f] for f in active])
           + sum(fixed[f] for f in range(len(core.firms)) if model.firm_hours[f] is None))
    targets = core.prices.targets
    coefficient = core.prices.fairness
    for f in active:
        low, high = core.share_ranges[f]
        if hard and low > 0:
            cp.add(SHARE * model.firm_hours[f] >= low * model.total_hours)
        if hard and high < SHARE:
            cp.add(SHARE * model.firm_hours[f] <= high * model.total_hours)
        if coefficient > 0:
            dev = cp.new_int_var(0, upper, f"fairness[{core.firms[f].id}]")
            gap = SHARE * model.firm_hours[f] - targets[f] * model.total_hours
            cp.add(SHARE * dev >= gap)
            cp.add(SHARE * dev >= -gap)
            model.deviation.append(dev)
            model.terms["fairness"].append((coefficient, dev))
    _add_fixed_firms(model, hard, fixed, targets, coefficient, upper)


def _add_fixed_firms(model: Model, hard: bool, fixed: list[int], targets: list[int],
                     coefficient: int, upper: int) -> None:
    """Firms whose hours are fixed: their share ranges bound the total; their fairness is
    linear in the total wherever its sign cannot change (one aggregated term), else kept
    per firm."""
    core, cp = model.core, model.cp
    total = model.total_hours
    lowest = sum(fixed)
    signed_hours, signed_targets = 0, 0
    for f, firm in enumerate(core.firms):
        if model.firm_hours[f] is not None:
            continue
        low, high = core.share_ranges[f]
        if hard and low > 0:
            cp.add(low * total <= SHARE * fixed[f])
        if hard and high < SHARE:
            cp.add(high * total >= SHARE * fixed[f])
        if not coefficient:
            continue
        at_low = SHARE * fixed[f] - targets[f] * lowest
        at_high = SHARE * fixed[f] - targets[f] * upper
        if (at_low >= 0) == (at_high >= 0):
            sign = 1 if at_low >= 0 else -1
            signed_hours += sign * SHARE * fixed[f]
            signed_targets += sign * targets[f]
            continue
        dev = cp.new_int_var(0, upper, f"fairness[{firm.id}]")
        gap = SHARE * fixed[f] - targets[f] * total
        cp.add(SHARE * dev >= gap)
        cp.add(SHARE * dev >= -gap)
        model.terms["fairness"].append((coefficient, dev))
    if coefficient and (signed_hours or signed_targets):
        dev = cp.new_int_var(-upper * len(core.firms), upper * len(core.firms),
                             "fairness[fixed firms]")
        cp.add(SHARE * dev >= signed_hours - signed_targets * total)
        model.terms["fairness"].append((coefficient, dev))


def energy_windows(core: Core, forbidden: set[int] = frozenset()):
    """(firm, [(option, energy)], hours available) for every window worth a constraint:
    the whole horizon, and each prefix and suffix ending at a cut day (every fifth day)."""
    horizon = core.horizon
    cuts = sorted(set(range(5, horizon, 5)))
    per_firm = defaultdict(list)
    for option in core.options:
        if option.index not in forbidden:
            per_firm[option.firm].append(option)
    for f, options in sorted(per_firm.items()):
        prefix = [0]
        for hours in core.capacity[f]:
            prefix.append(prefix[-1] + hours)
        windows = [(0, horizon)] + [(0, c) for c in cuts] + [(c, horizon) for c in cuts]
        spans = [(option, option.window()) for option in options]
        for lo, hi in windows:
            inside = [(option.index, option.energy) for option, (first, end) in spans
                      if first >= lo and end <= hi]
            available = prefix[hi] - prefix[lo]
            if inside and sum(e for _, e in inside) > available:
                yield f, inside, available


def windows_by_option(n_options: int, windows) -> list[list[tuple[int, int]]]:
    """For each option, the windows it lies inside, as (window index, energy); `windows` as
    energy_windows gives them, or their (inside, available) part."""
    by_option: list[list[tuple[int, int]]] = [[] for _ in range(n_options)]
    for w, window in enumerate(windows):
        for k, energy in window[-2]:
            by_option[k].append((w, energy))
    return by_option


def add_energy(model: Model) -> None:
    """Hard (relaxed): per firm, the hours of the items that must lie inside a window of days
    fit the firm's hours in that window (a relaxation of the daily capacity)."""
    for _, inside, available in energy_windows(model.core, model.forbidden):
        model.cp.add(_weighted([(e, model.x[k]) for k, e in inside]) <= available)


def add_days_and_capacity(model: Model) -> None:
    """Hard: an option runs on consecutive allowed days; per firm and day its hours fit."""
    core, cp = model.core, model.cp
    horizon = core.horizon
    per_firm = defaultdict(list)
    for option in core.options:
        name = f"{core.items[option.item].id},{core.firms[option.firm].id}"
        domain = cp_model.Domain.from_values(list(bits(option.starts)))
        start = cp.new_int_var_from_domain(domain, f"start[{name}]")
        interval = cp.new_optional_fixed_size_interval_var(
            start, option.days, model.x[option.index], f"run[{name}]")
        model.start[option.index] = start
        per_firm[option.firm].append((interval, option.load))
    for f, runs in per_firm.items():
        capacity = core.capacity[f]
        peak = max(capacity)
        blockers = [(cp.new_fixed_size_interval_var(d, 1, f"off[{core.firms[f].id},{d}]"),
                     peak - capacity[d]) for d in range(horizon) if capacity[d] < peak]
        intervals = [r for r, _ in runs] + [b for b, _ in blockers]
        demands = [d for _, d in runs] + [d for _, d in blockers]
        if sum(d for _, d in runs) > min(capacity) or blockers:
            cp.add_cumulative(intervals, demands, peak)
    for i, options in enumerate(core.by_item):
        s = cp.new_int_var(0, horizon, f"S[{core.items[i].id}]")
        e = cp.new_int_var(0, horizon, f"E[{core.items[i].id}]")
        for k in options:
            option = core.options[k]
            cp.add(s == model.start[k]).only_enforce_if(model.x[k])
            cp.add(e == model.start[k] + option.days).only_enforce_if(model.x[k])
        model.item_start[i], model.item_end[i] = s, e


def add_precedence(model: Model) -> None:
    """Hard: an assigned item starts after its dependencies end."""
    cp = model.cp
    for j, preds in enumerate(model.core.preds):
        for p in preds:
            cp.add(model.item_start[j] >= model.item_end[p]).only_enforce_if(
                ~model.unassigned[j])


def add_lateness(model: Model) -> None:
    """Soft (due dates soft only): euros per item-day past the due date."""
    core, cp = model.core, model.cp
    if core.problem.policy.due_dates_hard:
        return
    price = core.prices.lateness
    for i, item in enumerate(core.items):
        if item.due_on is None or price <= 0:
            continue
        due_end = sum(1 for day in core.days if day <= item.due_on)
        late = cp.new_int_var(0, core.horizon, f"late[{item.id}]")
        cp.add(late >= model.item_end[i] - due_end).only_enforce_if(~model.unassigned[i])
        model.late[i] = late
        model.terms["lateness"].append((price, late))


# --- objective ---------------------------------------------------------------------------


def add_objective(model: Model) -> None:
    """Minimise the sum of the terms, in cents, at the prices of solver.rules.Prices."""
    core = model.core
    prices = core.prices
    for i in range(len(core.items)):
        model.terms["coverage"].append((prices.coverage[i], model.unassigned[i]))
    for option in core.options:
        model.terms["cost"].append((option.price, model.x[option.index]))
    if prices.continuity > 0:
        for y in model.y.values():
            model.terms["continuity"].append((prices.continuity, y))
    if prices.stability > 0:
        coef = prices.stability
        for i, f in core.reference.items():
            model.constant["stability"] += coef
            for k in core.by_item[i]:
                if core.options[k].firm == f:
                    model.terms["stability"].append((-coef, model.x[k]))
    model.cp.minimize(
        _weighted([(c, v) for entries in model.terms.values() for c, v in entries if c])
        + sum(model.constant.values()))


def coefficients(model: Model) -> dict[int, int]:
    """Objective coefficients of the model's variables, by variable index."""
    coef: dict[int, int] = defaultdict(int)
    for entries in model.terms.values():
        for c, var in entries:
            coef[var.index] += c
    return coef
