"""The results store: every run and experiment, kept in an embedded DuckDB file.

A run is keyed by what determines its numbers — the scenario's content hash,
the replication seed (entropy and spawn key) and the simulator's code version
— so an experiment that asks for a run already stored reuses it instead of
simulating again, and an interrupted sweep resumes where it stopped.

Each run (its row, its KPIs, its daily series and its link to the experiment)
is written in one transaction: a crash leaves the run whole or absent, never
half. DuckDB lets one process write or several read a file, not both at once,
so the store never holds a connection: every operation opens one, does its
work in a short transaction and closes it. Readers (the app) open read-only
connections; whoever finds the file locked waits and retries.

Tables
------
``scenarios``             scenario_hash, name, content_json (the scenario as plain data)
``runs``                  run_id, scenario_hash, seed_entropy, seed_spawn_key, code_version,
                          accounts, days, start_date, kpis_json (every KPI, nested ones too), versions_json
``kpis``                  run_id, kpi, value — the scalar KPIs, one row each
``series``                run_id, name, day, col, value — daily series, long format
                          (``col`` indexes the bucket or channel of two-dimensional series)
``experiments``           experiment_id, kind, status, reps, seed_json, code_version, spec_json, summary_json, …
``experiment_scenarios``  experiment_id, scenario_index, label, scenario_hash
``experiment_runs``       experiment_id, scenario_index, rep, run_id
``strategy_kpis``         run_id, strategy_index, strategy, champion, kpis_json, tests_json — a
                          champion/challenger run's KPIs by strategy (:func:`sim.arms.kpis_by_strategy`) and
                          each challenger's within-run tests against the champion (NULL for the champion)
``experiment_labels``     experiment_id, label — the name a user gave an experiment (History, ``history --rename``)

A store written before ``strategy_kpis`` existed gets the table the next time
it is opened for writing; a champion/challenger run stored without its rows
is simulated again by the next experiment that needs it (and then gains them).
Labels live in a table of their own rather than a column of ``experiments``
so that an older repaylab, which inserts experiments by position, can still
write to a store a newer one has renamed experiments in.

Deleting an experiment (:meth:`ResultStore.delete_experiment`) removes its
rows and the runs no other experiment links to, in one transaction.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .export_safety import json_data
from .io import check_store_path

DEFAULT_STORE = "runs.duckdb"
STORE_ENV = "REPAYLAB_STORE"
TABLES = ("scenarios", "runs", "kpis", "series", "experiments", "experiment_scenarios", "experiment_runs",
          "strategy_kpis", "experiment_labels")
# A label is one line a user types: History shows it, the CLI prints it in a grid.
MAX_LABEL = 120

# A store never loads or downloads a DuckDB extension: a foreign file given as --store (SQLite,
# Parquet, …) would otherwise make DuckDB fetch a reader for it over the network.
DUCKDB_CONFIG = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}
# Every DuckDB database file has these four bytes at offset 8 (its main header).
DUCKDB_MAGIC = b"DUCK"

SCHEMA = """
CREATE TABLE IF NOT EXISTS scenarios (
    scenario_hash VARCHAR PRIMARY KEY,
    name VARCHAR,
    content_json VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id VARCHAR PRIMARY KEY,
    scenario_hash VARCHAR NOT NULL,
    scenario_name VARCHAR,
    seed_entropy VARCHAR NOT NULL,
    seed_spawn_key VARCHAR NOT NULL,
    code_version VARCHAR NOT NULL,
    accounts INTEGER,
    days INTEGER,
    start_date DATE,
    kpis_json VARCHAR NOT NULL,
    versions_json VARCHAR,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS kpis (
    run_id VARCHAR NOT NULL,
    kpi VARCHAR NOT NULL,
    value DOUBLE,
    PRIMARY KEY (run_id, kpi)
);
CREATE TABLE IF NOT EXISTS series (
    run_id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    day INTEGER NOT NULL,
    col INTEGER NOT NULL,
    value DOUBLE
);
CREATE TABLE IF NOT EXISTS experiments (
    experiment_id VARCHAR PRIMARY KEY,
    kind VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    reps INTEGER NOT NULL,
    seed_json VARCHAR NOT NULL,
    code_version VARCHAR NOT NULL,
    spec_json VARCHAR,
    summary_json VARCHAR,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS experiment_scenarios (
    experiment_id VARCHAR NOT NULL,
    scenario_index INTEGER NOT NULL,
    label VARCHAR NOT NULL,
    scenario_hash VARCHAR NOT NULL,
    PRIMARY KEY (experiment_id, scenario_index)
);
CREATE TABLE IF NOT EXISTS experiment_runs (
    experiment_id VARCHAR NOT NULL,
    scenario_index INTEGER NOT NULL,
    rep INTEGER NOT NULL,
    run_id VARCHAR NOT NULL,
    PRIMARY KEY (experiment_id, scenario_index, rep)
);
CREATE TABLE IF NOT EXISTS strategy_kpis (
    run_id VARCHAR NOT NULL,
    strategy_index INTEGER NOT NULL,
    strategy VARCHAR NOT NULL,
    champion BOOLEAN NOT NULL,
    kpis_json VARCHAR NOT NULL,
    tests_json VARCHAR,
    PRIMARY KEY (run_id, strategy_index)
);
CREATE TABLE IF NOT EXISTS experiment_labels (
    experiment_id VARCHAR PRIMARY KEY,
    label VARCHAR NOT NULL
);
"""


def resolve_store_path(path: str | os.PathLike | None = None) -> Path:
    """``path``, else ``$REPAYLAB_STORE``, else ``runs.duckdb`` in the working directory."""
    return Path(path or os.environ.get(STORE_ENV) or DEFAULT_STORE)


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


def _is_lock_error(err: Exception) -> bool:
    text = str(err).lower()
    return "lock" in text and ("conflicting" in text or "could not set" in text)


class ResultStore:
    """Runs and experiments in one DuckDB file.

    Parameters
    ----------
    path
        The database file; see :func:`resolve_store_path`.
    lock_timeout
        Seconds to keep retrying while another process holds the file.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, lock_timeout: float = 60.0):
        self.path = resolve_store_path(path)
        self.lock_timeout = lock_timeout

    # -- connections --------------------------------------------------------------------------

    @contextlib.contextmanager
    def _connect(self, *, read_only: bool) -> Iterator[Any]:
        import duckdb

        self._refuse_foreign_file()
        deadline = time.monotonic() + self.lock_timeout
        pause = 0.02
        while True:
            try:
                con = duckdb.connect(str(self.path), read_only=read_only, config=dict(DUCKDB_CONFIG))
                break
            except duckdb.Error as err:
                if _is_lock_error(err) and time.monotonic() < deadline:
                    time.sleep(pause)
                    pause = min(0.5, pause * 2)
                    continue
                raise self._error(err) from None
        try:
            yield con
        finally:
            con.close()

    def _error(self, err: Exception) -> InputError:
        text = " ".join(str(err).split())
        if _is_lock_error(err):
            return InputError(self.path, "--store",
                              f"locked by another process for over {self.lock_timeout:g} s ({text[:160]})")
        if "not a valid duckdb" in text.lower() or "unable to open database" in text.lower():
            return InputError(self.path, "--store", "is not a DuckDB results store")
        return InputError(self.path, "--store", f"cannot be used: {text[:200]}")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        with self._connect(read_only=False) as con:
            con.begin()
            try:
                yield con
            except BaseException:
                con.rollback()
                raise
            con.commit()

    def _readable(self) -> bool:
        return self.path.is_file() and self.path.stat().st_size > 0

    def _not_a_store(self, what: str) -> InputError:
        return InputError(self.path, "", f"not a repaylab results store ({what}); give the path of a store "
                                            "or a new file name")

    def _refuse_foreign_file(self) -> None:
        """A file that is not a DuckDB database is refused before DuckDB opens (or rewrites) it."""
        if not self.path.is_file():
            return
        try:
            with open(self.path, "rb") as handle:
                header = handle.read(12)
        except OSError as err:
            raise InputError(self.path, "--store", f"cannot be read ({err.strerror or err})") from None
        if not header:
            raise self._not_a_store("an empty file")
        if header[8:12] != DUCKDB_MAGIC:
            raise self._not_a_store("not a DuckDB database file")

    def check_path(self, *, writing: bool = True) -> ResultStore:
        """Check, without writing anything, that the store can be opened (and, ``writing``, created) here.

        The path itself is checked as every output path is
        (:func:`sim.io.check_store_path`: a directory, a device, a symbolic-link
        loop, a missing or unwritable directory, a file without read and write
        permission); a file that is not a repaylab store (any other file, or a
        DuckDB database holding other tables) is refused too. Each is a
        one-line InputError.
        """
        if writing:
            check_store_path(self.path, "--store")
            parent = self.path.absolute().parent
            if not self.path.exists() and not self._can_create_in(parent):
                raise InputError(self.path, "--store", f"directory {str(parent)!r} is not writable")
            if self.path.exists():
                self._refuse_foreign_file()
                self._refuse_foreign_tables()
            return self
        try:
            os.stat(self.path)
        except FileNotFoundError:
            pass
        except OSError as err:  # ELOOP, ENAMETOOLONG, a file used as a directory, …
            raise InputError(self.path, "--store", f"cannot be used ({err.strerror or err})") from None
        if self.path.is_dir():
            raise InputError(self.path, "--store", "is a directory; give a database file name")
        if self.path.exists() and not os.access(self.path, os.R_OK):
            raise InputError(self.path, "--store", "cannot be read (permissions)")
        if self._readable():
            self._refuse_foreign_file()
        return self

    @staticmethod
    def _can_create_in(directory: Path) -> bool:
        """Whether a file can be made there; tried, because permissions alone do not tell for root
        or on a read-only file system."""
        if not os.access(directory, os.W_OK | os.X_OK):
            return False
        try:
            with tempfile.TemporaryFile(dir=directory):
                return True
        except OSError:
            return False

    def _refuse_foreign_tables(self) -> None:
        """A DuckDB database of someone else's (tables, none of ours) is left alone."""
        with self._connect(read_only=True) as con:
            names = {row[0] for row in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if names and not names & set(TABLES):
            raise self._not_a_store(f"a DuckDB database with other tables: {', '.join(sorted(names)[:5])}")

    def ensure(self) -> ResultStore:
        """Check the path and create the tables; a bad path is a InputError, and leaves the file untouched."""
        self.check_path()
        try:
            with self._transaction() as con:
                con.execute(SCHEMA)
        except InputError:
            raise
        except Exception as err:  # duckdb raises many kinds for a foreign file
            raise self._error(err) from None
        return self

    # -- experiments --------------------------------------------------------------------------

    def begin_experiment(self, *, experiment_id: str, kind: str, reps: int, seed: dict, code_version: str,
                         scenarios: list[dict], spec: dict | None = None) -> None:
        """Record (or reopen) an experiment; ``scenarios``: label, scenario_hash, name, content."""
        now = _now()
        with self._transaction() as con:
            con.execute(
                "INSERT INTO experiments VALUES (?, ?, 'running', ?, ?, ?, ?, NULL, ?, ?) "
                "ON CONFLICT (experiment_id) DO UPDATE SET status = 'running', updated_at = excluded.updated_at",
                [experiment_id, kind, reps, json.dumps(seed), code_version, json.dumps(json_data(spec or {})),
                 now, now],
            )
            for index, item in enumerate(scenarios):
                con.execute("INSERT INTO scenarios VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                            [item["scenario_hash"], item["name"],
                             json.dumps(json_data(item["content"]), sort_keys=True)])
                con.execute("INSERT INTO experiment_scenarios VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            [experiment_id, index, item["label"], item["scenario_hash"]])

    def link_runs(self, experiment_id: str, links: Iterable[tuple[int, int, str]]) -> None:
        """Attach stored runs ``(scenario_index, rep, run_id)`` to an experiment."""
        links = list(links)
        if not links:
            return
        with self._transaction() as con:
            con.executemany("INSERT INTO experiment_runs VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            [[experiment_id, i, rep, run_id] for i, rep, run_id in links])

    def finish_experiment(self, experiment_id: str, status: str, summary: dict | None = None) -> None:
        with self._transaction() as con:
            con.execute("UPDATE experiments SET status = ?, summary_json = coalesce(?, summary_json), "
                        "updated_at = ? WHERE experiment_id = ?",
                        [status, json.dumps(summary) if summary is not None else None, _now(), experiment_id])

    def experiments(self) -> list[dict[str, Any]]:
        """Stored experiments, newest first."""
        if not self._readable():
            return []
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return []
            rows = con.execute(
                """
                SELECT e.experiment_id, e.kind, e.status, e.reps, e.code_version, e.created_at, e.updated_at,
                       e.seed_json,
                       (SELECT list(label ORDER BY scenario_index) FROM experiment_scenarios s
                         WHERE s.experiment_id = e.experiment_id) AS labels,
                       (SELECT count(*) FROM experiment_runs r WHERE r.experiment_id = e.experiment_id) AS runs
                FROM experiments e ORDER BY e.updated_at DESC, e.experiment_id
                """
            ).fetchall()
            names = (dict(con.execute("SELECT experiment_id, label FROM experiment_labels").fetchall())
                     if _has_table(con, "experiment_labels") else {})
        out = []
        for eid, kind, status, reps, version, created, updated, seed, labels, runs in rows:
            labels = list(labels or [])
            out.append({"id": eid, "label": names.get(eid), "kind": kind, "status": status, "reps": reps,
                        "scenarios": labels,
                        "runs": runs, "runs_expected": reps * len(labels), "code_version": version,
                        "seed": json.loads(seed), "created_at": created.isoformat(sep=" "),
                        "updated_at": updated.isoformat(sep=" ")})
        return out

    def find_experiment(self, key: str) -> dict[str, Any]:
        """The experiment with this id or unique id prefix."""
        matches = [e for e in self.experiments() if e["id"].startswith(key)] if key else []
        if not matches:
            raise InputError(self.path, "experiment", f"no stored experiment {key!r} (see 'python -m sim history')")
        exact = [e for e in matches if e["id"] == key]
        if len(matches) > 1 and not exact:
            raise InputError(self.path, "experiment",
                             f"{key!r} matches {len(matches)} experiments; give more of the id")
        return (exact or matches)[0]

    def _known(self, con, experiment_id: str) -> None:
        if not con.execute("SELECT 1 FROM experiments WHERE experiment_id = ?", [experiment_id]).fetchone():
            raise InputError(self.path, "experiment",
                             f"no stored experiment {experiment_id!r} (see 'python -m sim history')")

    def rename_experiment(self, experiment_id: str, label: str) -> str:
        """Give an experiment a label (one line, at most ``MAX_LABEL`` characters); returns it as stored.

        An empty label takes the name away again. An unknown id, or a label of
        several lines or too long, is a one-line InputError and changes nothing.
        """
        label = " ".join(str(label).split()) if str(label).isprintable() else None
        if label is None:
            raise InputError(self.path, "label", "must be one line of printable text")
        if len(label) > MAX_LABEL:
            raise InputError(self.path, "label", f"is {len(label)} characters; at most {MAX_LABEL}")
        if not self._readable():
            raise InputError(self.path, "experiment", f"no stored experiment {experiment_id!r} (the store is empty)")
        with self._transaction() as con:
            con.execute(SCHEMA)  # a store from before labels gains their table
            self._known(con, experiment_id)
            con.execute("DELETE FROM experiment_labels WHERE experiment_id = ?", [experiment_id])
            if label:
                con.execute("INSERT INTO experiment_labels VALUES (?, ?)", [experiment_id, label])
        return label

    def delete_experiment(self, experiment_id: str) -> dict[str, int]:
        """Remove an experiment and the runs no other experiment uses, in one transaction.

        A run linked to another experiment as well stays (that experiment still
        reads it), and so does a scenario another experiment or run refers to.
        Returns how many experiments, runs and scenarios went; an unknown id is a
        one-line InputError and changes nothing.
        """
        if not self._readable():
            raise InputError(self.path, "experiment", f"no stored experiment {experiment_id!r} (the store is empty)")
        with self._transaction() as con:
            self._known(con, experiment_id)
            runs = [r for (r,) in con.execute(
                "SELECT DISTINCT run_id FROM experiment_runs WHERE experiment_id = ? AND run_id NOT IN "
                "(SELECT run_id FROM experiment_runs WHERE experiment_id <> ?)",
                [experiment_id, experiment_id]).fetchall()]
            hashes = [h for (h,) in con.execute("SELECT DISTINCT scenario_hash FROM experiment_scenarios "
                                                "WHERE experiment_id = ?", [experiment_id]).fetchall()]
            for table in ("experiment_runs", "experiment_scenarios", "experiment_labels", "experiments"):
                if _has_table(con, table):
                    con.execute(f"DELETE FROM {table} WHERE experiment_id = ?", [experiment_id])
            for table in ("kpis", "series", "strategy_kpis", "runs"):
                if _has_table(con, table):
                    con.execute(f"DELETE FROM {table} WHERE run_id IN (SELECT unnest(?))", [runs])
            gone = con.execute(
                "DELETE FROM scenarios WHERE scenario_hash IN (SELECT unnest(?)) "
                "AND scenario_hash NOT IN (SELECT scenario_hash FROM experiment_scenarios) "
                "AND scenario_hash NOT IN (SELECT scenario_hash FROM runs) RETURNING scenario_hash",
                [hashes]).fetchall()
        return {"experiments": 1, "runs": len(runs), "scenarios": len(gone)}

    def experiment_summary(self, experiment_id: str) -> dict | None:
        with self._connect(read_only=True) as con:
            row = con.execute("SELECT summary_json FROM experiments WHERE experiment_id = ?",
                              [experiment_id]).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def experiment_details(self, experiment_id: str) -> dict[str, Any]:
        """What set an experiment up: its spec, dates, and each scenario's label, hash, name, content,
        start date and size (read-only; for the report)."""
        with self._connect(read_only=True) as con:
            row = con.execute("SELECT spec_json, created_at, updated_at FROM experiments WHERE experiment_id = ?",
                              [experiment_id]).fetchone()
            scenarios = con.execute(
                """
                SELECT s.scenario_index, s.label, s.scenario_hash, c.name, c.content_json,
                       (SELECT min(r.start_date) FROM experiment_runs l JOIN runs r USING (run_id)
                         WHERE l.experiment_id = s.experiment_id AND l.scenario_index = s.scenario_index),
                       (SELECT max(r.accounts) FROM experiment_runs l JOIN runs r USING (run_id)
                         WHERE l.experiment_id = s.experiment_id AND l.scenario_index = s.scenario_index),
                       (SELECT max(r.days) FROM experiment_runs l JOIN runs r USING (run_id)
                         WHERE l.experiment_id = s.experiment_id AND l.scenario_index = s.scenario_index)
                FROM experiment_scenarios s LEFT JOIN scenarios c USING (scenario_hash)
                WHERE s.experiment_id = ? ORDER BY s.scenario_index
                """, [experiment_id]).fetchall()
        if row is None:
            raise InputError(self.path, "experiment", f"no stored experiment {experiment_id!r}")
        spec, created, updated = row
        return {"spec": json.loads(spec) if spec else {}, "created_at": created.isoformat(sep=" "),
                "updated_at": updated.isoformat(sep=" "),
                "scenarios": [{"index": i, "label": label, "scenario_hash": digest, "name": name,
                               "content": json.loads(content) if content else {},
                               "start_date": start.isoformat() if start is not None else None,
                               "accounts": accounts, "days": days}
                              for i, label, digest, name, content, start, accounts, days in scenarios]}

    def experiment_kpis(self, experiment_id: str):
        """One row per replication of the experiment, one column per scalar KPI (pandas)."""
        with self._connect(read_only=True) as con:
            frame = con.execute(
                """
                SELECT l.experiment_id, l.scenario_index, s.label, l.rep, r.run_id, r.scenario_hash,
                       r.seed_entropy, r.seed_spawn_key, r.code_version, r.accounts, r.days, k.kpi, k.value
                FROM experiment_runs l
                JOIN experiment_scenarios s USING (experiment_id, scenario_index)
                JOIN runs r USING (run_id)
                JOIN kpis k USING (run_id)
                WHERE l.experiment_id = ?
                """,
                [experiment_id],
            ).df()
        index = ["experiment_id", "scenario_index", "label", "rep", "run_id", "scenario_hash", "seed_entropy",
                 "seed_spawn_key", "code_version", "accounts", "days"]
        if frame.empty:
            return frame.drop(columns=["kpi", "value"])
        wide = frame.pivot_table(index=index, columns="kpi", values="value", sort=False).reset_index()
        wide.columns.name = None
        from .metrics import SCALAR_KPIS

        wide = wide[index + [k for k in SCALAR_KPIS if k in wide.columns]]
        return wide.sort_values(["scenario_index", "rep"]).reset_index(drop=True)

    def experiment_series(self, experiment_id: str):
        """The daily series of every replication of the experiment, long format (pandas)."""
        with self._connect(read_only=True) as con:
            return con.execute(
                """
                SELECT l.scenario_index, s.label, l.rep, l.run_id, x.name, x.day, x.col, x.value
                FROM experiment_runs l
                JOIN experiment_scenarios s USING (experiment_id, scenario_index)
                JOIN series x USING (run_id)
                WHERE l.experiment_id = ?
                ORDER BY l.scenario_index, l.rep, x.name, x.day, x.col
                """,
                [experiment_id],
            ).df()

    # -- runs ---------------------------------------------------------------------------------

    def load_runs(self, run_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Stored runs among ``run_ids``: KPIs, the daily collections and the nested KPIs."""
        wanted = sorted(set(run_ids))
        if not wanted or not self._readable():
            return {}
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return {}
            rows = con.execute("SELECT run_id, days, kpis_json FROM runs WHERE run_id IN (SELECT unnest(?))",
                               [wanted]).fetchall()
            found: dict[str, dict[str, Any]] = {
                run_id: {"days": days, "kpis_all": json.loads(kpis_json), "kpis": {},
                         "collected": np.zeros(days)}
                for run_id, days, kpis_json in rows
            }
            if not found:
                return {}
            ids = sorted(found)
            for run_id, kpi, value in con.execute(
                    "SELECT run_id, kpi, value FROM kpis WHERE run_id IN (SELECT unnest(?))", [ids]).fetchall():
                found[run_id]["kpis"][kpi] = float("nan") if value is None else float(value)
            for run_id, day, value in con.execute(
                    "SELECT run_id, day, value FROM series WHERE name = 'collected' "
                    "AND run_id IN (SELECT unnest(?))", [ids]).fetchall():
                found[run_id]["collected"][day] = value
            self._read_strategies(con, found)
        return found

    @staticmethod
    def _read_strategies(con, found: dict[str, dict[str, Any]]) -> None:
        """Add each run's ``kpis_by_strategy`` and ``strategy_tests`` (None for a one-strategy run, or one
        stored before the table existed)."""
        for run in found.values():
            run["kpis_by_strategy"] = run["strategy_tests"] = None
        if not _has_table(con, "strategy_kpis"):
            return
        rows = con.execute("SELECT run_id, strategy, kpis_json, tests_json FROM strategy_kpis "
                           "WHERE run_id IN (SELECT unnest(?)) ORDER BY run_id, strategy_index",
                           [sorted(found)]).fetchall()
        for run_id, strategy, kpis_json, tests_json in rows:
            run = found[run_id]
            if run["kpis_by_strategy"] is None:
                run["kpis_by_strategy"], run["strategy_tests"] = {}, {}
            run["kpis_by_strategy"][strategy] = json.loads(kpis_json)
            if tests_json is not None:
                run["strategy_tests"][strategy] = json.loads(tests_json)

    def save_run(self, result, *, run_id: str, code_version: str, seed_key: tuple[str, str],
                 links: Iterable[tuple[str, int, int]] = ()) -> bool:
        """Store one run and its links ``(experiment_id, scenario_index, rep)`` in one transaction.

        Returns False (and only adds the links) when the run was already stored,
        e.g. by another process running the same experiment.
        """
        from .metrics import SCALAR_KPIS, _jsonable

        with self._transaction() as con:
            exists = con.execute("SELECT 1 FROM runs WHERE run_id = ?", [run_id]).fetchone()
            if not exists:
                con.execute(
                    "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, result.scenario_hash, result.scenario_name, seed_key[0], seed_key[1], code_version,
                     result.accounts, result.days, result.start_date, json.dumps(_jsonable(result.kpis)),
                     json.dumps(result.versions), _now()],
                )
                con.executemany("INSERT INTO kpis VALUES (?, ?, ?)",
                                [[run_id, k, _finite(result.kpis[k])] for k in SCALAR_KPIS])
                self._write_series(con, run_id, result.series)
            self._write_strategies(con, run_id, result)
            for experiment_id, index, rep in links:
                con.execute("INSERT INTO experiment_runs VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                            [experiment_id, index, rep, run_id])
        return not exists

    @staticmethod
    def _write_strategies(con, run_id: str, result) -> None:
        """A champion/challenger run's KPIs by strategy and within-run tests, unless already there."""
        from .metrics import _jsonable

        by_strategy = getattr(result, "kpis_by_strategy", None)
        if not by_strategy:
            return
        if con.execute("SELECT 1 FROM strategy_kpis WHERE run_id = ? LIMIT 1", [run_id]).fetchone():
            return
        tests = result.strategy_tests or {}
        con.executemany("INSERT INTO strategy_kpis VALUES (?, ?, ?, ?, ?, ?)",
                        [[run_id, k, name, bool(kpis.get("champion")), json.dumps(_jsonable(kpis)),
                          json.dumps(_jsonable(tests[name])) if name in tests else None]
                         for k, (name, kpis) in enumerate(by_strategy.items())])

    def experiment_strategy_kpis(self, experiment_id: str):
        """One row per replication and strategy of a champion/challenger experiment, one column per scalar
        KPI of :func:`sim.arms.kpis_by_strategy` (pandas; empty if the experiment has none)."""
        import pandas as pd

        with self._connect(read_only=True) as con:
            if not _has_table(con, "strategy_kpis"):
                return pd.DataFrame()
            rows = con.execute(
                """
                SELECT l.scenario_index, s.label, l.rep, l.run_id, k.strategy_index, k.strategy, k.champion,
                       k.kpis_json
                FROM experiment_runs l
                JOIN experiment_scenarios s USING (experiment_id, scenario_index)
                JOIN strategy_kpis k USING (run_id)
                WHERE l.experiment_id = ?
                ORDER BY l.scenario_index, l.rep, k.strategy_index
                """, [experiment_id]).fetchall()
        records = []
        for index, label, rep, run_id, k, strategy, champion, kpis_json in rows:
            scalars = {kpi: v for kpi, v in json.loads(kpis_json).items()
                       if isinstance(v, (int, float)) and not isinstance(v, bool)}
            records.append({"scenario_index": index, "label": label, "rep": rep, "run_id": run_id,
                            "strategy_index": k, "strategy": strategy, "champion": bool(champion), **scalars})
        return pd.DataFrame.from_records(records)

    def _write_series(self, con, run_id: str, series: dict[str, np.ndarray]) -> None:
        import pandas as pd

        parts = []
        for name, values in series.items():
            array = np.asarray(values, dtype=np.float64)
            if array.ndim == 1:
                array = array[:, None]
            days, cols = array.shape
            parts.append(pd.DataFrame({
                "run_id": run_id, "name": name,
                "day": np.repeat(np.arange(days, dtype=np.int32), cols),
                "col": np.tile(np.arange(cols, dtype=np.int32), days),
                "value": array.ravel(),
            }))
        if parts:
            frame = pd.concat(parts, ignore_index=True)  # noqa: F841 - read by DuckDB below
            con.execute("INSERT INTO series SELECT run_id, name, day, col, value FROM frame")

    def counts(self) -> dict[str, int]:
        """Rows per table (for tests and ``history``)."""
        if not self._readable():
            return {}
        with self._connect(read_only=True) as con:
            if not self._has_tables(con):
                return {}
            counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("runs", "kpis", "series", "experiments", "experiment_runs")}
            if _has_table(con, "strategy_kpis"):
                counts["strategy_kpis"] = con.execute("SELECT count(*) FROM strategy_kpis").fetchone()[0]
            return counts

    @staticmethod
    def _has_tables(con) -> bool:
        return bool(con.execute("SELECT count(*) FROM information_schema.tables "
                                "WHERE table_name = 'experiments'").fetchone()[0])


def _has_table(con, name: str) -> bool:
    """Whether the store has this table (a store written by an older repaylab may lack a newer one)."""
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                            [name]).fetchone()[0])


def _finite(value: Any) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
