"""How many paired whole-book runs the value of one more agent takes (issue 13, allocate's speed).

The agent value is each team's plan (one more agent) run as its ladder
against today's plan, paired on the guard's seeds; a team stops once its
gain's 95 % interval lies above 0 or could not get there in the runs left.
"""

import pytest

from optimizer.allocation.guard import gain_settled
from optimizer.allocation.search import paired_gains

from simhelpers import SCENARIOS


def test_two_runs_that_agree_settle_a_gain_and_two_that_disagree_do_not():
    # Baseline's callers at 5,000 accounts: three gains within 0.7 % of each other; the first two settle it.
    assert gain_settled([508_942.0, 508_800.0], 3)
    # Hawkes' inbound line: 30 k then 2 k, an interval of ±180 k around 16 k: the third run is made.
    assert not gain_settled([30_413.0, 2_118.0], 3)
    assert not gain_settled([508_942.0], 3)  # one run has no interval


def test_a_gain_at_or_below_zero_stops_only_when_the_runs_left_cannot_lift_it():
    # With 3 runs, one at or below 0 keeps the interval's low end at or below 0 whatever the other two give.
    assert gain_settled([-3_349.0], 3)
    assert gain_settled([0.0], 3)
    # With 10 runs left to come, one bad run can still be outweighed: keep running.
    assert not gain_settled([-3_349.0], 10)
    assert gain_settled([1.0, 2.0, 3.0], 3)  # the runs allowed are made
    assert gain_settled([5.0], 1)


class FakeRunner:
    """Worth of (ladder, run) from a table, counting every (ladder, run) asked for and the batches."""

    def __init__(self, worth):
        self.worth, self.asked, self.batches = worth, [], 0

    def ladder_runs(self, pairs):
        self.batches += 1
        self.asked += pairs
        return [self.worth[ladder][r] for ladder, r in pairs]


def test_paired_gains_pair_each_team_with_todays_plan_on_the_same_seed_and_stop_each_team_on_its_own():
    worth = {"now": [100.0, 110.0, 90.0],
             "callers": [600.0, 610.0, 590.0],    # +500 every run: settled after 2
             "inbound": [99.0, 140.0, 95.0],      # −1 on the first: cannot exclude 0 in 3, settled after 1
             "field": [130.0, 115.0, 120.0]}      # +30, +5: the interval holds 0, a third run: +30
    runner = FakeRunner(worth)
    gains = paired_gains(runner, "now", {"callers": "callers", "inbound": "inbound", "field": "field"}, 3)
    assert gains == {"callers": [500.0, 500.0], "inbound": [-1.0], "field": [30.0, 5.0, 30.0]}
    # Every run of a team is paired with today's plan on the same seed, one batch per seed.
    assert runner.batches == 3
    assert sorted(runner.asked) == sorted([("now", 0), ("callers", 0), ("inbound", 0), ("field", 0),
                                           ("now", 1), ("callers", 1), ("field", 1),
                                           ("now", 2), ("field", 2)])


@pytest.mark.parametrize("runs", [1, 3, 5])
def test_a_team_never_runs_more_than_the_guard_runs(runs):
    worth = {"now": [0.0] * 5, "noisy": [10.0, -8.0, 12.0, -9.0, 11.0]}
    runner = FakeRunner(worth)
    gains = paired_gains(runner, "now", {"noisy": "noisy"}, runs)
    assert 1 <= len(gains["noisy"]) <= runs


def test_the_agent_value_is_the_same_whichever_number_of_workers_runs_it():
    # The runs made depend on the gains measured, never on which worker finished first.
    from optimizer.allocation import allocate
    from sim.scenario import load_scenario

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 400, "simulation.days": 56})
    one, two = (allocate(s, passes=1, workers=w).plan for w in (1, 2))
    assert one.agent_value == two.agent_value
    assert {name for name, team in s.teams.items() if team.kind != "legal"} == set(one.agent_value)


def test_the_kept_plans_next_run_made_in_the_second_pass_check_is_not_made_again(monkeypatch):
    """With two workers the second pass's check also makes the kept plan's whole-book run on the guard's first
    seed (``_Search.kept_plan_ahead``); the guard and the agent value read it and make no run twice. Runs are
    made in this process here (the executor's batches, recorded), with the executor still counting two workers."""
    from optimizer.allocation import allocate, search
    from sim import executors
    from sim.scenario import load_scenario

    made: list[tuple[str, tuple]] = []
    ahead: list[tuple[str, tuple]] = []  # made in a batch with sample runs (the check's)

    def in_process(executor, fn, items):
        for position, item in enumerate(items):
            if fn is search._ladder_unit or (fn is search._search_unit and item[0] == "worth"):
                _, ladder, _, _, seed = item if fn is search._ladder_unit else item[1]
                made.append((ladder.content_hash, tuple(seed.spawn_key)))
                if fn is search._search_unit:
                    ahead.append(made[-1])
            yield position, fn(item)

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 400, "simulation.days": 56})
    monkeypatch.setattr(executors.LocalExecutor, "map_unordered", in_process)
    two = allocate(s, passes=2, workers=2)
    assert len(ahead) == 1 and ahead[0][1][-1] == 1  # the kept plan on the guard's first seed, in the check
    assert made.count(ahead[0]) == 1 and len(made) > 1  # the guard or the agent value read it: not made again
    assert len(made) == len(set(made))  # no whole-book run of a ladder on a seed made twice
    monkeypatch.undo()
    one = allocate(s, passes=2, workers=1)
    assert one.plan.agent_value == two.plan.agent_value
    assert one.plan.guard == two.plan.guard
    assert one.plan.to_dict()["allocation"] == two.plan.to_dict()["allocation"]
