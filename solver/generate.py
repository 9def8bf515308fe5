"""Realistic random instances: an IT rollout of branch offices across Germany.

`generate(sites, firms, days, seed)` draws everything from `random.Random(seed)`, so one seed
always gives the same Problem. Sites cluster around 47 German cities weighted by population;
every item has at least two eligible firms (skill, proficiency, radius, exclusions, and enough
technicians for its crew), and the firms offer 1.6-2.5 times the hours the items need.
`python -m solver.generate --sites N --firms M --days D --seed S -o FILE` writes one as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import math
import random
import sys
from dataclasses import dataclass, field

from .instance import problem_to_dict, save_problem
from .types import (
    Availability,
    Exclusion,
    Firm,
    FirmSkill,
    Policy,
    Problem,
    ProblemError,
    Site,
    WorkItem,
)

START_ON = dt.date(2027, 3, 1)  # a Monday
EARTH_RADIUS_KM = 6371.0088  # as in docs/solver.md
KM_PER_DEGREE = EARTH_RADIUS_KM * math.pi / 180
CAPACITY_BAND = (1.6, 2.5)  # firm hours over the horizon / item hours
MIN_ELIGIBLE = 2  # eligible firms per item
SKILLS = ("desktop", "winserver", "sqlserver", "exchange", "network")
BASE_RATE = {"desktop": 46.0, "network": 54.0, "winserver": 58.0, "sqlserver": 66.0,
             "exchange": 66.0}  # euros per hour at proficiency 1; +7 per level
LOWEST_HOURS_PER_TECHNICIAN = 7.5
MOST_TECHNICIANS = 12  # the largest size class

# name, latitude, longitude, inhabitants (thousands), region
CITIES = (
    ("Berlin", 52.5200, 13.4050, 3755, "East"), ("Hamburg", 53.5511, 9.9937, 1892, "North"),
    ("München", 48.1351, 11.5820, 1512, "South"), ("Köln", 50.9375, 6.9603, 1084, "West"),
    ("Frankfurt", 50.1109, 8.6821, 773, "Central"), ("Stuttgart", 48.7758, 9.1829, 633, "South"),
    ("Düsseldorf", 51.2277, 6.7735, 629, "West"), ("Leipzig", 51.3397, 12.3731, 616, "East"),
    ("Dortmund", 51.5136, 7.4653, 595, "West"), ("Essen", 51.4556, 7.0116, 584, "West"),
    ("Bremen", 53.0793, 8.8017, 577, "North"), ("Dresden", 51.0504, 13.7373, 563, "East"),
    ("Hannover", 52.3759, 9.7320, 548, "North"), ("Nürnberg", 49.4521, 11.0767, 526, "South"),
    ("Duisburg", 51.4344, 6.7623, 503, "West"), ("Bochum", 51.4818, 7.2162, 366, "West"),
    ("Wuppertal", 51.2562, 7.1508, 358, "West"), ("Bielefeld", 52.0302, 8.5325, 338, "West"),
    ("Bonn", 50.7374, 7.0982, 336, "West"), ("Münster", 51.9607, 7.6261, 320, "West"),
    ("Mannheim", 49.4875, 8.4660, 315, "South"), ("Karlsruhe", 49.0069, 8.4037, 308, "South"),
    ("Augsburg", 48.3705, 10.8978, 301, "South"), ("Wiesbaden", 50.0782, 8.2398, 285, "Central"),
    ("Braunschweig", 52.2689, 10.5268, 251, "North"), ("Aachen", 50.7753, 6.0839, 249, "West"),
    ("Kiel", 54.3233, 10.1228, 247, "North"), ("Chemnitz", 50.8278, 12.9214, 245, "East"),
    ("Halle", 51.4969, 11.9688, 239, "East"), ("Magdeburg", 52.1205, 11.6276, 238, "East"),
    ("Freiburg", 47.9990, 7.8421, 237, "South"), ("Mainz", 49.9929, 8.2473, 220, "Central"),
    ("Lübeck", 53.8655, 10.6866, 217, "North"), ("Erfurt", 50.9848, 11.0299, 214, "Central"),
    ("Rostock", 54.0924, 12.0991, 209, "North"), ("Kassel", 51.3127, 9.4797, 202, "Central"),
    ("Potsdam", 52.3906, 13.0645, 187, "East"), ("Saarbrücken", 49.2402, 6.9969, 181, "Central"),
    ("Oldenburg", 53.1435, 8.2146, 171, "North"), ("Osnabrück", 52.2799, 8.0472, 166, "North"),
    ("Darmstadt", 49.8728, 8.6512, 162, "Central"), ("Regensburg", 49.0134, 12.1016, 155, "South"),
    ("Ingolstadt", 48.7665, 11.4258, 141, "South"), ("Würzburg", 49.7913, 9.9534, 128, "South"),
    ("Ulm", 48.4011, 9.9876, 127, "South"), ("Göttingen", 51.5413, 9.9158, 118, "Central"),
    ("Koblenz", 50.3569, 7.5890, 115, "Central"),
)
CITY_WEIGHTS = tuple(itertools.accumulate(city[3] for city in CITIES))  # by population
SPREAD_KM = 30.0  # sites lie up to this far from their city centre
COASTAL_SPREAD_KM = 12.0  # less by the sea, to stay on land
COASTAL = frozenset({"Kiel", "Lübeck", "Rostock"})
FIRM_NAMES = {
    "North": ("Nordlicht IT", "Hanse Systemhaus", "Küstennetz", "Weserbrück IT"),
    "East": ("Spree Digital", "Elbtal Systeme", "Sachsen IT-Service", "Havelnetz"),
    "South": ("Isar Systeme", "Alpenblick IT", "Neckar Datentechnik", "Donau IT"),
    "West": ("Rheinwerk Systemhaus", "Ruhrpott IT", "Westfalen Netz", "Eifel Systeme"),
    "Central": ("Mainfeld IT", "Taunus Systeme", "Hessen Digital", "Mitte Netz"),
}
SIZE_WEIGHTS = (50, 22, 9, 6, 4, 3, 2, 1.2, 1, 0.7, 0.6, 0.5)  # % of firms of size 1..12
SERVER_LABELS = ("File and print server", "Domain controller", "Application server")


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle (haversine) distance in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((p2 - p1) / 2) ** 2
         + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _easter(year: int) -> dt.date:
    """Easter Sunday (the anonymous Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def public_holidays(year: int) -> frozenset[dt.date]:
    """The nationwide German public holidays of a year."""
    easter = _easter(year)
    moving = (-2, 1, 39, 50)  # Good Friday, Easter Monday, Ascension, Whit Monday
    fixed = ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26))
    return frozenset([easter + dt.timedelta(days=n) for n in moving]
                     + [dt.date(year, month, day) for month, day in fixed])


def working_days(count: int, start_on: dt.date = START_ON) -> tuple[dt.date, ...]:
    """The first `count` weekdays from start_on that are no German public holiday."""
    days: list[dt.date] = []
    holidays: dict[int, frozenset[dt.date]] = {}
    day = start_on
    while len(days) < count:
        if day.year not in holidays:
            holidays[day.year] = public_holidays(day.year)
        if day.isoweekday() <= 5 and day not in holidays[day.year]:
            days.append(day)
        day += dt.timedelta(days=1)
    return tuple(days)


@dataclass
class _FirmDraft:
    """A firm while it is tuned: radius and technicians still change."""

    id: str
    name: str
    latitude: float
    longitude: float
    size: int  # 1..12
    skills: dict[str, tuple[int, float]]  # skill -> (proficiency, hourly rate)
    radius: float
    cost_per_km: float
    hours_per_technician: float
    blackouts: frozenset[int]  # working-day indices
    ranges: list[list]  # [first day, last day, growth, technicians]
    crew: int  # technicians on every range at least, so crews of this size fit
    min_share: float = 0.0
    max_share: float = 100.0
    city_km: list[float] = field(default_factory=list)  # distance to each city centre


class _Rollout:
    """One instance under construction; methods run in the order of `generate`."""

    def __init__(self, sites: int, firms: int, days: int, seed: int):
        self.rng = random.Random(seed)
        self.n_sites, self.n_firms, self.n_days = sites, firms, days
        self.days = working_days(days)
        self.sites: list[Site] = []
        self.site_city: list[int] = []
        self.items: list[list[WorkItem]] = []  # per site
        self.firms: list[_FirmDraft] = []
        self.banned: dict[int, set[int]] = {}  # site -> firms excluded from it
        self.client_banned: set[int] = set()

    # --- sites and their work ------------------------------------------------------------

    def add_sites(self) -> None:
        rng, width = self.rng, max(4, len(str(self.n_sites)))
        counts = [0] * len(CITIES)
        weekdays = [day.isoweekday() for day in self.days]
        for n in range(1, self.n_sites + 1):
            c = rng.choices(range(len(CITIES)), cum_weights=CITY_WEIGHTS)[0]
            city, lat, lon, _, region = CITIES[c]
            counts[c] += 1
            spread = COASTAL_SPREAD_KM if city in COASTAL else SPREAD_KM
            lat, lon = _jitter(rng, lat, lon, spread)
            ready = None
            if rng.random() < 0.2:
                ready = min(self.n_days - 1, rng.randint(2, max(2, min(20, self.n_days // 3))))
            access = rng.choices(((1, 2, 3, 4, 5), (1, 2, 3, 4), (2, 3, 4, 5)), (80, 10, 10))[0]
            blackout = set()
            if rng.random() < 0.1:
                blackout = set(rng.sample(range(self.n_days), min(self.n_days // 5,
                                                                   rng.randint(1, 3))))
            site = Site(id=f"S{n:0{width}d}", latitude=round(lat, 5), longitude=round(lon, 5),
                        name=f"Filiale {city}-{counts[c]:02d}", region=region,
                        ready_on=None if ready is None else self.days[ready],
                        access_weekdays=frozenset(access),
                        blackout_dates=frozenset(self.days[k] for k in blackout))
            open_days = [weekdays[k] in access and k not in blackout for k in range(self.n_days)]
            self.sites.append(site)
            self.site_city.append(c)
            self.items.append(self._site_items(site.id, open_days, ready or 0))

    def _site_items(self, site: str, open_days: list[bool], ready: int) -> list[WorkItem]:
        """Network first, then servers, then desktop batches; due dates the chain can meet."""
        rng, drafts = self.rng, []  # (fields, dependencies, first day)
        network: list[str] = []
        if rng.random() < 0.3:
            network = [f"{site}-NET-1"]
            drafts.append((dict(id=network[0], skill="network", hours=rng.randint(8, 32) / 2,
                                min_proficiency=rng.choice((1, 2, 2, 3)), crew_size=2,
                                kind="network", label="Network refresh"), (), ready))
        servers: list[str] = []
        for n in range(1, 1 + (0 if rng.random() < 0.6 else rng.randint(1, 2))):
            servers.append(f"{site}-SRV-{n}")
            if rng.random() < 0.15:
                skill = rng.choice(("sqlserver", "exchange"))
                label = "SQL Server" if skill == "sqlserver" else "Exchange server"
                level = rng.randint(3, 4)
            else:
                skill, label, level = "winserver", rng.choice(SERVER_LABELS), rng.randint(1, 3)
            hours = rng.randint(12, 48) / 2
            crew = 2 if hours >= 12 and rng.random() < 0.3 else 1
            drafts.append((dict(id=servers[-1], skill=skill, hours=hours, min_proficiency=level,
                                crew_size=crew, kind="server", label=label),
                           tuple(network), ready))
        desktops = rng.randint(5, 60)
        batches = math.ceil(desktops / 20)
        first = 0
        for n in range(batches):
            quantity = desktops // batches + (n < desktops % batches)
            earliest = None
            if rng.random() < 0.05:  # hardware delivered late
                earliest = min(self.n_days - 1, rng.randint(1, 10))
            drafts.append((dict(id=f"{site}-DSK-{n + 1}", skill="desktop", hours=1.5 * quantity,
                                min_proficiency=rng.choice((1, 1, 2)), kind="desktop_batch",
                                label=f"Desktops {first + 1}-{first + quantity}",
                                earliest_on=None if earliest is None else self.days[earliest]),
                           tuple(servers or network), max(ready, earliest or 0)))
            first += quantity
        return self._with_due_dates(site, drafts, open_days)

    def _with_due_dates(self, site: str, drafts: list, open_days: list[bool]) -> list[WorkItem]:
        """Half the items get a due date in the second half, at least 5 working days after
        the earliest finish of their chain (each item at its slowest: minimum proficiency,
        7.5 hours a technician)."""
        rng, finish, items = self.rng, {}, []
        for fields, depends_on, first in drafts:
            ends = [finish[dep] for dep in depends_on]
            start = self.n_days if None in ends else max([first] + [end + 1 for end in ends])
            need = math.ceil(fields["hours"] / (fields.get("crew_size", 1)
                                                 * LOWEST_HOURS_PER_TECHNICIAN))
            finish[fields["id"]] = end = _first_run_end(open_days, start, need)
            due = None
            if rng.random() < 0.5 and end is not None:
                k = max(rng.randint(self.n_days // 2, self.n_days - 1), end + rng.randint(5, 10))
                due = self.days[k] if k < self.n_days else None
            items.append(WorkItem(site=site, depends_on=depends_on, due_on=due, **fields))
        return items

    # --- firms ---------------------------------------------------------------------------

    def add_firms(self) -> None:
        rng, width = self.rng, max(3, len(str(self.n_firms)))
        for n in range(1, self.n_firms + 1):
            city = CITIES[rng.choices(range(len(CITIES)), cum_weights=CITY_WEIGHTS)[0]]
            lat, lon = _jitter(rng, city[1], city[2], 10.0)
            size = rng.choices(range(1, MOST_TECHNICIANS + 1), SIZE_WEIGHTS)[0]
            skills = {"desktop": self._offer("desktop", rng.randint(2, 5))}
            server = rng.random() < 0.5 + 0.04 * size
            chances = {"winserver": 1.0 if server else 0.0,
                       "sqlserver": 0.35 if server else 0.0,
                       "exchange": 0.35 if server else 0.0,
                       "network": 0.3 + 0.04 * size if size >= 2 else 0.0}  # in pairs
            for skill in SKILLS[1:]:
                if rng.random() < chances[skill]:
                    level = rng.choices((1, 2, 3, 4, 5), (10, 25, 30, 22, 13))[0]
                    skills[skill] = self._offer(skill, level)
            crew = 2 if "network" in skills or (server and size >= 3) else 1  # pairs on every range
            blackouts = frozenset()
            if rng.random() < 0.2:
                blackouts = frozenset(rng.sample(range(self.n_days),
                                                 min(self.n_days // 5, rng.randint(1, 4))))
            self.firms.append(_FirmDraft(
                id=f"F{n:0{width}d}", name=f"{rng.choice(FIRM_NAMES[city[4]])} {n:0{width}d}",
                latitude=round(lat, 5), longitude=round(lon, 5), size=size, skills=skills,
                radius=float(min(400, round(80 + 20 * (size - 1) + rng.uniform(0, 100)))),
                cost_per_km=round(rng.uniform(0.30, 0.60), 2),
                hours_per_technician=rng.choice((7.5, 8.0)), blackouts=blackouts,
                ranges=self._ranges(), crew=crew))
        for firm in self.firms:
            firm.city_km = [distance_km(firm.latitude, firm.longitude, c[1], c[2])
                            for c in CITIES]

    def _offer(self, skill: str, level: int) -> tuple[int, float]:
        rate = BASE_RATE[skill] + 7 * (level - 1) + self.rng.uniform(-4, 4)
        return level, round(min(110.0, max(45.0, rate)) * 2) / 2

    def _ranges(self) -> list[list]:
        """1-3 ranges covering the horizon, each with its own growth factor (technicians are
        set later, when the capacity is tuned)."""
        parts = min(self.n_days, self.rng.choice((1, 1, 2, 2, 3)))
        cuts = sorted(self.rng.sample(range(1, self.n_days), parts - 1)) if parts > 1 else []
        bounds = [0] + cuts + [self.n_days]
        return [[bounds[k], bounds[k + 1] - 1, self.rng.uniform(0.7, 1.3), 1]
                for k in range(parts)]

    # --- exclusions and shares -----------------------------------------------------------

    def add_exclusions(self) -> None:
        """A handful of firms barred from one site each, one firm from the whole client."""
        rng = self.rng
        if self.n_firms >= 5:
            self.client_banned.add(rng.randrange(self.n_firms))
        for _ in range(rng.randint(3, 6) if self.n_firms >= 3 else 0):
            s = rng.randrange(self.n_sites)
            c = self.site_city[s]
            near = [f for f, firm in enumerate(self.firms)
                    if firm.city_km[c] <= firm.radius and f not in self.client_banned]
            if near:
                self.banned.setdefault(s, set()).add(rng.choice(near))

    def set_min_shares(self) -> None:
        """5 % each for a few firms (the reference case), now and then 1-2 % up to 50 firms."""
        rng, fair = self.rng, 100 / self.n_firms
        for f, firm in enumerate(self.firms):
            if f in self.client_banned:
                continue
            if self.n_firms <= 10:
                firm.min_share = 5.0
            elif self.n_firms <= 50 and rng.random() < 0.25:
                firm.min_share = 1.0 if fair < 4 else rng.choice((1.0, 2.0))

    def set_max_shares(self) -> None:
        """2-5 times the fair share, more for firms with more capacity; 40 % for a few firms."""
        usable = self.n_firms - len(self.client_banned)
        if self.n_firms <= 10:
            for firm in self.firms:
                firm.max_share = min(100.0, max(40.0, math.ceil(125 / usable)))
            return
        fair = 100 / self.n_firms
        capacity = [_capacity(firm) for firm in self.firms]
        biggest = max(capacity)
        for firm, hours in zip(self.firms, capacity, strict=True):
            times = 2 + 3 * hours / biggest + self.rng.uniform(-0.3, 0.3)
            firm.max_share = min(100.0, round(fair * min(5.0, max(2.0, times)), 3))

    # --- reach: every item has eligible firms ---------------------------------------------

    def ensure_reach(self) -> None:
        """Widen radii (nearest firm first) until every item has MIN_ELIGIBLE eligible firms
        and every firm with a minimum share can reach three times that share of work."""
        usable = [f for f in range(self.n_firms) if f not in self.client_banned]
        need = min(MIN_ELIGIBLE, len(usable))
        candidates: dict[tuple, list[int]] = {}
        sure: dict[tuple, list[int]] = {}  # (city, key) -> firms that reach all its sites
        spread = [0.0] * len(CITIES)
        for s, site in enumerate(self.sites):
            c = self.site_city[s]
            spread[c] = max(spread[c], distance_km(site.latitude, site.longitude,
                                                   CITIES[c][1], CITIES[c][2]))
        for s, site in enumerate(self.sites):
            c = self.site_city[s]
            banned = self.banned.get(s, set())
            for key in sorted({(i.skill, i.min_proficiency, i.crew_size) for i in self.items[s]}):
                if not _enough(candidates.get(key, ()), banned, need):
                    candidates[key] = self._candidates(key, usable, need, banned)
                if (c, key) not in sure:
                    sure[(c, key)] = [f for f in candidates[key] if self.firms[f].city_km[c]
                                      + spread[c] + 1e-6 <= self.firms[f].radius]
                if not _enough(sure[(c, key)], banned, need):
                    self._widen(site, candidates[key], banned, need)
        for f in usable:
            if self.firms[f].min_share > 0:
                self._reach_share(f)

    def _candidates(self, key: tuple, usable: list[int], need: int, banned: set[int]) -> list[int]:
        """Firms with the skill, proficiency and crew of key; upgrades firms (but the banned)
        when fewer than `need` are not banned."""
        skill, level, crew = key

        def able(f: int) -> bool:
            firm = self.firms[f]
            return skill in firm.skills and firm.skills[skill][0] >= level and firm.crew >= crew

        found = [f for f in usable if able(f)]
        spare = sorted((f for f in usable if not able(f) and f not in banned),
                       key=lambda f: (skill not in self.firms[f].skills, -self.firms[f].size, f))
        for f in spare[:max(0, need - sum(f not in banned for f in found))]:
            firm = self.firms[f]
            firm.skills[skill] = self._offer(skill, max(level, firm.skills.get(skill, (0,))[0]))
            firm.crew = max(firm.crew, crew)
            firm.size = max(firm.size, crew)
            found.append(f)
        return sorted(found)

    def _widen(self, site: Site, candidates: list[int], banned: set[int], need: int) -> None:
        reach = [(distance_km(site.latitude, site.longitude, self.firms[f].latitude,
                              self.firms[f].longitude), f)
                 for f in candidates if f not in banned]
        reach.sort()
        missing = need - sum(km <= self.firms[f].radius for km, f in reach)
        for km, f in reach:
            if missing <= 0:
                break
            if km > self.firms[f].radius:
                self.firms[f].radius = float(math.ceil(km) + 1)
                missing -= 1

    def _reach_share(self, f: int) -> None:
        firm = self.firms[f]
        goal = 3 * firm.min_share / 100 * sum(i.hours for items in self.items for i in items)
        reach = []
        for s, site in enumerate(self.sites):
            if f in self.banned.get(s, ()):
                continue
            hours = sum(i.hours for i in self.items[s] if i.skill in firm.skills
                        and firm.skills[i.skill][0] >= i.min_proficiency
                        and firm.crew >= i.crew_size)
            if hours:
                km = distance_km(site.latitude, site.longitude, firm.latitude, firm.longitude)
                reach.append((km, hours))
        reach.sort()
        total = 0.0
        for km, hours in reach:
            if total >= goal:
                break
            total += hours
            firm.radius = max(firm.radius, float(math.ceil(km) + 1))

    # --- capacity --------------------------------------------------------------------------

    def tune_capacity(self) -> None:
        """Technicians scaled by firm size so that the firms (but the client-barred one)
        offer about twice the work, then nudged into CAPACITY_BAND."""
        work = sum(i.hours for items in self.items for i in items)
        firms = [firm for f, firm in enumerate(self.firms) if f not in self.client_banned]
        firms = firms or self.firms
        _scale(firms, self.rng.uniform(1.8, 2.2) * work)
        for firm in firms:  # a minimum share needs the technicians to do it
            while (_capacity(firm) < _share_hours(firm, work)
                   and any(_range_hours(firm, part) for part in firm.ranges)):
                for part in firm.ranges:
                    part[3] += 1
        _nudge(firms, work)

    # --- the result ------------------------------------------------------------------------

    def problem(self, seed: int) -> Problem:
        firms = tuple(_freeze(firm, self.days) for firm in self.firms)
        exclusions = [Exclusion(firm=self.firms[f].id) for f in sorted(self.client_banned)]
        exclusions += [Exclusion(firm=self.firms[f].id, site=self.sites[s].id)
                       for s in sorted(self.banned) for f in sorted(self.banned[s])]
        return Problem(
            working_days=self.days, sites=tuple(self.sites),
            items=tuple(item for items in self.items for item in items), firms=firms,
            policy=Policy(max_firms_per_site=2, face_policy="lead"),
            exclusions=tuple(exclusions), skills=SKILLS,
            name=f"Rollout Germany: {self.n_sites} sites, {self.n_firms} firms, "
                 f"{self.n_days} days, seed {seed}")


def generate(sites: int, firms: int, days: int, seed: int = 0) -> Problem:
    """A realistic rollout of `sites` sites, `firms` firms and `days` working days from
    2027-03-01, the same for the same seed; ProblemError for a count below 1."""
    for name, value in (("sites", sites), ("firms", firms), ("days", days)):
        if value < 1:
            raise ProblemError(name, "must be at least 1")
    rollout = _Rollout(sites, firms, days, seed)
    rollout.add_sites()
    rollout.add_firms()
    rollout.add_exclusions()
    rollout.set_min_shares()
    rollout.ensure_reach()
    rollout.tune_capacity()
    rollout.set_max_shares()
    return rollout.problem(seed)


def _jitter(rng: random.Random, lat: float, lon: float, spread: float) -> tuple[float, float]:
    """A point uniformly spread on a disc of `spread` km around (lat, lon)."""
    km, angle = spread * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    lat2 = lat + km * math.cos(angle) / KM_PER_DEGREE
    return lat2, lon + km * math.sin(angle) / (KM_PER_DEGREE * math.cos(math.radians(lat)))


def _enough(firms, banned: set[int], need: int) -> bool:
    """At least `need` of the firms are not banned."""
    if not banned:
        return len(firms) >= need
    return sum(f not in banned for f in firms) >= need


def _first_run_end(open_days: list[bool], start: int, length: int) -> int | None:
    """The last day of the first run of `length` consecutive open days from `start`."""
    run = 0
    for k in range(start, len(open_days)):
        run = run + 1 if open_days[k] else 0
        if run == length:
            return k
    return None


def _range_hours(firm: _FirmDraft, part: list) -> float:
    """Hours one technician adds on a range: its days the firm is not blacked out."""
    first, last = part[0], part[1]
    days = last - first + 1 - sum(first <= k <= last for k in firm.blackouts)
    return days * firm.hours_per_technician


def _capacity(firm: _FirmDraft) -> float:
    return sum(part[3] * _range_hours(firm, part) for part in firm.ranges)


def _share_hours(firm: _FirmDraft, work: float) -> float:
    """The capacity a firm keeps for its minimum share: half as much again."""
    return 1.5 * firm.min_share / 100 * work


def _scale(firms: list[_FirmDraft], goal: float) -> None:
    """Technicians = size x growth x one factor, never fewer than the crew nor (unless the
    factor exceeds 1) more than 12: the smallest factor whose capacity reaches goal hours."""
    def apply(factor: float) -> float:
        most = max(MOST_TECHNICIANS, math.ceil(MOST_TECHNICIANS * factor))
        for firm in firms:
            for part in firm.ranges:
                part[3] = max(firm.crew, min(most, round(firm.size * part[2] * factor)))
        return sum(_capacity(firm) for firm in firms)

    below, above = 0.0, 1.0
    while apply(above) < goal and above < 1e6:
        below, above = above, above * 2
    for _ in range(40):
        middle = (below + above) / 2
        below, above = (below, middle) if apply(middle) >= goal else (middle, above)
    apply(above)


def _nudge(firms: list[_FirmDraft], work: float) -> None:
    """Capacity into CAPACITY_BAND one step at a time: down by a technician on the most
    staffed range, else by an offer ending a day earlier; up by a technician on the ranges
    of the largest firms in turn."""
    low, high = (bound * work for bound in CAPACITY_BAND)
    total = sum(_capacity(firm) for firm in firms)
    while total > high:
        step = _fewer_technicians(firms, work)
        step = _shorter_offer(firms, work) if step is None else step
        if step is None:
            break
        total -= step
    parts = sorted(((firm, part) for firm in firms for part in firm.ranges
                    if _range_hours(firm, part)), key=lambda fp: (-fp[0].size, fp[0].id))
    for k in itertools.count():
        if total >= low or not parts:
            break
        firm, part = parts[k % len(parts)]
        part[3] += 1
        total += _range_hours(firm, part)


def _fewer_technicians(firms: list[_FirmDraft], work: float) -> float | None:
    """One technician less on the most staffed range that can spare one; the hours saved."""
    spare = [(part[3], -n, firm, part) for n, firm in enumerate(firms) for part in firm.ranges
             if part[3] > firm.crew
             and _capacity(firm) - _range_hours(firm, part) >= _share_hours(firm, work)]
    if not spare:
        return None
    *_, firm, part = max(spare, key=lambda entry: entry[:2])
    part[3] -= 1
    return _range_hours(firm, part)


def _shorter_offer(firms: list[_FirmDraft], work: float) -> float | None:
    """The longest last range (of 5 days or more) ends a day earlier; the hours saved."""
    spare = [(firm.ranges[-1][1] - firm.ranges[-1][0], -n, firm) for n, firm in enumerate(firms)
             if firm.ranges[-1][1] - firm.ranges[-1][0] >= 5
             and _capacity(firm) - firm.ranges[-1][3] * firm.hours_per_technician
             >= _share_hours(firm, work)]
    if not spare:
        return None
    firm = max(spare, key=lambda entry: entry[:2])[2]
    last = firm.ranges[-1]
    saved = 0.0 if last[1] in firm.blackouts else last[3] * firm.hours_per_technician
    last[1] -= 1
    return saved


def _freeze(firm: _FirmDraft, days: tuple[dt.date, ...]) -> Firm:
    return Firm(
        id=firm.id, latitude=firm.latitude, longitude=firm.longitude, name=firm.name,
        skills=tuple(FirmSkill(skill, *firm.skills[skill]) for skill in SKILLS
                     if skill in firm.skills),
        availability=tuple(Availability(days[first], days[last], technicians,
                                        firm.hours_per_technician)
                           for first, last, _, technicians in firm.ranges),
        travel_radius_km=firm.radius, travel_cost_per_km=firm.cost_per_km,
        blackout_dates=frozenset(days[k] for k in firm.blackouts),
        min_share_percent=firm.min_share, max_share_percent=firm.max_share)


def main(argv: list[str] | None = None) -> int:
    """Command line: write a generated instance as JSON (to stdout with `-o -`)."""
    summary = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m solver.generate", description=summary)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--firms", type=int, default=30)
    parser.add_argument("--days", type=int, default=60, help="working days from 2027-03-01")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", required=True, help="the JSON file, - for stdout")
    args = parser.parse_args(argv)
    try:
        problem = generate(args.sites, args.firms, args.days, args.seed)
    except ProblemError as error:
        parser.error(str(error))
    if args.output == "-":
        json.dump(problem_to_dict(problem), sys.stdout, indent=2, allow_nan=False)
        sys.stdout.write("\n")
    else:
        save_problem(problem, args.output)
        print(f"{args.output}: {len(problem.sites)} sites, {len(problem.items)} items, "
              f"{len(problem.firms)} firms, {len(problem.working_days)} working days",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
