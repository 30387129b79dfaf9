"""Scenario files: loading, extends, overrides, validation and provenance."""

from __future__ import annotations

import math

import pytest
from pydantic import ValidationError

from sim.errors import ScenarioError
from sim.scenario import Scenario, load_scenario, load_scenario_text

from simhelpers import SCENARIOS

SHIPPED = ["baseline", "sms_gentle", "call_heavy", "early_field", "cn_2025"]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_scenarios_load(name):
    s = load_scenario(SCENARIOS / f"{name}.toml")
    assert s.strategy.name == name
    assert s.strategy.steps, "a shipped strategy has a ladder"


def test_extends_inherits_and_overrides(tmp_path):
    (tmp_path / "base.toml").write_text(
        '[simulation]\ndays = 30\naccounts = 500\n[strategy]\nname = "base"\n'
        '[[strategy.steps]]\nchannel = "sms"\nfrom_dpd = 1\nto_dpd = 30\n'
        "[teams.callers]\nagents = 7\n"
    )
    (tmp_path / "child.toml").write_text(
        'extends = "base.toml"\n[simulation]\ndays = 60\n[teams.callers]\nshifts = ["10:00-12:00"]\n'
    )
    child = load_scenario(tmp_path / "child.toml")
    assert child.simulation.days == 60
    assert child.simulation.accounts == 500  # inherited, tables deep-merged
    assert child.teams["callers"].agents == 7
    assert child.teams["callers"].shifts == ["10:00-12:00"]
    assert child.strategy.steps[0].channel == "sms"


def test_extends_absolute_path(tmp_path):
    base = tmp_path / "sub" / "base.toml"
    base.parent.mkdir()
    base.write_text('[strategy]\nname = "b"\n')
    (tmp_path / "c.toml").write_text(f'extends = "{base}"\n')
    assert load_scenario(tmp_path / "c.toml").strategy.name == "b"


def test_extends_cycle_is_an_error(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    with pytest.raises(ScenarioError, match="cycle"):
        load_scenario(tmp_path / "a.toml")


def test_extends_missing_target(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "nowhere.toml"\n')
    with pytest.raises(ScenarioError, match=r"a\.toml: extends: file 'nowhere.toml' not found"):
        load_scenario(tmp_path / "a.toml")


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"simulation": {"dayz": 3}}, "simulation.dayz", "unknown key"),
        ({"teams": {"callers": {"agents": -1}}}, "teams.callers.agents", "greater than or equal to 0"),
        ({"teams": {"callers": {"shifts": ["18:00-09:00"]}}}, "teams.callers.shifts", "ends before it starts"),
        ({"teams": {"callers": {"shifts": ["09:00-13:00", "12:00-15:00"]}}}, "teams.callers.shifts", "overlap"),
        ({"strategy": {"steps": [{"from_dpd": 1, "to_dpd": 9, "channel": "fax"}]}}, "strategy.steps.0.channel", "'sms'"),
        ({"compliance": {"preset": "eu_gdpr"}}, "compliance.preset", "us_reg_f"),
        ({"compliance": {"window_start": "25:00"}}, "compliance.window_start", "outside the day"),
        ({"portfolio": {"apr": 24}}, "portfolio.apr", "fraction"),
        ({"behavior": {"kappa": math.nan}}, "behavior.kappa", "finite"),
        ({"simulation": {"accounts": 10**12}}, "simulation.accounts", "less than or equal"),
        ({"simulation": {"days": "ninety"}}, "simulation.days", "integer"),
        ({"strategy": {"steps": [{"from_dpd": 30, "to_dpd": 10, "channel": "sms"}]}}, "strategy.steps.0", "before from_dpd"),
        ({"portfolio": {"buckets": {"1-30": 0.5}}}, "portfolio.buckets", "add up to 1"),
        ({"compliance": {"holiday_country": "XX"}}, "compliance.holiday_country", "unknown holiday country"),
    ],
)
def test_bad_values_name_the_field(data, field, words):
    with pytest.raises(ScenarioError) as info:
        Scenario.from_dict(data, source="my.toml")
    line = str(info.value)
    assert line.startswith(f"my.toml: {field}")
    assert words in line
    assert "\n" not in line


def test_strategy_segment_must_exist():
    with pytest.raises(ScenarioError, match="strategy.steps.0.segments: unknown segment 'vip'"):
        Scenario.from_dict({"strategy": {"steps": [{"from_dpd": 1, "to_dpd": 9, "channel": "sms", "segments": ["vip"]}]}})


def test_content_hash_is_stable_and_sensitive():
    a = Scenario.from_dict({"simulation": {"days": 30}})
    b = Scenario.from_dict({"simulation": {"days": 30}}, source="elsewhere.toml")
    c = Scenario.from_dict({"simulation": {"days": 31}})
    assert a.content_hash == b.content_hash  # where it came from does not matter
    assert a.content_hash != c.content_hash


def test_scenario_is_immutable():
    s = Scenario.from_dict({})
    with pytest.raises(ValidationError, match="frozen"):
        s.simulation.days = 5  # type: ignore[misc]


def test_overrides_and_round_trip_through_toml():
    s = load_scenario(SCENARIOS / "baseline.toml", {"strategy.steps.0.every_days": 1, "teams.callers.agents": 3})
    assert s.strategy.steps[0].every_days == 1
    assert s.teams["callers"].agents == 3
    again = load_scenario_text(s.to_toml())
    assert again.content_hash == s.content_hash


def test_override_of_missing_list_item():
    with pytest.raises(ScenarioError, match="no list item '9'"):
        load_scenario(SCENARIOS / "baseline.toml", {"strategy.steps.9.every_days": 1})


def test_missing_and_empty_and_binary_files(tmp_path):
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "nope.toml")
    (tmp_path / "empty.toml").write_text("")
    with pytest.raises(ScenarioError, match="empty"):
        load_scenario(tmp_path / "empty.toml")
    (tmp_path / "bin.toml").write_bytes(b"\x89PNG\x00\x01\x02")
    with pytest.raises(ScenarioError, match="not a text file"):
        load_scenario(tmp_path / "bin.toml")
    (tmp_path / "syntax.toml").write_text("[simulation\ndays = 3\n")
    with pytest.raises(ScenarioError, match="TOML syntax error"):
        load_scenario(tmp_path / "syntax.toml")


def test_scenario_error_is_the_former_name_of_input_error():
    from sim.errors import InputError, ScenarioError

    assert ScenarioError is InputError
    assert str(InputError("file.toml", "days", "must be ≥ 1")) == "file.toml: days: must be ≥ 1"
