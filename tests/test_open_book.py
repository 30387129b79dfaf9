"""An open book: arrivals every day, a warm-up left out of the KPIs, teams staffed on the measured book.

Arrivals come at the rate asked (a Poisson band), enter the history with the
date they entered, keep the money check, and go to the champion/challenger
arms stratified as they arrive; a warm-up's days are exactly the days a
longer run would have simulated first, and nothing of them reaches a KPI.
"""

from __future__ import annotations

import csv
import datetime as dt
import math

import numpy as np
import pytest

from sim.arms import largest_remainder
from sim.cli import main
from sim.engine import Engine
from sim.errors import InputError
from sim.portfolio import build_portfolio, generate_arrivals
from sim.scenario import load_scenario, part_time_share, scaled_agents
from sim.simulation import simulate
from sim.streams import RandomStreams

from simhelpers import SCENARIOS

BASELINE = SCENARIOS / "card_baseline.toml"  # a closed cohort, which the tests open with [arrivals]
SMALL = {"simulation.accounts": 800, "simulation.days": 60}
OPEN = {**SMALL, "arrivals": {"per_month": 300}}
WARM = {**OPEN, "simulation.warmup_days": 30}


def baseline(overrides: dict):
    return load_scenario(BASELINE, overrides)


@pytest.fixture(scope="module")
def warm_run():
    return simulate(baseline(WARM), 5, ledger=True, history=True)


# ----------------------------------------------------------------------------- arrivals


def test_arrivals_per_month_fall_in_the_poisson_band():
    per_month, months = 900.0, 12
    s = baseline({"simulation.days": 30 * months, "arrivals": {"per_month": per_month}})
    _, entry_day = generate_arrivals(s, np.random.default_rng(1), 0, ("low", "medium", "high"))
    by_month = np.bincount(entry_day // 30, minlength=months)
    band = 4 * math.sqrt(per_month)  # each month's count is Poisson(per_month)
    assert np.all(np.abs(by_month - per_month) < band), by_month
    assert abs(by_month.sum() - per_month * months) < 4 * math.sqrt(per_month * months)
    assert np.all(np.diff(entry_day) >= 0)  # rows in order of entry


def test_arrivals_per_1000_scale_with_the_book():
    small = baseline({"simulation.accounts": 1000, "arrivals": {"per_1000_per_month": 300}})
    large = baseline({"simulation.accounts": 4000, "arrivals": {"per_1000_per_month": 300}})
    assert small.arrivals.monthly(small.simulation.accounts) == 300
    assert large.arrivals.monthly(large.simulation.accounts) == 1200


def test_arrivals_enter_at_one_day_past_due_with_their_own_balances_and_segments():
    s = baseline({"arrivals": {"per_month": 3000, "segments": {"high": 1.0},
                               "balance": {"distribution": "fixed", "median": 700}}})
    book, _ = generate_arrivals(s, np.random.default_rng(2), 10, ("low", "medium", "high"))
    assert (book.days_past_due == 1).all() and (book.balance == 700).all()
    assert (book.segment == 2).all()
    assert book.account_id[0] == 10 and np.all(np.diff(book.account_id) == 1)
    assert np.allclose(book.past_due, np.round(s.portfolio.min_due_rate * 700, 2))


def test_an_open_run_counts_its_arrivals_and_its_measured_book(warm_run):
    k = warm_run.kpis
    assert k["warmup_days"] == 30
    assert k["arrivals"] == int(warm_run.series["arrivals"].sum()) > 0
    assert k["measured_book"] == k["book_at_start"] + k["arrivals"]
    assert 0 < k["book_at_start"] < 800 + 300 * 1.5  # the book after a month of warm-up
    assert warm_run.series["collected"].size == 60


def test_a_closed_cohort_has_no_open_book_keys_and_keeps_its_content_hash():
    closed = baseline(SMALL)
    result = simulate(closed, 1, contact_log=False)
    assert "arrivals" not in result.kpis and "arrivals" not in result.series
    assert "warmup_days" not in closed.content()["simulation"]
    assert closed.content_hash == baseline({**SMALL, "simulation.warmup_days": 0}).content_hash
    assert closed.content_hash != baseline({**SMALL, "simulation.warmup_days": 5}).content_hash


# ----------------------------------------------------------------------------- money and determinism


@pytest.mark.parametrize("overrides", [OPEN, WARM])
def test_money_is_conserved_with_arrivals(overrides):
    s = baseline(overrides)
    streams = RandomStreams(3)
    engine = Engine(s, build_portfolio(s, streams["portfolio"]), streams, record_contacts=False)
    engine.run()
    book = engine.book
    # The whole run: the starting book + every arrival's balance + interest and fees = where the money went.
    arrived = float(engine.portfolio.balance[engine.arrivals.rows].sum())
    assert engine.arrivals.entry_day.size > 0
    money_in = book.initial_balance + arrived + book.interest_and_fees_total
    money_out = book.collected_total + book.written_off_total + float(book.balance.sum())
    assert math.isclose(money_in, money_out, rel_tol=1e-12)
    # The measured days alone, as the KPI checks it.
    from sim.metrics import build_result

    kpis = build_result(engine.outcome(), scenario_name="x", scenario_hash="x", seed={}).kpis
    assert kpis["conservation_error"] < 1e-6 * money_in


def test_an_open_book_is_deterministic(warm_run):
    again = simulate(baseline(WARM), 5, ledger=True, history=True)
    assert again.kpis == warm_run.kpis
    for name, series in warm_run.series.items():
        assert np.array_equal(series, again.series[name]), name
    assert np.array_equal(again.history.payments.cents, warm_run.history.payments.cents)
    other = simulate(baseline(WARM), 6, contact_log=False)
    assert other.kpis["arrivals"] != warm_run.kpis["arrivals"] or other.kpis["collected"] != warm_run.kpis["collected"]


def test_arrivals_move_no_other_stream():
    """The book at the start is the same with or without arrivals: they draw from their own stream."""
    closed, opened = baseline(SMALL), baseline(OPEN)
    a = build_portfolio(closed, RandomStreams(9)["portfolio"])
    b = build_portfolio(opened, RandomStreams(9)["portfolio"])
    assert np.array_equal(a.balance, b.balance) and np.array_equal(a.days_past_due, b.days_past_due)


# ----------------------------------------------------------------------------- warm-up


@pytest.mark.parametrize("book", [OPEN, SMALL], ids=["open book", "closed cohort"])
def test_a_warm_up_is_left_out_exactly(book):
    """A run with warm-up W reports exactly days W.. of the same run simulated without one."""
    warm = 30
    # Teams of a fixed size: a scaled team is staffed again at the start of the measured days (its
    # part-timer's share follows the book), which the run without a warm-up has no reason to do.
    book = {**book, "teams.callers.agents": 1, "teams.inbound.agents": 1}
    s = baseline({**book, "simulation.warmup_days": warm})
    start = s.simulation.start_date
    long = baseline({**book, "simulation.days": 60 + warm,
                     "simulation.start_date": start - dt.timedelta(days=warm)})
    measured, whole = simulate(s, 8), simulate(long, 8)
    for name in ("collected", "cost", "written_off", "interest_and_fees", "contacts", "complaints",
                 "payments", "outstanding_by_bucket"):
        assert np.array_equal(measured.series[name], whole.series[name][warm:]), name
    assert measured.kpis["conservation_error"] < 1e-6 * measured.kpis["initial_balance"]
    k = measured.kpis
    assert k["collected"] == pytest.approx(whole.series["collected"][warm:].sum(), rel=1e-12)
    assert k["cost"] == pytest.approx(whole.series["cost"][warm:].sum(), rel=1e-12)
    assert k["complaints"] == int(whole.series["complaints"][warm:].sum())
    assert sum(k["contacts"].values()) == int(whole.series["contacts"][warm:].sum())
    assert sum(k["cost_by_item"].values()) == pytest.approx(k["cost"], rel=1e-9)
    assert k["outstanding"] == whole.kpis["outstanding"]
    # The contact log starts on the first measured day.
    log = measured.contact_log
    assert log.start_date == start and log.minute.min() >= 0
    assert len(log) == int(whole.series["contacts"][warm:].sum())


def test_roll_rates_count_month_end_snapshots_after_the_warm_up_of_accounts_already_in_the_book():
    s = baseline({**OPEN, "simulation.warmup_days": 20, "simulation.days": 95})
    streams = RandomStreams(4)
    engine = Engine(s, build_portfolio(s, streams["portfolio"]), streams, record_contacts=False)
    engine.run()
    bounds = engine.arrivals.bounds  # rows in the book at the evening of day d: bounds[d + 1]
    # Snapshots at the evenings of days 19 (the warm-up's end), 49, 79 and 109; the last 5 days end no month.
    expected = int(bounds[20] + bounds[50] + bounds[80])
    assert bounds[20] < bounds[50] < bounds[80]
    assert int(engine.tally.roll_counts.sum()) == expected


def test_progress_counts_the_measured_days_from_the_end_of_the_warm_up():
    s = baseline({**OPEN, "simulation.warmup_days": 10, "simulation.days": 5})
    seen = []
    simulate(s, 1, contact_log=False, progress=lambda day, days: seen.append((day, days)))
    assert seen == [(d, 5) for d in range(6)]


# ----------------------------------------------------------------------------- the history


def test_portfolio_out_has_entered_on_for_every_account_of_the_measured_book(tmp_path, monkeypatch):
    monkeypatch.setenv("REPAYLAB_STORE", str(tmp_path / "runs.duckdb"))
    scenario = tmp_path / "open.toml"
    scenario.write_text(f'extends = "{BASELINE}"\n[simulation]\nwarmup_days = 20\n[arrivals]\nper_month = 200\n',
                        encoding="utf-8")
    accounts = tmp_path / "accounts.csv"
    code = main(["run", str(scenario), "--accounts", "400", "--days", "30", "--quiet", "--no-store", "--json",
                 "--portfolio-out", str(accounts)])
    assert code == 0
    with open(accounts, newline="") as handle:
        rows = list(csv.DictReader(handle))
    start = dt.date(2026, 1, 5)
    entered = [dt.date.fromisoformat(r["entered_on"]) for r in rows]
    first_day = start - dt.timedelta(days=20)
    assert min(entered) == first_day  # the starting book entered when the warm-up began
    arrivals = [r for r, e in zip(rows, entered, strict=True) if e >= start]
    assert arrivals and all(r["days_past_due"] == "1" for r in arrivals)
    assert max(entered) <= start + dt.timedelta(days=29)
    # The warm-up's arrivals still in collection are there with the date they entered, at their state then.
    during_warmup = [(r, e) for r, e in zip(rows, entered, strict=True) if first_day < e < start]
    # Still delinquent, and no older than its time in the book (card borrowers: a partial payment can
    # leave a younger past-due amount, so days past due may lag the days since entry).
    assert during_warmup and all(1 <= int(r["days_past_due"]) <= (start - e).days + 1 for r, e in during_warmup)
    assert len({r["account_id"] for r in rows}) == len(rows)


def test_history_receipts_are_the_measured_days_and_add_up(warm_run):
    payments = warm_run.history.payments
    assert payments.start_date == dt.date(2026, 1, 5) and payments.second.min() >= 0
    assert abs(payments.cents.sum() / 100 - warm_run.kpis["collected"]) <= 0.01
    assert len(warm_run.history.portfolio) == warm_run.kpis["measured_book"]


# ----------------------------------------------------------------------------- champion/challenger


def test_arrivals_are_assigned_to_arms_stratified_by_month_and_segment():
    s = load_scenario(SCENARIOS / "champion_challenger.toml",
                      {"simulation.accounts": 500, "simulation.days": 90, "arrivals": {"per_month": 700}})
    result = simulate(s, 2, contact_log=False)
    arms = result.arms
    shares = np.array(arms.shares)
    streams = RandomStreams(2)
    book = build_portfolio(s, streams["portfolio"])
    _, entry_day = generate_arrivals(s, streams["arrivals"], int(book.account_id.max()) + 1, book.segment_names)
    segment = generate_arrivals(s, RandomStreams(2)["arrivals"], 500, book.segment_names)[0].segment
    arrived = arms.arm[len(book):]
    assert arrived.size == entry_day.size > 1500
    strata = (entry_day // 30) * 10 + segment
    for stratum in np.unique(strata):
        members = arrived[strata == stratum]
        assert np.array_equal(np.bincount(members, minlength=shares.size), largest_remainder(members.size, shares))
    assert result.kpis_by_strategy is not None
    assert sum(v["accounts"] for v in result.kpis_by_strategy.values()) == result.kpis["measured_book"]


# ----------------------------------------------------------------------------- teams that scale


def test_scaled_teams_are_staffed_on_the_book_at_the_start_of_the_measured_days():
    s = baseline({**OPEN, "simulation.warmup_days": 40, "simulation.days": 5,
                  "teams.callers": {"kind": "call", "agents_per_1000": 12.5, "shifts": ["09:00-17:00"]}})
    assert s.teams["callers"].agents == scaled_agents(12.5, 800)  # the starting book staffs the warm-up
    streams = RandomStreams(1)
    engine = Engine(s, build_portfolio(s, streams["portfolio"]), streams, record_contacts=False)
    engine.run()
    in_book = int(engine.measured_start.in_book.sum())
    assert in_book != 800
    callers = engine.teams.by_name["callers"]
    assert len(callers.agent_ids) == scaled_agents(12.5, in_book)
    # A fractional size on the measured book: the last agent works that share of the shift.
    share = part_time_share(12.5, in_book)
    assert callers.staffed_minutes() == 480 * (len(callers.agent_ids) - 1) + max(1, round(480 * share))


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("arrivals", "field", "says"), [
    ({"per_month": -1}, "arrivals.per_month", "greater than or equal"),
    ({"per_month": 10, "segments": {"vip": 1.0}}, "arrivals.segments.vip", "unknown segment"),
    ({"per_month": 10, "segments": {"low": 0.5}}, "arrivals.segments", "add up to 1"),
    ({"per_month": 10_000_000}, "arrivals.per_month", "more than"),
    ({"per_month": 10, "rate": 3}, "arrivals.rate", "unknown key"),
    ({"segments": {"low": 1.0}}, "arrivals", "per_month or per_1000_per_month"),
    ({"per_month": 10, "per_1000_per_month": 5}, "arrivals", "per_month or per_1000_per_month"),
])
def test_bad_arrivals_are_one_line_naming_the_field(arrivals, field, says):
    with pytest.raises(InputError) as err:
        baseline({**SMALL, "arrivals": arrivals})
    message = str(err.value)
    assert field in message and says in message and "\n" not in message


def test_valuing_an_open_book_account_by_account_is_a_one_line_error():
    s = baseline(OPEN)
    masks = [np.ones(800, dtype=bool)] * len(s.strategy.steps)
    with pytest.raises(InputError, match="arrivals: an open book cannot be valued account by account"):
        simulate(s, 1, step_accounts=masks)
