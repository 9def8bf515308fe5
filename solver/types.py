"""The solver's input and output: frozen dataclasses, no web, no database.

Units: hours are hours (float), money is euros (float), distances are kilometres, dates are
`datetime.date`. Every id is a string chosen by the caller.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

OBJECTIVE_TERMS = ("coverage", "cost", "lateness", "fairness", "continuity", "stability")
FACE_POLICIES = ("none", "sole", "lead")


class ProblemError(ValueError):
    """The one error the solver raises on bad input; `field` names what is wrong."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


# --- input -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    id: str
    latitude: float
    longitude: float
    name: str = ""
    region: str = ""
    ready_on: dt.date | None = None
    access_weekdays: frozenset[int] = frozenset({1, 2, 3, 4, 5})  # ISO, Monday=1
    blackout_dates: frozenset[dt.date] = frozenset()


@dataclass(frozen=True)
class WorkItem:
    """Work at a site: `hours` in total (effort per unit x quantity) for a firm at exactly
    `min_proficiency`; a more proficient firm needs fewer (see Policy.speedup_per_level)."""

    id: str
    site: str
    skill: str
    hours: float
    min_proficiency: int = 1
    crew_size: int = 1
    earliest_on: dt.date | None = None
    due_on: dt.date | None = None
    depends_on: tuple[str, ...] = ()
    kind: str = "other"
    label: str = ""


@dataclass(frozen=True)
class FirmSkill:
    skill: str
    proficiency: int
    hourly_rate: float


@dataclass(frozen=True)
class Availability:
    """From start_on to end_on (inclusive), `technicians` each working `hours_per_technician`
    on every working day the firm is not blacked out."""

    start_on: dt.date
    end_on: dt.date
    technicians: int
    hours_per_technician: float = 8.0


@dataclass(frozen=True)
class Firm:
    id: str
    latitude: float
    longitude: float
    skills: tuple[FirmSkill, ...]
    availability: tuple[Availability, ...]
    name: str = ""
    travel_radius_km: float = 0.0
    travel_cost_per_km: float = 0.0
    blackout_dates: frozenset[dt.date] = frozenset()
    min_share_percent: float = 0.0
    max_share_percent: float = 100.0
    # the share the fairness term aims at, within the range; None: the middle of the range
    # (the service sets it to carry fair shares across plans, docs/solver.md)
    target_share_percent: float | None = None


@dataclass(frozen=True)
class Exclusion:
    """A firm barred from one site, or from every site of the client when site is None."""

    firm: str
    site: str | None = None


@dataclass(frozen=True)
class Ban:
    """The firm may not do this work item (a coordinator's ban, or a partner's decline)."""

    item: str
    firm: str


@dataclass(frozen=True)
class Lock:
    """Keep what a coordinator fixed: the firm, the start date, or both."""

    item: str
    firm: str | None = None
    start_on: dt.date | None = None


@dataclass(frozen=True)
class Option:
    """An explicit way to do an item: this firm, these hours and this cost. When a problem
    gives options they replace the derived ones (skill, radius, rates): the classic
    Generalized Assignment Problem is such a problem. `days` defaults to what the hours need."""

    item: str
    firm: str
    hours: float
    cost: float
    days: int | None = None


@dataclass(frozen=True)
class PlannedItem:
    """An item of a reference plan (the previous plan when re-planning)."""

    item: str
    firm: str
    start_on: dt.date | None = None


@dataclass(frozen=True)
class Weights:
    """Euros charged per unit of each objective term (documented in docs/solver.md)."""

    coverage: float = 1000.0  # per hour of work left unassigned
    cost: float = 1.0  # per euro of rates and travel
    lateness: float = 200.0  # per item-day past its due date (soft due dates only)
    fairness: float = 10.0  # per hour a firm lies away from its target share (the middle)
    continuity: float = 300.0  # per firm working at a site (every firm, the first too)
    stability: float = 500.0  # per item moved to another firm than in the reference plan

    def as_dict(self) -> dict[str, float]:
        return {term: getattr(self, term) for term in OBJECTIVE_TERMS}


@dataclass(frozen=True)
class Policy:
    max_firms_per_site: int = 2
    face_policy: str = "lead"  # none | sole (one firm does all) | lead (one firm leads, >= half)
    weights: Weights = Weights()
    due_dates_hard: bool = True
    speedup_per_level: float = 0.05  # hours saved per proficiency level above the minimum
    hard_shares: bool = True  # min/max shares as hard rules; else only the fairness term


@dataclass(frozen=True)
class Problem:
    working_days: tuple[dt.date, ...]
    sites: tuple[Site, ...]
    items: tuple[WorkItem, ...]
    firms: tuple[Firm, ...]
    policy: Policy = Policy()
    exclusions: tuple[Exclusion, ...] = ()
    bans: tuple[Ban, ...] = ()
    locks: tuple[Lock, ...] = ()
    reference: tuple[PlannedItem, ...] = ()
    options: tuple[Option, ...] | None = None
    skills: tuple[str, ...] = ()  # the skill catalogue; when given, every skill must be in it
    name: str = ""


@dataclass(frozen=True)
class Progress:
    """A better plan found: its weighted objective (euros), the proven bound (NaN when none
    yet), seconds since the start and the step that found it. `assigned` (items), `cost`
    (euros of rates and travel) and `terms` (weighted euros) describe the plan when the step
    has it at hand, else None."""

    objective: float
    bound: float
    elapsed: float
    phase: str
    assigned: int | None = None
    cost: float | None = None
    terms: dict[str, float] | None = None


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 10.0
    workers: int = 2
    seed: int = 0
    mode: str = "auto"  # auto | exact (one CP-SAT model) | decompose (assign, then schedule)
    on_progress: Callable[[Progress], None] | None = field(default=None, compare=False)
    should_stop: Callable[[], bool] | None = field(default=None, compare=False)
    explain: bool = True
    deterministic: bool = True  # with several workers, interleave them reproducibly
    grace: float = 0.5  # seconds the first plan may still take after a stop or the time limit


# --- output ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Assignment:
    item: str
    firm: str
    start_on: dt.date
    end_on: dt.date
    days: tuple[dt.date, ...]
    hours: float
    cost: float
    travel_cost: float


@dataclass(frozen=True)
class Unassigned:
    item: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Explanation:
    """Why this firm: the next-best eligible firm and what choosing it would cost more."""

    item: str
    firm: str
    next_firm: str | None
    extra_cost: float | None
    text: str


@dataclass(frozen=True)
class WeekLoad:
    week_start: dt.date
    hours: float
    capacity: float


@dataclass(frozen=True)
class FirmReport:
    firm: str
    hours: float
    share_percent: float
    min_share_percent: float
    max_share_percent: float
    cost: float
    travel_cost: float
    visits: int
    weeks: tuple[WeekLoad, ...]
    target_share_percent: float = 0.0  # what the fairness term aimed at (rescaled)


@dataclass(frozen=True)
class SiteReport:
    site: str
    firms: tuple[str, ...]
    face_firm: str | None
    visits: int
    finish_on: dt.date | None


@dataclass(frozen=True)
class Result:
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    time_to_first_plan: float | None
    wall_time: float
    terms: dict[str, float]
    assignments: tuple[Assignment, ...] = ()
    unassigned: tuple[Unassigned, ...] = ()
    firms: tuple[FirmReport, ...] = ()
    sites: tuple[SiteReport, ...] = ()
    explanations: tuple[Explanation, ...] = ()
    face_firms: dict[str, str] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    stats: dict[str, float] = field(default_factory=dict)
