"""--verify's prediction on several books of the valuation's own, with its standard error (issue 13).

One whole-ladder run on allocate's one book is one draw of a book and of a
run: its error against a 20-replication mean is mostly that draw, not bias.
``prediction_runs`` averages the valuation's runs over books of its own and
gives the standard error the report shows beside each predicted value.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from optimizer.allocation import verify
from optimizer.allocation.open_book import planning_book
from optimizer.allocation.segments import build_segments
from optimizer.allocation.verify import prediction_seeds
from sim.executors import LocalExecutor
from sim.experiment import replication_seeds
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

DAYS = 42
SMALL = {"simulation.accounts": 600, "simulation.days": DAYS}
RUNS = 3


@pytest.fixture(scope="module")
def worlds():
    return load_scenario(SCENARIOS / "baseline.toml", SMALL), load_scenario(SCENARIOS / "sms_gentle.toml", SMALL)


@pytest.fixture(scope="module")
def verified(worlds):
    world, gentle = worlds
    segments = build_segments(world, days=DAYS)
    with LocalExecutor(1) as executor:
        one = verify(world, world, [gentle], 2, segments=segments, days=DAYS, per_segment=8, executor=executor)
        several = verify(world, world, [gentle], 2, segments=segments, days=DAYS, per_segment=8,
                         executor=executor, prediction_runs=RUNS)
    return one, several


def test_the_prediction_is_the_mean_of_its_runs_and_the_first_run_is_allocates_own(verified):
    one, several = verified
    for label in several.labels:
        runs = several.predicted_runs[label]
        assert len(runs) == RUNS
        assert runs[0] == one.predicted[label]  # allocate's own book and seed, to the cent
        assert several.predicted[label] == pytest.approx(np.mean(runs), rel=1e-12)
        assert several.predicted_objective[label] == pytest.approx(np.mean(several.predicted_objective_runs[label]),
                                                                   rel=1e-12)
        # Other books give other values: the runs scatter, and the standard error says by how much.
        assert len(set(runs)) == RUNS
        se = several.predicted_std_error(label)
        assert se == pytest.approx(np.std(runs, ddof=1) / math.sqrt(RUNS), rel=1e-12) and se > 0
        assert math.isnan(one.predicted_std_error(label))  # one run: no standard error to give


def test_a_difference_has_the_standard_error_of_its_paired_runs(verified, worlds):
    _, several = verified
    world, gentle = worlds
    d = several.difference(world.display_name, gentle.display_name, "net_collections")
    paired = np.subtract(several.predicted_runs[world.display_name], several.predicted_runs[gentle.display_name])
    assert d["predicted"] == pytest.approx(paired.mean(), rel=1e-9)
    assert d["predicted_std_error"] == pytest.approx(paired.std(ddof=1) / math.sqrt(RUNS), rel=1e-9)
    sims = np.subtract(several.net_collections[world.display_name], several.net_collections[gentle.display_name])
    assert d["std_error"] == pytest.approx(sims.std(ddof=1) / math.sqrt(sims.size), rel=1e-9)
    data = several.to_dict(world.display_name)
    assert data["prediction_runs"] == RUNS
    assert data["net_collections_differences"][gentle.display_name]["predicted_std_error"] > 0
    assert data["predicted_net_std_error"][gentle.display_name] > 0


def test_the_predictions_books_are_neither_allocates_nor_any_replications(worlds):
    # Fresh books: a prediction on --verify's own books would be held to the runs it predicts.
    world, _ = worlds
    seeds = prediction_seeds(world, RUNS)
    assert seeds[0][0] is None
    _, children = replication_seeds(world.simulation.seed, 20)
    taken = {float(planning_book(world, DAYS).portfolio.balance.sum())}
    taken |= {float(planning_book(world, DAYS, rng=child).portfolio.balance.sum()) for child in children}
    for book_seed, run_seed in seeds[1:]:
        assert book_seed.spawn_key != run_seed.spawn_key
        assert float(planning_book(world, DAYS, rng=book_seed).portfolio.balance.sum()) not in taken
