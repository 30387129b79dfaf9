"""``python -m sim show`` and ``[simulation] currency``: the merged scenario, every default written out."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sim import load_scenario, load_scenario_text
from sim.cli.show import shown_toml
from sim.errors import ScenarioError

from simhelpers import ROOT, SCENARIOS

SHIPPED = ["baseline", "sms_gentle", "call_heavy", "early_field", "cn_2025", "champion_challenger"]


@pytest.mark.parametrize("stem", SHIPPED)
def test_loading_what_show_prints_gives_the_same_scenario(stem):
    scenario = load_scenario(SCENARIOS / f"{stem}.toml")
    again = load_scenario_text(shown_toml(scenario), source="shown.toml", base_dir=str(SCENARIOS))
    assert again.content_hash == scenario.content_hash
    assert again.content() == scenario.content()


def test_show_resolves_extends_and_fills_every_default(tmp_path):
    variant = tmp_path / "variant.toml"
    variant.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\nname = "faster"\n'
                       "[simulation]\ndays = 30\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "sim", "show", str(variant)], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "\nextends" not in proc.stdout
    assert 'name = "faster"' in proc.stdout and "days = 30" in proc.stdout
    # Defaults the file never wrote are there: the discount rate, the currency, the costs.
    for default in ("discount_rate = 0.06", 'currency = "USD"', "[costs]", "[behavior]"):
        assert default in proc.stdout, default
    assert load_scenario_text(proc.stdout, source="x").content_hash == load_scenario(variant).content_hash


def test_show_of_a_missing_file_is_one_line_and_exit_2():
    proc = subprocess.run([sys.executable, "-m", "sim", "show", "nope.toml"], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["error: nope.toml: file not found"]


def test_currency_defaults_by_compliance_preset():
    assert load_scenario(SCENARIOS / "baseline.toml").currency == "USD"
    assert load_scenario(SCENARIOS / "cn_2025.toml").currency == "CNY"
    euro = load_scenario(SCENARIOS / "baseline.toml", {"simulation.currency": "EUR"})
    assert euro.currency == "EUR"
    assert 'currency = "EUR"' in euro.to_toml()


def test_writing_the_default_currency_keeps_the_content_hash():
    base = load_scenario(SCENARIOS / "baseline.toml")
    assert base.with_overrides({"simulation.currency": "USD"}).content_hash == base.content_hash
    assert base.with_overrides({"simulation.currency": "EUR"}).content_hash != base.content_hash


def test_a_currency_that_is_not_an_iso_code_is_refused_in_one_line():
    with pytest.raises(ScenarioError) as err:
        load_scenario(SCENARIOS / "baseline.toml", {"simulation.currency": "dollars"})
    assert "simulation.currency" in str(err.value) and "\n" not in str(err.value)
