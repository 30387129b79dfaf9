"""Calibration of an open book: accounts entering during the window, and the inflow fitted from ``entered_on``."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from sim import simulate
from sim.calibration import calibrate
from sim.calibration.arrival_volume import poisson_rate
from sim.calibration.balance_paths import rebuild
from sim.calibration.calibrate import read_history
from sim.errors import InputError, ScenarioError
from sim.portfolio import read_portfolio_csv
from sim.scenario import load_scenario

from simhelpers import benchmark_module

_recovery = benchmark_module("calibration_recovery")
START, write_scenario = _recovery.START, _recovery.write_scenario
DAYS = 90
PER_1000 = 100.0  # a month's arrivals per 1,000 accounts of the book at the start


@pytest.fixture(scope="module")
def open_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("open")
    scenario = write_scenario(folder, 1500, DAYS)
    scenario.write_text(scenario.read_text().replace(
        "[teams]", f"[arrivals]\nper_1000_per_month = {PER_1000}\n\n[teams]"))
    result = simulate(load_scenario(scenario), 5, contact_log=False, history=True)
    accounts, payments = folder / "accounts.csv", folder / "payments.csv"
    result.history.write_portfolio_csv(accounts)
    result.history.payments.write_csv(payments)
    return scenario, accounts, payments


def test_the_portfolio_out_of_an_open_book_dates_each_arrival_and_the_fit_observes_it_from_then(open_book):
    scenario, accounts, payments = open_book
    history = read_history(scenario, accounts, payments, None, start=START, days=DAYS, model="cgw")
    entered = history.portfolio.entered_day
    late = entered > 0
    # About 150 a month over three months enter after the start; the book at the start comes first.
    assert 300 < late.sum() < 600
    assert (np.diff(np.maximum(entered, 0)) >= 0).all()
    paths = rebuild(history.scenario, history.portfolio, history.receipts, arrivals=history.arrivals)
    np.testing.assert_array_equal(paths.observed_from, np.maximum(entered, 0))
    # No receipt comes before its account entered, and every arrival is observed for a while.
    assert (history.receipts.time >= entered[history.receipts.position]).all()
    assert (paths.observed_until[late] > paths.observed_from[late]).all()


def test_the_inflow_is_fitted_with_an_interval_and_written_under_the_bases_key(open_book, tmp_path):
    scenario, accounts, payments = open_book
    fit = calibrate(scenario, accounts, payments, start=START, days=DAYS)
    per_1000 = fit.parameters["arrivals.per_1000_per_month"]
    per_month = fit.parameters["arrivals.per_month"]
    assert per_1000.ci_low <= PER_1000 <= per_1000.ci_high, per_1000
    assert per_month.ci_low <= PER_1000 * 1.5 <= per_month.ci_high, per_month
    # The behaviour is fitted over the arrivals' histories too.
    assert fit.parameters["kappa"].ci_low <= 0.15 <= fit.parameters["kappa"].ci_high
    out = tmp_path / "fitted.toml"
    fit.write_fitted_scenario(out, load_scenario(scenario))
    written = tomllib.loads(out.read_text())
    assert written["arrivals"] == {"per_1000_per_month": per_1000.estimate}
    assert load_scenario(out).arrivals.per_1000_per_month == pytest.approx(per_1000.estimate)


def test_a_closed_cohort_reports_no_inflow(tmp_path):
    scenario = write_scenario(tmp_path, 300, 40)
    result = simulate(load_scenario(scenario), 2, contact_log=False, history=True)
    result.history.write_portfolio_csv(tmp_path / "a.csv")
    result.history.payments.write_csv(tmp_path / "p.csv")
    fit = calibrate(scenario, tmp_path / "a.csv", tmp_path / "p.csv", start=START, days=40)
    assert not any(name.startswith("arrivals.") for name in fit.parameters)
    assert "[arrivals]" not in fit.fitted_scenario_text(tmp_path / "f.toml")


def test_the_exact_poisson_interval_covers_the_rate_about_95_percent_of_the_time():
    rng = np.random.default_rng(3)
    months = 3.0
    for rate in (2.0, 40.0, 150.0):
        counts = rng.poisson(rate * months, 2000)
        fits = [poisson_rate(int(c), months) for c in counts]
        covered = np.mean([f.ci_low <= rate <= f.ci_high for f in fits])
        assert 0.94 <= covered <= 0.99, (rate, covered)


def test_a_receipt_before_its_account_entered_is_an_error_naming_the_line(open_book, tmp_path):
    scenario, accounts, payments = open_book
    rows = accounts.read_text().splitlines()
    late = next(line for line in rows[1:] if line.rsplit(",", 1)[1] > "2026-01-20")
    account = late.split(",", 1)[0]
    bad = tmp_path / "payments.csv"
    bad.write_text(payments.read_text() + f"{account},2026-01-06T10:00:00,5.00,payment\n")
    with pytest.raises(InputError, match=r"line \d+: timestamp.*before its account"):
        read_history(scenario, accounts, bad, None, start=START, days=DAYS, model="cgw")


def test_entered_on_after_the_window_is_an_error_and_run_still_wants_the_book_at_the_start(open_book, tmp_path):
    scenario, accounts, payments = open_book
    rows = accounts.read_text().splitlines()
    late = tmp_path / "late.csv"
    late.write_text("\n".join([rows[0], rows[1].rsplit(",", 1)[0] + ",2026-04-05", *rows[2:]]) + "\n")
    with pytest.raises(ScenarioError, match="line 2: entered_on.*window's end"):
        read_history(scenario, late, payments, None, start=START, days=DAYS, model="cgw")
    with pytest.raises(ScenarioError, match="after the start date"):
        read_portfolio_csv(accounts, load_scenario(scenario))
