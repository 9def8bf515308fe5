"""The rules kernel (solver/rules/): each rule lives there once, its heuristic test, its CP-SAT
encoding and its LP form agree, and no other module of the planner encodes a rule of its own.

The CP-SAT encodings are checked against the predicates by enumerating every solution of a
tiny CP-SAT model that holds only the encoding: the model's solutions are exactly the
assignments the predicate accepts. The LP forms are checked the same way at integral points:
GLOP finds the rows feasible exactly where the predicate holds.
"""

import itertools
import re
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.math_opt.python import mathopt
from ortools.sat.python import cp_model

from solver import rules
from solver.rules import SHARE

KERNEL = Path(rules.__file__).parent
SOLVER = KERNEL.parent

# what only the kernel may do: post a CP-SAT constraint that is a rule or any LP row, read a
# field of the problem that defines a rule, or do share arithmetic
RULE_CODE = re.compile(
    r"only_enforce_if|add_implication|add_bool_or|add_exactly_one|add_at_most_one"
    r"|add_cumulative|add_no_overlap|add_linear_constraint"
    r"|\.face_policy\b|\.max_firms_per_site\b|\.due_dates_hard\b|\.travel_radius_km\b"
    r"|\.access_weekdays\b|\.blackout_dates\b|\.hours_per_technician\b|\.ready_on\b"
    r"|policy\.hard_shares\b|policy\.weights\."
    r"|\bSHARE\s*[*/]|[*/]\s*SHARE\b")
# the kernel; the independent checker; the instance's format, its validation and the
# generator of instances (which writes problems, it does not judge plans)
OWN_RULES = {"check.py", "types.py", "instance.py", "validate.py", "generate.py"}


def test_no_module_but_the_kernel_encodes_a_rule():
    found = []
    for path in sorted(SOLVER.rglob("*.py")):
        if path.relative_to(SOLVER).as_posix() in OWN_RULES or KERNEL in path.parents:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#")[0]
            if RULE_CODE.search(code):
                found.append(f"{path.relative_to(SOLVER)}:{number}: {line.strip()}")
    assert not found, "rule code outside solver/rules/:\n" + "\n".join(found)


def test_the_pattern_finds_what_it_looks_for():
    # the guard above would pass vacuously if the pattern matched nothing: it finds the
    # kernel's own encodings, and rule code planted in a line, but not ordinary code
    text = "".join(path.read_text() for path in KERNEL.glob("*.py"))
    assert len(RULE_CODE.findall(text)) >= 15
    planted = ["cp.add(x <= 1).only_enforce_if(y)", "cp.add_implication(a, b)",
               "if policy.face_policy == 'sole':", "cap = high / SHARE * total",
               "SHARE * units < low * total", "room = SHARE // low",
               "if day in site.blackout_dates:", "if policy.hard_shares:",
               "price = policy.weights.continuity",
               "row = lp.add_linear_constraint(ub=float(available))"]
    for line in planted:
        assert RULE_CODE.search(line), line
    for line in ["model.hard_shares", "rules.share_fraction(low)", "core.share_ranges[f]",
                 "cp.add(hours == rules.weighted(terms))"]:
        assert not RULE_CODE.search(line), line


def _solutions(cp: cp_model.CpModel, variables) -> set[tuple[int, ...]]:
    solver = cp_model.CpSolver()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.num_workers = 1
    found: set[tuple[int, ...]] = set()

    class Collect(cp_model.CpSolverSolutionCallback):
        def on_solution_callback(self):
            found.add(tuple(self.value(v) for v in variables))

    status = solver.solve(cp, Collect())
    assert status in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
    return found


# --- shares ------------------------------------------------------------------------------

shares = st.integers(0, SHARE)


@given(total=st.integers(1, 10_000), data=st.data(), low=shares, high=shares)
def test_within_share_is_the_fraction_of_all_hours(total, data, low, high):
    firm = data.draw(st.integers(0, total))
    share = Fraction(firm, total)
    assert rules.within_share(firm, total, low, high) == (
        Fraction(low, SHARE) <= share <= Fraction(high, SHARE))


@given(total=st.integers(0, 100_000), high=st.integers(0, SHARE - 1))
def test_share_cap_is_the_most_a_firm_may_do(total, high):
    cap = rules.share_cap(total, high)
    assert not rules.above_share(cap, total, high)
    assert rules.above_share(cap + 1, total, high)


def test_share_cap_is_unbounded_at_one_hundred_percent():
    assert rules.share_cap(1234, SHARE) == float("inf")


@given(units=st.integers(0, 100_000), low=st.integers(1, SHARE))
def test_largest_total_keeps_the_minimum_share(units, low):
    largest = rules.largest_total(units, low)
    assert not rules.below_share(units, largest, low)
    assert rules.below_share(units, largest + 1, low)


@settings(max_examples=25, deadline=None)
@given(low=shares, high=shares)
def test_share_encoding_accepts_exactly_what_the_rule_accepts(low, high):
    cp = cp_model.CpModel()
    firm, total = cp.new_int_var(0, 6, "firm"), cp.new_int_var(0, 9, "total")
    cp.add(firm <= total)
    rules.encode_share_range(cp, firm, total, low, high)
    expected = {(f, t) for t in range(10) for f in range(min(6, t) + 1)
                if rules.within_share(f, t, low, high)}
    assert _solutions(cp, [firm, total]) == expected


@settings(max_examples=25, deadline=None)
@given(units=st.integers(0, 5), target=shares)
def test_fairness_encoding_charges_the_rounded_up_distance(units, target):
    weights = type("W", (), {"coverage": 0, "cost": 0, "lateness": 0, "fairness": 1.0,
                             "continuity": 0, "stability": 0})()
    prices = rules.Prices(weights, [], [target])
    for total in range(units, 8):
        cp = cp_model.CpModel()
        dev = cp.new_int_var(0, 100, "dev")
        rules.encode_fairness(cp, dev, units, total, target)
        cp.minimize(dev)
        solver = cp_model.CpSolver()
        assert solver.solve(cp) == cp_model.OPTIMAL
        assert solver.value(dev) == prices.fairness_units({0: units}, total)


# --- sites -------------------------------------------------------------------------------


@given(there=st.sets(st.integers(0, 5), max_size=4), firm=st.integers(0, 5),
       limit=st.integers(1, 4))
def test_site_admits_a_firm_while_the_site_stays_within_its_limit(there, firm, limit):
    if len(there) > limit:
        there = set(sorted(there)[:limit])
    assert rules.site_admits(there, firm, limit) == (len(there | {firm}) <= limit)


@pytest.mark.parametrize("limit", [1, 2, 3])
def test_site_encoding_accepts_exactly_the_admitted_sets(limit):
    cp = cp_model.CpModel()
    xs = [[cp.new_bool_var(f"x{f}{n}") for n in range(2)] for f in range(3)]
    works = [cp.new_bool_var(f"y{f}") for f in range(3)]
    for y, options in zip(works, xs, strict=True):
        rules.encode_works_at(cp, y, options)
    rules.encode_site_firms(cp, works, limit)
    flat = [v for options in xs for v in options]
    found = _solutions(cp, flat + works)
    for values in found:
        used = {f for f in range(3) if values[2 * f] or values[2 * f + 1]}
        assert [values[6 + f] for f in range(3)] == [int(f in used) for f in range(3)]
    assert {v[:6] for v in found} == {
        tuple((n >> b) & 1 for b in range(6)) for n in range(64)
        if len({b // 2 for b in range(6) if (n >> b) & 1}) <= limit}


@given(st.dictionaries(st.integers(0, 6), st.integers(1, 20), min_size=1, max_size=5))
def test_the_face_firm_has_the_most_hours_the_lowest_index_among_equals(units):
    face = rules.face_firm(units)
    assert units[face] == max(units.values())
    assert face == min(f for f, u in units.items() if u == units[face])


def test_face_encoding_needs_half_of_the_site_and_one_face_where_anyone_works():
    cp = cp_model.CpModel()
    hours = [cp.new_int_var(0, 3, f"h{f}") for f in range(2)]
    works = [cp.new_bool_var(f"y{f}") for f in range(2)]
    faces = [cp.new_bool_var(f"z{f}") for f in range(2)]
    for h, y in zip(hours, works, strict=True):
        cp.add(h >= 1).only_enforce_if(y)
        cp.add(h == 0).only_enforce_if(~y)
    site = cp.new_int_var(0, 6, "site")
    cp.add(site == sum(hours))
    rules.encode_face(cp, site, list(zip(faces, works, hours, strict=True)))
    found = _solutions(cp, hours + faces)
    for a in range(4):
        for b in range(4):
            allowed = {(za, zb) for za, zb in [(1, 0), (0, 1)]
                       if rules.face_holds((a, b)[zb], a + b)} if a + b else {(0, 0)}
            assert {(za, zb) for ha, hb, za, zb in found if (ha, hb) == (a, b)} == allowed


# --- capacity and days -------------------------------------------------------------------


@given(units=st.integers(1, 5000), crew=st.integers(1, 4), per_tech=st.integers(1, 1200))
def test_days_and_daily_load_cover_the_work(units, crew, per_tech):
    days = rules.days_needed(units, crew, per_tech)
    load = rules.daily_load(units, days)
    assert days >= 1 and (days == 1 or (days - 1) * crew * per_tech < units)
    assert load * days >= units > (load - 1) * days


@given(room=st.lists(st.integers(-2, 6), min_size=1, max_size=8), load=st.integers(1, 5),
       data=st.data())
def test_last_full_day_is_the_last_day_the_load_does_not_fit(room, load, data):
    start = data.draw(st.integers(0, len(room) - 1))
    days = data.draw(st.integers(1, len(room) - start))
    full = [d for d in range(start, start + days) if not rules.fits(room[d], load)]
    assert rules.last_full_day(room, load, start, days) == (full[-1] if full else None)
    assert rules.run_fits(room, load, start, days) == (not full)


@settings(max_examples=30, deadline=None)
@given(capacity=st.lists(st.integers(0, 4), min_size=3, max_size=3),
       loads=st.lists(st.integers(1, 3), min_size=2, max_size=2))
def test_capacity_encoding_accepts_exactly_the_runs_that_fit(capacity, loads):
    if max(capacity) == 0:
        capacity[0] = 1
    cp = cp_model.CpModel()
    starts = [cp.new_int_var(0, 1, f"s{n}") for n in range(2)]
    taken = [cp.new_bool_var(f"x{n}") for n in range(2)]
    runs = [(cp.new_optional_fixed_size_interval_var(s, 2, x, f"r{n}"), load)
            for n, (s, x, load) in enumerate(zip(starts, taken, loads, strict=True))]
    rules.encode_daily_capacity(cp, runs, capacity, "f")
    found = _solutions(cp, starts + taken)

    def fits(s0, s1, x0, x1):
        room = list(capacity)
        for start, on, load in ((s0, x0, loads[0]), (s1, x1, loads[1])):
            if on:
                if not rules.run_fits(room, load, start, 2):
                    return False
                for d in range(start, start + 2):
                    room[d] -= load
        return True

    expected = {(s0, s1, x0, x1) for s0 in range(2) for s1 in range(2) for x0 in range(2)
                for x1 in range(2) if fits(s0, s1, x0, x1)}
    assert found == expected


@given(st.lists(st.one_of(st.none(), st.integers(0, 30)), max_size=5))
def test_ready_day_waits_for_every_dependency(ends):
    ready = rules.ready_day(ends)
    if None in ends:
        assert ready is None
    else:
        assert ready == max(ends, default=0)
        assert all(rules.precedes(end, ready) for end in ends)


def test_one_option_encoding_is_exactly_one_and_keeps_required_items():
    for required in (False, True):
        cp = cp_model.CpModel()
        xs = [cp.new_bool_var(f"x{n}") for n in range(2)]
        u = cp.new_bool_var("u")
        rules.encode_one_option(cp, xs, u, required)
        expected = {(1, 0, 0), (0, 1, 0)} | (set() if required else {(0, 0, 1)})
        assert _solutions(cp, xs + [u]) == expected


def test_a_dependency_fixed_unassigned_leaves_the_item_unassigned():
    for fixed, expected in ((True, {(1,)}), (False, {(0,), (1,)})):
        cp = cp_model.CpModel()
        u = cp.new_bool_var("u")
        rules.encode_needs_dependency(cp, fixed, u)
        assert _solutions(cp, [u]) == expected


def test_a_dependent_fixed_assigned_needs_its_dependency_assigned():
    for dependent_out, expected in ((False, {(0,)}), (True, {(0,), (1,)})):
        cp = cp_model.CpModel()
        pred_out = cp.new_bool_var("pred unassigned")
        rules.encode_needs_dependency(cp, pred_out, dependent_out)
        assert _solutions(cp, [pred_out]) == expected


def test_needs_dependency_between_two_literals_is_the_implication():
    cp = cp_model.CpModel()
    pred_out, out = cp.new_bool_var("pred unassigned"), cp.new_bool_var("unassigned")
    rules.encode_needs_dependency(cp, pred_out, out)
    assert _solutions(cp, [pred_out, out]) == {(0, 0), (0, 1), (1, 1)}


# --- the Lagrangian forms --------------------------------------------------------------------


@given(st.floats(-50, 50), st.floats(0, 50), st.booleans())
def test_lagrangian_item_is_the_least_of_the_relaxed_item_row(price, coverage, required):
    # the item row "its options and u sum to one" priced at `price`: the item contributes
    # price x 1 and chooses u in {0, 1} (0 only, when required) at (coverage - price) x u
    least = min(price + (coverage - price) * u for u in ((0,) if required else (0, 1)))
    assert rules.lagrangian_item(price, coverage, required) == pytest.approx(least)


@given(st.lists(st.tuples(st.floats(0, 5), st.floats(0, 5), st.floats(0, 5),
                          st.floats(0, 1), st.floats(0, 1), st.floats(0, 1),
                          st.floats(0, 40)), min_size=1, max_size=4), st.data())
def test_lagrangian_hour_prices_are_the_relaxed_share_rows_per_hour(firms, data):
    """The share rows (low x total - firm <= 0, firm - high x total <= 0) and the
    fairness distance (firm - target x total) priced at the multipliers: an hour more for
    firm f changes their priced sum by the firm's hour price."""
    lows, highs, fair, low, high, target, hours = (list(c) for c in zip(*firms, strict=True))

    def priced(h):
        total = sum(h)
        return sum(lows[g] * (low[g] * total - h[g]) + highs[g] * (h[g] - high[g] * total)
                   + fair[g] * (h[g] - target[g] * total) for g in range(len(h)))

    prices = rules.lagrangian_hour_prices(lows, highs, fair, low, high, target)
    f = data.draw(st.integers(0, len(firms) - 1))
    more = [h + (1.0 if g == f else 0.0) for g, h in enumerate(hours)]
    assert priced(more) - priced(hours) == pytest.approx(prices[f], abs=1e-6)


# --- the LP forms, at integral points --------------------------------------------------------


def _lp_feasible(build, values: list[float]) -> bool:
    """Whether GLOP finds the rows `build(lp, variables)` posts feasible with each variable
    fixed to its value."""
    lp = mathopt.Model()
    variables = [lp.add_variable(lb=v, ub=v) for v in values]
    build(lp, variables)
    result = mathopt.solve(lp, mathopt.SolverType.GLOP)
    reason = result.termination.reason
    assert reason in (mathopt.TerminationReason.OPTIMAL, mathopt.TerminationReason.INFEASIBLE)
    return reason == mathopt.TerminationReason.OPTIMAL


@pytest.mark.parametrize("required", [False, True])
def test_lp_one_option_holds_where_the_item_is_done_once(required):
    for values in itertools.product([0.0, 1.0], repeat=3):  # two options, then unassigned
        def build(lp, v, unassigned=values[2]):
            # `unassigned` free in [0, 1] (the rule may hold it at zero), set by a row
            v[2].lower_bound, v[2].upper_bound = 0.0, 1.0
            rules.lp_one_option(lp, v[:2], v[2], required)
            rules.lp_row(lp, [(1.0, v[2])], unassigned, unassigned)

        expected = sum(values) == 1 and not (required and values[2])
        assert _lp_feasible(build, list(values)) == expected, values


def test_lp_energy_holds_where_the_window_has_room():
    for a, b in itertools.product([0.0, 1.0], repeat=2):
        feasible = _lp_feasible(
            lambda lp, v: rules.lp_energy(lp, [(300.0, v[0]), (500.0, v[1])], 600), [a, b])
        assert feasible == rules.fits(600, int(300 * a + 500 * b))


def test_lp_needs_dependency_holds_where_a_dependent_waits_for_its_dependency():
    for pred, item in itertools.product([0.0, 1.0], repeat=2):
        feasible = _lp_feasible(lambda lp, v: rules.lp_needs_dependency(lp, v[0], v[1]),
                                [pred, item])
        # unassigned values: an assigned item (0) needs its dependency assigned (0)
        assert feasible == (not pred or bool(item))


@pytest.mark.parametrize("low,high", [(0, SHARE), (SHARE // 4, SHARE // 2), (SHARE // 3,
                                                                              SHARE // 3)])
def test_lp_share_range_holds_where_the_share_is_within_the_range(low, high):
    for firm in range(0, 13):
        total = 12
        feasible = _lp_feasible(
            lambda lp, v: rules.lp_share_range(lp, v[0], v[1], rules.share_fraction(low),
                                               rules.share_fraction(high)),
            [float(firm), float(total)])
        assert feasible == rules.within_share(firm, total, low, high), (firm, low, high)
        # the Lagrangian's gaps are positive exactly where the rule is broken
        below, above = rules.share_gaps(firm, total, rules.share_fraction(low),
                                        rules.share_fraction(high))
        assert (below <= 1e-9 and above <= 1e-9) == rules.within_share(firm, total, low, high)


def test_lp_fairness_prices_the_distance_from_the_target():
    target = rules.share_fraction(SHARE // 4)
    for firm in range(0, 13):
        lp = mathopt.Model()
        hours = lp.add_variable(lb=firm, ub=firm)
        total = lp.add_variable(lb=12, ub=12)
        deviation = lp.add_variable(lb=0.0)
        rules.lp_fairness(lp, deviation, hours, total, target)
        lp.minimize(deviation)
        result = mathopt.solve(lp, mathopt.SolverType.GLOP)
        assert result.objective_value() == pytest.approx(abs(firm - 3))
        assert abs(rules.fairness_gap(firm, 12, target)) == pytest.approx(abs(firm - 3))


@pytest.mark.parametrize("at_most", [False, True])
def test_lp_one_pattern_holds_where_one_pattern_or_at_most_one_is_chosen(at_most):
    for values in itertools.product([0.0, 1.0], repeat=3):  # three patterns' columns
        def build(lp, v):
            row = rules.lp_one_pattern(lp, at_most=at_most)
            for var in v:  # the columns join the row as a master adds them
                row.set_coefficient(var, 1.0)

        expected = sum(values) <= 1 if at_most else sum(values) == 1
        assert _lp_feasible(build, list(values)) == expected, values


def test_lp_row_holds_within_its_bounds():
    for a, b in itertools.product(range(4), repeat=2):
        feasible = _lp_feasible(lambda lp, v: rules.lp_row(lp, [(2.0, v[0]), (-1.0, v[1])],
                                                          lb=0.0, ub=3.0), [a, b])
        assert feasible == (0 <= 2 * a - b <= 3), (a, b)
