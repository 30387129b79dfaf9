"""The results store: round trip, reuse, resume after an interruption, whole runs only."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import duckdb
import numpy as np
import pytest

import sim.simulation
from sim.errors import ScenarioError
from sim.executors import LocalExecutor
from sim.experiment import code_version, run_experiment
from sim.metrics import SCALAR_KPIS
from sim.store import STORE_ENV, ResultStore, resolve_store_path
from sim.sweep import run_sweep

TINY = {"simulation.accounts": 200, "simulation.days": 20}
SERIAL = LocalExecutor(1)


@pytest.fixture
def count_runs(monkeypatch):
    """Counts the simulations actually run (in this process)."""
    calls = []
    real = sim.simulation.simulate

    def counting(*args, **kwargs):
        calls.append(args[0].display_name)
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.simulation, "simulate", counting)
    return calls


def test_store_path_from_option_environment_or_default(monkeypatch, tmp_path):
    monkeypatch.delenv(STORE_ENV, raising=False)
    assert str(resolve_store_path()) == "runs.duckdb"
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "env.duckdb"))
    assert resolve_store_path() == tmp_path / "env.duckdb"
    assert resolve_store_path(tmp_path / "x.duckdb") == tmp_path / "x.duckdb"


def test_round_trip_and_reuse(pair, store, count_runs):
    first = run_experiment(pair, 3, rng=4, executor=SERIAL, store=store)
    assert (first.computed, first.reused) == (6, 0) and len(count_runs) == 6
    counts = store.counts()
    assert counts["runs"] == 6 and counts["experiments"] == 1 and counts["experiment_runs"] == 6
    assert counts["kpis"] == 6 * len(SCALAR_KPIS)
    assert counts["series"] > 0

    again = run_experiment(pair, 3, rng=4, executor=SERIAL, store=store)
    assert (again.computed, again.reused) == (0, 6) and len(count_runs) == 6  # nothing simulated
    assert json.dumps(again.to_json()) == json.dumps(first.to_json())
    for a, b in zip(first.replications, again.replications, strict=True):
        for ra, rb in zip(a, b, strict=True):
            assert ra.kpis == rb.kpis
            assert np.array_equal(ra.recovery_curve, rb.recovery_curve)
            assert np.array_equal(ra.roll_rates, rb.roll_rates) and ra.contacts == rb.contacts
    assert store.counts() == counts  # idempotent: no new rows

    # More replications reuse the first ones; a new scenario reuses the shared champion.
    more = run_experiment(pair, 4, rng=4, executor=SERIAL, store=store)
    assert (more.computed, more.reused) == (2, 6)
    assert store.counts()["runs"] == 8 and store.counts()["experiments"] == 2


def test_stored_rows_are_the_run(pair, store):
    comparison = run_experiment(pair[:1], 1, rng=9, executor=SERIAL, store=store)
    direct = sim.simulation.simulate(pair[0], np.random.SeedSequence(9).spawn(1)[0], contact_log=False)
    kpis = store.experiment_kpis(comparison.experiment_id)
    assert len(kpis) == 1
    row = kpis.iloc[0]
    assert row["seed_entropy"] == "9" and json.loads(row["seed_spawn_key"]) == [0]
    assert row["code_version"] == code_version() and row["scenario_hash"] == pair[0].content_hash
    for k in SCALAR_KPIS:
        assert row[k] == pytest.approx(direct.kpis[k], rel=0, abs=0) or (np.isnan(row[k]) and np.isnan(direct.kpis[k]))
    series = store.experiment_series(comparison.experiment_id)
    collected = series[series["name"] == "collected"].sort_values("day")["value"].to_numpy()
    assert np.array_equal(collected, direct.series["collected"])
    buckets = series[series["name"] == "outstanding_by_bucket"]
    assert len(buckets) == direct.series["outstanding_by_bucket"].size


def test_history_lists_experiments(pair, store):
    comparison = run_experiment(pair, 2, rng=1, executor=SERIAL, store=store)
    [entry] = store.experiments()
    assert entry["id"] == comparison.experiment_id and entry["status"] == "complete"
    assert entry["scenarios"] == ["baseline", "sms_gentle"] and entry["runs"] == entry["runs_expected"] == 4
    assert store.find_experiment(comparison.experiment_id[:5])["id"] == comparison.experiment_id
    assert store.experiment_summary(comparison.experiment_id)["differences"]
    with pytest.raises(ScenarioError, match="no stored experiment"):
        store.find_experiment("nope")


def test_a_crash_mid_write_leaves_no_half_run(pair, store, monkeypatch):
    def crash(self, con, run_id, series):
        con.execute("INSERT INTO series VALUES (?, 'collected', 0, 0, 1.0)", [run_id])
        raise OSError("disk full")

    monkeypatch.setattr(ResultStore, "_write_series", crash)
    with pytest.raises(OSError, match="disk full"):
        run_experiment(pair, 2, rng=3, executor=SERIAL, store=store)
    counts = store.counts()
    assert counts["runs"] == counts["kpis"] == counts["series"] == counts["experiment_runs"] == 0
    assert store.experiments()[0]["status"] == "interrupted"
    monkeypatch.undo()
    resumed = run_experiment(pair, 2, rng=3, executor=SERIAL, store=store)
    assert resumed.computed == 4 and store.counts()["runs"] == 4


class Interrupt(Exception):
    pass


def test_an_interrupted_sweep_resumes_without_duplicate_or_lost_runs(pair, tmp_path):
    base = pair[0]
    settings = [("strategy.steps.0.every_days", [2, 4]), ("teams.callers.agents", [5, 20])]
    reps, units = 2, (1 + 4) * 2
    reference = run_sweep(base, settings, reps, rng=6, executor=SERIAL).comparison

    store = ResultStore(tmp_path / "sweep.duckdb").ensure()

    def stop_after(k):
        def progress(done, total):
            assert total == units
            if done >= k:
                raise Interrupt()
        return progress

    with LocalExecutor(2) as executor, pytest.raises(Interrupt):
        run_sweep(base, settings, reps, rng=6, executor=executor, store=store, progress=stop_after(4))
    stored = store.counts()["runs"]
    assert 4 <= stored < units
    assert store.experiments()[0]["status"] == "interrupted"

    resumed = run_sweep(base, settings, reps, rng=6, executor=SERIAL, store=store).comparison
    assert resumed.reused == stored and resumed.computed == units - stored
    counts = store.counts()
    assert counts["runs"] == units and counts["experiment_runs"] == units
    with duckdb.connect(str(store.path), read_only=True) as con:
        assert con.execute("SELECT count(DISTINCT run_id) FROM runs").fetchone()[0] == units
        dupes = con.execute("SELECT count(*) FROM (SELECT run_id, name, day, col FROM series "
                            "GROUP BY ALL HAVING count(*) > 1)").fetchone()[0]
        assert dupes == 0
    assert json.dumps(resumed.to_json()) == json.dumps(reference.to_json())
    assert store.experiments()[0]["status"] == "complete"


def test_writer_waits_for_a_reader_holding_the_file(pair, store):
    # Another process (the app) reads the store for a moment; the writer retries until it can write.
    reader = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, time
            con = duckdb.connect({str(store.path)!r}, read_only=True)
            print(con.execute("SELECT count(*) FROM runs").fetchone()[0], flush=True)
            time.sleep(1.0)
            con.close()
        """)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == "0"
        comparison = run_experiment(pair[:1], 1, rng=2, executor=SERIAL, store=store)
    finally:
        reader.wait(timeout=30)
    assert comparison.computed == 1 and store.counts()["runs"] == 1


def test_bad_store_paths(tmp_path):
    with pytest.raises(ScenarioError, match="does not exist"):
        ResultStore(tmp_path / "missing" / "runs.duckdb").ensure()
    with pytest.raises(ScenarioError, match="is a directory"):
        ResultStore(tmp_path).ensure()
    junk = tmp_path / "junk.duckdb"
    junk.write_text("this is not a database\n" * 100)
    with pytest.raises(ScenarioError, match="not a repaylab results store"):
        ResultStore(junk).ensure()
    assert junk.read_text().startswith("this is not a database")


def test_reading_an_absent_store_finds_nothing(tmp_path):
    store = ResultStore(tmp_path / "none.duckdb")
    assert store.experiments() == [] and store.load_runs(["x"]) == {} and store.counts() == {}
    assert not store.path.exists()


def test_an_experiment_is_renamed_and_the_name_is_one_line(pair, store):
    comparison = run_experiment(pair, 2, rng=1, executor=SERIAL, store=store)
    assert store.experiments()[0]["label"] is None
    assert store.rename_experiment(comparison.experiment_id, "  March   test ") == "March test"
    assert store.experiments()[0]["label"] == "March test"
    for bad, message in (("two\nlines", "one line"), ("x" * 121, "at most 120")):
        with pytest.raises(ScenarioError, match=message):
            store.rename_experiment(comparison.experiment_id, bad)
    assert store.experiments()[0]["label"] == "March test"  # a refused name changes nothing
    store.rename_experiment(comparison.experiment_id, "")
    assert store.experiments()[0]["label"] is None
    with pytest.raises(ScenarioError, match="no stored experiment 'nope'") as err:
        store.rename_experiment("nope", "x")
    assert "\n" not in str(err.value)


def test_deleting_an_experiment_keeps_the_runs_another_one_uses(pair, store):
    both = run_experiment(pair, 2, rng=1, executor=SERIAL, store=store)
    alone = run_experiment(pair[:1], 2, rng=1, executor=SERIAL, store=store)  # reuses baseline's two runs
    store.rename_experiment(both.experiment_id, "both")
    assert store.counts()["runs"] == 4

    assert store.delete_experiment(both.experiment_id) == {"experiments": 1, "runs": 2, "scenarios": 1}
    assert [e["id"] for e in store.experiments()] == [alone.experiment_id]
    counts = store.counts()
    assert counts["runs"] == 2 and counts["experiment_runs"] == 2 and counts["kpis"] == 2 * len(SCALAR_KPIS)
    kept = store.experiment_kpis(alone.experiment_id)
    assert len(kept) == 2 and store.load_runs(kept["run_id"]).keys() == set(kept["run_id"])
    again = run_experiment(pair[:1], 2, rng=1, executor=SERIAL, store=store)
    assert again.reused == 2  # the surviving runs are whole: read back, not simulated

    assert store.delete_experiment(alone.experiment_id)["runs"] == 2  # the last user of its runs
    assert store.experiments() == [] and store.counts()["runs"] == store.counts()["kpis"] == 0
    with duckdb.connect(str(store.path), read_only=True) as con:
        labels = con.execute("SELECT count(*) FROM experiment_labels").fetchone()[0]
        orphans = con.execute("SELECT count(*) FROM series WHERE run_id NOT IN (SELECT run_id FROM runs)").fetchone()
    assert labels == 0 and orphans[0] == 0
    with pytest.raises(ScenarioError, match="no stored experiment"):
        store.delete_experiment(both.experiment_id)
