"""Accounts that roll out of their bucket, valued under the treatment the plan's ladder gives the next cell."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from optimizer.allocation.rolls import roll_owner, with_roll_ins
from optimizer.allocation.segments import build_segments
from optimizer.allocation.sim_valuation import (
    part_of,
    run_treatment,
    sample_book,
    simulate_treatments,
    valuation_seed,
)
from optimizer.allocation.treatments import ladder_treatments, scenario_treatments
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

DAYS = 42


def world(name: str):
    s = load_scenario(SCENARIOS / f"{name}.toml", {"simulation.accounts": 400, "simulation.days": DAYS})
    segments = build_segments(s, days=DAYS)
    treatments = scenario_treatments(s, combos=False)
    treatments += [t for t in ladder_treatments(s, [(s.strategy.name, list(s.strategy.steps))]) if t not in treatments]
    names = [t.name for t in treatments]
    own, none = names.index(f"ladder:{s.strategy.name}"), names.index("none")
    shape = (7, len(segments.portfolio.segment_names), len(segments.band_edges))
    native = simulate_treatments(s, segments, treatments, DAYS, continuation=np.full(shape, none), per_segment=6,
                                 shrink=False)
    rolled = with_roll_ins(s, segments, treatments, DAYS, native, base=own, after=none, per_segment=6)
    return s, segments, treatments, own, none, native, rolled


# hawkes_baseline's treatments visit: its roll-in runs are of the whole sample.
@pytest.fixture(scope="module")
def small():
    return world("hawkes_baseline")


# card_baseline's do not: its roll-in runs are of the accounts that leave their bucket (sim.streams.DrawKeys).
@pytest.fixture(scope="module")
def card():
    return world("card_baseline")


def test_an_account_rolls_into_the_next_bucket_of_its_risk_and_band_or_keeps_its_cell():
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 400, "simulation.days": DAYS})
    segments = build_segments(s, days=DAYS)
    owner = roll_owner(segments)
    cell = {(int(b), int(r), int(k)): i for i, (b, r, k) in
            enumerate(zip(segments.bucket, segments.risk, segments.band, strict=True))}
    for i, (b, r, k) in enumerate(zip(segments.bucket, segments.risk, segments.band, strict=True)):
        if b == 6:
            assert owner[i] == -1  # after 151-180 comes charge-off
            continue
        # The next bucket's segment of the same risk and band, or the nearest earlier one (the ladder's choice
        # for a cell no segment starts in), at worst the segment itself.
        expected = next(cell[(c, int(r), int(k))] for c in range(int(b) + 1, 0, -1) if (c, int(r), int(k)) in cell)
        assert owner[i] == expected


def test_a_plan_of_the_own_ladder_everywhere_is_valued_as_the_own_ladder(small):
    # Own ladder in every cell: the cells' own accounts under it (no contact after their bucket) plus the
    # accounts rolling in under it are, summed over the book, the own ladder in the bucket and after it, to
    # the cent: the roll-ins are paired differences against the very runs the native values made.
    s, segments, treatments, own, none, native, rolled = small
    shape = (7, len(segments.portfolio.segment_names), len(segments.band_edges))
    whole = simulate_treatments(s, segments, treatments, DAYS, continuation=np.full(shape, own), per_segment=6,
                                shrink=False, only=[own])
    assert rolled.objective[:, own].sum() == pytest.approx(whole.objective[:, 0].sum(), rel=1e-9)
    for team, cube in rolled.minutes.items():
        assert cube[:, own].sum() == pytest.approx(whole.minutes[team][:, 0].sum(), rel=1e-9, abs=1e-6)
    # Giving a cell no contact gives its rolling accounts none either: nothing is added to that column.
    np.testing.assert_array_equal(rolled.objective[:, none], native.objective[:, none])


def test_a_cell_that_calls_carries_the_calls_of_the_accounts_rolling_into_it(small):
    s, segments, treatments, own, none, native, rolled = small
    calls = [k for k, t in enumerate(treatments) if any(step.channel == "call" for step in t.steps)]
    assert calls
    extra = (rolled.minutes["callers"][:, calls] - native.minutes["callers"][:, calls]).sum(axis=(0, 2))
    # Paired runs: before an account rolls its two runs are the same; after it, one is called and the other
    # not (a call may also bring it back to its first bucket, where it gets the own ladder again).
    assert (extra > 0).all()


@pytest.mark.parametrize("name", ["sms/3d", "call/3d", "own"])
@pytest.mark.parametrize("which", ["small", "card"])
def test_a_part_of_the_sample_runs_as_its_accounts_run_in_the_whole_sample(which, name, request):
    # The roll-in runs are made on the accounts that leave their bucket only: each draws as its row of the
    # whole sample (sim.streams.DrawKeys) and keeps its consumer facts, so it fares as in a run of the whole
    # sample, to the cent; drawn as rows of a book of their own, the same accounts fare otherwise.
    s, segments, treatments, own, none, native, rolled = request.getfixturevalue(which)
    t = own if name == "own" else [x.name for x in treatments].index(name)
    book, seed = sample_book(segments, 6), valuation_seed(s)
    shape = (7, len(segments.portfolio.segment_names), len(segments.band_edges))
    rows = np.arange(1, len(book.portfolio), 3)
    whole = run_treatment(s, book, treatments, t, DAYS, np.full(shape, t), seed)
    part = run_treatment(s, part_of(s, book, rows, seed), treatments, t, DAYS, np.full(shape, t), seed)
    np.testing.assert_array_equal(part.collected, whole.collected[rows])
    np.testing.assert_array_equal(part.spend, whole.spend[rows])
    np.testing.assert_array_equal(part.balance_end, whole.balance_end[rows])
    np.testing.assert_array_equal(part.left_bucket, whole.left_bucket[rows])
    alone = run_treatment(s, replace(part_of(s, book, rows, seed), draw_keys=None), treatments, t, DAYS,
                          np.full(shape, t), seed)
    assert not np.array_equal(alone.collected, whole.collected[rows])


def test_the_roll_ins_of_the_accounts_that_leave_their_bucket_are_those_of_the_whole_sample(card):
    # Run on the accounts that leave their bucket only (109 of 189 here), the roll-ins are what the runs of
    # the whole sample give, within a small part of their noise: an account that stays in its bucket differs
    # by exactly 0 between the runs, and one that leaves fares as in the whole sample but for the hour of its
    # calls (the valuation's teams are sized on the run's accounts, so a shorter list is dialled at
    # other minutes).
    s, segments, treatments, own, none, native, rolled = card
    whole = with_roll_ins(s, segments, treatments, DAYS, native, base=own, after=none, per_segment=6,
                          whole_sample=True)
    added, added_whole = rolled.objective - native.objective, whole.objective - native.objective
    assert np.abs(added_whole).sum() > 0
    noise = np.hypot.reduce(rolled.value_std_error, axis=0)
    assert (np.abs(added.sum(axis=0) - added_whole.sum(axis=0)) <= 0.1 * noise).all()
    for team, cube in rolled.minutes.items():
        assert cube.sum() == pytest.approx(whole.minutes[team].sum(), rel=0.01), team
