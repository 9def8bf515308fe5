"""A lower bound of the whole problem by Lagrangian relaxation over sites.

The LP of the assignment master lets continuity and fairness vanish in fractions. Here the
rows that tie sites together are priced instead of kept:
- each energy window of each firm (capacity relaxed to energy, rules.energy_windows), with a
  multiplier >= 0 (started from the LP's duals);
- each firm's hard share range, a multiplier >= 0 per side;
- fairness, |H_f - t_f T| >= m_f (H_f - t_f T) for any m_f in [-w, w] (w: the fairness
  weight), so fairness too becomes a price per hour.
What is left falls apart by site: choose for each item one firm or none, paying each firm
used there its continuity. Its minimum is bounded below in closed form (no firm; one firm
for every item; or, when the site may have two or more firms, each item's cheapest firm plus
two firms' continuity), and the sum over sites, minus the priced right-hand sides, is a lower
bound of every plan, whatever the multipliers. A short subgradient search raises it.

Dropped (each only lowers the bound): precedence, the face rules, lateness, the days.
Money is in euros, hours as the model counts them (whole hundredths, prepare.HOUR units).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from . import rules
from .prepare import Core
from .rules import CENT

STEPS = 50  # subgradient steps at most


@dataclass
class PricedRows:
    """The priced rows: energy windows (option -> energy), and per-firm share data."""

    windows: list[tuple[list[tuple[int, int]], int]]  # ([(option, energy)], hours available)
    low: list[float]  # share range as fractions
    high: list[float]
    target: list[float]


def site_bound(core: Core, windows, window_prices: list[float], target: float | None,
               seconds: float, stopped: Callable[[], bool] | None = None) -> float:
    """A lower bound (euros) of the objective of every plan of `core`.

    `windows` are (firm, [(option, energy)], hours available) as rules.energy_windows gives
    them, `window_prices` a first multiplier for each (the LP's duals, in euros per scaled
    hour, or zeros); `target` a known plan's value (steers the step size); the search stops
    after `seconds`, or at a step when `stopped()` (every step's value is a bound)."""
    started = time.monotonic()
    rows = priced_rows(core, windows)
    data = SiteCosts(core)
    n_firms = len(core.firms)
    prices = [max(0.0, p) for p in window_prices]
    lows, highs, fair = [0.0] * n_firms, [0.0] * n_firms, [0.0] * n_firms
    value, chosen = data.evaluate(rows, prices, lows, highs, fair)
    best = value
    if target is None or not math.isfinite(target):
        target = abs(value) * 1.05 + 1.0
    scale = 1.0
    for _ in range(STEPS):
        if time.monotonic() - started > seconds or target <= best or (
                stopped is not None and stopped()):
            break
        energy, share_low, share_high, fairness = data.subgradient(rows, chosen)
        # projected: a multiplier held at its limit by its direction does not move
        energy = [0.0 if p <= 0 and g < 0 else g for p, g in zip(prices, energy, strict=True)]
        share_low = [0.0 if p <= 0 and g < 0 else g
                     for p, g in zip(lows, share_low, strict=True)]
        share_high = [0.0 if p <= 0 and g < 0 else g
                      for p, g in zip(highs, share_high, strict=True)]
        weight = data.fairness_weight
        fairness = [0.0 if (p >= weight and g > 0) or (p <= -weight and g < 0) else g
                    for p, g in zip(fair, fairness, strict=True)]
        norm = sum(g * g for g in energy) + sum(g * g for g in share_low) \
            + sum(g * g for g in share_high) + sum(g * g for g in fairness)
        if norm <= 0:
            break  # the relaxed optimum keeps every priced row: it is the bound
        step = scale * (target - value) / norm
        prices = [max(0.0, p + step * g) for p, g in zip(prices, energy, strict=True)]
        lows = [max(0.0, p + step * g) for p, g in zip(lows, share_low, strict=True)]
        highs = [max(0.0, p + step * g) for p, g in zip(highs, share_high, strict=True)]
        fair = [min(weight, max(-weight, p + step * g))
                for p, g in zip(fair, fairness, strict=True)]
        value, chosen = data.evaluate(rows, prices, lows, highs, fair)
        if value > best + 1e-9:
            best = value
        else:
            scale *= 0.7
    return best


def priced_rows(core: Core, windows) -> PricedRows:
    """The rows that tie sites together: energy windows and each firm's share data."""
    hard = rules.shares_hard(core.problem.policy)
    low, high = [], []
    for f in range(len(core.firms)):
        lo, hi = core.share_ranges[f]
        low.append(rules.share_fraction(lo) if hard else 0.0)
        high.append(rules.share_fraction(hi) if hard else 1.0)
    return PricedRows(windows=[(inside, available) for _, inside, available in windows],
                      low=low, high=high,
                      target=[rules.share_fraction(t) for t in core.prices.targets])


class SiteCosts:
    """The problem's costs in euros, arranged by site."""

    def __init__(self, core: Core):
        self.core = core
        prices = core.prices  # solver.rules: cents, per unit
        policy = core.problem.policy
        self.fairness_weight = prices.fairness / CENT  # euros per HOUR unit
        self.cover_per_hour = prices.coverage_weight / CENT  # euros per HOUR unit
        self.continuity = self.pairs_euros(1)  # euros of one (site, firm) pair with work
        self.limit = rules.firms_per_site(policy)
        # coverage, cost and stability: the model's terms (rules.objective_terms) over
        # option and item indices; continuity and fairness are priced from `prices` above
        terms, constant = rules.objective_terms(core, range(len(core.options)),
                                                range(len(core.items)), {})
        self.constant = sum(constant.values()) / CENT
        self.cost = [0.0] * len(core.options)
        for cents_, k in terms["cost"] + terms["stability"]:
            self.cost[k] += cents_ / CENT
        self.hours = [option.units for option in core.options]
        must = core.must_assign()
        self.cover = [math.inf] * len(core.items)
        for cents_, i in terms["coverage"]:
            self.cover[i] = rules.leaving_out(cents_ / CENT, i in must)
        self.sites = [items for items in core.site_items if items] if core.site_items else \
            _group(core.item_site)

    def pairs_euros(self, pairs: int) -> float:
        """The continuity term (rules.Prices) of `pairs` (site, firm) pairs, in euros."""
        return self.core.prices.continuity_cents(pairs) / CENT

    def evaluate(self, rows: PricedRows, prices, lows, highs, fair) -> tuple[float, list[int]]:
        """The Lagrangian function at the given multipliers and the options it chooses."""
        core = self.core
        reduced = list(self.cost)
        for (inside, _), price in zip(rows.windows, prices, strict=True):
            if price:
                for k, energy in inside:
                    reduced[k] += price * energy
        per_hour = rules.lagrangian_hour_prices(lows, highs, fair, rows.low, rows.high,
                                                rows.target)
        for option in core.options:
            reduced[option.index] += self.hours[option.index] * per_hour[option.firm]
        value = self.constant - sum(price * available for (_, available), price
                                    in zip(rows.windows, prices, strict=True) if price)
        chosen: list[int] = []
        for items in self.sites:
            site_value, site_chosen = self._site(items, reduced)
            value += site_value
            chosen.extend(site_chosen)
        return value, chosen

    def _site(self, items: list[int], reduced: list[float]) -> tuple[float, list[int]]:
        """A lower bound of the site's relaxed minimum, and the options that reach it."""
        core = self.core
        nobody = sum(self.cover[i] for i in items)
        cheapest, cheapest_options = 0.0, []
        firm_total: dict[int, float] = {}
        firm_options: dict[int, list[int]] = {}
        best_of_firm = []
        for i in items:
            best, best_k = self.cover[i], None
            by_firm: dict[int, int] = {}
            for k in core.by_item[i]:
                f = core.options[k].firm
                if f not in by_firm or reduced[k] < reduced[by_firm[f]]:
                    by_firm[f] = k
                if reduced[k] < best:
                    best, best_k = reduced[k], k
            cheapest += best
            if best_k is not None:
                cheapest_options.append(best_k)
            best_of_firm.append(by_firm)
            for f in by_firm:
                firm_total.setdefault(f, 0.0)
                firm_options.setdefault(f, [])
        for i, by_firm in zip(items, best_of_firm, strict=True):
            for f in firm_total:
                k = by_firm.get(f)
                if k is not None and reduced[k] < self.cover[i]:
                    firm_total[f] += reduced[k]
                    firm_options[f].append(k)
                else:
                    firm_total[f] += self.cover[i]
        candidates = [(nobody, [])]
        if firm_total:
            firm = min(firm_total, key=firm_total.__getitem__)
            candidates.append((firm_total[firm] + self.continuity, firm_options[firm]))
            used = len({core.options[k].firm for k in cheapest_options})
            if self.limit >= 2 and used >= 2:
                candidates.append((cheapest + self.pairs_euros(2), cheapest_options))
        return min(candidates, key=lambda c: c[0])

    def subgradient(self, rows: PricedRows, chosen: list[int]):
        """How much the chosen options break each priced row (positive: too much)."""
        core = self.core
        taken = set(chosen)
        energy = [sum(e for k, e in inside if k in taken) - available
                  for inside, available in rows.windows]
        hours = [0.0] * len(core.firms)
        for k in chosen:
            hours[core.options[k].firm] += self.hours[k]
        total = sum(hours)
        gaps = [rules.share_gaps(hours[f], total, rows.low[f], rows.high[f])
                for f in range(len(core.firms))]
        share_low = [below for below, _ in gaps]
        share_high = [above for _, above in gaps]
        fairness = [rules.fairness_gap(hours[f], total, rows.target[f])
                    for f in range(len(core.firms))]
        if not self.fairness_weight:
            fairness = [0.0] * len(core.firms)
        return energy, share_low, share_high, fairness


def _group(item_site: list[int]) -> list[list[int]]:
    sites: dict[int, list[int]] = {}
    for i, site in enumerate(item_site):
        sites.setdefault(site, []).append(i)
    return list(sites.values())
