"""CSV exports a spreadsheet opens as data: a text cell that starts like a formula is written with a leading ``'``.

Every CSV repaylab writes goes through :mod:`sim.export_safety`: compare,
sweep and sensitivity ``--csv``, ``export --csv``, the payoff schedule, and
the app's downloads. Numbers, negative ones included, stay numbers.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from sim.cli import main
from sim.export_safety import csv_text, json_data, safe_cell, safe_frame

from simhelpers import SCENARIOS

BASE = str(SCENARIOS / "baseline.toml")
FORMULAS = ["=1+2", "+1+2", "-1+2", "@SUM(A1)", "\t=1+2", "\r=1+2", "=HYPERLINK(\"http://x\")",
            "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("text", FORMULAS)
def test_formula_like_text_is_escaped(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("value", [-1, -2.5, 0, 3.25, float("nan"), "-12.50", "+3", "12", "", "baseline",
                                   "a=b", "sms_gentle − baseline", None, True])
def test_numbers_and_ordinary_text_are_left_alone(value):
    assert safe_cell(value) is value or safe_cell(value) == value


def test_csv_text_escapes_cells_and_headers_and_blanks_what_a_row_lacks():
    rows = [{"scenario": "=1+2", "mean": -3.5}, {"scenario": "ok", "mean": float("nan"), "delta": -1.0}]
    parsed = list(csv.reader(io.StringIO(csv_text(rows, ["scenario", "mean", "delta"]))))
    assert parsed == [["scenario", "mean", "delta"], ["'=1+2", "-3.5", ""], ["ok", "", "-1.0"]]


def test_safe_frame_keeps_numeric_columns_numeric():
    frame = pd.DataFrame({"label": ["=evil()", "fine"], "net": [-5.0, 7.0], "=col": ["-x", "y"]})
    safe = safe_frame(frame)
    assert list(safe["label"]) == ["'=evil()", "fine"] and list(safe["net"]) == [-5.0, 7.0]
    assert list(safe.columns) == ["label", "net", "'=col"] and list(safe["'=col"]) == ["'-x", "y"]
    assert list(frame["label"]) == ["=evil()", "fine"]  # the caller's frame is not changed


def test_json_data_writes_dates_and_times_as_iso_text():
    import datetime as dt

    assert json_data({"d": dt.date(2026, 3, 2), "t": [dt.time(9, 30)], "x": (1, "a")}) == {
        "d": "2026-03-02", "t": ["09:30:00"], "x": [1, "a"]}


@pytest.fixture
def evil_scenario(tmp_path):
    path = tmp_path / "evil.toml"
    path.write_text(f'extends = "{BASE}"\nname = "-cmd"\n')
    return str(path)


SMALL = ["--accounts", "100", "--days", "10", "--workers", "1"]


def test_compare_and_export_csv_escape_scenario_names(tmp_path, monkeypatch, evil_scenario):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", BASE, evil_scenario, *SMALL, "--reps", "2", "--csv", "compare.csv",
                 "--store", "s.duckdb"]) == 0
    rows = pd.read_csv(tmp_path / "compare.csv")
    assert set(rows["scenario"]) == {"baseline", "'-cmd"}
    assert set(rows["champion"].dropna()) == {"baseline"}
    assert rows["mean"].dtype == float  # the numbers stay numbers

    from sim.store import ResultStore

    [experiment] = ResultStore(tmp_path / "s.duckdb").experiments()
    assert main(["export", experiment["id"], "--csv", "kpis.csv", "--store", "s.duckdb"]) == 0
    exported = pd.read_csv(tmp_path / "kpis.csv")
    assert set(exported["label"]) == {"baseline", "'-cmd"}
    assert exported["net_recovery"].dtype == float


def test_sweep_and_sensitivity_csv_keep_negative_numbers_as_numbers(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", BASE, "--set", "teams.callers.agents=1,12", *SMALL, "--reps", "2", "--csv", "sweep.csv",
                 "--no-store"]) == 0
    rows = pd.read_csv(tmp_path / "sweep.csv")
    assert rows["delta_net_recovery_mean"].dtype == float and (rows["delta_net_recovery_mean"] < 0).any()
    assert not any(str(c).startswith("'") for c in rows.columns)
    # baseline's callers scale with the book: 0.04 full-time agents at this size, so a step of 0.02
    assert main(["sensitivity", BASE, "--param", "teams.callers.agents:0.02", *SMALL, "--reps", "2", "--csv",
                 "sens.csv", "--no-store"]) == 0
    sens = pd.read_csv(tmp_path / "sens.csv")
    assert sens["low_mean"].dtype == float and sens["param"].tolist() == ["teams.callers.agents"]


def test_payoff_schedule_csv_escapes_debt_names():
    from optimizer.payoff.advisor import advise
    from optimizer.payoff.model import DebtFile
    from optimizer.payoff.report import schedule_csv

    debts = DebtFile.from_dict({"budget": 300, "debts": [
        {"name": "=HYPERLINK(\"http://x\")", "balance": 500, "apr": 0.2},
        {"name": "-Loan", "balance": 400, "apr": 0.1}]}, source="evil.toml")
    rows = list(csv.DictReader(io.StringIO(schedule_csv(advise(debts, ["avalanche"], None)).decode())))
    assert {r["debt"] for r in rows} == {"'=HYPERLINK(\"http://x\")", "'-Loan"}
    assert all(float(r["payment"]) >= 0 and not r["payment"].startswith("'") for r in rows)


def test_contact_log_writes_a_team_name_starting_with_a_minus_as_text(tmp_path):
    # The contact log's agent column carries the scenario's team names (the user's text).
    from sim.scenario import load_scenario
    from sim.simulation import simulate

    data = load_scenario(SCENARIOS / "baseline.toml").content()
    data["teams"] = {"-cmd" if k == "callers" else k: v for k, v in data["teams"].items()}
    for step in data["strategy"]["steps"]:
        if step.get("team") == "callers":
            step["team"] = "-cmd"
    data["simulation"].update(accounts=300, days=10)
    from sim.scenario import Scenario

    result = simulate(Scenario.from_dict(data, source="<test>"), rng=1)
    out = tmp_path / "contacts.csv"
    result.contact_log.write_csv(out)
    agents = {row["agent"] for row in csv.DictReader(out.open())}
    assert any(a.startswith("'-cmd") for a in agents)
    assert not any(a.startswith("-") for a in agents)
