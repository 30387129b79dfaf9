"""Fixtures shared by the test modules.

Plain helpers that tests call at import time (paths, scenario builders,
hypothesis strategies) stay in ``simhelpers`` and ``payoff_helpers``; they are
importable because ``pyproject.toml`` puts ``tests/`` on pytest's
``pythonpath``, not by any ``sys.path`` edit in a test.
"""

from __future__ import annotations

import pytest

from sim.scenario import load_scenario

from simhelpers import SCENARIOS

# Small enough that a store or fault test runs a whole experiment in seconds.
TINY = {"simulation.accounts": 200, "simulation.days": 20}


@pytest.fixture
def private_store(tmp_path, monkeypatch):
    """``$REPAYLAB_STORE`` pointed at a test's own results store, never the user's runs.duckdb."""
    path = tmp_path / "runs.duckdb"
    monkeypatch.setenv("REPAYLAB_STORE", str(path))
    return path


@pytest.fixture
def store(tmp_path):
    """An empty results store of the test's own."""
    from sim.store import ResultStore

    return ResultStore(tmp_path / "runs.duckdb").ensure()


@pytest.fixture(scope="module")
def pair():
    """baseline and sms_gentle at 200 accounts × 20 days: two strategies on the same accounts."""
    return [load_scenario(SCENARIOS / f"{name}.toml", TINY) for name in ("baseline", "sms_gentle")]
