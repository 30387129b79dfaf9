"""Every ``--json`` command prints one JSON document on stdout and nothing else.

Each command runs in its own process, as a user or a script would run it, so
that text written by native code (a solver's banner written straight to file
descriptor 1) shows up here. highspy 1.16 did exactly that and broke
``allocate``, ``staff --shifts`` and ``payoff --strategy optimal`` on a fresh
install.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simhelpers import ROOT, SCENARIOS

SMALL = ["--accounts", "200", "--days", "20"]

COMMANDS = {
    "sim run": ["sim", "run", str(SCENARIOS / "baseline.toml"), *SMALL, "--no-store", "--quiet", "--json"],
    "sim compare": ["sim", "compare", str(SCENARIOS / "baseline.toml"), str(SCENARIOS / "sms_gentle.toml"),
                    *SMALL, "--reps", "2", "--workers", "1", "--no-store", "--quiet", "--json"],
    "sim sweep": ["sim", "sweep", str(SCENARIOS / "baseline.toml"), "--set", "behavior.promise_keep_rate=0.5",
                  *SMALL, "--reps", "2", "--workers", "1", "--no-store", "--quiet", "--json"],
    "sim sensitivity": ["sim", "sensitivity", str(SCENARIOS / "baseline.toml"),
                        "--param", "behavior.promise_keep_rate:0.1",
                        *SMALL, "--reps", "2", "--workers", "1", "--no-store", "--quiet", "--json"],
    "optimizer allocate": ["optimizer", "allocate", str(SCENARIOS / "hawkes_baseline.toml"), "--accounts", "300",
                           "--weeks", "4", "--sample", "5", "--passes", "1", "--json"],
    "optimizer staff --shifts": ["optimizer", "staff", "--profile", "8:40,9:120,10:90,11:60",
                                 "--handle-minutes", "5", "--shifts", "08:00-12:00,09:00-13:00", "--json"],
    "optimizer payoff optimal": ["optimizer", "payoff", str(SCENARIOS / "household.toml"),
                                 "--strategy", "optimal", "--json"],
    "optimizer payoff all": ["optimizer", "payoff", str(SCENARIOS / "household.toml"), "--strategy", "all",
                             "--json"],
}


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_json_command_prints_only_json(name, tmp_path):
    done = subprocess.run([sys.executable, "-m", *COMMANDS[name]], capture_output=True, text=True,
                          cwd=tmp_path, env=_env(tmp_path), timeout=600)
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)  # the whole of stdout, not a prefix of it


def test_history_json_is_json(tmp_path):
    store = tmp_path / "runs.duckdb"
    subprocess.run([sys.executable, "-m", "sim", "run", str(SCENARIOS / "baseline.toml"), *SMALL,
                    "--store", str(store), "--quiet", "--json"], check=True, capture_output=True,
                   cwd=tmp_path, env=_env(tmp_path), timeout=600)
    done = subprocess.run([sys.executable, "-m", "sim", "history", "--store", str(store), "--json"],
                          capture_output=True, text=True, cwd=tmp_path, env=_env(tmp_path), timeout=600)
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["experiments"]) == 1


def _env(tmp_path):
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["REPAYLAB_STORE"] = str(tmp_path / "default.duckdb")
    return env
