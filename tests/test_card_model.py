"""The card model (``[behavior] model = "card"``): statements, what a borrower pays, re-default.

Hand-worked statements against sim.card_terms' rule, the cure and the roll-back
a payment causes, the payment mix under the defaults, re-default at the set rate,
money conserved and runs repeatable.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.card_behavior import PaymentChoice
from sim.card_terms import minimum_due, to_cents
from sim.engine import Engine
from sim.errors import InputError
from sim.fidelity import fidelity
from sim.metrics import _jsonable
from sim.portfolio import Portfolio, build_portfolio
from sim.scenario import load_scenario
from sim.simulation import simulate
from sim.streams import RandomStreams

from simhelpers import QUIET_BOOK, SCENARIOS, scenario

ONLY = {kind: [0.0] * 6 for kind in ("minimum", "past_due", "partial", "full")}


def card(data: dict | None = None, *, accounts: int = 1, days: int = 30, **behavior):
    merged = {"simulation": {"accounts": accounts, "days": days}, "strategy": {"steps": []},
              "behavior": {"model": "card", **behavior}}
    for key, value in (data or {}).items():
        merged.setdefault(key, {}).update(value)
    return scenario(merged, base=QUIET_BOOK)


def book(balances, dpd, *, segment=None, statement_day=None, segments=("low", "medium", "high")) -> Portfolio:
    n = len(balances)
    return Portfolio(account_id=np.arange(n, dtype=np.int64), balance=np.array(balances, dtype=float),
                     past_due=np.zeros(n), days_past_due=np.broadcast_to(np.asarray(dpd, np.int32), (n,)).copy(),
                     segment=np.zeros(n, np.int16) if segment is None else np.asarray(segment, np.int16),
                     phone_known=np.ones(n, bool), email_known=np.ones(n, bool), segment_names=segments,
                     statement_day=statement_day)


def run(s, portfolio, seed=0, **options) -> Engine:
    engine = Engine(s, portfolio, RandomStreams(seed), record_contacts=False, **options)
    engine.run()
    return engine


class Rule:
    percent, floor, plus_interest, plus_fees, fixed = 0.01, 25.0, True, True, None


# ----------------------------------------------------------------------------- statements


def test_the_statement_sets_the_minimum_by_the_card_rule_on_a_hand_worked_account():
    # 2,000.00 at 24 % APR, 10 days past due: its statement day is day 20 of the run (10 + 20 = 30).
    # At the start it owes one minimum: 1 % of 2,000.00 = 20.00 plus a cycle's interest,
    # 2,000 × 0.24 / 365 × 30 = 39.45, so 59.45 past due and 59.45 falling due on day 20.
    s = card({"portfolio": {"apr": 0.24, "late_fee": 30.0}}, days=21)
    engine = run(s, book([2000.0], 10))
    b, statements = engine.book, engine.book.statements
    assert statements.cycle_day[0] == 20
    # Day 20's minimum was missed: it joins the past due (two cycles: 31 days past due) and costs the
    # late fee, 30.00 (under the Reg Z cap, the 59.45 missed). Interest accrued daily for 21 days:
    # 2,000 × (1 + 0.24/365)^21 − 2,000 = 27.80. The new minimum: 1 % of 2,000.00 + 27.80 + 30.00 = 77.80.
    assert b.dpd[0] == 31
    assert b.past_due[0] == pytest.approx(118.90)
    assert statements.past_due_by_age[0, :2] == pytest.approx([59.45, 59.45])
    assert b.interest_and_fees_total == pytest.approx(27.80 + 30.00, abs=0.005)
    assert statements.minimum[0] == pytest.approx(77.80)
    assert to_cents(statements.minimum[0]) == minimum_due(Rule, 200_000, 2_780, 3_000, 205_780)


def test_the_late_fee_never_exceeds_the_missed_minimum():
    # 100.00 owed at 0 % APR: the minimum is the floor, 25.00, and a 40.00 late fee is cut to 25.00.
    s = card({"portfolio": {"apr": 0.0, "late_fee": 40.0}}, days=30)
    engine = run(s, book([100.0], 29))
    assert engine.book.interest_and_fees_total == pytest.approx(25.0)


def test_a_payment_of_the_past_due_amount_cures_the_account():
    # 61 days past due: three missed minimums of 25.00 (1 % of 1,000.00 is below the floor).
    s = card({"behavior": {"base_intensity": {"61-90": 0.2}, "payment_choice": {**ONLY, "past_due": [1.0] * 6}},
              "portfolio": {"apr": 0.0}}, accounts=200, days=29)
    accounts = book([1000.0] * 200, 61)
    engine = run(s, accounts, record_payments=True)
    receipts = engine.ctx.receipts.build(accounts.account_id, s.simulation.start_date)
    first = {}  # each account's first receipt (the log is in time order), in cents
    for account, amount in zip(receipts.account.tolist(), receipts.cents.tolist(), strict=True):
        first.setdefault(account, amount)
    assert len(first) > 150
    assert set(first.values()) == {7_500}
    b = engine.book
    paid = np.array(sorted(first))
    assert np.all(b.status[paid] == 1) and np.all(b.dpd[paid] == 0) and np.all(b.past_due[paid] == 0)


def test_paying_one_minimum_clears_the_oldest_cycle_and_rolls_back_a_bucket():
    s = card({"behavior": {"base_intensity": {"61-90": 0.1, "31-60": 0.0},
                           "payment_choice": {**ONLY, "minimum": [1.0] * 6}},
              "portfolio": {"apr": 0.0}}, accounts=300, days=29)
    days = []
    engine = Engine(s, book([1000.0] * 300, 61), RandomStreams(3), record_contacts=False,
                    progress=lambda day, _: days.append((engine.book.dpd.copy(), engine.book.past_due.copy())))
    engine.run()
    # Three minimums of 25.00 past due at 61 days; each payment of one minimum clears the oldest cycle.
    paid = np.flatnonzero(days[-1][1] < 75.0)
    assert paid.size > 50
    one_payment = 0
    for i in paid.tolist():
        day = next(d for d, (_, past_due) in enumerate(days) if past_due[i] < 75.0)
        dpd, past_due = int(days[day][0][i]), float(days[day][1][i])
        behind = round(past_due / 25.0)
        assert past_due == pytest.approx(25.0 * behind)
        # Each cycle cleared is a bucket back, at the same place in the cycle; none left is current.
        assert dpd == (61 + day + 1 - 30 * (3 - behind) if behind else 0)
        one_payment += behind == 2
    assert one_payment > 0.8 * paid.size


# ----------------------------------------------------------------------------- the payment mix


def test_the_default_payment_mix_is_mostly_the_minimum_or_the_past_due_amount():
    s = load_scenario(SCENARIOS / "card_baseline.toml", {"simulation.accounts": 2000, "simulation.days": 60})
    report = fidelity(s, reps=1)
    checks = {c.name: c for c in report.checks}
    minimum_or_past_due = checks["payments of the minimum or past-due"]
    full = checks["payments of the full balance"]
    assert minimum_or_past_due.value is not None and minimum_or_past_due.value >= 0.5
    assert minimum_or_past_due.in_range and full.in_range
    assert 0 < full.value <= 0.15


def test_contact_and_promises_shift_payments_toward_the_past_due_amount():
    from sim.card_behavior import CardChoice

    s = card()
    choice = CardChoice(s.behavior, ("low", "medium", "high"))
    bucket, segment = np.array([2, 2, 2]), np.array([1, 1, 1])
    p = choice.probabilities(bucket, segment, np.array([False, True, True]), np.array([False, False, True]))
    assert np.allclose(p.sum(axis=1), 1.0)
    cure = p[:, PaymentChoice.PAST_DUE]
    assert cure[0] < cure[1] < cure[2]
    by_segment = choice.probabilities(np.array([1, 1]), np.array([0, 2]), np.zeros(2, bool), np.zeros(2, bool))
    assert by_segment[0, PaymentChoice.PAST_DUE] > by_segment[1, PaymentChoice.PAST_DUE]  # low risk cures more


def test_the_payment_choice_is_numpys_cumulative_sums_and_row_sums_bit_for_bit():
    """The kind a uniform falls on and where in it, with the running sums and row totals written a column at a
    time: exactly what ``np.cumsum`` and ``sum(axis=1)`` give, on weights of every scale and empty rows (and
    the row totals of the past due by age, six columns, too)."""
    from sim.card_behavior import CardChoice, row_sums, running_sums

    rng = np.random.default_rng(11)
    w = rng.random((50_000, len(PaymentChoice))) * np.exp(rng.normal(0.0, 3.0, (50_000, len(PaymentChoice))))
    w[rng.random(w.shape) < 0.2] = 0.0
    assert np.array_equal(row_sums(w), w.sum(axis=1))
    by_age = rng.random((50_000, 6)) * np.exp(rng.normal(0.0, 3.0, (50_000, 6)))  # six columns: past due by age
    by_age[rng.random(by_age.shape) < 0.5] = 0.0
    assert np.array_equal(row_sums(by_age), by_age.sum(axis=1))
    wide = rng.random((1_000, 9))  # from 8 columns NumPy sums pairwise: the function leaves it to NumPy
    assert np.array_equal(row_sums(wide), wide.sum(axis=1))
    assert np.array_equal(running_sums(w), np.cumsum(w, axis=1))
    probabilities = w / np.where(w.sum(axis=1) > 0, w.sum(axis=1), 1.0)[:, None]
    u = rng.random(w.shape[0])
    kind, within = CardChoice.choose(probabilities, u)
    # The choice as first written: NumPy's cumulative sum and a count of the bounds at or below u.
    upper = np.cumsum(probabilities, axis=1)
    upper[:, -1] = 1.0
    expected = np.minimum((u[:, None] >= upper).sum(axis=1), len(PaymentChoice) - 1)
    rows = np.arange(u.size)
    width = probabilities[rows, expected]
    lower = upper[rows, expected] - width
    expected_within = np.clip(np.divide(u - lower, width, out=np.zeros_like(u), where=width > 0), 0.0, 1.0 - 1e-12)
    assert np.array_equal(kind, expected) and kind.dtype == expected.dtype
    assert np.array_equal(within, expected_within)
    assert set(np.unique(kind)) == set(range(len(PaymentChoice)))


# ----------------------------------------------------------------------------- re-default


def test_cured_accounts_re_default_at_their_segments_monthly_rate():
    n = 6000
    segment = np.arange(n) % 2  # low, high
    rates = {"low": 0.05, "high": 0.20}
    s = card({"portfolio": {"segments": {"low": 0.5, "high": 0.5}},
              "behavior": {"segment_multiplier": {}, "redefault_rate": rates}}, accounts=n, days=30)
    engine = run(s, book([800.0] * n, 0, segment=segment, statement_day=np.arange(n) % 30,
                         segments=("low", "high")))
    b = engine.book
    again = b.status == 0  # active: delinquent again
    for k, name in enumerate(("low", "high")):
        mine = segment == k
        share, p = again[mine].mean(), rates[name]
        # Every account meets one statement day in 30 days: a binomial share, within 4 standard errors.
        assert abs(share - p) < 4 * math.sqrt(p * (1 - p) / mine.sum()), name
    # Back in 1-30 with its next statement's minimum past due: the greater of 1 % of 800.00 and 25.00.
    assert np.all((b.dpd[again] >= 1) & (b.dpd[again] <= 30))
    assert np.allclose(b.past_due[again], 25.0)
    assert b.statements.redefaults == again.sum()


def test_no_re_default_at_a_zero_rate():
    n = 600
    quiet = card({"behavior": {"redefault_rate": {"low": 0.0, "medium": 0.0, "high": 0.0}}}, accounts=n, days=60)
    assert np.all(run(quiet, book([800.0] * n, 0, statement_day=np.arange(n) % 30)).book.status == 1)


# ----------------------------------------------------------------------------- money, determinism, models


@pytest.mark.parametrize("name", ["baseline", "call_heavy"])
def test_money_is_conserved_under_the_card_model(name):
    s = load_scenario(SCENARIOS / f"{name}.toml", {"simulation.accounts": 1500, "simulation.days": 180,
                                                   "behavior.model": "card"})
    result = simulate(s, 5)
    assert abs(result.kpis["conservation_error"]) < 1e-6 * result.kpis["initial_balance"]
    assert result.kpis["collected"] > 0


def test_same_seed_same_run_under_the_card_model():
    s = load_scenario(SCENARIOS / "card_baseline.toml", {"simulation.accounts": 800, "simulation.days": 45})
    a, b, c = simulate(s, 11), simulate(s, 11), simulate(s, 12)
    dump = [json.dumps(_jsonable(r.kpis), sort_keys=True) for r in (a, b, c)]
    assert dump[0] == dump[1] != dump[2]
    for name in a.series:
        assert np.array_equal(a.series[name], b.series[name], equal_nan=True), name


def test_the_card_models_book_pays_against_what_is_due_not_a_share_of_the_balance():
    # The same book under hawkes pays a share of the whole balance; under card, far less of it.
    base = {"simulation.accounts": 1500, "simulation.days": 60}
    hawkes = simulate(load_scenario(SCENARIOS / "baseline.toml", {**base, "behavior.model": "hawkes"}), 2)
    cards = simulate(load_scenario(SCENARIOS / "baseline.toml", {**base, "behavior.model": "card"}), 2)
    assert cards.kpis["collected"] < hawkes.kpis["collected"]


def test_a_synthetic_card_book_gets_statement_days_from_its_days_past_due():
    s = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 3000, "behavior.model": "card"})
    p = build_portfolio(s, RandomStreams(0)["portfolio"])
    assert np.array_equal(p.statement_day, (-p.days_past_due.astype(np.int64)) % 30)
    assert np.bincount(p.statement_day, minlength=30).min() > 0  # spread over the whole cycle
    assert build_portfolio(s.with_overrides({"behavior.model": "hawkes"}), RandomStreams(0)["portfolio"]
                           ).statement_day is None


def test_a_card_runs_portfolio_out_reads_back_as_the_same_book(tmp_path):
    base = SCENARIOS / "card_baseline.toml"
    original = simulate(load_scenario(base, {"simulation.accounts": 300, "simulation.days": 40}), history=True)
    original.history.write_portfolio_csv(tmp_path / "accounts.csv")  # what --portfolio-out writes
    variant = tmp_path / "book.toml"
    variant.write_text(f'extends = "{base}"\n[portfolio]\ncsv = "accounts.csv"\n')
    again = simulate(load_scenario(variant, {"simulation.days": 40}))
    assert again.kpis == original.kpis


# ----------------------------------------------------------------------------- input


def test_statement_day_column_of_a_portfolio_csv(tmp_path):
    (tmp_path / "book.csv").write_text("account_id,balance,days_past_due,statement_day\n1,500,0,20\n2,900,45,\n"
                                       "3,700,0,\n")
    s = card({"portfolio": {"csv": str(tmp_path / "book.csv")}, "simulation": {"start_date": "2026-01-05"}})
    p = build_portfolio(s, RandomStreams(0)["portfolio"])
    assert p.statement_day[0] == 15  # the 20th of the month is day 15 of a cycle starting on the 5th
    assert p.statement_day[1] == (-45) % 30  # a delinquent account's follows from its days past due
    assert 0 <= p.statement_day[2] < 30
    (tmp_path / "bad.csv").write_text("account_id,balance,days_past_due,statement_day\n1,500,0,32\n")
    with pytest.raises(InputError, match="line 2: statement_day.*between 1 and 31"):
        build_portfolio(card({"portfolio": {"csv": str(tmp_path / "bad.csv")}}), RandomStreams(0)["portfolio"])


@pytest.mark.parametrize(("behavior", "message"), [
    ({"model": "card", "payment_choice": {"cash": [1, 1, 1, 1, 1, 1]}}, "unknown kind of payment 'cash'"),
    ({"payment_choice": {"full": [0.1, 0.1]}}, "full needs 6 weights"),
    ({"payment_choice": {k: [0.0] * 6 for k in ("minimum", "past_due", "partial", "full")}}, "add up to 0"),
    ({"redefault_rate": {"low": 1.5}}, "monthly probability"),
    ({"redefault_rate": {"vip": 0.1}}, "behavior.redefault_rate.vip: unknown segment"),
    ({"model": "cardd"}, "behavior.model"),
])
def test_bad_card_parameters_are_one_line_errors(behavior, message):
    with pytest.raises(InputError, match=message) as err:
        scenario({"behavior": behavior})
    assert "\n" not in str(err.value)


def test_the_payment_weights_the_scenarios_readme_states_are_the_defaults():
    import re

    from sim.scenario import BehaviorSection

    text = (SCENARIOS / "README.md").read_text(encoding="utf-8")
    text = text[text.index("* `payment_choice`"):text.index("* `cure_multiplier`")]
    stated = {kind: [float(w) for w in re.findall(r"[0-9]\.[0-9]+", weights)]
              for kind, weights in re.findall(r"`(minimum|past_due|partial|full)` \([^:]*:([^)]*)\)", text)}
    assert stated == BehaviorSection().payment_choice


def test_a_broken_plan_resumes_ageing_from_what_is_unpaid():
    # Plans taken at every conversation, instalments never kept: each plan breaks after two missed
    # instalments, and the account is delinquent again at the place in the cycle its statement day says.
    s = card({"behavior": {"promise_probability": 0.0, "plan_uptake": 1.0, "dispute_probability": 0.0,
                           "plan_keep_rate": 0.0, "right_party_by_hour": [0.9] * 24, "wrong_party_rate": 0.0},
              "portfolio": {"apr": 0.0},
              "strategy": {"steps": [{"channel": "call", "from_dpd": 1, "to_dpd": 179}]},
              "teams": {"callers": {"agents": 2, "shifts": ["09:00-17:00"],
                                    "work_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}}},
             accounts=20, days=120)
    broke = []
    was = np.zeros(20, bool)

    def evening(day, _days):
        b = engine.book
        now = b.in_plan.copy()
        for i in np.flatnonzero(was & ~now & (b.status == 0)).tolist():
            broke.append((day - 1, int(b.dpd[i]), int(b.statements.cycle_day[i])))
        was[:] = now

    engine = Engine(s, book([1000.0] * 20, 40), RandomStreams(0), record_contacts=False, progress=evening)
    engine.run()
    assert len(broke) >= 10
    for day, dpd, cycle_day in broke:
        cycles = -(-dpd // 30)
        # 30 (k − 1) + the days since the statement day + 1, after the evening's ageing.
        assert dpd == 30 * (cycles - 1) + (day - cycle_day) % 30 + 1


def test_card_parameters_are_content_only_under_the_card_model():
    # They change nothing under hawkes or cgw, so those scenarios keep the content hash they had before.
    base = load_scenario(SCENARIOS / "hawkes_baseline.toml")
    assert base.with_overrides({"behavior.redefault_rate": {"low": 0.5}}).content_hash == base.content_hash
    assert "payment_choice" not in base.content()["behavior"]
    as_card = base.with_overrides({"behavior.model": "card"})
    assert as_card.with_overrides({"behavior.redefault_rate": {"low": 0.5}}).content_hash != as_card.content_hash
