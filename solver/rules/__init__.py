"""The rules kernel: every hard rule and every objective term of docs/solver.md, once.

One module per rule, in the order of docs/solver.md; each holds the rule's arithmetic, the
test the heuristics ask ("may this firm still take this item?"), its CP-SAT encoding
(`encode_*`) and its LP form (`lp_*`, MathOpt rows, and the gaps a Lagrangian prices):

- units: HOUR, CENT, SHARE and the quantisation; `weighted` and `lp_row`, the plain sums;
- items: rule 1, each item once or unassigned, locked and required items assigned (the
  pattern masters' convexity rows are this rule over patterns);
- eligibility: rule 2, which options exist (proficiency, radius, exclusions, bans;
  solver.prepare derives the options from it);
- days: rule 3, an option's hours, cost and run of days, the site's and the item's days;
- capacity: rule 4, each firm's technician hours per day, and its relaxation to energy;
- precedence: rule 5, dependencies;
- site_firms: rule 6, firms per site and the face firm;
- rule 7, locks: solver.prepare turns each lock into the item's options and starts;
- shares: rule 8, each firm's share range;
- objective: the soft terms in whole cents (`Prices`), a plan's value (`plan_cents`), their
  encodings.

The CP-SAT models (the exact model, the assignment master, the LNS and site parts), the LP
masters (the assignment LP, the site and firm patterns), the Lagrangian bound, the list
scheduler and its repairs and prepare's options ask here; tests/solver/test_kernel.py fails
on rule code anywhere else in solver/. The independent checker (`solver.check`) implements
the same documented rules on its own, sharing no code with this package.

Units. Every number a rule compares is an integer, fixed once when the problem is prepared
(`solver.prepare`), so every part judges the same numbers (docs/solver.md, "Units"):

- work and capacity in hundredths of an hour (HOUR units), rounded half up; an option's hours
  are the input's hours times the proficiency factor, so rounded (at least one unit);
- money in euro cents (CENT), rounded half up;
- share limits and targets in thousandths of a percent (SHARE units of 100 %);
- the objective in euro cents: each term's price per unit is a whole number of cents.

A new rule: its module here (arithmetic, heuristic test, encodings), its rule in the checker,
its tests (tests/solver/test_rules.py runs every rule on the exact and the decomposed path;
tests/solver/test_kernel.py compares each encoding with its predicate).
"""

from __future__ import annotations

from .capacity import (
    encode_daily_capacity,
    encode_energy,
    encode_item_run,
    energy_windows,
    fits,
    last_full_day,
    lp_energy,
    run_fits,
)
from .days import (
    crew_available,
    daily_load,
    days_needed,
    firm_day,
    item_window,
    option_cents,
    option_units,
    site_open,
    technician_units,
)
from .eligibility import (
    RADIUS_TOLERANCE,
    banned,
    beyond_radius_words,
    excluded,
    proficient,
    reach_km,
    within_radius,
)
from .items import (
    encode_one_option,
    lagrangian_item,
    leaving_out,
    lp_one_option,
    lp_one_pattern,
)
from .objective import (
    REDATING,
    Prices,
    due_day,
    encode_fairness,
    encode_fixed_fairness,
    encode_lateness,
    encode_redating,
    euros,
    fairness_gap,
    item_cents,
    late_possible,
    lateness_days,
    lp_fairness,
    objective_terms,
    plan_cents,
    redated,
    share_targets,
)
from .precedence import (
    dependencies_assigned,
    encode_needs_dependency,
    encode_precedence,
    latest_end,
    lp_needs_dependency,
    needed_by,
    precedes,
    ready_day,
)
from .shares import (
    above_share,
    below_share,
    encode_share_range,
    lagrangian_hour_prices,
    largest_total,
    lp_share_range,
    share_cap,
    share_caps,
    share_fraction,
    share_gaps,
    share_range,
    shares_hard,
    unlimited,
    within_share,
)
from .site_firms import (
    encode_face,
    encode_site_firms,
    encode_works_at,
    face_firm,
    face_holds,
    firms_per_site,
    lead_face,
    limit_binds,
    site_admits,
    site_full,
    within_limit,
)
from .units import CENT, HOUR, SHARE, TERMS, cents, hours_of, lp_row, quantise, weighted, work_units
