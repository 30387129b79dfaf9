"""A champion/challenger run in the results store: its KPIs by strategy are kept, read back, reused and resumed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import pytest

from sim.arms_compare import compare_arms
from sim.cli import main
from sim.executors import LocalExecutor
from sim.experiment import record_run, replication_seeds, run_experiment
from sim.metrics import _jsonable
from sim.scenario import load_scenario
from sim.simulation import simulate

from simhelpers import SCENARIOS

SMALL = {"simulation.accounts": 300, "simulation.days": 15}
SERIAL = LocalExecutor(1)


@pytest.fixture(scope="module")
def cc():
    return load_scenario(SCENARIOS / "champion_challenger.toml", SMALL)


def test_a_stored_run_reads_back_its_kpis_by_strategy_and_tests(cc, store):
    result = simulate(cc, 7, contact_log=False)
    eid = record_run(store, cc, result)
    run_id = store.experiment_kpis(eid)["run_id"].iloc[0]
    back = store.load_runs([run_id])[run_id]
    assert back["kpis_by_strategy"] == _jsonable(result.kpis_by_strategy)
    assert back["strategy_tests"] == _jsonable(result.strategy_tests)
    assert list(back["kpis_by_strategy"]) == ["baseline", "sms_gentle"]  # the file's order
    assert store.counts()["strategy_kpis"] == 2


def test_compare_keeps_every_replications_strategies_and_reuses_them(cc, store):
    first = compare_arms(cc, 3, 5, executor=SERIAL, store=store)
    assert first.stored and first.reused == 0
    frame = store.experiment_strategy_kpis(first.experiment_id)
    assert len(frame) == 3 * 2 and set(frame["strategy"]) == {"baseline", "sms_gentle"}
    assert frame.loc[frame["champion"], "strategy"].unique().tolist() == ["baseline"]
    # The stored numbers are the ones the comparison summarised.
    _, seeds = replication_seeds(5, 3)
    by_rep = [simulate(cc, child, contact_log=False).kpis_by_strategy for child in seeds]
    for row in frame.itertuples():
        assert row.cash_per_account == pytest.approx(by_rep[row.rep][row.strategy]["cash_per_account"], rel=1e-12)
        assert row.agent_time_share == pytest.approx(by_rep[row.rep][row.strategy]["agent_time_share"], rel=1e-12)
    gentle = frame[frame["strategy"] == "sms_gentle"]["cure_rate"].mean()
    assert first.by_strategy["sms_gentle"]["cure_rate"].mean == pytest.approx(gentle, rel=1e-12)

    again = compare_arms(cc, 3, 5, executor=SERIAL, store=store)
    assert again.reused == 3  # nothing simulated again
    assert json.dumps(again.to_json()) == json.dumps(first.to_json())
    assert store.counts()["strategy_kpis"] == 6  # no duplicate rows


def test_a_run_stored_without_its_strategies_is_simulated_again_and_gains_them(cc, store):
    first = compare_arms(cc, 2, 5, executor=SERIAL, store=store)
    with duckdb.connect(str(store.path)) as con:  # a store written before the table existed
        con.execute("DELETE FROM strategy_kpis")
    again = compare_arms(cc, 2, 5, executor=SERIAL, store=store)
    assert again.reused == 0
    assert json.dumps(again.to_json()["kpis_by_strategy"]) == json.dumps(first.to_json()["kpis_by_strategy"])
    assert store.counts()["strategy_kpis"] == 4


def test_one_strategy_runs_store_no_strategy_rows(store):
    base = load_scenario(SCENARIOS / "baseline.toml", SMALL)
    comparison = run_experiment([base], 1, rng=2, executor=SERIAL, store=store)
    assert comparison.replications[0][0].kpis_by_strategy is None
    assert store.counts()["strategy_kpis"] == 0
    assert store.experiment_strategy_kpis(comparison.experiment_id).empty


def test_compare_on_a_file_with_a_store_says_where_it_is(tmp_path, capsys):
    path = tmp_path / "runs.duckdb"
    args = ["compare", str(SCENARIOS / "champion_challenger.toml"), "--reps", "2", "--accounts", "300",
            "--days", "15", "--store", str(path), "--quiet", "--workers", "1"]
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["experiment_id"] and set(payload["within_run_tests"]["sms_gentle"]) == {
        "cure_rate", "roll_past_30_rate", "cash_per_account"}
    tests = payload["within_run_tests"]["sms_gentle"]["cure_rate"]
    assert len(tests["runs"]) == 2 and 0 <= tests["significant_runs"] <= 2
    assert main(args) == 0
    assert f"stored as experiment {payload['experiment_id']} (2 of 2 runs reused)" in capsys.readouterr().out


# ----------------------------------------------------------------------------- the report


@pytest.fixture(scope="module")
def cc_stored(cc, tmp_path_factory):
    """A store holding a champion/challenger compare (3 reps) and a single champion/challenger run."""
    from sim.store import ResultStore

    store = ResultStore(tmp_path_factory.mktemp("ccreport") / "runs.duckdb").ensure()
    comparison = compare_arms(cc, 3, 11, executor=SERIAL, store=store)
    run_id = record_run(store, cc, simulate(cc, 4, contact_log=False))
    return store, comparison, run_id


def test_the_reports_strategy_numbers_are_the_stores(cc_stored):
    from test_report import assert_self_contained, embedded

    from sim.report import report_html

    store, comparison, _ = cc_stored
    page = report_html(store, comparison.experiment_id)
    assert_self_contained(page)
    assert 'id="strategies"' in page and re.search(r'<figure class="chart" id="chart-strategies"><svg', page)
    data = embedded(page)
    (cc,) = data["champion_challenger"]
    frame = store.experiment_strategy_kpis(comparison.experiment_id)
    assert cc["champion"] == "baseline" and cc["strategies"] == ["baseline", "sms_gentle"] and cc["reps"] == 3
    for name, kpis in cc["kpis_by_strategy"].items():
        rows = frame[frame["strategy"] == name]
        for kpi, est in kpis.items():
            assert est["mean"] == pytest.approx(float(rows[kpi].mean()), rel=1e-9, abs=1e-12), (name, kpi)
    champion = frame[frame["champion"]].set_index("rep")
    challenger = frame[frame["strategy"] == "sms_gentle"].set_index("rep")
    for kpi in ("cure_rate", "cash_per_account", "cost_per_account"):
        gap = float((challenger[kpi] - champion[kpi]).mean())
        assert cc["differences"]["sms_gentle"][kpi]["mean"] == pytest.approx(gap, rel=1e-9, abs=1e-12)
    # The report's numbers are compare's (one summariser), and the within-run tests are every replication's.
    assert cc["differences"] == comparison.to_json()["differences"]
    assert cc["within_run_tests"] == comparison.to_json()["within_run_tests"]
    assert len(cc["within_run_tests"]["sms_gentle"]["cash_per_account"]["runs"]) == 3
    # How much agent time the challenger took, against its share of the book.
    time = cc["kpis_by_strategy"]["sms_gentle"]["agent_time_share"]["mean"]
    assert time == pytest.approx(float(challenger["agent_time_share"].mean()), rel=1e-9)
    assert any(f"took {time:.1%} of the agents' time" in line for line in data["headline"])
    assert any("sms_gentle against the champion baseline" in line for line in data["headline"])


def test_a_single_champion_challenger_run_has_its_readout_and_the_title_says_so(cc_stored):
    from test_report import embedded

    from sim.report import report_html

    store, _, run_id = cc_stored
    page = report_html(store, run_id)
    data = embedded(page)
    (cc,) = data["champion_challenger"]
    stored = store.load_runs(store.experiment_kpis(run_id)["run_id"])
    (kpis,) = [run["kpis_by_strategy"] for run in stored.values()]
    assert cc["kpis_by_strategy"]["sms_gentle"]["cure_rate"]["mean"] == kpis["sms_gentle"]["cure_rate"]
    assert cc["kpis_by_strategy"]["sms_gentle"]["cure_rate"]["ci_low"] is None  # one replication
    assert "nothing to compare" not in " ".join(data["headline"])
    compare_page = report_html(store, cc_stored[1].experiment_id)
    assert "<title>Champion/challenger in one book: baseline vs sms_gentle</title>" in compare_page


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="/usr/bin/chromium is missing")
def test_the_champion_challenger_report_renders_in_chromium(cc_stored, tmp_path):
    from test_report import CHARTS, render_in_chromium

    from sim.report import report_html

    store, comparison, _ = cc_stored
    out = tmp_path / "report.html"
    out.write_text(report_html(store, comparison.experiment_id), encoding="utf-8")
    data = render_in_chromium(out, (*CHARTS, "strategies"))
    assert data["champion_challenger"][0]["within_run_tests"] == comparison.to_json()["within_run_tests"]


def test_export_writes_the_strategies_rows_and_refuses_a_plain_experiment(cc_stored, tmp_path, capsys):
    import pandas as pd

    store, comparison, _ = cc_stored
    out = tmp_path / "strategies.csv"
    assert main(["export", comparison.experiment_id, "--strategies", "--csv", str(out), "--store", str(store.path)]) == 0
    written = pd.read_csv(out)
    frame = store.experiment_strategy_kpis(comparison.experiment_id)
    assert list(written.columns) == list(frame.columns) and len(written) == 6
    assert written["cash_per_account"].tolist() == pytest.approx(frame["cash_per_account"].tolist(), rel=1e-12)

    base = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 100, "simulation.days": 5})
    plain = run_experiment([base], 1, rng=1, executor=SERIAL, store=store).experiment_id
    capsys.readouterr()
    assert main(["export", plain, "--strategies", "--csv", str(tmp_path / "x.csv"), "--store", str(store.path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no KPIs by strategy" in err and not (tmp_path / "x.csv").exists()
