"""``python -m sim report`` on a stored sensitivity experiment shows its tornado, with the store's numbers."""

from __future__ import annotations

import re

import pytest
from test_report import assert_self_contained, embedded

from sim.executors import LocalExecutor
from sim.report import report_html
from sim.scenario import load_scenario
from sim.store import ResultStore
from sim.sweep import parse_param, run_sensitivity

from simhelpers import SCENARIOS


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    store = ResultStore(tmp_path_factory.mktemp("tornado") / "runs.duckdb").ensure()
    # baseline's callers scale with the book: 4 per 1,000 of 250 accounts is one full-time caller, so a step
    # of 1 (a swept head count of a scaled team is full-time agents on its ratio: 0 and 2).
    base = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 250, "simulation.days": 10,
                                                       "teams.callers.agents_per_1000": 4})
    params = [parse_param("teams.callers.agents:1"), parse_param("behavior.promise_keep_rate:0.1")]
    result = run_sensitivity(base, params, 2, kpi="collected", rng=1, executor=LocalExecutor(1), store=store)
    return store, result


def test_the_sensitivity_report_has_the_tornado_widest_first(stored):
    store, result = stored
    page = report_html(store, result.comparison.experiment_id)
    assert_self_contained(page)
    assert re.search(r'<figure class="chart" id="chart-tornado"><svg', page) and 'id="tornado"' in page
    data = embedded(page)["sensitivity"]
    assert data == {k: v for k, v in result.to_json().items() if k != "comparison"}  # what the command computed
    assert data["kpi"] == "collected"
    widths = [abs(s["high"]["mean"] - s["low"]["mean"]) for s in data["swings"]]
    assert widths == sorted(widths, reverse=True)
    assert {s["param"] for s in data["swings"]} == {"teams.callers.agents", "behavior.promise_keep_rate"}
    first = embedded(page)["headline"][0]
    assert first.startswith(f"Of 2 parameters, {data['swings'][0]['param']} moves collected most")


def test_the_tornados_changes_are_the_stored_differences(stored):
    store, result = stored
    eid = result.comparison.experiment_id
    frame = store.experiment_kpis(eid)
    base = frame[frame["scenario_index"] == 0].set_index("rep")["collected"]
    swing = next(s for s in embedded(report_html(store, eid))["sensitivity"]["swings"]
                 if s["param"] == "teams.callers.agents")
    assert (swing["low_value"], swing["high_value"]) == (swing["base_value"] - 1, swing["base_value"] + 1)
    for side in ("low", "high"):
        label = f"teams.callers.agents={swing[side + '_value']:g}"  # labelled as the command prints values
        moved = frame[frame["label"] == label].set_index("rep")["collected"]
        assert swing[side]["mean"] == pytest.approx(float((moved - base).mean()), abs=0.005)


def test_a_run_report_has_no_tornado(tmp_path):
    from sim.experiment import run_experiment

    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    base = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 100, "simulation.days": 5})
    comparison = run_experiment([base], 1, rng=1, executor=LocalExecutor(1), store=store)
    page = report_html(store, comparison.experiment_id)
    assert "chart-tornado" not in page and "sensitivity" not in embedded(page)
