"""The treatment catalogue holds the shipped ladders' message cadences, and valuing sms_gentle's ladder as a
treatment agrees with running sms_gentle itself (issue 13: the plan must be able to do what sms_gentle does)."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.allocation.search import with_strategy
from optimizer.allocation.segments import build_segments
from optimizer.allocation.sim_valuation import simulate_ladder, simulate_treatments
from optimizer.allocation.treatments import (
    ladder_treatments,
    scenario_treatments,
    treatment,
    with_field_visits,
)
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

US_LADDERS = ("baseline", "sms_gentle", "call_heavy", "early_field")


def test_the_catalogue_holds_the_message_cadences_with_follow_up_calls_and_every_shipped_ladder():
    world = load_scenario(SCENARIOS / "baseline.toml")
    names = [t.name for t in scenario_treatments(world)]
    # sms_gentle's reminders alone (its 1-30 days), with its calls (31-90) and letters (61-90), and its calls
    # and letters once the reminders stop (91+); baseline's reminders with calls every 2 or 4 days.
    for wanted in ("sms/2d+email/3d", "sms/2d+email/3d+call/4d", "sms/2d+email/3d+call/4d+letter/30d",
                   "call/4d+letter/30d", "sms/5d+email/7d", "sms/5d+email/7d+call/2d", "sms/5d+email/7d+call/4d"):
        assert wanted in names
    assert len(names) == len(set(names))
    # The follow-up calls keep Reg F's 7 attempts in 7 days.
    for t in scenario_treatments(world):
        for c in t.contacts:
            if c.channel == "call":
                assert c.attempts_per_day * -(-7 // c.every_days) <= 7
    # Each shipped ladder, as allocate --against hands it over, is a candidate whole and as its automated part
    # (call_heavy's and early_field's automated parts are baseline's, listed once).
    references = [(name, list(with_strategy(world, load_scenario(SCENARIOS / f"{name}.toml")).strategy.steps))
                  for name in US_LADDERS]
    ladders = [t.name for t in with_field_visits(world, ladder_treatments(world, references))]
    assert {f"ladder:{name}" for name in US_LADDERS} <= set(ladders)
    assert {"ladder:baseline/automated", "ladder:sms_gentle/automated"} <= set(ladders)
    gentle = next(t for t in ladder_treatments(world, references) if t.name == "ladder:sms_gentle")
    assert [(s.channel, s.from_dpd, s.to_dpd, s.every_days) for s in gentle.steps] == [
        ("sms", 1, 90, 2), ("email", 1, 90, 3), ("call", 31, 179, 4), ("letter", 60, 179, 30)]


def test_sms_gentles_ladder_valued_as_a_treatment_matches_sms_gentles_own_run():
    days = 42
    world = load_scenario(SCENARIOS / "sms_gentle.toml", {"simulation.accounts": 800, "simulation.days": days})
    segments = build_segments(world, days=days)
    treatments = [treatment(world), *ladder_treatments(world, [("sms_gentle", list(world.strategy.steps))])[:1]]
    assert treatments[1].name == "ladder:sms_gentle"
    # Every segment gets the ladder in its bucket and after it: sms_gentle everywhere, as its own run.
    everywhere = np.ones((7, len(segments.portfolio.segment_names), len(segments.band_edges)), dtype=np.int64)
    v = simulate_treatments(world, segments, treatments, days, continuation=everywhere, per_segment=40,
                            shrink=False, replications=2)
    valued = float(v.value[:, 1].sum())
    valued_error = float(np.sqrt((v.value_std_error[:, 1] ** 2).sum()))
    runs = [float(simulate_ladder(world, segments, world.strategy.steps, days,
                                  seed=np.random.SeedSequence(99, spawn_key=(r,))).net.sum()) for r in range(3)]
    run_error = float(np.std(runs, ddof=1) / np.sqrt(len(runs)))
    # The ladder's reminders do something in the valuation (the check would see a wrong treatment).
    assert valued != pytest.approx(float(v.value[:, 0].sum()), rel=1e-6)
    # Within three standard errors of the difference (the valuation's sample and the runs' spread).
    assert abs(valued - np.mean(runs)) <= 3 * np.hypot(valued_error, run_error), (valued, runs, valued_error)
