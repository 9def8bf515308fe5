"""The entry point's contract: progress reports and the stop flag, in both modes."""

import itertools
import threading
import time

import pytest

from solver import schedule as schedule_module
from solver import solve as solve_module
from solver.generate import generate
from solver.prepare import Interrupted, prepare
from solver.schedule import greedy
from solver.solve import solve
from solver.types import SolveOptions


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
    # a 120 s limit, stopped at the first plan: no search step ran after the stop
    assert result.stats.get("site_steps", 0.0) == 0.0


def test_progress_reports_better_plans_with_their_bound_and_time():
    reports = []
    solve(generate(60, 12, 20, seed=1), SolveOptions(time_limit=5, mode="decompose",
                                                      explain=False,
                                                      on_progress=reports.append))
    assert reports
    elapsed = [r.elapsed for r in reports]
    assert elapsed == sorted(elapsed)
    assert all(r.bound <= r.objective + 1e-6 for r in reports if r.bound == r.bound)
    assert [r.phase for r in reports][:2] == ["first plan", "columns"]


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


def test_an_unproven_exact_search_hands_its_plan_to_the_site_search(monkeypatch):
    # the exact model gets a tenth of the time, too little to prove this rollout optimal:
    # the search over sites improves its plan within the rest, keeping every rule
    monkeypatch.setattr(solve_module, "EXACT_SHARE", 0.1)
    problem = generate(13, 8, 20, seed=2)
    result = solve(problem, SolveOptions(time_limit=4, mode="exact", explain=False))
    assert result.status in ("feasible", "optimal") and result.stats["mode"] == 1.0
    assert result.stats.get("site_steps", 0) > 0
    assert not result.unassigned
    assert result.bound is None or result.bound <= result.objective + 1e-6


def test_one_day_problem_of_many_sites_still_runs_the_master_after_the_patterns():
    # one firm, one day, 40 sites: the patterns give a plan, and the master's rounds (exact
    # capacity on one day) still run; the plan keeps the work the day can hold
    result = solve(generate(40, 1, 1, seed=1), SolveOptions(time_limit=4, explain=False))
    assert result.status == "optimal" and result.stats["rounds"] >= 1
    assert result.assignments and result.gap == 0.0


def test_a_stop_while_preparing_a_large_problem_ends_it_without_a_plan(monkeypatch):
    # 300 sites: preparing polls the stop flag every CHECK_EVERY items; once the grace for a
    # first plan has passed it gives up, reports why, and returns no plan
    problem = generate(300, 40, 30, seed=1)
    polls = []

    def stop() -> bool:
        polls.append(None)
        return True

    monkeypatch.setattr(solve_module, "GRACE", 0.0)
    result = solve(problem, SolveOptions(time_limit=60, explain=False, should_stop=stop))
    assert result.status == "unknown" and not result.assignments
    assert result.reasons == ("no plan found in the time given (stopped while preparing the "
                              "options and the first plan)",)
    assert polls


def test_prepare_raises_interrupted_when_stopped_and_not_otherwise():
    problem = generate(300, 40, 30, seed=1)
    with pytest.raises(Interrupted):
        prepare(problem, stopped=lambda: True)
    assert prepare(problem, stopped=lambda: False).options


def test_a_stopped_greedy_returns_the_plan_so_far():
    core = prepare(generate(100, 20, 30, seed=3))
    polls = []

    def stop_at_second_poll() -> bool:
        polls.append(None)
        return len(polls) >= 2

    # the first pass, whole (with share ranges the greedy makes two passes)
    whole = schedule_module._greedy(core, sum(item.hours for item in core.items),
                                    lambda: False)
    part = greedy(core, stopped=stop_at_second_poll)
    assert part.stopped and not whole.stopped
    assert 0 < len(part.chosen) <= 64 < len(whole.chosen)
    assert all(whole.chosen.get(i) is option for i, option in part.chosen.items())


def test_a_stop_right_after_preparing_gives_no_plan_rather_than_an_empty_one(monkeypatch):
    # the greedy plan stops at its first poll: an empty plan keeps every rule, but it is
    # not a plan, so the solve says it has none
    monkeypatch.setattr(solve_module, "GRACE", 0.0)
    prepared = []
    real = solve_module.prepare

    def prepare_and_note(*args, **kwargs):
        core = real(*args, **kwargs)
        prepared.append(core)
        return core

    monkeypatch.setattr(solve_module, "prepare", prepare_and_note)
    result = solve(generate(30, 8, 20, seed=5), SolveOptions(
        time_limit=60, explain=False, should_stop=lambda: bool(prepared)))
    assert prepared and result.status == "unknown" and not result.assignments
    assert "stopped while preparing" in result.reasons[0]


def test_a_stop_after_the_first_greedy_pass_keeps_that_whole_pass():
    core = prepare(generate(100, 20, 30, seed=3))
    polls = []
    items = len(core.items)
    first_pass_polls = -(-items // 64)  # polls at items 0, 64, 128, ...

    def stop_after_first_pass() -> bool:
        polls.append(None)
        return len(polls) > first_pass_polls

    kept = greedy(core, stopped=stop_after_first_pass)
    whole = schedule_module._greedy(core, sum(item.hours for item in core.items),
                                    lambda: False)
    assert not kept.stopped
    assert {i: o.index for i, o in kept.chosen.items()} == \
        {i: o.index for i, o in whole.chosen.items()}


def test_a_time_limit_that_passes_while_preparing_ends_the_solve_without_a_plan(monkeypatch):
    # no grace and a limit already gone at the first poll: the reason says out of time
    monkeypatch.setattr(solve_module, "GRACE", 0.0)
    result = solve(generate(30, 8, 20, seed=5), SolveOptions(time_limit=1e-9, explain=False))
    assert result.status == "unknown" and not result.assignments
    assert result.reasons == ("no plan found in the time given (out of time while preparing "
                              "the options and the first plan)",)
    assert result.objective is None and result.time_to_first_plan is None


def _plan(result):
    return sorted((a.item, a.firm, a.start_on) for a in result.assignments)


def _record_runs(monkeypatch) -> list[dict]:
    """Every CP-SAT run of the solves that follow: its phase, workers, hint and cancel."""
    runs = []
    real_run = solve_module._run

    def recording(model, clock, options, phase, hint, time_limit, prove=False, cancel=None):
        runs.append({"phase": phase, "workers": options.workers, "hint": hint,
                     "cancel": cancel})
        return real_run(model, clock, options, phase, hint, time_limit, prove, cancel)

    monkeypatch.setattr(solve_module, "_run", recording)
    return runs


def test_two_workers_give_the_same_plan_for_the_same_seed_with_the_exact_model_in_parallel(
        monkeypatch):
    # seed 0: the relaxed optimum does not fit on days, so the exact model (started beside
    # the relaxation, on the other core) proves the plan; its plan is the same every run
    calls = _record_runs(monkeypatch)
    problem = generate(13, 8, 20, seed=0)
    results = [solve(problem, SolveOptions(time_limit=20, workers=2, seed=3, explain=False))
               for _ in range(2)]
    assert [r.status for r in results] == ["optimal", "optimal"]
    assert _plan(results[0]) == _plan(results[1]) and results[0].assignments
    assert results[0].objective == pytest.approx(results[1].objective)
    # each solve: the relaxation and the exact model, both on one worker; the exact model
    # without a hint and cancellable
    runs = [(c["phase"], c["workers"], c["hint"] is None, c["cancel"] is not None)
            for c in calls]
    assert sorted(runs[:2], key=str) == [("exact", 1, True, True), (None, 1, False, False)]
    assert len(runs) == 4


def test_one_worker_solves_the_relaxation_then_the_hinted_exact_model_to_the_same_optimum(
        monkeypatch):
    real_run = solve_module._run
    calls = _record_runs(monkeypatch)
    problem = generate(13, 8, 20, seed=0)
    one = solve(problem, SolveOptions(time_limit=20, workers=1, explain=False))
    phases = [(c["phase"], c["hint"] is not None, c["cancel"]) for c in calls]
    assert phases == [(None, True, None), ("exact", True, None)]
    monkeypatch.setattr(solve_module, "_run", real_run)
    two = solve(problem, SolveOptions(time_limit=20, workers=2, explain=False))
    assert one.status == two.status == "optimal"
    assert one.objective == pytest.approx(two.objective)


def test_a_relaxation_that_proves_the_plan_cancels_the_exact_model(monkeypatch):
    # seed 4: the relaxed optimum fits on days, so it is the answer and the exact model,
    # running beside it, is told to stop
    calls = _record_runs(monkeypatch)
    result = solve(generate(13, 8, 20, seed=4), SolveOptions(time_limit=20, workers=2,
                                                             explain=False))
    assert result.status == "optimal" and result.stats.get("proof") == 1.0
    cancels = [c["cancel"].is_set() for c in calls if c["cancel"] is not None]
    assert cancels == [True]


@pytest.mark.parametrize("seed", [0, 4])  # 4: the relaxation proves its plan all the same
def test_an_error_in_the_parallel_exact_model_reaches_the_caller(monkeypatch, seed):
    real_run = solve_module._run

    def failing(model, clock, options, phase, hint, time_limit, prove=False, cancel=None):
        if phase == "exact":
            raise RuntimeError("exact model failed")
        return real_run(model, clock, options, phase, hint, time_limit, prove, cancel)

    monkeypatch.setattr(solve_module, "_run", failing)
    with pytest.raises(RuntimeError, match="exact model failed"):
        solve(generate(13, 8, 20, seed=seed), SolveOptions(time_limit=20, workers=2,
                                                           explain=False))


def test_on_one_core_two_workers_run_the_relaxation_and_the_exact_model_in_turn(monkeypatch):
    calls = _record_runs(monkeypatch)
    monkeypatch.setattr(solve_module, "_cores", lambda: 1)
    result = solve(generate(13, 8, 20, seed=0), SolveOptions(time_limit=20, workers=2,
                                                             explain=False))
    assert result.status == "optimal"
    assert [(c["phase"], c["cancel"]) for c in calls] == [(None, None), ("exact", None)]


class _CountingSolver:
    def __init__(self):
        self.stops = 0

    def stop_search(self):
        self.stops += 1


def test_the_watcher_asks_again_until_the_solve_ends():
    # a stop asked before CP-SAT has started is not kept, so one request is not enough
    clock = solve_module._Clock(SolveOptions(time_limit=10))
    done, cancel = threading.Event(), threading.Event()
    solver = _CountingSolver()
    cancel.set()
    watcher = threading.Thread(target=solve_module._watch_stop,
                               args=(solver, clock, done, cancel))
    watcher.start()
    while solver.stops < 3:
        time.sleep(0.01)
    done.set()
    watcher.join(timeout=5)
    assert not watcher.is_alive() and solver.stops >= 3


def test_the_watcher_polls_the_stop_flag_a_tenth_as_often_as_the_cancel():
    calls = []

    def should_stop():
        calls.append(time.monotonic())
        return False

    clock = solve_module._Clock(SolveOptions(time_limit=10, should_stop=should_stop))
    done, cancel = threading.Event(), threading.Event()
    solver = _CountingSolver()
    watcher = threading.Thread(target=solve_module._watch_stop,
                               args=(solver, clock, done, cancel))
    watcher.start()
    while len(calls) < 3:
        time.sleep(0.01)
    done.set()
    watcher.join(timeout=5)
    assert solver.stops == 0
    # every tenth poll of a hundredth of a second: about 0.1 s apart, never 0.01 s
    assert min(b - a for a, b in itertools.pairwise(calls)) > 0.05
