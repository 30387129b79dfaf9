"""A run made through ``sim.engine.run_and_read`` is freed as it ends: nothing of it is left for the collector.

``allocate`` makes dozens of engine runs in each worker. The engine and its
outcome are a web of cycles; left to Python's cycle collector, a whole-book
run at 5,000 accounts outlived itself by several runs (160 MB each, a
worker grew to 1.1 GB), so each run wrote to fresh memory.
"""

from __future__ import annotations

import gc

import numpy as np

from sim.engine import Engine, run_and_read
from sim.portfolio import build_portfolio
from sim.scenario import load_scenario
from sim.streams import RandomStreams

from simhelpers import SCENARIOS


def _world():
    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 400, "simulation.days": 30,
                                                             "simulation.warmup_days": 0})
    return scenario, build_portfolio(scenario, RandomStreams(7)["portfolio"])


def test_a_run_read_and_freed_leaves_nothing_for_the_collector_and_the_same_ledger():
    scenario, book = _world()
    gc.collect()
    # The same run made as the valuation made it before: the collector held off during it, the engine read and
    # dropped after; what it leaves is garbage only the collector can free.
    gc.disable()
    try:
        engine = Engine(scenario, book, RandomStreams(7), ledger=True)
        engine.run()
        plain = engine.outcome().ledger
        del engine
    finally:
        gc.enable()
    assert gc.collect() > 100  # the cycles this test is about exist (353 objects at this size)

    ledger = run_and_read(scenario, book, RandomStreams(7), lambda outcome: outcome.ledger, ledger=True)
    assert gc.collect() < 20  # 0 measured
    assert gc.isenabled()
    for name in ("collected", "complaints", "written_off", "balance_end", "state_end"):
        assert np.array_equal(getattr(ledger, name), getattr(plain, name)), name
