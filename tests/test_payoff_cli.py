"""``python -m optimizer payoff`` as a user runs it: output that parses, errors that are one line."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
BAD = Path(__file__).parent / "bad_inputs"


def payoff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optimizer", "payoff", *map(str, args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_json_for_one_strategy_has_the_issue_fields():
    run = payoff(SCENARIOS / "debts_promo.toml", "--strategy", "optimal", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert {"strategy", "pays_off", "months", "total_interest", "total_paid", "schedule"} <= set(data)
    assert data["strategy"] == "optimal" and data["pays_off"] is True
    assert data["total_interest"] == 897.42 and data["months"] == 22
    assert data["debt_free"] == "2027-10"
    assert set(data["schedule"][0]) >= {"month", "debt", "payment", "interest", "balance"}
    assert round(sum(r["payment"] for r in data["schedule"]), 2) == data["total_paid"]


def test_json_for_all_lists_plans_and_a_comparison():
    run = payoff(SCENARIOS / "household.toml", "--strategy", "all", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    strategies = [p["strategy"] for p in data["plans"]]
    assert strategies == ["avalanche", "snowball", "minimum", "optimal"]
    rows = {row["strategy"]: row for row in data["comparison"]}
    assert rows["optimal"]["total_interest"] <= rows["avalanche"]["total_interest"]
    assert rows["minimum"]["months"] > rows["avalanche"]["months"]
    assert data["minimum_trap"]["strategy"] == "minimum"


def test_summary_names_debt_free_date_order_and_the_trap():
    run = payoff(SCENARIOS / "household.toml")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "debt-free after 41 months" in out and "2029-05" in out
    assert "order of payoff: Store card" in out
    assert "Minimum-payment trap" in out and "239 months" in out


def test_budget_option_changes_the_plan():
    slow = json.loads(payoff(SCENARIOS / "debts_promo.toml", "--json").stdout)
    fast = json.loads(payoff(SCENARIOS / "debts_promo.toml", "--json", "--budget", "900").stdout)
    assert fast["months"] < slow["months"] and fast["total_interest"] < slow["total_interest"]


def test_never_and_shortfall_are_reported_not_errors():
    run = payoff(SCENARIOS / "debts_shortfall.toml", "--strategy", "all")
    assert run.returncode == 0, run.stderr
    assert "never debt-free" in run.stdout
    assert "SHORTFALL" in run.stdout and "late fees" in run.stdout
    assert "a budget of at least $223.52 a month would meet every minimum" in run.stdout


def test_csv_and_plot_files_are_written(tmp_path):
    table, chart = tmp_path / "plan.csv", tmp_path / "plan.png"
    run = payoff(SCENARIOS / "debts_cn.toml", "--strategy", "all", "--csv", table, "--plot", chart)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(table.open(encoding="utf-8")))
    assert {r["strategy"] for r in rows} == {"avalanche", "snowball", "minimum", "optimal"}
    assert rows[0]["date"] == "2026-03"
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.csv", "plan.png"]  # no temp files


@pytest.mark.parametrize("name", sorted(p.name for p in BAD.glob("debts_*.toml")))
def test_bad_file_exits_2_with_one_line_and_writes_nothing(name, tmp_path):
    out = tmp_path / "plan.csv"
    run = payoff(BAD / name, "--csv", out, "--plot", tmp_path / "plan.png")
    assert run.returncode == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in run.stderr
    assert lines[0].startswith(f"error: {BAD / name}")
    assert run.stdout == "" and not list(tmp_path.iterdir())


def test_field_is_named_for_an_apr_given_as_a_percentage():
    run = payoff(BAD / "debts_apr_percent.toml")
    assert run.returncode == 2
    assert "debts.0.apr: APR is a fraction (0.25 for 25 %), got 25" in run.stderr


@pytest.mark.parametrize("args, words", [
    (["--budget", "-5"], "--budget"),
    (["--budget", "lots"], "--budget"),
    (["--budget", "1e308"], "between 0 and 1e+09"),
    (["--budget", "9" * 5000], "finite number"),
    (["--strategy", "custom"], "custom_order"),
    (["--csv", "/no/such/dir/plan.csv"], "does not exist"),
    (["--plot", "chart.svg"], ".png"),
])
def test_bad_options_exit_2_with_one_line(args, words):
    run = payoff(SCENARIOS / "debts_promo.toml", *args)
    assert run.returncode == 2
    assert len(run.stderr.strip().splitlines()) == 1 and words in run.stderr
    assert "Traceback" not in run.stderr


def test_missing_file_exits_2():
    run = payoff(ROOT / "scenarios" / "no_such.toml")
    assert run.returncode == 2 and "file not found" in run.stderr


def test_snowball_rerank_is_asked_for_by_name_and_not_part_of_all():
    text = payoff(str(SCENARIOS / "household.toml"), "--strategy", "snowball_rerank").stdout
    assert text.splitlines()[3].startswith("snowball_rerank (smallest current balance first")
    plans = json.loads(payoff(str(SCENARIOS / "household.toml"), "--strategy", "all", "--json").stdout)
    assert "snowball_rerank" not in [p["strategy"] for p in plans["plans"]]


@pytest.mark.parametrize("option", ["--csv", "--plot"])
def test_an_output_that_cannot_be_written_is_one_line_before_any_work(option, tmp_path):
    # A directory, and a symlink loop (which the rename would silently have replaced).
    (tmp_path / "dir.png").mkdir()
    (tmp_path / "loop.png").symlink_to("loop2.png")
    (tmp_path / "loop2.png").symlink_to("loop.png")
    for target, says in (("dir.png", "is a directory"), ("loop.png", "symlink loop")):
        done = subprocess.run([sys.executable, "-m", "optimizer", "payoff", str(SCENARIOS / "household.toml"),
                               option, target], capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert done.returncode == 2, done.stderr
        assert done.stdout == "" and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert (tmp_path / "loop.png").is_symlink() and (tmp_path / "loop2.png").is_symlink()
