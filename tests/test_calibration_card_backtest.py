"""The card model's backtest: fit the first days of a card history, simulate the rest, compare."""

from __future__ import annotations

import json

import numpy as np
import pytest

from sim.calibration.calibrate import read_history
from sim.calibration.card_backtest import card_start
from sim.cli import main
from sim.domain import RollState

from simhelpers import benchmark_module

_backtest = benchmark_module("calibration_backtest")
_recovery = benchmark_module("calibration_recovery")
START, write_scenario = _recovery.START, _recovery.write_scenario
DAYS, FIT_DAYS = 90, 45


@pytest.fixture(scope="module")
def card_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("card_backtest")
    return folder, write_scenario(folder, 800, DAYS, model="card")


def test_the_draws_move_the_card_parameters_around_the_fit_and_start_from_each_accounts_excitation(card_book):
    folder, scenario = card_book
    _backtest.one_seed(folder, scenario, 9, DAYS, FIT_DAYS, 1, "card")  # writes the files
    history = read_history(scenario, folder / "accounts.csv", folder / "payments.csv", folder / "contacts.csv",
                           start=START, days=DAYS, model="card")
    from sim.calibration.backtest import _truncate

    begin = card_start(_truncate(history, FIT_DAYS), str(scenario))
    kappas, floors, excesses = [], [], []
    for seed in range(40):
        behavior, excess = begin.draws.draw(np.random.default_rng(seed))
        kappas.append(behavior["kappa"])
        floors.append(behavior["base_intensity"]["1-30"])
        excesses.append(excess)
        shares = [behavior["payment_choice"][k][0] for k in ("minimum", "past_due", "partial", "full")]
        assert sum(shares) == pytest.approx(1.0)
    fitted = begin.fit.parameters
    assert np.std(kappas) > 0 and np.std(floors) > 0
    # Drawn on the log scale around the fit: the logs' mean is the fit's log within 3 standard errors of a
    # 40-draw mean. (The draws' plain mean sits exp(sigma^2 / 2) above the fit, +8 % at kappa's 41 % standard
    # error on the history of the repayment draws numbered by account and day, and its own noise is 6.5 %: a
    # 10 % band on it failed on sampling alone.)
    for drawn, name in ((kappas, "kappa"), (floors, "base_intensity.1-30")):
        logs = np.log(drawn)
        assert abs(logs.mean() - np.log(fitted[name].estimate)) < 3 * logs.std(ddof=1) / np.sqrt(len(logs)), name
    # Accounts that repaid shortly before day K start excited; the excitation is never negative.
    excess = np.mean(excesses, axis=0)
    assert (excess >= 0).all() and (excess > 0).mean() > 0.1
    assert begin.book.statement_day.min() >= 0 and begin.book.statement_day.max() < 30


def test_backtest_model_card_prints_the_issues_json(card_book, capsys):
    folder, scenario = card_book
    _backtest.one_seed(folder, scenario, 4, DAYS, FIT_DAYS, 1, "card")
    args = ["backtest", "--scenario", str(scenario), "--portfolio", str(folder / "accounts.csv"),
            "--payments", str(folder / "payments.csv"), "--contacts", str(folder / "contacts.csv"),
            "--start", str(START), "--days", str(DAYS), "--model", "card", "--fit-days", str(FIT_DAYS),
            "--reps", "5", "--json"]
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert list(payload) == ["fit_days", "reps", "curve", "inside_share", "roll_rates"]
    assert payload["fit_days"] == FIT_DAYS and len(payload["curve"]) == DAYS - FIT_DAYS
    assert all(p["low"] <= p["high"] for p in payload["curve"])


def _rolled_share(rolls: dict, start_state: np.ndarray) -> float:
    """The 30-day roll rate of the accounts in 31-150 at day K, pooled over those buckets."""
    buckets = ("31-60", "61-90", "91-120", "121-150")
    counts = [int(np.sum(start_state == k)) for k in range(RollState.DPD_31_60, RollState.DPD_121_150 + 1)]
    return sum(rolls[b] * c for b, c in zip(buckets, counts, strict=True)) / sum(counts)


def test_the_runs_continue_each_accounts_statement_and_roll_as_the_history_did(card_book):
    """Each replication starts from the statement the history left (past due by age, the minimum): left to
    the engine's start-of-run guess, the past due spread evenly over its cycles, an account needed more to roll
    back a bucket and the runs rolled more of 31-150 forward than the history did (0.59 against 0.52 here)."""
    from sim.calibration.backtest import _truncate, backtest
    from sim.engine import Engine
    from sim.streams import RandomStreams

    folder, scenario = card_book
    _backtest.one_seed(folder, scenario, 3, DAYS, FIT_DAYS, 1, "card")
    history = read_history(scenario, folder / "accounts.csv", folder / "payments.csv", folder / "contacts.csv",
                           start=START, days=DAYS, model="card")
    begin = card_start(_truncate(history, FIT_DAYS), str(scenario))
    engine = Engine(history.scenario, begin.book, RandomStreams(0), record_contacts=False)
    statements = engine.book.statements
    guessed = statements.past_due_by_age.copy()
    statements.restore(begin.statements)
    assert np.array_equal(statements.past_due_by_age, begin.statements["past_due_by_age"])
    assert np.allclose(engine.book.past_due, begin.book.past_due)
    assert np.mean(np.abs(guessed - statements.past_due_by_age).sum(axis=1) > 0.01) > 0.2  # the guess is wrong
    result = backtest(history, str(scenario), fit_days=FIT_DAYS, reps=10, seed=3)
    predicted = _rolled_share(result.roll_predicted, begin.start_state)
    actual = _rolled_share(result.roll_actual, begin.start_state)
    assert abs(predicted - actual) < 0.045  # 0.023 here; 0.068 when the runs started from the guess


def _worked_hard(folder, days: int):
    """The band test's card book: an SMS every 2 days lifting 0.05, fatigue 1.0."""
    scenario = write_scenario(folder, 600, days, model="card")
    scenario.write_text(scenario.read_text().replace("every_days = 5", "every_days = 2")
                        .replace("sms = 0.01,", "sms = 0.05,").replace("kappa = 0.15", "fatigue = 1.0\nkappa = 0.15"))
    return scenario


def test_a_rate_the_fit_puts_at_zero_is_reported_on_the_boundary_and_the_backtest_still_runs(tmp_path):
    """Seed 4's first 40 days: the floor of 121-150 and δ11 have their maximum at 0, where the likelihood is
    flat, and the optimiser stopped at e^-22.6 and e^-19.5 (not within 0.5 of the bound, e^-25). Counted as
    regular they made the observed information singular: every parameter came out not identified and the
    backtest stopped with the --fit-days error, on data a lender could have."""
    from sim.calibration.backtest import _truncate
    from sim.calibration.calibrate import card_parts

    days, fit_days = 80, 40
    scenario = _worked_hard(tmp_path, days)
    from sim import simulate
    from sim.scenario import load_scenario

    result = simulate(load_scenario(scenario), 4, contact_log=True, history=True)
    result.history.write_portfolio_csv(tmp_path / "accounts.csv")
    result.history.payments.write_csv(tmp_path / "payments.csv")
    result.contact_log.write_csv(tmp_path / "contacts.csv")
    history = read_history(scenario, tmp_path / "accounts.csv", tmp_path / "payments.csv",
                           tmp_path / "contacts.csv", start=START, days=days, model="card")
    fitted_part = _truncate(history, fit_days)
    _, _, timing = card_parts(fitted_part)
    floor = timing.parameters["base_intensity.121-150"]
    assert floor.identified and floor.estimate == 0.0 and floor.ci_low == 0.0 < floor.ci_high < 0.1
    d11 = timing.parameters["delta11"]
    assert d11.identified and d11.estimate == 0.0 and d11.ci_low == 0.0 < d11.ci_high
    # The others keep their Wald intervals from the information of the rest, taken with those two at 0.
    for name in ("base_intensity.1-30", "kappa", "delta10", "lift.sms"):
        p = timing.parameters[name]
        assert p.identified and p.ci_low < p.estimate < p.ci_high, name
    begin = card_start(fitted_part, str(scenario))
    for seed in range(5):
        behavior, _ = begin.draws.draw(np.random.default_rng(seed))
        assert behavior["base_intensity"]["121-150"] < 1e-9  # held at 0, not drawn, not the base's


def _held_by_band(reps: int) -> tuple[float, float]:
    """The chance that ``reps`` replications' 5 % and 95 % points (numpy's linear interpolation) hold a new
    draw of the same law, and that the draw falls below them: the band's own coverage, below its nominal 90 %."""
    low, high = 0.05 * (reps - 1) + 1, 0.95 * (reps - 1) + 1  # ranks among the replications, 1 = the smallest
    return (high - low) / (reps + 1), low / (reps + 1)


def test_over_seeds_the_card_band_holds_the_actual_curve_as_often_as_twenty_replications_can(tmp_path):
    """Eight small seeds of a card book worked hard (an SMS every 2 days lifting 0.05, fatigue 1.0), where how
    the replay counts contact fatigue decides much of the cash. 20 replications' 5 % and 95 % points hold a new
    draw 81.4 % of the time and leave 9.3 % below (the test once asked for 85 % inside and 10 % below, more
    than a right band gives); a seed's days move together, so eight seeds are about eight draws and a seed is
    mostly in or mostly out. Here 80.9 % of the days are inside; seeds 4 and 5 are below most days (0.80 and
    0.625), and are below too when the runs are given the parameters that wrote the history (their z-scores
    -2.6 and -1.4): those histories drew few full payments after day 40. With the replay's old fatigue
    counting (every borrower unfatigued at day K, messages never leaving the 7-day window) 76.3 % were
    inside, most of the rest below."""
    days, fit_days, reps = 80, 40, 20
    scenario = _worked_hard(tmp_path, days)
    inside, mostly_below, mostly_above = [], 0, 0
    for seed in range(1, 9):
        b = _backtest.one_seed(tmp_path, scenario, seed, days, fit_days, reps, "card")
        inside.append(b.inside_share)
        mostly_below += np.mean(b.actual < b.low) > 0.5
        mostly_above += np.mean(b.actual > b.high) > 0.5
    held, below = _held_by_band(reps)
    assert held == pytest.approx(0.814, abs=1e-3) and below == pytest.approx(0.093, abs=1e-3)
    # A seed is mostly outside on one side with a chance of about 0.093: three or more of eight on one side
    # happen about 3 % of the time with a right band, so then the runs' level is off. And on average no more than one seed's
    # worth of days short of what the band holds.
    assert mostly_below <= 2 and mostly_above <= 2, (mostly_below, mostly_above, inside)
    assert np.mean(inside) >= held - 1 / 8, inside


def test_at_the_parameters_that_wrote_the_history_the_runs_repay_as_it_did_after_day_k(tmp_path):
    """The replay's state on day K on its own: every replication at the truth (``known_parameters``: nothing
    drawn, so the fit's uncertainty is out), over six seeds of the band test's book. The actual last-day
    recovery is a draw of the runs' law (its mean z-score within 3/sqrt(6) of 0: -0.67 here; over seeds 41-80
    +0.30 ± 0.21), and the repayments after day K, summed over the seeds, are the runs' to within 10 % (+2.9 %
    here; a seed's count spreads about 7.5 %). Started without each account's excitation on day K the runs
    repay 14.5 % too little (seeds 1-4)."""
    days, fit_days = 80, 40
    scenario = _worked_hard(tmp_path, days)
    z, predicted, actual = [], 0.0, 0.0
    for seed in range(1, 7):
        b = _backtest.one_seed(tmp_path, scenario, seed, days, fit_days, 8, "card", known_parameters=True)
        z.append(b.last_day_z)
        predicted += b.receipts[0]
        actual += b.receipts[1]
    assert abs(np.mean(z)) < 3 / np.sqrt(len(z)), z
    assert abs(actual / predicted - 1.0) < 0.10, (actual, predicted)


def test_known_parameters_is_the_card_models_only(tmp_path):
    from sim import simulate
    from sim.calibration.backtest import backtest
    from sim.scenario import load_scenario

    scenario = write_scenario(tmp_path, 100, 30)  # a cgw book
    result = simulate(load_scenario(scenario), 1, history=True)
    result.history.write_portfolio_csv(tmp_path / "accounts.csv")
    result.history.payments.write_csv(tmp_path / "payments.csv")
    history = read_history(scenario, tmp_path / "accounts.csv", tmp_path / "payments.csv", None, start=START,
                           days=30, model="cgw")
    with pytest.raises(ValueError, match="card model"):
        backtest(history, str(scenario), fit_days=15, reps=2, known_parameters=True)
