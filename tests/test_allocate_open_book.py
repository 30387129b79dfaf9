"""allocate on an open book (baseline, the US card book: arrivals every day after a 150-day warm-up): the book a plan is made for,
paired valuation with arrivals, a plan within budget and capacity, and the CLI's JSON and verification."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from optimizer.allocation import allocate
from optimizer.allocation.objective import measure_balance_values
from optimizer.allocation.open_book import _CACHE, planning_book
from optimizer.allocation.segments import build_segments
from optimizer.allocation.sim_valuation import run_treatment, sample_book, simulate_treatments
from optimizer.allocation.treatments import ladder_treatments, scenario_treatments
from sim.portfolio import bucket_of
from sim.scenario import load_scenario
from sim.simulation import simulate

from simhelpers import ROOT, SCENARIOS

DAYS = 42


@pytest.fixture(scope="module")
def open_world():
    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 600, "simulation.days": DAYS})
    segments = build_segments(scenario, days=DAYS)
    treatments = scenario_treatments(scenario, combos=False)
    treatments += ladder_treatments(scenario, [(scenario.strategy.name, list(scenario.strategy.steps))])
    return scenario, segments, treatments


def test_the_plan_is_made_for_the_book_the_warm_up_leaves_and_the_horizons_arrivals(open_world):
    scenario, segments, _ = open_world
    entry = segments.entry_day
    assert entry is not None
    at_start = entry < 0
    # The book at the start is the one a run of the scenario measures from (same seed, same warm-up).
    kpis = simulate(scenario, contact_log=False).kpis
    assert int(at_start.sum()) == kpis["book_at_start"]
    # The arrivals follow it in order of entry, within the horizon, each entering at 1-30 days past due.
    arrivals = ~at_start
    assert arrivals.sum() > 100 and not at_start[np.argmax(arrivals):].any()
    assert np.all(np.diff(entry[arrivals]) >= 0) and entry[arrivals].max() < DAYS
    assert np.all(bucket_of(segments.portfolio.days_past_due[arrivals]) == 1)
    # Every arrival belongs to a 1-30 segment: the plan's treatment of that segment is what it gets.
    assert np.all(segments.bucket[segments.member[arrivals]] == 1)
    # The book at the start has aged in the warm-up: it holds every bucket, not only new arrivals.
    assert set(bucket_of(segments.portfolio.days_past_due[at_start]).tolist()) >= {1, 2, 3, 4, 5, 6}
    # Deterministic: built again from nothing, the same book.
    _CACHE.clear()
    again = planning_book(scenario, DAYS)
    assert np.array_equal(again.portfolio.balance, segments.portfolio.balance)
    assert np.array_equal(again.entry_day, entry)


def test_on_an_open_book_a_treatment_compared_with_itself_differs_by_exactly_zero(open_world):
    scenario, segments, treatments = open_world
    names = [t.name for t in treatments]
    picked = [treatments[names.index(n)] for n in ("sms/3d", "call/3d")]
    continuation = np.zeros((7, len(segments.portfolio.segment_names), len(segments.band_edges)), dtype=np.int64)
    v = simulate_treatments(scenario, segments, picked + picked, DAYS, continuation=continuation, per_segment=8)
    for a, b in ((0, 2), (1, 3)):
        assert np.array_equal(v.value[:, a], v.value[:, b])
        assert np.array_equal(v.balance_end[:, a], v.balance_end[:, b])
        for cube in v.minutes.values():
            assert np.array_equal(cube[:, a], cube[:, b])
    assert not np.array_equal(v.value[:, 0], v.value[:, 1])
    assert sample_book(segments, 8).entry_day.max() >= 0  # the sample holds arrivals


def test_an_arrival_is_worked_and_pays_only_from_the_day_it_enters(open_world):
    scenario, segments, treatments = open_world
    book = sample_book(segments, 8)
    call = [t.name for t in treatments].index("call/2d")
    out = run_treatment(scenario, book, treatments, call, DAYS, None, np.random.SeedSequence(5))
    arrived = np.flatnonzero(book.entry_day >= 0)
    weeks = out.work["callers"].shape[0]
    for row in arrived.tolist():
        before = book.entry_day[row] // 7
        assert not out.work["callers"][:before, row].any()
    assert out.work["callers"][:, arrived].sum() > 0  # and called once they are in the book
    late = arrived[book.entry_day[arrived] >= DAYS - 2]
    assert np.all(out.collected[late] < book.portfolio.balance[late])
    assert weeks == -(-DAYS // 7)


def test_balance_values_on_an_open_book_count_rows_from_where_the_measured_days_find_them(open_world):
    scenario, _, _ = open_world
    values = measure_balance_values(scenario, [np.random.SeedSequence(3)], days=DAYS)
    assert set(values) == {"1-30", "31-60", "61-90", "91-120", "121-150", "151-180"}
    assert values["1-30"] > values["121-150"] > 0


def test_allocate_on_an_open_book_returns_a_plan_within_budget_and_capacity(open_world):
    scenario, segments, _ = open_world
    result = allocate(scenario, weeks=DAYS // 7, budget=400.0, per_segment=8, passes=1, guard_runs=1, workers=1)
    plan = result.plan
    assert plan.status == "optimal"
    assert plan.budget_used <= 400.0 + 0.01
    assert plan.within_capacity()
    # Every account of the book at the start and every arrival of the horizon has a treatment.
    assert sum(r["accounts"] for r in plan.allocation()) == int((segments.member >= 0).sum())
    assert plan.summary["plan"]["collected"] > 0
    # The plan as a ladder selects by days past due, risk segment and balance: it runs on the open book as is.
    strategy = plan.to_strategy(scenario)
    assert strategy.arrivals is not None and strategy.simulation.warmup_days == 150


def test_the_cli_plans_and_verifies_an_open_book_without_a_traceback():
    args = [sys.executable, "-m", "optimizer", "allocate", str(SCENARIOS / "baseline.toml"), "--accounts", "600",
            "--weeks", "4", "--sample", "6", "--passes", "1", "--guard-runs", "1", "--workers", "1",
            "--verify", "--reps", "2", "--json"]
    run = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 0 and "Traceback" not in run.stderr, run.stderr
    data = json.loads(run.stdout)
    assert {"status", "allocation", "capacity", "capacity_used", "budget_used", "agent_value", "summary",
            "valuation", "guard", "verification"} <= set(data)
    assert data["status"] == "optimal"
    v = data["verification"]
    assert v["reps"] == 2 and set(v["mean_net_recovery"]) == {"optimised-baseline", "baseline"}
    diff = v["differences"]["baseline"]
    assert diff["low"] <= diff["mean"] <= diff["high"]
