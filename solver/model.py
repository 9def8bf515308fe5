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
from .rules import CENT, energy_windows

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
        hard_shares = rules.shares_hard(core.problem.policy)
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
        model.terms["stability"].extend(
            rules.encode_redating(model.cp, core, model.x, model.start))
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


# --- hard rules (each encoding is solver.rules') ----------------------------------------


def add_one_firm_per_item(model: Model) -> None:
    """Rule 1: each item goes to exactly one firm or is unassigned; a locked item is assigned."""
    must = model.core.must_assign()
    for i, options in enumerate(model.core.by_item):
        rules.encode_one_option(model.cp, [model.x[k] for k in options], model.unassigned[i],
                                required=i in must)


def add_dependencies_need_assignment(model: Model) -> None:
    """Rule 5: an item whose dependency is unassigned is unassigned too."""
    for j, preds in enumerate(model.core.preds):
        for p in preds:
            rules.encode_needs_dependency(model.cp, model.unassigned[p], model.unassigned[j])


def add_sites(model: Model) -> None:
    """Rule 6: at most rules.firms_per_site firms per site; y[s,f] is 1 exactly when f does
    work at s."""
    core, cp = model.core, model.cp
    per_pair = defaultdict(list)
    for option in core.options:
        per_pair[(core.item_site[option.item], option.firm)].append(model.x[option.index])
    per_site = defaultdict(list)
    for key, xs in per_pair.items():
        rules.encode_works_at(cp, model.y[key], xs)
        per_site[key[0]].append(model.y[key])
    limit = rules.firms_per_site(core.problem.policy)
    for ys in per_site.values():
        rules.encode_site_firms(cp, ys, limit)


def add_face_policy(model: Model) -> None:
    """Rule 6, lead policy: a face firm with at least half the site's hours (sole: add_sites)."""
    core, cp = model.core, model.cp
    if not rules.lead_face(core.problem.policy):
        return
    per_site = defaultdict(list)
    for (site, firm), y in model.y.items():
        per_site[site].append((firm, y))
    site_hours = defaultdict(list)
    pair_hours = defaultdict(list)
    for option in core.options:
        site = core.item_site[option.item]
        term = (option.units, model.x[option.index])
        site_hours[site].append(term)
        pair_hours[(site, option.firm)].append(term)
    for site, pairs in per_site.items():
        everyone = cp.new_int_var(0, sum(c for c, _ in site_hours[site]),
                                  f"site_hours[{core.site_ids[site]}]")
        cp.add(everyone == rules.weighted(site_hours[site]))
        firms = []
        for firm, y in pairs:
            z = cp.new_bool_var(f"face[{core.site_ids[site]},{core.firms[firm].id}]")
            model.face[(site, firm)] = z
            firms.append((z, y, rules.weighted(pair_hours[(site, firm)])))
        rules.encode_face(cp, everyone, firms)


def add_shares(model: Model, hard: bool) -> None:
    """Rule 8 (if the policy makes shares hard): each firm's hours within its share range of
    all hours. Soft: fairness, hours away from the firm's target share (euros per hour)."""
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
        cp.add(hours == rules.weighted(per_firm[f]) + fixed[f])
        model.firm_hours[f] = hours
    model.total_hours = cp.new_int_var(sum(fixed), upper, "hours_total")
    cp.add(model.total_hours == cp_model.LinearExpr.sum([model.firm_hours[f] for f in active])
           + sum(fixed[f] for f in range(len(core.firms)) if model.firm_hours[f] is None))
    targets = core.prices.targets
    coefficient = core.prices.fairness
    for f in active:
        if hard:
            rules.encode_share_range(cp, model.firm_hours[f], model.total_hours,
                                     *core.share_ranges[f])
        if coefficient > 0:
            dev = cp.new_int_var(0, upper, f"fairness[{core.firms[f].id}]")
            rules.encode_fairness(cp, dev, model.firm_hours[f], model.total_hours, targets[f])
            model.deviation.append(dev)
            model.terms["fairness"].append((coefficient, dev))
    _add_fixed_firms(model, hard, fixed, targets, coefficient, upper)


def _add_fixed_firms(model: Model, hard: bool, fixed: list[int], targets: list[int],
                     coefficient: int, upper: int) -> None:
    """Firms whose hours are fixed (a part of a plan): their share ranges bound the total,
    and their fairness is rules.encode_fixed_fairness's."""
    core, cp = model.core, model.cp
    still = [f for f in range(len(core.firms)) if model.firm_hours[f] is None]
    if hard:
        for f in still:
            rules.encode_share_range(cp, fixed[f], model.total_hours, *core.share_ranges[f])
    if coefficient:
        for dev in rules.encode_fixed_fairness(cp, model.total_hours,
                                               [(core.firms[f].id, fixed[f], targets[f])
                                                for f in still],
                                               sum(fixed), upper, "fixed firms"):
            model.terms["fairness"].append((coefficient, dev))


def windows_by_option(n_options: int, windows) -> list[list[tuple[int, int]]]:
    """For each option, the windows it lies inside, as (window index, energy); `windows` as
    rules.energy_windows gives them, or their (inside, available) part."""
    by_option: list[list[tuple[int, int]]] = [[] for _ in range(n_options)]
    for w, window in enumerate(windows):
        for k, energy in window[-2]:
            by_option[k].append((w, energy))
    return by_option


def add_energy(model: Model) -> None:
    """Rule 4, relaxed (the master): per firm, the hours of the items that must lie inside a
    window of days fit the firm's hours in that window."""
    for _, inside, available in energy_windows(model.core, model.forbidden):
        rules.encode_energy(model.cp, [(e, model.x[k]) for k, e in inside], available)


def add_days_and_capacity(model: Model) -> None:
    """Rules 3 and 4: an option runs on consecutive allowed days; per firm and day its hours
    fit."""
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
        rules.encode_daily_capacity(cp, runs, core.capacity[f], core.firms[f].id)
    for i, options in enumerate(core.by_item):
        s = cp.new_int_var(0, horizon, f"S[{core.items[i].id}]")
        e = cp.new_int_var(0, horizon, f"E[{core.items[i].id}]")
        for k in options:
            rules.encode_item_run(cp, s, e, model.start[k], core.options[k].days, model.x[k])
        model.item_start[i], model.item_end[i] = s, e


def add_precedence(model: Model) -> None:
    """Rule 5: an assigned item starts after its dependencies end."""
    for j, preds in enumerate(model.core.preds):
        for p in preds:
            rules.encode_precedence(model.cp, model.item_start[j], model.item_end[p],
                                    ~model.unassigned[j])


def add_lateness(model: Model) -> None:
    """Soft (due dates soft only): euros per item-day past the due date."""
    core, cp = model.core, model.cp
    price = core.prices.lateness
    for i, item in enumerate(core.items):
        if not rules.late_possible(core, i) or price <= 0:
            continue
        late = cp.new_int_var(0, core.horizon, f"late[{item.id}]")
        rules.encode_lateness(cp, late, model.item_end[i], rules.due_day(core, i),
                              ~model.unassigned[i])
        model.late[i] = late
        model.terms["lateness"].append((price, late))


# --- objective ---------------------------------------------------------------------------


def add_objective(model: Model) -> None:
    """Minimise the sum of the terms, in cents, at the prices of solver.rules.Prices."""
    terms, constant = rules.objective_terms(model.core, model.x, model.unassigned, model.y)
    for term, entries in terms.items():
        model.terms[term].extend(entries)
    for term, value in constant.items():
        model.constant[term] += value
    model.cp.minimize(
        rules.weighted([(c, v) for entries in model.terms.values() for c, v in entries if c])
        + sum(model.constant.values()))


def coefficients(model: Model) -> dict[int, int]:
    """Objective coefficients of the model's variables, by variable index."""
    coef: dict[int, int] = defaultdict(int)
    for entries in model.terms.values():
        for c, var in entries:
            coef[var.index] += c
    return coef
