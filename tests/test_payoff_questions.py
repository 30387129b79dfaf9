"""The advisor's other questions, against independent figures: a date's budget, options, a budget drop.

Independent figures come from numpy-financial (``pmt``, ``ipmt``, ``irr``),
which knows nothing of the cent-exact engine.
"""

from __future__ import annotations

import math

import numpy_financial as npf
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hst

from optimizer.payoff.amortisation import simulate
from optimizer.payoff.answers import verdict
from optimizer.payoff.cost_of_credit import monthly_irr
from optimizer.payoff.model import load_debts
from optimizer.payoff.options import compare_options
from optimizer.payoff.stress import Stress, parse_stress, stress_plans, stressed
from optimizer.payoff.target import budget_for_date, budgets_for_date, target_month
from sim.errors import InputError

from payoff_helpers import affordable_files, debt_file
from simhelpers import ROOT


def _one_debt(balance: float, apr: float, budget: float = 100.0, **extra):
    return debt_file(budget, {"name": "Loan", "balance": balance, "apr": apr}, start="2026-01", **extra)


# ----------------------------------------------------------------------------- debt-free by a date


@pytest.mark.parametrize(("balance", "apr", "target", "months"), [
    (5000, 0.18, "2028-06", 30), (12000, 0.0699, "2030-12", 60), (2500, 0.2499, "2026-12", 12),
    (800, 0.0, "2027-03", 15), (20000, 0.1299, "2031-01", 61),
])
def test_a_single_debt_needs_pmt_rounded_up_to_the_cent(balance, apr, target, months):
    debts = _one_debt(balance, apr)
    assert target_month(debts, target) == months
    expected = math.ceil(round(-npf.pmt(apr / 12, months, balance) * 100, 6)) / 100 if apr else \
        math.ceil(balance * 100 / months) / 100
    answer = budgets_for_date(debts, target, ["avalanche"])
    found = answer.budgets[0]
    assert found.budget == expected
    assert found.plan.months <= months
    # A cent less is not enough.
    short = simulate(debts, "avalanche", budget=round(expected - 0.01, 2), horizon=months)
    assert not short.pays_off


def test_a_later_date_never_needs_a_larger_budget_and_the_json_has_the_issue_fields():
    debts = load_debts(ROOT / "scenarios" / "debts_options.toml")
    budgets = [budget_for_date(debts, "avalanche", m).budget for m in (12, 24, 36, 48)]
    assert budgets == sorted(budgets, reverse=True) and len(set(budgets)) == 4
    data = budgets_for_date(debts, "2028-12").as_dict()
    assert data["target_date"] == "2028-12"
    assert set(data["budgets"]) == {"avalanche", "snowball", "optimal"}
    assert set(data["budgets"]["avalanche"]) == {"budget", "months", "total_interest"}


def test_the_optimal_budget_for_a_date_is_never_above_a_heuristics_and_beats_avalanche_on_cn_cards():
    debts = load_debts(ROOT / "scenarios" / "debts_cn.toml")
    answer = {b.strategy: b for b in budgets_for_date(debts, "2026-10").budgets}
    assert set(answer) == {"avalanche", "snowball", "optimal"}
    best = answer["optimal"]
    assert best.budget <= min(answer["avalanche"].budget, answer["snowball"].budget)
    assert best.budget < answer["avalanche"].budget  # clearing whole statements waives their interest
    assert best.plan.pays_off and best.plan.months <= 8 and not best.plan.missed
    assert sum(r.payment for r in best.plan.schedule if r.month == 1) <= round(best.budget * 100)


def test_a_date_before_the_start_or_a_file_without_start_is_one_line():
    with pytest.raises(InputError, match="must be from 2026-01"):
        target_month(_one_debt(100, 0.1), "2025-12")
    with pytest.raises(InputError, match="YYYY-MM"):
        target_month(_one_debt(100, 0.1), "June 2028")
    no_start = debt_file(100, {"name": "A", "balance": 100, "apr": 0.1})
    with pytest.raises(InputError, match="start"):
        target_month(no_start, "2028-06")


# ----------------------------------------------------------------------------- options


def test_an_instalment_conversions_rate_is_the_irr_of_its_payments():
    debts = load_debts(ROOT / "scenarios" / "debts_cn.toml")
    conversion = compare_options(debts).options[0]
    principal, fee = 20000.0, 20000.0 * 0.006
    flows = [principal] + [-(principal / 12 + fee)] * 12
    monthly = npf.irr(flows)
    assert conversion.rates.monthly == pytest.approx(monthly, abs=1e-7)
    assert conversion.as_dict()["apr_nominal"] == pytest.approx(12 * monthly, abs=2e-6)
    assert conversion.as_dict()["apr_effective"] == pytest.approx((1 + monthly) ** 12 - 1, abs=2e-6)
    # 0.6 % a month on the principal is far more than 7.2 % a year: about 13 %.
    assert 0.129 < conversion.rates.nominal < 0.131
    assert conversion.fees_cents == 12 * 12000
    assert any("全额计息" in note and "18.25%" in note for note in conversion.notes)


def test_monthly_irr_matches_numpy_financial_on_uneven_flows():
    for flows in ([10000, -3000, -3000, -3000, -2500], [500, -100, -100, -100, -100, -100, -10],
                  [1000, 0, 0, -1300]):
        assert monthly_irr(flows) == pytest.approx(npf.irr(flows), abs=1e-9)
    assert monthly_irr([0, 0]) is None and monthly_irr([100, 50]) is None


def _loan_file(budget: float, fee: float = 0.0):
    return debt_file(budget, {"name": "Card", "balance": 10000, "apr": 0.2499}, start="2026-01",
                     options=[{"kind": "consolidation_loan", "apr": 0.09, "months": 36, "origination_fee": fee}])


def test_a_consolidation_loans_schedule_follows_pmt_and_ipmt():
    payment = math.ceil(round(-npf.pmt(0.09 / 12, 36, 10000) * 100, 6)) / 100
    loan = compare_options(_loan_file(payment)).options[0]
    rows = [r for r in loan.plan.schedule if r.debt == "Consolidation loan"]
    assert len(rows) == 36 and loan.plan.months == 36
    assert all(r.payment / 100 == payment for r in rows[:-1]) and rows[-1].payment / 100 <= payment
    for k, row in enumerate(rows, start=1):
        assert row.interest / 100 == pytest.approx(-npf.ipmt(0.09 / 12, k, 36, 10000), abs=0.02)
    exact = -sum(npf.ipmt(0.09 / 12, k, 36, 10000) for k in range(1, 37))
    assert loan.plan.total_interest == pytest.approx(exact, abs=0.5)
    assert loan.rates.nominal == pytest.approx(0.09, abs=1e-4)  # no fee: the loan's own rate


def test_an_origination_fee_raises_the_loans_true_rate_to_the_irr_of_what_was_paid_out():
    loan = compare_options(_loan_file(400, fee=0.03)).options[0]
    borrowed = math.ceil(10000 * 100 / 0.97) / 100
    payment = math.ceil(round(-npf.pmt(0.09 / 12, 36, borrowed) * 100, 6)) / 100
    monthly = npf.irr([10000] + [-payment] * 36)
    assert loan.rates.nominal == pytest.approx(12 * monthly, abs=1e-4)
    assert loan.rates.nominal > 0.105  # 3 % up front on a 3-year loan adds about 2 points
    assert loan.fees_cents == round(borrowed * 100) - 1_000_000


@pytest.mark.parametrize("budget", [150, 300, 900])
@pytest.mark.parametrize("others", [[], [{"name": "Store", "balance": 900, "apr": 0.2899}]])
def test_a_transfer_with_a_fee_and_no_lower_rate_is_never_shown_as_a_saving(budget, others):
    debts = debt_file(budget, {"name": "Card", "balance": 6000, "apr": 0.2199}, *others, start="2026-01",
                      options=[{"kind": "balance_transfer", "fee": 0.03, "apr": 0.2199, "debts": ["Card"]},
                               {"kind": "balance_transfer", "name": "dearer", "fee": 0.05, "apr": 0.2599,
                                "debts": ["Card"]}])
    comparison = compare_options(debts)
    for option in comparison.options:
        assert option.can_only_cost_more
        saved = comparison.saving(option)
        assert saved is None or saved <= 0
        assert "saves" not in verdict(comparison, option, debts)


def test_a_real_promotion_is_a_saving_and_the_json_has_exactly_the_issue_fields():
    debts = load_debts(ROOT / "scenarios" / "debts_options.toml")
    comparison = compare_options(debts)
    keys = {"name", "kind", "months", "total_interest", "total_fees", "total_paid", "monthly_payment",
            "apr_nominal", "apr_effective"}
    assert all(set(o.as_dict()) == keys for o in comparison.rows())
    by_name = {o.name: o for o in comparison.rows()}
    promo = by_name["0 % transfer for 18 months"]
    assert comparison.saving(promo) > 0 and verdict(comparison, promo, debts).startswith("saves")
    assert by_name["Transfer without a promotion"].can_only_cost_more
    assert by_name["Credit counselling plan"].rates is None and by_name["Settlement"].rates is None
    # Money is conserved: what is paid is what was owed (less what is forgiven) plus interest and fees.
    owed = sum(d.balance for d in debts.debts)
    today = by_name["As today"].as_dict()
    assert today["total_paid"] == pytest.approx(owed + today["total_interest"] + today["total_fees"], abs=0.005)
    loan = by_name["Bank loan 11.9 %, 36 months"].as_dict()
    assert loan["total_paid"] == pytest.approx(owed + loan["total_interest"] + loan["total_fees"], abs=0.005)
    dmp = by_name["Credit counselling plan"].as_dict()
    assert dmp["total_paid"] == pytest.approx(owed + dmp["total_interest"] + dmp["total_fees"], abs=0.005)


def test_a_settlement_states_the_tax_and_credit_report_effects_and_pays_the_settled_share():
    debts = debt_file(500, {"name": "Card", "balance": 10000, "apr": 0.25}, start="2026-01",
                      options=[{"kind": "settlement", "forgiven": 0.4, "month": 12}])
    settled = compare_options(debts).options[0]
    assert settled.plan.total_paid == pytest.approx(6000.0)
    assert settled.plan.months <= 12 and settled.plan.total_interest == 0
    assert any("1099-C" in note for note in settled.notes)
    assert any("credit report" in note for note in settled.notes)


def test_a_dmp_takes_its_fee_only_while_it_runs():
    debts = debt_file(600, {"name": "Card", "balance": 5000, "apr": 0.27},
                      {"name": "Car", "balance": 9000, "apr": 0.05, "minimum": {"fixed": 150}}, start="2026-01",
                      options=[{"kind": "debt_management_plan", "apr": 0.06, "monthly_fee": 30, "debts": ["Card"]}])
    dmp = compare_options(debts).options[0]
    ends = dmp.plan.payoff_months["Card"]
    assert dmp.outside_fees == 3000 * ends and ends < dmp.plan.months
    assert all(r.apr == 0.06 for r in dmp.plan.schedule if r.debt == "Card")


@pytest.mark.parametrize(("option", "expected"), [
    ({"kind": "consolidation_loan", "apr": 0.1, "months": 36, "orignation_fee": 0.02},
     "options.0.orignation_fee: unknown key; did you mean 'origination_fee'?"),
    ({"kind": "consolidation_loan", "apr": 0.1, "months": 36, "promo_months": 6},
     "options.0.promo_months: not a term of a consolidation_loan; a consolidation_loan takes: apr, months, "
     "origination_fee, debts"),
    ({"kind": "balance_transfer", "fee": 0.03, "apr": 0.2, "debts": ["Vsia"]},
     "options.0.debts.0: unknown debt 'Vsia'; did you mean 'Visa'?"),
    ({"kind": "installment_conversion", "debt": "Visa", "months": 12},
     "options.0.monthly_fee: is required for a installment_conversion"),
    ({"kind": "consolidation_loan", "apr": 11.9, "months": 36}, "options.0.apr: APR is a fraction"),
])
def test_a_mistake_in_options_is_one_line_naming_the_field(option, expected):
    with pytest.raises(InputError) as err:
        debt_file(400, {"name": "Visa", "balance": 100, "apr": 0.2}, options=[option])
    assert str(err.value).startswith("test.toml: " + expected)
    assert "\n" not in str(err.value)


# ----------------------------------------------------------------------------- a budget that drops


def test_a_budget_drop_below_the_minimums_shows_the_shortfall_and_what_keeps_the_plan_on_track():
    debts = load_debts(ROOT / "scenarios" / "debts_options.toml")
    stress = parse_stress("from=2026-07,drop=0.7", debts)
    assert stress == Stress(7, 0.7)
    outcome = stress_plans(debts, stress, ["avalanche"])[0]
    assert outcome.shortfall_months and outcome.shortfall_months[0] == 7
    assert outcome.late_fees > 0
    assert outcome.stressed.total_interest > outcome.planned.total_interest
    # The budgets found are the least that work: a cent less does not.
    from optimizer.payoff.stress import _with_budget_from

    def plan_with(amount):
        return simulate(_with_budget_from(debts, 7, lambda m: amount), "avalanche")

    track = outcome.to_stay_on_track
    assert plan_with(track).months <= outcome.planned.months and not plan_with(track).missed
    short = plan_with(round(track - 0.01, 2))
    assert short.missed or short.months > outcome.planned.months
    assert plan_with(outcome.to_meet_minimums).missed == ()
    assert plan_with(round(outcome.to_meet_minimums - 0.01, 2)).missed


def test_a_drop_after_the_plan_ends_changes_nothing_and_a_bad_stress_is_one_line():
    debts = load_debts(ROOT / "scenarios" / "debts_options.toml")
    late = stress_plans(debts, parse_stress("from=200,drop=0.5", debts), ["avalanche"])[0]
    assert late.stressed.schedule == late.planned.schedule and not late.shortfall_months
    assert stressed(debts, Stress(3, 0.25)).budget_in_month(3) == 450
    for text, words in (("from=2027-03", "needs both"), ("from=2027-03,drop=0", "above 0"),
                        ("when=2027-03,drop=0.4", "write it as"), ("from=1999-01,drop=0.4", "must be from")):
        with pytest.raises(InputError, match=words):
            parse_stress(text, debts)


def test_an_option_over_debts_that_owe_nothing_is_one_line():
    debts = debt_file(400, {"name": "Card", "balance": 0, "apr": 0.2}, {"name": "Other", "balance": 500, "apr": 0.1},
                      options=[{"kind": "consolidation_loan", "apr": 0.1, "months": 12, "debts": ["Card"]}])
    with pytest.raises(InputError, match=r"options\.0: Consolidation loan: the debts it takes over owe nothing"):
        compare_options(debts)


# ----------------------------------------------------------------------------- properties

SOME = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SOME
@given(affordable_files(promo=True), hst.sampled_from([0.01, 0.03, 0.05]), hst.integers(0, 8))
def test_no_rate_cut_and_a_fee_is_never_a_saving_and_every_option_conserves_money(debts, fee, extra_points):
    worst = max(d.apr_in_month(m) for d in debts.debts for m in range(1, d.promo_months + 2))
    apr = min(1.0, round(worst + extra_points / 100, 4))
    options = [{"kind": "balance_transfer", "name": "dearer", "fee": fee, "apr": apr},
               {"kind": "consolidation_loan", "apr": 0.1, "months": 36, "origination_fee": 0.02},
               {"kind": "debt_management_plan", "apr": 0.06, "monthly_fee": 20}]
    data = debts.model_dump(mode="json", exclude={"source"}, exclude_unset=True)
    comparison = compare_options(debt_file(debts.budget, *data["debts"], options=options))
    transfer = comparison.options[0]
    assert transfer.can_only_cost_more
    saved = comparison.saving(transfer)
    assert saved is None or saved <= 0
    assert "saves" not in verdict(comparison, transfer, debts)
    owed = round(sum(d.balance for d in debts.debts) * 100)
    for outcome in comparison.rows():
        if outcome.plan.pays_off:
            interest = round(outcome.plan.total_interest * 100)
            assert outcome.paid_cents == owed + interest + outcome.fees_cents


def test_a_transfer_moves_debts_in_the_order_it_lists_them_up_to_the_limit():
    debts = debt_file(500, {"name": "A", "balance": 3000, "apr": 0.2}, {"name": "B", "balance": 2000, "apr": 0.25},
                      options=[{"kind": "balance_transfer", "fee": 0.03, "apr": 0.1, "limit": 3090,
                                "debts": ["B", "A"]}])
    transfer = compare_options(debts).options[0]
    first = {r.debt: r for r in transfer.plan.schedule if r.month == 1}
    # B (2,000) moves whole, then A up to the limit: 3,090 / 1.03 = 3,000 moved, so 1,000 of A.
    assert set(first) == {"A", "Balance transfer"}
    opening = {r.debt: r.balance + r.payment - r.interest - r.fees for r in first.values()}
    assert opening == {"A": 200_000, "Balance transfer": 300_000}
    assert first["Balance transfer"].fees == 9_000
