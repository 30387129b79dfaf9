"""``python -m sim power``: the test size against the textbook two-proportion formula, computed here by hand."""

from __future__ import annotations

import json
import math
import re
import shlex
import subprocess
import sys

import pytest
from scipy.stats import norm

from sim.errors import InputError
from sim.power import (
    arms,
    cash_test_size,
    pilot_cash,
    rate_power,
    rate_test_size,
    rate_total,
)
from sim.scenario import load_scenario

from simhelpers import ROOT, SCENARIOS


def textbook_arms(p0: float, p1: float, share: float, alpha: float, power: float) -> tuple[int, int]:
    """Fleiss' sample size without continuity correction, written with an allocation ratio k = n0 / n1.

    n1 = [z_{1-α/2}·√(p̄q̄(1 + 1/k)) + z_{1-β}·√(p1q1 + p0q0/k)]² / δ², n0 = k·n1, p̄ = (p1 + k·p0) / (1 + k).
    """
    k = (1 - share) / share
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    pbar = (p1 + k * p0) / (1 + k)
    n1 = (za * math.sqrt(pbar * (1 - pbar) * (1 + 1 / k))
          + zb * math.sqrt(p1 * (1 - p1) + p0 * (1 - p0) / k)) ** 2 / (p1 - p0) ** 2
    return math.ceil(k * n1 - 1e-9), math.ceil(n1 - 1e-9)


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", "power", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.mark.parametrize("base, lift, share, alpha, power", [
    (0.30, 0.02, 0.5, 0.05, 0.8),
    (0.30, 0.02, 0.1, 0.05, 0.8),
    (0.30, -0.03, 0.2, 0.05, 0.9),
    (0.14, -0.01, 0.25, 0.01, 0.8),
    (0.80, 0.05, 0.7, 0.10, 0.95),
])
def test_the_arms_are_the_textbook_formula_with_equal_and_unequal_arms(base, lift, share, alpha, power):
    size = rate_test_size("cure_rate", base, lift=lift, share=share, alpha=alpha, power=power)
    assert (size.accounts_champion, size.accounts_challenger) == textbook_arms(base, base + lift, share, alpha, power)
    assert size.accounts_total == size.accounts_champion + size.accounts_challenger


def test_the_r_documentation_worked_examples():
    # R's stats::power.prop.test (pooled under H0, unpooled under H1, strict = FALSE), per group:
    # power.prop.test(p1 = .50, p2 = .75, power = .90)  => n = 76.7
    assert rate_total(0.50, 0.25, 0.5, 0.05, 0.90) / 2 == pytest.approx(76.7, abs=0.05)
    assert rate_test_size("cure_rate", 0.50, lift=0.25, power=0.90).accounts_challenger == 77
    # power.prop.test(n = 50, p1 = .50, p2 = .75)  => power = 0.740
    assert rate_power(0.50, 0.25, 50, 50, 0.05) == pytest.approx(0.740, abs=5e-4)
    # power.prop.test(n = 50, p1 = .5, power = .90)  => p2 = 0.8026
    found = rate_test_size("cure_rate", 0.50, accounts=100, power=0.90)
    assert 0.50 + found.detectable_lift == pytest.approx(0.8026, abs=5e-5)


def test_the_computed_size_reaches_the_power_and_one_account_fewer_does_not():
    size = rate_test_size("cure_rate", 0.30, lift=0.02, share=0.2)
    achieved = rate_power(0.30, 0.02, size.accounts_champion, size.accounts_challenger, 0.05)
    assert achieved >= 0.8
    total = rate_total(0.30, 0.02, 0.2, 0.05, 0.8)
    assert rate_power(0.30, 0.02, 0.8 * (total - 2), 0.2 * (total - 2), 0.05) < 0.8


@pytest.mark.parametrize("share", [0.5, 0.15])
def test_the_detectable_lift_is_the_inverse_of_the_size(share):
    size = rate_test_size("charge_off_rate", 0.14, lift=0.015, share=share)
    back = rate_test_size("charge_off_rate", 0.14, accounts=size.accounts_total, share=share)
    # The arms were rounded up, so the lift they detect is at most the one asked for, and close to it.
    assert back.detectable_lift <= 0.015
    assert back.detectable_lift == pytest.approx(0.015, rel=2e-3)
    assert rate_power(0.14, back.detectable_lift, back.accounts_champion, back.accounts_challenger,
                      0.05) == pytest.approx(0.8, abs=1e-9)
    assert back.detectable_drop < back.detectable_lift  # a fall towards 0 has less variance


def test_months_are_the_total_over_the_inflow_rounded_up():
    size = rate_test_size("cure_rate", 0.30, lift=0.02, inflow=2000)
    assert size.months == math.ceil(size.accounts_total / 2000)
    assert rate_test_size("cure_rate", 0.30, lift=0.02).months is None


def test_cash_per_account_is_the_two_sample_z_formula_with_unequal_arms():
    sd, lift, share = 2400.0, 60.0, 0.25
    size = cash_test_size(sd, lift=lift, share=share)
    za, zb = norm.ppf(0.975), norm.ppf(0.8)
    n = (za + zb) ** 2 * sd ** 2 / (share * (1 - share) * lift ** 2)
    assert (size.accounts_champion, size.accounts_challenger) == arms(n, share)
    assert (size.accounts_champion, size.accounts_challenger) == (math.ceil(n * 0.75), math.ceil(n * 0.25))
    back = cash_test_size(sd, accounts=size.accounts_total, share=share)
    assert back.detectable_lift == pytest.approx(lift, rel=1e-3)


def test_the_pilot_takes_the_variance_of_the_ledger_s_cash_per_account():
    import numpy as np

    from sim.simulation import simulate

    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 150, "simulation.days": 15})
    pilot = pilot_cash(scenario, 2, seed=5)
    values = np.concatenate([simulate(scenario, child, ledger=True).ledger.collected
                             for child in np.random.SeedSequence(5).spawn(2)])
    assert pilot["observations"] == 300
    assert pilot["mean"] == pytest.approx(values.mean())
    assert pilot["sd"] == pytest.approx(values.std(ddof=1))
    assert pilot["sd"] > 0


def test_an_open_book_pilot_counts_the_accounts_in_collection_not_the_warm_ups_cured():
    import numpy as np

    from sim.simulation import simulate

    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 300, "simulation.days": 30})
    pilot = pilot_cash(scenario, 1, seed=5)
    (child,) = np.random.SeedSequence(5).spawn(1)
    run = simulate(scenario, child, ledger=True)
    # The measured book and the warm-up's cures back in collection: the cash test's sample (sim.arms).
    assert run.kpis["measured_book"] < pilot["observations"] < run.accounts
    assert pilot["mean"] * pilot["observations"] == pytest.approx(run.kpis["collected"])


def test_the_command_prints_the_json_of_the_issue():
    done = run("--kpi", "cure_rate", "--base", "0.30", "--lift", "0.02", "--share", "0.5", "--alpha", "0.05",
               "--power", "0.8", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["accounts_champion"], out["accounts_challenger"]) == textbook_arms(0.30, 0.32, 0.5, 0.05, 0.8)
    assert out["accounts_total"] == out["accounts_champion"] + out["accounts_challenger"]
    assert "two-sided" in out["method"] and "no continuity correction" in out["method"]
    assert (out["base"], out["lift"], out["share"]) == (0.30, 0.02, 0.5)


def test_the_command_prints_a_table_with_the_method(tmp_path):
    done = run("--base", "0.30", "--lift", "0.02", "--share", "0.1", "--inflow", "2000")
    assert done.returncode == 0, done.stderr
    assert "challenger accounts" in done.stdout and "months at 2,000 accounts a month" in done.stdout
    assert "no continuity correction" in done.stdout and "assumption:" in done.stdout


def test_the_pilot_path_on_the_command_line(tmp_path):
    small = tmp_path / "small.toml"
    small.write_text(f'extends = "{SCENARIOS / "hawkes_baseline.toml"}"\n[simulation]\naccounts = 120\ndays = 10\n')
    done = run("--kpi", "cash_per_account", "--scenario", str(small), "--pilot-reps", "2", "--lift", "25",
               "--share", "0.3", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["pilot"]["observations"] == 240 and out["sd_per_account"] == out["pilot"]["sd"]
    za, zb = norm.ppf(0.975), norm.ppf(0.8)
    n = (za + zb) ** 2 * out["sd_per_account"] ** 2 / (0.3 * 0.7 * 25 ** 2)
    assert out["accounts_total"] == math.ceil(n * 0.7 - 1e-9) + math.ceil(n * 0.3 - 1e-9)


@pytest.mark.parametrize("args, where", [
    (["--base", "1.2", "--lift", "0.1"], "--base"),
    (["--base", "0", "--lift", "0.1"], "--base"),
    (["--base", "0.3", "--lift", "0.75"], "--lift"),
    (["--base", "0.3", "--lift", "-0.3"], "--lift"),
    (["--base", "0.3", "--lift", "0.02", "--share", "1"], "--share"),
    (["--base", "0.3", "--lift", "0.02", "--alpha", "0"], "--alpha"),
    (["--base", "0.3", "--lift", "0.02", "--power", "1.5"], "--power"),
    (["--base", "0.3"], "--lift/--accounts"),
    (["--base", "0.3", "--lift", "0.02", "--accounts", "1000"], "--accounts"),
    (["--kpi", "recovery_rate", "--base", "0.3", "--lift", "0.02"], "--kpi"),
    (["--base", "0.3", "--lift", "0.02", "--inflow", "0"], "--inflow"),
    (["--kpi", "cash_per_account", "--lift", "10"], "--scenario"),
])
def test_bad_input_is_one_line_and_exit_2(args, where):
    done = run(*args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and where in lines[0], done.stderr


def test_the_unknown_kpi_error_lists_the_rates_of_accounts():
    with pytest.raises(InputError, match="cure_rate, charge_off_rate"):
        rate_test_size("right_party_contact_rate", 0.2, lift=0.01)


def _readme_power_examples() -> list[tuple[str, list[str]]]:
    """``(command, printed lines)`` of every ``python -m sim power`` example in the README."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Champion/challenger test size", 1)[1].split("**A report for management.**", 1)[0]
    examples = []
    for block in re.findall(r"```console\n(.*?)```", section, re.S):
        command, printed = None, []
        for line in block.splitlines():
            if line.startswith("$ "):
                if command:
                    examples.append((command, printed))
                command, printed = line[2:], []
            else:
                printed.append(line)
        examples.append((command, printed))
    return examples


@pytest.mark.parametrize(("command", "printed"), _readme_power_examples(), ids=lambda x: str(x)[:40])
def test_the_readme_power_examples_are_what_the_command_prints(command, printed):
    args = shlex.split(command)
    assert args[:4] == ["python", "-m", "sim", "power"]
    done = run(*args[4:])
    assert done.returncode == 0, done.stderr
    shown = printed[:printed.index("...")] if "..." in printed else printed
    assert done.stdout.splitlines()[:len(shown)] == shown
