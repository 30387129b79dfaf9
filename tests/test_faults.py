"""Faults: a crash loses no finished work, never counts a run twice, and never leaves half a run.

- A worker process killed mid-experiment: the local executor runs the units
  it took down again in a new pool (and a Dask cluster reschedules them);
  with retries switched off, the experiment stops and resumes from the store.
  Either way the Comparison equals an undisturbed one and the store holds
  each run once.
- A process killed mid-write — inside the store's transaction, or at a random
  moment — leaves the store consistent: every run has all its KPIs and
  series, nothing points at a missing run, and running the command again
  completes the experiment.
- The History page's reader reads the store while a sweep writes to it.

Workers are killed by an injected unit wrapper (:class:`DieOnce`) through
an executor subclass, so no production code knows about the tests.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

import duckdb
import numpy as np
import pytest

from sim.executors import DaskExecutor, LocalExecutor
from sim.experiment import run_experiment
from sim.metrics import SCALAR_KPIS
from sim.scenario import load_scenario
from sim.simulation import simulate
from sim.store import ResultStore

from simhelpers import ROOT, SCENARIOS

TINY = {"simulation.accounts": 200, "simulation.days": 20}
BASE = str(SCENARIOS / "baseline.toml")
# The reader-while-writing test only needs a sweep that runs a few seconds: a closed book without baseline's
# 150-day warm-up and arrivals keeps its 27 runs at 1,000 accounts that short (133 s on baseline, 15 s here).
CLOSED_BASE = str(SCENARIOS / "hawkes_baseline.toml")
GENTLE = str(SCENARIOS / "sms_gentle.toml")
CLI_SIZES = ["--accounts", "200", "--days", "20"]


class DieOnce:
    """A work unit that kills its own process the first time it sees replication ``rep``.

    The marker file is created atomically, so exactly one call dies however
    many processes run the units; the retried unit then runs normally.
    """

    def __init__(self, fn, marker: str, rep: int = 1):
        self.fn, self.marker, self.rep = fn, marker, rep

    def __call__(self, unit):
        if list(unit["spawn_key"]) == [self.rep]:
            try:
                os.close(os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
            except FileExistsError:
                pass
            else:
                os.kill(os.getpid(), signal.SIGKILL)
        return self.fn(unit)


class KillingLocalExecutor(LocalExecutor):
    def __init__(self, workers: int, marker: Path, **kwargs):
        super().__init__(workers, **kwargs)
        self.marker = str(marker)

    def map_unordered(self, fn, items):
        return super().map_unordered(DieOnce(fn, self.marker), items)


class KillingDaskExecutor(DaskExecutor):
    def __init__(self, workers: int, marker: Path):
        super().__init__(workers=workers)
        self.marker = str(marker)

    def map_unordered(self, fn, items):
        return super().map_unordered(DieOnce(fn, self.marker), items)


@pytest.fixture(scope="module")
def undisturbed(pair):
    return run_experiment(pair, 3, rng=12, executor=LocalExecutor(1))


def series_rows_per_run(days: int) -> int:
    """How many ``series`` rows one run of ``days`` days writes (every column of every daily series)."""
    result = simulate(load_scenario(BASE, {"simulation.accounts": 50, "simulation.days": days}), 1,
                      contact_log=False)
    return sum(np.asarray(v).reshape(days, -1).shape[1] * days for v in result.series.values())


def assert_consistent(path: Path, rows_per_run: int) -> dict[str, int]:
    """Every stored run is whole, nothing is orphaned or stored twice; returns the row counts."""
    with duckdb.connect(str(path), read_only=True) as con:
        one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        incomplete_kpis = one(f"SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM kpis k "
                              f"WHERE k.run_id = r.run_id) <> {len(SCALAR_KPIS)}")
        incomplete_series = one(f"SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM series s "
                                f"WHERE s.run_id = r.run_id) <> {rows_per_run}")
        orphan_kpis = one("SELECT count(*) FROM kpis WHERE run_id NOT IN (SELECT run_id FROM runs)")
        orphan_series = one("SELECT count(*) FROM series WHERE run_id NOT IN (SELECT run_id FROM runs)")
        orphan_links = one("SELECT count(*) FROM experiment_runs WHERE run_id NOT IN (SELECT run_id FROM runs) "
                           "OR experiment_id NOT IN (SELECT experiment_id FROM experiments)")
        twice = one("SELECT count(*) FROM (SELECT run_id, name, day, col FROM series GROUP BY ALL "
                    "HAVING count(*) > 1)")
        unlinked = one("SELECT count(*) FROM runs WHERE run_id NOT IN (SELECT run_id FROM experiment_runs)")
        counts = {t: one(f"SELECT count(*) FROM {t}") for t in ("runs", "kpis", "series", "experiment_runs")}
    assert (incomplete_kpis, incomplete_series, orphan_kpis, orphan_series, orphan_links, twice, unlinked) == (
        0, 0, 0, 0, 0, 0, 0), counts
    assert counts["kpis"] == counts["runs"] * len(SCALAR_KPIS)
    assert counts["series"] == counts["runs"] * rows_per_run
    return counts


def sim_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REPAYLAB_STORE"}
    env["PYTHONPATH"] = str(ROOT)
    return env


# ----------------------------------------------------------------------------- a worker dies


def test_a_killed_worker_is_replaced_and_its_units_run_again(pair, undisturbed, tmp_path):
    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    marker = tmp_path / "killed"
    comparison = run_experiment(pair, 3, rng=12, executor=KillingLocalExecutor(2, marker), store=store)
    assert marker.exists()  # a worker really died
    assert comparison.computed == 6 and comparison.reused == 0
    assert json.dumps(comparison.to_json()) == json.dumps(undisturbed.to_json())
    counts = assert_consistent(store.path, series_rows_per_run(20))
    assert counts["runs"] == counts["experiment_runs"] == 6
    [entry] = store.experiments()
    assert entry["status"] == "complete" and entry["runs"] == 6


def test_without_retries_the_experiment_stops_and_resumes_from_the_store(pair, undisturbed, tmp_path):
    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    with pytest.raises(BrokenProcessPool):
        run_experiment(pair, 3, rng=12, executor=KillingLocalExecutor(2, tmp_path / "killed", restarts=0),
                       store=store)
    assert store.experiments()[0]["status"] == "interrupted"
    stored = assert_consistent(store.path, series_rows_per_run(20))["runs"]
    assert stored < 6
    resumed = run_experiment(pair, 3, rng=12, executor=LocalExecutor(2), store=store)
    assert (resumed.reused, resumed.computed) == (stored, 6 - stored)
    assert json.dumps(resumed.to_json()) == json.dumps(undisturbed.to_json())
    counts = assert_consistent(store.path, series_rows_per_run(20))
    assert counts["runs"] == counts["experiment_runs"] == 6
    assert store.experiments()[0]["status"] == "complete"


def echo(unit):
    return unit


def test_a_worker_that_keeps_dying_is_given_up_after_the_retries(tmp_path):
    units = [{"spawn_key": [1]}] * 3
    markers = iter([tmp_path / "a", tmp_path / "b", tmp_path / "c"])

    class DiesEveryPool(LocalExecutor):
        def _run_pool(self, fn, items, queue):
            return super()._run_pool(DieOnce(fn, str(next(markers))), items, queue)

    executor = DiesEveryPool(2, restarts=1)
    with pytest.raises(BrokenProcessPool, match="died 2 times"):
        list(executor.map_unordered(echo, units))


def test_dask_reschedules_the_unit_of_a_killed_worker(pair, undisturbed, tmp_path):
    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    marker = tmp_path / "killed"
    with KillingDaskExecutor(2, marker) as executor:
        comparison = run_experiment(pair, 3, rng=12, executor=executor, store=store)
    assert marker.exists()
    assert json.dumps(comparison.to_json()) == json.dumps(undisturbed.to_json())
    counts = assert_consistent(store.path, series_rows_per_run(20))
    assert counts["runs"] == counts["experiment_runs"] == 6


# ----------------------------------------------------------------------------- a writer dies


DIE_IN_TRANSACTION = """
import os, signal, sys
from sim.store import ResultStore

real = ResultStore._write_series
saves = 0

def dying(self, con, run_id, series):
    global saves
    real(self, con, run_id, series)  # the run's rows are in, the transaction not committed
    saves += 1
    if saves == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)

ResultStore._write_series = dying
from sim.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_a_process_killed_inside_the_store_transaction_leaves_whole_runs(tmp_path):
    store = tmp_path / "runs.duckdb"
    args = ["compare", BASE, GENTLE, *CLI_SIZES, "--reps", "3", "--workers", "1", "--store", str(store), "--quiet",
            "--json"]
    killed = subprocess.run([sys.executable, "-c", DIE_IN_TRANSACTION, "3", *args], capture_output=True,
                            env=sim_env(), cwd=tmp_path, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    rows = series_rows_per_run(20)
    # A reader opens the file first, as the app would, with the killed writer's log still beside it.
    assert ResultStore(store).counts()["runs"] == 2
    assert assert_consistent(store, rows)["runs"] == 2  # the third run rolled back, whole
    finished = subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, env=sim_env(),
                              cwd=tmp_path, timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()
    counts = assert_consistent(store, rows)
    assert counts["runs"] == counts["experiment_runs"] == 6
    fresh = subprocess.run([sys.executable, "-m", "sim", *args[:-4], "--no-store", "--quiet", "--json"],
                           capture_output=True, env=sim_env(), cwd=tmp_path, timeout=300)
    assert finished.stdout == fresh.stdout


def test_a_command_killed_at_random_moments_leaves_a_consistent_store_that_completes(tmp_path):
    store = tmp_path / "runs.duckdb"
    args = [sys.executable, "-m", "sim", "compare", BASE, GENTLE, *CLI_SIZES, "--reps", "12", "--workers", "1",
            "--quiet", "--json"]
    rows = series_rows_per_run(20)
    moments = random.Random(20260801)
    stored, startup = [], None
    for _ in range(4):
        started = time.monotonic()
        proc = subprocess.Popen([*args, "--store", str(store)], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=sim_env(), cwd=tmp_path)
        try:
            # Kill while runs are being simulated and written: after the start-up (measured the
            # first time, as the time until the store appears), at a random moment.
            if startup is None:
                while not store.exists() and proc.poll() is None and time.monotonic() < started + 60:
                    time.sleep(0.01)
                startup = time.monotonic() - started
            else:
                time.sleep(startup)
            time.sleep(moments.uniform(0.0, 1.0))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        stored.append(assert_consistent(store, rows)["runs"])
    assert stored == sorted(stored)  # finished runs are never lost
    finished = subprocess.run([*args, "--store", str(store)], capture_output=True, env=sim_env(), cwd=tmp_path,
                              timeout=300)
    assert finished.returncode == 0, finished.stderr.decode()
    counts = assert_consistent(store, rows)
    assert counts["runs"] == counts["experiment_runs"] == 24
    fresh = subprocess.run([*args, "--no-store"], capture_output=True, env=sim_env(), cwd=tmp_path, timeout=300)
    assert finished.stdout == fresh.stdout


# ----------------------------------------------------------------------------- reading while a sweep writes


def test_the_history_reader_reads_the_store_while_a_sweep_writes(tmp_path):
    store_path = tmp_path / "runs.duckdb"
    sweep = subprocess.Popen(
        [sys.executable, "-m", "sim", "sweep", CLOSED_BASE, "--set", "strategy.steps.0.every_days=2,3,4,5",
         # Runs long enough (a few seconds) for the reader to get in many times between writes.
         "--set", "teams.callers.agents=4,8", "--accounts", "1000", "--days", "60", "--reps", "3", "--workers", "1",
         "--store", str(store_path), "--quiet", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=sim_env(), cwd=tmp_path)
    # The History page's reader: the same class, the same calls, the same lock timeout.
    store = ResultStore(store_path, lock_timeout=5.0)
    reads, seen_runs, seen_running = 0, 0, False
    try:
        while sweep.poll() is None:
            for entry in store.experiments():
                assert 0 <= entry["runs"] <= entry["runs_expected"] == 27
                assert entry["runs"] >= seen_runs  # nothing stored is ever lost
                seen_runs = entry["runs"]
                seen_running |= entry["status"] == "running"
                per_run = store.experiment_kpis(entry["id"])
                assert len(per_run) >= entry["runs"]  # read later, so at least as many
                if len(per_run):
                    assert not per_run.duplicated(["scenario_index", "rep"]).any()
                    assert per_run["collected"].notna().all()  # every listed run has its KPIs
                summary = store.experiment_summary(entry["id"])
                if entry["status"] == "complete":
                    assert summary is not None and entry["runs"] == 27
                reads += 1
            time.sleep(0.05)
        out, err = sweep.communicate(timeout=60)
    finally:
        if sweep.poll() is None:
            sweep.kill()
            sweep.wait()
    assert sweep.returncode == 0, err.decode()
    assert reads >= 3 and seen_running
    [entry] = store.experiments()
    assert entry["status"] == "complete" and entry["runs"] == 27
    assert json.loads(out)["scenarios"][0]["name"] == "base"


def test_the_history_page_says_the_store_is_busy_instead_of_failing(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    monkeypatch.setenv("REPAYLAB_STORE", str(store.path))
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(store.path)!r})  # a writer that keeps the file
        print("holding", flush=True)
        sys.stdin.readline()
    """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        at.switch_page("app_pages/history.py").run()
    finally:
        holder.communicate("done\n", timeout=30)
    assert not at.exception, at.exception
    # The page shows the store's path as plain text (Markdown-escaped); a reader sees it unescaped.
    [message] = [re.sub(r"\\(.)", r"\1", e.value) for e in at.error]
    assert "locked by another process" in message and str(store.path) in message
