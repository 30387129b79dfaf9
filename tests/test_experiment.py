"""Experiments: replication seeds, common random numbers, intervals, executors agree."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from sim.errors import ScenarioError
from sim.executors import LocalExecutor, make_executor
from sim.experiment import (
    distinct_labels,
    estimate,
    replication_seeds,
    run_experiment,
    t_interval,
)
from sim.metrics import SCALAR_KPIS
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

TINY = {"simulation.accounts": 300, "simulation.days": 30}
SERIAL = LocalExecutor(1)


def tiny(name: str, **extra):
    return load_scenario(SCENARIOS / f"{name}.toml", {**TINY, **extra})


@pytest.fixture(scope="module")
def pair():
    return tiny("baseline"), tiny("sms_gentle")


# ----------------------------------------------------------------------------- statistics


def test_t_interval_matches_scipy():
    values = [3.0, 5.0, 4.0, 8.0, 6.0]
    mean, low, high = t_interval(values)
    ref_low, ref_high = stats.t.interval(0.95, 4, loc=np.mean(values), scale=stats.sem(values))
    assert mean == pytest.approx(5.2)
    assert (low, high) == pytest.approx((ref_low, ref_high))


def test_one_value_has_no_interval_and_constant_values_a_point_interval():
    e = estimate([7.0])
    assert e.mean == 7.0 and math.isnan(e.ci_low) and math.isnan(e.ci_high)
    assert not e.significant
    assert e.to_json() == {"mean": 7.0, "ci_low": None, "ci_high": None}
    c = estimate([2.0, 2.0, 2.0])
    assert (c.ci_low, c.ci_high) == (2.0, 2.0) and c.significant


def test_interval_by_day_for_curves():
    curves = np.array([[0.0, 1.0], [0.0, 3.0]])
    mean, low, high = t_interval(curves)
    assert mean.tolist() == [0.0, 2.0]
    assert low[0] == high[0] == 0.0 and low[1] < 2.0 < high[1]


# ----------------------------------------------------------------------------- seeds


def test_replication_seeds_are_spawned_children_independent_of_count():
    root = np.random.SeedSequence(11)
    seed, children = replication_seeds(root, 3)
    _, more = replication_seeds(root, 5)
    assert seed == {"entropy": 11, "spawn_key": []}
    assert [c.spawn_key for c in children] == [(0,), (1,), (2,)]
    assert [c.spawn_key for c in more[:3]] == [(0,), (1,), (2,)]
    expected = np.random.SeedSequence(11).spawn(3)
    assert [c.generate_state(4).tolist() for c in children] == [c.generate_state(4).tolist() for c in expected]
    assert root.n_children_spawned == 0  # the caller's SeedSequence is left alone


def test_every_scenario_gets_the_same_seed_in_a_replication(pair, monkeypatch):
    import sim.simulation

    seen = []
    real = sim.simulation.simulate

    def spy(scenario, rng=None, **kwargs):
        seen.append((scenario.display_name, rng.entropy, rng.spawn_key, kwargs.get("contact_log")))
        return real(scenario, rng, **kwargs)

    monkeypatch.setattr(sim.simulation, "simulate", spy)
    run_experiment(pair, 2, rng=5, executor=SERIAL)
    by_seed = {}
    for name, entropy, key, contact_log in seen:
        assert contact_log is False
        by_seed.setdefault((entropy, key), set()).add(name)
    assert by_seed == {(5, (0,)): {"baseline", "sms_gentle"}, (5, (1,)): {"baseline", "sms_gentle"}}


def test_same_seed_same_numbers_and_default_root_is_champion_seed(pair):
    a = run_experiment(pair, 2, executor=SERIAL)
    b = run_experiment(pair, 2, rng=pair[0].simulation.seed, executor=SERIAL)
    assert json.dumps(a.to_json()) == json.dumps(b.to_json())
    c = run_experiment(pair, 2, rng=pair[0].simulation.seed + 1, executor=SERIAL)
    assert a.to_json()["scenarios"][0]["kpis"]["collected"] != c.to_json()["scenarios"][0]["kpis"]["collected"]


# ----------------------------------------------------------------------------- common random numbers


def _variance_ratios(reps: int = 20) -> dict[str, float]:
    """Variance of challenger − champion under independent seeds ÷ under common random numbers."""
    # Two similar strategies: SMS every 5 days vs every 3 days.
    # No warm-up: both strategies meet the same book at the start (with one, each works its own first).
    a = tiny("baseline").with_overrides({"simulation.warmup_days": 0})
    b = a.with_overrides({"strategy.steps.0.every_days": 3, "name": "sms_every_3"})
    crn = run_experiment([a, b], reps, rng=1, executor=SERIAL)
    alone = run_experiment([b], reps, rng=1001, executor=SERIAL)  # the challenger on its own seeds
    ratios = {}
    for kpi in ("net_recovery", "charge_off_rate", "initial_balance"):
        champion = crn.values("baseline", kpi)
        paired = crn.values("sms_every_3", kpi) - champion
        independent = alone.values("sms_every_3", kpi) - champion
        ratios[kpi] = independent.var(ddof=1) / max(paired.var(ddof=1), 1e-12)
        assert crn.difference("sms_every_3", kpi).estimate.mean == pytest.approx(paired.mean())
    return ratios


@pytest.fixture(scope="module")
def variance_ratios():
    return _variance_ratios()


def test_common_random_numbers_reduce_the_variance_of_differences(variance_ratios):
    # Both strategies meet the same accounts: the book's noise cancels exactly ...
    assert variance_ratios["initial_balance"] > 1e6
    # ... and the borrowers' payment draws are shared, so the paired difference is far less noisy.
    assert variance_ratios["net_recovery"] >= 2.0, variance_ratios
    assert variance_ratios["charge_off_rate"] >= 2.0, variance_ratios


def test_a_scenario_against_itself_differs_by_exactly_zero():
    a = tiny("baseline")
    same = a.with_overrides({"name": "copy"})
    comparison = run_experiment([a, same], 3, rng=1, executor=SERIAL)
    for kpi in SCALAR_KPIS:
        d = comparison.difference("copy", kpi).estimate
        assert d.mean == 0.0 and d.ci_low == 0.0 and d.ci_high == 0.0


# ----------------------------------------------------------------------------- the comparison


def test_comparison_json_shape(pair):
    comparison = run_experiment(pair, 3, rng=3, executor=SERIAL)
    payload = json.loads(json.dumps(comparison.to_json(), allow_nan=False))
    assert [s["name"] for s in payload["scenarios"]] == ["baseline", "sms_gentle"]
    for s in payload["scenarios"]:
        assert set(s["kpis"]) == set(SCALAR_KPIS)
        for e in s["kpis"].values():
            assert set(e) == {"mean", "ci_low", "ci_high"}
            assert e["ci_low"] <= e["mean"] <= e["ci_high"]
    assert len(payload["differences"]) == len(SCALAR_KPIS)
    d = payload["differences"][0]
    assert {"challenger", "champion", "kpi", "mean", "ci_low", "ci_high", "significant"} <= set(d)
    assert d["challenger"] == "sms_gentle" and d["champion"] == "baseline"
    assert payload["reps"] == 3
    mean, low, high = comparison.scenarios[0].recovery_curve
    assert mean.shape == (30,) and np.all(low <= mean) and np.all(mean <= high)
    assert np.all(np.diff(mean) >= 0)


def test_one_replication_gives_null_intervals(pair):
    payload = run_experiment(pair, 1, rng=3, executor=SERIAL).to_json()
    text = json.dumps(payload, allow_nan=False)
    assert '"ci_low": null' in text
    assert all(d["significant"] is False for d in payload["differences"])


def test_bad_reps_and_labels(pair):
    for reps in (0, -1, 1.5, True):
        with pytest.raises(ScenarioError, match="reps"):
            run_experiment(pair, reps, executor=SERIAL)
    with pytest.raises(ScenarioError, match="label"):
        run_experiment(pair, 1, executor=SERIAL, labels=["same", "same"])


def test_same_names_get_distinct_labels(tmp_path):
    for name in ("north", "south"):
        (tmp_path / f"{name}.toml").write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n')
    scenarios = [load_scenario(tmp_path / f"{n}.toml") for n in ("north", "south")]
    assert distinct_labels(scenarios) == ["north", "south"]
    a = tiny("baseline")
    assert distinct_labels([a, a, a]) == ["baseline#1", "baseline#2", "baseline#3"]


# ----------------------------------------------------------------------------- executors


def test_local_executors_agree_bit_for_bit(pair):
    one = run_experiment(pair, 3, rng=8, executor=LocalExecutor(1))
    two = run_experiment(pair, 3, rng=8, executor=LocalExecutor(2))
    assert json.dumps(one.to_json()) == json.dumps(two.to_json())
    for a, b in zip(one.replications, two.replications, strict=True):
        for ra, rb in zip(a, b, strict=True):
            assert ra.kpis == rb.kpis
            assert np.array_equal(ra.recovery_curve, rb.recovery_curve)


def test_make_executor_checks_its_settings():
    assert make_executor("local", workers=3).workers == 3
    with pytest.raises(ScenarioError, match="unknown executor"):
        make_executor("spark")
    with pytest.raises(ScenarioError, match="--scheduler"):
        make_executor("local", scheduler="tcp://x:8786")


def test_the_code_version_digests_the_simulator_but_not_its_command_lines():
    from sim.experiment import simulation_sources

    names = {"/".join(p.parts[-2:]) for p in simulation_sources()}
    assert {"engine/__init__.py", "engine/calls.py", "sim/behavior.py", "sim/metrics.py", "sim/domain.py",
            "sim/card_terms.py"} <= names
    assert not any(p.parent.name == "cli" or p.stem in ("experiment", "store", "executors")
                   for p in simulation_sources())
