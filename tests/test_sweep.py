"""Sweeps and one-at-a-time sensitivity: parsing, grids, validation, tornado data, plots."""

from __future__ import annotations

import pytest
from matplotlib.figure import Figure

from sim import plots
from sim.errors import ScenarioError
from sim.executors import LocalExecutor
from sim.scenario import load_scenario
from sim.sweep import (
    build_grid,
    parse_param,
    parse_scalar,
    parse_set,
    run_sensitivity,
    run_sweep,
    sensitivity_variants,
)

from simhelpers import SCENARIOS

SERIAL = LocalExecutor(1)


@pytest.fixture(scope="module")
def base():
    # Baseline's callers as at its own size (they scale with the book: 1 at 200 accounts).
    return load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 200, "simulation.days": 20,
                                                       "teams.callers.agents": 8})


def test_values_are_toml_scalars():
    assert parse_scalar("3", option="x") == 3 and isinstance(parse_scalar("3", option="x"), int)
    assert parse_scalar("0.5", option="x") == 0.5
    assert parse_scalar("true", option="x") is True
    assert parse_scalar('"09:00-17:00"', option="x") == "09:00-17:00"
    assert parse_scalar("sms", option="x") == "sms"  # a bare word is a string
    assert parse_set("strategy.steps.0.every_days=1,3,7") == ("strategy.steps.0.every_days", [1, 3, 7])
    assert parse_param("behavior.promise_keep_rate:0.1") == ("behavior.promise_keep_rate", 0.1)


@pytest.mark.parametrize("text", ["novalue", "a=", "=1", "a=1,,2", "a=[1, 2]", "a=3x"])
def test_bad_set(text):
    with pytest.raises(ScenarioError) as err:
        parse_set(text)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("text", ["behavior.promise_keep_rate", "x:0", "x:-1", "x:abc", "x:nan"])
def test_bad_param(text):
    with pytest.raises(ScenarioError):
        parse_param(text)


def test_a_swept_head_count_of_a_scaled_team_is_full_time_agents_on_its_ratio():
    scaled = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 5_000})  # 0.4 per 1,000: 2 callers
    variants, labels, _ = build_grid(scaled, [parse_set("teams.callers.agents=2,3,4.5")])
    callers = [v.teams["callers"] for v in variants]
    assert labels == ["agents=2", "agents=3", "agents=4.5"]
    # The ratio is kept (so an open book staffs it again on the measured book) and scaled to the head count.
    assert [c.agents_per_1000 for c in callers] == pytest.approx([0.4, 0.6, 0.9])
    assert [c.full_time_equivalents for c in callers] == pytest.approx([2, 3, 4.5])
    assert [c.agents for c in callers] == [2, 3, 5] and callers[2].part_time_share == pytest.approx(0.5)
    assert variants[0].content_hash == scaled.content_hash  # the base's own size is the base


def test_a_moved_scaled_team_keeps_its_part_timer_as_one_more_agent_does():
    from optimizer.allocation.lp import team_capacity
    from optimizer.allocation.search import one_more_agent

    small = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 3_000})  # 1.2 callers: one at 20 %
    assert small.teams["callers"].full_time_equivalents == pytest.approx(1.2)
    (low, high), _, moves = sensitivity_variants(small, [("teams.callers.agents", 1)])
    assert moves == [("teams.callers.agents", 1.2, pytest.approx(0.2), pytest.approx(2.2))]
    assert low.teams["callers"].full_time_equivalents == pytest.approx(0.2)
    assert (high.teams["callers"].agents, high.teams["callers"].part_time_share) == (3, pytest.approx(0.2))
    # One more agent in a sensitivity is the optimizer's one more agent (and the Capacity page's curve).
    assert team_capacity(high, 28) == pytest.approx(one_more_agent(small, "callers", 28))
    with pytest.raises(ScenarioError, match="base - step = -0.8 is not allowed") as err:
        sensitivity_variants(small, [("teams.callers.agents", 2)])
    assert "\n" not in str(err.value)


def test_grid_is_every_combination_validated(base):
    settings = [parse_set("strategy.steps.0.every_days=1,3,7"), parse_set("teams.callers.agents=20,40")]
    variants, labels, values = build_grid(base, settings)
    assert len(variants) == 6
    assert labels[0] == "every_days=1, agents=20" and labels[-1] == "every_days=7, agents=40"
    assert variants[-1].strategy.steps[0].every_days == 7 and variants[-1].teams["callers"].agents == 40
    assert values[1] == {"strategy.steps.0.every_days": 1, "teams.callers.agents": 40}


@pytest.mark.parametrize("text, match", [
    ("strategy.steps.0.evry_days=1,2", "no such field"),
    ("strategy.steps.99.every_days=1", "no such field"),
    ("teams.callers.agents=-5", "teams.callers.agents"),
    ("strategy.steps.0.every_days=fast", "every_days"),
])
def test_unknown_paths_and_bad_values_fail_before_running(base, text, match):
    with pytest.raises(ScenarioError, match=match) as err:
        build_grid(base, [parse_set(text)])
    assert str(err.value).startswith("--set")


def test_sweep_compares_each_variant_with_the_base(base):
    agents = base.teams["callers"].agents
    sweep = run_sweep(base, [parse_set(f"teams.callers.agents={agents},2")], 2, rng=5, executor=SERIAL)
    comparison = sweep.comparison
    assert sweep.labels == ["base", f"agents={agents}", "agents=2"]
    assert comparison.kind == "sweep"
    # A variant equal to the base is the base: a difference of exactly zero.
    assert comparison.difference(f"agents={agents}", "net_recovery").estimate.mean == 0.0
    fewer = comparison.difference("agents=2", "agent_utilization").estimate
    assert fewer.mean > 0
    fig = plots.sweep_tradeoff(sweep, x="cost")
    assert isinstance(fig, Figure)


def test_sensitivity_moves_one_parameter_at_a_time(base, tmp_path):
    params = [parse_param("behavior.promise_keep_rate:0.2"), parse_param("teams.callers.agents:5")]
    result = run_sensitivity(base, params, 2, rng=3, executor=SERIAL)
    assert [s.path for s in result.swings] == sorted([p for p, _ in params],
                                                     key=lambda p: -next(s.width for s in result.swings
                                                                         if s.path == p))
    keep = next(s for s in result.swings if s.path == "behavior.promise_keep_rate")
    assert (keep.low_value, keep.base_value, keep.high_value) == pytest.approx((0.4, 0.6, 0.8))
    agents = next(s for s in result.swings if s.path == "teams.callers.agents")
    n = base.teams["callers"].agents
    assert (agents.base_value, agents.low_value, agents.high_value) == (n, n - 5, n + 5)
    assert result.comparison.labels == ["base", "behavior.promise_keep_rate=0.4", "behavior.promise_keep_rate=0.8",
                                        f"teams.callers.agents={n - 5}", f"teams.callers.agents={n + 5}"]
    payload = result.to_json()
    assert payload["kpi"] == "net_recovery" and len(payload["swings"]) == 2
    out = tmp_path / "tornado.png"
    assert isinstance(plots.tornado(result, path=out), Figure)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sensitivity_steps_outside_the_allowed_range_are_refused(base):
    with pytest.raises(ScenarioError, match="base \\+ step = 1.1 is not allowed"):
        run_sensitivity(base, [parse_param("behavior.promise_keep_rate:0.5")], 1, executor=SERIAL)
    with pytest.raises(ScenarioError, match="whole"):
        run_sensitivity(base, [parse_param("teams.callers.agents:0.5")], 1, executor=SERIAL)
    with pytest.raises(ScenarioError, match="only numeric"):
        run_sensitivity(base, [parse_param("strategy.priority:1")], 1, executor=SERIAL)
    with pytest.raises(ScenarioError, match="unknown KPI"):
        run_sensitivity(base, [parse_param("teams.callers.agents:1")], 1, kpi="profit", executor=SERIAL)


def test_comparison_plots_return_figures_and_save(base, tmp_path):
    from sim.experiment import run_experiment

    other = load_scenario(SCENARIOS / "call_heavy.toml", {"simulation.accounts": 200, "simulation.days": 20})
    comparison = run_experiment([base, other], 2, rng=1, executor=SERIAL)
    for name, fig in {
        "curves": plots.recovery_curves(comparison),
        "bars": plots.kpi_bars(comparison),
        "scatter": plots.cost_vs_recovery(comparison),
        "roll": plots.roll_rate_heatmap(comparison.scenarios[0].roll_rates),
        "report": plots.comparison_report(comparison, path=tmp_path / "report.png"),
    }.items():
        assert isinstance(fig, Figure), name
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert [p.name for p in tmp_path.iterdir()] == ["report.png"]  # no temporary file left
    single = run_experiment([base], 1, rng=1, executor=SERIAL)
    assert isinstance(plots.comparison_report(single), Figure)  # one replication: no bands, still a chart
