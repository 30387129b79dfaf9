"""``python -m sim calibrate`` as a user runs it, on the files ``python -m sim run`` writes."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
import tomllib

import numpy as np
import pytest

from sim.calibration.history_files import Window, read_payments
from sim.cli import main
from sim.scenario import load_scenario

from simhelpers import ROOT

BASE = """\
name = "cgw-book"
[simulation]
days = 60
accounts = 1500
seed = 4
start_date = 2026-01-05

[portfolio]
apr = 0.24
late_fee = 30
charge_off_dpd = 180

[behavior]
model = "cgw"
lambda0 = 0.05
lambda_inf = 0.01
kappa = 0.15
delta10 = 0.02
delta11 = 0.1
r_min = 0.1

[strategy]
name = "sms"

[[strategy.steps]]
channel = "sms"
from_dpd = 1
to_dpd = 179
every_days = 5

[teams]
"""
PARAMETERS = ["lambda0", "lambda_inf", "kappa", "delta10", "delta11", "r_min"]


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """A base scenario and the history ``python -m sim run`` exports for it."""
    folder = tmp_path_factory.mktemp("book")
    (folder / "base.toml").write_text(BASE)
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(folder / "base.toml"), "--no-store", "--quiet",
                           "--payments-out", str(folder / "payments.csv"),
                           "--portfolio-out", str(folder / "accounts.csv"),
                           "--contacts-out", str(folder / "contacts.csv")],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return folder


def calibrate_args(book, *extra, payments=None, accounts=None):
    return ["calibrate", "--scenario", str(book / "base.toml"), "--portfolio", str(accounts or book / "accounts.csv"),
            "--payments", str(payments or book / "payments.csv"), "--contacts", str(book / "contacts.csv"),
            "--start", "2026-01-05", "--days", "60", *extra]


def test_json_has_exactly_the_issues_shape(book, capsys):
    assert main(calibrate_args(book, "--json")) == 0
    payload = json.loads(capsys.readouterr().out)
    assert list(payload) == ["model", "accounts", "payments", "log_likelihood", "parameters", "goodness_of_fit"]
    assert payload["model"] == "cgw" and payload["accounts"] == 1500
    assert payload["payments"] == sum(1 for _ in open(book / "payments.csv")) - 1
    # With the contact log: the channels' lifts and the right-party rates by hour follow the process's six.
    names = list(payload["parameters"])
    assert names[:6] == PARAMETERS
    assert names[6:13] == [f"lift.{k}" for k in ("sms", "email", "letter", "call_attempt", "right_party_contact",
                                                 "inbound_call", "field_visit")]
    assert names[13:] == [f"right_party_by_hour.{h}" for h in range(24)]
    for name, p in payload["parameters"].items():
        assert list(p) == ["estimate", "std_error", "ci_low", "ci_high", "identified"], name
        if name in (*PARAMETERS, "lift.sms"):  # the book sends SMS only: no other lift, no dial to time
            assert p["identified"] and p["ci_low"] <= p["estimate"] <= p["ci_high"], name
        else:
            assert not p["identified"] and p["estimate"] is None, name
    gof = payload["goodness_of_fit"]
    assert list(gof) == ["ks_statistic", "ks_pvalue", "aic", "aic_constant_hazard"]
    # The engine's own process: time rescaling does not reject it, and it beats a constant hazard.
    assert gof["ks_pvalue"] > 0.001
    assert gof["aic"] < gof["aic_constant_hazard"]


def test_out_writes_a_scenario_that_extends_the_base_and_runs(book, tmp_path, capsys):
    out = tmp_path / "nested" / "fitted.toml"
    out.parent.mkdir()
    plot = tmp_path / "qq.png"
    assert main(calibrate_args(book, "--json", "--out", str(out), "--plot", str(plot))) == 0
    fitted = json.loads(capsys.readouterr().out)["parameters"]
    extends = tomllib.loads(out.read_text())["extends"]
    assert not os.path.isabs(extends)  # relative, so the two files can move together
    assert os.path.samefile(out.parent / extends, book / "base.toml")
    scenario = load_scenario(out)
    for name in PARAMETERS:
        assert getattr(scenario.behavior, name) == fitted[name]["estimate"], name
    assert scenario.strategy.name == "sms"  # the rest is the base's
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(out), "--no-store", "--quiet",
                           "--accounts", "200", "--days", "5"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_the_table_names_every_parameter(book, capsys):
    assert main(calibrate_args(book)) == 0
    out = capsys.readouterr().out
    for name in PARAMETERS:
        assert name in out
    assert "time rescaling" in out and "constant hazard" in out


def _payments_with(book, tmp_path, row: str):
    path = tmp_path / "payments.csv"
    path.write_text((book / "payments.csv").read_text() + row + "\n")
    return path, sum(1 for _ in open(path))


@pytest.mark.parametrize("row, field, message", [
    ("999999,2026-01-06T10:00:00,10.00,payment", "account_id", "unknown account 999999"),
    ("{id},2026-01-06T10:00:00,-5.00,payment", "amount", "must be ≥ 0"),
    ("{id},2026-03-30T10:00:00,5.00,payment", "timestamp", "outside the window"),
    ("{id},2026-01-06T10:00:00,99999999.00,payment", "amount", "more than"),
    ("{id},yesterday,5.00,payment", "timestamp", "ISO 8601"),
    ("{id},2026-01-06T10:00:00,5.00,refund", "kind", "unknown kind"),
])
def test_a_bad_payment_is_one_line_naming_the_file_line_and_field(book, tmp_path, capsys, row, field, message):
    account = (book / "accounts.csv").read_text().splitlines()[1].split(",")[0]
    payments, line = _payments_with(book, tmp_path, row.format(id=account))
    out = tmp_path / "fitted.toml"
    assert main(calibrate_args(book, "--out", str(out), payments=payments)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith(f"error: {payments}: line {line}: {field}: ") and message in err, err
    assert not out.exists()  # nothing half-written


def test_an_unknown_column_and_a_bad_option_are_one_line(book, tmp_path, capsys):
    payments = tmp_path / "payments.csv"
    payments.write_text("account_id,timestamp,amount,channel\n")
    assert main(calibrate_args(book, payments=payments)) == 2
    assert "line 1: unknown column 'channel'" in capsys.readouterr().err
    assert main(calibrate_args(book, "--model", "hawkes")) == 2
    assert "--model: unknown model 'hawkes'" in capsys.readouterr().err
    assert main(calibrate_args(book, "--time-zone", "Mars/Olympus")) == 2
    assert "--time-zone" in capsys.readouterr().err
    args = calibrate_args(book)
    args[args.index("--start") + 1] = "2026-13-01"
    assert main(args) == 2
    assert "--start: must be a date written as YYYY-MM-DD, got '2026-13-01'" in capsys.readouterr().err


def test_an_offset_is_converted_to_the_books_time_zone(book, tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("account_id,timestamp,amount\n7,2026-01-05T10:00:00+01:00,5\n7,2026-01-06,5\n"
                    "7,2026-01-06T12:00:00Z,5\n")
    receipts = read_payments(path, np.array([7]), Window(dt.date(2026, 1, 5), 10, "Europe/Paris"))
    assert list(receipts.time) == pytest.approx([10 / 24, 1.0, 1.0 + 13 / 24])
    assert list(receipts.dated) == [False, True, False]


@pytest.mark.parametrize("script, args", [("calibration_speed", ["--accounts", "300", "--days", "20"]),
                                          ("calibration_recovery", ["--seeds", "2", "--accounts", "300",
                                                                    "--days", "30"])])
def test_the_calibration_benchmarks_run_and_end_with_their_headline(script, args):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / f"{script}.py"), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("machine: ") and lines[-1].startswith("headline: ")


def backtest_args(book, *extra):
    return ["backtest", "--scenario", str(book / "base.toml"), "--portfolio", str(book / "accounts.csv"),
            "--payments", str(book / "payments.csv"), "--contacts", str(book / "contacts.csv"),
            "--start", "2026-01-05", "--days", "60", "--fit-days", "30", "--reps", "8", *extra]


def test_backtest_json_has_the_issues_shape_and_the_same_seed_gives_the_same_band(book, tmp_path, capsys):
    plot = tmp_path / "band.png"
    assert main(backtest_args(book, "--json", "--plot", str(plot))) == 0
    payload = json.loads(capsys.readouterr().out)
    assert list(payload) == ["fit_days", "reps", "curve", "inside_share", "roll_rates"]
    assert payload["fit_days"] == 30 and payload["reps"] == 8
    curve = payload["curve"]
    assert [row["day"] for row in curve] == list(range(30, 60))
    for row in curve:
        assert list(row) == ["day", "actual", "low", "high"]
        assert 0 <= row["low"] <= row["high"] <= 1
    # Cumulative recovery never falls.
    assert all(a["actual"] <= b["actual"] for a, b in zip(curve, curve[1:], strict=False))
    assert 0 <= payload["inside_share"] <= 1
    assert set(payload["roll_rates"]) == {"predicted", "actual"}
    assert plot.read_bytes()[:4] == b"\x89PNG"
    assert main(backtest_args(book, "--json")) == 0
    assert json.loads(capsys.readouterr().out) == payload


def test_backtest_refuses_fit_days_outside_the_window(book, capsys):
    args = backtest_args(book)
    args[args.index("--fit-days") + 1] = "60"
    assert main(args) == 2
    assert "--fit-days: must be between 1 and 59" in capsys.readouterr().err


def test_the_readmes_worked_example_is_a_valid_scenario_and_its_commands_parse():
    from sim.cli import build_parser
    from sim.scenario import load_scenario_text

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Calibration: fit the behaviour"):readme.index("## Capacity allocation")]
    toml = section.split("```toml\n", 1)[1].split("```", 1)[0]
    scenario = load_scenario_text(toml)
    assert scenario.behavior.model == "cgw" and scenario.simulation.days == 180
    parser = build_parser()
    commands = re.findall(r"\$ python -m sim ((?:[^\n\\]|\\\n)+)", section)
    parsed = [parser.parse_args(command.replace("\\\n", " ").split()).command for command in commands]
    assert parsed == ["run", "calibrate", "backtest", "run", "calibrate"]  # the cgw example, then the card one


def test_a_bad_contact_row_is_one_line_naming_its_line_and_field(book, tmp_path, capsys):
    account = (book / "accounts.csv").read_text().splitlines()[1].split(",")[0]
    contacts = tmp_path / "contacts.csv"
    text = (book / "contacts.csv").read_text()
    contacts.write_text(text + f"{account},2026-01-06T10:00:00,pigeon,,\n")
    line = text.count("\n") + 1
    args = calibrate_args(book)
    args[args.index("--contacts") + 1] = str(contacts)
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {contacts}: line {line}: channel: unknown channel 'pigeon'; allowed: " \
                  "sms, email, call, inbound_call, letter, field_visit, legal"
