"""The LP-optimal plan: known answers, the promo case, and its bounds against every strategy."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from optimizer.payoff import lp as payoff_lp
from optimizer.payoff import report as payoff_report
from optimizer.payoff.advisor import advise, optimal_plan, plan
from optimizer.payoff.amortisation import simulate
from optimizer.payoff.lp import solve
from optimizer.payoff.model import Debt, DebtFile, Minimum, load_debts

from payoff_helpers import affordable_files, debt_file, fifty_debts

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
    assert optimal.total_interest == avalanche.total_interest == 2501.86  # 2501.83 before halves rounded up


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


# ----------------------------------------------------------------------------- fifty debts and time limits


def test_fifty_debts_are_solved_and_proven_optimal():
    # The largest file allowed (issue 12: 131 s and a time-out before). The
    # highest balances make the relaxation tight, so rounding its pattern
    # proves the plan within a cent without branching (well under a second).
    debts = fifty_debts()
    optimal = optimal_plan(debts)
    avalanche = simulate(debts, "avalanche")
    assert optimal.status == "paid_off" and optimal.proven is True
    assert optimal.lp_bound is not None and "not proven" not in optimal.message
    assert optimal.lp_bound <= _cost(optimal) <= _cost(avalanche)
    # The replay follows the LP to a cent a month: cents of rounding must not
    # leave a few cents on a card the LP closes, to be charged its annual fee
    # (before: $275 dearer than the LP, $65 instead of $340 below avalanche).
    assert _cost(optimal) - optimal.lp_bound <= 0.01 * optimal.months


def _as_lp_plan(result, debts, status):
    """A heuristic's schedule dressed up as what the solver returned."""
    index = {d.name: i for i, d in enumerate(debts.debts)}
    payments = {(index[r.debt], r.month): r.payment / 100 for r in result.schedule}
    balances = {(index[r.debt], r.month): r.balance / 100 for r in result.schedule}
    return payoff_lp.LpPlan(status, _cost(result), payments, balances, result.months, "HiGHS",
                            "stopped at its 20 s time limit before proving its plan optimal")


def test_a_time_limited_plan_dearer_than_avalanche_shows_avalanche_and_claims_no_bound(monkeypatch):
    # Issue 12: after a time-out the LP's value was shown as a lower bound and
    # "the avalanche plan is as cheap to the cent", while avalanche was cheaper.
    debts = debt_file(400, {"name": "A", "balance": 5000, "apr": 0.25},
                      {"name": "B", "balance": 800, "apr": 0.05})
    snowball, avalanche = simulate(debts, "snowball"), simulate(debts, "avalanche")
    assert _cost(snowball) > _cost(avalanche)
    monkeypatch.setattr(payoff_lp, "solve", lambda *a, **k: _as_lp_plan(snowball, debts, "time_limit"))
    result = optimal_plan(debts)
    assert result.proven is False and result.lp_bound is None
    assert _cost(result) == _cost(avalanche)
    assert result.message.startswith("not proven optimal: the solver stopped at its 20 s time limit")
    assert "the avalanche plan is shown: it costs $" in result.message
    text = "\n".join(payoff_report.plan_lines(result, debts))
    assert "not proven optimal" in text and "bound" not in text and "as cheap" not in text
    data = payoff_report.result_dict(result, debts)
    assert data["proven_optimal"] is False and data["lp_bound"] is None


def test_a_time_limited_plan_cheaper_than_the_heuristics_is_shown_as_not_proven(monkeypatch):
    debts = load_debts(SCENARIOS / "debts_promo.toml")
    real = payoff_lp.solve
    monkeypatch.setattr(payoff_lp, "solve", lambda *a, **k: dataclasses.replace(
        real(*a, **k), status="time_limit", message="stopped at its 20 s time limit before proving its plan optimal"))
    result = optimal_plan(debts)
    assert result.total_interest == 897.42  # the LP's plan, booked to the cent: cheaper than avalanche
    assert result.proven is False and result.lp_bound is None
    assert result.message == ("not proven optimal: the solver stopped at its 20 s time limit "
                              "before proving its plan optimal")
