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
                   "teams.callers.agents:2", *TINY, "--reps", "2", "--plot", "tornado.png",
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
