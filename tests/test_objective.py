"""The objective a manager would accept: complaints cost money, agents have a value, the book at the horizon counts."""

from __future__ import annotations

import numpy as np
import pytest

from sim import simulate
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

PRESSURE = {"simulation.accounts": 300, "simulation.days": 40, "behavior.complaint_probability": 0.2}


def test_complaints_are_a_cost_item_of_the_run_and_so_in_net_recovery():
    free = load_scenario(SCENARIOS / "baseline.toml", {**PRESSURE, "costs.complaint": 0.0})
    priced = load_scenario(SCENARIOS / "baseline.toml", {**PRESSURE, "costs.complaint": 150.0})
    a, b = simulate(free, 7, ledger=True), simulate(priced, 7, ledger=True)
    complaints = b.kpis["complaints"]
    assert complaints > 0 and complaints == a.kpis["complaints"]  # the price changes no borrower's draw
    assert b.kpis["cost_by_item"]["complaint"] == pytest.approx(150.0 * complaints)
    assert b.kpis["cost"] - a.kpis["cost"] == pytest.approx(150.0 * complaints)
    assert a.kpis["net_recovery"] - b.kpis["net_recovery"] == pytest.approx(150.0 * complaints)
    assert b.ledger.spend["complaint"].sum() == pytest.approx(150.0 * complaints)


def test_the_value_model_charges_expected_complaints_at_their_price():
    from optimizer.segments import build_segments
    from optimizer.value_model import value_ladder

    costs = {}
    for price in (0.0, 100.0, 200.0):
        s = load_scenario(SCENARIOS / "baseline.toml", {**PRESSURE, "costs.complaint": price})
        segments = build_segments(s)
        costs[price] = float(value_ladder(s, segments, s.strategy.steps, 40, per_segment=10).cost.sum())
    extra = costs[100.0] - costs[0.0]
    assert extra > 0
    assert costs[200.0] - costs[0.0] == pytest.approx(2 * extra, rel=1e-9)
    # Against the engine: expected complaints of the model near the simulated count (a few runs).
    s = load_scenario(SCENARIOS / "baseline.toml", {**PRESSURE, "costs.complaint": 100.0})
    simulated = np.mean([simulate(s, seed).kpis["complaints"] for seed in range(3)])
    assert extra / 100.0 == pytest.approx(simulated, rel=0.15)
