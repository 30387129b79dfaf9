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


def test_one_more_agent_is_worth_what_the_simulator_gains_with_it():
    # A heavily understaffed call team (one caller for 1,500 accounts over 8
    # weeks), where an agent's minutes are worth far more than zero. The LP's
    # value of one more agent (re-solved with its paid minutes in every week)
    # against the simulator: the plan for N agents run with N, the plan for
    # N + 1 run with N + 1, paired by common random numbers; agent pay left
    # out of both sides, as the LP counts it a fixed cost.
    from optimizer.allocation import allocate, build_allocation_model, one_more_agent, solve
    from sim.experiment import estimate

    days = 56
    s = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 1500, "simulation.days": days,
                                                    "teams.callers.agents": 1})
    result = allocate(s, passes=1)
    value = result.plan.agent_value["callers"]
    assert value.per_agent > 0 and value.agent_hours == pytest.approx(8 * 38)  # two 4-hour shifts, 38 days worked
    assert value.per_agent_hour == pytest.approx(value.per_agent / value.agent_hours)
    assert value.cost_per_agent_hour == pytest.approx(60 * s.costs.agent_minute)
    more = s.with_overrides({"teams.callers.agents": 2})
    base = solve(result.model)
    plus = solve(build_allocation_model(result.valuation, one_more_agent(s, "callers", days), units=result.model.units))
    assert plus.objective - base.objective == pytest.approx(value.per_agent)
    base.fallback = plus.fallback = result.plan.fallback
    ladders = base.to_strategy(s), plus.to_strategy(more)

    def before_agent_pay(run) -> float:
        return run.kpis["net_recovery"] + run.kpis["cost_by_item"].get("agent_time", 0.0)

    gains = [before_agent_pay(simulate(ladders[1], seed)) - before_agent_pay(simulate(ladders[0], seed))
             for seed in np.random.SeedSequence(s.simulation.seed).spawn(20)]
    e = estimate(np.array(gains))
    assert e.ci_low > 0, "the interval must exclude 0 for the check to mean anything"
    assert e.ci_low <= value.per_agent <= e.ci_high, (value.per_agent, e)
