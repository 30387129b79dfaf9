"""The engine's day on the live rows gives what the whole-book day gave: same payers, amounts and intensities."""

from __future__ import annotations

import numpy as np
import pytest

from sim.behavior import repayment_day
from sim.engine.rows import distinct, distinct_first
from sim.scenario import BehaviorSection


@pytest.mark.parametrize("size", [0, 1, 2, 50, 5_000])
def test_distinct_rows_are_numpys_unique(size):
    rows = np.random.default_rng(size).integers(0, max(size // 3, 1), size)
    assert np.array_equal(distinct(rows), np.unique(rows))
    values, first = distinct_first(rows)
    want_values, want_first = np.unique(rows, return_index=True)
    assert np.array_equal(values, want_values)
    assert np.array_equal(first, want_first)  # the first occurrence, as np.unique gives it


@pytest.mark.parametrize("model", ["hawkes", "cgw"])
def test_repayment_day_on_live_rows_matches_the_whole_book(model):
    """An account that cannot pay is left out of the work, not out of the draws: the stream, the payers,
    what they pay and the payable accounts' intensity are the same bit for bit."""
    behavior = BehaviorSection(model=model)
    n = 20_000
    rng = np.random.default_rng(5)
    floor = rng.uniform(0.001, 0.05, n)
    intensity = floor + rng.exponential(0.3, n)
    balance = rng.uniform(100, 5_000, n)
    payable = rng.random(n) < 0.3
    whole = repayment_day(intensity.copy(), floor, balance, behavior, np.random.default_rng(9), payable,
                          followup_rng=np.random.default_rng(10))
    rows = np.flatnonzero(payable)
    live_intensity = intensity.copy()
    stream = np.random.default_rng(9)
    live = repayment_day(live_intensity, floor, balance, behavior, stream, followup_rng=np.random.default_rng(10),
                         rows=rows, scratch=(np.empty(n), np.empty(n)))
    assert whole.payers.size > 100
    assert np.array_equal(live.payers, whole.payers)
    assert np.array_equal(live.paid, whole.paid)
    assert np.array_equal(live.payments, whole.payments)
    assert np.array_equal(live.intensity_end[rows], whole.intensity_end[rows])
    assert live.intensity_end is live_intensity  # updated in place
    assert np.array_equal(live_intensity[~payable], intensity[~payable])  # the others are not touched
    # The stream is where the whole-book day left it: the next day's draws are the same.
    after = np.random.default_rng(9)
    after.standard_exponential(n)
    after.random(n)
    assert stream.random() == after.random()
