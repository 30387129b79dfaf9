"""The LP-optimal plan: known answers, the promo case, and its bounds against every strategy."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from optimizer.payoff import advise, optimal_plan, plan
from optimizer.payoff_engine import simulate
from optimizer.payoff_lp import solve
from optimizer.payoff_model import Debt, DebtFile, Minimum, load_debts

from payoff_helpers import affordable_files, debt_file

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
LP = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _cost(result):
    return round(result.total_interest + result.total_fees, 2)


def test_promo_case_optimal_beats_avalanche_by_45_dollars():
    # scenarios/debts_promo.toml: $6,000 at 0 % for 12 months then 29.99 %,
    # $4,000 at 18 %, $500 a month. Avalanche clears the 18 % card first
    # (the promo card is "cheaper" today) and meets 29.99 % on $6,000 in
    # month 13; the LP pays the promo card down during the promotion.
    debts = load_debts(SCENARIOS / "debts_promo.toml")
    avalanche = plan(debts, "avalanche")
    optimal = plan(debts, "optimal")
    assert avalanche.total_interest == 943.27 and avalanche.months == 22
    assert optimal.total_interest == 897.42 and optimal.months == 22
    assert optimal.lp_bound == pytest.approx(897.42, abs=0.05)
    promo_paid_in_promo = sum(r.payment for r in optimal.schedule
                              if r.debt == "Promo card" and r.month <= 12)
    avalanche_promo_paid = sum(r.payment for r in avalanche.schedule
                               if r.debt == "Promo card" and r.month <= 12)
    assert promo_paid_in_promo > avalanche_promo_paid


def test_constant_rates_lp_equals_avalanche_to_the_cent():
    debts = debt_file(400,
                      {"name": "A", "balance": 5000, "apr": 0.25},
                      {"name": "B", "balance": 3000, "apr": 0.18},
                      {"name": "C", "balance": 1200, "apr": 0.09, "minimum": {"fixed": 50}})
    avalanche = simulate(debts, "avalanche")
    optimal = optimal_plan(debts)
    assert optimal.lp_bound == pytest.approx(avalanche.total_interest, abs=0.02)
    assert optimal.total_interest == avalanche.total_interest == 2501.83


def test_annual_fee_counts_in_the_objective():
    debts = debt_file(400, {"name": "A", "balance": 5000, "apr": 0.25, "annual_fee": 95},
                      {"name": "B", "balance": 3000, "apr": 0.18, "convention": "daily"})
    optimal = optimal_plan(debts)
    assert optimal.total_fees == 95.0  # the card is cleared before a second fee
    assert optimal.lp_bound == pytest.approx(_cost(optimal), abs=0.05)


def test_cn_grace_period_lets_the_lp_beat_avalanche():
    debts = load_debts(SCENARIOS / "debts_cn.toml")
    avalanche, optimal = plan(debts, "avalanche"), plan(debts, "optimal")
    assert optimal.pays_off and _cost(optimal) < _cost(avalanche)


def test_budget_below_minimums_is_an_infeasible_status_not_an_error():
    debts = debt_file(50, {"name": "A", "balance": 5000, "apr": 0.25})
    result = optimal_plan(debts)
    assert result.status == "infeasible" and not result.pays_off
    assert "minimum" in result.message
    lp = solve(debts, horizon=24)
    assert lp.status == "infeasible" and lp.cost is None


def test_advise_reports_budget_needed_for_a_shortfall():
    advice = advise(load_debts(SCENARIOS / "debts_shortfall.toml"), ["all"])
    assert advice.shortfall
    optimal = next(p for p in advice.plans if p.strategy == "optimal")
    assert optimal.status == "infeasible"
    fixed = advice.debts.with_budget(advice.budget_needed["avalanche"])
    assert plan(fixed, "optimal").pays_off


@LP
@given(affordable_files(promo=True, max_debts=3))
@example(  # interest of 3.445 that the engine rounds to 3.44: the bound is within the cent
    debts=DebtFile(name=None, description="", currency="$", start=None, budget=322.0, budget_changes=[],
                   extra_payments=[], custom_order=None,
                   debts=[Debt(name="D0", balance=318.0, apr=0.13, convention="monthly", daily_rate=None,
                               minimum=Minimum(percent=0.03, plus_interest=False, plus_fees=True, floor=20.0,
                                               fixed=None),
                               promo=[], annual_fee=0.0, balance_transfer_fee=0.0, late_fee=0.0,
                               penalty_apr=None, hardship=None)],
                   source="test.toml"),
)
def test_optimal_is_never_dearer_than_any_strategy(debts):
    optimal = optimal_plan(debts)
    assert optimal.pays_off and not optimal.missed
    for strategy in ("avalanche", "snowball", "minimum"):
        other = simulate(debts, strategy)
        assert _cost(optimal) <= _cost(other)
        # The LP's cost is a lower bound up to the cents the engine rounds.
        months = other.months or other.months_simulated
        assert optimal.lp_bound <= _cost(other) + 0.01 * months + 1e-9


@LP
@given(affordable_files(promo=False, max_debts=3))
def test_constant_rates_optimal_equals_avalanche_within_a_cent_a_month(debts):
    avalanche = simulate(debts, "avalanche")
    optimal = optimal_plan(debts)
    tolerance = 0.01 * avalanche.months
    assert abs(optimal.lp_bound - _cost(avalanche)) <= tolerance
    assert _cost(avalanche) - tolerance <= _cost(optimal) <= _cost(avalanche)
