"""The entry point's contract: progress reports and the stop flag, in both modes.

No assertion here times the solver: a stop is shown honoured by what the result says ran,
a stop part-way through by a flag that goes up after a number of looks (tests/solver/flags),
waits are bounded and sleep-free (a test that would hang fails with a message instead), and a
path is chosen through `SolveOptions(mode=...)` or the process's cores; nothing of the solver
is patched.
"""

import itertools
import os
import threading

import pytest

from benchmarks import gap_recipes
from benchmarks.gap import to_problem
from solver import cpsat
from solver.budget import Budget
from solver.check import check
from solver.generate import generate
from solver.instance import Plan
from solver.prepare import Interrupted, prepare
from solver.schedule import greedy
from solver.solve import solve
from solver.types import SolveOptions

from .flags import Flag, looks

WAIT = 10.0  # seconds a bounded wait gives a background thread before the test fails


def _checked(problem, result) -> None:
    plan = Plan(assignments=result.assignments, face_firms=result.face_firms,
                unassigned=tuple(u.item for u in result.unassigned))
    assert check(problem, plan) == []


@pytest.mark.parametrize("mode, size", [("decompose", (200, 30, 30)), ("exact", (13, 8, 20))])
def test_stop_flag_ends_the_search_with_the_best_plan_so_far(mode, size):
    problem = generate(*size, seed=2)
    reports = []

    def stop_after_first_plan() -> bool:
        return bool(reports)

    result = solve(problem, SolveOptions(time_limit=120, mode=mode, explain=False,
                                         on_progress=reports.append,
                                         should_stop=stop_after_first_plan))
    assert reports and result.status in ("feasible", "optimal")
    assert result.objective is not None and result.assignments
    # the best plan so far: no worse than the best one reported (the model counts in cents)
    assert result.objective <= min(r.objective for r in reports) + 0.01
    _checked(problem, result)
    # a 120 s limit, stopped at the first plan: no search step ran after the stop (the
    # result does not say it was stopped; the site search's step count is what shows it)
    assert result.stats.get("site_steps", 0.0) == 0.0


def test_progress_reports_better_plans_with_their_bound_and_time():
    reports = []
    result = solve(generate(60, 12, 20, seed=1), SolveOptions(time_limit=5, mode="decompose",
                                                               explain=False,
                                                               on_progress=reports.append))
    assert reports
    # each report's time is a time of this solve, in the order they came (how long it took
    # is the benchmarks' business)
    times = [r.elapsed for r in reports]
    assert 0.0 <= times[0] and times[-1] <= result.wall_time
    assert all(earlier <= later for earlier, later in itertools.pairwise(times))
    assert all(r.bound <= r.objective + 1e-6 for r in reports if r.bound == r.bound)
    # each report names the step that found its plan, and each plan is a better one (the
    # model counts in cents, a report in euros: a cent apart at most); which steps report,
    # and in which order, is the solver's business
    assert all(isinstance(r.phase, str) and r.phase for r in reports)
    objectives = [r.objective for r in reports]
    assert all(later <= earlier + 0.01 for earlier, later in itertools.pairwise(objectives))


@pytest.mark.parametrize("mode, size", [("decompose", (60, 12, 20)), ("exact", (13, 8, 20))])
def test_described_progress_reports_match_their_plan(mode, size):
    """A report that describes its plan gives the items assigned, the euros of rates and
    travel and the weighted terms, whose sum is the objective reported with them."""
    problem = generate(*size, seed=1)
    reports = []
    result = solve(problem, SolveOptions(time_limit=3, mode=mode, explain=False,
                                         on_progress=reports.append))
    described = [r for r in reports if r.assigned is not None]
    assert described, [r.phase for r in reports]
    for report in described:
        assert 0 < report.assigned <= len(problem.items) and report.cost > 0
        assert set(report.terms) == {"coverage", "cost", "lateness", "fairness",
                                     "continuity", "stability"}
        assert sum(report.terms.values()) == pytest.approx(report.objective, rel=1e-6)
    # the reports come in order, each plan no worse than the one before (the model counts in
    # cents, the final report in euros: a cent apart at most)
    objectives = [r.objective for r in reports]
    assert all(later <= earlier + 0.01 for earlier, later in itertools.pairwise(objectives))
    assert result.objective <= objectives[-1] + 0.01


@pytest.mark.parametrize("mode, size", [("decompose", (100, 20, 30)), ("exact", (13, 8, 20))])
def test_stop_asked_from_the_start_still_returns_the_first_plan(mode, size):
    result = solve(generate(*size, seed=4), SolveOptions(
        time_limit=120, mode=mode, explain=False, should_stop=lambda: True))
    # a plan all the same: the first one, or a relaxation's optimum proven within 0.1 s
    assert result.status in ("feasible", "optimal") and result.assignments
    # and nothing searched after it: no improvement round, no site step
    assert result.stats.get("rounds", 0.0) == 0.0 and result.stats.get("site_steps", 0.0) == 0.0


def test_an_unproven_exact_search_hands_its_plan_to_the_site_search():
    # the exact model forced onto a rollout of 30 sites (about 400 options; "auto" would
    # decompose it) cannot prove it within its share of 4 s: the search over sites takes its
    # plan for the rest, keeping every rule
    problem = generate(30, 8, 20, seed=2)
    result = solve(problem, SolveOptions(time_limit=4, mode="exact", explain=False))
    assert result.status in ("feasible", "optimal") and result.stats["mode"] == 1.0
    # unproven, the plan went on to the search over sites (a proof needs none)
    assert result.status == "optimal" or result.stats.get("site_steps", 0) > 0
    assert not result.unassigned
    assert result.bound is None or result.bound <= result.objective + 1e-6
    _checked(problem, result)


def test_one_day_problem_of_many_sites_still_runs_the_master_after_the_patterns():
    # one firm, one day, 40 sites: the patterns give a plan, and the master's rounds (exact
    # capacity on one day) still run; the plan keeps the work the day can hold
    result = solve(generate(40, 1, 1, seed=1), SolveOptions(time_limit=4, explain=False))
    assert result.status == "optimal" and result.stats["rounds"] >= 1
    assert result.assignments and result.gap == 0.0


def test_a_stop_while_preparing_a_large_problem_ends_it_without_a_plan():
    # 300 sites: preparing polls the stop flag every CHECK_EVERY items; once the grace for a
    # first plan has passed it gives up, reports why, and returns no plan (no grace here:
    # with the default 0.5 s a 300-site problem is prepared before it ends)
    problem = generate(300, 40, 30, seed=1)
    polls = []

    def stop() -> bool:
        polls.append(None)
        return True

    result = solve(problem, SolveOptions(time_limit=60, explain=False, should_stop=stop,
                                         grace=0.0))
    assert result.status == "unknown" and not result.assignments
    assert result.reasons == ("no plan found in the time given (stopped while preparing the "
                              "options and the first plan)",)
    assert polls


def test_prepare_raises_interrupted_when_stopped_and_not_otherwise():
    problem = generate(300, 40, 30, seed=1)
    with pytest.raises(Interrupted):
        prepare(problem, stopped=lambda: True)
    assert prepare(problem, stopped=lambda: False).options


def test_a_stopped_greedy_returns_part_of_its_first_pass_or_a_whole_pass():
    # with hard shares the greedy plan takes two passes (the second holds each firm's
    # maximum share against what the first assigned): stopped at any look, it returns the
    # part of the first pass done so far, marked stopped, or a whole pass, never a part of
    # the second
    core = prepare(generate(100, 20, 30, seed=3))
    results = [greedy(core, stopped=Flag(down))
               for down in range(looks(lambda flag: greedy(core, stopped=flag)) + 1)]
    whole = next(n for n, placement in enumerate(results) if not placement.stopped)
    assert whole > 1 and not any(placement.stopped for placement in results[whole:])
    first = results[whole]  # the first pass
    for part in results[:whole]:
        assert all(first.chosen.get(i) is option and first.start[i] == part.start[i]
                   for i, option in part.chosen.items())
    assert not results[0].chosen and 0 < len(results[1].chosen) < len(first.chosen)
    # a whole pass has considered every item: placed it, or said why not
    for placement in results[whole:]:
        assert set(placement.chosen) | set(placement.failed) == set(range(len(core.items)))


def test_a_stop_at_any_look_before_the_first_plan_gives_no_plan_rather_than_an_empty_one():
    # stopped while preparing or while making the greedy plan (no grace): a greedy plan cut
    # short keeps every rule, but it is not a plan, so the solve says it has none; from
    # the look after the greedy plan on, the solve has its plan
    problem = generate(30, 8, 20, seed=5)
    outcomes = []
    for down in range(100):
        result = solve(problem, SolveOptions(time_limit=60, explain=False,
                                             should_stop=Flag(down), grace=0.0))
        if result.assignments:
            assert result.status in ("feasible", "optimal")
            _checked(problem, result)
            break
        assert result.status == "unknown" and result.reasons == (
            "no plan found in the time given (stopped while preparing the options and the "
            "first plan)",)
        outcomes.append(result)
    else:
        pytest.fail("no plan however late the stop")
    assert outcomes  # the first looks gave no plan


def test_a_time_limit_that_passes_while_preparing_ends_the_solve_without_a_plan():
    # no grace and a limit already gone at the first poll: the reason says out of time
    result = solve(generate(30, 8, 20, seed=5), SolveOptions(time_limit=1e-9, explain=False,
                                                             grace=0.0))
    assert result.status == "unknown" and not result.assignments
    assert result.reasons == ("no plan found in the time given (out of time while preparing "
                              "the options and the first plan)",)
    assert result.objective is None and result.time_to_first_plan is None


def _plan(result):
    return sorted((a.item, a.firm, a.start_on) for a in result.assignments)


def test_two_workers_give_the_same_plan_for_the_same_seed_with_the_exact_model_in_parallel():
    # seed 0: the relaxed optimum does not fit on days, so the exact model (started beside
    # the relaxation, on the other core) proves the plan; its plan is the same every run
    problem = generate(13, 8, 20, seed=0)
    results = [solve(problem, SolveOptions(time_limit=20, workers=2, seed=3, explain=False))
               for _ in range(2)]
    assert [r.status for r in results] == ["optimal", "optimal"]
    assert _plan(results[0]) == _plan(results[1]) and results[0].assignments
    assert results[0].objective == pytest.approx(results[1].objective)
    _checked(problem, results[0])


def test_one_and_two_workers_reach_the_same_optimum():
    problem = generate(13, 8, 20, seed=0)
    one = solve(problem, SolveOptions(time_limit=20, workers=1, explain=False))
    two = solve(problem, SolveOptions(time_limit=20, workers=2, explain=False))
    assert one.status == two.status == "optimal"
    assert one.objective == pytest.approx(two.objective)
    _checked(problem, one)
    _checked(problem, two)


# a rollout whose relaxed optimum fits on days (with the quantised hours of issue 14 and
# before them): the relaxation proves it (stats "proof")
PROVEN_BY_RELAXATION = (6, 6, 20, 1)


def test_a_relaxation_that_proves_the_plan_leaves_no_search_running():
    # the relaxed optimum fits on days, so it is the answer; the exact model that ran beside
    # it is told to stop, and nothing of it outlives the solve
    threads = set(threading.enumerate())
    problem = generate(*PROVEN_BY_RELAXATION)
    result = solve(problem, SolveOptions(time_limit=20, workers=2, explain=False))
    assert result.status == "optimal" and result.stats.get("proof") == 1.0
    _checked(problem, result)
    for thread in set(threading.enumerate()) - threads:
        thread.join(timeout=WAIT)
        assert not thread.is_alive(), f"{thread.name} of the solve still runs after it returned"


# (13, 8, 20, 0): the exact model proves the plan, so it reports; (13, 8, 20, 7): the
# relaxation proves it, and the exact model beside it had reported by then in every run seen
@pytest.mark.parametrize("size, reports", [((13, 8, 20, 0), True), ((13, 8, 20, 7), False)],
                         ids=["the exact model proves", "the relaxation proves"])
def test_an_error_in_the_parallel_exact_model_reaches_the_caller(size, reports):
    # the caller's own on_progress fails when the exact model reports a plan: the error is
    # raised in the exact model's thread, and must reach the caller, also when the
    # relaxation beside it has proven the plan
    reported = []

    def failing(progress) -> None:
        if progress.phase == "exact":
            reported.append(progress)
            raise RuntimeError("on_progress failed")

    options = SolveOptions(time_limit=20, workers=2, explain=False, on_progress=failing)
    try:
        result = solve(generate(*size), options)
    except RuntimeError as error:
        assert str(error) == "on_progress failed" and reported
    else:
        # only when the relaxation's proof stopped the exact model before its first plan
        assert not reports and not reported and result.stats.get("proof") == 1.0


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_on_one_core_two_workers_solve_as_one():
    # restricted to one core (the calling thread's affinity, which CP-SAT's threads
    # inherit), two workers run the relaxation and the exact model in turn: the same
    # optimum as one worker
    problem = generate(13, 8, 20, seed=0)
    one = solve(problem, SolveOptions(time_limit=20, workers=1, explain=False))
    cores = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(cores)})
    try:
        two = solve(problem, SolveOptions(time_limit=20, workers=2, explain=False))
    finally:
        os.sched_setaffinity(0, cores)
    assert one.status == two.status == "optimal"
    assert two.objective == pytest.approx(one.objective)
    _checked(problem, two)


class _CountingSolver:
    def __init__(self, enough: int = 3):
        self.stops = 0
        self.enough, self.asked_enough = enough, threading.Event()

    def stop_search(self):
        self.stops += 1
        if self.stops >= self.enough:
            self.asked_enough.set()


def test_the_watcher_asks_again_until_the_solve_ends():
    # a stop asked before CP-SAT has started is not kept, so one request is not enough
    clock = Budget(10, None)
    done, cancel = threading.Event(), threading.Event()
    solver = _CountingSolver()
    cancel.set()
    watcher = threading.Thread(target=cpsat.watch_stop,
                               args=(solver, clock, done, cancel, clock.stopped))
    watcher.start()
    try:
        assert solver.asked_enough.wait(WAIT), "the watcher asked to stop fewer than 3 times"
    finally:
        done.set()
        watcher.join(timeout=WAIT)
    assert not watcher.is_alive(), "the watcher did not end once the solve was done"


class _CountingEvent(threading.Event):
    """A cancel that counts how often it is looked at."""

    def __init__(self):
        super().__init__()
        self.looks = 0

    def is_set(self) -> bool:
        self.looks += 1
        return super().is_set()


def test_the_watcher_polls_the_stop_flag_a_tenth_as_often_as_the_cancel():
    stops = []
    polled_enough = threading.Event()

    def should_stop():
        stops.append(None)
        if len(stops) >= 3:
            polled_enough.set()
        return False

    clock = Budget(10, should_stop)
    done, cancel = threading.Event(), _CountingEvent()
    solver = _CountingSolver()
    watcher = threading.Thread(target=cpsat.watch_stop,
                               args=(solver, clock, done, cancel, clock.stopped))
    watcher.start()
    try:
        assert polled_enough.wait(WAIT), "the watcher polled the stop flag fewer than 3 times"
    finally:
        done.set()
        watcher.join(timeout=WAIT)
    assert not watcher.is_alive() and solver.stops == 0
    # counted, not timed: the cancel at every poll, the stop flag at every tenth
    assert cancel.looks >= 10 * len(stops)


# the assignment master's steps: their plans are reported before they are placed on days
MASTER_PHASES = ("firm patterns", "assign round", "lns round")


@pytest.mark.parametrize("kind", ["d", "e"])
def test_a_stop_after_the_master_reports_a_plan_still_returns_that_plan(kind):
    # a one-day GAP: the master is exact there, so what it reports is a plan's value; a stop
    # right after the report must not lose it while it is being placed
    instance = gap_recipes.generate(kind, 8, 60, 1)
    problem = to_problem("t", instance.m, instance.n, instance.cost, instance.resource,
                         instance.capacity)
    stop = threading.Event()
    reported = []

    def on_progress(progress):
        if not stop.is_set() and progress.phase.startswith(MASTER_PHASES):
            reported.append(progress.objective)
            stop.set()

    result = solve(problem, SolveOptions(time_limit=6, workers=2, seed=0, explain=False,
                                         on_progress=on_progress, should_stop=stop.is_set))
    assert reported, "no master step reported a plan: the test proves nothing"
    assert result.status == "feasible" and not result.unassigned
    assert result.objective <= reported[0] + 0.005
    _checked(problem, result)
