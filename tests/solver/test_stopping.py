"""The stop watcher: interrupts a call while the stop flag is up, and leaves no thread."""

import random
import threading

from ortools.sat.python import cp_model

from solver.stopping import watching


def test_no_flag_no_thread():
    before = threading.active_count()
    with watching(lambda: None, None):
        assert threading.active_count() == before


def test_the_interrupt_is_asked_again_while_the_flag_stays_up():
    asked = threading.Event()
    calls = []

    def interrupt():
        calls.append(1)
        if len(calls) >= 3:
            asked.set()

    before = threading.active_count()
    with watching(interrupt, lambda: True):
        assert asked.wait(30), "the watcher never interrupted three times"
    assert threading.active_count() == before  # the watcher has ended with the block


def test_a_flag_that_stays_down_never_interrupts():
    calls = []
    seen = threading.Event()

    def stopped():
        seen.set()
        return False

    with watching(lambda: calls.append(1), stopped):
        assert seen.wait(30), "the watcher never looked at the flag"
    assert calls == []


def test_a_cp_sat_search_ends_when_the_flag_goes_up():
    # a subset sum of 70 numbers of 12 digits: CP-SAT finds no answer nor proof in 10 s (on
    # this machine), and this one may run for an hour; with the flag up it ends at once,
    # unproven (the test would hang for the hour otherwise)
    rng = random.Random(7)
    model = cp_model.CpModel()
    weights = [rng.randint(10**11, 2 * 10**11) for _ in range(70)]
    xs = [model.new_bool_var(f"x[{n}]") for n in range(70)]
    model.add(sum(w * x for w, x in zip(weights, xs, strict=True)) == sum(weights) // 2 + 1)
    model.maximize(sum(rng.randint(1, 100) * x for x in xs))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = 3600
    solver.parameters.num_workers = 1
    with watching(solver.stop_search, lambda: True):
        status = solver.solve(model)
    assert status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
