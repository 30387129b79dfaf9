"""``python -m sim compare | sweep | sensitivity | history | export`` end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from sim.cli import main
from sim.metrics import SCALAR_KPIS

from simhelpers import ROOT, SCENARIOS

BASE = str(SCENARIOS / "baseline.toml")
GENTLE = str(SCENARIOS / "sms_gentle.toml")
TINY = ["--accounts", "300", "--days", "20", "--reps", "3", "--workers", "1"]


def sim_cli(*args: str, cwd, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    env.pop("REPAYLAB_STORE", None)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd, env=env,
                          timeout=300)


def test_compare_table_json_csv_plot_store_history_export(tmp_path, monkeypatch, capsys):
    done = sim_cli("compare", BASE, GENTLE, *TINY, "--csv", "out.csv", "--plot", "out.png", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "baseline" in out and "sms_gentle" in out and "net recovery" in out
    assert "sms_gentle − baseline" in out and "95% confidence interval" in out
    assert "6 runs simulated, 0 reused" in out
    assert (tmp_path / "runs.duckdb").is_file()  # the default store, in the working directory
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"
    rows = pd.read_csv(tmp_path / "out.csv")
    assert set(rows["kind"]) == {"scenario", "difference"} and len(rows) == 3 * len(SCALAR_KPIS)

    again = sim_cli("compare", BASE, GENTLE, *TINY, "--json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    payload = json.loads(again.stdout)  # stdout is JSON only
    assert [s["name"] for s in payload["scenarios"]] == ["baseline", "sms_gentle"]
    assert set(payload["scenarios"][0]["kpis"]["net_recovery"]) == {"mean", "ci_low", "ci_high"}
    d = payload["differences"][0]
    assert {"challenger", "champion", "kpi", "mean", "ci_low", "ci_high"} <= set(d)
    first_table_mean = rows[(rows.kind == "scenario") & (rows.kpi == "collected")]["mean"].tolist()
    assert [s["kpis"]["collected"]["mean"] for s in payload["scenarios"]] == pytest.approx(first_table_mean,
                                                                                          rel=1e-12)

    history = sim_cli("history", "--json", cwd=tmp_path)
    assert history.returncode == 0, history.stderr
    [entry] = json.loads(history.stdout)["experiments"]  # the same experiment, run twice
    assert entry["status"] == "complete" and entry["runs"] == 6
    exported = sim_cli("export", entry["id"], "--parquet", "kpis.parquet", cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr
    frame = pd.read_parquet(tmp_path / "kpis.parquet")
    assert len(frame) == 6 and "net_recovery" in frame and set(frame["label"]) == {"baseline", "sms_gentle"}

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPAYLAB_STORE", raising=False)
    assert main(["history"]) == 0
    readable = capsys.readouterr().out
    assert entry["id"] in readable and "compare" in readable and "6/6" in readable
    assert main(["export", entry["id"][:6], "--csv", "series.csv", "--series"]) == 0
    assert {"name", "day", "value"} <= set(pd.read_csv(tmp_path / "series.csv").columns)


def test_sweep_and_sensitivity_with_an_explicit_store(tmp_path, capsys):
    store = tmp_path / "lab.duckdb"
    sweep = sim_cli("sweep", BASE, "--set", "strategy.steps.0.every_days=2,7", "--set", "teams.callers.agents=4,12",
                    *TINY, "--reps", "2", "--store", str(store), "--plot", "sweep.png", "--json", cwd=tmp_path)
    assert sweep.returncode == 0, sweep.stderr
    payload = json.loads(sweep.stdout)
    assert len(payload["scenarios"]) == 5 and payload["grid"][1]["values"] == {
        "strategy.steps.0.every_days": 2, "teams.callers.agents": 4}
    assert (tmp_path / "sweep.png").is_file()

    sens = sim_cli("sensitivity", BASE, "--param", "behavior.promise_keep_rate:0.1", "--param",
                   "teams.callers.agents:0.1", *TINY, "--reps", "2", "--plot", "tornado.png",  # 0.12 callers at 300
                   cwd=tmp_path, env_extra={"REPAYLAB_STORE": str(store)})
    assert sens.returncode == 0, sens.stderr
    assert "behavior.promise_keep_rate" in sens.stdout and "swing" in sens.stdout
    assert (tmp_path / "tornado.png").is_file()
    assert main(["history", "--json", "--store", str(store)]) == 0
    kinds = {e["kind"] for e in json.loads(capsys.readouterr().out)["experiments"]}
    assert kinds == {"sweep", "sensitivity"}
    assert not (tmp_path / "runs.duckdb").exists()


def test_bad_input_is_one_line_exit_2_and_stores_nothing_subprocess(tmp_path):
    done = sim_cli("compare", BASE, str(tmp_path / "missing.toml"), *TINY, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ") and "missing.toml" in done.stderr
    assert done.stdout == "" and not (tmp_path / "runs.duckdb").exists()


@pytest.mark.parametrize("args, message", [
    (["compare", BASE, "--reps", "0"], "--reps"),
    (["compare", BASE, "--reps", "many"], "--reps"),
    (["compare", BASE, "--workers", "0"], "--workers"),
    (["compare", BASE, "--executor", "spark"], "unknown executor"),
    (["compare", BASE, "--store", "/no/such/dir/runs.duckdb"], "does not exist"),
    (["compare", BASE, "--plot", "/no/such/dir/p.png"], "--plot"),
    (["compare", str(SCENARIOS / "household.toml")], "household.toml"),
    (["sweep", BASE], "--set"),
    (["sweep", BASE, "--set", "strategy.steps.0.evry_days=1,2"], "no such field"),
    (["sweep", BASE, "--set", "teams.callers.agents=-1"], "teams.callers.agents"),
    (["sweep", BASE, "--set", "teams.callers.agents"], "PATH=VALUE"),
    (["sensitivity", BASE, "--param", "behavior.promise_keep_rate:0.9"], "not allowed"),
    (["sensitivity", BASE], "--param"),
    (["history", "--store", "."], "directory"),
    (["export", "e123", "--csv", "x.csv"], "no results store"),
])
def test_bad_input_fails_before_anything_runs(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPAYLAB_STORE", raising=False)
    code = main([*args, "--accounts", "100", "--days", "5"] if args[0] in {"compare", "sweep", "sensitivity"}
                else args)
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
    assert list(tmp_path.iterdir()) == []  # no store, no output


def test_export_of_an_unknown_experiment(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["compare", BASE, "--accounts", "100", "--days", "5", "--reps", "1", "--workers", "1",
                 "--store", "s.duckdb"]) == 0
    out = capsys.readouterr().out
    assert "no confidence intervals" in out and "[no CI]" in out
    assert main(["export", "zzz", "--csv", "x.csv", "--store", "s.duckdb"]) == 2
    assert "no stored experiment" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_same_names_get_distinct_labels_and_no_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for stem in ("north", "south"):
        (tmp_path / f"{stem}.toml").write_text(f'extends = "{BASE}"\n')
    assert main(["compare", "north.toml", "south.toml", "--accounts", "100", "--days", "5", "--reps", "2",
                 "--workers", "1", "--no-store", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in payload["scenarios"]] == ["north", "south"]
    assert all(d["mean"] == 0 for d in payload["differences"])  # same strategy, same seeds
    assert not (tmp_path / "runs.duckdb").exists()


SMALL = ["--accounts", "200", "--days", "20", "--reps", "2", "--workers", "1"]


def test_sweep_csv_has_every_column_blank_deltas_for_the_base_and_the_table_printed_first(tmp_path, monkeypatch,
                                                                                         capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", BASE, "--set", "strategy.steps.0.every_days=2,7", *SMALL, "--csv", "sweep.csv",
                 "--store", "s.duckdb"]) == 0
    printed = capsys.readouterr().out
    assert "every_days=2" in printed and "stored as experiment" in printed
    rows = pd.read_csv(tmp_path / "sweep.csv")
    assert list(rows["variant"]) == ["base", "every_days=2", "every_days=7"]
    assert {"delta_net_recovery_mean", "delta_net_recovery_ci_low", "delta_net_recovery_ci_high"} <= set(rows)
    assert rows["delta_net_recovery_mean"].isna().tolist() == [True, False, False]

    # A file that cannot be written after the runs: the results are printed (and stored) all the same,
    # the failure is one line, and no partial file is left.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("pathlib.Path.write_text", refuse)
    assert main(["sweep", BASE, "--set", "strategy.steps.0.every_days=2,7", *SMALL, "--csv", "again.csv",
                 "--store", "s.duckdb"]) == 2
    out, err = capsys.readouterr()
    assert "every_days=7" in out and "6 reused" in out
    assert err.startswith("error: again.csv: --csv: cannot be written") and err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.duckdb", "sweep.csv"]


def test_sweep_over_dates_in_table_json_csv_and_store(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = ["sweep", BASE, "--set", "simulation.start_date=2026-03-02,2026-03-09", *SMALL, "--store", "s.duckdb"]
    assert main([*args, "--json", "--csv", "dates.csv"]) == 0
    payload = json.loads(capsys.readouterr().out)  # the whole document, nothing else
    assert [g["values"] for g in payload["grid"]] == [
        {}, {"simulation.start_date": "2026-03-02"}, {"simulation.start_date": "2026-03-09"}]
    rows = pd.read_csv(tmp_path / "dates.csv", dtype=str, keep_default_na=False)
    assert list(rows["simulation.start_date"]) == ["", "2026-03-02", "2026-03-09"]
    assert main([*args]) == 0
    assert "start_date=2026-03-09" in capsys.readouterr().out
    assert main(["history", "--json", "--store", "s.duckdb"]) == 0
    [entry] = json.loads(capsys.readouterr().out)["experiments"]
    assert entry["status"] == "complete" and entry["runs"] == 6


def test_json_is_printed_whole_or_not_at_all(capsys):
    from sim.cli.experiment import _print_json

    with pytest.raises(TypeError):
        _print_json({"scenarios": [{"name": "a"}], "later": object()})  # fails deep inside the document
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("address, message", [
    ("not a url", "not a scheduler address"),
    ("tcp://", "not a scheduler address"),
    ("tcp://host", "not a scheduler address"),
    ("http://host:8786", "not a scheduler address"),
    ("tcp://host:99999", "not a scheduler address"),
])
def test_a_bad_scheduler_address_fails_before_any_work(tmp_path, monkeypatch, capsys, address, message):
    monkeypatch.chdir(tmp_path)
    code = main(["compare", BASE, *SMALL, "--executor", "dask", "--scheduler", address])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err and err.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_an_unreachable_scheduler_is_one_line_and_records_nothing(tmp_path, monkeypatch, capsys):
    import time

    from sim.store import ResultStore

    monkeypatch.chdir(tmp_path)
    ResultStore(tmp_path / "s.duckdb").ensure()  # an existing store must not gain an "interrupted" experiment
    started = time.monotonic()
    code = main(["compare", BASE, *SMALL, "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1",
                 "--store", "s.duckdb"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err
    assert time.monotonic() - started < 30
    assert ResultStore(tmp_path / "s.duckdb").experiments() == []
    assert not (tmp_path / "runs.duckdb").exists()


def _sqlite_file(path):
    import sqlite3

    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (a)")
    con.commit()
    con.close()
    return path.read_bytes()


@pytest.mark.parametrize("command", [["compare", BASE, *SMALL], ["history"], ["export", "e1", "--csv", "x.csv"]])
def test_a_sqlite_file_as_store_is_refused_untouched_without_loading_extensions(tmp_path, monkeypatch, capsys,
                                                                                command):
    monkeypatch.chdir(tmp_path)
    before = _sqlite_file(tmp_path / "data.sqlite")
    assert main([*command, "--store", "data.sqlite"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: data.sqlite: not a repaylab results store (not a DuckDB database file); give the path "
                   "of a store or a new file name\n")
    assert (tmp_path / "data.sqlite").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.sqlite"]


def test_the_store_never_autoloads_or_installs_extensions(tmp_path):
    from sim.store import ResultStore

    store = ResultStore(tmp_path / "s.duckdb").ensure()
    with store._connect(read_only=True) as con:
        settings = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                                    "('autoload_known_extensions', 'autoinstall_known_extensions')").fetchall())
    assert settings == {"autoload_known_extensions": "false", "autoinstall_known_extensions": "false"}


def test_bad_store_places_are_one_line_and_leave_files_alone(tmp_path, monkeypatch, capsys):
    import duckdb

    monkeypatch.chdir(tmp_path)
    (tmp_path / "dir").mkdir()
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    (tmp_path / "empty.duckdb").touch()
    con = duckdb.connect(str(tmp_path / "theirs.duckdb"))
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.close()
    theirs = (tmp_path / "theirs.duckdb").read_bytes()
    before = sorted(p.name for p in tmp_path.iterdir())
    for store, message in (("dir", "is a directory"), ("loop1", "symbolic links"),
                           ("empty.duckdb", "not a repaylab results store (an empty file)"),
                           ("theirs.duckdb", "not a repaylab results store (a DuckDB database with other tables"),
                           ("/sys/s.duckdb", "is not writable"), ("empty.duckdb/s.duckdb", "is a file, not a directory")):
        assert main(["compare", BASE, *SMALL, "--store", store]) == 2, store
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert main(["history", "--store", "loop1"]) == 2
    assert "symbolic links" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "theirs.duckdb").read_bytes() == theirs


def test_history_renames_and_deletes_an_experiment(tmp_path, capsys, pair):
    from sim.executors import LocalExecutor
    from sim.experiment import run_experiment
    from sim.store import ResultStore

    store = ResultStore(tmp_path / "s.duckdb").ensure()
    comparison = run_experiment(pair, 2, rng=3, executor=LocalExecutor(1), store=store)
    prefix = comparison.experiment_id[:6]
    assert main(["history", "--store", str(store.path), "--rename", prefix, "April test"]) == 0
    assert "is now 'April test'" in capsys.readouterr().out
    assert main(["history", "--store", str(store.path)]) == 0
    assert "April test" in capsys.readouterr().out

    assert main(["history", "--store", str(store.path), "--delete", prefix, "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"store": str(store.path), "deleted": comparison.experiment_id,
                                                   "experiments": 1, "runs": 4, "scenarios": 2}
    assert store.experiments() == [] and store.counts()["runs"] == 0
    assert main(["history", "--store", str(store.path), "--delete", prefix]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no stored experiment" in err
    assert main(["history", "--store", str(tmp_path / "none.duckdb"), "--rename", "e1", "x"]) == 2
    assert "no results store" in capsys.readouterr().err
