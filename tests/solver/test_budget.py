"""The time budget: named shares of the time, and the patience that ends a stalled search."""

import pytest

from solver.budget import PATIENCE_SECONDS, SHARES, Budget, Patience


class Clock:
    """A clock the test moves by hand (no sleeping)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_search_that_keeps_improving_keeps_its_time():
    clock = Clock()
    patience = Patience(clock)
    for _ in range(20):
        clock.now += PATIENCE_SECONDS * 0.9
        patience.better()
        assert patience.seconds(5.0) == 5.0
    assert not patience.stalled


def test_a_search_stalls_after_the_least_patience_without_a_better_plan():
    clock = Clock()
    patience = Patience(clock)
    clock.now += PATIENCE_SECONDS * 0.99
    assert patience.seconds(5.0) == 5.0
    clock.now += PATIENCE_SECONDS * 0.02
    assert patience.seconds(5.0) == 0.0
    assert patience.stalled
    patience.better()  # a stalled search stays ended: its time has gone to the next step
    assert patience.seconds(5.0) == 0.0


def test_patience_grows_with_the_time_a_search_has_had():
    clock = Clock()
    patience = Patience(clock)
    clock.now += 10 * PATIENCE_SECONDS
    patience.better()
    # a better plan after 10 s of search: it stalls only once it has gone without one for
    # half of all its time, here after 10 s more (10.5 of 20.5 s), not after 1.5 or 9.5 s
    clock.now += 1.5 * PATIENCE_SECONDS
    assert patience.seconds(1.0) == 1.0
    clock.now += 8 * PATIENCE_SECONDS
    assert patience.seconds(1.0) == 1.0
    clock.now += 1 * PATIENCE_SECONDS
    assert patience.seconds(1.0) == 0.0


def test_a_part_of_a_step_is_its_share_of_the_steps_own_time():
    budget = Budget(time_limit=10.0, should_stop=None)
    assert budget.part("lp completion try", 3.0) == pytest.approx(
        SHARES["lp completion try"].of_left * 3.0)
    assert budget.part("dive root", 4.0) == pytest.approx(SHARES["dive root"].of_left * 4.0)


def test_a_share_is_capped_by_its_part_of_the_limit_and_its_seconds():
    budget = Budget(time_limit=100.0, should_stop=None)
    # "site search": all of what is left, but at most 0.4 of the whole limit
    assert budget.seconds("site search") == pytest.approx(
        SHARES["site search"].of_limit * 100.0)
    # "relaxation": a quarter of what is left, but at most a second
    assert budget.seconds("relaxation") == SHARES["relaxation"].seconds == 1.0
    assert budget.part("relaxation", 2.0) == pytest.approx(0.5)
