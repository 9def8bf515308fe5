"""Rule 3: days (how an item is done, and on which days it may run)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from .units import HOUR, cents, hours_of, quantise, work_units


def option_units(item, proficiency: int, speedup: float) -> int:
    """An option's work H: the item's hours, fewer by `speedup` per proficiency level above
    the item's minimum (at most halved), in HOUR units."""
    factor = max(0.5, 1 - speedup * (proficiency - item.min_proficiency))
    return work_units(item.hours * factor)


def option_cents(units: int, hourly_rate: float, km: float, cost_per_km: float, days: int
                 ) -> tuple[int, float]:
    """An option's cost in cents (rates for its work and a return trip per visit-day) and
    its travel in euros."""
    travel = 2 * km * cost_per_km * days
    return cents(hours_of(units) * hourly_rate + travel), travel


def firm_day(firm, day) -> tuple[int, int]:
    """The firm's technicians and capacity (HOUR units) on `day`: nothing on a blackout,
    else the sum over the availability ranges covering the day, each range giving its
    technicians x hours per technician rounded to a unit."""
    technicians = units = 0
    if day not in firm.blackout_dates:
        for slot in firm.availability:
            if slot.start_on <= day <= slot.end_on:
                technicians += slot.technicians
                units += quantise(slot.technicians * slot.hours_per_technician, HOUR)
    return technicians, units


def technician_units(firm) -> int:
    """The HOUR units one of the firm's technicians gives a day: the smallest hours per
    technician of its availability ranges (8 h without any)."""
    return min((quantise(slot.hours_per_technician, HOUR) for slot in firm.availability),
               default=8 * HOUR)


def days_needed(units: int, crew: int, per_technician: int) -> int:
    """Working days an item of `units` needs with a crew whose technicians each give
    `per_technician` units a day: ceil(units / (crew x per_technician)), at least 1."""
    return max(1, -(-units // max(1, crew * per_technician)))


def daily_load(units: int, days: int) -> int:
    """Units an item of `units` run over `days` days uses on each of them (rounded up)."""
    return -(-units // days)


def crew_available(technicians: int, crew: int) -> bool:
    """A firm with `technicians` on a day can send an item's crew that day."""
    return technicians >= crew


def site_open(site, day) -> bool:
    """The site may be worked on `day`: an access weekday, no blackout, ready."""
    return (day.isoweekday() in site.access_weekdays and day not in site.blackout_dates
            and (site.ready_on is None or day >= site.ready_on))


def item_window(item, days: Sequence, policy) -> tuple[int, int]:
    """The first working day the item may use and the day after its last (earliest_on, and
    due_on when due dates are hard)."""
    lo = bisect.bisect_left(days, item.earliest_on) if item.earliest_on else 0
    hi = len(days)
    if item.due_on and policy.due_dates_hard:
        hi = bisect.bisect_right(days, item.due_on)
    return lo, hi
