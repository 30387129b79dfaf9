"""A run's history as a lender exports it: ``--payments-out`` and ``--portfolio-out``.

The receipts add up to what the run collected (per account and in total, to
the cent), the accounts read back as the same book, and a bad output path is
one line before any work.
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest

from sim.cli import main
from sim.scenario import load_scenario
from sim.simulation import simulate

from simhelpers import SCENARIOS

pytestmark = pytest.mark.usefixtures("private_store")

BASELINE = SCENARIOS / "card_baseline.toml"  # the old ladder, with pre-charge-off legal: legal receipts
# Long enough for legal recoveries, with card_baseline's 20,000-account staff (its teams scale with the book).
SIZE = {"simulation.accounts": 600, "simulation.days": 150, "teams.callers.agents": 8, "teams.field.agents": 4}


@pytest.fixture(scope="module")
def run():
    return simulate(load_scenario(BASELINE, SIZE), ledger=True, history=True)


def test_receipts_add_up_to_what_was_collected_to_the_cent(run):
    payments = run.history.payments
    assert abs(payments.cents.sum() / 100 - run.kpis["collected"]) <= 0.005 + 1e-6
    ids = run.history.portfolio.account_id
    by_account = np.zeros(ids.size)
    np.add.at(by_account, np.searchsorted(ids, payments.account), payments.amount)
    assert np.abs(by_account - run.ledger.collected).max() <= 0.01 + 1e-6
    assert (payments.cents > 0).all()


def test_receipts_are_sorted_by_time_then_account_with_their_kind(run):
    payments = run.history.payments
    order = np.lexsort((payments.account, payments.second))
    assert (order == np.arange(len(payments))).all()
    kinds = set(payments.kind_names().tolist())
    assert kinds == {"payment", "instalment", "legal"}, kinds
    stamps = payments.timestamps()
    start = dt.datetime(2026, 1, 5)
    for stamp in stamps[:: max(1, len(stamps) // 50)].tolist():
        moment = dt.datetime.fromisoformat(stamp)  # ISO 8601, local, no offset
        assert moment.tzinfo is None and start <= moment < start + dt.timedelta(days=150)
    # Kept promises and instalments are settled in the evening: stamped 23:59:59 of their day.
    assert all(s.endswith("T23:59:59") for s in stamps[payments.kind_names() == "instalment"].tolist())


def test_a_default_run_keeps_no_history_and_gives_the_same_numbers(run):
    plain = simulate(load_scenario(BASELINE, SIZE), ledger=True)
    assert plain.history is None
    assert plain.kpis == run.kpis
    for name, series in plain.series.items():
        assert np.array_equal(series, run.series[name]), name


def test_payments_and_portfolio_out_read_back_as_the_same_book(tmp_path, capsys):
    payments, accounts = tmp_path / "payments.csv", tmp_path / "accounts.csv"
    code = main(["run", str(BASELINE), "--accounts", "400", "--days", "20", "--quiet", "--no-store", "--json",
                 "--payments-out", str(payments), "--portfolio-out", str(accounts)])
    assert code == 0, capsys.readouterr().err
    capsys.readouterr()
    with payments.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["account_id", "timestamp", "amount", "kind"]
    assert all(len(r["amount"].split(".")[1]) == 2 for r in rows)
    with accounts.open(newline="") as handle:
        book = list(csv.DictReader(handle))
    assert len(book) == 400 and {r["entered_on"] for r in book} == {"2026-01-05"}
    assert list(book[0])[:3] == ["account_id", "balance", "days_past_due"]
    # The accounts file is a portfolio CSV: a run on it starts from the same book, and draws the same numbers.
    variant = tmp_path / "book.toml"
    variant.write_text(f'extends = "{BASELINE}"\n[portfolio]\ncsv = "accounts.csv"\n')
    original = simulate(load_scenario(BASELINE, {"simulation.accounts": 400, "simulation.days": 20}))
    again = simulate(load_scenario(variant, {"simulation.days": 20}))
    assert again.kpis["initial_balance"] == original.kpis["initial_balance"]
    assert again.kpis == original.kpis
    assert sum(float(r["amount"]) for r in rows) == pytest.approx(original.kpis["collected"], abs=0.006)


@pytest.mark.parametrize(("option", "bad", "says"), [
    ("--payments-out", "missing/p.csv", "does not exist"),
    ("--portfolio-out", ".", "is a directory"),
])
def test_a_bad_output_path_is_one_line_before_any_work(tmp_path, monkeypatch, capsys, option, bad, says):
    monkeypatch.chdir(tmp_path)
    code = main(["run", str(BASELINE), "--days", "2", "--quiet", "--no-store", option, bad])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert option in err and says in err
    assert list(tmp_path.iterdir()) == []


def test_two_outputs_to_one_file_are_refused(tmp_path, capsys):
    same = str(tmp_path / "out.csv")
    code = main(["run", str(BASELINE), "--days", "2", "--quiet", "--no-store", "--contacts-out", same,
                 "--payments-out", same])
    err = capsys.readouterr().err
    assert code == 2 and "--payments-out" in err and "--contacts-out" in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(("value", "says"), [
    ("2026-02-01", "after the start date"),
    ("5 Jan 2026", "YYYY-MM-DD"),
    ("2026-02-30", "YYYY-MM-DD"),
])
def test_entered_on_is_a_date_no_later_than_the_start(tmp_path, value, says):
    from sim.errors import ScenarioError
    from sim.portfolio import parse_portfolio_csv

    scenario = load_scenario(BASELINE)
    text = f"account_id,balance,days_past_due,entered_on\n1,100,5,2025-12-01\n2,200,10,{value}\n"
    with pytest.raises(ScenarioError, match=says) as err:
        parse_portfolio_csv(text, scenario, source="accounts.csv")
    assert "line 3: entered_on" in str(err.value)


def test_a_formula_like_segment_name_reads_back():
    from sim.export_safety import safe_cell
    from sim.portfolio import parse_portfolio_csv
    from sim.scenario import Scenario

    scenario = Scenario.from_dict({"portfolio": {"segments": {"=risky": 0.5, "safe": 0.5}},
                                   "behavior": {"segment_multiplier": {}}})
    text = f"account_id,balance,days_past_due,segment\n1,100,5,{safe_cell('=risky')}\n2,100,5,safe\n"
    book = parse_portfolio_csv(text, scenario)
    assert book.segment.tolist() == [0, 1]
