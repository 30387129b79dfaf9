"""The engine's memory setting (sim/engine/memory.py): glibc accepts it, an engine sets it, and a run's numbers
do not depend on it (the goldens, written without it, still hold: tests/test_goldens.py)."""

from __future__ import annotations

import platform

import pytest

from sim.engine import memory

from simhelpers import SCENARIOS


def test_glibc_accepts_the_thresholds_and_a_second_call_changes_nothing():
    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt is glibc's; elsewhere the allocator keeps its defaults")
    assert memory.keep_freed_memory() is True
    assert memory.keep_freed_memory() is True


def test_an_engine_sets_it(monkeypatch):
    from sim.engine import Engine
    from sim.portfolio import build_portfolio
    from sim.scenario import load_scenario
    from sim.streams import RandomStreams

    calls = []
    monkeypatch.setattr("sim.engine.keep_freed_memory", lambda: calls.append(1) or True)
    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 200, "simulation.days": 2})
    streams = RandomStreams(1)
    Engine(scenario, build_portfolio(scenario, streams["portfolio"]), streams, record_contacts=False)
    assert calls == [1]
