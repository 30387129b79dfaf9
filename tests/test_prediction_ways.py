"""The valuation's whole-ladder run and --verify's replication are one definition of running a ladder (issue 13).

``allocate --verify`` holds the valuation's prediction of a ladder
(:func:`optimizer.allocation.sim_valuation.simulate_ladder`: per-account
draws, the valuation's books and seeds) against ``--verify``'s replications
(:func:`optimizer.allocation.verify._replication`: ordinary streams, fresh
books). For their agreement to measure noise and nothing else, the two must
differ in the draws alone: the same book, teams, staffing, calendar, warm-up
and horizon. Run with ordinary streams on replication k's own book and
stream, the valuation's run must be replication k to the cent — on a closed
book (cn_2025: its evening shift, CN quiet days, field and legal teams) and
on an open one (baseline: a warm-up and arrivals).
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from optimizer.allocation.open_book import is_open, planning_book
from optimizer.allocation.search import with_strategy
from optimizer.allocation.sim_valuation import simulate_ladder
from optimizer.allocation.verify import MEASURED_CHILD, _replication
from sim.experiment import replication_seeds
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("world_name", ["cn_2025", "baseline"])
def test_the_valuations_run_with_verifys_streams_is_verifys_replication_to_the_cent(world_name):
    overrides = {"simulation.accounts": 300}
    world = load_scenario(ROOT / "scenarios" / f"{world_name}.toml", overrides)
    # The world's own ladder, and one from another world as --against brings it (field visits and legal in
    # cn_2025's; early_field's visits come early).
    rival = with_strategy(world, load_scenario(ROOT / "scenarios" / "early_field.toml", overrides))
    days = world.simulation.days
    _, children = replication_seeds(world.simulation.seed, 2)
    for ladder in (world, rival):
        for child in children:
            verified = _replication((ladder, world, child, world if is_open(world) else None))[4]
            # The prediction's kind of book on this seed (what allocate builds on its own seed), and the stream
            # verify runs the ladder on: child k itself for a closed book, a child of it for an open one.
            book = planning_book(world, days, rng=child)
            segments = SimpleNamespace(portfolio=book.portfolio, entry_day=book.entry_day)
            stream = (np.random.SeedSequence(child.entropy, spawn_key=(*child.spawn_key, MEASURED_CHILD))
                      if is_open(world) else child)
            valued = simulate_ladder(ladder, segments, ladder.strategy.steps, days, seed=stream, paired_draws=False)
            assert float(valued.net.sum()) == pytest.approx(verified, abs=0.005), ladder.strategy.name
