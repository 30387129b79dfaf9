"""Determinism: the same scenario and seed give the same numbers, bit for bit, wherever they run.

The experiment tests already check that the Comparison agrees between one
and two local workers and a Dask LocalCluster, and that the KPIs and the
recovery curve survive the store. These tests go further: every KPI (nested
ones too), every daily series, the roll rates and the contact log of a run
are identical between repeated runs, between processes with different hash
seeds, and after a save to and load from the store whichever executor wrote
it; and the command line prints byte-identical JSON whether the runs were
simulated or reused.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sim.executors import DaskExecutor, LocalExecutor
from sim.experiment import run_experiment
from sim.metrics import _jsonable
from sim.scenario import load_scenario
from sim.simulation import simulate
from sim.store import ResultStore

from simhelpers import ROOT, SCENARIOS

TINY = {"simulation.accounts": 300, "simulation.days": 30}
SHIPPED = ("baseline", "sms_gentle", "call_heavy", "early_field", "cn_2025")


def tiny(name: str):
    return load_scenario(SCENARIOS / f"{name}.toml", TINY)


def run_digest(result) -> str:
    """A digest of everything a run reports: KPIs, series, roll rates, contact log."""
    digest = hashlib.sha256()
    digest.update(json.dumps(_jsonable(result.kpis), sort_keys=True).encode())
    for name in sorted(result.series):
        array = np.ascontiguousarray(result.series[name], dtype=np.float64)
        digest.update(name.encode() + str(array.shape).encode() + array.tobytes())
    digest.update(np.ascontiguousarray(result.roll_rates, dtype=np.float64).tobytes())
    log = result.contact_log
    if log is not None:
        for column in ("account", "minute", "channel", "outcome", "agent", "duration"):
            digest.update(np.ascontiguousarray(getattr(log, column)).tobytes())
    return digest.hexdigest()


def assert_same_run(a, b) -> None:
    assert json.dumps(_jsonable(a.kpis), sort_keys=True) == json.dumps(_jsonable(b.kpis), sort_keys=True)
    assert sorted(a.series) == sorted(b.series)
    for name in a.series:
        assert np.array_equal(a.series[name], b.series[name], equal_nan=True), name
    assert np.array_equal(a.roll_rates, b.roll_rates, equal_nan=True)
    assert (a.seed, a.scenario_hash, a.accounts, a.days) == (b.seed, b.scenario_hash, b.accounts, b.days)


# ----------------------------------------------------------------------------- one run


@pytest.mark.parametrize("name", SHIPPED)
def test_repeated_runs_are_identical_down_to_the_contact_log(name):
    scenario = tiny(name)
    first = simulate(scenario, 17)
    second = simulate(scenario, np.random.SeedSequence(17))  # an int and its SeedSequence are the same seed
    assert_same_run(first, second)
    assert len(first.contact_log) > 0
    for column in ("account", "minute", "channel", "outcome", "agent", "duration"):
        assert np.array_equal(getattr(first.contact_log, column), getattr(second.contact_log, column)), column
    assert run_digest(first) == run_digest(second)
    # The digest does see a different seed (the check above is not vacuous).
    assert run_digest(simulate(scenario, 18)) != run_digest(first)


DIGEST_SCRIPT = """
import sys
from sim.scenario import load_scenario
from sim.simulation import simulate
from test_determinism import TINY, run_digest
print(run_digest(simulate(load_scenario(sys.argv[1], TINY), 23)))
"""


def test_runs_in_fresh_processes_with_different_hash_seeds_are_identical():
    # Set and dict orders of strings change with PYTHONHASHSEED; nothing may depend on them.
    path = str(SCENARIOS / "call_heavy.toml")
    here = run_digest(simulate(load_scenario(path, TINY), 23))
    for hash_seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed,
               "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT)])}
        done = subprocess.run([sys.executable, "-c", DIGEST_SCRIPT, path], capture_output=True, text=True,
                              env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == here


# ----------------------------------------------------------------------------- the store


def stored_series(store: ResultStore, experiment_id: str) -> dict[tuple[int, int], dict[str, np.ndarray]]:
    """Every stored run's daily series, rebuilt as arrays, by (scenario index, replication)."""
    frame = store.experiment_series(experiment_id)
    runs: dict[tuple[int, int], dict[str, np.ndarray]] = {}
    for (index, rep, name), part in frame.groupby(["scenario_index", "rep", "name"], sort=True):
        days, cols = int(part["day"].max()) + 1, int(part["col"].max()) + 1
        array = np.full((days, cols), np.nan)
        array[part["day"].to_numpy(), part["col"].to_numpy()] = part["value"].to_numpy()
        runs.setdefault((int(index), int(rep)), {})[name] = array
    return runs


def stored_nested_kpis(store: ResultStore, experiment_id: str) -> dict[tuple[int, int], dict]:
    import duckdb

    with duckdb.connect(str(store.path), read_only=True) as con:
        rows = con.execute("SELECT l.scenario_index, l.rep, r.kpis_json FROM experiment_runs l "
                           "JOIN runs r USING (run_id) WHERE l.experiment_id = ?", [experiment_id]).fetchall()
    return {(i, k): json.loads(text) for i, k, text in rows}


def test_every_kpi_and_daily_series_survives_the_store_bit_for_bit(tmp_path):
    scenarios = [tiny("baseline"), tiny("call_heavy")]
    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    comparison = run_experiment(scenarios, 2, rng=31, executor=LocalExecutor(1), store=store)
    children = np.random.SeedSequence(31).spawn(2)
    series = stored_series(store, comparison.experiment_id)
    nested = stored_nested_kpis(store, comparison.experiment_id)
    scalars = store.experiment_kpis(comparison.experiment_id)
    assert set(series) == set(nested) == {(i, k) for i in range(2) for k in range(2)}
    for (i, k), stored in series.items():
        direct = simulate(scenarios[i], children[k], contact_log=False)
        assert sorted(stored) == sorted(direct.series)
        for name, values in direct.series.items():
            expected = np.asarray(values, dtype=np.float64).reshape(direct.days, -1)
            assert np.array_equal(stored[name], expected, equal_nan=True), (i, k, name)
        assert nested[(i, k)] == _jsonable(direct.kpis)  # json keeps every float exactly
        row = scalars[(scalars.scenario_index == i) & (scalars.rep == k)].iloc[0]
        for kpi, value in direct.scalar_kpis().items():
            assert row[kpi] == value or (np.isnan(row[kpi]) and np.isnan(value)), kpi

    # Loaded back, the comparison is the same object as the one computed.
    again = run_experiment(scenarios, 2, rng=31, executor=LocalExecutor(1), store=store)
    assert again.computed == 0
    assert json.dumps(again.to_json()) == json.dumps(comparison.to_json())


def _store_contents(store: ResultStore) -> dict[str, list]:
    """Every stored number, independent of insertion order and of when it was written."""
    import duckdb

    with duckdb.connect(str(store.path), read_only=True) as con:
        return {
            "runs": con.execute("SELECT run_id, scenario_hash, seed_entropy, seed_spawn_key, code_version, "
                                "accounts, days, kpis_json FROM runs ORDER BY run_id").fetchall(),
            "kpis": con.execute("SELECT * FROM kpis ORDER BY run_id, kpi").fetchall(),
            "series": con.execute("SELECT * FROM series ORDER BY run_id, name, day, col").fetchall(),
            "links": con.execute("SELECT * FROM experiment_runs ORDER BY ALL").fetchall(),
            "summary": con.execute("SELECT experiment_id, summary_json FROM experiments").fetchall(),
        }


def test_stores_written_by_different_executors_and_worker_counts_hold_the_same_numbers(tmp_path):
    scenarios = [load_scenario(SCENARIOS / f"{n}.toml", {"simulation.accounts": 200, "simulation.days": 20})
                 for n in ("baseline", "early_field")]
    contents = {}
    for label, make in (("serial", lambda: LocalExecutor(1)), ("two", lambda: LocalExecutor(2)),
                        ("dask", lambda: DaskExecutor(workers=2))):
        store = ResultStore(tmp_path / f"{label}.duckdb").ensure()
        with make() as executor:
            run_experiment(scenarios, 3, rng=5, executor=executor, store=store)
        contents[label] = _store_contents(store)
    assert len(contents["serial"]["runs"]) == 6 and len(contents["serial"]["series"]) > 0
    assert contents["two"] == contents["serial"]
    assert contents["dask"] == contents["serial"]


# ----------------------------------------------------------------------------- the command line


def test_compare_json_is_byte_identical_whether_simulated_or_reused(tmp_path):
    args = [sys.executable, "-m", "sim", "compare", str(SCENARIOS / "baseline.toml"),
            str(SCENARIOS / "sms_gentle.toml"), "--accounts", "300", "--days", "20", "--reps", "3", "--seed", "9",
            "--json", "--quiet"]
    env = {k: v for k, v in os.environ.items() if k != "REPAYLAB_STORE"}
    env["PYTHONPATH"] = str(ROOT)

    def compare(*extra: str) -> bytes:
        done = subprocess.run([*args, *extra], capture_output=True, cwd=tmp_path, env=env, timeout=300)
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    store = str(tmp_path / "runs.duckdb")
    simulated = compare("--workers", "1", "--store", store)
    assert compare("--workers", "1", "--store", store) == simulated  # every run reused from the store
    assert compare("--workers", "2", "--no-store") == simulated  # simulated again, in two worker processes
    assert json.loads(simulated)["reps"] == 3


# Closed books: the optimizer's valuation masks steps account by account, which an open book refuses.
@pytest.mark.parametrize("name", ["hawkes_baseline", "cn_2025"])
def test_step_masks_of_all_accounts_and_the_ledger_change_nothing_in_a_run(name):
    scenario = tiny(name)
    plain = simulate(scenario, 31)
    everyone = [np.ones(plain.accounts, dtype=bool)] * len(scenario.strategy.steps)
    masked = simulate(scenario, 31, step_accounts=everyone, ledger=True)
    assert run_digest(masked) == run_digest(plain)
    ledger = masked.ledger
    assert ledger.collected.sum() == pytest.approx(plain.kpis["collected"], rel=1e-12)
    spent = {item: float(v.sum()) for item, v in ledger.spend.items() if v.any()}
    assert spent == pytest.approx({k: v for k, v in plain.kpis["cost_by_item"].items() if k != "agent_time" and v})
    assert ledger.complaints.sum() == plain.kpis["complaints"]
    call_minutes = sum(m.sum() for team, m in ledger.minutes.items() if scenario.teams[team].kind == "call")
    assert call_minutes == pytest.approx(plain.series["agent_busy_minutes"].sum(), rel=1e-12)
    by_state = np.bincount(ledger.state_end, weights=ledger.balance_end, minlength=9)
    assert by_state == pytest.approx(plain.series["outstanding_by_bucket"][-1], rel=1e-9, abs=1e-6)
