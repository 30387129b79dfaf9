"""Importing real accounts from CSV: columns validated, personal data dropped."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from sim import load_scenario, simulate
from sim.portfolio import Portfolio, read_portfolio_csv

from simhelpers import ROOT

CSV = """account_id,name,phone,balance,days_past_due,segment,phone_known,email_known,street
17,Ada Lovelace,+1 555 0100,1200.50,12,low,1,0,1 Main St
18,Alan Turing,+1 555 0101,80,95,high,true,true,2 Main St
19,Grace Hopper,,15000,150,medium,0,yes,3 Main St
"""


def write_case(tmp_path, text=CSV):
    (tmp_path / "accounts.csv").write_text(text)
    (tmp_path / "book.toml").write_text(
        '[simulation]\ndays = 20\n[portfolio]\ncsv = "accounts.csv"\n'
        '[strategy]\nname = "imported"\n[[strategy.steps]]\nchannel = "sms"\nfrom_dpd = 1\nto_dpd = 179\nevery_days = 3\n'
    )
    return tmp_path / "book.toml"


def test_import_keeps_only_model_columns(tmp_path):
    scenario = load_scenario(write_case(tmp_path))
    book = read_portfolio_csv(scenario.csv_path, scenario)
    assert isinstance(book, Portfolio)
    assert book.account_id.tolist() == [17, 18, 19]
    assert book.balance.tolist() == [1200.5, 80.0, 15000.0]
    assert book.days_past_due.tolist() == [12, 95, 150]
    assert [book.segment_names[k] for k in book.segment] == ["low", "high", "medium"]
    assert book.phone_known.tolist() == [True, True, False]
    assert book.email_known.tolist() == [False, True, True]
    # No attribute of the book holds a name, phone number or address.
    for value in vars(book).values():
        text = repr(value)
        assert "Lovelace" not in text and "555" not in text and "Main St" not in text


def test_run_on_imported_accounts_never_shows_personal_data(tmp_path):
    path = write_case(tmp_path)
    result = simulate(load_scenario(path), 1)
    assert result.accounts == 3
    assert result.kpis["initial_balance"] == 16280.5
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(path), "--json", "--no-store", "--contacts-out",
                           str(tmp_path / "log.csv")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    everything = proc.stdout + (tmp_path / "log.csv").read_text()
    assert json.loads(proc.stdout)["accounts"] == 3
    for secret in ("Lovelace", "Turing", "555", "Main St"):
        assert secret not in everything
    log_ids = {int(line.split(",")[0]) for line in (tmp_path / "log.csv").read_text().splitlines()[1:]}
    assert log_ids <= {17, 18, 19}  # the log speaks of the imported ids


def test_content_hash_follows_the_csv(tmp_path):
    path = write_case(tmp_path)
    before = load_scenario(path).content_hash
    (tmp_path / "accounts.csv").write_text(CSV.replace("1200.50", "1300.00"))
    assert load_scenario(path).content_hash != before


def test_missing_optional_columns_take_defaults(tmp_path):
    path = write_case(tmp_path, "account_id,balance,days_past_due\n1,100,31\n2,200,61\n")
    scenario = load_scenario(path)
    book = read_portfolio_csv(scenario.csv_path, scenario)
    assert book.phone_known.all() and book.email_known.all()
    assert np.all(book.segment == 0)
    # past due = missed cycles × minimum-due rate × balance
    assert book.past_due.tolist() == [round(2 * 0.03 * 100, 2), round(3 * 0.03 * 200, 2)]
