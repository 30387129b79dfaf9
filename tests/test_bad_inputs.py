"""Bad input through the command lines: every file in ``tests/bad_inputs/``.

Each malformed scenario, portfolio CSV (read through a small scenario) and debt
file must give exit code 2, exactly one line on stderr naming the file and the
field (or line) listed in ``EXPECTED.toml``, nothing on stdout, no traceback,
and no file written. The commands run as real subprocesses, in parallel, each
in its own empty working directory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tomllib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.cli import COMMAND_MODULES, build_parser

BAD = Path(__file__).resolve().parent / "bad_inputs"
EXPECTED: dict[str, dict[str, str]] = tomllib.loads((BAD / "EXPECTED.toml").read_text())
# Files that are not cases themselves: the index, its notes, and the CSV files
# that the csv_*.toml scenarios read.
SUPPORT = {"EXPECTED.toml", "README.md"}

HAS_COMPARE = "sim.cli.experiment" in COMMAND_MODULES
# compare loads scenarios with the same loader as validate and run; what it adds
# is a results store. It goes through the CSV cases (the CSV is read only when
# the runs start, the latest point of failure) and one case of each other kind,
# which keeps the whole corpus under ~40 s on two cores.
COMPARE_ALSO = {"syntax_unclosed_table.toml", "binary_gzip.toml", "empty.toml", "extends_cycle_a.toml",
                "unknown_step_every_day.toml", "absurd_accounts_1e12.toml", "window_inverted.toml"}


@dataclass(frozen=True)
class Outcome:
    returncode: int
    stdout: str
    stderr: str
    leftovers: tuple[str, ...]  # what the command left in its empty working directory
    stored_runs: int  # runs in the results store given to compare (0 if it was not created)


def _compare_args(path: Path, size: list[str]) -> list[str]:
    """``compare`` arguments built from its parser (its signature belongs to the experiments CLI)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    compare = sub.choices["compare"]
    args: list[str] = ["compare"]
    options = {opt for action in compare._actions for opt in action.option_strings}
    for action in compare._actions:
        if not action.option_strings:
            args += [str(path)] * (2 if action.nargs in ("+", "*") else 1)
    args += ["--store", "store/x.duckdb", *size]
    # Cheap even if a file were (wrongly) accepted.
    args += [opt for pair in (("--reps", "2"), ("--workers", "1"), ("--quiet",)) if pair[0] in options for opt in pair]
    return args


def commands(name: str) -> dict[str, list[str]]:
    """The command lines one corpus file goes through, by a short label."""
    path = BAD / name
    if name.startswith("debts_"):
        return {"payoff": ["-m", "optimizer", "payoff", str(path)]}
    field = EXPECTED[name]["field"]
    size = []
    # A size override would replace the very value under test.
    if field != "simulation.accounts":
        size += ["--accounts", "50"]
    if field != "simulation.days":
        size += ["--days", "2"]
    out = {
        "validate": ["-m", "sim", "validate", str(path)],
        "run": ["-m", "sim", "run", str(path), *size, "--quiet", "--contacts-out", "out.csv"],
    }
    if HAS_COMPARE and (name.startswith("csv_") or name in COMPARE_ALSO):
        out["compare"] = ["-m", "sim", *_compare_args(path, size)]
    return out


CASES = [(name, label) for name in sorted(EXPECTED) for label in commands(name)]


def _run(cwd: Path, argv: list[str]) -> Outcome:
    cwd.mkdir(parents=True)
    (cwd / "store").mkdir()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "COLUMNS": "200"}
    proc = subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=120, env=env)
    store = cwd / "store"
    leftovers = tuple(sorted(str(p.relative_to(cwd)) for p in cwd.rglob("*")
                             if p != store and p.parent != store))
    return Outcome(proc.returncode, proc.stdout, proc.stderr, leftovers, _stored_runs(store / "x.duckdb"))


def _stored_runs(path: Path) -> int:
    """Runs saved in a results store; an experiment's header row without runs is tolerated."""
    if not path.exists():
        return 0
    import duckdb

    with duckdb.connect(str(path), read_only=True) as db:
        tables = {row[0] for row in db.execute("select table_name from information_schema.tables").fetchall()}
        return int(db.execute("select count(*) from runs").fetchone()[0]) if "runs" in tables else 0


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[tuple[str, str], Outcome]:
    """All corpus commands, run once, two at a time per core."""
    root = tmp_path_factory.mktemp("bad_inputs")
    jobs = {(name, label): (root / f"{i:03d}", commands(name)[label]) for i, (name, label) in enumerate(CASES)}
    with ThreadPoolExecutor(max_workers=max(2, 2 * (os.cpu_count() or 1))) as pool:
        futures = {key: pool.submit(_run, cwd, argv) for key, (cwd, argv) in jobs.items()}
        return {key: future.result() for key, future in futures.items()}


def test_the_corpus_is_indexed_and_big_enough():
    # Symlinks count (to /dev/zero, or loops onto themselves): is_file() is False for them.
    on_disk = {p.name for p in BAD.iterdir() if p.is_file() or p.is_symlink()} - SUPPORT
    csv_files = {p for p in on_disk if p.endswith(".csv")}
    referenced = {entry.get("names") for entry in EXPECTED.values()}
    assert on_disk - csv_files == set(EXPECTED), "every case file has an EXPECTED.toml entry and vice versa"
    assert csv_files <= referenced, "every CSV is read by a csv_*.toml scenario"
    scenario_cases = [n for n in EXPECTED if not n.startswith("debts_")]
    assert len(scenario_cases) >= 40
    assert len(EXPECTED) + len(csv_files) >= 40


@pytest.mark.parametrize(("name", "label"), CASES, ids=[f"{label}:{name}" for name, label in CASES])
def test_bad_file_gives_one_line_naming_file_and_field(outcomes, name, label):
    result = outcomes[(name, label)]
    expected = EXPECTED[name]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error: ")
    assert expected.get("names", name) in line, f"the file is not named: {line}"
    if expected["field"]:
        assert f": {expected['field']}: " in line, f"field {expected['field']!r} is not named: {line}"
    assert expected["word"].lower() in line.lower(), line


@pytest.mark.parametrize(("name", "label"), CASES, ids=[f"{label}:{name}" for name, label in CASES])
def test_bad_file_writes_nothing(outcomes, name, label):
    # The run was asked for --contacts-out out.csv (and compare for a store in
    # store/): nothing else may appear, and the store holds no runs.
    result = outcomes[(name, label)]
    assert result.leftovers == ()
    assert result.stored_runs == 0
