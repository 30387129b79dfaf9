"""Accounts that roll out of their bucket, valued under the treatment the plan's ladder gives the next cell."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.allocation.rolls import roll_owner, with_roll_ins
from optimizer.allocation.segments import build_segments
from optimizer.allocation.sim_valuation import simulate_treatments
from optimizer.allocation.treatments import ladder_treatments, scenario_treatments
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

DAYS = 42


@pytest.fixture(scope="module")
def small():
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 400, "simulation.days": DAYS})
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
