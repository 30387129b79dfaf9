"""How allocate spends its time (issue 13): the ladder fit's re-solves and the batches of runs it hands the executor.

Neither may change what allocate returns: the fit's re-solves from the last
basis drop the same treatments and return the same plan as fresh models,
and work moved into an earlier batch is the same work, made once.
"""

from __future__ import annotations

import numpy as np

from optimizer.allocation import ladder_fit as ladder_fit_module
from optimizer.allocation.ladder_fit import dropped_to_fit
from optimizer.allocation.search import _Pass, _Search
from sim.executors import LocalExecutor
from sim.scenario import load_scenario

from simhelpers import SCENARIOS


class FreshModels:
    """What the fit did before the refit: every drop a model built and solved from scratch."""

    def __init__(self, model, time_limit=None):
        pass

    def without(self, treatment):
        return None


def test_the_fits_resolves_from_the_last_basis_drop_the_same_treatments_and_return_the_same_plan(monkeypatch):
    # Eight balance bands and a tiny sample scatter the plan over more than a strategy's 64 steps
    # (tests/test_sim_valuation.py's scattered plan): the fit drops treatments one by one.
    scenario = load_scenario(SCENARIOS / "card_baseline.toml", {"simulation.accounts": 1000, "simulation.days": 42,
                                                                "teams.callers.agents": 1, "teams.inbound.agents": 1,
                                                                "teams.field.agents": 1, "simulation.seed": 2})
    search = _Search(scenario, days=42, budget=2000.0, min_service=False, solver="highs", time_limit=None,
                     band_edges=(0, 300, 600, 1000, 1500, 2500, 4000, 6000), rng=None, per_segment=4, ladders=[],
                     valuation="simulate")
    first = search.value_and_solve(None)
    # The drops alone (fit_ladder also tries coarser keys and keeps the higher LP objective).
    refitted, note, _ = dropped_to_fit(search, _Pass(first.valuation, first.model, first.plan))
    monkeypatch.setattr(ladder_fit_module, "Refit", FreshModels)
    fresh, fresh_note, _ = dropped_to_fit(search, _Pass(first.valuation, first.model, first.plan))
    assert "solved again without" in note and len(note.split("solved again without ")[1].split(", ")) >= 2
    assert note == fresh_note  # the same treatments dropped, in the same order
    assert refitted.plan.objective == fresh.plan.objective
    assert np.array_equal(refitted.plan.shares, fresh.plan.shares)
    assert np.array_equal(refitted.plan.counts, fresh.plan.counts)
    assert refitted.plan.budget_used <= 2000.0 + 0.01 and refitted.plan.within_capacity()


def test_work_moved_into_an_earlier_batch_is_made_once_and_the_plan_is_the_same(monkeypatch):
    from optimizer.allocation.objective import engine_balance_values

    # Card borrowers: the balance values are measured by the engine (a unit of the first batch).
    scenario = load_scenario(SCENARIOS / "card_baseline.toml", {"simulation.accounts": 600, "simulation.days": 42})
    batches: list[list[str]] = []
    original = LocalExecutor.map_unordered

    def kinds(item) -> list[str]:
        """An executor's item as the runs it makes (sample runs go in groups made as one engine run)."""
        if isinstance(item, list):
            return ["sample"] * len(item)
        if item[0] == "samples":
            return ["sample"] * len(item[1])
        return [item[0] if isinstance(item[0], str) else "sample"]

    def recorded(executor, fn, items):
        batches.append([kind for item in items for kind in kinds(item)])
        return original(executor, fn, items)

    monkeypatch.setattr(LocalExecutor, "map_unordered", recorded)

    def run(world, *, measure: bool) -> _Search:
        # Two balance bands: a plan a strategy holds as it is. (With the default bands 600 accounts scatter the
        # plan over more than 64 steps; the fit then runs its two ladders against each other in a batch of their
        # own, which fills both cores, and the next pass's runs wait for the ladder kept.)
        search = _Search(world, days=42, budget=None, min_service=False, solver="highs", time_limit=None,
                         band_edges=(0, 2500), rng=None, per_segment=6, ladders=[], valuation="simulate")
        search.repeat["executor"] = LocalExecutor(1)
        search.measure_balance_values = measure
        search.best, search.note = search.passes(2)
        return search

    batched = run(scenario, measure=True)
    first = batches[0]
    # Beside the own ladder's first run, and the reference ladder's whole-book run (it waits for no plan).
    assert first == ["balance", "sample", "ladder"]
    plan_batch = next(b for b in batches[1:] if "ladder" in b)
    assert plan_batch.count("ladder") == 1  # the plan's own: the reference's was made in the first batch
    ahead = plan_batch.count("sample")  # the next pass's agent-free runs, beside the plan's whole-book run
    made = sum(b.count("sample") for b in batches)
    assert made == len(batched.runs)  # no run made twice
    # The same search, the balance values measured first and nothing moved: the same runs and the same plan.
    batches.clear()
    world, _ = engine_balance_values(scenario)
    monkeypatch.setattr(_Search, "next_pass_runs", lambda self, *args, **kwargs: [])
    alone = run(world, measure=False)
    assert all("sample" not in b for b in batches if "ladder" in b)
    assert batched.balance_note and batched.scenario.objective == world.objective
    # The next pass's agent-free runs were made ahead (whether its check then skips the pass or the pass runs, it
    # uses them: the same runs as the search that made them in their own batch, below).
    assert ahead > 0
    assert len(alone.runs) == len(batched.runs)
    for key, outcome in alone.runs.items():
        assert np.array_equal(outcome.collected, batched.runs[key].collected)
    assert batched.note == alone.note
    assert batched.best.plan.objective == alone.best.plan.objective
    assert np.array_equal(batched.best.plan.shares, alone.best.plan.shares)
