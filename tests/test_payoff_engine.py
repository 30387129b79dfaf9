"""The month-by-month engine: analytic anchors (numpy-financial), rules, and properties."""

from __future__ import annotations

import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.payoff.amortisation import budget_needed, simulate

from payoff_helpers import affordable_files, debt_file, us_debts

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# ----------------------------------------------------------------------------- analytic anchors


def test_fixed_payment_loan_matches_npf_nper():
    # nper(0.07/12, -150, 8000) = 64.07: 64 full payments and a 65th, partial one.
    assert npf.nper(0.07 / 12, -150, 8000) == pytest.approx(64.07334877)
    loan = debt_file(150, {"name": "Loan", "balance": 8000, "apr": 0.07, "minimum": {"fixed": 150}})
    result = simulate(loan, "avalanche")
    assert result.pays_off and result.months == 65
    payments = [row.payment for row in result.schedule]
    assert payments[:64] == [15000] * 64
    last = -npf.fv(0.07 / 12, 64, -150, 8000) * (1 + 0.07 / 12)
    assert payments[64] / 100 == pytest.approx(last, abs=0.10)  # cents rounding over 64 months


def test_hardship_plan_payment_matches_npf_pmt():
    # pmt(0.075/12, 180, 200000) = -1854.0247...: a 180-month plan at 7.5 %.
    assert npf.pmt(0.075 / 12, 180, 200000) == pytest.approx(-1854.0247200054619, rel=1e-12)
    debts = debt_file(5000, {"name": "Workout", "balance": 200000, "apr": 0.29,
                             "hardship": {"apr": 0.075, "months": 180}})
    result = simulate(debts, "minimum")
    assert result.schedule[0].payment == 185403  # rounded up to the cent
    assert result.schedule[0].apr == 0.075
    assert result.pays_off and result.months == 180
    assert result.total_paid == pytest.approx(1854.0247200054619 * 180, abs=2.0)


def test_monthly_interest_is_apr_over_twelve_rounded_half_up():
    card = debt_file(100, {"name": "A", "balance": 1000.30, "apr": 0.18, "minimum": {"fixed": 100}})
    first = simulate(card, "avalanche").schedule[0]
    assert first.interest == 1500  # 1000.30 * 0.015 = 15.0045 -> 15.00
    assert first.balance == 100030 + 1500 - 10000


def test_daily_convention_uses_days_in_the_calendar_month():
    card = debt_file(100, {"name": "A", "balance": 1000, "apr": 0.365, "convention": "daily",
                           "minimum": {"fixed": 100}}, start="2027-02")
    rows = simulate(card, "avalanche").schedule
    assert rows[0].interest == 2800  # 0.1 % a day x 28 days of February
    assert rows[1].interest == round((100000 + 2800 - 10000) * 0.001 * 31)


def test_cn_card_interest_on_the_whole_statement_unless_paid_in_full():
    # 0.05 % a day x 30 days = 1.5 % of the statement, even when most of it is paid...
    partly = debt_file(9000, {"name": "卡", "balance": 10000, "convention": "cn"},
                       start="2026-04")
    row = simulate(partly, "avalanche").schedule[0]
    assert row.payment == 900000 and row.interest == 15000
    assert row.balance == 1000000 + 15000 - 900000
    # ...and none when the whole statement is paid by the due date (grace period kept).
    fully = debt_file(10000, {"name": "卡", "balance": 10000, "convention": "cn"}, start="2026-04")
    row = simulate(fully, "avalanche").schedule[0]
    assert (row.payment, row.interest, row.balance) == (1000000, 0, 0)


def test_cn_default_minimum_is_ten_percent_plus_interest():
    card = debt_file(1, {"name": "卡", "balance": 10000, "convention": "cn"}, start="2026-04")
    plan = simulate(card.with_budget(5000), "minimum")
    assert plan.schedule[0].minimum == 100000 + 15000


# ----------------------------------------------------------------------------- strategies


def test_avalanche_pays_highest_rate_first_and_snowball_smallest_balance():
    debts = debt_file(600,
                      {"name": "Big dear", "balance": 3000, "apr": 0.29},
                      {"name": "Small cheap", "balance": 500, "apr": 0.09})
    assert simulate(debts, "avalanche").payoff_order == ["Big dear", "Small cheap"]
    assert simulate(debts, "snowball").payoff_order == ["Small cheap", "Big dear"]
    assert (simulate(debts, "avalanche").total_interest
            < simulate(debts, "snowball").total_interest)


def test_custom_order_is_followed():
    debts = debt_file(600,
                      {"name": "A", "balance": 1000, "apr": 0.29},
                      {"name": "B", "balance": 1000, "apr": 0.19},
                      {"name": "C", "balance": 1000, "apr": 0.09}, custom_order=["C", "A"])
    assert simulate(debts, "custom").payoff_order == ["C", "A", "B"]


def test_avalanche_follows_the_current_rate_through_a_promo():
    debts = debt_file(400,
                      {"name": "Promo", "balance": 3000, "apr": 0.30, "promo": [{"months": 6, "apr": 0}]},
                      {"name": "Store", "balance": 3000, "apr": 0.20})
    rows = simulate(debts, "avalanche").schedule
    extra_in = {r.debt: r.payment - r.minimum for r in rows if r.month == 1}
    assert extra_in["Store"] > 0 and extra_in["Promo"] == 0
    late = {r.debt: r.payment - r.minimum for r in rows if r.month == 7}
    assert late["Promo"] > 0 and late["Store"] == 0


def test_budget_change_and_one_off_extra_are_spent():
    debts = debt_file(300, {"name": "A", "balance": 20000, "apr": 0.1},
                      budget_changes=[{"month": 3, "amount": 500}],
                      extra_payments=[{"month": 2, "amount": 1000}])
    paid = [r.payment for r in simulate(debts, "avalanche").schedule[:4]]
    assert paid == [30000, 130000, 50000, 50000]


def test_annual_fee_posts_in_month_twelve_while_owing():
    debts = debt_file(200, {"name": "A", "balance": 5000, "apr": 0.2, "annual_fee": 95})
    rows = simulate(debts, "avalanche").schedule
    assert [r.month for r in rows if r.fees] == [12, 24]
    assert all(r.fees == 9500 for r in rows if r.fees)


def test_balance_transfer_fee_in_month_one():
    debts = debt_file(500, {"name": "BT", "balance": 4000, "apr": 0.0, "balance_transfer_fee": 0.03})
    result = simulate(debts, "avalanche")
    assert result.schedule[0].fees == 12000 and result.total_fees == 120.0


# ----------------------------------------------------------------------------- outcomes


def test_minimum_below_interest_never_pays_off_and_stops():
    debts = debt_file(20, {"name": "Trap", "balance": 5000, "apr": 0.25, "minimum": {"fixed": 20}})
    result = simulate(debts, "minimum")
    assert result.status == "never" and not result.pays_off and result.months is None
    assert result.trend.growing and result.trend.per_month > 0
    assert result.months_simulated < 100  # detected, not run to the horizon


def test_shortfall_leaves_the_cheapest_miss_unpaid_with_late_fee_and_penalty():
    debts = debt_file(150,
                      {"name": "Fees", "balance": 3000, "apr": 0.2, "late_fee": 40, "penalty_apr": 0.2999},
                      {"name": "NoFees", "balance": 3000, "apr": 0.25})
    result = simulate(debts, "avalanche")
    first = [m for m in result.missed if m.month == 1]
    assert [m.debt for m in first] == ["NoFees"]  # missing it costs nothing extra
    assert first[0].paid < first[0].minimum
    needed = budget_needed(debts, "avalanche")
    assert needed > 150
    assert not simulate(debts.with_budget(needed), "avalanche").missed
    assert simulate(debts.with_budget(needed - 0.01), "avalanche").missed


def test_missed_minimum_charges_late_fee_then_penalty_apr_until_six_on_time():
    debts = debt_file(100, {"name": "A", "balance": 5000, "apr": 0.2, "late_fee": 30,
                            "penalty_apr": 0.2999, "minimum": {"fixed": 150}},
                      budget_changes=[{"month": 2, "amount": 400}])
    rows = simulate(debts, "minimum").schedule
    assert rows[0].fees == 3000 and rows[0].apr == 0.2
    assert [r.apr for r in rows[1:8]] == [0.2999] * 6 + [0.2]


def test_never_pays_off_on_minimums_but_a_budget_can_escape():
    debts = debt_file(300, {"name": "Trap", "balance": 6000, "apr": 0.27, "minimum": {"fixed": 100}})
    assert simulate(debts, "minimum").status == "never"
    assert simulate(debts, "avalanche").pays_off


# ----------------------------------------------------------------------------- properties


@st.composite
def any_files(draw):
    """Affordable or not, promo or not, cn or US: for invariants that always hold."""
    debts = draw(us_debts(promo=True))
    for debt in debts:
        if draw(st.booleans()):
            debt.update(late_fee=30.0, penalty_apr=0.2999)
        if draw(st.integers(0, 4)) == 0:
            debt.pop("apr")
            debt.update(convention="cn", minimum={"percent": 0.1, "floor": 10})
        if draw(st.integers(0, 4)) == 0:
            debt["annual_fee"] = 95.0
    return debt_file(float(draw(st.integers(0, 900))), *debts, start="2026-01")


@FAST
@given(any_files(), st.sampled_from(["avalanche", "snowball", "minimum"]))
def test_money_is_conserved_to_the_cent(debts, strategy):
    result = simulate(debts, strategy)
    start = sum(round(d.balance * 100) for d in debts.debts)
    interest = sum(r.interest for r in result.schedule)
    fees = sum(r.fees for r in result.schedule)
    paid = sum(r.payment for r in result.schedule)
    left = round(result.remaining * 100)
    assert start + interest + fees == paid + left
    assert all(r.balance >= 0 and r.payment >= 0 for r in result.schedule)
    if not result.pays_off:
        assert result.status in ("never", "horizon") and left > 0


@FAST
@given(affordable_files(promo=True))
def test_every_minimum_is_met_when_the_budget_covers_them(debts):
    for strategy in ("avalanche", "snowball", "minimum"):
        result = simulate(debts, strategy)
        assert not result.missed
        assert all(r.payment >= r.minimum for r in result.schedule)
        monthly = {}
        for r in result.schedule:
            monthly[r.month] = monthly.get(r.month, 0) + r.payment
        assert max(monthly.values()) <= round(debts.budget * 100)


@FAST
@given(affordable_files(promo=True), st.integers(1, 500))
def test_a_larger_budget_never_takes_longer(debts, more):
    small = simulate(debts, "avalanche")
    large = simulate(debts.with_budget(debts.budget + more), "avalanche")
    assert small.pays_off and large.pays_off
    assert large.months <= small.months
    assert large.total_interest <= small.total_interest


# ----------------------------------------------------------------------------- rounding, exactly


def test_interest_is_computed_exactly_then_rounded_half_up_once():
    # 2,082.00 x 0.19 / 12 = 32.965 exactly: half a cent, so 32.97. With
    # 0.19 / 12 as a 28-digit decimal first it came out as 32.9649999... -> 32.96.
    card = debt_file(100, {"name": "A", "balance": 2082, "apr": 0.19, "minimum": {"fixed": 100}})
    assert simulate(card, "avalanche").schedule[0].interest == 3297


def test_daily_interest_without_a_start_is_apr_over_twelve_to_the_last_digit():
    # Reg Z Appendix M1: APR/365 x 365/12 = APR/12, so the same half cent rounds up.
    card = debt_file(100, {"name": "A", "balance": 2082, "apr": 0.19, "convention": "daily",
                           "minimum": {"fixed": 100}})
    assert simulate(card, "avalanche").schedule[0].interest == 3297


@pytest.mark.parametrize(("balance", "apr", "start", "expected"), [
    (1825 / 100, 0.19, "2027-04", 29),   # 0.19 x 30/365 x 1,825 cents = 28.5 cents
    (2190, 0.1825, "2027-01", 3395),  # 0.1825 x 31/365 x 219,000 cents = 3,394.5 cents
])
def test_daily_interest_with_a_start_rounds_an_exact_half_cent_up(balance, apr, start, expected):
    card = debt_file(100000, {"name": "A", "balance": balance, "apr": apr, "convention": "daily",
                              "minimum": {"fixed": 1}}, start=start)
    assert simulate(card, "minimum").schedule[0].interest == expected


def test_cn_interest_on_the_whole_statement_rounds_an_exact_half_cent_up():
    # 0.05 % a day: 30 days of April on 1.00 is 1.5 cents, 31 days of May on 10.00 is 15.5 cents.
    for start, balance, expected in (("2027-04", 1, 2), ("2027-05", 10, 16)):
        card = debt_file(100, {"name": "A", "balance": balance, "convention": "cn",
                               "minimum": {"fixed": 0.5}}, start=start)
        assert simulate(card, "minimum").schedule[0].interest == expected


# ----------------------------------------------------------------------------- snowball: the order is set once

# Issue 12: Card A $8,600 at 30 % (minimum $150), Card B $9,800 at 0 % (minimum
# $150), $350 a month. The snowball starts on Card A (the smaller balance);
# A's interest ($215) is more than the $200 it gets, so A grows past B's
# shrinking balance in month 9.
CARDS_A_AND_B = ({"name": "Card A", "balance": 8600, "apr": 0.30, "minimum": {"fixed": 150}},
                 {"name": "Card B", "balance": 9800, "apr": 0.0, "minimum": {"fixed": 150}})


def test_snowball_keeps_the_order_of_the_starting_balances():
    result = simulate(debt_file(350, *CARDS_A_AND_B), "snowball")
    assert result.pays_off and result.months == 128
    assert round(result.total_interest) == 26_354
    assert result.payoff_order == ["Card B", "Card A"]  # B only on its minimums, A gets every extra dollar
    extra_on_a = [r.payment for r in result.schedule if r.debt == "Card A" and r.month <= 65]
    assert set(extra_on_a) == {20000}


def test_snowball_rerank_moves_the_extra_to_the_zero_percent_card_and_costs_far_more():
    result = simulate(debt_file(350, *CARDS_A_AND_B), "snowball_rerank")
    assert result.pays_off and result.months == 250
    assert round(result.total_interest) == 69_058
    on_b = {r.month: r.payment for r in result.schedule if r.debt == "Card B"}
    assert on_b[8] == 15000 and on_b[9] == 20000  # A has overtaken B: the extra goes to the 0 % card
