"""The one validator of a Problem: every rule about what its values mean, written once.

Both ways in call it: `solver.instance.problem_from_dict`, once it has read the file's syntax
(JSON types, keys, dates), and `solver.prepare.prepare` (so `solver.solve.solve`) for a
Problem built in Python, such as the service's. The first broken rule raises
ProblemError(field, reason), the field a path in the instance file's terms: `items[3].hours`,
`firms[0].skills[1].proficiency`, `policy.weights.cost`. docs/instance-format.md lists the
rules ("What the validator checks").
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from .types import (
    FACE_POLICIES,
    Availability,
    Ban,
    Firm,
    Lock,
    Option,
    PlannedItem,
    Policy,
    Problem,
    ProblemError,
    Site,
    WorkItem,
)

CYCLE_NAMED = 8  # items of a dependency cycle its message names, at most


@dataclass(frozen=True)
class _Range:
    """A finite number (an integer when `whole`) from low to high; above low when `above`."""

    low: float
    high: float
    reason: str
    whole: bool = False
    above: bool = False

    def __call__(self, value: Any, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int if self.whole else int | float):
            raise ProblemError(path, "must be an integer" if self.whole else "must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise ProblemError(path, "must be a finite number")
        if not self.low <= value <= self.high or (self.above and value == self.low):
            raise ProblemError(path, self.reason)


LATITUDE = _Range(-90, 90, "must be between -90 and 90")
LONGITUDE = _Range(-180, 180, "must be between -180 and 180")
NOT_NEGATIVE = _Range(0, math.inf, "must be 0 or more")
POSITIVE = _Range(0, math.inf, "must be more than 0", above=True)
PERCENT = _Range(0, 100, "must be between 0 and 100")
FRACTION = _Range(0, 1, "must be between 0 and 1")
DAY_HOURS = _Range(0.01, 24, "must be at least 0.01 (a hundredth of an hour) and at most 24")
PROFICIENCY = _Range(1, 5, "must be 1 to 5", whole=True)
AT_LEAST_ONE = _Range(1, math.inf, "must be 1 or more", whole=True)


def validate(problem: Problem) -> None:
    """Return if the problem keeps every rule, else raise ProblemError for the first broken."""
    _calendar(problem.working_days)
    catalogue = _catalogue(problem.skills)
    _policy(problem.policy)
    if not problem.items:
        raise ProblemError("items", "no work item")
    if not problem.firms:
        raise ProblemError("firms", "no firm")
    sites = _ids(problem.sites, "sites")
    items = _ids(problem.items, "items")
    firms = _ids(problem.firms, "firms")
    for n, site in enumerate(problem.sites):
        _site(site, f"sites[{n}]")
    for n, item in enumerate(problem.items):
        _item(item, f"items[{n}]", sites, items, catalogue)
    for n, firm in enumerate(problem.firms):
        _firm(firm, f"firms[{n}]", catalogue)
    for n, exclusion in enumerate(problem.exclusions):
        _known(exclusion.firm, firms, f"exclusions[{n}].firm", "firm")
        if exclusion.site is not None:  # None: every site of the client
            _known(exclusion.site, sites, f"exclusions[{n}].site", "site")
    _bans(problem.bans, items, firms)
    _locks(problem.locks, items, firms)
    _reference(problem.reference, items, firms)
    _options(problem.options or (), items, firms)
    _acyclic(problem.items, items)


# --- names and repeats -------------------------------------------------------------------


def _name(value: Any, path: str) -> None:
    if not isinstance(value, str):
        raise ProblemError(path, "must be a string")
    if not value:
        raise ProblemError(path, "must not be empty")


def _known(key: Any, index: dict[str, int], path: str, what: str) -> None:
    """A reference: a non-empty id found in `index`."""
    _name(key, path)
    if key not in index:
        raise ProblemError(path, f"unknown {what} {key!r}")


def _ids(records: Sequence[Site | WorkItem | Firm], path: str) -> dict[str, int]:
    """Each record's position by its id; ids must be non-empty and distinct."""
    index: dict[str, int] = {}
    for n, record in enumerate(records):
        _name(record.id, f"{path}[{n}].id")
        if record.id in index:
            raise ProblemError(f"{path}[{n}].id", f"duplicate id {record.id!r}")
        index[record.id] = n
    return index


def _no_repeats(entries: Iterable[Hashable], path: str, what: str) -> None:
    """A repeat names the entry that repeats an earlier one: `path[n]`."""
    seen = set()
    for n, entry in enumerate(entries):
        if entry in seen:
            raise ProblemError(f"{path}[{n}]", f"{what}: {entry!r}")
        seen.add(entry)


# --- the calendar, the catalogue and the policy ------------------------------------------


def _calendar(days: Sequence) -> None:
    if not days:
        raise ProblemError("working_days", "no working day")
    for n in range(1, len(days)):
        if days[n] <= days[n - 1]:
            raise ProblemError(f"working_days[{n}]", "not after the day before it")


def _catalogue(skills: Sequence[str]) -> frozenset[str] | None:
    """The skill catalogue as a set, None when empty (an empty catalogue checks nothing)."""
    for n, skill in enumerate(skills):
        _name(skill, f"skills[{n}]")
    _no_repeats(skills, "skills", "listed twice")
    return frozenset(skills) or None


def _skill(skill: Any, path: str, catalogue: frozenset[str] | None) -> None:
    _name(skill, path)
    if catalogue is not None and skill not in catalogue:
        raise ProblemError(path, f"unknown skill {skill!r}")


def _policy(policy: Policy) -> None:
    AT_LEAST_ONE(policy.max_firms_per_site, "policy.max_firms_per_site")
    if policy.face_policy not in FACE_POLICIES:
        raise ProblemError("policy.face_policy", f"must be one of {', '.join(FACE_POLICIES)}")
    for term, weight in policy.weights.as_dict().items():
        NOT_NEGATIVE(weight, f"policy.weights.{term}")
    FRACTION(policy.speedup_per_level, "policy.speedup_per_level")


# --- records -----------------------------------------------------------------------------


def _site(site: Site, where: str) -> None:
    LATITUDE(site.latitude, f"{where}.latitude")
    LONGITUDE(site.longitude, f"{where}.longitude")
    for day in site.access_weekdays:  # a set: the value is named, no position
        if isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= 7:
            raise ProblemError(f"{where}.access_weekdays",
                               f"{day!r} is not a weekday (1 Monday to 7 Sunday)")


def _item(item: WorkItem, where: str, sites: dict[str, int], items: dict[str, int],
          catalogue: frozenset[str] | None) -> None:
    _known(item.site, sites, f"{where}.site", "site")
    _skill(item.skill, f"{where}.skill", catalogue)
    POSITIVE(item.hours, f"{where}.hours")
    PROFICIENCY(item.min_proficiency, f"{where}.min_proficiency")
    AT_LEAST_ONE(item.crew_size, f"{where}.crew_size")
    if item.earliest_on is not None and item.due_on is not None \
            and item.due_on < item.earliest_on:
        raise ProblemError(f"{where}.due_on", "before earliest_on")
    for k, dep in enumerate(item.depends_on):
        _known(dep, items, f"{where}.depends_on[{k}]", "item")
        if dep == item.id:
            raise ProblemError(f"{where}.depends_on[{k}]", "an item cannot depend on itself")
    _no_repeats(item.depends_on, f"{where}.depends_on", "listed twice")


def _firm(firm: Firm, where: str, catalogue: frozenset[str] | None) -> None:
    LATITUDE(firm.latitude, f"{where}.latitude")
    LONGITUDE(firm.longitude, f"{where}.longitude")
    NOT_NEGATIVE(firm.travel_radius_km, f"{where}.travel_radius_km")
    NOT_NEGATIVE(firm.travel_cost_per_km, f"{where}.travel_cost_per_km")
    PERCENT(firm.min_share_percent, f"{where}.min_share_percent")
    PERCENT(firm.max_share_percent, f"{where}.max_share_percent")
    if firm.min_share_percent > firm.max_share_percent:
        raise ProblemError(f"{where}.min_share_percent", "above max_share_percent")
    target = firm.target_share_percent
    if target is not None:
        PERCENT(target, f"{where}.target_share_percent")
        if not firm.min_share_percent <= target <= firm.max_share_percent:
            raise ProblemError(f"{where}.target_share_percent",
                               "outside min_share_percent-max_share_percent")
    for k, offer in enumerate(firm.skills):
        _skill(offer.skill, f"{where}.skills[{k}].skill", catalogue)
        PROFICIENCY(offer.proficiency, f"{where}.skills[{k}].proficiency")
        NOT_NEGATIVE(offer.hourly_rate, f"{where}.skills[{k}].hourly_rate")
    _no_repeats([offer.skill for offer in firm.skills], f"{where}.skills", "skill listed twice")
    for k, slot in enumerate(firm.availability):
        _availability(slot, f"{where}.availability[{k}]")


def _availability(slot: Availability, where: str) -> None:
    if slot.end_on < slot.start_on:
        raise ProblemError(f"{where}.end_on", "before start_on")
    AT_LEAST_ONE(slot.technicians, f"{where}.technicians")
    DAY_HOURS(slot.hours_per_technician, f"{where}.hours_per_technician")


def _bans(bans: Sequence[Ban], items: dict[str, int], firms: dict[str, int]) -> None:
    """Each ban names a known item and firm; a ban said twice bans once, as an exclusion."""
    for n, ban in enumerate(bans):
        _known(ban.item, items, f"bans[{n}].item", "item")
        _known(ban.firm, firms, f"bans[{n}].firm", "firm")


def _locks(locks: Sequence[Lock], items: dict[str, int], firms: dict[str, int]) -> None:
    for n, lock in enumerate(locks):
        _known(lock.item, items, f"locks[{n}].item", "item")
        if lock.firm is not None:
            _known(lock.firm, firms, f"locks[{n}].firm", "firm")
        if lock.firm is None and lock.start_on is None:
            raise ProblemError(f"locks[{n}]", "locks neither a firm nor a start date")
    _no_repeats([lock.item for lock in locks], "locks", "item named twice")


def _reference(entries: Sequence[PlannedItem], items: dict[str, int],
               firms: dict[str, int]) -> None:
    for n, entry in enumerate(entries):
        _known(entry.item, items, f"reference[{n}].item", "item")
        _known(entry.firm, firms, f"reference[{n}].firm", "firm")
    _no_repeats([entry.item for entry in entries], "reference", "item named twice")


def _options(options: Sequence[Option], items: dict[str, int], firms: dict[str, int]) -> None:
    for n, option in enumerate(options):
        _known(option.item, items, f"options[{n}].item", "item")
        _known(option.firm, firms, f"options[{n}].firm", "firm")
        POSITIVE(option.hours, f"options[{n}].hours")
        NOT_NEGATIVE(option.cost, f"options[{n}].cost")
        if option.days is not None:  # None: the days the hours need
            AT_LEAST_ONE(option.days, f"options[{n}].days")
    _no_repeats([(option.item, option.firm) for option in options], "options",
                "item and firm listed twice")


# --- dependencies ------------------------------------------------------------------------


def _acyclic(items: Sequence[WorkItem], index: dict[str, int]) -> None:
    """One depth-first walk (no recursion: chains of thousands of items); a dependency on an
    item still on the walk's path closes a cycle."""
    state = [0] * len(items)  # 0 not seen, 1 on the path, 2 done
    for root in range(len(items)):
        if state[root]:
            continue
        path, pending = [root], [iter(items[root].depends_on)]
        state[root] = 1
        while pending:
            dep = next(pending[-1], None)
            if dep is None:
                state[path.pop()] = 2
                pending.pop()
                continue
            other = index[dep]
            if state[other] == 1:
                _cycle(items, path[path.index(other):])
            if state[other] == 0:
                state[other] = 1
                path.append(other)
                pending.append(iter(items[other].depends_on))


def _cycle(items: Sequence[WorkItem], cycle: list[int]) -> NoReturn:
    """Raise for the cycle, named from its item that comes first in the problem."""
    start = cycle.index(min(cycle))
    cycle = cycle[start:] + cycle[:start]
    names = [repr(items[i].id) for i in cycle]
    if len(names) > CYCLE_NAMED:
        names = names[:CYCLE_NAMED] + [f"... ({len(cycle) - CYCLE_NAMED} more)"]
    chain = " -> ".join([*names, repr(items[cycle[0]].id)])
    raise ProblemError(f"items[{cycle[0]}].depends_on",
                       f"dependency cycle {chain} (each depends on the next)")
